package secrets

import (
	"encoding/hex"
	"html"
	"strings"
	"unicode/utf8"
)

// Escaped text (issue #24, outside review of ENC2): a credentials file or a key written with
// every character escaped, the way scripts and configs hide or quote it:
//
//   - %-encoding (RFC 3986), as curl --data-urlencode and CPython 3.12's urllib.parse.quote
//     and quote_plus (Lib/urllib/parse.py: quote keeps letters, digits, "_.-~" and the safe
//     '/', escapes every other byte of the UTF-8 text as %XX; quote_plus also turns spaces
//     into '+') write a whole file or value: %5Bdefault%5D%0Aaws_access_key_id%20%3D%20AKIA…;
//   - backslash escapes, as printf and echo -e strings in shell scripts, Python and JavaScript
//     string literals and JSON write them: \xHH, \uHHHH (UTF-16 surrogate pairs joined, as Go
//     1.22's encoding/json decode.go unquoteBytes joins them), \U00HHHHHH, octal \NNN
//     (coreutils 9 printf, src/printf.c print_esc), \/ and the one-letter escapes;
//   - HTML character references (&#65; &#x4b; &amp;), decoded as html.UnescapeString does;
//   - hex bytes separated by colons (5b:64:65:…, openssl's and xxd -i-like listings).
//
// The unit decoded is the line the escapes are on (one line holds a whole file encoded this
// way: its newlines are escaped too). Cheap gates first, on literal signs. Backslash escapes and
// character references: a run of at least minHidden consecutive escapes standing for letters or
// digits (which no encoder writes unless told to escape everything: JSON's \u00e9 and \u003c,
// HTML's &#39; never count) is at least 32 characters long, so only one offset in
// encodedSample is looked at first, as for base64 runs. %-encoding: at each '%' (IndexByte),
// an escape of a newline (a file encoded whole), or of '=', ':', a double quote or an
// apostrophe touching a run of at least minSecretRun key or token characters with a letter
// and a digit among them (a key next to its escaped assignment; the %20, %3A and %2F of an
// ordinary URL touch words and path segments), opens the line, which is decoded when it has
// at least minPercent escapes.
// What decodes is searched only when it is text.
const (
	minHidden    = 8
	minPercent   = 3
	minSecretRun = 16
	// minColonBytes: a colon-hex run of fewer bytes (a MAC address, an IPv6 address) is not
	// looked at; at this length (47 characters) every run holds an offset the sampling looks at
	minColonBytes = 16
)

// escapedValues are the escaped lines and colon-hex runs of a fragment that decode to text.
func escapedValues(chunk string) []encValue {
	out := escapeRuns(chunk)
	out = append(out, percentLines(chunk)...)
	out = append(out, colonHexRuns(chunk)...)
	return out
}

// lineAround is the line holding offset i: its start, and its end (its newline, or the chunk's
// end).
func lineAround(chunk string, i int) (int, int) {
	start := strings.LastIndexByte(chunk[:i], '\n') + 1
	end := strings.IndexByte(chunk[i:], '\n')
	if end < 0 {
		return start, len(chunk)
	}
	return start, i + end
}

