package sshd

import (
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// The keywords the access rules judge, as sshd -T names them.
const (
	PasswordAuthentication       = "passwordauthentication"
	KbdInteractiveAuthentication = "kbdinteractiveauthentication"
	PermitRootLogin              = "permitrootlogin"
)

// aliases are the keywords sshd reads as another one (OpenSSH 8.7 and later servconf.c:
// ChallengeResponseAuthentication is KbdInteractiveAuthentication, in Match blocks too).
var aliases = map[string][]string{
	KbdInteractiveAuthentication: {"challengeresponseauthentication"},
}

// accepted are the values sshd takes for the judged keywords (case-insensitive, as its
// multistate tables compare them); any other value makes sshd refuse the whole file, whether
// the line is global or inside a Match block (sshd parses every line when it starts).
var accepted = map[string][]string{
	PasswordAuthentication:       {"yes", "no"},
	KbdInteractiveAuthentication: {"yes", "no"},
	PermitRootLogin:              {"yes", "no", "prohibit-password", "without-password", "forced-commands-only"},
}

// Setting is the value sshd uses for one keyword on some connections.
type Setting struct {
	// Value is lower-cased and normalised as sshd -T prints it, except that without-password
	// is written prohibit-password (sshd -T prints the old name for both).
	Value     string
	Directive sysconf.SSHDirective // where it is set (zero when Default)
	Default   bool                 // nothing sets it: the installed OpenSSH's compiled-in value
}

// Effective is a keyword's values: the one a connection no Match block selects gets (Global),
// and every value a Match block can give some connection instead (Match, in reading order).
type Effective struct {
	Key    string
	Global Setting
	Match  []Setting
	// Refused are lines setting the keyword to a value sshd does not accept: sshd refuses the
	// configuration and does not start.
	Refused []sysconf.SSHDirective
}

// Values are every value sshd can use for the keyword: Global first, then Match's.
func (e Effective) Values() []Setting { return append([]Setting{e.Global}, e.Match...) }

func keyOf(d sysconf.SSHDirective, key string) bool {
	if d.Key == key {
		return true
	}
	for _, a := range aliases[key] {
		if d.Key == a {
			return true
		}
	}
	return false
}

// Normalize is a value as sshd stores it: lower-cased, without-password read as
// prohibit-password.
func Normalize(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "without-password" {
		return "prohibit-password"
	}
	return v
}

// Effective resolves key (and its aliases) as sshd does: the command line's -o options and the
// file's global lines, first value winning, unless a "Match all" block sets it (the first value
// there wins for every connection); then, for a connection a Match block selects, the first
// value in the blocks it matches. def is the compiled-in value. canSelect says whether a Match
// context can select a connection the caller cares about (nil: any can); a block it rules out
// is not in Match. A value inside a Match block that an earlier "Match all" value shadows, or
// that an earlier block of the same criteria shadows, is no value sshd can use.
func (c *Config) Effective(key, def string, canSelect func(match string) bool) Effective {
	e := Effective{Key: key}
	if g, ok := c.firstGlobal(key); ok {
		e.Global = Setting{Value: Normalize(g.Value), Directive: g}
	} else {
		e.Global = Setting{Value: Normalize(def), Default: true}
	}
	allSeen := false
	seen := map[string]bool{}
	for _, d := range c.Directives {
		if !keyOf(d, key) {
			continue
		}
		if ok := accepted[key]; ok != nil && !contains(ok, strings.ToLower(strings.TrimSpace(d.Value))) {
			e.Refused = append(e.Refused, d)
		}
		switch {
		case d.Match == "":
			continue
		case sysconf.MatchesAll(d.Match):
			allSeen = true
			continue
		case allSeen || seen[d.Match]:
			continue
		}
		seen[d.Match] = true
		if canSelect != nil && !canSelect(d.Match) {
			continue
		}
		e.Match = append(e.Match, Setting{Value: Normalize(d.Value), Directive: d})
	}
	return e
}

// firstGlobal is FirstGlobal over a keyword and its aliases.
func (c *Config) firstGlobal(key string) (sysconf.SSHDirective, bool) {
	for _, d := range c.Directives {
		if keyOf(d, key) && sysconf.MatchesAll(d.Match) {
			return d, true
		}
	}
	for _, d := range c.Directives {
		if keyOf(d, key) && d.Match == "" {
			return d, true
		}
	}
	return sysconf.SSHDirective{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Default is the installed OpenSSH's compiled-in value of a judged keyword (servconf.c,
// fill_default_server_options): PasswordAuthentication yes and KbdInteractiveAuthentication
// yes in every release; PermitRootLogin prohibit-password since OpenSSH 7.0, yes before.
// version is the package's version ("1:9.2p1-2+deb12u10", "8.7p1-38.el9"); known is false when
// it does not start with a release number (the current default is returned).
func Default(key, version string) (value string, known bool) {
	switch key {
	case PasswordAuthentication, KbdInteractiveAuthentication:
		return "yes", true
	case PermitRootLogin:
		major, ok := opensshMajor(version)
		if !ok {
			return "prohibit-password", false
		}
		if major < 7 {
			return "yes", true
		}
		return "prohibit-password", true
	}
	return "", false
}

// opensshMajor reads the major release of a package version: the epoch dropped, digits up to
// the first dot.
func opensshMajor(v string) (int, bool) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if j == 0 || j == len(v) || v[j] != '.' {
		return 0, false
	}
	n, err := strconv.Atoi(v[:j])
	return n, err == nil
}

// CanSelectUser reports whether a Match context (criteria joined as sysconf.SSHDirective.Match
// holds them) can select a connection logging in as user: its User criteria, read as sshd's
// match_pattern_list reads them (comma-separated patterns with * and ?, a matching !pattern
// excluding), must admit the name. Every other criterion (Group, Host, Address, LocalPort, ...)
// can hold for some connection of that user, so it does not rule the block out.
func CanSelectUser(match, user string) bool {
	f := strings.Fields(match)
	for i := 0; i < len(f); i++ {
		switch strings.ToLower(f[i]) {
		case "all", "invalid-user":
			// "all" takes no argument; Invalid-User neither (it never matches a valid user,
			// but whether the name is valid is the image's passwd: left open)
		case "user":
			if i+1 < len(f) {
				i++
				if !matchPatternList(user, f[i]) {
					return false
				}
			}
		default:
			i++ // a criterion and its argument
		}
	}
	return true
}

// matchPatternList is OpenSSH's match_pattern_list: true when a pattern of the comma-separated
// list matches and no negated one does.
func matchPatternList(s, list string) bool {
	positive := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if matchPattern(s, p) {
			if neg {
				return false
			}
			positive = true
		}
	}
	return positive
}

// matchPattern is OpenSSH's match_pattern: * any run of characters, ? one character, the
// rest literal. The backtracking is bounded by len(s)*len(p).
func matchPattern(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*': // before the literal case: a '*' in s is no match for it
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
