package scan_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// pieces records, for one file, the size of every Write and the progress told before each.
type pieces struct {
	mu       sync.Mutex
	path     string
	writes   []int
	progress []int64 // the pass's progress when each Write began
	done     func() int64
}

func (p *pieces) Name() string                    { return "pieces" }
func (p *pieces) NewWorker() (scan.Worker, error) { return p, nil }
func (p *pieces) Close() error                    { return nil }
func (p *pieces) Begin(f *scan.File) (scan.Sink, error) {
	if f.Path != p.path {
		return nil, nil
	}
	return p, nil
}
func (p *pieces) Write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, len(b))
	p.progress = append(p.progress, p.done())
	return nil
}
func (p *pieces) End() error { return nil }

// TestChunksReachSinksInPieces: after the first read, a sink gets at most 128 KiB at a time and
// the pass tells its progress before each piece, so a slow sink cannot hold progress still for
// a whole 1 MiB chunk; the first read is handed whole.
func TestChunksReachSinksInPieces(t *testing.T) {
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{"srv/big.txt": strings.Repeat("0123456789abcdef", 1<<17)})) // 2 MiB
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var mu sync.Mutex
	var done int64
	p := &pieces{path: "/srv/big.txt", done: func() int64 { mu.Lock(); defer mu.Unlock(); return done }}
	_, err = scan.Run(context.Background(), img, scan.Options{Workers: 1, FirstChunk: 200 << 10, Chunk: 1 << 20, Progress: func(d, _ int64) {
		mu.Lock()
		done = max(done, d)
		mu.Unlock()
	}}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.writes) < 2 || p.writes[0] != 200<<10 {
		t.Fatalf("writes %v: the first read is handed whole", p.writes)
	}
	total := 0
	for i, n := range p.writes {
		total += n
		if i > 0 && n > 128<<10 {
			t.Errorf("write %d is %d bytes, more than a 128 KiB piece", i, n)
		}
		if i > 0 && p.progress[i] <= p.progress[i-1] {
			t.Errorf("progress did not move before piece %d (%d then %d)", i, p.progress[i-1], p.progress[i])
		}
	}
	if total != 2<<20 {
		t.Errorf("%d bytes delivered, want %d", total, 2<<20)
	}
}
