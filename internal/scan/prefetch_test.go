package scan_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// remote stands for a blob's reader over a local file: it keeps 4 KiB pages and counts the
// range requests a blob reader would make: a read asks for each run of the pages it lacks (one
// under 64 KiB widened to 64 KiB), a hint for each run of missing pages, at most 4 MiB each.
type remote struct {
	f               *os.File
	size            int64
	mu              sync.Mutex
	pages           map[int64]bool
	requests, bytes int64
	hints           int64
	walk            int64 // the requests made before the content pass began (the walk's)
	walked          sync.Once
}

const rpage, rminFetch, rmaxFetch = 4 << 10, 64 << 10, 4 << 20

func (r *remote) fetchLocked(first, last int64, widen bool) {
	lastPage := (r.size - 1) / rpage
	run := int64(0)
	end := func() {
		if run > 0 {
			r.requests++
			r.bytes += run * rpage
		}
		run = 0
	}
	for i := first; i <= last; i++ {
		if r.pages[i] {
			end()
			continue
		}
		r.pages[i] = true
		run++
		if run*rpage >= rmaxFetch {
			end()
		}
	}
	if widen && run > 0 {
		for i := last + 1; i <= lastPage && run*rpage < rminFetch && !r.pages[i]; i++ {
			r.pages[i] = true
			run++
		}
	}
	end()
}

// endWalk records the requests made so far: the content pass starts (its first hint, or its
// first file).
func (r *remote) endWalk() {
	r.mu.Lock()
	r.walk = r.requests
	r.mu.Unlock()
}

func (r *remote) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > 0 && off < r.size {
		r.mu.Lock()
		r.fetchLocked(off/rpage, (min(off+int64(len(p)), r.size)-1)/rpage, len(p) < rminFetch)
		r.mu.Unlock()
	}
	return r.f.ReadAt(p, off)
}

func (r *remote) Prefetch(off, n int64) bool {
	if n <= 0 || off >= r.size {
		return true
	}
	r.walked.Do(r.endWalk)
	r.mu.Lock()
	r.hints++
	r.fetchLocked(off/rpage, (min(off+n, r.size)-1)/rpage, false)
	r.mu.Unlock()
	return true
}

// manyFiles makes an ext4 filesystem of files small files (16-60 KiB of random text: a read
// widened to 64 KiB does not cover the next ones) and one of big bytes, and returns its path.
func manyFiles(t *testing.T, files int, big int) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(29))
	for i := 0; i < files; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%20))
		os.MkdirAll(sub, 0o755)
		b := make([]byte, 16<<10+rng.Intn(44<<10))
		for j := range b {
			b[j] = 'a' + byte(rng.Intn(26))
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d.txt", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, big)
	rng.Read(b)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return testfixture.Filesystem(t, "ext4", dir, "96M")
}

// runRemote runs the pass with the counter over the filesystem image at path read through a
// remote; it returns the remote after the pass, and the requests the walk had made before the
// first file was read.
func runRemote(t *testing.T, path string, c *counter, opts scan.Options) (*remote, *scan.Stats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	r := &remote{f: f, size: st.Size(), pages: map[int64]bool{}}
	d, err := image.New(path, r, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	img, err := inspect.FromDisk(d)
	if err != nil {
		t.Fatal(err)
	}
	opts.Workers = 8
	c.begin = func() { r.walked.Do(r.endWalk) }
	stats, err := scan.Run(context.Background(), img, opts, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Errors) > 0 && c.stopAfter == 0 {
		t.Fatalf("unseen: %+v", stats.Errors)
	}
	return r, stats
}

// The pass hints the data of the files its workers read next to a volume whose reader takes
// hints: the 400 small files of a filesystem then cost a few coalesced requests instead of one
// each, the big file is read ahead (a request per 4 MiB, not per chunk), every byte still
// reaches the scanner, and the bytes fetched stay within the blob's budget of those read
// without hints.
func TestPrefetchCoalescesTheFilesData(t *testing.T) {
	const files, big = 400, 12 << 20
	path := manyFiles(t, files, big)
	var reqs, fetched [2]int64
	for i, off := range []bool{false, true} { // with hints, then without
		c := &counter{got: map[string]int64{}}
		r, st := runRemote(t, path, c, scan.Options{NoPrefetch: off})
		if int64(len(c.got)) != st.Files || st.Files != files+1 || st.BytesRead != st.Bytes {
			t.Fatalf("NoPrefetch %v: %d files seen of %d, %d of %d bytes read", off, len(c.got), st.Files, st.BytesRead, st.Bytes)
		}
		if c.got["partition 0:/big.bin"] != big {
			t.Fatalf("NoPrefetch %v: the big file gave %d bytes", off, c.got["partition 0:/big.bin"])
		}
		reqs[i], fetched[i] = r.requests-r.walk, r.bytes
		if !off && r.hints == 0 {
			t.Fatal("no hint reached the reader")
		}
		if off && r.hints != 0 {
			t.Fatalf("NoPrefetch: %d hints", r.hints)
		}
		t.Logf("NoPrefetch %v: %d requests (%d by the walk), %d bytes fetched, %d hints, %d bytes read", off, r.requests, r.walk, r.bytes, r.hints, st.BytesRead)
	}
	if reqs[0] >= files/10 {
		t.Errorf("with hints, the content of %d files cost %d requests, want fewer than %d", files, reqs[0], files/10)
	}
	if reqs[1] < files/2 {
		t.Errorf("without hints, the content of %d files cost only %d requests: the comparison proves nothing", files, reqs[1])
	}
	if ratio := float64(fetched[0]) / float64(fetched[1]); ratio > 1.1 {
		t.Errorf("with hints %d bytes were fetched, %.2f× the %d without", fetched[0], ratio, fetched[1])
	}
}

// A scanner that stops early does not make the hints fetch whole files: when it wanted the
// first 8 KiB of each file, what is fetched beyond what was read is at most the first reads'
// worth (FirstChunk+Chunk) of the one big file; when it wanted 3 MiB (past the first reads, so
// that the read-ahead ran), at most two read-ahead windows (4 MiB each) more.
func TestPrefetchOfAFileStoppedEarlyIsBounded(t *testing.T) {
	const big = 24 << 20
	path := manyFiles(t, 50, big)
	for _, stop := range []int64{8 << 10, 3 << 20} {
		c := &counter{got: map[string]int64{}, stopAfter: stop}
		r, st := runRemote(t, path, c, scan.Options{})
		if got := c.got["partition 0:/big.bin"]; got >= big || got < stop {
			t.Fatalf("the scanner read %d bytes of the big file", got)
		}
		limit := st.Bytes - big + (64<<10 + 1<<20) + 2<<20 // the small files, the big one's first reads, metadata
		if stop > 1<<20 {
			limit += stop + 2*4<<20
		}
		if r.bytes > limit {
			t.Errorf("a scanner that stopped after %d bytes: %d bytes fetched, want at most %d", stop, r.bytes, limit)
		}
		t.Logf("stopped after %d bytes: %d bytes fetched, %d requests, %d hints", stop, r.bytes, r.requests, r.hints)
	}
}
