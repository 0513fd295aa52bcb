package secrets_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
)

// feed streams content to a fresh scanner the way the pass does (a 64 KiB first read, then
// 1 MiB reads) and returns what it found.
func feed(t testing.TB, opts secrets.Options, path, content string) ([]secrets.Finding, *secrets.Scanner) {
	t.Helper()
	s, err := secrets.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	f := &scan.File{Path: path, Size: int64(len(content))}
	k, err := w.Begin(f)
	if err != nil || k == nil {
		t.Fatalf("Begin: %v, sink %v", err, k)
	}
	b := []byte(content)
	for off, n := 0, 64<<10; off < len(b); off, n = off+n, 1<<20 {
		end := min(len(b), off+n)
		if err := k.Write(b[off:end]); err != nil {
			if errors.Is(err, scan.ErrEnough) {
				break
			}
			t.Fatal(err)
		}
	}
	if err := k.End(); err != nil {
		t.Fatal(err)
	}
	return s.Findings(), s
}

// A credentials file padded far past any size limit is searched all the way (it used to be
// skipped as "over 16 MiB", and the rule passed), with the right line number.
func TestLargeFileIsSearchedToItsEnd(t *testing.T) {
	var b strings.Builder
	line := "# padding padding padding padding padding padding padding padding padding padding\n"
	lines := (20 << 20) / len(line)
	for range lines {
		b.WriteString(line)
	}
	b.WriteString("password = " + iniPassword + "\n")
	found, s := feed(t, secrets.Options{}, "/opt/app/app.conf", b.String())
	if len(found) != 1 || found[0].Line != lines+1 || found[0].Rule != "password-assignment" {
		t.Fatalf("want the password on line %d, got %+v", lines+1, found)
	}
	if searched, _, _ := s.Counts(); searched != 1 {
		t.Errorf("searched = %d, want 1", searched)
	}
}

// A private key that straddles a fragment boundary is found, once, wherever it starts.
func TestKeyAcrossFragmentsFoundOnce(t *testing.T) {
	key := sshKey(t, "")
	for _, before := range []int{0, 470, 500, 505, 511, 512, 900, 1000, 5000} {
		var b strings.Builder
		for i := range before {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		b.WriteString(key)
		b.WriteString("trailer\n")
		found, _ := feed(t, secrets.Options{}, "/root/key", b.String())
		if len(found) != 1 || found[0].Rule != "private-key" || found[0].Line != before+1 {
			t.Errorf("key after %d lines: want one private-key on line %d, got %+v", before, before+1, found)
		}
	}
}

// Every credential of a file of many is reported exactly once, at its own line, and one very
// long line (longer than a fragment) is searched too.
func TestManyFindingsEachOnce(t *testing.T) {
	var b strings.Builder
	const n = 3000
	for i := range n {
		fmt.Fprintf(&b, "password = Secr3tValue%05d\n", i)
	}
	b.WriteString(strings.Repeat("x", 100<<10) + " password = LongLin3Secret\n")
	found, _ := feed(t, secrets.Options{}, "/etc/app.conf", b.String())
	lines := map[int]int{}
	for _, f := range found {
		lines[f.Line]++
	}
	for i := 1; i <= n+1; i++ {
		if lines[i] != 1 {
			t.Fatalf("line %d reported %d times (of %d findings)", i, lines[i], len(found))
		}
	}
	if len(found) != n+1 {
		t.Errorf("want %d findings, got %d", n+1, len(found))
	}
}

// A file the package manager recorded and that is larger than what is held for the digest is
// still skipped when unmodified, and searched when modified.
func TestLargeVendorFile(t *testing.T) {
	content := strings.Repeat("# a distribution's long default configuration file\n", (17<<20)/51) + "password = " + iniPassword + "\n"
	sum := md5.Sum([]byte(content))
	found, s := feed(t, secrets.Options{Vendor: map[string]string{"/etc/big.conf": hex.EncodeToString(sum[:])}}, "/etc/big.conf", content)
	if _, vendor, _ := s.Counts(); len(found) != 0 || vendor != 1 {
		t.Errorf("unmodified vendor file: findings %+v, vendor count %d", found, vendor)
	}
	found, _ = feed(t, secrets.Options{Vendor: map[string]string{"/etc/big.conf": "00000000000000000000000000000000"}}, "/etc/big.conf", content)
	if len(found) != 1 {
		t.Errorf("modified vendor file: want its password, got %+v", found)
	}
}

// The search is linear in the file's size: a file of password lines four times larger takes
// about four times longer (it was quadratic: 1 MB took 18 s, 4 MB over 120 s).
func TestSearchIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	timeOf := func(size int) time.Duration {
		content := passwordLines(size)
		best := time.Duration(1 << 62)
		for range 2 {
			start := time.Now()
			feed(t, secrets.Options{}, "/etc/app.conf", content)
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := timeOf(64<<10), timeOf(512<<10)
	ratio := float64(large) / float64(small)
	t.Logf("64 KiB of password lines: %s; 512 KiB: %s; ratio %.1f (8 if linear, 64 if quadratic)", small, large, ratio)
	if ratio > 20 {
		t.Errorf("8x the bytes took %.1fx the time: the search is not linear", ratio)
	}
	if large > 30*time.Second {
		t.Errorf("512 KiB of password lines took %s", large)
	}
}

func passwordLines(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "password=Value%07d\n", i)
	}
	return b.String()
}