// escClass are the bytes of backslash escapes and numeric character references.
var escClass = func() (t [256]bool) {
	for _, c := range "\\&#;xXuU0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// escAt is the length of the backslash escape or numeric character reference at s[p:] (0:
// none), and whether it stands for a letter or a digit.
func escAt(s string, p int) (int, bool) {
	if p+3 >= len(s) {
		return 0, false
	}
	switch s[p] {
	case '\\':
		switch s[p+1] {
		case 'x':
			if v := hexValue(s, p+2, 2); v >= 0 {
				return 4, alnum(v)
			}
		case 'u':
			if v := hexValue(s, p+2, 4); v >= 0 {
				return 6, alnum(v)
			}
		case '0', '1', '2', '3':
			if v := octValue(s, p+1); v >= 0 {
				return 4, alnum(v)
			}
		}
	case '&':
		if s[p+1] != '#' {
			return 0, false
		}
		j, base := p+2, 10
		if s[j] == 'x' || s[j] == 'X' {
			j, base = j+1, 16
		}
		v, k := 0, j
		for k < len(s) && k-p < maxRefLen && (hexChar[s[k]] && base == 16 || '0' <= s[k] && s[k] <= '9') {
			d, _ := unhex(s[k])
			v = v*base + int(d)
			k++
		}
		if k > j && k < len(s) && s[k] == ';' {
			return k + 1 - p, alnum(v)
		}
	}
	return 0, false
}

// maxRefLen bounds a numeric character reference looked at (&#x0004b; is nine characters).
const maxRefLen = 9

// escapeRuns are the lines holding a run of consecutive backslash escapes or numeric character
// references at least minHidden of which stand for letters or digits, decoded. Such a run is at
// least 32 characters long (eight \xHH), so only every encodedSample-th offset is looked at
// first: one that is a byte of an escape is walked back to the run's first escape, and the run
// is counted from there.
func escapeRuns(chunk string) []encValue {
	if strings.IndexByte(chunk, '\\') < 0 && strings.IndexByte(chunk, '&') < 0 {
		return nil // no escape's lead byte: two SIMD scans instead of the sampling
	}
	var out []encValue
	line, lineAt := 1, 0
	for i := encodedSample - 1; i < len(chunk); i += encodedSample {
		if !escClass[chunk[i]] {
			continue
		}
		// the escape holding offset i
		start := -1
		for back := 0; back <= maxRefLen && back <= i; back++ {
			if c := chunk[i-back]; c == '\\' || c == '&' {
				if n, _ := escAt(chunk, i-back); n > back {
					start = i - back
				}
				break
			}
		}
		if start < 0 {
			continue
		}
		// back to the run's first escape
		for walked := true; walked; {
			walked = false
			for n := 4; n <= maxRefLen+1 && n <= start; n++ {
				if m, _ := escAt(chunk, start-n); m == n {
					start, walked = start-n, true
					break
				}
			}
		}
		hidden, end := 0, start
		for {
			n, h := escAt(chunk, end)
			if n == 0 {
				break
			}
			if h {
				hidden++
			}
			end += n
		}
		if hidden < minHidden {
			i = max(i, end-encodedSample) // the next sample past the run
			continue
		}
		ls, le := lineAround(chunk, start)
		decode, how := backslashLine, "backslash-unescaped"
		if chunk[start] == '&' {
			decode, how = htmlLine, "HTML-unescaped"
		}
		if text, ok := decode(strings.TrimSuffix(chunk[ls:le], "\r")); ok {
			line += strings.Count(chunk[lineAt:ls], "\n")
			lineAt = ls
			out = append(out, encValue{text: text + "\n", line: line, how: how})
		}
		i = max(i, le-encodedSample) // the next sample past the line
	}
	return out
}

// percentLines are the %-encoded lines of a fragment, decoded. The gate is an escape of a
// newline (a file encoded whole), or of '=', ':', a double quote or an apostrophe (an
// assignment) that touches a run of minSecretRun characters of a key or token, with a letter
// and a digit among them.
func percentLines(chunk string) []encValue {
	var out []encValue
	line, lineAt := 1, 0
	for pos := 0; pos+2 < len(chunk); {
		i := strings.IndexByte(chunk[pos:], '%')
		if i < 0 {
			break
		}
		i += pos
		pos = i + 1
		if !percentGate(chunk, i) {
			continue
		}
		ls, le := lineAround(chunk, i)
		if text, ok := percentLine(strings.TrimSuffix(chunk[ls:le], "\r")); ok {
			line += strings.Count(chunk[lineAt:ls], "\n")
			lineAt = ls
			out = append(out, encValue{text: text + "\n", line: line, how: "percent-decoded"})
		}
		pos = le + 1
	}
	return out
}

// percentGate says whether the %-escape at s[i] (s[i] == '%') opens its line to decoding.
func percentGate(s string, i int) bool {
	if i+2 >= len(s) {
		return false
	}
	switch s[i+1] {
	case '0':
		return s[i+2] == 'A' || s[i+2] == 'a' || s[i+2] == 'D' || s[i+2] == 'd'
	case '2':
		if s[i+2] != '2' && s[i+2] != '7' {
			return false
		}
	case '3':
		if s[i+2] != 'A' && s[i+2] != 'a' && s[i+2] != 'D' && s[i+2] != 'd' {
			return false
		}
	default:
		return false
	}
	return secretRun(s, i, -1) || secretRun(s, i+3, 1)
}

// secretChar is a character of a key or token.
func secretChar(c byte) bool {
	return alnum(int(c)) || c == '-' || c == '_' || c == '.' || c == '/' || c == '+'
}

// secretRun says whether the characters before offset i (dir -1) or from it (dir 1) are a run
// of at least minSecretRun characters of a key or token with a letter and a digit among them.
func secretRun(s string, i, dir int) bool {
	n, letter, digit := 0, false, false
	for k := i; n < 4*minSecretRun; n++ {
		if dir < 0 {
			k--
		}
		if k < 0 || k >= len(s) || !secretChar(s[k]) {
			break
		}
		c := s[k]
		letter = letter || 'a' <= c|0x20 && c|0x20 <= 'z'
		digit = digit || '0' <= c && c <= '9'
		if dir > 0 {
			k++
		}
	}
	return n >= minSecretRun && letter && digit
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hexValue is the value of the n hex digits at s[i:], or -1.
func hexValue(s string, i, n int) int {
	if i+n > len(s) {
		return -1
	}
	v := 0
	for k := i; k < i+n; k++ {
		d, ok := unhex(s[k])
		if !ok {
			return -1
		}
		v = v<<4 | int(d)
	}
	return v
}

func alnum(r int) bool {
	return '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

// backslashLine decodes the backslash escapes of a line when at least minHidden of them stand
// for letters or digits. The escapes are those of C (printf(1), echo -e, $'…'), Python and
// JavaScript string literals and JSON: \xHH (a byte), \uHHHH (a UTF-16 unit, surrogate pairs
// joined, as encoding/json's unquote does), \U00HHHHHH, \NNN (octal, printf), and \n \t \r \/
// \\ \" \' and the other one-letter ones; anything else stays as written.
func backslashLine(s string) (string, bool) {
	hidden := 0
	for at := 0; hidden < minHidden; {
		i := strings.IndexByte(s[at:], '\\')
		if i < 0 || at+i+1 >= len(s) {
			break
		}
		i += at
		v := -1
		switch s[i+1] {
		case 'x':
			v = hexValue(s, i+2, 2)
		case 'u':
			v = hexValue(s, i+2, 4)
		case '0', '1':
			v = octValue(s, i+1)
		}
		if alnum(v) {
			hidden++
		}
		at = i + 2
	}
	if hidden < minHidden {
		return "", false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			i++
			continue
		}
		n := 2 // the escape's length
		switch e := s[i+1]; e {
		case 'x':
			if v := hexValue(s, i+2, 2); v >= 0 {
				b, n = append(b, byte(v)), 4
			} else {
				b = append(b, s[i:i+2]...)
			}
		case 'u', 'U':
			digits := 4
			if e == 'U' {
				digits = 8
			}
			v := hexValue(s, i+2, digits)
			if v < 0 || v > utf8.MaxRune {
				b = append(b, s[i:i+2]...)
				break
			}
			n = 2 + digits
			if e == 'u' && 0xd800 <= v && v < 0xdc00 && i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if lo := hexValue(s, i+8, 4); 0xdc00 <= lo && lo < 0xe000 {
					v, n = 0x10000+(v-0xd800)<<10+(lo-0xdc00), 12
				}
			}
			b = utf8.AppendRune(b, rune(v)) // a lone surrogate: U+FFFD
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case '0', '1', '2', '3':
			if v := octValue(s, i+1); v >= 0 {
				b, n = append(b, byte(v)), 4
			} else {
				b = append(b, s[i:i+2]...)
			}
		case '\\', '/', '"', '\'':
			b = append(b, e)
		default:
			b = append(b, s[i:i+2]...)
		}
		i += n
	}
	return string(b), textBytes(b)
}

// octValue is the value of the three octal digits at s[i:] (at most 0377), or -1.
func octValue(s string, i int) int {
	if i+3 > len(s) {
		return -1
	}
	v := 0
	for k := i; k < i+3; k++ {
		if s[k] < '0' || s[k] > '7' {
			return -1
		}
		v = v<<3 | int(s[k]-'0')
	}
	if v > 0xff {
		return -1
	}
	return v
}

// htmlLine decodes the character references of a line (html.UnescapeString, the HTML5 rules)
// when at least minHidden of them are numeric references to letters or digits.
func htmlLine(s string) (string, bool) {
	hidden := 0
	for at := 0; hidden < minHidden; {
		i := strings.Index(s[at:], "&#")
		if i < 0 {
			break
		}
		i += at
		v, j := -1, i+2
		if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
			j++
			k := j
			for k < len(s) && k-j < 6 && hexChar[s[k]] {
				k++
			}
			if k > j {
				v = hexValue(s, j, k-j)
			}
			j = k
		} else {
			k := j
			for k < len(s) && k-j < 7 && '0' <= s[k] && s[k] <= '9' {
				v = max(v, 0)*10 + int(s[k]-'0')
				k++
			}
			j = k
		}
		if alnum(v) {
			hidden++
		}
		at = max(j, i+2)
	}
	if hidden < minHidden {
		return "", false
	}
	t := html.UnescapeString(s)
	return t, textBytes([]byte(t))
}

