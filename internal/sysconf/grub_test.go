package sysconf

import (
	"strings"
	"testing"
)

// GRUB's lexing, case by case (the GRUB manual's "Shell-like scripting" rules).
func TestGrubCommands(t *testing.T) {
	in := "menuentry 'Debian' {\n" +
		"\tlinux /vmlinuz root=UUID=x ro quiet # console=ttyS0 earlyprintk=ttyS0\n" + // line 2: a comment from the '#'
		"\tlinux /vmlinuz a#b c\\#d \\\n   e\r\n" + // line 3: '#' inside a word; an escaped '#'; a continuation; CR
		"\tlinux /vmlinuz 'x y' \"p\\\"q\\n\" ''; initrd /initrd.img\n" + // line 5: quotes; ';' ends the command
		"\techo \"multi\nline\" $var ${x}\n" + // line 6
		"}\n#linux /vmlinuz console=ttyS0\n  # linux /vmlinuz console=ttyS0\n"
	got, err := GrubCommands([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []GrubCommand{
		{Line: 1, Words: []string{"menuentry", "Debian", "{"}},
		{Line: 2, Words: []string{"linux", "/vmlinuz", "root=UUID=x", "ro", "quiet"}},
		{Line: 3, Words: []string{"linux", "/vmlinuz", "a#b", "c#d", "e"}},
		{Line: 5, Words: []string{"linux", "/vmlinuz", "x y", `p"q\n`, ""}},
		{Line: 5, Words: []string{"initrd", "/initrd.img"}},
		{Line: 6, Words: []string{"echo", "multi\nline", "$var", "${x}"}},
		{Line: 8, Words: []string{"}"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d commands, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Line != want[i].Line || strings.Join(got[i].Words, "|") != strings.Join(want[i].Words, "|") {
			t.Errorf("command %d: %d %q, want %d %q", i, got[i].Line, got[i].Words, want[i].Line, want[i].Words)
		}
	}
	for _, bad := range []string{"linux /vmlinuz 'console=ttyS0\n", "linux \"x\n\n"} {
		if _, err := GrubCommands([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
