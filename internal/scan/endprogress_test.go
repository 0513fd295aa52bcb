package scan_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// slowEnd takes the first bytes of one file, then reads the whole file itself at End, slowly,
// as the credential scanner unpacks a large .tar.gz there; it records when End ran.
type slowEnd struct {
	path       string
	f          *scan.File
	pause      time.Duration
	piece      int
	start, end time.Time
}

func (s *slowEnd) Name() string                    { return "slow-end" }
func (s *slowEnd) NewWorker() (scan.Worker, error) { return s, nil }
func (s *slowEnd) Close() error                    { return nil }
func (s *slowEnd) Begin(f *scan.File) (scan.Sink, error) {
	if f.Path != s.path {
		return nil, nil
	}
	s.f = f
	return s, nil
}
func (s *slowEnd) Write([]byte) error    { return scan.ErrEnough }
func (s *slowEnd) Outcome() scan.Outcome { return scan.Opened }
func (s *slowEnd) End() error {
	s.start = time.Now()
	defer func() { s.end = time.Now() }()
	buf := make([]byte, s.piece)
	for off := int64(0); off < s.f.Size; off += int64(s.piece) {
		time.Sleep(s.pause)
		if _, err := s.f.Data.ReadAt(buf, off); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// TestProgressMovesWhileASinkEnds: a sink that reads the file itself at End (2.6 s here) moves
// the pass's progress as it reads, at least every 2 seconds (here every read, 65 ms apart),
// and the file's bytes are all counted once it has ended, not before.
func TestProgressMovesWhileASinkEnds(t *testing.T) {
	const size = 4 << 20
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{"srv/big.tar.gz": strings.Repeat("0123456789abcdef", size/16)}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	s := &slowEnd{path: "/srv/big.tar.gz", pause: 65 * time.Millisecond, piece: 100 << 10}
	var mu sync.Mutex
	var at []time.Time
	var done []int64
	var total int64
	st, err := scan.Run(context.Background(), img, scan.Options{Workers: 1, FirstChunk: 64 << 10, Progress: func(d, all int64) {
		mu.Lock()
		defer mu.Unlock()
		at, done, total = append(at, time.Now()), append(done, d), all
	}}, s)
	if err != nil {
		t.Fatal(err)
	}
	if s.start.IsZero() || s.end.Sub(s.start) < 2*time.Second {
		t.Fatalf("End took %v: the test needs more than 2 s", s.end.Sub(s.start))
	}
	last, moves, before := s.start, 0, int64(0)
	for i := range at {
		if at[i].Before(s.start) {
			before = done[i]
			continue
		}
		if at[i].After(s.end) {
			break
		}
		if done[i] <= before {
			t.Fatalf("progress at %v into End is %d, not past %d", at[i].Sub(s.start), done[i], before)
		}
		if gap := at[i].Sub(last); gap > 2*time.Second {
			t.Fatalf("progress stood still %v during End", gap)
		}
		last, before = at[i], done[i]
		moves++
	}
	if gap := s.end.Sub(last); gap > 2*time.Second {
		t.Fatalf("progress stood still for the last %v of End (%d moves during it)", gap, moves)
	}
	if moves < 20 {
		t.Errorf("progress moved %d times during End, want one per read (40)", moves)
	}
	if final := done[len(done)-1]; final != total || total != st.Bytes {
		t.Errorf("progress ends at %d of %d (the pass's bytes %d): every byte is counted once", final, total, st.Bytes)
	}
}
