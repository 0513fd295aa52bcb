package sysconf

import (
	"strings"
)

// Setting is one KEY=value (or "key = value") assignment with its line.
type Setting struct {
	Line  int
	Key   string
	Value string
}

// ParseShellVars is ReadShellVars for callers that have not moved to it yet: a line over the
// reader's bound is cut there (Deprecated: use ReadShellVars, which makes it an error).
func ParseShellVars(data []byte) []Setting {
	var out []Setting
	lines(data, func(n int, line string) { out = shellVar(out, n, line) })
	return out
}

// ReadShellVars parses shell-style assignments (/etc/default/grub, ufw.conf, os-release):
// KEY=value, KEY="value", KEY='value', optionally prefixed by "export". Later lines win when
// looked up with Last. A line over the reader's bound is an error naming it, never a cut.
func ReadShellVars(data []byte) ([]Setting, error) {
	var out []Setting
	err := rawLines(data, func(n int, line string) { out = shellVar(out, n, strings.TrimRight(line, "\r")) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func shellVar(out []Setting, n int, line string) []Setting {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return out
	}
	line = strings.TrimPrefix(line, "export ")
	k, v, ok := strings.Cut(line, "=")
	if !ok || !validShellName(k) {
		return out
	}
	return append(out, Setting{Line: n, Key: k, Value: unquoteShell(v)})
}

func validShellName(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func unquoteShell(v string) string {
	v = strings.TrimSpace(v)
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"':
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' && j+1 < len(v) {
					j++
				}
				b.WriteByte(v[j])
				j++
			}
			i = j
		case '\'':
			j := strings.IndexByte(v[i+1:], '\'')
			if j < 0 {
				b.WriteString(v[i+1:])
				return b.String()
			}
			b.WriteString(v[i+1 : i+1+j])
			i += j + 1
		case '#':
			if i == 0 || v[i-1] == ' ' || v[i-1] == '\t' {
				return strings.TrimSpace(b.String())
			}
			b.WriteByte(c)
		case ' ', '\t':
			// an unquoted blank ends the value (the rest would be a command)
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ParseKeyValue is ReadKeyValue for callers that have not moved to it yet: a line over the
// reader's bound is cut there (Deprecated: use ReadKeyValue, which makes it an error).
func ParseKeyValue(data []byte) []Setting {
	var out []Setting
	lines(data, func(n int, line string) { out = keyValue(out, n, line) })
	return out
}

// ReadKeyValue parses "Key=value" / "key = value" lines (waagent.conf, INI files), ignoring
// comments (# and ;) and [sections]. A line over the reader's bound is an error naming it.
func ReadKeyValue(data []byte) ([]Setting, error) {
	var out []Setting
	err := rawLines(data, func(n int, line string) { out = keyValue(out, n, strings.TrimRight(line, "\r")) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func keyValue(out []Setting, n int, line string) []Setting {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
		return out
	}
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return out
	}
	k = strings.TrimSpace(k)
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if k != "" {
		out = append(out, Setting{Line: n, Key: k, Value: strings.Trim(v, `"'`)})
	}
	return out
}

// Last returns the last setting of key (exact match) and whether there was one.
func Last(s []Setting, key string) (Setting, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].Key == key {
			return s[i], true
		}
	}
	return Setting{}, false
}
