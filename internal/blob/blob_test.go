package blob_test

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Random reads of a page blob in Azurite, through a proxy that fails, cuts and delays
// requests, return exactly the bytes of the local file.
func TestReadAtThroughFaults(t *testing.T) {
	local := testfixture.Path(t, "clean-fixed.vhd")
	want, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	az := testfixture.AzuriteServer(t)
	sasURL := az.UploadPageBlob(t, "vhds", "clean.vhd", local)
	proxy := testfixture.NewFaultProxy(t, az.Endpoint)
	r, err := blob.Open(context.Background(), proxy.Via(t, sasURL), blob.Options{BlockSize: 64 << 10, CacheBlocks: 8, RetryDelay: time.Millisecond})
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
