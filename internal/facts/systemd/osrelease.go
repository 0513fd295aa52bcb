package systemd

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxOSRelease bounds the os-release file read; a larger one is an error (systemd would read
// it, so the verdict is not cut short).
const maxOSRelease = 1 << 20

// readEnvFile reads an environment file (os-release) as systemd 252's parse_env_file does
// (src/basic/env-file.c parse_env_file_internal, v252): a state machine over the whole file,
// not a shell. A line starting (after blanks) with "#" or ";" is a comment, and a backslash in
// a comment makes the next character (a newline too, in 252: v254 changed that) part of the
// comment. A key is everything up to "=" (blanks inside kept, trailing ones dropped; a line
// without "=" is dropped). The value: leading blanks skipped, then unquoted text (a backslash
// keeps the next character, a backslash-newline is dropped, trailing blanks dropped), '...'
// (literal) and "..." (a backslash escapes only " \ ` $ and the newline, else it is kept) may
// follow one another, blanks after a closing quote skipped. A value with no character at all
// ("KEY=", `KEY=""`) leaves the key unset, as a NULL does in systemd. The last assignment wins.
// A key or value that is not UTF-8, or a NUL byte anywhere, makes the whole file unreadable to
// systemd (the condition then fails, "!" or not, as systemd-analyze 252 shows).
func readEnvFile(data []byte) (map[string]string, error) {
	if i := strings.IndexByte(string(data), 0); i >= 0 {
		return nil, fmt.Errorf("offset %d: a NUL byte (systemd reads nothing of the file)", i)
	}
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		single
		double
		doubleEscape
		comment
		commentEscape
	)
	out := map[string]string{}
	var k, v []byte
	hasValue := false
	lastKeyWS, lastValWS := -1, -1
	line, keyLine := 1, 1 // the line read, and the line the key being read starts on
	push := func(st int) error {
		kk := k
		if lastKeyWS >= 0 {
			kk = kk[:lastKeyWS]
		}
		vv := v
		if st == value && lastValWS >= 0 {
			vv = vv[:lastValWS]
		}
		if !utf8.Valid(kk) {
			return fmt.Errorf("line %d: a key that is not UTF-8 (systemd reads nothing of the file)", keyLine)
		}
		if hasValue && !utf8.Valid(vv) {
			return fmt.Errorf("line %d: a value that is not UTF-8 (systemd reads nothing of the file)", keyLine)
		}
		if hasValue {
			out[string(kk)] = string(vv)
		} else {
			delete(out, string(kk))
		}
		k, v, hasValue = k[:0], nil, false
		return nil
	}
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	isNL := func(c byte) bool { return c == '\n' || c == '\r' }
	add := func(c byte) { v = append(v, c); hasValue = true }
	st := preKey
	for _, c := range data {
		switch st {
		case preKey:
			switch {
			case c == '#' || c == ';':
				st = comment
			case !isWS(c):
				st, lastKeyWS, keyLine = key, -1, line
				k = append(k[:0], c)
			}
		case key:
			switch {
			case isNL(c):
				st, k = preKey, k[:0]
			case c == '=':
				st, lastValWS = preValue, -1
			default:
				if !isWS(c) {
					lastKeyWS = -1
				} else if lastKeyWS < 0 {
					lastKeyWS = len(k)
				}
				k = append(k, c)
			}
		case preValue:
			switch {
			case isNL(c):
				if err := push(preValue); err != nil {
					return nil, err
				}
				st = preKey
			case c == '\'':
				st = single
			case c == '"':
				st = double
			case c == '\\':
				st = valueEscape
			case !isWS(c):
				st = value
				add(c)
			}
		case value:
			switch {
			case isNL(c):
				if err := push(value); err != nil {
					return nil, err
				}
				st = preKey
			case c == '\\':
				st, lastValWS = valueEscape, -1
			default:
				if !isWS(c) {
					lastValWS = -1
				} else if lastValWS < 0 {
					lastValWS = len(v)
				}
				add(c)
			}
		case valueEscape:
			st = value
			if !isNL(c) {
				add(c)
			}
		case single:
			if c == '\'' {
				st = preValue
			} else {
				add(c)
			}
		case double:
			switch c {
			case '"':
				st = preValue
			case '\\':
				st = doubleEscape
			default:
				add(c)
			}
		case doubleEscape:
			st = double
			switch {
			case strings.IndexByte("\"\\`$", c) >= 0:
				add(c)
			case c != '\n':
				add('\\')
				add(c)
			}
		case comment:
			switch {
			case c == '\\':
				st = commentEscape
			case isNL(c):
				st = preKey
			}
		case commentEscape:
			st = comment
		}
		if c == '\n' {
			line++
		}
	}
	switch st {
	case preValue, value, valueEscape, single, double, doubleEscape:
		if err := push(st); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errUnbalanced is extract_first_word's -EINVAL: an unbalanced quote or a trailing backslash.
var errUnbalanced = errors.New("unbalanced quoting or a trailing backslash")

// extractWord is systemd's extract_first_word (src/basic/extract-word.c, v252) with
// separators (blanks when "") and EXTRACT_UNQUOTE when unquote: leading separators skipped, a
// backslash keeps the next character (in quotes too), a quote anywhere in the word opens a
// quoted part; a separator ends the word (retain leaves it and what follows in rest, else the
// separators after the word are skipped). relax is EXTRACT_RELAX: an unbalanced quote or a
// trailing backslash ends the word instead of failing. ok is false at the end of the input.
func extractWord(s, separators string, unquote, retain, relax bool) (word, rest string, ok bool, err error) {
	if separators == "" {
		separators = " \t\n\r"
	}
	i := 0
	for i < len(s) && strings.IndexByte(separators, s[i]) >= 0 {
		i++
	}
	if i == len(s) {
		return "", "", false, nil
	}
	var b strings.Builder
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				if relax {
					return b.String(), "", true, nil
				}
				return "", "", false, errUnbalanced
			}
			i++
			b.WriteByte(s[i])
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case unquote && (c == '\'' || c == '"'):
			quote = c
		case strings.IndexByte(separators, c) >= 0:
			if retain {
				return b.String(), s[i:], true, nil
			}
			for i < len(s) && strings.IndexByte(separators, s[i]) >= 0 {
				i++
			}
			return b.String(), s[i:], true, nil
		default:
			b.WriteByte(c)
		}
	}
	if quote != 0 && !relax {
		return "", "", false, errUnbalanced
	}
	return b.String(), "", true, nil
}

