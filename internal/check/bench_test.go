package check

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// benchImage builds (once, cached under testdata/bench) a 2.5 GiB image with 2 GiB of data.
func benchImage(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(testfixture.RepoRoot(), "testdata", "bench")
	img := filepath.Join(dir, "bench.raw")
	if _, err := os.Stat(img); err == nil {
		return img
	}
	fx := testfixture.Dir(b)
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command("bash", filepath.Join(testfixture.RepoRoot(), "scripts", "make-bench-image.sh"), fx, img+".tmp")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("make-bench-image: %v\n%s", err, out)
	}
	if err := os.Rename(img+".tmp", img); err != nil {
		b.Fatal(err)
	}
	return img
}

func sequentialRead(b *testing.B, path string) (time.Duration, int64) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start), n
}

// BenchmarkCheckVsSequentialRead times a full azure-linux check of a 2.5 GiB image and, in the
// same run, a plain sequential read of the same file, and reports their ratio (machines here
// are noisy; only the ratio is comparable between runs). It also reports how many bytes of the
// image the check read.
func BenchmarkCheckVsSequentialRead(b *testing.B) {
	img := benchImage(b)
	sequentialRead(b, img) // warm the page cache for both sides alike
	var readTime time.Duration
	var size int64
	const reads = 3
	for i := 0; i < reads; i++ {
		d, n := sequentialRead(b, img)
		readTime += d
		size = n
	}
	readTime /= reads
	cfg := Config{Profiles: []string{"azure-linux"}}
	b.ResetTimer()
	var bytesRead int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := File(img, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Compliant {
			b.Fatalf("bench image not compliant: %+v", r.Blocking())
		}
		bytesRead = r.Image.BytesRead
	}
	check := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(float64(readTime.Milliseconds()), "read-ms")
	b.ReportMetric(float64(check.Microseconds())/1000, "check-ms")
	b.ReportMetric(float64(check)/float64(readTime), "check/read")
	b.ReportMetric(float64(bytesRead)/float64(size)*100, "%bytes-read")
	b.Logf("image %d MiB: sequential read %v, azure-linux check %v (ratio %.4f), check read %d bytes (%.3f%% of the file)",
		size>>20, readTime, check, float64(check)/float64(readTime), bytesRead, float64(bytesRead)/float64(size)*100)
}
