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
	// Match is the Match criteria this line sits under: "" outside any Match block, "all" in a
	// "Match all" block, and for an Include inside a Match block, the enclosing criteria joined
	// with those of a Match line in the included file (both must match).
	Match string
}

// maxIncludeDepth bounds nested Include, as sshd does (it allows 16).
const maxIncludeDepth = 16

// maxSSHDFiles bounds the files one expansion reads: a file that includes itself twice per
// level would otherwise be read 2^16 times, each under a longer joined Match context.
const maxSSHDFiles = 4096

// SSHDSource gives the expander access to the image: read a file, expand a glob pattern.
type SSHDSource struct {
	Read func(path string) ([]byte, error)
	Glob func(pattern string) ([]string, error)
}

// ExpandSSHD reads an sshd_config and everything it Includes, in the order sshd reads them.
// Problems (a missing Include target is not one: sshd ignores it) are returned alongside.
//
// An Include inside a Match block is read as sshd reads it: the included file starts under the
// enclosing Match, and a Match line inside it narrows that context (its lines apply only to
// connections both match; "Match all" keeps the enclosing one) without ever leaving it. At the
// end of the included file the including file's context is back, whatever the included file
// ended in.
func ExpandSSHD(file string, src SSHDSource) ([]SSHDirective, []error) {
	var out []SSHDirective
	var errs []error
	files := 0
	var walk func(file string, depth int, enclosing string)
	walk = func(file string, depth int, enclosing string) {
		if files++; files > maxSSHDFiles {
			if files == maxSSHDFiles+1 {
				errs = append(errs, fmt.Errorf("%s: more than %d files read through Include (not all of the configuration was read)", file, maxSSHDFiles))
			}
			return
		}
		data, err := src.Read(file)
		if err != nil {
			errs = append(errs, err)
			return
		}
		match := enclosing
		err = rawLines(data, func(n int, line string) {
			key, val, ok := splitSSHDLine(strings.TrimRight(line, "\r"))
			if !ok {
				return
			}
			switch key {
			case "match":
				match = joinMatch(enclosing, val)
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
						walk(m, depth+1, match)
					}
				}
				return
			}
			out = append(out, SSHDirective{File: file, Line: n, Key: key, Value: val, Match: match})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %w", file, err))
		}
	}
	walk(file, 0, "")
	return out, errs
}

// joinMatch is the context of a Match line read under enclosing (the Match around the Include
// that led to this file, "" at the top): both must match, so the criteria are joined (sshd
// ANDs the criteria of one Match line). "Match all" adds nothing to a context that has
// criteria, and stays "all" (a block that applies to every connection) otherwise.
func joinMatch(enclosing, criteria string) string {
	criteria = strings.TrimSpace(criteria)
	switch {
	case enclosing == "" || MatchesAll(enclosing):
		if MatchesAll(criteria) {
			return "all"
		}
		return criteria
	case MatchesAll(criteria):
		return enclosing
	}
	return enclosing + " " + criteria
}

// MatchesAll reports whether a directive's Match context applies to every connection ("Match all").
func MatchesAll(match string) bool { return strings.EqualFold(strings.TrimSpace(match), "all") }

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
	val = strings.TrimSpace(stripSSHDComment(val))
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	return key, val, true
}

// stripSSHDComment cuts a value at a '#' that starts a word outside double quotes: sshd splits
// each line with argv_split's terminate-on-comment (OpenSSH 8.7 and later), so
// "PasswordAuthentication no # hardened" is "no", while "no#x" keeps its '#'.
func stripSSHDComment(val string) string {
	quoted := false
	for i := 0; i < len(val); i++ {
		switch c := val[i]; {
		case c == '\\' && i+1 < len(val):
			i++
		case c == '"':
			quoted = !quoted
		case c == '#' && !quoted && (i == 0 || val[i-1] == ' ' || val[i-1] == '\t'):
			return val[:i]
		}
	}
	return val
}

// FirstGlobal returns the value sshd uses for key on a connection that no Match criterion
// selects, as `sshd -T` prints it: sshd applies the Match blocks that match after the global
// lines, each keyword keeping the first value it gets, so the first value inside a "Match all"
// block wins over the global lines; without one, the first global line (outside any Match) wins.
func FirstGlobal(ds []SSHDirective, key string) (SSHDirective, bool) {
	for _, d := range ds {
		if d.Key == key && MatchesAll(d.Match) {
			return d, true
		}
	}
	for _, d := range ds {
		if d.Key == key && d.Match == "" {
			return d, true
		}
	}
	return SSHDirective{}, false
}

// ParseSSHDTime reads a time value as sshd's convtime (OpenSSH misc.c) does: a sequence of
// decimal numbers, each with an optional unit (none or s/S seconds, m/M minutes, h/H hours,
// d/D days, w/W weeks), summed: "3m" is 180, "1m30s" 90, "1m30" 90. Each number is read by
// strtol, so a sign may precede it ("+5" is 5, "-0" is 0); a negative number, a unit without
// a number, anything else, or a total over INT_MAX is an error (sshd refuses the
// configuration).
func ParseSSHDTime(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty time value")
	}
	const intMax = 1<<31 - 1
	total := 0
	for i := 0; i < len(s); {
		// each number is strtol's: a sign may precede the digits; a negative one is refused
		neg := false
		if s[i] == '+' || s[i] == '-' {
			neg = s[i] == '-'
			i++
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("invalid time value %q", s)
		}
		secs := 0
		for _, c := range s[i:j] {
			if secs > (intMax-int(c-'0'))/10 {
				return 0, fmt.Errorf("time value %q is too large", s)
			}
			secs = secs*10 + int(c-'0')
		}
		if neg && secs != 0 {
			return 0, fmt.Errorf("negative time value %q", s)
		}
		mult := 1
		if j < len(s) {
			switch s[j] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 60 * 60
			case 'd', 'D':
				mult = 24 * 60 * 60
			case 'w', 'W':
				mult = 7 * 24 * 60 * 60
			default:
				return 0, fmt.Errorf("invalid time value %q", s)
			}
			j++
		}
		if secs > intMax/mult {
			return 0, fmt.Errorf("time value %q is too large", s)
		}
		secs *= mult
		if total > intMax-secs {
			return 0, fmt.Errorf("time value %q is too large", s)
		}
		total += secs
		i = j
	}
	return total, nil
}