// percentLine decodes the %-escapes of a line (RFC 3986 §2.1; a '%' not followed by two hex
// digits stays as it is) when it has at least minPercent of them. '+' is a space
// (application/x-www-form-urlencoded, quote_plus) unless the line writes spaces as %20 (quote,
// curl --data-urlencode), where a '+' is itself.
func percentLine(s string) (string, bool) {
	escapes := 0
	for at := 0; at < len(s) && escapes < minPercent; {
		i := strings.IndexByte(s[at:], '%')
		if i < 0 {
			break
		}
		i += at
		if hexValue(s, i+1, 2) >= 0 {
			escapes++
		}
		at = i + 1
	}
	if escapes < minPercent {
		return "", false
	}
	plusIsSpace := !strings.Contains(s, "%20")
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && hexValue(s, i+1, 2) >= 0:
			b = append(b, byte(hexValue(s, i+1, 2)))
			i += 2
		case c == '+' && plusIsSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), textBytes(b)
}

// colonHexRuns are the runs of hex bytes separated by colons (5b:64:65:…) of at least
// minColonBytes bytes that decode to text. Only every encodedSample-th offset is looked at
// first, as for base64 runs.
func colonHexRuns(chunk string) []encValue {
	var out []encValue
	line, lineAt := 1, 0
	colonHex := func(c byte) bool { return hexChar[c] || c == ':' }
	for i := encodedSample - 1; i < len(chunk); {
		// inside a run, one of any three consecutive characters is a colon
		if !colonHex(chunk[i]) || chunk[i] != ':' && (i+1 >= len(chunk) || chunk[i+1] != ':') && (i+2 >= len(chunk) || chunk[i+2] != ':') {
			i += encodedSample
			continue
		}
		from, to := i, i+1
		for from > 0 && colonHex(chunk[from-1]) {
			from--
		}
		for to < len(chunk) && colonHex(chunk[to]) {
			to++
		}
		// the longest well-formed run inside: HH(:HH)*, from a pair's start
		if to-from < 3*minColonBytes-1 {
			// too short to hold minColonBytes bytes
		} else if b, at, ok := colonBytes(chunk[from:to]); ok && len(b) >= minColonBytes {
			if text, how, ok := asText(b, 0); ok {
				line += strings.Count(chunk[lineAt:from+at], "\n")
				lineAt = from + at
				out = append(out, encValue{text: text + "\n", line: line, how: layered(how, "colon-hex")})
			}
		}
		i = to + (encodedSample-1-to%encodedSample+encodedSample)%encodedSample
	}
	return out
}

// colonBytes decodes s as HH:HH:…:HH after a leading colon or so (a run may start with the
// end of a label: "fp:5b:64"), or reports false; at is where the bytes start in s.
func colonBytes(s string) ([]byte, int, bool) {
	s = strings.TrimRight(s, ":")
	at := 0
	for at < len(s) && s[at] == ':' {
		at++
	}
	for n := 0; n < 2 && at < len(s) && (len(s)-at)%3 != 2; n++ {
		at++
	}
	body := s[at:]
	if len(body) < 2 || len(body)%3 != 2 {
		return nil, 0, false
	}
	b := make([]byte, 0, len(body)/3+1)
	for k := 0; k < len(body); k += 3 {
		if k+2 < len(body) && body[k+2] != ':' {
			return nil, 0, false
		}
		v, err := hex.DecodeString(body[k : k+2])
		if err != nil {
			return nil, 0, false
		}
		b = append(b, v[0])
	}
	return b, at, true
}
