package secrets

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Secrets are stored encoded (issue #24, M8): a credentials file as one base64 line in a
// script (`echo W2RlZmF1bHRd… | base64 -d > ~/.aws/credentials`), an environment variable
// holding a base64 or hex dump of a config. Every run of at least minEncodedRun characters of
// the base64 alphabet (standard or URL-safe, padding after it) is looked at: a run that is all
// hex digits, of even length, is decoded as hex, any other as base64, and what decodes to text
// (valid UTF-8 without control characters besides tab, CR and LF) is searched as a value of its
// own, on the line of the run. The decision costs a few bytes: only the first probeChars of a
// run are decoded to see whether it is text, so an image embedded in CSS (a data: URI of
// megabytes), a certificate's body or a digest is dismissed at once; whole runs are decoded up
// to maxEncodedRun. One level only, as gitleaks' default decoding depth. A run of the base32
// alphabet alone is tried as base32 first. The other encodings (issue #24, outside review of
// ENC2: %-encoding, backslash escapes, HTML character references, colon hex, hex dumps, line
// continuations, YAML block scalars) are decoded by encodedValues' other passes, each behind a
// cheap gate on its literal signs.
const (
	minEncodedRun = 32
	probeChars    = 32 // eight base64 quanta, 16 bytes of hex: 24 or 16 bytes decoded
	maxEncodedRun = 1 << 20
	// encodedSample: any minEncodedRun consecutive offsets hold one that is encodedSample-1
	// modulo encodedSample, so only those offsets are looked at first: one byte in 32
	encodedSample = minEncodedRun
)

var (
	b64Char = func() (t [256]bool) {
		for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_" {
			t[c] = true
		}
		return t
	}()
	hexChar = func() (t [256]bool) {
		for _, c := range "0123456789abcdefABCDEF" {
			t[c] = true
		}
		return t
	}()
)

// encValue is a value decoded from a fragment: the decoded text, the 1-based line of the
// fragment where its encoded form starts, and how it was decoded ("base32-decoded", ...), for
// the finding's description.
type encValue struct {
	text string
	line int
	how  string
}

