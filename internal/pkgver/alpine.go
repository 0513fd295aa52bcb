package pkgver

import "fmt"

// apk's version grammar (Gentoo's): digits{.digits}[letter]{_suffix[digits]}[-r digits].
// The token kinds in the order apk ranks them: when two versions agree up to a point, the
// one whose next token ranks lower is the newer (a revision beats the end, a letter beats a
// suffix), except that a pre-release suffix (_alpha, _beta, _pre, _rc) is older than the end.
type apkToken int

const (
	apkInvalid apkToken = iota - 1
	apkDigitOrZero
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkRevisionNo
	apkEnd
)

var (
	apkPreSuffixes  = []string{"alpha", "beta", "pre", "rc"}
	apkPostSuffixes = []string{"cvs", "svn", "git", "hg", "p"}
)

// apkScanner walks one version string token by token.
type apkScanner struct {
	s    string
	kind apkToken
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// advance decides the kind of the token that starts at s[0], consuming its separator.
func (t *apkScanner) advance() {
	n := apkInvalid
	switch {
	case t.s == "":
		n = apkEnd
	case (t.kind == apkDigit || t.kind == apkDigitOrZero) && isLower(t.s[0]):
		n = apkLetter
	case t.kind == apkLetter && isDigit(t.s[0]):
		n = apkDigit
	case t.kind == apkSuffix && isDigit(t.s[0]):
		n = apkSuffixNo
	default:
		switch t.s[0] {
		case '.':
			n = apkDigitOrZero
		case '_':
			n = apkSuffix
		case '-':
			if len(t.s) > 1 && t.s[1] == 'r' {
				n = apkRevisionNo
				t.s = t.s[1:]
			}
		}
		t.s = t.s[1:]
	}
	if n < t.kind {
		// tokens come in grammar order; going back is allowed only for another component
		// (".digits" after digits), another suffix, or digits after a letter
		if !(n == apkDigitOrZero && t.kind == apkDigit ||
			n == apkSuffix && t.kind == apkSuffixNo ||
			n == apkDigit && t.kind == apkLetter) {
			n = apkInvalid
		}
	}
	t.kind = n
}

// value reads the token of the current kind and returns its value: a number, a letter's
// byte, a suffix's rank (pre-release suffixes negative), or minus the count of a component's
// leading zeros but one (so that "1.05" sorts before "1.5"). This is apk-tools 2.14's
// get_token, the apk of Alpine's supported releases.
func (t *apkScanner) value() int64 {
	if t.s == "" {
		t.kind = apkEnd
		return 0
	}
	var v int64
	i := 0
	next := apkInvalid
	switch t.kind {
	case apkDigitOrZero, apkDigit, apkSuffixNo, apkRevisionNo:
		if t.kind == apkDigitOrZero && t.s[0] == '0' {
			// all but the last of the leading zeros are taken, counted negatively; the
			// rest is read as digits
			for i+1 < len(t.s) && t.s[i+1] == '0' {
				i++
			}
			next = apkDigit
			v = -int64(i)
			break
		}
		for i < len(t.s) && isDigit(t.s[i]) {
			v = v*10 + int64(t.s[i]-'0')
			i++
		}
		if i >= 18 {
			// apk refuses a number of 18 digits or more (its value would overflow)
			t.kind = apkInvalid
			return -1
		}
	case apkLetter:
		v = int64(t.s[0])
		i = 1
	case apkSuffix:
		found := false
		for k, suf := range apkPreSuffixes {
			if len(t.s) >= len(suf) && t.s[:len(suf)] == suf {
				v, i, found = int64(k-len(apkPreSuffixes)), len(suf), true
				break
			}
		}
		if !found {
			for k, suf := range apkPostSuffixes {
				if len(t.s) >= len(suf) && t.s[:len(suf)] == suf {
					v, i, found = int64(k), len(suf), true
					break
				}
			}
		}
		if !found {
			t.kind = apkInvalid
			return -1
		}
	default:
		t.kind = apkInvalid
		return -1
	}
	t.s = t.s[i:]
	switch {
	case t.s == "":
		t.kind = apkEnd
	case next != apkInvalid:
		t.kind = next
	default:
		t.advance()
	}
	return v
}

// Alpine orders two versions as apk-tools 2.14 does (apk_version_compare): token by token while
// kinds and values agree; a differing value decides; if both then end (or both are invalid)
// they are equal; else a pre-release suffix is older, and otherwise the version whose next
// token ranks lower is newer.
func Alpine(a, b string) int {
	ta, tb := apkScanner{s: a, kind: apkDigit}, apkScanner{s: b, kind: apkDigit}
	var va, vb int64
	for ta.kind == tb.kind && ta.kind != apkEnd && ta.kind != apkInvalid && va == vb {
		va = ta.value()
		vb = tb.value()
	}
	if va != vb {
		if va < vb {
			return -1
		}
		return 1
	}
	if ta.kind == tb.kind {
		return 0
	}
	if ta.kind == apkSuffix {
		c := ta
		if c.value() < 0 {
			return -1
		}
	}
	if tb.kind == apkSuffix {
		c := tb
		if c.value() < 0 {
			return 1
		}
	}
	if ta.kind > tb.kind {
		return -1
	}
	if tb.kind > ta.kind {
		return 1
	}
	return 0
}

// validAlpine is apk_version_validate: the tokens run to the end without an invalid one.
func validAlpine(v string) error {
	if v == "" {
		return fmt.Errorf("version %q: empty", v)
	}
	t := apkScanner{s: v, kind: apkDigit}
	for t.kind != apkEnd && t.kind != apkInvalid {
		t.value()
	}
	if t.kind != apkEnd {
		return fmt.Errorf("version %q: not an apk version", v)
	}
	return nil
}
