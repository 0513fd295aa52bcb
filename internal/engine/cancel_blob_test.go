package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Cancelling a check reaches the blob reads: behind a proxy whose responses go silent (an
// IdleTimeout of a minute would wait that long, then retry), a check cancelled once a response
// stalled returns within seconds with the context's error, and no request is made after it
// returned.
func TestCancelStopsABlobCheck(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	url := az.UploadPageBlob(t, "vhds", "cancel.vhd", testfixture.Path(t, "dirty-fixed.vhd"))
	proxy := testfixture.NewStallingProxy(t, az.Endpoint, false)
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Blob: blob.Options{RetryDelay: 10 * time.Millisecond, IdleTimeout: time.Minute}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := make(chan time.Time, 1)
	go func() {
		for proxy.Cuts.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancelled <- time.Now()
		cancel()
	}()
	r, err := CheckContext(ctx, proxy.Via(t, url), p, nil)
	returned := time.Now()
	if r != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled check returned %v, %v", r, err)
	}
	if d := returned.Sub(<-cancelled); d > 5*time.Second {
		t.Errorf("the check returned %s after it was cancelled", d)
	}
	n := proxy.Requests.Load()
	time.Sleep(500 * time.Millisecond) // fifty retry delays
	if after := proxy.Requests.Load(); after != n {
		t.Errorf("%d requests after the check returned", after-n)
	}
}

// A context cancelled during the content pass of a local image stops the pass where it is (it
// does not read on to the end) and the check returns the context's error.
func TestCancelStopsALocalCheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var done, total int64
	progress := func(d, t int64) {
		mu.Lock()
		defer mu.Unlock()
		done, total = max(done, d), t
		cancel() // at the first report
	}
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}})
	if r, err := CheckContext(ctx, testfixture.Path(t, "dirty.raw"), p, progress); r != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled check returned %v, %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if total == 0 || done >= total {
		t.Errorf("the pass read %d of %d bytes after it was cancelled at its first report", done, total)
	}
}