// envNameValid is systemd's env_name_is_valid: letters, digits and "_", not starting with a
// digit, not empty.
func envNameValid(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// StrVersCmp is systemd's strverscmp_improved (src/fundamental/string-util-fundamental.c,
// v252), the version order of ConditionOSRelease=, ConditionKernelVersion= and
// `systemd-analyze compare-versions`: negative, zero or positive. Segment by segment (252 has
// no shortcut for an empty side: "" and "*" are equal, as compare-versions says), characters other than letters, digits and
// "~-^." skipped before each: a "~" prefix is older than anything (the end of the string
// included), then at the end of either string the rest is compared as strings (more segments
// newer); then a "-" prefix is older than none, a "^" one older than none, a "." one older
// than none (each taken from both sides when both have it); then a numeric segment is newer
// than none (an alphabetic one), two compare with leading zeros dropped (longer is newer, then
// digit by digit), and
// alphabetic ones compare byte by byte with the longer newer.
func StrVersCmp(a, b string) int {
	valid := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '~' || c == '-' || c == '^' || c == '.'
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	alpha := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	at := func(s string, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	cmpBool := func(x, y bool) int {
		switch {
		case x == y:
			return 0
		case x:
			return 1
		}
		return -1
	}
	i, j := 0, 0
	for {
		for i < len(a) && !valid(a[i]) {
			i++
		}
		for j < len(b) && !valid(b[j]) {
			j++
		}
		for _, p := range []byte{'~', 0, '-', '^', '.'} {
			if p == 0 { // the end of either string
				if i >= len(a) || j >= len(b) {
					return strings.Compare(a[min(i, len(a)):], b[min(j, len(b)):])
				}
				continue
			}
			if at(a, i) == p || at(b, j) == p {
				if r := cmpBool(at(a, i) != p, at(b, j) != p); r != 0 {
					return r
				}
				i, j = i+1, j+1
			}
		}
		ca, cb := at(a, i), at(b, j)
		if digit(ca) || digit(cb) {
			ea, eb := i, j
			for ea < len(a) && digit(a[ea]) {
				ea++
			}
			for eb < len(b) && digit(b[eb]) {
				eb++
			}
			if r := cmpBool(ea > i, eb > j); r != 0 {
				return r // a numeric segment is newer than none
			}
			for i < len(a) && a[i] == '0' {
				i++
			}
			for j < len(b) && b[j] == '0' {
				j++
			}
			if r := (ea - i) - (eb - j); r != 0 {
				return r
			}
			if r := strings.Compare(a[i:ea], b[j:eb]); r != 0 {
				return r
			}
			i, j = ea, eb
			continue
		}
		ea, eb := i, j
		for ea < len(a) && alpha(a[ea]) {
			ea++
		}
		for eb < len(b) && alpha(b[eb]) {
			eb++
		}
		n := min(ea-i, eb-j)
		if r := strings.Compare(a[i:i+n], b[j:j+n]); r != 0 {
			return r
		}
		if r := (ea - i) - (eb - j); r != 0 {
			return r
		}
		i, j = ea, eb
	}
}

// fnmatch is fnmatch(3) with no flags, as ConditionOSRelease's "$=" uses it: "*" and "?"
// match any characters ("/" and a leading "." too), "[...]" a set ("!" or "^" negating, ranges,
// "]" first taken literally), a backslash the next character. ok is false for what this does not
// model (a character class "[:", "[=", "[." or an unterminated "[").
func fnmatch(pat, s string) (match, ok bool) {
	if strings.Contains(pat, "[:") || strings.Contains(pat, "[=") || strings.Contains(pat, "[.") {
		return false, false
	}
	// backtracking over the last "*"
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) || pi < len(pat) {
		if pi < len(pat) {
			switch c := pat[pi]; c {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				if si < len(s) {
					pi++
					si++
					continue
				}
			case '[':
				end, m, good := matchSet(pat[pi:], s, si)
				if !good {
					return false, false
				}
				if m {
					pi += end
					si++
					continue
				}
			case '\\':
				if pi+1 == len(pat) {
					return false, false // a trailing backslash
				}
				if si < len(s) && s[si] == pat[pi+1] {
					pi += 2
					si++
					continue
				}
			default:
				if si < len(s) && s[si] == c {
					pi++
					si++
					continue
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			starS++
			pi, si = starP+1, starS
			continue
		}
		return false, true
	}
	return true, true
}

// matchSet matches s[si] against the bracket expression at the start of set: its length, the
// match, and ok false when the bracket is not closed.
func matchSet(set, s string, si int) (int, bool, bool) {
	i := 1
	neg := false
	if i < len(set) && (set[i] == '!' || set[i] == '^') {
		neg = true
		i++
	}
	found := false
	first := true
	for ; i < len(set); i++ {
		c := set[i]
		if c == ']' && !first {
			if si >= len(s) {
				return i + 1, false, true
			}
			return i + 1, found != neg, true
		}
		first = false
		if c == '\\' && i+1 < len(set) {
			i++
			c = set[i]
		}
		lo, hi := c, c
		if i+2 < len(set) && set[i+1] == '-' && set[i+2] != ']' {
			hi = set[i+2]
			if hi == '\\' && i+3 < len(set) {
				hi = set[i+3]
				i++
			}
			i += 2
		}
		if si < len(s) && s[si] >= lo && s[si] <= hi {
			found = true
		}
	}
	return 0, false, false
}

// osReleaseOps are the comparison operators of ConditionOSRelease= in systemd 252, in the order
// it tries them (src/shared/compare-operator.c parse_compare_operator with
// COMPARE_ALLOW_FNMATCH|COMPARE_EQUAL_BY_STRING, v252: "$=" and "!$=" are its fnmatch
// operators, "=" and "!=" compare strings, the others versions).
var osReleaseOps = []string{"$=", "!$=", "<>", "<=", ">=", "<", ">", "==", "=", "!="}

// loadOSRelease reads the os-release systemd reads: /etc/os-release, else /usr/lib/os-release
// (src/basic/os-util.c open_os_release, v252).
func (e *Evaluator) loadOSRelease() {
	if e.osLoaded {
		return
	}
	e.osLoaded = true
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		head, size, err := e.src.Head(p, maxOSRelease+1)
		if err != nil {
			e.osErr = fmt.Errorf("%s: %w", p, err)
			return
		}
		if head == nil {
			continue // missing (a dangling link too): systemd tries the next
		}
		if size > maxOSRelease || len(head) > maxOSRelease {
			e.osErr = fmt.Errorf("%s: larger than %d bytes", p, maxOSRelease)
			return
		}
		vars, err := readEnvFile(head)
		if err != nil {
			// systemd fails to parse it: every ConditionOSRelease= fails
			e.osBad, e.osFile = fmt.Sprintf("%s: %v", p, err), p
			return
		}
		e.osRelease, e.osFile = vars, p
		return
	}
}

// testOSRelease is condition_test_osrelease (src/shared/condition.c, v252): the parameter is
// split into words as extract_first_word with EXTRACT_UNQUOTE splits it (quotes and
// backslashes removed: `PRETTY_NAME="Debian GNU/Linux 12"` is one word), each word is a key
// (up to the first of "!<=>$"; a valid environment name) an operator and a value (not empty,
// not starting with a blank), and every word must hold against the os-release systemd reads. A
// word that does not parse, quoting that does not balance or an os-release that cannot be read
// is an error of the test: the condition fails, "!" or not. "=" and "!=" compare strings, "$="
// and "!$=" are fnmatch(3) patterns against the value ("" when unset), the others compare
// versions with strverscmp_improved (an unset key as "").
func (e *Evaluator) testOSRelease(param string) (Tri, string, error) {
	e.loadOSRelease()
	if e.osErr != nil {
		return Unknown, "", e.osErr
	}
	var why []string
	for rest := param; ; {
		w, r, ok, err := extractWord(rest, "", true, false, false)
		if err != nil {
			return errFail, "the parameter has " + err.Error(), nil
		}
		if !ok {
			break
		}
		rest = r
		key, opv, _, err := extractWord(w, "!<=>$", false, true, false)
		if err != nil || opv == "" || !envNameValid(key) {
			return errFail, w + " is not KEY<operator>VALUE", nil
		}
		op := ""
		for _, o := range osReleaseOps {
			if strings.HasPrefix(opv, o) {
				op = o
				break
			}
		}
		val := strings.TrimPrefix(opv, op)
		if op == "" || val == "" || strings.IndexByte(" \t\n\r", val[0]) >= 0 {
			return errFail, w + " is not KEY<operator>VALUE", nil
		}
		if e.osBad != "" {
			return errFail, e.osBad, nil
		}
		if e.osRelease == nil {
			return errFail, "the image has no os-release (/etc/os-release, /usr/lib/os-release)", nil
		}
		actual, has := e.osRelease[key]
		var res bool
		switch op {
		case "=":
			res = has && actual == val
		case "!=":
			res = !has || actual != val
		case "$=", "!$=":
			m, ok := fnmatch(val, actual)
			if !ok {
				return Unknown, "the pattern " + val + " is not modelled", nil
			}
			res = m == (op == "$=")
		default:
			k := StrVersCmp(actual, val)
			switch op {
			case "<":
				res = k < 0
			case "<=":
				res = k <= 0
			case ">":
				res = k > 0
			case ">=":
				res = k >= 0
			case "==":
				res = k == 0
			case "<>":
				res = k != 0
			}
		}
		if has {
			why = append(why, fmt.Sprintf("%s is %q in %s", key, actual, e.osFile))
		} else {
			why = append(why, fmt.Sprintf("%s is not set in %s", key, e.osFile))
		}
		if !res {
			return False, strings.Join(why, ", "), nil
		}
	}
	if len(why) == 0 {
		why = append(why, "no comparison in the parameter")
	}
	return True, strings.Join(why, ", "), nil
}
