package sysconf

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// SSHDirective is one keyword line of an sshd_config, after Include expansion.
type SSHDirective struct {
	File  string // in-image path
	Line  int
	Key   string // lower-cased keyword
	Value string // the rest of the line, unquoted
	Match string // the Match criteria this line sits under, "" when global
}

// maxIncludeDepth bounds nested Include, as sshd does (it allows 16).
const maxIncludeDepth = 16

// SSHDSource gives the expander access to the image: read a file, expand a glob pattern.
type SSHDSource struct {
	Read func(path string) ([]byte, error)
	Glob func(pattern string) ([]string, error)
}

// ExpandSSHD reads an sshd_config and everything it Includes, in the order sshd reads them.
// Problems (a missing Include target is not one: sshd ignores it) are returned alongside.
func ExpandSSHD(file string, src SSHDSource) ([]SSHDirective, []error) {
	var out []SSHDirective
	var errs []error
	var walk func(file string, depth int)
	walk = func(file string, depth int) {
		data, err := src.Read(file)
		if err != nil {
			errs = append(errs, err)
			return
		}
		match := ""
		lines(data, func(n int, line string) {
			key, val, ok := splitSSHDLine(line)
			if !ok {
				return
			}
			switch key {
			case "match":
				match = val
				if strings.EqualFold(strings.TrimSpace(val), "all") {
					match = ""
				}
				return
			case "include":
				if depth >= maxIncludeDepth {
					errs = append(errs, fmt.Errorf("%s:%d: Include nested deeper than %d", file, n, maxIncludeDepth))
					return
				}
				for _, pat := range strings.Fields(val) {
					if !strings.HasPrefix(pat, "/") {
						pat = path.Join("/etc/ssh", pat)
					}
					matches, err := src.Glob(pat)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s:%d: Include %s: %w", file, n, pat, err))
						continue
					}
					sort.Strings(matches)
					for _, m := range matches {
						walk(m, depth+1)
					}
				}
				return
			}
			out = append(out, SSHDirective{File: file, Line: n, Key: key, Value: val, Match: match})
		})
	}
	walk(file, 0)
	return out, errs
}

// splitSSHDLine splits "Keyword value", "Keyword=value" and "Keyword = value".
func splitSSHDLine(line string) (key, val string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), "", true
	}
	key = strings.ToLower(line[:i])
	val = strings.TrimLeft(line[i:], " \t")
	val = strings.TrimPrefix(val, "=")
	val = strings.TrimSpace(val)
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	return key, val, true
}

// FirstGlobal returns the value sshd uses for key outside any Match block: the first one read.
func FirstGlobal(ds []SSHDirective, key string) (SSHDirective, bool) {
	for _, d := range ds {
		if d.Key == key && d.Match == "" {
			return d, true
		}
	}
	return SSHDirective{}, false
}
