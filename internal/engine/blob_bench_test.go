package engine

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// BenchmarkBlobLatencyPrefetch checks the Debian image of BlobDebian in one run: from the local
// raw file (the bytes it reads are the budget's unit), then as a fixed VHD page blob behind a
// proxy that holds every range request for 20 ms, with the structural rules only, with the
// content scan but no prefetch hints (scan.Options.NoPrefetch), and with the content scan as a
// check makes it (the pass hints the data of the files its workers read next). It reports each
// time, the range requests and the bytes as a ratio of the local check's, and the time with the
// hints as a ratio of the time without.
func BenchmarkBlobLatencyPrefetch(b *testing.B) {
	raw := debianImage(b)
	vhd := filepath.Join(b.TempDir(), "debian.vhd")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, vhd).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img: %v %s", err, out)
	}
	az := testfixture.AzuriteServer(b)
	url := testfixture.NewLatencyProxy(b, az.Endpoint, 20*time.Millisecond).Via(b, az.UploadPageBlob(b, "vhds", "debian.vhd", vhd))
	defer func(v bool) { blobPrefetch = v }(blobPrefetch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		local := map[bool]int64{}
		for _, off := range []bool{true, false} {
			r, err := checkFile(raw, plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: off}})
			if err != nil {
				b.Fatal(err)
			}
			local[off] = r.Image.BytesRead
		}
		times := map[string]time.Duration{}
		for _, run := range []struct {
			what     string
			off, pre bool
		}{{"structural", true, true}, {"scan-noprefetch", false, false}, {"scan", false, true}} {
			blobPrefetch = run.pre
			start := time.Now()
			var once sync.Once
			var walked time.Duration // until the first file's bytes: the structural rules' reads, the walk
			r, err := CheckWithProgress(url, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: run.off}}), func(int64, int64) {
				once.Do(func() { walked = time.Since(start) })
			})
			if err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			if !run.off && (r.Content == nil || r.Content.Errors > 0) {
				b.Fatalf("content scan incomplete: %+v", r.Content)
			}
			times[run.what] = took
			bl := r.Image.Blob
			ratio := float64(bl.Bytes) / float64(local[run.off])
			b.ReportMetric(took.Seconds(), "s-"+run.what)
			b.ReportMetric(float64(bl.Requests), "requests-"+run.what)
			b.ReportMetric(ratio, "blob/local-bytes-"+run.what)
			b.Logf("20 ms per request, %s: %s (first file's bytes after %s), %d range requests, %d bytes (%.3f× the %d bytes the local check read)", run.what, took.Round(time.Millisecond), walked.Round(time.Millisecond), bl.Requests, bl.Bytes, ratio, local[run.off])
		}
		b.ReportMetric(times["scan"].Seconds()/times["scan-noprefetch"].Seconds(), "prefetch/noprefetch")
	}
}
