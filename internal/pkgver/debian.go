package pkgver

import (
	"fmt"
	"strings"
)

// Debian orders two versions as dpkg does (deb-version(7)): the epoch as a number, then the
// upstream version and the revision, each compared in alternating runs of non-digits (letters
// before other characters, "~" before anything, even the end) and digits (as numbers).
func Debian(a, b string) int {
	ea, ua, ra := SplitDebian(a)
	eb, ub, rb := SplitDebian(b)
	if c := debianEpoch(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// SplitDebian splits "epoch:upstream-revision"; the epoch is "0" and the revision "" when
// absent ("1:9.2p1-2+deb12u3" → "1", "9.2p1", "2+deb12u3").
func SplitDebian(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v, revision = v[:i], v[i+1:]
	}
	return epoch, v, revision
}

// debianEpoch compares two epochs as numbers (dpkg parses them with strtol; leading zeros do
// not count).
func debianEpoch(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return sign(strings.Compare(a, b))
}

// validDebian applies dpkg's parseversion checks: a numeric epoch, an upstream version that
// starts with a digit and holds only alphanumerics and ".+-~" (":" only with an epoch), a
// revision of alphanumerics and ".+~", nothing empty.
func validDebian(v string) error {
	if v == "" {
		return fmt.Errorf("version %q: empty", v)
	}
	if strings.TrimSpace(v) != v || strings.ContainsAny(v, " \t\n") {
		return fmt.Errorf("version %q: embedded spaces", v)
	}
	epoch, rest := "", v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, rest = v[:i], v[i+1:]
		if epoch == "" {
			return fmt.Errorf("version %q: empty epoch", v)
		}
		for _, c := range []byte(epoch) {
			if c < '0' || c > '9' {
				return fmt.Errorf("version %q: epoch is not a number", v)
			}
		}
		if len(strings.TrimLeft(epoch, "0")) > 9 {
			return fmt.Errorf("version %q: epoch too large", v)
		}
	}
	up, rev := rest, ""
	hasRev := false
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		up, rev, hasRev = rest[:i], rest[i+1:], true
	}
	if up == "" {
		return fmt.Errorf("version %q: empty upstream version", v)
	}
	if hasRev && rev == "" {
		return fmt.Errorf("version %q: empty revision", v)
	}
	if up[0] < '0' || up[0] > '9' {
		return fmt.Errorf("version %q: upstream version does not start with a digit", v)
	}
	for _, c := range []byte(up) {
		if !alnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return fmt.Errorf("version %q: invalid character %q in upstream version", v, c)
		}
	}
	for _, c := range []byte(rev) {
		if !alnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return fmt.Errorf("version %q: invalid character %q in revision", v, c)
		}
	}
	return nil
}

func alnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isAlpha(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// debOrder is the weight of a non-digit character: "~" lowest, then the end of the part and
// digits, then letters, then everything else.
func debOrder(c byte, end bool) int {
	switch {
	case end || isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of one version part.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		first := 0
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			var ac, bc int
			if i < len(a) {
				ac = debOrder(a[i], false)
			}
			if j < len(b) {
				bc = debOrder(b[j], false)
			}
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			return sign(first)
		}
	}
	return 0
}
