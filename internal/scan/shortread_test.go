package scan_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// failingRange is an image file whose bytes in [from, to) cannot be read, as a disk with a bad
// sector or a remote read that failed for good.
type failingRange struct {
	r        io.ReaderAt
	from, to int64
}

func (f failingRange) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if end <= f.from || off >= f.to {
		return f.r.ReadAt(p, off)
	}
	if off >= f.from {
		return 0, errors.New("input/output error")
	}
	n, err := f.r.ReadAt(p[:f.from-off], off)
	if err == nil {
		err = errors.New("input/output error")
	}
	return n, err
}

// allBytes wants every byte of every file.
type allBytes struct {
	mu  sync.Mutex
	got map[string]int64
}

func (a *allBytes) Name() string                          { return "all-bytes" }
func (a *allBytes) NewWorker() (scan.Worker, error)       { return a, nil }
func (a *allBytes) Close() error                          { return nil }
func (a *allBytes) Begin(f *scan.File) (scan.Sink, error) { return &allSink{a: a, path: f.Path}, nil }

type allSink struct {
	a    *allBytes
	path string
	n    int64
}

func (s *allSink) Write(p []byte) error { s.n += int64(len(p)); return nil }
func (s *allSink) End() error {
	s.a.mu.Lock()
	s.a.got[s.path] = s.n
	s.a.mu.Unlock()
	return nil
}

// A file whose bytes stop being readable partway is recorded as not seen, naming the file and
// the offset where reading stopped, for the scanner that still wanted it: the rest of the file
// was never searched, so no rule that needed it may pass.
func TestShortReadIsRecorded(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("log line of an application, nothing secret here\n", 6000)) // ~290 KiB
	if err := os.WriteFile(filepath.Join(src, "opt", "app.log"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	fsImg := testfixture.Filesystem(t, "ext4", src, "16M", "-b", "4096")
	out, err := exec.Command("/sbin/debugfs", "-R", "bmap /opt/app.log 20", fsImg).Output()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("bmap: %q", out)
	}
	f, err := os.Open(fsImg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := image.New(fsImg, failingRange{r: f, from: blk * 4096, to: (blk + 1) * 4096}, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	img, err := inspect.FromDisk(d)
	if err != nil {
		t.Fatal(err)
	}
	a := &allBytes{got: map[string]int64{}}
	stats, err := scan.Run(context.Background(), img, scan.Options{FirstChunk: 4096, Chunk: 64 << 10}, a)
	if err != nil {
		t.Fatal(err)
	}
	n, ex := stats.Missed("all-bytes")
	if n == 0 || len(ex) == 0 {
		t.Fatalf("a file that could not be read to its end is not recorded as unseen (got %d of %d bytes)", a.got["/opt/app.log"], len(data))
	}
	e := ex[0]
	if !strings.HasSuffix(e.Path, "opt/app.log") || !strings.Contains(e.Error, "read at offset") || !strings.Contains(e.Error, strconv.Itoa(len(data))) {
		t.Fatalf("unseen %+v: want the file, the offset and its size named", e)
	}
}
