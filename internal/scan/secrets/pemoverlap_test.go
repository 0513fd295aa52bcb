package secrets

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// openPEMKeyBackward is openPEMKey as it was written first, searching backward for each
// "-----": the reference the forward search must agree with.
func openPEMKeyBackward(chunk []byte) int {
	lo, win := pemWindow(chunk)
	for end := len(win); end > 0; {
		i := bytes.LastIndex(win[:end], []byte("-----"))
		if i < 0 {
			return -1
		}
		end = i
		rest := win[i+5:]
		switch {
		case hasFoldedPrefix(rest, "end"):
			return -1
		case hasFoldedPrefix(rest, "begin"):
			line := rest
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			if bytes.Contains(bytes.ToUpper(line), []byte("PRIVATE KEY")) {
				return lo + bytes.LastIndexByte(win[:i], '\n') + 1
			}
		}
	}
	return -1
}

// pemPieces are what chunks are made of: markers, dash runs of every length, key lines.
var pemPieces = []string{"-----BEGIN RSA PRIVATE KEY-----\n", "-----END RSA PRIVATE KEY-----\n", "------begin private key-----",
	"-----BEGIN CERTIFICATE-----\n", "---", "----", "-----", "------", "----------", "\n", "MIIEpAIBAAKCAQEA\n", "x", "END", "begin",
	"-----BEGIN OPENSSH PRIVATE KEY-----", "-----End", "--------BEGIN EC PRIVATE KEY", "PRIVATE KEY"}

func TestOpenPEMKeyMatchesBackwardSearch(t *testing.T) {
	rng := rand.New(rand.NewSource(24))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.Intn(40); k > 0; k-- {
			b.WriteString(pemPieces[rng.Intn(len(pemPieces))])
		}
		chunk := []byte(b.String())
		if got, want := openPEMKey(chunk), openPEMKeyBackward(chunk); got != want {
			t.Fatalf("openPEMKey(%q) = %d, the backward search %d", chunk, got, want)
		}
	}
	// the window bounds: a key opened before the last pemOverlapBytes, or pemOverlapLines, is not looked at
	big := []byte("-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("A", pemOverlapBytes) + "\n")
	if got, want := openPEMKey(big), openPEMKeyBackward(big); got != want || got != -1 {
		t.Errorf("a key opened before the window: %d, the backward search %d", got, want)
	}
	lines := []byte("x\n-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("A\n", pemOverlapLines))
	if got, want := openPEMKey(lines), openPEMKeyBackward(lines); got != want {
		t.Errorf("a key opened before the window's lines: %d, the backward search %d", got, want)
	}
}

func FuzzOpenPEMKey(f *testing.F) {
	f.Add([]byte("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"))
	f.Add([]byte("----------END-----BEGIN PRIVATE KEY--"))
	f.Fuzz(func(t *testing.T, chunk []byte) {
		if got, want := openPEMKey(chunk), openPEMKeyBackward(chunk); got != want {
			t.Fatalf("openPEMKey(%q) = %d, the backward search %d", chunk, got, want)
		}
	})
}

// BenchmarkOpenPEMKey: the forward search against the backward one on a fragment of each kind
// of the text, in the same run.
func BenchmarkOpenPEMKey(b *testing.B) {
	for _, kind := range benchKinds {
		frag := []byte(benchText(kind, fragmentBytes))
		b.Run(kind+"/backward", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				openPEMKeyBackward(frag)
			}
		})
		b.Run(kind+"/forward", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				openPEMKey(frag)
			}
		})
	}
}
