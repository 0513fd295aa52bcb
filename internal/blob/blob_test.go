package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// fixtureBlob uploads the compliant fixture VHD to Azurite as a page blob named name and
// returns its bytes, the server and the blob's SAS URL.
func fixtureBlob(t *testing.T, name string) ([]byte, *testfixture.Azurite, string) {
	t.Helper()
	local := testfixture.Path(t, "clean-fixed.vhd")
	want, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	az := testfixture.AzuriteServer(t)
	return want, az, az.UploadPageBlob(t, "vhds", name, local)
}

// Random reads of a page blob in Azurite, through a proxy that fails, cuts and delays
// requests, return exactly the bytes of the local file.
func TestReadAtThroughFaults(t *testing.T) {
	want, az, sasURL := fixtureBlob(t, "clean.vhd")
	proxy := testfixture.NewFaultProxy(t, az.Endpoint)
	r, err := blob.Open(context.Background(), proxy.Via(t, sasURL), blob.Options{MaxFetch: 64 << 10, CacheBytes: 512 << 10, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(want)) || strings.Contains(r.Name(), "sig=") {
		t.Fatalf("size %d of %d, name %s", r.Size(), len(want), r.Name())
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 60; i++ {
		off := rng.Int63n(int64(len(want)))
		n := rng.Intn(300 << 10)
		buf := make([]byte, n)
		got, err := r.ReadAt(buf, off)
		end := min(off+int64(n), int64(len(want)))
		if err != nil && err != io.EOF || int64(got) != end-off || !bytes.Equal(buf[:got], want[off:end]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; bytes differ: %v", n, off, got, err, !bytes.Equal(buf[:got], want[off:end]))
		}
	}
	st := r.Stats()
	if proxy.Faults.Load() == 0 || proxy.Cuts.Load() == 0 || st.Retries == 0 {
		t.Errorf("no faults were injected or retried: proxy %d faults %d cuts, reader %+v", proxy.Faults.Load(), proxy.Cuts.Load(), st)
	}
}

func TestRedactAndErrors(t *testing.T) {
	if got := blob.Redact("https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021&sig=SECRET"); strings.Contains(got, "SECRET") || !strings.Contains(got, "os.vhd") {
		t.Errorf("Redact = %s", got)
	}
	az := testfixture.AzuriteServer(t)
	_, err := blob.Open(context.Background(), az.Endpoint+"/vhds/missing.vhd?sv=2021-08-06&sr=b&sp=r&sig=x", blob.Options{MaxRetries: 1, RetryDelay: time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "sig=x") {
		t.Errorf("missing blob: %v", err)
	}
}

// A proxy that cuts or silences every second response after 64 KiB used to hang the reader
// forever (a body read with no deadline, waiters on a block that never came). Now an attempt
// that goes quiet fails after IdleTimeout and is retried: every byte comes back, in seconds.
func TestStallsAndResetsEndInSeconds(t *testing.T) {
	want, az, sasURL := fixtureBlob(t, "stall.vhd")
	for _, reset := range []bool{true, false} {
		proxy := testfixture.NewStallingProxy(t, az.Endpoint, reset)
		start := time.Now()
		r, err := blob.Open(context.Background(), proxy.Via(t, sasURL), blob.Options{MaxFetch: 256 << 10, RetryDelay: 10 * time.Millisecond, IdleTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		want := want[:8<<20]
		got := make([]byte, len(want))
		n, err := r.ReadAt(got, 0)
		if (err != nil && err != io.EOF) || n != len(want) || !bytes.Equal(got, want) {
			t.Fatalf("reset %v: ReadAt = %d, %v; bytes equal %v", reset, n, err, bytes.Equal(got[:n], want[:n]))
		}
		if d := time.Since(start); d > 30*time.Second || proxy.Cuts.Load() == 0 {
			t.Errorf("reset %v: %s, %d responses cut", reset, d, proxy.Cuts.Load())
		}
		t.Logf("reset %v: %d bytes in %s, %d responses cut, %+v", reset, n, time.Since(start).Round(time.Millisecond), proxy.Cuts.Load(), r.Stats())
	}
}

// A blob that always answers 503 fails in seconds with the status, not after minutes of
// retries inside retries.
func TestPersistent5xxFailsFast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	start := time.Now()
	_, err := blob.Open(context.Background(), srv.URL+"/c/x.vhd?sv=2021-08-06&sig=SECRETSIG", blob.Options{})
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "SECRETSIG") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a persistent 503 took %s to fail", d)
	}
}

// A read fetches only the pages it lacks, each run of them with one request: a small read
// costs MinFetch, a large one a single request of its own size, and a read over a cached piece
// asks only for the pieces around it.
func TestRequestsCoalesced(t *testing.T) {
	want, _, sasURL := fixtureBlob(t, "coalesce.vhd")
	r, err := blob.Open(context.Background(), sasURL, blob.Options{PageSize: 4 << 10, MinFetch: 16 << 10, MaxFetch: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, off int64, n int, requests, nbytes int64) {
		t.Helper()
		before := r.Stats()
		buf := make([]byte, n)
		if got, err := r.ReadAt(buf, off); err != nil || got != n || !bytes.Equal(buf, want[off:off+int64(n)]) {
			t.Fatalf("%s: ReadAt(%d, %d) = %d, %v", what, n, off, got, err)
		}
		after := r.Stats()
		if after.Requests-before.Requests != requests || after.Bytes-before.Bytes != nbytes {
			t.Errorf("%s: %d requests, %d bytes; want %d, %d", what, after.Requests-before.Requests, after.Bytes-before.Bytes, requests, nbytes)
		}
	}
	step("a 100-byte read is widened to MinFetch", 1<<20+10, 100, 1, 16<<10)
	step("a read inside it is cached", 1<<20+5000, 8000, 0, 0)
	step("a 300 KiB read is one request of its pages", 2<<20+100, 300<<10, 1, 304<<10)
	// pages 1 MiB+16 KiB .. 2 MiB+100 are missing, then cached pages, then missing ones
	step("a read over a cached run asks for the two runs around it", 1<<20, 1<<20+(308<<10), 2, (1<<20-(16<<10))+(4<<10))
	step("a read larger than MaxFetch is split; its small tail is widened", 4<<20, 2<<20+10, 3, 2<<20+(16<<10))
}

// failingTransport fails the first n range GETs with a connection error, then passes requests on.
type failingTransport struct{ n atomic.Int64 }

func (f *failingTransport) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && f.n.Add(-1) >= 0 {
		return nil, errors.New("injected: connection reset")
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A fetch that fails for good fails the read that asked, and none of its pages keep the
// failure: a later read of a neighbouring page of the same request asks the service again.
func TestFailedFetchIsNotCached(t *testing.T) {
	want, _, sasURL := fixtureBlob(t, "fail.vhd")
	tr := &failingTransport{}
	tr.n.Store(2) // the first request and its one retry
	r, err := blob.Open(context.Background(), sasURL, blob.Options{MinFetch: 64 << 10, MaxRetries: 1, RetryDelay: time.Millisecond, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := r.ReadAt(buf, 1<<20); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("first read: %v", err)
	}
	// the page after it was part of the failed (widened) request
	if n, err := r.ReadAt(buf, 1<<20+8192); err != nil || n != len(buf) || !bytes.Equal(buf, want[1<<20+8192:1<<20+8192+100]) {
		t.Fatalf("a neighbouring page of the failed request: %d, %v", n, err)
	}
}

// Close cancels what is in flight: a read waiting on a response that went silent (with an
// IdleTimeout of a minute, it would wait that long and then retry) returns at once with the
// cancellation, and no request is made after Close returns.
func TestCloseCancelsInFlightAndRetries(t *testing.T) {
	_, az, sasURL := fixtureBlob(t, "close.vhd")
	proxy := testfixture.NewStallingProxy(t, az.Endpoint, false)
	r, err := blob.Open(context.Background(), proxy.Via(t, sasURL), blob.Options{MaxFetch: 256 << 10, RetryDelay: 10 * time.Millisecond, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.ReadAt(make([]byte, 8<<20), 0)
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for proxy.Cuts.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if proxy.Cuts.Load() == 0 {
		t.Fatal("no response stalled")
	}
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) && !errors.Is(err, blob.ErrClosed) {
			t.Errorf("the read ended with %v, not the cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read did not return after Close")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close and the read took %s", d)
	}
	after := proxy.Requests.Load()
	if _, err := r.ReadAt(make([]byte, 100), 5<<20); err == nil {
		t.Error("a read after Close succeeded")
	}
	time.Sleep(300 * time.Millisecond) // thirty retry delays
	if n := proxy.Requests.Load(); n != after {
		t.Errorf("%d requests were made after Close", n-after)
	}
}

// A context that ends cancels the reader as Close does: the read returns the context's error.
func TestContextCancelsTheReader(t *testing.T) {
	_, az, sasURL := fixtureBlob(t, "ctx.vhd")
	proxy := testfixture.NewStallingProxy(t, az.Endpoint, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := blob.Open(ctx, proxy.Via(t, sasURL), blob.Options{MaxFetch: 256 << 10, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		for proxy.Cuts.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err = r.ReadAt(make([]byte, 8<<20), 0)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 20*time.Second {
		t.Errorf("after %s: %v", time.Since(start), err)
	}
}

// A server that ignores Range and answers 200 from byte 0, or that answers another range than
// the one asked for, is an error naming the blob (without its SAS) and the range, never bytes
// read as if they were the range asked for; it is not retried.
func TestRangeAnswersAreVerified(t *testing.T) {
	_, az, sasURL := fixtureBlob(t, "ranges.vhd")
	for name, proxy := range map[string]*testfixture.FaultProxy{
		"200 from byte 0":     testfixture.NewRangeIgnoringProxy(t, az.Endpoint),
		"another range (206)": testfixture.NewWrongRangeProxy(t, az.Endpoint),
	} {
		r, err := blob.Open(context.Background(), proxy.Via(t, sasURL), blob.Options{RetryDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.ReadAt(make([]byte, 100), 1<<20)
		if err == nil || !strings.Contains(err.Error(), "ranges.vhd") || !strings.Contains(err.Error(), "bytes 1048576-1114111") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("%s: %v", name, err)
		}
		if st := r.Stats(); st.Retries != 0 || st.Bytes != 0 {
			t.Errorf("%s: an answer of the wrong range was retried or counted: %+v", name, st)
		}
		r.Close()
	}
}

// fakeBlob serves a blob of size bytes: HEAD answers its size, a range GET what answer writes.
func fakeBlob(t *testing.T, size int64, answer func(w http.ResponseWriter, start, end int64)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", fmt.Sprint(size))
			w.Header().Set("x-ms-blob-type", "PageBlob")
			return
		}
		var start, end int64
		fmt.Sscanf(r.Header.Get("x-ms-range"), "bytes=%d-%d", &start, &end)
		answer(w, start, end)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/c/fake.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIG"
}

// Every part of Content-Range is checked: start, end, the blob's total, the form; 200 is taken
// only for the whole blob.
func TestContentRangeChecked(t *testing.T) {
	const size = 1 << 20
	body := func(w http.ResponseWriter, status int, cr string, n int64) {
		if cr != "" {
			w.Header().Set("Content-Range", cr)
		}
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.WriteHeader(status)
		w.Write(make([]byte, n))
	}
	cases := map[string]struct {
		answer func(w http.ResponseWriter, start, end int64)
		ok     bool
	}{
		"exact": {func(w http.ResponseWriter, s, e int64) {
			body(w, 206, fmt.Sprintf("bytes %d-%d/%d", s, e, size), e-s+1)
		}, true},
		"start": {func(w http.ResponseWriter, s, e int64) {
			body(w, 206, fmt.Sprintf("bytes %d-%d/%d", s+1, e, size), e-s+1)
		}, false},
		"end": {func(w http.ResponseWriter, s, e int64) {
			body(w, 206, fmt.Sprintf("bytes %d-%d/%d", s, e+1, size), e-s+2)
		}, false},
		"total": {func(w http.ResponseWriter, s, e int64) {
			body(w, 206, fmt.Sprintf("bytes %d-%d/%d", s, e, size*2), e-s+1)
		}, false},
		"none": {func(w http.ResponseWriter, s, e int64) { body(w, 206, "", e-s+1) }, false},
		"form": {func(w http.ResponseWriter, s, e int64) { body(w, 206, fmt.Sprintf("bytes %d-%d/*", s, e), e-s+1) }, false},
		"junk": {func(w http.ResponseWriter, s, e int64) {
			body(w, 206, fmt.Sprintf("bytes %d-%d/%d;x", s, e, size), e-s+1)
		}, false},
		"200": {func(w http.ResponseWriter, s, e int64) { body(w, 200, "", e-s+1) }, false},
	}
	for name, c := range cases {
		r, err := blob.Open(context.Background(), fakeBlob(t, size, c.answer), blob.Options{RetryDelay: time.Millisecond})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = r.ReadAt(make([]byte, 100), 4096)
		if (err == nil) != c.ok || err != nil && (!strings.Contains(err.Error(), "bytes 4096-69631") || strings.Contains(err.Error(), "SECRETSIG")) {
			t.Errorf("%s: %v", name, err)
		}
		r.Close()
	}
	// the whole blob asked for (it is smaller than one fetch) may come back as 200
	whole := func(w http.ResponseWriter, s, e int64) { body(w, 200, "", 8192) }
	r, err := blob.Open(context.Background(), fakeBlob(t, 8192, whole), blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 100), 0); err != nil {
		t.Errorf("200 with the whole blob: %v", err)
	}
	r.Close()
}

// countingTransport counts the requests it is given and fails them.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) Do(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no network in this test")
}

// A SAS URL over http:// is refused before any request: its signature would travel in clear
// text. Loopback (the emulator) is this machine, and allowed.
func TestHTTPSASRefused(t *testing.T) {
	tr := &countingTransport{}
	_, err := blob.Open(context.Background(), "http://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIG", blob.Options{Transport: tr, MaxRetries: 1})
	if err == nil || !strings.Contains(err.Error(), "http://") || !strings.Contains(err.Error(), "clear text") || strings.Contains(err.Error(), "SECRETSIG") || tr.n.Load() != 0 {
		t.Errorf("http SAS URL: %v, %d requests", err, tr.n.Load())
	}
	_, err = blob.Open(context.Background(), "https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIG", blob.Options{Transport: tr, MaxRetries: 1, RetryDelay: time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "clear text") || tr.n.Load() == 0 {
		t.Errorf("https SAS URL: %v, %d requests", err, tr.n.Load())
	}
}
