package scan_test

import (
	"context"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// counter records the bytes each file gave it; with stopAfter > 0 it wants only that many.
type counter struct {
	mu        sync.Mutex
	got       map[string]int64
	stopAfter int64
	begin     func() // called as each file begins
}

func (c *counter) Name() string                    { return "counter" }
func (c *counter) NewWorker() (scan.Worker, error) { return c, nil }
func (c *counter) Close() error                    { return nil }
func (c *counter) Begin(f *scan.File) (scan.Sink, error) {
	if c.begin != nil {
		c.begin()
	}
	return &sink{c: c, f: f}, nil
}

type sink struct {
	c *counter
	f *scan.File
	n int64
}

func (s *sink) Write(p []byte) error {
	s.n += int64(len(p))
	if s.c.stopAfter > 0 && s.n >= s.c.stopAfter {
		return scan.ErrEnough
	}
	return nil
}

func (s *sink) End() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if _, dup := s.c.got[s.f.Path]; dup {
		panic("file seen twice: " + s.f.Path)
	}
	s.c.got[s.f.Path] = s.n
	return nil
}

// Every regular file of the root and of the filesystems fstab mounts (the separate /boot and
// the EFI partition) is streamed once, whole; a sink that has enough stops the reading.
func TestEveryFileOnceAndEarlyStop(t *testing.T) {
	img, err := inspect.Open(testfixture.Path(t, "clean.qcow2"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	all := &counter{got: map[string]int64{}}
	var last, total int64
	var mu sync.Mutex
	st, err := scan.Run(context.Background(), img, scan.Options{FirstChunk: 4096, Chunk: 8192, Progress: func(d, t int64) {
		mu.Lock()
		last, total = max(last, d), t
		mu.Unlock()
	}}, all)
	if err != nil || len(st.Errors) > 0 {
		t.Fatalf("%v %v", err, st.Errors)
	}
	if int64(len(all.got)) != st.Files || st.BytesRead != st.Bytes || last != total || total != st.Bytes {
		t.Fatalf("files %d/%d, bytes read %d of %d, progress %d/%d", len(all.got), st.Files, st.BytesRead, st.Bytes, last, total)
	}
	for _, p := range []string{"/etc/fstab", "/boot/grub/grub.cfg", "/boot/efi/EFI/debian/grub.cfg"} {
		if _, ok := all.got[p]; !ok {
			t.Errorf("%s was not streamed", p)
		}
	}
	early := &counter{got: map[string]int64{}, stopAfter: 1}
	st2, err := scan.Run(context.Background(), img, scan.Options{FirstChunk: 4096, Chunk: 8192}, early)
	if err != nil {
		t.Fatal(err)
	}
	if st2.BytesRead >= st.BytesRead || st2.Files != st.Files {
		t.Errorf("early stop read %d bytes of %d", st2.BytesRead, st.BytesRead)
	}
}

func TestCancelledPass(t *testing.T) {
	img, err := inspect.Open(testfixture.Path(t, "clean.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := scan.Run(ctx, img, scan.Options{}, &counter{got: map[string]int64{}}); err == nil {
		t.Error("a cancelled pass returned no error")
	}
}