// encodedValues returns every value of a fragment written in one of the encodings people store
// secrets in: base64, hex and base32 runs (this file), escaped text (%-encoding, \x and \u
// escapes, HTML character references, colon-separated hex: encoded_escapes.go), hex dumps
// (xxd, hexdump -C, od: encoded_dump.go), and values cut by shell line continuations or
// folded in a YAML block scalar (encoded_lines.go), in the order of their lines.
func encodedValues(chunk string) []encValue {
	out := alphabetRuns(chunk)
	out = append(out, escapedValues(chunk)...)
	out = append(out, lineValues(chunk)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out
}

// A run longer than maxEncodedRun is decoded in windows of maxEncodedRun characters, each
// starting a multiple of four characters (whole base64 quanta, whole hex bytes) after the
// one before and overlapping it by runOverlap, so that a value cut by a window's end is whole
// in the next one; a run at the fragment's start may have been cut there (a line longer than a
// fragment is cut inside it, at any offset): when it does not decode where it starts, it is
// decoded from each of the next three offsets too, one of which starts a quantum.
const runOverlap = 4 << 10

// alphabetRuns are the base64, base32 and hex runs of a fragment that decode to text.
func alphabetRuns(chunk string) []encValue {
	var out []encValue
	line, lineAt := 1, 0 // the line of offset lineAt, counted on as runs are found
	emit := func(start int, text, how string) {
		line += strings.Count(chunk[lineAt:start], "\n")
		lineAt = start
		out = append(out, encValue{text: text + "\n", line: line, how: how})
	}
	failedFrom, failedTo := 0, 0 // the last wrapped block that did not decode whole
	for i := encodedSample - 1; i < len(chunk); {
		if !b64Char[chunk[i]] {
			i += encodedSample
			continue
		}
		from, to := i, i+1
		for from > 0 && b64Char[chunk[from-1]] {
			from--
		}
		for to < len(chunk) && b64Char[chunk[to]] {
			to++
		}
		switch {
		case to-from > maxEncodedRun:
			for w := from; ; w += maxEncodedRun - runOverlap {
				end := min(w+maxEncodedRun, to)
				if text, how, ok := decodeRun(chunk[w:end], chunk[end:]); ok {
					emit(from, text, how)
				}
				if end == to {
					break
				}
			}
		case to-from >= minEncodedRun:
			start := from
			text, how, ok := "", "", false
			if from < failedTo && from >= failedFrom {
				// a line of a block that did not decode whole: the line alone (a block is the
				// same from each of its lines, and building it again from each would be
				// quadratic in its lines)
			} else if b := wrappedBlock(chunk, from, to); b.lines > 1 {
				// the whole block, else (two values of one width on consecutive lines) the line
				if text, how, ok = decodeRun(b.joined, b.rest); ok {
					start, to = b.from, b.to
				} else {
					failedFrom, failedTo = b.from, b.to
				}
			}
			if !ok {
				text, how, ok = decodeRun(chunk[from:to], chunk[to:])
			}
			for k := 1; !ok && from == 0 && k < 4 && to-k >= minEncodedRun; k++ {
				text, how, ok = decodeRun(chunk[k:to], chunk[to:])
			}
			if ok {
				emit(start, text, how)
			}
		}
		// the next sampled offset at or past the run's end (to > i: the loop moves on)
		i = to + (encodedSample-1-to%encodedSample+encodedSample)%encodedSample
	}
	return out
}

// block is base64 wrapped over lines, as base64(1) (76 columns), openssl base64 (64) and PEM
// bodies write it: the lines joined, where the block starts and ends in the chunk, what follows
// it, and how many lines it has.
type block struct {
	joined, rest string
	from, to     int
	lines        int
}

// maxWrappedLines bounds the lines joined into one block (1 MiB of 76-column base64).
const maxWrappedLines = maxEncodedRun / 64

// wrappedBlock is the block the run [from, to) belongs to: a whole line of at least
// minEncodedRun characters (after the same indentation as its neighbours), a multiple of four,
// with the lines before it of the same length and indentation, and the lines after it too, the
// last one as long or shorter (padding after it). A run that is not a whole line is a block of
// one line.
func wrappedBlock(chunk string, from, to int) block {
	one := block{from: from, to: to, lines: 1}
	lineStart := strings.LastIndexByte(chunk[:from], '\n') + 1
	indent := chunk[lineStart:from]
	width := to - from
	if strings.Trim(indent, " \t") != "" || width%4 != 0 || !lineEnds(chunk, to) {
		return one
	}
	// a line of the block: [a, b) after the indentation, ending the line
	lineAt := func(start int) (a, b int, ok bool) {
		if !strings.HasPrefix(chunk[start:], indent) {
			return 0, 0, false
		}
		a = start + len(indent)
		b = a
		for b < len(chunk) && b64Char[chunk[b]] {
			b++
		}
		return a, b, b > a && lineEnds(chunk, b)
	}
	first := from
	for n := 0; n < maxWrappedLines && lineStart > 0; n++ {
		prev := strings.LastIndexByte(chunk[:lineStart-1], '\n') + 1
		a, b, ok := lineAt(prev)
		if !ok || b-a != width || strings.TrimRight(chunk[b:lineStart], "\r\n") != "" {
			break
		}
		first, lineStart = a, prev
	}
	var sb strings.Builder
	sb.WriteString(chunk[first:to])
	for n := 0; n < maxWrappedLines; n++ {
		next := to + 1
		if strings.HasPrefix(chunk[to:], "\r\n") {
			next = to + 2
		}
		if to < len(chunk) && chunk[to] == '=' || next > len(chunk) {
			break // padding ends a block
		}
		a, b, ok := lineAt(next)
		if !ok || b-a > width {
			break
		}
		sb.WriteString(chunk[a:b])
		to = b
		if b-a < width {
			break // a shorter line is the last
		}
	}
	joined := sb.String()
	lines := (len(joined) + width - 1) / width
	if lines < 2 {
		return one
	}
	return block{joined: joined, rest: chunk[to:], from: first, to: to, lines: lines}
}

// lineEnds says whether the line ends at i (LF, CRLF or the chunk's end); padding may come
// first (two characters of base64, six of base32).
func lineEnds(chunk string, i int) bool {
	for n := 0; n < 6 && i < len(chunk) && chunk[i] == '='; n++ {
		i++
	}
	return i == len(chunk) || chunk[i] == '\n' || chunk[i] == '\r' && i+1 < len(chunk) && chunk[i+1] == '\n'
}

// decodeRun decodes a run (rest is what follows it, for the padding) when it is text, or when
// it is text once gunzipped (cloud-init's gz+b64), decoded from UTF-16LE (PowerShell's
// -EncodedCommand) or base64-decoded once more; how names the decoding.
func decodeRun(run, rest string) (text, how string, ok bool) {
	if len(run) < probeChars {
		return "", "", false
	}
	return decodeRunDepth(run, rest, 0)
}

// maxGunzipped bounds what a gzip stream inside an encoded run is inflated to.
const maxGunzipped = 1 << 20

// base32 (RFC 4648 §6, what base32(1) of coreutils 9 writes (src/basenc.c, base32_encode, wrapped
// at 76 columns by wrap_write) and Python 3's base64.b32encode: A-Z and 2-7, '=' padding to
// eight characters) is told from base64 by its
// alphabet: a run of upper-case letters and the digits 2-7 only (or of lower-case ones and
// those digits, base32 | tr A-Z a-z) is tried as base32 first, then as base64. Text in base64
// always has lower-case letters, and any of 0, 1, 8, 9 rules base32 out.
func base32Run(run string) (lower, ok bool) {
	up, low := false, false
	for i := 0; i < len(run); i++ {
		switch c := run[i]; {
		case 'A' <= c && c <= 'Z':
			up = true
		case 'a' <= c && c <= 'z':
			low = true
		case '2' <= c && c <= '7':
		default:
			return false, false
		}
	}
	return low, up != low
}

func decodeBase32(run string, depth int) (string, string, bool) {
	lower, _ := base32Run(run)
	if lower {
		run = strings.ToUpper(run)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	probe, err := enc.DecodeString(run[:probeChars])
	if err != nil || !promising(probe) {
		return "", "", false
	}
	b, err := enc.DecodeString(run)
	if err != nil {
		// a run cut short: its whole quanta of eight characters
		if b, err = enc.DecodeString(run[:len(run)/8*8]); err != nil {
			return "", "", false
		}
	}
	text, how, ok := asText(b, depth)
	return text, layered(how, "base32"), ok
}

// layered names a decoding applied after an outer one: "base32" alone, or "gzip in base32".
func layered(inner, outer string) string {
	if inner == "" {
		return outer + "-decoded"
	}
	return inner + " in " + outer
}

func decodeRunDepth(run, rest string, depth int) (string, string, bool) {
	allHex := len(run)%2 == 0
	for i := 0; allHex && i < len(run); i++ {
		allHex = hexChar[run[i]]
	}
	if allHex {
		if !promising(hexPrefix(run)) {
			return "", "", false
		}
		b, err := hex.DecodeString(run)
		if err != nil {
			return "", "", false
		}
		text, how, ok := asText(b, depth)
		return text, layered(how, "hex"), ok
	}
	if _, ok := base32Run(run); ok {
		if text, how, ok := decodeBase32(run, depth); ok {
			return text, how, true
		}
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(run, "-_") {
		if strings.ContainsAny(run, "+/") {
			return "", "", false // both alphabets: not one encoding
		}
		enc = base64.URLEncoding
	}
	pad := 0
	for pad < 2 && pad < len(rest) && rest[pad] == '=' {
		pad++
	}
	probe, err := enc.WithPadding(base64.NoPadding).DecodeString(run[:probeChars])
	if err != nil || !promising(probe) {
		return "", "", false
	}
	full := run + rest[:pad]
	if len(full)%4 != 0 {
		full = strings.TrimRight(full, "=")
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.DecodeString(full)
	if err != nil {
		// a run cut short (the fragment ends in it, or a character that is not base64 follows a
		// partial quantum): what decodes of its whole quanta
		n := len(full) / 4 * 4
		if b, err = enc.WithPadding(base64.NoPadding).DecodeString(strings.TrimRight(full[:n], "=")); err != nil {
			return "", "", false
		}
	}
	text, how, ok := asText(b, depth)
	return text, layered(how, "base64"), ok
}

// promising says whether the first decoded bytes of a run may be text: text, a gzip header, or
// UTF-16LE (ASCII with every second byte zero).
func promising(p []byte) bool {
	return textBytes(p) || len(p) >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 || utf16LEText(p) != nil
}

// asText is decoded bytes as text: inflated when they are gzip, decoded when they are UTF-16LE,
// and decoded once more when they are one base64 run themselves; how names the inner layer
// ("" when there is none).
func asText(b []byte, depth int) (string, string, bool) {
	how := ""
	if len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", "", false
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxGunzipped))
		if len(out) == 0 || err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return "", "", false
		}
		b, how = out, "gzip"
	} else if t := utf16LEText(b); t != nil {
		b, how = t, "UTF-16LE"
	}
	if !textBytes(b) {
		return "", "", false
	}
	if depth == 0 {
		// base64 of base64: one run (and its padding) and nothing else
		t := strings.TrimSpace(string(b))
		run := strings.TrimRight(t, "=")
		if len(run) >= minEncodedRun && len(run) <= maxEncodedRun && len(t)-len(run) <= 2 && strings.Trim(run, b64Alphabet) == "" {
			if inner, innerHow, ok := decodeRunDepth(run, t[len(run):], 1); ok {
				return inner, strings.TrimSuffix(innerHow, "-decoded"), true
			}
		}
	}
	return string(b), how, true
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"

// utf16LEText is b decoded from UTF-16LE when it looks like it (even length, every second byte
// zero in at least nine tenths of the units, no unit zero), else nil.
func utf16LEText(b []byte) []byte {
	if len(b) < 8 {
		return nil
	}
	units := len(b) / 2
	zeros := 0
	for i := 1; i < units*2; i += 2 {
		if b[i] == 0 {
			zeros++
			if b[i-1] == 0 {
				return nil
			}
		}
	}
	if zeros*10 < units*9 {
		return nil
	}
	u := make([]uint16, units)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return []byte(string(utf16.Decode(u)))
}

func hexPrefix(run string) []byte {
	b, _ := hex.DecodeString(run[:probeChars])
	return b
}

// textBytes says whether b is text: valid UTF-8, no control character besides tab, CR and LF.
func textBytes(b []byte) bool {
	if !utf8.Valid(b) {
		// the probe may cut a character: allow up to three bytes of one at the end
		cut := len(b)
		for k := 0; k < 3 && cut > 0 && !utf8.Valid(b[:cut]); k++ {
			cut--
		}
		if !utf8.Valid(b[:cut]) || cut == 0 {
			return false
		}
		b = b[:cut]
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return len(b) > 0
}
