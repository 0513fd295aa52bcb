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

// ParseShellVars parses shell-style assignments (/etc/default/grub, ufw.conf, os-release):
// KEY=value, KEY="value", KEY='value', optionally prefixed by "export". Later lines win when
// looked up with Last.
func ParseShellVars(data []byte) []Setting {
	var out []Setting
	lines(data, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validShellName(k) {
			return
		}
		out = append(out, Setting{Line: n, Key: k, Value: unquoteShell(v)})
	})
	return out
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

// ParseKeyValue parses "Key=value" / "key = value" lines (waagent.conf, INI files), ignoring
// comments (# and ;) and [sections].
func ParseKeyValue(data []byte) []Setting {
	var out []Setting
	lines(data, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			return
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if k != "" {
			out = append(out, Setting{Line: n, Key: k, Value: strings.Trim(v, `"'`)})
		}
	})
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
