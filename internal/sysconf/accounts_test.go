package sysconf

import (
	"errors"
	"strings"
	"testing"
)

// The lines, and glibc 2.36's answers (getent passwd on a chroot holding them).
func TestParsePasswdGlibcCases(t *testing.T) {
	in := "toor::0:0\n" + // four fields: UID 0, empty password, empty shell (/bin/sh)
		"bad1:x: 0:0::/root:/bin/bash\n" + // strtoul skips the blank
		"  lead:x:5:5::/:/bin/sh\n" + // leading blanks skipped
		"big:x:4294967296:1::/:/bin/sh\n" + // over 2^32-1: rejected
		"neg:x:-1:1::/:/bin/sh\n" + // strtoul gives 2^64-1: rejected
		"wrap:x:-18446744073709551615:1::/:/bin/sh\n" + // strtoul gives 1
		"hex:x:0x10:1::/:/bin/sh\n" + // base 10: "0" then 'x': rejected
		"sp:x:9 :9::/:/bin/sh\n" + // a blank after the number: rejected
		"nogid:x:0:\n" + // an empty GID: rejected
		"cr:x:8:8::/:/bin/sh\r\n" + // the CR stays in the shell
		"nul:x:3:3::/:/bin/sh\x00:junk\n" + // a NUL ends the line
		"# c:x:0:0:::\n" +
		"::0:0:::/bin/sh\n" + // an empty name is still an entry
		"  last:x:0:" // leading blanks on the unterminated last line: "last:x:0:0:" to glibc
	got, err := ParsePasswd([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	type w struct {
		name, pw string
		uid, gid int
		shell    string
		line     int
	}
	want := []w{{"toor", "", 0, 0, "", 1}, {"bad1", "x", 0, 0, "/bin/bash", 2}, {"lead", "x", 5, 5, "/bin/sh", 3},
		{"wrap", "x", 1, 1, "/bin/sh", 6}, {"cr", "x", 8, 8, "/bin/sh\r", 10}, {"nul", "x", 3, 3, "/bin/sh", 11},
		{"", "", 0, 0, "/bin/sh", 13}, {"last", "x", 0, 0, "", 14}}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, e := range got {
		if x := want[i]; e.Name != x.name || e.Password != x.pw || e.UID != x.uid || e.GID != x.gid || e.Shell != x.shell || e.Line != x.line {
			t.Errorf("entry %d: %+v, want %+v", i, e, x)
		}
	}
	if got[0].LoginShell() != "/bin/sh" || !got[0].CanLogIn() {
		t.Errorf("toor's shell: %q", got[0].LoginShell())
	}
	pws, err := ParsePasswdPasswords([]byte(in))
	if err != nil || len(pws) != 1 || pws[0].Name != "toor" || pws[0].Status != PasswordEmpty {
		t.Errorf("passwords in /etc/passwd: %+v %v", pws, err)
	}
}

func TestCanLogIn(t *testing.T) {
	for sh, want := range map[string]bool{"/usr/sbin/nologin": false, "/bin/false": false, "/bin/sync": false,
		"/bin/bash": true, "": true, "/usr/bin/zsh": true, "/sbin/shutdown": false} {
		if got := (PasswdEntry{Shell: sh}).CanLogIn(); got != want {
			t.Errorf("%q: %v", sh, got)
		}
	}
}

// A line over the bound is an error naming the line and its offset, for passwd and shadow:
// never cut and read as two lines. A line of exactly the bound is read.
func TestAccountLinesOverBound(t *testing.T) {
	head := "root:x:0:0::/root:/bin/bash\n"
	body := "evil:x:0:0:" + strings.Repeat("g", maxLine) + "\n"
	for name, parse := range map[string]func([]byte) error{
		"passwd": func(b []byte) error { _, err := ParsePasswd(b); return err },
		"shadow": func(b []byte) error { _, err := ParseShadow(b); return err },
	} {
		err := parse([]byte(head + body))
		var lt *LineTooLongError
		if !errors.As(err, &lt) || lt.Line != 2 || lt.Offset != int64(len(head)) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: %v", name, err)
		}
		exact := "e:x:0:0:" + strings.Repeat("g", maxLine-len("e:x:0:0:")-1) + "\n"
		if err := parse([]byte(head + exact)); err != nil {
			t.Errorf("%s: a line of %d bytes: %v", name, len(exact), err)
		}
	}
}
