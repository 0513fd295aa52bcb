package selinux

import (
	"strings"
	"testing"
)

func TestParseConfigAsLibselinuxReadsIt(t *testing.T) {
	for _, c := range []struct {
		in       string
		mode     Mode
		line     int
		typ      string
		unrecogn int
	}{
		{"SELINUX=enforcing\nSELINUXTYPE=targeted\n", Enforcing, 1, "targeted", 0},
		{"# SELINUX=disabled\nSELINUX=permissive\n", Permissive, 2, "", 0},
		// the tag is case-sensitive and at the line's start; the value is compared without
		// case, after blanks, by its start
		{"selinux=disabled\n SELINUX=disabled\nSELINUX=  DISABLEDx\n", Disabled, 3, "", 0},
		// an unrecognised value is skipped: libselinux reads on
		{"SELINUX=on\nSELINUX=enforcing\n", Enforcing, 2, "", 1},
		// the first recognised one wins
		{"SELINUX=disabled\nSELINUX=enforcing\n", Disabled, 1, "", 0},
		// SELINUXTYPE: blanks and case are forgiven, comments skipped, the last wins
		{"  selinuxtype=mls \n#SELINUXTYPE=x\nSELINUXTYPE=targeted\n", "", 0, "targeted", 0},
		{"", "", 0, "", 0},
		// CRLF: the \r is a blank before the value, part of the value after it
		{"SELINUX=\r\nSELINUX=disabled\r\n", Disabled, 2, "", 1},
	} {
		got, err := ParseConfig("config", []byte(c.in))
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got.Mode != c.mode || got.ModeLine != c.line || got.Type != c.typ || len(got.Unrecognised) != c.unrecogn {
			t.Errorf("%q: %+v, want mode %q line %d type %q unrecognised %d", c.in, got, c.mode, c.line, c.typ, c.unrecogn)
		}
	}
}

// fgets reads a long line in chunks of a page less one byte: a chunk that starts with the tag
// is a line of its own.
func TestParseConfigReadsInPageChunks(t *testing.T) {
	pad := strings.Repeat("x", 4095) // libselinux's buffer is a page (4096 bytes), fgets fills all but one
	got, err := ParseConfig("config", []byte(pad+"SELINUX=disabled\n"))
	if err != nil || got.Mode != Disabled {
		t.Errorf("tag at the second chunk: %+v %v", got, err)
	}
	got, _ = ParseConfig("config", []byte(pad[1:]+"SELINUX=disabled\n"))
	if got.Mode != "" {
		t.Errorf("tag inside the first chunk read as a line: %+v", got)
	}
}

func TestParseConfigNULNamesTheOffset(t *testing.T) {
	_, err := ParseConfig("/etc/selinux/config", []byte("# x\nSELINUX=dis\x00abled\n"))
	if err == nil || !strings.Contains(err.Error(), "/etc/selinux/config") || !strings.Contains(err.Error(), "offset 0xf") {
		t.Errorf("error %v does not name the file and offset 0xf", err)
	}
}

func TestParseCmdline(t *testing.T) {
	for _, c := range []struct {
		in           string
		off          bool
		enforcing    int
		enforcingSet bool
	}{
		{"ro selinux=0", true, 0, false},
		{"selinux=0 selinux=1", false, 0, false},
		{"selinux=0 selinux=junk", true, 0, false}, // the kernel ignores what kstrtoul refuses
		{"selinux=0x0", true, 0, false},
		{"selinux=00", true, 0, false},
		{"selinux=08", false, 0, false}, // not octal: ignored, SELinux stays on
		{"enforcing=1 enforcing=0", false, 1, true},
		{"noenforcing=1 enforcing=0", false, 0, false}, // released libselinux: the first occurrence is inside a word, so none counts
		{"enforcing=abc", false, 0, true},
		{"enforcing=12x", false, 12, true},
		{"quiet", false, 0, false},
	} {
		got := ParseCmdline(c.in)
		if got.Off != c.off || got.Enforcing != c.enforcing || got.EnforcingSet != c.enforcingSet {
			t.Errorf("%q: %+v", c.in, got)
		}
	}
}

// The two libselinux readings of several enforcing= (an outside review): the released one takes
// the first occurrence of the text, honoured only at a word's start; a later one the last
// word-starting one. Decide takes the worse.
func TestEnforcingReadings(t *testing.T) {
	enf := &Config{Mode: Enforcing, ModeLine: 1}
	perm := &Config{Mode: Permissive, ModeLine: 1}
	for _, c := range []struct {
		cfg     *Config
		cmdline string
		policy  bool
		want    Mode
		freezes bool
	}{
		{enf, "ro xenforcing=1 enforcing=0", false, Enforcing, true}, // released: no override, the file enforces, no policy
		{enf, "ro xenforcing=1 enforcing=0", true, Enforcing, false},
		{perm, "ro enforcing=0 enforcing=1", true, Enforcing, false}, // a later libselinux enforces
		{perm, "ro enforcing=1 enforcing=0", true, Enforcing, false}, // the released one enforces
		{enf, "ro enforcing=0", true, Permissive, false},
		{perm, "ro enforcing=0 enforcing=0", true, Permissive, false},
	} {
		b := Decide(c.cfg, ParseCmdline(c.cmdline), c.policy)
		if b.Mode != c.want || b.Freezes != c.freezes {
			t.Errorf("%+v %q policy %v: %+v", c.cfg, c.cmdline, c.policy, b)
		}
	}
	if c := ParseCmdline("enforcing=1 x enforcing=0"); !c.EnforcingSet || c.Enforcing != 1 || !c.LastSet || c.LastEnforcing != 0 {
		t.Errorf("readings: %+v", c)
	}
}

func TestDecide(t *testing.T) {
	enf := &Config{Mode: Enforcing, ModeLine: 1}
	perm := &Config{Mode: Permissive, ModeLine: 1}
	dis := &Config{Mode: Disabled, ModeLine: 1}
	for _, c := range []struct {
		cfg     *Config
		cmd     string
		policy  bool
		mode    Mode
		freezes bool
	}{
		{nil, "", false, Disabled, false},
		{nil, "", true, Permissive, false},
		{nil, "enforcing=1", false, Enforcing, true},
		{enf, "", true, Enforcing, false},
		{enf, "", false, Enforcing, true},
		{enf, "enforcing=0", true, Permissive, false},
		{enf, "selinux=0", false, Disabled, false},
		{perm, "enforcing=1", true, Enforcing, false},
		{dis, "enforcing=1", true, Disabled, false}, // the file's disabled is never overridden
	} {
		got := Decide(c.cfg, ParseCmdline(c.cmd), c.policy)
		if got.Mode != c.mode || got.Freezes != c.freezes || got.Why == "" {
			t.Errorf("%+v %q policy=%v: %+v", c.cfg, c.cmd, c.policy, got)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"SELINUX=enforcing\nSELINUXTYPE=targeted\n", "SELINUX=\x00", "  selinuxtype=mls", strings.Repeat("x", 5000) + "SELINUX=disabled"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("config", b)
		if err == nil && c.Mode != "" && c.ModeLine < 1 {
			t.Errorf("mode %s without its line", c.Mode)
		}
	})
}

func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"ro selinux=0 enforcing=1", "enforcing=", "selinux=0xffffffffffffffffff", "enforcing=-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCmdline(s)
		_ = Decide(nil, c, true)
	})
}
