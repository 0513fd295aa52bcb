package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
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
			if text, ok := decodeRun(chunk[from:to], chunk[to:]); ok {
				line += strings.Count(chunk[lineAt:from], "\n")
				lineAt = from
				out = append(out, decodedValue{text: text + "\n", line: line})
			}
		}
		// the next sampled offset at or past the run's end (to > i: the loop moves on)
		i = to + (encodedSample-1-to%encodedSample+encodedSample)%encodedSample
	}
	return out
}

// decodeRun decodes a run (rest is what follows it, for the padding) when it is text.
func decodeRun(run, rest string) (string, bool) {
	allHex := len(run)%2 == 0
	for i := 0; allHex && i < len(run); i++ {
		allHex = hexChar[run[i]]
	}
	if allHex {
		if !textBytes(hexPrefix(run)) {
			return "", false
		}
		b, err := hex.DecodeString(run)
		if err != nil || !textBytes(b) {
			return "", false
		}
		return string(b), true
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
	if err != nil || !textBytes(probe) {
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
	if !textBytes(b) {
		return "", false
	}
	return string(b), true
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
