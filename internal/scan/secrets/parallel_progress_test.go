package secrets

import (
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// slowChunks are the slowest text per byte the search knows: random base64 (the regular
// expressions' worst case) with a character every fragment that case-folds to an ASCII letter
// (U+212A KELVIN SIGN: the literal pass cannot decide such a fragment, and it goes to gitleaks
// whole), and the keyword-dense long line.
func slowChunks(size int) map[string][]byte {
	rng := rand.New(rand.NewSource(2))
	var b strings.Builder
	for b.Len() < size {
		for i := 0; i < 76; i++ {
			b.WriteByte(b64chars[rng.Intn(64)])
		}
		b.WriteByte('\n')
		if rng.Intn(200) == 0 {
			b.WriteString("\u212a\n")
		}
	}
	return map[string][]byte{
		"base64+kelvin": []byte(b.String()[:size]),
		"longline":      []byte(benchText("longline", size)),
	}
}

// chunkTimes streams content to a sink in writes of chunk bytes (the first one 64 KiB, as the
// pass reads) and returns the longest time one Write (or End) took: how long the pass's
// progress, which moves after every chunk it hands over, can stand still on this file.
func chunkTimes(t *testing.T, s *Scanner, content []byte, chunk int) (longest time.Duration) {
	w, _ := s.NewWorker()
	k, err := w.Begin(&scan.File{Path: "/srv/data/blob", Location: "/srv/data/blob", Size: int64(len(content))})
	if err != nil || k == nil {
		t.Fatalf("Begin: %v, sink %v", err, k)
	}
	for off, n := 0, 64<<10; off < len(content); off, n = off+n, chunk {
		start := time.Now()
		if err := k.Write(content[off:min(len(content), off+n)]); err != nil {
			t.Fatal(err)
		}
		longest = max(longest, time.Since(start))
	}
	start := time.Now()
	if err := k.End(); err != nil {
		t.Fatal(err)
	}
	return max(longest, time.Since(start))
}

// Progress moves at least every 2 seconds on any file when the pass hands the sink at most
// 128 KiB at a time: the pass reports progress after every piece it hands over, so the
// longest a piece's search takes is how long it can stand still. Measured on the slowest text
// there is, with every CPU but one busy elsewhere (a loaded machine), the search's own helpers
// included. The pass's 1 MiB chunks are timed too and only logged: on this text a chunk took
// 1.4 s with one free core (2-core machine, load 2.5) and 3.6–4.0 s at load 8–14 (a 128 KiB
// piece 0.45–0.94 s), so progress can stand still longer than 2 seconds until the pass hands
// its chunks over in smaller pieces.
func TestSlowChunkSearchKeepsProgressMoving(t *testing.T) {
	if testing.Short() {
		t.Skip("times the search")
	}
	if verify != nil {
		// every fragment searched twice, once by gitleaks on the whole fragment: that is not
		// the speed this test is about
		saved := verify
		verify = nil
		defer func() { verify = saved }()
	}
	s := protoScanner(t)
	stop := make(chan struct{})
	defer close(stop)
	for i := 0; i < runtime.GOMAXPROCS(0)-1; i++ {
		go func() {
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
					for j := 0; j < 1e6; j++ {
						x += j
					}
				}
			}
		}()
	}
	for name, content := range slowChunks(2 << 20) {
		whole := chunkTimes(t, s, content, 1<<20)
		piece := chunkTimes(t, s, content, 128<<10)
		t.Logf("%s: the longest 1 MiB chunk took %v, the longest 128 KiB piece %v", name, whole, piece)
		if piece > 2*time.Second {
			t.Errorf("%s: one 128 KiB piece's search took %v: progress would stand still that long", name, piece)
		}
	}
}
