package secrets

import (
	"strings"
)

// Values cut over lines (issue #24, outside review of ENC2):
//
//   - a shell line continuation inside a value (export AWS_SECRET_ACCESS_KEY=wJalrXUtn\ then
//     FEMI/K7MDENG… on the next line): POSIX sh (XCU 2.2.1, as dash and bash implement it)
//     removes a backslash-newline pair before splitting words, so the value is whole. The
//     lines a run of continuations joins are searched as one line when at least one of the
//     continuations cuts a word (a character other than a blank before the backslash and after
//     the newline; the continuations of a long command, after a blank, join words and cut
//     none). The indentation of the next line is dropped when a word is cut: a value continued
//     in an indented script is meant whole (a guess that only ever joins more, never less).
//   - a base64 value in a YAML block scalar (key: | or key: >, with - + chomping or an
//     indentation digit), its lines of any width: the lines more indented than the key, all of
//     the base64 alphabet, are joined and decoded as one run (decoders skip the line breaks of
//     a literal block and the spaces folding puts in a folded one), when they are more than
//     one and at least minEncodedRun characters in all.
//
// The gates are literal, at a line's end: a backslash before the newline, a block header.

// maxJoinedLines bounds the lines one value is joined from.
const maxJoinedLines = fragmentLines

func blank(c byte) bool { return c == ' ' || c == '\t' }

// lineValues are the values found at a line's start or end, in one pass over the lines of the
// fragment: hex dumps (encoded_dump.go), runs of line continuations, YAML block scalars.
func lineValues(chunk string) []encValue {
	var out []encValue
	line := 1
	for pos := 0; pos < len(chunk); {
		end := strings.IndexByte(chunk[pos:], '\n')
		if end < 0 {
			end = len(chunk)
		} else {
			end += pos
		}
		next := end + 1
		if text, after, ok := dumpAt(chunk, pos, end); ok {
			out = append(out, encValue{text: text + "\n", line: line, how: "hex-dump-decoded"})
			next = max(next, after)
		} else if end > pos && (chunk[end-1] == '\\' || chunk[end-1] == '\r') && end < len(chunk) && continues(chunk, end) {
			text, after, ok := continuedAt(chunk, pos)
			if ok {
				out = append(out, encValue{text: text + "\n", line: line, how: "line continuations joined"})
			}
			next = max(next, after)
		} else if end > pos && chunk[end-1] <= '|' && yamlHeader(chunk[pos:end]) {
			if text, how, first, ok := yamlBlockAt(chunk, end+1, pos); ok {
				out = append(out, encValue{text: text + "\n", line: line + strings.Count(chunk[pos:first], "\n"), how: how + ", YAML block"})
			}
		}
		if next > len(chunk) {
			break
		}
		if next == end+1 {
			line++
		} else {
			line += strings.Count(chunk[pos:next], "\n")
		}
		pos = next
	}
	return out
}

// continuation says whether the line ending at the newline at nl ends with a continuation
// (an odd number of backslashes before the newline, or before a CR before it); the returned
// offset is the backslash's.
func continuation(chunk string, nl int) (int, bool) {
	e := nl
	if e > 0 && e <= len(chunk) && chunk[e-1] == '\r' {
		e--
	}
	n := 0
	for e-n-1 >= 0 && chunk[e-n-1] == '\\' {
		n++
	}
	return e - 1, n%2 == 1
}

// continues says whether the line ending at the newline at nl ends with a continuation.
func continues(chunk string, nl int) bool {
	_, ok := continuation(chunk, nl)
	return ok
}

// continuedAt joins the lines from the one at start that continuations join, when one of the
// continuations cuts a word; next is where the line after them starts.
func continuedAt(chunk string, start int) (text string, next int, ok bool) {
	var sb strings.Builder
	cut := false
	at := start
	for n := 0; n < maxJoinedLines; n++ {
		nl := strings.IndexByte(chunk[at:], '\n')
		if nl < 0 {
			sb.WriteString(chunk[at:])
			at = len(chunk)
			break
		}
		nl += at
		bs, ok := continuation(chunk, nl)
		if !ok {
			sb.WriteString(strings.TrimSuffix(chunk[at:nl], "\r"))
			at = nl + 1
			break
		}
		sb.WriteString(chunk[at:bs])
		next := nl + 1
		k := next
		if bs > at && !blank(chunk[bs-1]) {
			for k < len(chunk) && blank(chunk[k]) {
				k++
			}
			if k < len(chunk) && chunk[k] != '\n' && chunk[k] != '\r' && chunk[k] != '\\' {
				cut = true
			} else {
				k = next
			}
		}
		at = k
	}
	return sb.String(), at, cut
}

// yamlHeader says whether a line ends with a block scalar's header after a key or a list
// dash: "key: |", "- >-", "key: |2+".
func yamlHeader(s string) bool {
	k := len(s)
	for k > 0 && (blank(s[k-1]) || s[k-1] == '\r') {
		k--
	}
	for n := 0; n < 2 && k > 0 && (s[k-1] == '-' || s[k-1] == '+' || '1' <= s[k-1] && s[k-1] <= '9'); n++ {
		k--
	}
	if k < 3 || s[k-1] != '|' && s[k-1] != '>' || !blank(s[k-2]) {
		return false
	}
	return s[k-3] == ':' || s[k-3] == '-' || blank(s[k-3])
}

// yamlBlockAt decodes the block scalar whose lines start at from (its header's line starts at
// hdr) when its lines are base64: the decoded text, its decoding, and where its first line
// starts.
func yamlBlockAt(chunk string, from, hdr int) (text, how string, first int, ok bool) {
	keyIndent := 0
	for hdr+keyIndent < len(chunk) && blank(chunk[hdr+keyIndent]) {
		keyIndent++
	}
	var sb strings.Builder
	lines, at := 0, from
	first = from
	for n := 0; n < maxJoinedLines && at < len(chunk); n++ {
		e := strings.IndexByte(chunk[at:], '\n')
		if e < 0 {
			e = len(chunk)
		} else {
			e += at
		}
		s := strings.TrimRight(chunk[at:e], " \t\r")
		col := 0
		for col < len(s) && blank(s[col]) {
			col++
		}
		if col == len(s) {
			at = e + 1 // a blank line inside the block
			continue
		}
		if col <= keyIndent {
			break
		}
		v := s[col:]
		body := strings.TrimRight(v, "=")
		if strings.Trim(body, b64Alphabet) != "" || len(v)-len(body) > 6 {
			return "", "", 0, false
		}
		if lines == 0 {
			first = at
		}
		sb.WriteString(v)
		lines++
		at = e + 1
		if body != v {
			break // padding ends the value
		}
	}
	joined := sb.String()
	body := strings.TrimRight(joined, "=")
	if lines < 2 || len(body) < minEncodedRun || strings.Trim(body, b64Alphabet) != "" {
		return "", "", 0, false
	}
	text, how, ok = decodeRun(body, joined[len(body):])
	return text, how, first, ok
}
