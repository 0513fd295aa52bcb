package clock

import (
	"strings"
	"testing"
)

func TestParseAdjtime(t *testing.T) {
	for _, c := range []struct {
		in         string
		mode       Mode
		line3      bool
		recognised bool
	}{
		{"0.0 0 0.0\n0\nUTC\n", UTC, true, true},
		{"0.0 0 0.0\n0\nLOCAL\n", Local, true, true},
		{"0.0 0 0.0\n0\n", UTC, false, true},
		{"", UTC, false, true},
		{"0.0 0 0.0\n0\nLOCAL", Local, true, false}, // systemd: local; hwclock: no newline, unknown
		{"0.0 0 0.0\n0\n LOCAL \n", Local, true, false},
		{"0.0 0 0.0\r\n0\r\nLOCAL\r\n", Local, true, false},
		{"0.0 0 0.0\r0\rLOCAL\r", Local, true, false},
		{"0.0 0 0.0\x000\x00LOCAL\x00", Local, true, false},
		{"0.0 0 0.0\n0\nlocal\n", UTC, true, false},
		{"0.0 0 0.0\n0\n\n", UTC, true, false}, // an empty third line is not "nothing" to hwclock
		{"0.0 0 0.0\n0\nUTC\nLOCAL\n", UTC, true, true},
	} {
		a, err := ParseAdjtime(Path, []byte(c.in))
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if a.Mode != c.mode || a.HasLine3 != c.line3 || a.Recognised != c.recognised || a.Describe() == "" {
			t.Errorf("%q: %+v", c.in, a)
		}
	}
}

// systemd's read_line refuses a line over LONG_LINE_MAX: exactly that long is read, a byte
// more is an error naming the file and the line's offset.
func TestParseAdjtimeLineBound(t *testing.T) {
	ok := "0.0 0 0.0\n" + strings.Repeat("0", maxLine) + "\nLOCAL\n"
	if a, err := ParseAdjtime(Path, []byte(ok)); err != nil || a.Mode != Local {
		t.Errorf("a line of %d bytes: %+v %v", maxLine, a, err)
	}
	_, err := ParseAdjtime(Path, []byte("0.0 0 0.0\n"+strings.Repeat("0", maxLine+1)+"\nLOCAL\n"))
	if err == nil || !strings.Contains(err.Error(), Path) || !strings.Contains(err.Error(), "offset 0xa") {
		t.Errorf("a line of %d bytes: %v", maxLine+1, err)
	}
}

func FuzzParseAdjtime(f *testing.F) {
	for _, s := range []string{"0.0 0 0.0\n0\nUTC\n", "\r\r\rLOCAL", "a\x00b\x00 LOCAL \x00", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAdjtime(Path, b)
		if err != nil {
			return
		}
		if a.Mode != UTC && a.Mode != Local {
			t.Errorf("mode %q", a.Mode)
		}
		if a.HasLine3 && (a.Offset < 0 || a.Offset > int64(len(b))) {
			t.Errorf("offset %d of %d bytes", a.Offset, len(b))
		}
	})
}
