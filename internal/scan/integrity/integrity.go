// Package integrity records a file-integrity baseline of an image during the streaming pass:
// path, size, mode, owner and SHA-256 of every regular file, written as JSON so that drift on
// deployed machines can be checked against what was shipped (AIDE, osquery, a script).
package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Entry is one file of the baseline.
type Entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mode   string `json:"mode"` // e.g. -rwxr-xr-x
	UID    uint32 `json:"uid"`
	GID    uint32 `json:"gid"`
	SHA256 string `json:"sha256,omitempty"`
	// NotHashed says why a file has no digest.
	NotHashed string `json:"not_hashed,omitempty"`
}

// Manifest is the baseline document.
type Manifest struct {
	Image   string    `json:"image"`
	Created time.Time `json:"created"`
	Files   []Entry   `json:"files"`
	// Complete is false when the pass could not read everything; Unread then names what was
	// left out (directories, files, partitions), up to the pass's limit, and UnreadCount counts all.
	Complete    bool             `json:"complete"`
	Unread      []scan.FileError `json:"unread,omitempty"`
	UnreadCount int64            `json:"unread_count,omitempty"`
}

// Scanner hashes every file; it is a scan.Scanner.
type Scanner struct {
	path  string // where Finish writes the baseline
	mu    sync.Mutex
	files []Entry
}

// New returns an empty baseline.
func New() *Scanner { return &Scanner{} }

// Name implements scan.Scanner.
func (s *Scanner) Name() string { return "integrity" }

// NewWorker implements scan.Scanner.
func (s *Scanner) NewWorker() (scan.Worker, error) { return &worker{s: s, h: sha256.New()}, nil }

type worker struct {
	s *Scanner
	h hash.Hash
}

func (w *worker) Close() error { return nil }

func (w *worker) Begin(f *scan.File) (scan.Sink, error) {
	if f.FSSize > 0 && f.Size > f.FSSize {
		// hashing it would mean hashing its holes: a 1 TiB sparse file is 1 TiB of zeros to
		// digest. Its entry says why it has no digest; the pass reports it as not hashed.
		why := fmt.Sprintf("larger (%d bytes) than its filesystem (%d bytes): sparse, or its size is corrupt", f.Size, f.FSSize)
		w.s.add(f, "", why)
		return nil, fmt.Errorf("not hashed for the integrity manifest: %s", why)
	}
	w.h.Reset()
	return &sink{w: w, f: f}, nil
}

type sink struct {
	w *worker
	f *scan.File
	n int64
}

func (k *sink) Write(p []byte) error {
	k.w.h.Write(p)
	k.n += int64(len(p))
	return nil
}

func (k *sink) End() error {
	if k.n != k.f.Size {
		// a read error, reported by the pass; no digest of a partial file
		k.w.s.add(k.f, "", fmt.Sprintf("only %d of its %d bytes could be read", k.n, k.f.Size))
		return nil
	}
	k.w.s.add(k.f, hex.EncodeToString(k.w.h.Sum(nil)), "")
	return nil
}

// add records a file's entry: its digest, or why it has none.
func (s *Scanner) add(f *scan.File, digest, notHashed string) {
	e := Entry{Path: f.Path, Size: f.Size, Mode: f.Mode.String(), UID: f.UID, GID: f.GID, SHA256: digest, NotHashed: notHashed}
	s.mu.Lock()
	s.files = append(s.files, e)
	s.mu.Unlock()
}

// Manifest returns the baseline, sorted by path.
func (s *Scanner) Manifest(image string, created time.Time) *Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := append([]Entry(nil), s.files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return &Manifest{Image: image, Created: created.UTC(), Files: files, Complete: true}
}

// Write writes the manifest as indented JSON.
func (m *Manifest) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