// BenchmarkPasswordLines reports the search's cost per byte on the worst kind of file (every
// line a finding) at two sizes; compare the ns/op ratio with the size ratio (4).
func BenchmarkPasswordLines(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20} {
		content := passwordLines(size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(content)))
			for b.Loop() {
				feed(b, secrets.Options{}, "/etc/app.conf", content)
			}
		})
	}
}

// A finding's fingerprint is stable under one key and cannot be recomputed from a guessed value
// without it (it used to be an unsalted SHA-256 of rule and secret).
func TestFingerprintIsKeyed(t *testing.T) {
	content := "password = " + iniPassword + "\n"
	a1, _ := feed(t, secrets.Options{FingerprintKey: []byte("key one, 32 bytes of randomness")}, "/etc/app.conf", content)
	a2, _ := feed(t, secrets.Options{FingerprintKey: []byte("key one, 32 bytes of randomness")}, "/opt/other.conf", content)
	b, _ := feed(t, secrets.Options{FingerprintKey: []byte("another key")}, "/etc/app.conf", content)
	if len(a1) != 1 || len(a2) != 1 || len(b) != 1 {
		t.Fatalf("findings %v %v %v", a1, a2, b)
	}
	if a1[0].Fingerprint != a2[0].Fingerprint {
		t.Error("the same secret under the same key has two fingerprints")
	}
	if a1[0].Fingerprint == b[0].Fingerprint {
		t.Error("the fingerprint does not depend on the key")
	}
	unsalted := sha256.Sum256([]byte("password-assignment\x00" + iniPassword))
	if a1[0].Fingerprint == hex.EncodeToString(unsalted[:8]) {
		t.Error("the fingerprint is a plain hash of the secret")
	}
	t.Setenv(secrets.FingerprintKeyEnv, "from the environment")
	k, note, err := secrets.FingerprintKey()
	if err != nil || string(k) != "from the environment" || !strings.Contains(note, secrets.FingerprintKeyEnv) {
		t.Errorf("key from the environment: %q %q %v", k, note, err)
	}
}

func TestRedactRevealsAtMostAQuarter(t *testing.T) {
	for _, s := range []string{"abc", "abcd", "abcde", "abcdefgh", "Sup3rS3cretPassw0rd", "päss wörd", strings.Repeat("x", 100)} {
		got := secrets.Redact(s)
		shown := strings.TrimRight(strings.SplitN(got, "…", 2)[0], "*")
		if len(shown)*4 > len(s) || len(shown) > 4 || !strings.HasPrefix(s, shown) {
			t.Errorf("Redact(%q) = %q reveals %d of %d bytes", s, got, len(shown), len(s))
		}
		if len(s) >= 4 && strings.Contains(got, s) {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

// utf16Bytes encodes s as UTF-16 (little- or big-endian), with or without a byte-order mark.
func utf16Bytes(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	var out []byte
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// UTF-16 text (what Windows tools and PowerShell write) is searched as text, whatever the
// byte order, with or without a byte-order mark, read in pieces that split its characters.
func TestUTF16TextIsSearched(t *testing.T) {
	for _, tc := range []struct {
		name           string
		text           string
		bigEndian, bom bool
	}{
		{"LE with BOM", "# 設定 🔑 exported by a Windows tool\r\n[database]\r\npassword = Utf16Passw0rd\r\n", false, true},
		{"LE without BOM", "# exported by a Windows tool, no mark\r\n[database]\r\npassword = Utf16Passw0rd\r\n", false, false},
		{"BE with BOM", "# 設定 🔑 exported by a Windows tool\r\n[database]\r\npassword = Utf16Passw0rd\r\n", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := utf16Bytes(tc.text, tc.bigEndian, tc.bom)
			s, err := secrets.New(secrets.Options{})
			if err != nil {
				t.Fatal(err)
			}
			w, _ := s.NewWorker()
			k, _ := w.Begin(&scan.File{Path: "/opt/app/settings.ini", Size: int64(len(b))})
			// a first read as the scan makes it (its first block), then odd pieces that split
			// characters and surrogate pairs
			if err := k.Write(b[:65]); err != nil {
				t.Fatal(err)
			}
			for off := 65; off < len(b); off += 7 {
				if err := k.Write(b[off:min(len(b), off+7)]); err != nil {
					t.Fatal(err)
				}
			}
			k.End()
			found := s.Findings()
			if len(found) != 1 || found[0].Rule != "password-assignment" || found[0].Line != 3 {
				t.Fatalf("findings %+v, want password-assignment on line 3", found)
			}
			if _, _, binary := s.Counts(); binary != 0 {
				t.Errorf("counted as binary")
			}
		})
	}
}
