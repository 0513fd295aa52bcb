package secrets

import (
	"encoding/hex"
	"strings"
)

// Hex dumps (issue #24, outside review of ENC2): a credentials file kept as the output of
// xxd(1), hexdump -C, od -tx1 or od -An -tx1 (a dump pasted into a script, a ticket, a heredoc
// fed to xxd -r). Each line is an offset, groups of hex digits and, for xxd and hexdump -C, the
// bytes as ASCII, which shows the text cut every 16 bytes, so a key is never whole on one line.
// The offsets and hex columns of consecutive lines are reassembled into the dumped bytes, which
// are searched as one value when they are text, else as their printable runs of minRun
// characters (a dump of a binary), on the dump's first line. The layouts, as the tools of
// xxd 2022-01-14 (vim 9, xxd.c main: "%08lx:" then groups of -g bytes, ASCII after two spaces,
// the last line padded), util-linux 2.39 hexdump -C (text/hexdump-display.c with the -C format
// string "%08.8_Ax\n" "%08.8_ax  " 8/1 "%02x " "  " 8/1 "%02x " "  |" 16/1 "%_p" "|\n": a final
// offset line, '*' for repeated lines) and coreutils 9 od (src/od.c: octal offsets of seven
// digits by default, none with -An, '*' for repeats, a final offset line) write them:
//
//	00000000: 5b64 6566 6175 6c74 5d0a 6177 735f 6163  [default].aws_ac   xxd
//	00000000  5b 64 65 66 61 75 6c 74  5d 0a 61 77 73 5f 61 63  |[default].aws_ac|   hexdump -C
//	0000000 5b 64 65 66 61 75 6c 74 5d 0a 61 77 73 5f 61 63   od -tx1
//	 5b 64 65 66 61 75 6c 74 5d 0a 61 77 73 5f 61 63   od -An -tx1
//	0000000 645b 6665 7561 746c 0a5d 7761 5f73 6361   hexdump, od -x (16-bit words)
//
// Groups of two or more bytes without xxd's colon are words in the machine's order
// (little-endian on the machines images are built on), so their bytes are tried swapped first.
// The line width comes from the first two offsets (hex after xxd's colon; else hex or octal,
// whichever gives the first line's byte count), or without offsets from the first line; every
// line but the last has that many bytes, and each offset follows the one before (after '*',
// the skipped lines repeat the one before it), else the dump ends there. The gate is the line's
// shape at its start: a line is parsed only when it starts (after at most eight blanks) with a
// hex digit or a blank, and a dump starts only with minDumpGroups groups.
const (
	minDumpGroups = 4
	minDumpBytes  = 16
	maxDumpIndent = 8
)

// dumpLine is one parsed line of a dump: its offset (when it has one, read as hex and, when its
// digits allow, as octal), whether a colon follows the offset (xxd), the hex digits of its
// groups in the order written (appended to the caller's buffer) and their width.
type dumpLine struct {
	hasOff, colon, octOK bool
	offHex, offOct       uint64
	width, groups        int
	digits               []byte
	bare, star           bool // the line is only an offset (a dump's end), or '*' (repeats)
}

// parseDumpLine parses a line as a dump line, appending its hex digits to buf; ok is false when
// it is not one.
func parseDumpLine(s string, buf []byte) (d dumpLine, ok bool) {
	i := 0
	for i < len(s) && i < maxDumpIndent && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	ws := i
	if i < len(s) && s[i] == '*' && strings.TrimSpace(s[i:]) == "*" {
		return dumpLine{star: true}, true
	}
	j := i
	for j < len(s) && j-i <= 16 && hexChar[s[j]] {
		j++
	}
	if n := j - i; n >= 6 && n <= 16 && (j == len(s) || s[j] == ':' || s[j] == ' ' || s[j] == '\t') {
		d.hasOff = true
		d.octOK = true
		for k := i; k < j; k++ {
			v, _ := unhex(s[k])
			d.offHex = d.offHex<<4 | uint64(v)
			if s[k] > '7' {
				d.octOK = false
			}
			d.offOct = d.offOct<<3 | uint64(v&7)
		}
		if j < len(s) && s[j] == ':' {
			d.colon = true
			j++
		}
		if strings.TrimSpace(s[j:]) == "" {
			d.bare = !d.colon
			return d, d.bare
		}
		i = j
	} else if ws == 0 {
		return d, false // no offset: od -An indents its lines
	}
	d.digits = buf
	for i < len(s) {
		gap := 0
		for i < len(s) && s[i] == ' ' {
			gap++
			i++
		}
		if gap == 0 && d.groups > 0 || gap > 2 || i == len(s) {
			break
		}
		k := i
		for k < len(s) && hexChar[s[k]] {
			k++
		}
		n := k - i
		if n == 0 || n%2 != 0 || k < len(s) && s[k] != ' ' {
			break
		}
		if d.groups == 0 {
			if n != 2 && n != 4 && n != 8 {
				return d, false
			}
			d.width = n
		} else if n != d.width {
			if d.colon && n < d.width {
				d.digits = append(d.digits, s[i:k]...) // xxd's last group of an odd count
				d.groups++
			}
			break
		}
		d.digits = append(d.digits, s[i:k]...)
		d.groups++
		i = k
	}
	return d, d.groups > 0
}

