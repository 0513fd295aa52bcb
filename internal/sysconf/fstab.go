// Package sysconf parses the Linux configuration files the rules read: fstab, passwd, shadow,
// sshd_config, shell-style KEY=value files and INI-like key = value files. Every parser takes
// bytes from an untrusted image and returns line numbers for evidence.
package sysconf

import (
	"bufio"
	"bytes"
	"strings"
)

// maxLine bounds one configuration line; longer lines are cut (and still parsed).
const maxLine = 64 << 10

// lines splits data into lines (numbered from 1), tolerating CRLF and a missing final newline.
func lines(data []byte, fn func(n int, line string)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	sc.Split(scanLinesCut)
	n := 0
	for sc.Scan() {
		n++
		fn(n, strings.TrimRight(sc.Text(), "\r"))
	}
}

// scanLinesCut is bufio.ScanLines that cuts over-long lines instead of failing.
func scanLinesCut(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanLines(data, atEOF)
	if adv == 0 && tok == nil && err == nil && len(data) >= maxLine {
		return len(data), data[:maxLine], nil
	}
	return adv, tok, err
}

// FstabEntry is one line of /etc/fstab.
type FstabEntry struct {
	Line    int
	Spec    string // UUID=..., LABEL=..., /dev/sda1, /swapfile
	Path    string // mount point ("none" for swap)
	Type    string
	Options []string
}

// IsSwap reports whether the entry enables swap.
func (e FstabEntry) IsSwap() bool { return e.Type == "swap" }

// HasOption reports whether opt is among the entry's options.
func (e FstabEntry) HasOption(opt string) bool {
	for _, o := range e.Options {
		if o == opt {
			return true
		}
	}
	return false
}

// ParseFstab parses fstab(5) text. Malformed lines are skipped.
func ParseFstab(data []byte) []FstabEntry {
	var out []FstabEntry
	lines(data, func(n int, line string) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return
		}
		e := FstabEntry{Line: n, Spec: unescapeOctal(f[0]), Path: unescapeOctal(f[1]), Type: f[2]}
		if len(f) > 3 {
			e.Options = strings.Split(f[3], ",")
		}
		out = append(out, e)
	})
	return out
}

// unescapeOctal decodes fstab's \040-style escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			v := (s[i+1]-'0')*64 + (s[i+2]-'0')*8 + (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}
