package secrets

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// flakyAt is a file's Data whose reads fail from an offset on.
type flakyAt struct {
	r    io.ReaderAt
	from int64
}

func (f flakyAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.from {
		n, _ := f.r.ReadAt(p[:max(0, f.from-off)], off)
		return n, errors.New("injected read error")
	}
	return f.r.ReadAt(p, off)
}

// holeData is content with n zeros at offset at.
type holeData struct {
	content []byte
	at, n   int64
}

func (h holeData) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		o := off + int64(i)
		switch {
		case o < h.at:
			p[i] = h.content[o]
		case o < h.at+h.n:
			p[i] = 0
		case o-h.n < int64(len(h.content)):
			p[i] = h.content[o-h.n]
		default:
			return i, io.EOF
		}
	}
	return len(p), nil
}

// holeAt is where streamVendor tells its hole: past the 16 MiB a package's file is held for.
const holeAt = 64<<10 + 18<<20

// streamVendor streams content as the pass does (64 KiB, then 1 MiB reads; a hole of hole
// bytes of zeros told, not written, at holeAt when hole > 0) to a sink for a
// package's file with the digest want, the file's Data being data; it returns the findings, the
// fragments the detector searched, and End's error.
func streamVendor(t *testing.T, content []byte, want string, data io.ReaderAt, hole int64) ([]Finding, int64, error) {
	t.Helper()
	var searched atomic.Int64
	prev := verify
	verify = func(fd *fastDetector, raw, path string, found []report.Finding) {
		searched.Add(1)
		if prev != nil {
			prev(fd, raw, path, found)
		}
	}
	defer func() { verify = prev }()
	s, err := New(Options{FingerprintKey: []byte("k"), Vendor: map[string]string{"/etc/big.conf": want}})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.NewWorker()
	f := &scan.File{Path: "/etc/big.conf", Size: int64(len(content)) + hole, Data: data}
	k, err := w.Begin(f)
	if err != nil || k == nil {
		t.Fatalf("Begin: %v %v", err, k)
	}
	for off, n := 0, 64<<10; off < len(content); off, n = off+n, 1<<20 {
		if err := k.Write(content[off:min(len(content), off+n)]); err != nil {
			t.Fatal(err)
		}
		if hole > 0 && off+n == holeAt {
			if err := k.(scan.HoleSink).Hole(hole); err != nil {
				return nil, searched.Load(), err
			}
		}
	}
	err = k.End()
	return s.Findings(), searched.Load(), err
}

// TestLargeVendorFileHashedNotSearched: a package's file larger than the 16 MiB held for its
// digest is only hashed while it streams. Unchanged, nothing of it is searched (it used to be
// searched whole, then its findings dropped); changed, it is read again from its Data and
// searched whole, its secret found on its line; a read that fails then is an error (the file
// is not seen), never a silent pass.
func TestLargeVendorFileHashedNotSearched(t *testing.T) {
	body := "password = Ear1yS3cretPassw0rd\n" + strings.Repeat("# a distribution's long default configuration line\n", (20<<20)/51)
	content := []byte(body + "password = Sup3rS3cretPassw0rd\n")
	sum := md5.Sum(content)
	digest := hex.EncodeToString(sum[:])
	line := strings.Count(body, "\n") + 1

	found, searched, err := streamVendor(t, content, digest, bytes.NewReader(content), 0)
	if err != nil || len(found) != 0 || searched != 0 {
		t.Fatalf("unchanged: findings %v, %d fragments searched, error %v; want none searched", found, searched, err)
	}
	found, searched, err = streamVendor(t, content, "00000000000000000000000000000000", bytes.NewReader(content), 0)
	if err != nil || len(found) != 2 || found[0].Line != 1 || found[1].Line != line {
		t.Fatalf("changed: findings %+v, error %v; want the passwords on lines 1 and %d", found, err, line)
	}
	if min := int64(len(content) / fragmentBytes); searched < min {
		t.Errorf("changed: %d fragments searched, want the whole file (%d or more)", searched, min)
	}
	_, _, err = streamVendor(t, content, "00000000000000000000000000000000", flakyAt{bytes.NewReader(content), 18 << 20}, 0)
	if err == nil || !strings.Contains(err.Error(), "injected read error") {
		t.Errorf("changed, Data failing at 18 MiB: End returned %v, want the read error", err)
	}
	// without Data (a member of an archive) it is searched as it streams, as before
	found, searched, err = streamVendor(t, content, "00000000000000000000000000000000", nil, 0)
	if err != nil || len(found) != 2 || searched == 0 {
		t.Errorf("changed, no Data: findings %+v, %d searched, error %v", found, searched, err)
	}
	// a hole too large to hash gives up the digest: what was only hashed is searched then (the
	// secret before the hole is found), and the rest as it streams (and the one after it)
	hole := int64(maxHoleHash) + 1
	found, _, err = streamVendor(t, content, digest, holeData{content, holeAt, hole}, hole)
	if err != nil || len(found) != 2 {
		t.Errorf("a large hole: findings %+v, error %v; want both passwords", found, err)
	}
}
