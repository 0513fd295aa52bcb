package windows

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// StateINI is where Windows Setup records the image state besides the registry.
const StateINI = "Windows/Setup/State/State.ini"

// Bounds of the INI reader: a file or a line past them is an error, never cut.
const (
	MaxINIFile = 1 << 20
	MaxINILine = 64 << 10 // characters
)

// INIValue is a value as GetPrivateProfileString returns it, with the line it is on.
type INIValue struct {
	Value string
	Line  int
	Found bool // the section has the key with a value
}

// ReadImageStateINI reads [State] ImageState from State.ini; Found is false when the file is
// absent or does not set it. A file that could not be read or is past the bounds is an error
// naming it.
func ReadImageStateINI(t *filesystem.Tree) (INIValue, error) {
	b, err := t.ReadFile(StateINI, MaxINIFile)
	if errors.Is(err, fs.ErrNotExist) {
		return INIValue{}, nil
	}
	if err != nil {
		return INIValue{}, fmt.Errorf("C:/%s: %w", StateINI, err)
	}
	v, err := ParseINIValue(b, "State", "ImageState")
	if err != nil {
		return INIValue{}, fmt.Errorf("C:/%s: %w", StateINI, err)
	}
	return v, nil
}

// ParseINIValue reads section/key from INI text as GetPrivateProfileString reads it (Wine's
// profile.c, which follows Windows, as the reference): the text is UTF-16LE or UTF-16BE after
// their byte-order mark, UTF-8 after its mark, otherwise the ANSI code page (1252); a line ends
// at LF (at CR only when no LF follows); blanks (and ^Z) around a line, a name and a value are
// trimmed; `[name]` opens a section (the name as written between the brackets); a line without
// '=' is a key without a value; names compare without case; the first section of that name is
// searched and the first key of that name in it taken (a later section of the same name is not
// searched); a value quoted with ' or " on both ends loses the quotes; a NUL ends a name or a
// value as it ends a C string. A file over MaxINIFile bytes or a line over MaxINILine characters
// is an error naming the line and its byte offset.
func ParseINIValue(data []byte, section, key string) (INIValue, error) {
	if len(data) > MaxINIFile {
		return INIValue{}, fmt.Errorf("%d bytes, over the %d bytes read", len(data), MaxINIFile)
	}
	text, offs := decodeINI(data)
	var cur *string // the current section's name; nil before the first section
	searched := false
	n := 0
	for off := 0; off < len(text); {
		n++
		next := indexRune(text[off:], '\n')
		if next < 0 {
			next = indexRune(text[off:], '\r')
		}
		end := len(text)
		if next >= 0 {
			end = off + next + 1
		}
		if end-off > MaxINILine {
			return INIValue{}, fmt.Errorf("line %d (at byte offset %d) is longer than %d characters; not read", n, offs[off], MaxINILine)
		}
		line := trimINI(text[off:end])
		off = end
		if len(line) == 0 {
			continue
		}
		if line[0] == '[' {
			if i := indexRune(line[1:], ']'); i >= 0 {
				if searched {
					return INIValue{}, nil // the first section of that name did not set the key
				}
				name := cstring(string(line[1 : 1+i]))
				cur = &name
				searched = strings.EqualFold(name, section)
				continue
			}
			// "[" without "]": an ordinary key line
		}
		if cur == nil || !searched {
			continue
		}
		name, value, hasValue := string(line), "", false
		if eq := indexRune(line, '='); eq >= 0 {
			name, value, hasValue = string(trimINI(line[:eq])), string(trimINI(line[eq+1:])), true
		}
		if !strings.EqualFold(cstring(name), key) {
			continue
		}
		if !hasValue {
			return INIValue{Line: n}, nil // the key without a value: the default
		}
		value = cstring(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		return INIValue{Value: value, Line: n, Found: true}, nil
	}
	return INIValue{}, nil
}

// decodeINI decodes the text by its byte-order mark; offs[i] is the byte offset of text[i].
func decodeINI(data []byte) (text []rune, offs []int) {
	switch {
	case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
		for i, r := range string(data[3:]) {
			text, offs = append(text, r), append(offs, 3+i)
		}
		return text, offs
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		le := data[0] == 0xFF
		for i := 2; i+1 < len(data); i += 2 { // an odd last byte is not a character
			u := uint16(data[i])<<8 | uint16(data[i+1])
			if le {
				u = uint16(data[i]) | uint16(data[i+1])<<8
			}
			r := rune(u)
			if utf16.IsSurrogate(r) && i+3 < len(data) {
				v := uint16(data[i+2])<<8 | uint16(data[i+3])
				if le {
					v = uint16(data[i+2]) | uint16(data[i+3])<<8
				}
				if d := utf16.DecodeRune(r, rune(v)); d != unicode.ReplacementChar {
					text, offs = append(text, d), append(offs, i)
					i += 2
					continue
				}
			}
			if utf16.IsSurrogate(r) {
				r = unicode.ReplacementChar
			}
			text, offs = append(text, r), append(offs, i)
		}
		return text, offs
	}
	text, offs = make([]rune, len(data)), make([]int, len(data))
	for i, b := range data {
		text[i], offs[i] = cp1252(b), i
	}
	return text, offs
}

// cp1252 is a byte of the ANSI code page as far as the reader cares: ASCII as itself, 0x85 an
// ellipsis (not a blank, unlike Latin-1's NEL), every other byte its Latin-1 code point (0xA0,
// the no-break space, the only blank among them, as in 1252).
func cp1252(b byte) rune {
	switch {
	case b < 0x80:
		return rune(b)
	case b == 0x85:
		return '\u2026'
	}
	return rune(b)
}

func isINISpace(r rune) bool { return r == 0x1a || unicode.IsSpace(r) }

func trimINI(s []rune) []rune {
	i, j := 0, len(s)
	for i < j && isINISpace(s[i]) {
		i++
	}
	for j > i && isINISpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func indexRune(s []rune, r rune) int {
	for i, c := range s {
		if c == r {
			return i
		}
	}
	return -1
}

// cstring is s up to its first NUL.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// HostsEntry is a line of the HOSTS file that maps an address to names.
type HostsEntry struct {
	Line  int
	Names string // the names after the address, as written (blanks folded)
}

// MaxHostsFile bounds the HOSTS file read.
const MaxHostsFile = 8 << 20

// ParseHosts reads the HOSTS file as Windows' resolver reads it: a line whose first non-blank
// character is '#' is a comment, any other non-blank line an entry. Over MaxHostsFile bytes is
// an error naming the file.
func ParseHosts(name string, b []byte) ([]HostsEntry, error) {
	if len(b) > MaxHostsFile {
		return nil, fmt.Errorf("%s: %d bytes, over the %d this reader reads", name, len(b), MaxHostsFile)
	}
	var out []HostsEntry
	for i, line := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, HostsEntry{Line: i + 1, Names: strings.Join(strings.Fields(s)[1:], " ")})
		}
	}
	return out, nil
}
