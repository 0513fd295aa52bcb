package blob_test

import (
	"bytes"
	"context"
	"errors"
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
