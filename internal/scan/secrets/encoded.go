package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
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
// to maxEncodedRun. One level only, as gitleaks' default decoding depth. URL-encoding needs no
// decoding: the rules match the encoded value as it is written (a password's %40 is part of it),
// and access keys and tokens are never escaped.
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

// encodedRuns returns the encoded values of a fragment that decode to text, each as the decoded
// text on the 1-based line of the fragment where its run starts.
func encodedRuns(chunk string) []decodedValue {
	var out []decodedValue
	line, lineAt := 1, 0 // the line of offset lineAt, counted on as runs are found
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
		if to-from >= minEncodedRun && to-from <= maxEncodedRun {
			start := from
			text, ok := "", false
			if b := wrappedBlock(chunk, from, to); b.lines > 1 {
				// the whole block, else (two values of one width on consecutive lines) the line
				if text, ok = decodeRun(b.joined, b.rest); ok {
					start, to = b.from, b.to
				}
			}
			if !ok {
				text, ok = decodeRun(chunk[from:to], chunk[to:])
			}
			if ok {
				line += strings.Count(chunk[lineAt:start], "\n")
				lineAt = start
				out = append(out, decodedValue{text: text + "\n", line: line})
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

// lineEnds says whether the line ends at i (LF, CRLF or the chunk's end); base64 padding may
// come first.
func lineEnds(chunk string, i int) bool {
	for n := 0; n < 2 && i < len(chunk) && chunk[i] == '='; n++ {
		i++
	}
	return i == len(chunk) || chunk[i] == '\n' || chunk[i] == '\r' && i+1 < len(chunk) && chunk[i+1] == '\n'
}

// decodeRun decodes a run (rest is what follows it, for the padding) when it is text, or when
// it is text once gunzipped (cloud-init's gz+b64), decoded from UTF-16LE (PowerShell's
// -EncodedCommand) or base64-decoded once more.
func decodeRun(run, rest string) (string, bool) { return decodeRunDepth(run, rest, 0) }

// maxGunzipped bounds what a gzip stream inside an encoded run is inflated to.
const maxGunzipped = 1 << 20

func decodeRunDepth(run, rest string, depth int) (string, bool) {
	allHex := len(run)%2 == 0
	for i := 0; allHex && i < len(run); i++ {
		allHex = hexChar[run[i]]
	}
	if allHex {
		if !promising(hexPrefix(run)) {
			return "", false
		}
		b, err := hex.DecodeString(run)
		if err != nil {
			return "", false
		}
		return asText(b, depth)
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(run, "-_") {
		if strings.ContainsAny(run, "+/") {
			return "", false // both alphabets: not one encoding
		}
		enc = base64.URLEncoding
	}
	pad := 0
	for pad < 2 && pad < len(rest) && rest[pad] == '=' {
		pad++
	}
	probe, err := enc.WithPadding(base64.NoPadding).DecodeString(run[:probeChars])
	if err != nil || !promising(probe) {
		return "", false
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
			return "", false
		}
	}
	return asText(b, depth)
}

// promising says whether the first decoded bytes of a run may be text: text, a gzip header, or
// UTF-16LE (ASCII with every second byte zero).
func promising(p []byte) bool {
	return textBytes(p) || len(p) >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 || utf16LEText(p) != nil
}

// asText is decoded bytes as text: inflated when they are gzip, decoded when they are UTF-16LE,
// and decoded once more when they are one base64 run themselves.
func asText(b []byte, depth int) (string, bool) {
	if len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", false
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxGunzipped))
		if len(out) == 0 || err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return "", false
		}
		b = out
	} else if t := utf16LEText(b); t != nil {
		b = t
	}
	if !textBytes(b) {
		return "", false
	}
	if depth == 0 {
		// base64 of base64: one run (and its padding) and nothing else
		t := strings.TrimSpace(string(b))
		run := strings.TrimRight(t, "=")
		if len(run) >= minEncodedRun && len(run) <= maxEncodedRun && len(t)-len(run) <= 2 && strings.Trim(run, b64Alphabet) == "" {
			if inner, ok := decodeRunDepth(run, t[len(run):], 1); ok {
				return inner, true
			}
		}
	}
	return string(b), true
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