// dumpAt reads the hex dump that may start at the line [pos, end) of chunk: the dumped bytes
// as text and where the line after the dump starts; ok is false when no dump starts there.
func dumpAt(chunk string, pos, end int) (text string, next int, ok bool) {
	s := chunk[pos:end]
	// the shape first: six hex digits of an offset, or a blank (od -An, an indented dump)
	if len(s) < 12 || !blank(s[0]) && !(hexChar[s[0]] && hexChar[s[1]] && hexChar[s[2]] && hexChar[s[3]] && hexChar[s[4]] && hexChar[s[5]]) {
		return "", 0, false
	}
	s = strings.TrimSuffix(s, "\r")
	first, ok := parseDumpLine(s, nil)
	if !ok || first.groups < minDumpGroups {
		return "", 0, false
	}
	digits, next := assembleDump(chunk, pos, first)
	if digits == nil {
		return "", 0, false
	}
	text, ok = dumpText(digits, first)
	return text, next, ok
}

// assembleDump reads the dump whose first line (parsed: first) starts at pos: its hex digits
// in the order written, and where the line after it starts; nil when it is not a dump of at
// least minDumpBytes bytes.
func assembleDump(chunk string, pos int, first dumpLine) (digits []byte, next int) {
	lineOf := func(at int) (string, int) {
		e := strings.IndexByte(chunk[at:], '\n')
		if e < 0 {
			return strings.TrimSuffix(chunk[at:], "\r"), len(chunk)
		}
		return strings.TrimSuffix(chunk[at:at+e], "\r"), at + e + 1
	}
	_, at := lineOf(pos)
	have := len(first.digits) / 2 // bytes on the first line as parsed
	width := have                 // bytes per line
	hexOff := true
	digits = append([]byte(nil), first.digits...)
	if first.hasOff {
		// the width from the first two offsets
		if at >= len(chunk) {
			return nil, at
		}
		s, _ := lineOf(at)
		d, ok := parseDumpLine(s, nil)
		if !ok || !d.hasOff || d.colon != first.colon {
			return nil, at
		}
		switch {
		case d.offHex > first.offHex && d.offHex-first.offHex <= uint64(have) && (first.colon || d.offHex-first.offHex == uint64(have)):
			width = int(d.offHex - first.offHex)
		case !first.colon && first.octOK && d.octOK && d.offOct > first.offOct && d.offOct-first.offOct == uint64(have):
			width, hexOff = int(d.offOct-first.offOct), false
		default:
			return nil, at
		}
		digits = digits[:2*width]
	}
	if width*2%first.width != 0 {
		return nil, at
	}
	offOf := func(d dumpLine) uint64 {
		if hexOff {
			return d.offHex
		}
		return d.offOct
	}
	expect := offOf(first) + uint64(width)
	full := have >= width
	repeat := false
	for full && at < len(chunk) && len(digits) < 2*maxEncodedRun {
		s, after := lineOf(at)
		d, ok := parseDumpLine(s, digits)
		if !ok || d.hasOff != first.hasOff || d.colon != first.colon || !d.star && !d.bare && d.width != first.width {
			break
		}
		if d.star {
			repeat, at = true, after
			continue
		}
		if first.hasOff {
			off := offOf(d)
			if repeat && off > expect && (off-expect)%uint64(width) == 0 {
				// the lines '*' stands for: the line before it again
				last := digits[len(digits)-2*width:]
				for n := (off - expect) / uint64(width); n > 0 && len(digits) < 2*maxEncodedRun; n-- {
					digits = append(digits, last...)
				}
				expect = off
			}
			if off != expect {
				break
			}
		}
		repeat = false
		if d.bare {
			at = after
			break
		}
		got := len(d.digits) - len(digits) // the digits parseDumpLine appended
		if got > 2*width {
			got = 2 * width // an ASCII column that looks like hex
		}
		digits = d.digits[:len(digits)+got]
		expect += uint64(width)
		at = after
		full = got == 2*width
	}
	if len(digits) > 2*maxEncodedRun {
		digits = digits[:2*maxEncodedRun]
	}
	if len(digits)/2 < minDumpBytes {
		return nil, at
	}
	return digits, at
}

// dumpText is the dumped bytes (hex digits in the order written) as text: words without
// xxd's colon swapped to little-endian first, then as written; else the printable runs.
func dumpText(digits []byte, first dumpLine) (string, bool) {
	b := make([]byte, len(digits)/2)
	if _, err := hex.Decode(b, digits[:2*len(b)]); err != nil {
		return "", false
	}
	if w := first.width / 2; !first.colon && w > 1 {
		le := make([]byte, len(b))
		for i := 0; i+w <= len(b); i += w {
			for k := 0; k < w; k++ {
				le[i+k] = b[i+w-1-k]
			}
		}
		copy(le[len(b)/w*w:], b[len(b)/w*w:])
		if text, _, ok := asText(le, 0); ok {
			return text, true
		}
	}
	if text, _, ok := asText(b, 0); ok {
		return text, true
	}
	return printableRuns(b)
}

// printableRuns are the runs of at least minRun printable ASCII characters of b, a line each.
func printableRuns(b []byte) (string, bool) {
	var sb strings.Builder
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] >= 0x20 && b[j] < 0x7f {
			j++
		}
		if j-i >= minRun {
			sb.Write(b[i:j])
			sb.WriteByte('\n')
		}
		i = j + 1
	}
	return sb.String(), sb.Len() > 0
}
