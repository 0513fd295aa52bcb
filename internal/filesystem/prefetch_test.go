package filesystem_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// recordingReader counts the reads that reach the image file, the 4 KiB pages they touch, and
// how many were in flight at once (each read is held for delay, as a remote reader's would be).
type recordingReader struct {
	r     io.ReaderAt
	delay time.Duration

	mu             sync.Mutex
	reads          int
	bytes          int64
	pages          map[int64]bool
	inFlight, peak int
}

func (c *recordingReader) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.reads++
	c.bytes += int64(len(p))
	if c.pages == nil {
		c.pages = map[int64]bool{}
	}
	for pg := off / 4096; pg <= (off+int64(len(p))-1)/4096; pg++ {
		c.pages[pg] = true
	}
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	c.mu.Unlock()
	time.Sleep(c.delay)
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
	return n, err
}

func (c *recordingReader) reset() (reads int, pages map[int64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads, pages = c.reads, c.pages
	c.reads, c.bytes, c.pages, c.peak = 0, 0, nil, 0
	return reads, pages
}

func openRecorded(t *testing.T, img string, delay time.Duration) (filesystem.Volume, *recordingReader) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	rr := &recordingReader{r: f, delay: delay}
	v, err := ext4.Open(img, rr, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v, rr
}

// walkList is everything a Walk reports, with each entry's size (Info reads its inode).
func walkList(t *testing.T, tree *filesystem.Tree) []string {
	t.Helper()
	var out []string
	err := tree.Walk("", func(p string, d fs.DirEntry) error {
		info, err := d.Info()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		out = append(out, fmt.Sprintf("%s %v %d", p, info.Mode(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Prefetch reads the listings and inodes a Walk needs, several directories at once, and nothing
// else: the Walk after it reads nothing more from the image, on the root volume and on a volume
// mounted below it (also on a directory the root volume lacks), and lists what a Walk alone lists.
func TestPrefetchWarmsTheWalk(t *testing.T) {
	rootImg := testfixture.Filesystem(t, "ext4", sampleTree(t), "64M")
	small := t.TempDir()
	for _, d := range []string{"a/b/c", "d"} {
		if err := os.MkdirAll(filepath.Join(small, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(small, d, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mntImg := testfixture.Filesystem(t, "ext4", small, "8M")

	build := func(delay time.Duration) (*filesystem.Tree, *recordingReader, *recordingReader) {
		rv, rr := openRecorded(t, rootImg, delay)
		mv, mr := openRecorded(t, mntImg, delay)
		tree := filesystem.NewTree(rv)
		tree.Mount("/etc/ssh", mv) // over a directory the root volume has
		// the root volume has no /nowhere; a second opening, as Walk visits a volume once
		st, _ := os.Stat(mntImg)
		mv2, err := ext4.Open(mntImg, mr, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		tree.Mount("/nowhere", mv2)
		return tree, rr, mr
	}

	// a Walk alone: what it lists and which pages it reads
	tree, rr, mr := build(0)
	rr.reset()
	mr.reset()
	want := walkList(t, tree)
	_, walkRoot := rr.reset()
	_, walkMnt := mr.reset()

	// Prefetch first: held reads (2 ms each) overlap, and the pages read are the Walk's pages
	tree, rr, mr = build(2 * time.Millisecond)
	rr.reset()
	mr.reset()
	tree.Prefetch(context.Background(), "", 4)
	rr.mu.Lock()
	peak := rr.peak
	rr.mu.Unlock()
	if peak < 2 {
		t.Errorf("prefetch with 4 workers had at most %d read in flight, want several", peak)
	}
	pre, preRoot := rr.reset()
	preMnt, preMntPages := mr.reset()
	if pre == 0 || preMnt == 0 {
		t.Fatalf("prefetch read %d and %d times from the two volumes, want both read", pre, preMnt)
	}
	for pg := range preRoot {
		if !walkRoot[pg] {
			t.Errorf("prefetch read root page %d, which a Walk does not read", pg)
		}
	}
	for pg := range preMntPages {
		if !walkMnt[pg] {
			t.Errorf("prefetch read mounted page %d, which a Walk does not read", pg)
		}
	}
	got := walkList(t, tree)
	if n, _ := rr.reset(); n != 0 {
		t.Errorf("the Walk after Prefetch read the root volume %d times, want 0", n)
	}
	if n, _ := mr.reset(); n != 0 {
		t.Errorf("the Walk after Prefetch read the mounted volume %d times, want 0", n)
	}
	if len(got) != len(want) {
		t.Fatalf("walk after prefetch listed %d entries, alone %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("entry %d: %q after prefetch, %q alone", i, got[i], want[i])
		}
	}
	var sawNowhere bool
	for _, e := range got {
		sawNowhere = sawNowhere || strings.HasPrefix(e, "nowhere/d/f ")
	}
	if !sawNowhere {
		t.Error("the mount on a missing directory was not walked")
	}
}

// A cancelled Prefetch returns at once, having read (almost) nothing.
func TestPrefetchStopsWithItsContext(t *testing.T) {
	v, rr := openRecorded(t, testfixture.Filesystem(t, "ext4", sampleTree(t), "64M"), 5*time.Millisecond)
	tree := filesystem.NewTree(v)
	rr.reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() { tree.Prefetch(ctx, "", 4); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Prefetch did not return after its context ended")
	}
	if n, _ := rr.reset(); n > 8 {
		t.Errorf("a cancelled Prefetch read %d times", n)
	}
}

// A file read sequentially in small pieces (gzip through a 4 KiB bufio) reaches the image in a
// few growing reads, not one per piece; the bytes are the file's, at every read size, and no
// read goes past the file.
func TestSequentialReadAhead(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 12<<20+777)
	rand.Read(big)
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small"), big[:5000], 0o644); err != nil {
		t.Fatal(err)
	}
	v, rr := openRecorded(t, testfixture.Filesystem(t, "ext4", dir, "64M"), 0)
	tree := filesystem.NewTree(v)

	f, err := tree.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	rr.reset()
	got, err := io.ReadAll(bufio.NewReaderSize(f, 4096))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("read %d bytes, %v; want the file's %d", len(got), err, len(big))
	}
	// 64 KiB doubling to 4 MiB: 64K+128K+…+2M is under 4 MiB, then 4 MiB pieces
	if n, _ := rr.reset(); n > 12 {
		t.Errorf("a 12 MiB file read in 4 KiB pieces reached the image in %d reads, want at most 12", n)
	}

	f, _ = tree.Open("small")
	rr.reset()
	b := make([]byte, 100)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	rr.mu.Lock()
	read := rr.bytes
	rr.mu.Unlock()
	if read > 8192 {
		t.Errorf("100 bytes of a 5000-byte file read %d bytes of the image, want one block or two", read)
	}

	for _, name := range []string{"big", "small"} {
		want := big
		if name == "small" {
			want = big[:5000]
		}
		for _, size := range []int{1, 4096, 100_000, 5 << 20} {
			want := want
			f, _ := tree.Open(name)
			var out []byte
			buf := make([]byte, size)
			for {
				n, err := f.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s in %d-byte reads: %v", name, size, err)
				}
				if size == 1 && len(out) > 70_000 {
					want = want[:len(out)] // one-byte reads: the first refills are enough
					break
				}
			}
			if !bytes.Equal(out, want) {
				t.Errorf("%s in %d-byte reads: %d bytes, not the file's", name, size, len(out))
			}
		}
		f, _ := tree.Open(name)
		if err := iotest.TestReader(f, want); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
