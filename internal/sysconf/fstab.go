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

// ReadFstab reads fstab(5) text as libmount (util-linux 2.38, mnt_table_parse_stream) reads
// it, and with it mount -a, swapon -a and systemd-fstab-generator: a line whose first
// non-blank is '#' is a comment, but a '#' inside a field is an ordinary character
// ("/swap#1 none swap sw 0 0" is a swap line); fields are separated by spaces and tabs only;
// \ooo (three octal digits) is an escape; source, target and type are required, options,
// freq and passno optional, and a freq or passno that is not a number followed by a blank or
// the end makes libmount ignore the line (it is left out here as well); text after passno
// is ignored. A CR before the newline is dropped, a NUL ends the line. A line over maxLine
// bytes is an error naming it.
func ReadFstab(data []byte) ([]FstabEntry, error) {
	var out []FstabEntry
	err := rawLines(data, func(n int, line string) {
		if i := strings.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSuffix(line, "\r")
		s := strings.TrimLeft(line, " \t")
		if s == "" || s[0] == '#' {
			return
		}
		var f [4]string
		nf := 0
		for nf < 4 {
			s = strings.TrimLeft(s, " \t")
			if s == "" {
				break
			}
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			f[nf], s = s[:end], s[end:]
			nf++
		}
		if nf < 3 {
			return // libmount: a parse error, the line is ignored
		}
		for i := 0; i < 2; i++ { // freq, passno
			s = strings.TrimLeft(s, " \t")
			if s == "" {
				break
			}
			k := numberLen(s)
			if k == 0 || k < len(s) && s[k] != ' ' && s[k] != '\t' {
				return
			}
			s = s[k:]
		}
		e := FstabEntry{Line: n, Spec: unescapeOctal(f[0]), Path: unescapeOctal(f[1]), Type: unescapeOctal(f[2])}
		if nf > 3 {
			e.Options = strings.Split(unescapeOctal(f[3]), ",")
		}
		out = append(out, e)
	})
	return out, err
}

// numberLen is how many bytes of s strtol(s, &end, 10) consumes (sign and digits; s has no
// leading blank here), 0 when it has no digits.
func numberLen(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0
	}
	return j
}

// rawLines calls fn with each line of data (numbered from 1, without its newline); a line
// over maxLine bytes is an error naming it, never cut.
func rawLines(data []byte, fn func(n int, line string)) error {
	n := 0
	for off := 0; off < len(data); {
		n++
		next := len(data)
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i
			next = end + 1
		}
		if next-off > maxLine {
			return &LineTooLongError{Line: n, Offset: int64(off), Limit: maxLine}
		}
		fn(n, string(data[off:end]))
		off = next
	}
	return nil
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
