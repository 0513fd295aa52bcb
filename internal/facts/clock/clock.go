// Package clock is how an image keeps its hardware clock (RTC): in UTC or in local time, as
// /etc/adjtime says it and as the booting system reads it. systemd (clock_is_localtime, which
// PID 1 consults at boot to warp the system clock, and timedatectl) reads the third line (lines
// end at "\n", "\r\n", "\r" or a NUL, as read_line ends them), strips blanks and takes "LOCAL"
// for local time, anything else or no third line (or no file) for UTC; util-linux's hwclock
// takes the third line "UTC" or "LOCAL" (with its newline), warns about anything else, and
// assumes UTC when it has none.
package clock

import (
	"fmt"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Path is the file both read.
const Path = "/etc/adjtime"

// Mode is the hardware clock's time standard.
type Mode string

const (
	UTC   Mode = "UTC"
	Local Mode = "LOCAL"
)

// maxLine is systemd's LONG_LINE_MAX: read_line refuses a longer line (clock_is_localtime then
// fails, and the boot keeps the kernel's UTC reading), so a longer line is an error here.
const maxLine = 1 << 20

// Adjtime is /etc/adjtime read.
type Adjtime struct {
	Present bool // the file exists
	Mode    Mode // as systemd reads it
	// Line3 is the third line as written ("" when there is none), Offset where it starts;
	// HasLine3 says there is one.
	Line3    string
	Offset   int64
	HasLine3 bool
	// Recognised: hwclock takes the third line for UTC or LOCAL (or there is none); when false
	// hwclock warns and assumes UTC, while systemd reads Mode.
	Recognised bool
}

// Absent is the reading when the file does not exist: UTC, as both assume.
func Absent() Adjtime { return Adjtime{Mode: UTC, Recognised: true} }

// ParseAdjtime reads /etc/adjtime (name names it in errors).
func ParseAdjtime(name string, data []byte) (Adjtime, error) {
	a := Adjtime{Present: true, Mode: UTC, Recognised: true}
	off := int64(0)
	for n := 1; n <= 3 && off < int64(len(data)); n++ {
		end, next := lineEnd(data, off)
		if end-off > maxLine {
			return a, byteio.Corrupt(name, off, "line %d is longer than %d bytes (systemd's read_line refuses it)", n, maxLine)
		}
		if n == 3 {
			a.Line3, a.Offset, a.HasLine3 = string(data[off:end]), off, true
			if trim(a.Line3) == "LOCAL" {
				a.Mode = Local
			}
			// hwclock compares the fgets line with "UTC\n" / "LOCAL\n": no newline, no match
			nl := end < int64(len(data)) && data[end] == '\n'
			a.Recognised = nl && (a.Line3 == "UTC" || a.Line3 == "LOCAL")
		}
		off = next
	}
	return a, nil
}

// lineEnd finds where the line starting at off ends and where the next begins, as systemd's
// read_line ends lines.
func lineEnd(data []byte, off int64) (end, next int64) {
	for i := off; i < int64(len(data)); i++ {
		switch data[i] {
		case '\n', 0:
			return i, i + 1
		case '\r':
			if i+1 < int64(len(data)) && data[i+1] == '\n' {
				return i, i + 2
			}
			return i, i + 1
		}
	}
	return int64(len(data)), int64(len(data))
}

// trim strips the blanks strstrip strips.
func trim(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// Describe says in words how the third line is read.
func (a Adjtime) Describe() string {
	switch {
	case !a.Present:
		return "no " + Path + ": the hardware clock is taken to be in UTC"
	case !a.HasLine3:
		return Path + " has no third line: the hardware clock is taken to be in UTC"
	}
	return fmt.Sprintf("third line %q: the hardware clock is in %s", a.Line3, map[Mode]string{UTC: "UTC", Local: "local time"}[a.Mode])
}
