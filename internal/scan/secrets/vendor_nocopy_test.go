package secrets

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// streamHeld streams content (64 KiB, then 1 MiB reads, as the pass does) to a fresh sink for
// the package's file /etc/app.conf recorded with digest want, with Data data (nil: a member of
// an archive, whose bytes are kept), and returns the findings, End's error and how many bytes
// the worker's held buffer can take after End (what was copied to hold the file).
func streamHeld(t *testing.T, content []byte, want string, data io.ReaderAt) ([]Finding, error, int) {
	t.Helper()
	s, err := New(Options{FingerprintKey: []byte("k"), Vendor: map[string]string{"/etc/app.conf": want}})
	if err != nil {
		t.Fatal(err)
	}
	wk, _ := s.NewWorker()
	k, err := wk.Begin(&scan.File{Path: "/etc/app.conf", Size: int64(len(content)), Data: data})
	if err != nil || k == nil {
		t.Fatalf("Begin: %v %v", err, k)
	}
	for off, n := 0, 64<<10; off < len(content); off, n = off+n, 1<<20 {
		if err := k.Write(content[off:min(len(content), off+n)]); err != nil {
			t.Fatal(err)
		}
	}
	err = k.End()
	return s.Findings(), err, cap(wk.(*worker).raw)
}

// TestVendorFileHeldWithoutCopy: a package's file of the image (one with Data) that fits the
// 16 MiB held for its digest is not copied while it streams: unchanged, it cost its digest
// only; changed, it is read again from Data and searched in one piece, exactly as the bytes a
// member keeps are (a UTF-16 file, whose switch to its strings depends on the pieces it is
// handed, gives the same findings either way); a read that fails then is an error, never a
// silent pass.
func TestVendorFileHeldWithoutCopy(t *testing.T) {
	text := "password = Ear1yS3cretPassw0rd\n" + strings.Repeat("# a distribution's default configuration line\n", (3<<20)/48) + "password = Sup3rS3cretPassw0rd\n"
	// UTF-16LE text whose last MiB holds a run of ASCII bytes: handed whole, the file is
	// searched as its strings; handed 1 MiB at a time, its first MiB as decoded text
	u := utf16.Encode([]rune(text))
	wide := make([]byte, 0, 2*len(u)+16)
	for _, c := range u {
		wide = append(wide, byte(c), byte(c>>8))
	}
	wide = append(wide, []byte("ASCIIRUNASCIIRUN")...)
	for _, tc := range []struct {
		name    string
		content []byte
	}{{"text", []byte(text)}, {"UTF-16", wide}} {
		sum := md5.Sum(tc.content)
		digest := hex.EncodeToString(sum[:])
		found, err, held := streamHeld(t, tc.content, digest, bytes.NewReader(tc.content))
		if err != nil || len(found) != 0 || held != 0 {
			t.Errorf("%s, unchanged: findings %v, error %v, %d bytes held; want nothing searched, nothing copied", tc.name, found, err, held)
		}
		const changed = "00000000000000000000000000000000"
		kept, err, _ := streamHeld(t, tc.content, changed, nil)
		if err != nil || len(kept) != 2 {
			t.Fatalf("%s, changed member: findings %+v, error %v; want both passwords", tc.name, kept, err)
		}
		reread, err, _ := streamHeld(t, tc.content, changed, bytes.NewReader(tc.content))
		if err != nil || len(reread) != len(kept) {
			t.Fatalf("%s, changed file: findings %+v, error %v; want %+v", tc.name, reread, err, kept)
		}
		for i := range kept {
			if reread[i] != kept[i] {
				t.Errorf("%s, changed file: finding %d is %+v, the kept bytes give %+v", tc.name, i, reread[i], kept[i])
			}
		}
		_, err, _ = streamHeld(t, tc.content, changed, flakyAt{bytes.NewReader(tc.content), 1 << 20})
		if err == nil || !strings.Contains(err.Error(), "injected read error") {
			t.Errorf("%s, changed, Data failing at 1 MiB: End returned %v, want the read error", tc.name, err)
		}
	}
}
