package blob_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
)

// pattern is the byte at offset i of the served test blobs.
func pattern(i int64) byte { return byte(i*7 + i>>12) }

// servedBlob serves a blob of size bytes of pattern: every range GET answered exactly, after
// hold (which may fail it by returning false); it counts the range GETs and their bytes.
type servedBlob struct {
	url             string
	requests, bytes atomic.Int64
	hold            func(start, end int64) bool
}

func newServedBlob(t *testing.T, size int64, hold func(start, end int64) bool) *servedBlob {
	s := &servedBlob{hold: hold}
	s.url = fakeBlob(t, size, func(w http.ResponseWriter, start, end int64) {
		if s.hold != nil && !s.hold(start, end) {
			http.Error(w, "injected fault", http.StatusServiceUnavailable)
			return
		}
		s.requests.Add(1)
		s.bytes.Add(end - start + 1)
		b := make([]byte, end-start+1)
		for i := range b {
			b[i] = pattern(start + int64(i))
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(b)
	})
	return s
}

func checkPattern(t *testing.T, what string, b []byte, off int64) {
	t.Helper()
	for i := range b {
		if b[i] != pattern(off+int64(i)) {
			t.Fatalf("%s: byte %d differs", what, off+int64(i))
		}
	}
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// A prefetched range is fetched with one request per MaxFetch bytes of missing pages, and the
// many small reads that follow it (the files of a directory) cost no request: without the hint
// each of them would be a request of its own.
func TestPrefetchCoalescesSmallReads(t *testing.T) {
	const size = 8 << 20
	s := newServedBlob(t, size, nil)
	r, err := blob.Open(context.Background(), s.url, blob.Options{MaxFetch: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// 200 "files" of 5000 bytes, 5 KiB apart, from 1 MiB on: 1,000 KiB of the blob
	const files, stride, n, at = 200, 5 << 10, 5000, 1 << 20
	if !r.Prefetch(at, files*stride) {
		t.Fatal("a blob reader says it does not prefetch")
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, n)
			for i := w; i < files; i += 8 {
				off := int64(at + i*stride)
				if got, err := r.ReadAt(buf, off); err != nil || got != n {
					t.Errorf("file %d: %d, %v", i, got, err)
					return
				}
				checkPattern(t, "prefetched file", buf, off)
			}
		}(w)
	}
	wg.Wait()
	st := r.Stats()
	if st.Requests != 1 || st.Bytes != files*stride {
		t.Errorf("%d small reads after one prefetch of %d bytes: %d requests, %d bytes; want 1 request of the prefetched bytes", files, files*stride, st.Requests, st.Bytes)
	}
	// a hint of what is cached asks nothing; one over a cached middle asks for the two sides
	r.Prefetch(at, files*stride)
	r.Prefetch(at-8<<10, files*stride+16<<10)
	if !waitFor(5*time.Second, func() bool { return r.Stats().Requests == 3 }) {
		t.Errorf("hints over cached pages: %d requests, want 3", r.Stats().Requests)
	}
	time.Sleep(20 * time.Millisecond)
	if st := r.Stats(); st.Requests != 3 || st.Bytes != files*stride+16<<10 {
		t.Errorf("hints over cached pages: %+v, want 3 requests, %d bytes", st, files*stride+16<<10)
	}
}

// The bytes a prefetch asks for and has not received are bounded (a quarter of the cache, or
// MaxFetch if that is more): a hint of the whole blob fetches no more than that, so prefetched
// pages cannot push each other out of the cache before they are read.
func TestPrefetchIsBounded(t *testing.T) {
	const size = 16 << 20
	release := make(chan struct{})
	s := newServedBlob(t, size, func(int64, int64) bool { <-release; return true })
	r, err := blob.Open(context.Background(), s.url, blob.Options{MaxFetch: 64 << 10, CacheBytes: 1 << 20, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Prefetch(0, size) // 256 KiB may be in flight: 4 requests of 64 KiB
	r.Prefetch(0, size) // the bound is reached: nothing more
	close(release)
	if !waitFor(5*time.Second, func() bool { return r.Stats().Requests == 4 }) {
		t.Fatalf("a hint of %d bytes with a 1 MiB cache: %+v, want 4 requests", size, r.Stats())
	}
	time.Sleep(50 * time.Millisecond)
	if st := r.Stats(); st.Requests != 4 || st.Bytes != 256<<10 {
		t.Errorf("a hint of %d bytes with a 1 MiB cache: %+v, want 4 requests, 256 KiB", size, st)
	}
	// once they arrived, the bound is free again
	r.Prefetch(1<<20, 64<<10)
	if !waitFor(5*time.Second, func() bool { return r.Stats().Requests == 5 }) {
		t.Errorf("after the prefetches ended, a new hint: %+v, want a 5th request", r.Stats())
	}
}

// A prefetch that fails is not the error of the read that waited for it: the read asks again
// itself and gets the bytes. Only when the read's own request fails too does the read fail,
// with that request's error.
func TestFailedPrefetchIsNotAReadError(t *testing.T) {
	const size = 4 << 20
	for _, readFails := range []bool{false, true} {
		var failing atomic.Int64
		failing.Store(2) // the prefetch's request and its one retry
		if readFails {
			failing.Store(1 << 30)
		}
		started := make(chan struct{}, 100)
		s := newServedBlob(t, size, func(start, end int64) bool {
			started <- struct{}{}
			time.Sleep(30 * time.Millisecond) // the read joins the prefetch meanwhile
			return failing.Add(-1) < 0
		})
		r, err := blob.Open(context.Background(), s.url, blob.Options{MaxRetries: 1, RetryDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		r.Prefetch(1<<20, 256<<10)
		<-started // the prefetch's request is under way: the read below waits for its pages
		buf := make([]byte, 10000)
		got, err := r.ReadAt(buf, 1<<20+4096)
		if readFails {
			if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "bytes 1052672-") {
				t.Errorf("the prefetch and the read failed: the read returned %d, %v; want its own request's error", got, err)
			}
		} else {
			if err != nil || got != len(buf) {
				t.Errorf("a failed prefetch failed the read: %d, %v", got, err)
			} else {
				checkPattern(t, "read after a failed prefetch", buf, 1<<20+4096)
			}
		}
		r.Close()
	}
}

// Close stops the prefetches: those waiting for a request slot and those whose response is
// held end, no request is made after Close returns, no goroutine is left, and a hint after
// Close does nothing.
func TestCloseStopsPrefetches(t *testing.T) {
	const size = 64 << 20
	stop := make(chan struct{})
	s := newServedBlob(t, size, func(int64, int64) bool {
		select {
		case <-stop:
		case <-time.After(time.Minute):
		}
		return true
	})
	base := runtime.NumGoroutine()
	for _, how := range []string{"Close", "context"} {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := blob.Open(ctx, s.url, blob.Options{MaxFetch: 256 << 10, Parallel: 2, IdleTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		r.Prefetch(0, 8<<20) // 32 requests: 2 held by the server, 30 waiting for a slot
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		if how == "Close" {
			r.Close()
		} else {
			cancel()
			r.Close() // waits for the fetches to end
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: stopping the prefetches took %s", how, d)
		}
		n := s.requests.Load()
		r.Prefetch(16<<20, 1<<20)
		if _, err := r.ReadAt(make([]byte, 10), 0); err == nil {
			t.Errorf("%s: a read after Close succeeded", how)
		}
		time.Sleep(100 * time.Millisecond)
		if after := s.requests.Load(); after != n {
			t.Errorf("%s: %d requests after Close", how, after-n)
		}
		cancel()
	}
	close(stop) // the server's held handlers are the test's goroutines, not the reader's
	if !waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= base+4 }) {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
	}
}

// Small reads that go on where the last widened fetch ended (an inode table read in order by
// the walk) are widened further each time, 64 KiB doubling to 1 MiB; a small read elsewhere
// is widened to 64 KiB again.
func TestSequentialSmallReadsWidenFurther(t *testing.T) {
	const size = 16 << 20
	s := newServedBlob(t, size, nil)
	r, err := blob.Open(context.Background(), s.url, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 256)
	off := int64(0)
	for i, want := range []int64{64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 1 << 20} {
		before := r.Stats()
		if _, err := r.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		checkPattern(t, "sequential read", buf, off)
		// the reads inside what was fetched cost nothing
		if _, err := r.ReadAt(buf, off+want-256); err != nil {
			t.Fatal(err)
		}
		got := r.Stats()
		if got.Requests-before.Requests != 1 || got.Bytes-before.Bytes != want {
			t.Errorf("read %d of a sequence at %d: %d requests, %d bytes; want 1 of %d", i, off, got.Requests-before.Requests, got.Bytes-before.Bytes, want)
		}
		off += want
	}
	before := r.Stats()
	if _, err := r.ReadAt(buf, 12<<20); err != nil {
		t.Fatal(err)
	}
	if got := r.Stats(); got.Bytes-before.Bytes != 64<<10 {
		t.Errorf("a small read elsewhere fetched %d bytes, want 64 KiB", got.Bytes-before.Bytes)
	}
}
