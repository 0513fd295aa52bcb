package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// pagedReader counts the range requests a blob reader would make for the reads it is given: it
// keeps 4 KiB pages, a read asks for the pages it lacks (one request per contiguous run of
// them), and a read under 64 KiB is widened over the missing pages after it, as internal/blob
// does. Each such request is a round trip at the storage account's latency.
type pagedReader struct {
	f        *os.File
	mu       sync.Mutex
	pages    map[int64]bool
	requests int
}

func (r *pagedReader) ReadAt(p []byte, off int64) (int, error) {
	const page, minFetch = 4 << 10, 64 << 10
	r.mu.Lock()
	first, last := off/page, (off+int64(len(p))-1)/page
	missing, in := false, false
	for i := first; i <= last; i++ {
		if r.pages[i] {
			in = false
			continue
		}
		if !in {
			r.requests++
			in = true
		}
		r.pages[i], missing = true, true
	}
	if missing && len(p) < minFetch {
		for i := last + 1; i < first+minFetch/page && !r.pages[i]; i++ {
			r.pages[i] = true
		}
	}
	r.mu.Unlock()
	return r.f.ReadAt(p, off)
}

// debianImage is the raw Debian image of BenchmarkBlobDebian (the debootstrap guest root,
// kernel and initramfs included), built once under testdata/bench.
func debianImage(t testing.TB) string {
	dir := filepath.Join(testfixture.RepoRoot(), "testdata", "bench", "debian-os")
	if _, err := os.Stat(filepath.Join(dir, "disk.raw")); err != nil {
		cmd := exec.Command("bash", filepath.Join(testfixture.RepoRoot(), "scripts", "make-bench-image.sh"), testfixture.GuestRoot(t), dir, "0", "1100", "1200")
		cmd.Env = append(os.Environ(), "KEEP_TREE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make-bench-image: %v\n%s", err, out)
		}
	}
	return filepath.Join(dir, "disk.raw")
}

// The structural check of a real Debian image makes few requests to a blob: the rules that read
// the initramfs stream it through a 4 KiB bufio, which made one 64 KiB request per read (605 of
// the 612 requests, each a round trip: 16 s at 20 ms); the tree's read-ahead makes them a few
// growing ones.
func TestStructuralCheckIsFewBlobRequests(t *testing.T) {
	raw := debianImage(t)
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pr := &pagedReader{f: f, pages: map[int64]bool{}}
	d, err := image.New(raw, pr, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	img, err := inspect.FromDisk(d)
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}}), nil)
	if n := r.Summary[string(rules.Error)]; n > 0 {
		t.Fatalf("%d rules could not run on the Debian image", n)
	}
	t.Logf("structural check: %d range requests", pr.requests)
	if pr.requests > 100 {
		t.Errorf("structural check of the Debian image: %d range requests, want at most 100", pr.requests)
	}
}
