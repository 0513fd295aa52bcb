package scan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// refusing cannot handle any file, and records what the pass told it about each.
type refusing struct{ files []scan.File }

func (r *refusing) Name() string                    { return "refusing" }
func (r *refusing) NewWorker() (scan.Worker, error) { return r, nil }
func (r *refusing) Close() error                    { return nil }
func (r *refusing) Begin(f *scan.File) (scan.Sink, error) {
	r.files = append(r.files, *f)
	return nil, errors.New("cannot handle " + f.Path)
}

// Every file a scanner could not handle is counted, the first 200 are named, sorted by path
// (reports are the same from one run to the next), and each file carries its owner and the
// size of the filesystem holding it (which says whether it is sparse); the ledger counts the
// filesystem and its files.
func TestUnseenCountedNamedAndSorted(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		p := filepath.Join(src, "srv", fmt.Sprintf("f%03d", (i*7)%n)) // written out of order
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, 1234, 5678); err != nil {
			t.Skipf("cannot chown (not root?): %v", err)
		}
	}
	img, err := inspect.Open(testfixture.Filesystem(t, "ext4", src, "16M"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r := &refusing{}
	st, err := scan.Run(context.Background(), img, scan.Options{Workers: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.Filesystems != 1 || st.Files != n {
		t.Fatalf("%d filesystems, %d files; want 1 and %d", st.Filesystems, st.Files, n)
	}
	if got, ex := st.Missed("refusing"); got != n || len(ex) != 200 {
		t.Fatalf("missed %d, named %d; want %d counted and the first 200 named", got, len(ex), n)
	}
	if !sort.SliceIsSorted(st.Errors, func(i, j int) bool { return st.Errors[i].Path < st.Errors[j].Path }) {
		t.Errorf("errors are not sorted by path: %v ...", st.Errors[:3])
	}
	if len(r.files) != n {
		t.Fatalf("the scanner was offered %d files, want %d", len(r.files), n)
	}
	for _, f := range r.files[:3] {
		if f.UID != 1234 || f.GID != 5678 || f.FSSize <= 0 {
			t.Errorf("%s: uid %d gid %d, filesystem size %d; want 1234, 5678 and the filesystem's size", f.Path, f.UID, f.GID, f.FSSize)
		}
	}
	if st.Ledger == nil || len(st.Ledger.Filesystems) != 1 || st.Ledger.Filesystems[0].Files != n {
		t.Fatalf("ledger %+v: want one filesystem with %d files", st.Ledger, n)
	}
}
