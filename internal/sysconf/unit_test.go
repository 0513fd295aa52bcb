package sysconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseUnit(t *testing.T) {
	data := "[Unit]\nDescription=x \\\n  y\n# comment\n; comment\nWants=a.swap\n\n[Service]\n  ExecStart = /usr/sbin/sshd \\\n# skipped inside a continuation\n   -D\nNoEquals\nExecStart=\n"
	got, err := ParseUnit([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []UnitSetting{
		{2, "Unit", "Description", "x    y"},
		{6, "Unit", "Wants", "a.swap"},
		{9, "Service", "ExecStart", "/usr/sbin/sshd     -D"},
		{13, "Service", "ExecStart", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	var lt *LineTooLongError
	if _, err := ParseUnit([]byte("[Service]\nExecStart=/x " + strings.Repeat("a", maxLine) + "\n")); !errors.As(err, &lt) || lt.Line != 2 {
		t.Errorf("a line over the bound: %v", err)
	}
}

func TestParseEnvFile(t *testing.T) {
	data := "# Default settings for openssh-server.\nSSHD_OPTS=-o ClientAliveInterval=0 -o X=1  \n" +
		"  Q=\"a \\\"b\\\" \\$c \\d\"\nS='x y'\nexport E=1\nC=a\\\nb\n; c\nEMPTY=\nMID=a'b'c\n"
	got, err := ParseEnvFile([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{
		{2, "SSHD_OPTS", "-o ClientAliveInterval=0 -o X=1"},
		{3, "Q", `a "b" $c \d`},
		{4, "S", "x y"},
		{6, "C", "ab"},
		{9, "EMPTY", ""},
		{10, "MID", "a'b'c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestSplitAndExpandExec(t *testing.T) {
	cmds, err := SplitExec(`-/usr/sbin/sshd -D "-o" 'ClientAliveInterval 0' $SSHD_OPTS ${ONE} a\sb %%`)
	if err != nil || len(cmds) != 1 {
		t.Fatal(cmds, err)
	}
	c := cmds[0]
	if c.Flags != "-" || c.Path != "/usr/sbin/sshd" {
		t.Errorf("%+v", c)
	}
	env := map[string]string{"SSHD_OPTS": `-o "Banner /etc/x" -oMaxAuthTries=3`, "ONE": "-o X=1"}
	got, from := ExpandExecEnvFrom(c, env)
	want := []string{"/usr/sbin/sshd", "-D", "-o", "ClientAliveInterval 0", "-o", "Banner /etc/x", "-oMaxAuthTries=3", "-o X=1", "a b", "%"}
	if !reflect.DeepEqual(got, want) || from[4] != "SSHD_OPTS" || from[2] != "" {
		t.Errorf("got %q (from %q)\nwant %q", got, from, want)
	}
	if got := ExpandExecEnv(c, nil); len(got) != len(want)-3 {
		t.Errorf("unset $SSHD_OPTS gives no words: %q", got)
	}
	if cmds, _ := SplitExec(`@/usr/sbin/sshd sshd -D ; /bin/true`); len(cmds) != 2 || cmds[0].Argv[0] != "sshd" || cmds[1].Path != "/bin/true" {
		t.Errorf("@ and ;: %+v", cmds)
	}
	if _, err := SplitExec(`/bin/sh -c "unterminated`); err == nil {
		t.Error("an unterminated quote is no error")
	}
}

func TestParseSSHDArgs(t *testing.T) {
	a := ParseSSHDArgs([]string{"-De", "-oClientAliveInterval=0", "-o", "MaxAuthTries 3", "-f", "/etc/ssh/alt", "-g30"})
	if a.ConfigFile != "/etc/ssh/alt" || !reflect.DeepEqual(a.Options, []string{"ClientAliveInterval=0", "MaxAuthTries 3", "LoginGraceTime 30"}) || len(a.Problems) != 0 {
		t.Errorf("%+v", a)
	}
	for _, bad := range [][]string{{"extra"}, {"-Z"}, {"-o"}, {"--", "x"}} {
		if a := ParseSSHDArgs(bad); len(a.Problems) == 0 {
			t.Errorf("%q: no problem", bad)
		}
	}
}

// ReadShellVars and ReadKeyValue make a line over the bound an error naming it; the deprecated
// Parse* cut it.
func TestReadersRefuseLongLines(t *testing.T) {
	long := "ENABLED=" + strings.Repeat("x", maxLine) + "\nB=1\n"
	var lt *LineTooLongError
	if _, err := ReadShellVars([]byte("A=1\n" + long)); !errors.As(err, &lt) || lt.Line != 2 {
		t.Errorf("ReadShellVars: %v", err)
	}
	if _, err := ReadKeyValue([]byte("A=1\n" + long)); !errors.As(err, &lt) || lt.Line != 2 {
		t.Errorf("ReadKeyValue: %v", err)
	}
	ok := "A=1\nB = \"2\" # c\n"
	if s, err := ReadKeyValue([]byte(ok)); err != nil || !reflect.DeepEqual(s, ParseKeyValue([]byte(ok))) {
		t.Errorf("ReadKeyValue %+v, %v", s, err)
	}
	if s, err := ReadShellVars([]byte(ok)); err != nil || !reflect.DeepEqual(s, ParseShellVars([]byte(ok))) {
		t.Errorf("ReadShellVars %+v, %v", s, err)
	}
	if _, err := ParseEnvFile([]byte("A=" + strings.Repeat("x", maxLine+1) + "\n")); !errors.As(err, &lt) {
		t.Errorf("ParseEnvFile: %v", err)
	}
}

// LoadYAML's bounds: an alias bomb, deep nesting and a recursive alias are errors, not a hang.
func TestLoadYAMLBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + string(rune('a'+i)) + ": &a" + string(rune('a'+i)) + " [")
		prev := "a0"
		if i > 1 {
			prev = "a" + string(rune('a'+i-1))
		}
		b.WriteString(strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
	}
	if _, err := LoadYAML([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "aliases expanded") {
		t.Errorf("alias bomb: %v", err)
	}
	deep := strings.Repeat("[", MaxYAMLDepth+2) + strings.Repeat("]", MaxYAMLDepth+2)
	if _, err := LoadYAML([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep: %v", err)
	}
	if _, err := LoadYAML([]byte("a: &x\n  b: *x\n")); err == nil {
		t.Error("a recursive alias is no error")
	}
	if _, err := LoadYAML([]byte("a: 1\n---\nb: 2\n")); err == nil {
		t.Error("two documents are no error (safe_load refuses them)")
	}
	if v, err := LoadYAML(nil); v != nil || err != nil {
		t.Errorf("empty: %v %v", v, err)
	}
}

// PyYAML's readings where YAML 1.2 (and yaml.v3) differ, fixed cases beside the differential.
func TestLoadYAMLAsPyYAML(t *testing.T) {
	v, err := LoadYAML([]byte("a: yes\nb: 017\nc: 1e3\nd: 1:30\ne: on\nf: 0o17\n.nan: 1\n.NaN: 2\nd: again\nbase: &b {x: 1, y: 2}\nm:\n  <<: [*b, {x: 9, z: 3}]\n  y: 5\n\"swap\": {filename: /swapnull}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"a": "True", "b": "15", "c": "1e3", "d": "again", "e": "True", "f": "0o17"} {
		if got := v.Get(key); got == nil || got.String() != want {
			t.Errorf("%s: %v, want %s", key, got, want)
		}
	}
	if v.Get("c").Kind != YStr || v.Get("f").Kind != YStr || v.Get("b").Kind != YInt {
		t.Errorf("kinds: c %s, f %s, b %s", v.Get("c").Kind, v.Get("f").Kind, v.Get("b").Kind)
	}
	nans := 0
	for _, k := range v.Keys {
		if k.Kind == YFloat {
			nans++
		}
	}
	if nans != 1 {
		t.Errorf("%d NaN keys: PyYAML makes every .nan one object, so one key", nans)
	}
	m := v.Get("m")
	if m.Get("x").String() != "1" || m.Get("y").String() != "5" || m.Get("z").String() != "3" {
		t.Errorf("merge: x %v y %v z %v (the first source of a merge list wins, own keys over all)", m.Get("x"), m.Get("y"), m.Get("z"))
	}
	if s := v.Get("swap"); s == nil || s.Get("filename").String() != "/swapnull" {
		t.Errorf("quoted swap key: %v", s)
	}
	for _, bad := range []string{"a: =\n", "a: !foo x\n", "a:\n\tb: 1\n", "a: *nope\n"} {
		if _, err := LoadYAML([]byte(bad)); err == nil {
			t.Errorf("%q: no error (PyYAML refuses it)", bad)
		}
	}
}
