package pkgver

import (
	"fmt"
	"strings"
)

// RPM orders two "[epoch:]version[-release]" strings as rpm 4.18 does (rpmverCmp, also what
// its Lua rpm.vercmp answers): the epochs (a missing one is 0), then the versions, then the
// releases, each with rpmvercmp; a missing release is older than any release, even "".
func RPM(a, b string) int {
	ea, va, ra, hasA := SplitRPM(a)
	eb, vb, rb, hasB := SplitRPM(b)
	if c := Rpmvercmp(ea, eb); c != 0 {
		return c
	}
	if c := Rpmvercmp(va, vb); c != 0 {
		return c
	}
	switch {
	case hasA && hasB:
		return Rpmvercmp(ra, rb)
	case hasA:
		return 1
	case hasB:
		return -1
	}
	return 0
}

// SplitRPM splits "epoch:version-release" as rpm's rpmverParse does: the epoch is what comes
// before the first ":" when that is all digits (else "0"), the release what follows the last
// "-".
func SplitRPM(v string) (epoch, version, release string, hasRelease bool) {
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		e := v[:i]
		digits := true
		for _, c := range []byte(e) {
			if !isDigit(c) {
				digits = false
				break
			}
		}
		if digits {
			if e != "" {
				epoch = e
			}
			v = v[i+1:]
		}
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:], true
	}
	return epoch, v, "", false
}

func validRPM(v string) error {
	if v == "" {
		return fmt.Errorf("version %q: empty", v)
	}
	if strings.ContainsAny(v, " \t\n") {
		return fmt.Errorf("version %q: embedded spaces", v)
	}
	_, ver, rel, has := SplitRPM(v)
	if ver == "" || has && rel == "" {
		return fmt.Errorf("version %q: empty version or release", v)
	}
	return nil
}

// Rpmvercmp is rpm's comparison of one version string (rpmvio.c, rpm 4.18): separators
// (anything not an ASCII letter or digit, other than "~" and "^") only split segments; "~"
// sorts before everything, even the end; "^" sorts after the end but before anything else;
// digit segments compare as numbers and beat letter segments; letters compare bytewise; the
// string with segments left over is newer.
func Rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !alnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !alnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := at(a, i), at(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if ca != '^' {
				return 1
			}
			if cb != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		num := isDigit(a[i])
		if num {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if sj == j {
			// b's segment is of the other kind: a number is newer than letters
			if num {
				return 1
			}
			return -1
		}
		sa, sb := a[si:i], b[sj:j]
		if num {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return sign(len(sa) - len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	if i >= len(a) {
		return -1
	}
	return 1
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
