package engine

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// BenchmarkBlobLatencyPhases checks the Debian image of BlobDebian as a page blob behind a
// proxy that holds every range request for 20 ms, with the workers a blob check gets: the
// structural rules alone, then the whole check with the content scan, and reports each time
// with the requests and bytes it took (BlobLatency times the full check only, next to one
// worker per CPU).
func BenchmarkBlobLatencyPhases(b *testing.B) {
	vhd := filepath.Join(b.TempDir(), "debian.vhd")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", debianImage(b), vhd).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img: %v %s", err, out)
	}
	az := testfixture.AzuriteServer(b)
	url := testfixture.NewLatencyProxy(b, az.Endpoint, 20*time.Millisecond).Via(b, az.UploadPageBlob(b, "vhds", "debian.vhd", vhd))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, off := range []bool{true, false} {
			start := time.Now()
			r, err := Check(url, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: off}}))
			if err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			what := "structural"
			if !off {
				what = "scan"
				if r.Content == nil || r.Content.Errors > 0 {
					b.Fatalf("content scan incomplete: %+v", r.Content)
				}
			}
			bl := r.Image.Blob
			b.ReportMetric(took.Seconds(), "s-"+what)
			b.ReportMetric(float64(bl.Requests), "requests-"+what)
			b.Logf("20 ms per request, %s: %s, %d range requests, %d bytes", what, took.Round(time.Millisecond), bl.Requests, bl.Bytes)
		}
	}
}
