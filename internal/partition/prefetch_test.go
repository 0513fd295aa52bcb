package partition_test

import (
	"bytes"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// hints records the Prefetch hints it is given and reads from b.
type hints struct {
	b   *bytes.Reader
	got [][2]int64
}

func (h *hints) ReadAt(p []byte, off int64) (int, error) { return h.b.ReadAt(p, off) }
func (h *hints) Prefetch(off, n int64) bool {
	if n > 0 {
		h.got = append(h.got, [2]int64{off, n})
	}
	return true
}

// A partition's reader passes a hint on at the disk's offsets, clipped to the partition, and
// says whether the disk takes hints at all.
func TestSectionPrefetchTranslates(t *testing.T) {
	h := &hints{b: bytes.NewReader(make([]byte, 1<<20))}
	p := &partition.Partition{Start: 4096, Size: 65536}
	pf, ok := p.ReaderAt(h).(interface{ Prefetch(off, n int64) bool })
	if !ok {
		t.Fatal("a partition's reader takes no hints")
	}
	if !pf.Prefetch(0, 0) {
		t.Error("a disk that takes hints: the partition says it does not")
	}
	pf.Prefetch(100, 1000)    // inside
	pf.Prefetch(60000, 10000) // past the end: clipped
	pf.Prefetch(-50, 100)     // before the start: clipped
	pf.Prefetch(70000, 100)   // outside: nothing
	want := [][2]int64{{4196, 1000}, {64096, 5536}, {4096, 50}}
	if len(h.got) != len(want) {
		t.Fatalf("hints %v, want %v", h.got, want)
	}
	for i := range want {
		if h.got[i] != want[i] {
			t.Errorf("hint %d: %v, want %v", i, h.got[i], want[i])
		}
	}
	local := p.ReaderAt(bytes.NewReader(make([]byte, 1<<20))).(interface{ Prefetch(off, n int64) bool })
	if local.Prefetch(0, 100) {
		t.Error("a disk without hints: the partition says it takes them")
	}
}
