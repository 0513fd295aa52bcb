package engine

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// makeBenchImage builds (once, cached under testdata/bench/name) a raw disk holding the tree
// that tree() returns (asked for only when the image is built) plus blobs × 32 MiB of
// incompressible data, with scripts/make-bench-image.sh, and returns the directory (disk.raw,
// and tree when keepTree).
func makeBenchImage(b *testing.B, name string, tree func() string, blobs, partMiB, diskMiB int, keepTree bool) string {
	b.Helper()
	dir := filepath.Join(testfixture.RepoRoot(), "testdata", "bench", name)
	if _, err := os.Stat(filepath.Join(dir, "disk.raw")); err == nil {
		return dir
	}
	cmd := exec.Command("bash", filepath.Join(testfixture.RepoRoot(), "scripts", "make-bench-image.sh"), tree(), dir,
		fmt.Sprint(blobs), fmt.Sprint(partMiB), fmt.Sprint(diskMiB))
	if keepTree {
		cmd.Env = append(os.Environ(), "KEEP_TREE=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("make-bench-image: %v\n%s", err, out)
	}
	return dir
}

// benchImage is a 2.5 GiB image of the compliant tree with 2 GiB of data.
func benchImage(b *testing.B) string {
	tree := func() string { return filepath.Join(testfixture.Dir(b), "trees", "clean") }
	return filepath.Join(makeBenchImage(b, "structural", tree, 64, 2400, 2500, false), "disk.raw")
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

// BenchmarkCheckVsSequentialRead times the structural azure-linux check (content_scan = false:
// every rule but the two that read every file) of a 2.5 GiB image and, in the same run, a plain
// sequential read of the same file, and reports their ratio (machines here are noisy; only the
// ratio is comparable between runs). It also reports how many bytes of the image the check read.
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
	cfg := plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}}
	b.ResetTimer()
	var bytesRead int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := checkFile(img, cfg)
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

// benchDebian is a 3 GiB image of a real Debian root plus 1.25 GiB of application data, and the
// same tree on disk.
func benchDebian(b *testing.B) (image, tree string) {
	dir := makeBenchImage(b, "debian", func() string { return testfixture.GuestRoot(b) }, 40, 2900, 3000, true)
	return filepath.Join(dir, "disk.raw"), filepath.Join(dir, "tree")
}

// BenchmarkContentScan times, in one run, on a ≥ 2 GiB Debian image: a plain sequential read of
// the image file; the check with its content scan (every file of the image; credentials need the
// text files, the integrity baseline every byte); and gitleaks (the same version, as a command)
// on the same tree unpacked to disk. It reports the ratios; the page cache is warm for all.
// Three images: "os" is the debootstrap guest root alone (a realistic OS image, mostly small
// text and binary files, no padding); "padded" adds 1.25 GiB of incompressible application data;
// "text" adds six 32 MiB files of ordinary text (issue 24's mix, see writeTextMix), the worst
// case for the credential search.
func BenchmarkContentScan(b *testing.B) {
	b.Run("os", func(b *testing.B) {
		dir := makeBenchImage(b, "debian-os", func() string { return testfixture.GuestRoot(b) }, 0, 1100, 1200, true)
		benchContentScan(b, filepath.Join(dir, "disk.raw"), filepath.Join(dir, "tree"))
	})
	b.Run("padded", func(b *testing.B) {
		img, tree := benchDebian(b)
		benchContentScan(b, img, tree)
	})
	// issue 24's worst case for the credential search: the guest root plus six 32 MiB files of
	// ordinary text full of generic keywords (a base64 blob, an application log, a JSON export,
	// a minified JS bundle, a SQL dump, one long line) in /srv/data
	b.Run("text", func(b *testing.B) {
		tree := func() string {
			root := testfixture.GuestRoot(b)
			writeTextMix(b, filepath.Join(root, "srv", "data"), 32<<20)
			return root
		}
		dir := makeBenchImage(b, "debian-text", tree, 0, 1400, 1500, true)
		benchContentScan(b, filepath.Join(dir, "disk.raw"), filepath.Join(dir, "tree"))
	})
	// the same six text files alone (no OS tree): what the text costs, apart from the OS
	b.Run("text-files", func(b *testing.B) {
		tree := func() string {
			root := filepath.Join(b.TempDir(), "root")
			writeTextMix(b, filepath.Join(root, "srv", "data"), 32<<20)
			return root
		}
		dir := makeBenchImage(b, "text-files", tree, 0, 240, 260, true)
		benchContentScan(b, filepath.Join(dir, "disk.raw"), filepath.Join(dir, "tree"))
	})
}

// benchGitleaks says whether benchContentScan also times gitleaks on the unpacked tree (minutes
// on the text images); BENCH_GITLEAKS=0 leaves it out when only the check is being profiled.
func benchGitleaks() bool { return os.Getenv("BENCH_GITLEAKS") != "0" }

// benchProfile, when BENCH_CPUPROFILE names a file, writes the CPU profile of the first
// iteration's check with the content scan (and of nothing else: not the reads, not the check
// with the baseline) there; it returns the function that stops it.
func benchProfile(b *testing.B, i int) (stop func()) {
	path := os.Getenv("BENCH_CPUPROFILE")
	if path == "" || i > 0 {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingWriter counts what it passes on.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeTextMix writes the six kinds of ordinary text of issue 24, size bytes each, into dir:
// text with the generic keywords on every line (token=, apiKey, secret, password_policy) and
// no credential, generated from a fixed seed.
func writeTextMix(b *testing.B, dir string, size int) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	rng := rand.New(rand.NewSource(24))
	an := func(n int) string {
		p := make([]byte, n)
		for i := range p {
			p[i] = b64[rng.Intn(62)]
		}
		return string(p)
	}
	kinds := []struct {
		name string
		line func(w *bufio.Writer)
	}{
		{"blob.b64", func(w *bufio.Writer) {
			for i := 0; i < 76; i++ {
				w.WriteByte(b64[rng.Intn(64)])
			}
			w.WriteByte('\n')
		}},
		{"app.log", func(w *bufio.Writer) {
			fmt.Fprintf(w, "2024-05-%02dT10:%02d:%02d.%03dZ INFO http request_id=%s method=GET path=/api/v1/items/%d status=200 token=%s password_policy=strict apiKey=redacted secret_ref=vault:%s duration_ms=%d\n",
				rng.Intn(28)+1, rng.Intn(60), rng.Intn(60), rng.Intn(1000), an(16), rng.Intn(1e5), an(6), an(8), rng.Intn(900))
		}},
		{"export.json", func(w *bufio.Writer) {
			fmt.Fprintf(w, `{"id":%d,"name":"item %s","owner":"user%d","apiKey":null,"token_type":"bearer","secret":false,"created":"2024-05-01T10:00:00Z","tags":["a","b"],"password_policy":"strict"},`+"\n",
				rng.Intn(1e7), an(8), rng.Intn(1e4))
		}},
		{"bundle.min.js", func(w *bufio.Writer) {
			fmt.Fprintf(w, `function %s(t,e){var n=t.apiKey||e.token,r={secret:n,auth:"Bearer "+n,key:"%s"};return fetch("/api/"+t.id,{headers:r}).then(function(o){return o.json()})}`,
				an(3), an(6))
		}},
		{"dump.sql", func(w *bufio.Writer) {
			fmt.Fprintf(w, "INSERT INTO `sessions` (`id`,`user_id`,`token_hash`,`password_policy`,`created_at`) VALUES (%d,%d,'%s','default','2024-05-01 10:00:00');\n",
				rng.Intn(1e7), rng.Intn(1e5), an(12))
		}},
		{"oneline.txt", func(w *bufio.Writer) {
			fmt.Fprintf(w, "key=%s; token %s secret auth api %s ", an(5), an(9), an(20))
		}},
	}
	for _, k := range kinds {
		f, err := os.Create(filepath.Join(dir, k.name))
		if err != nil {
			b.Fatal(err)
		}
		cw := &countingWriter{w: f}
		w := bufio.NewWriterSize(cw, 1<<20)
		for cw.n+int64(w.Buffered()) < int64(size) {
			k.line(w)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Truncate(int64(size)); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchContentScan(b *testing.B, img, tree string) {
	gitleaks := filepath.Join(testfixture.RepoRoot(), ".tools", "bin", "gitleaks")
	if !benchGitleaks() {
		gitleaks = ""
	} else if out, err := exec.Command("bash", filepath.Join(testfixture.RepoRoot(), "scripts", "get-tools.sh"), "gitleaks").CombinedOutput(); err != nil {
		b.Fatalf("building gitleaks: %v\n%s", err, out)
	}
	sequentialRead(b, img)
	exec.Command("tar", "-C", tree, "-cf", "/dev/null", ".").Run() // warm the tree too
	readTime, size := sequentialRead(b, img)

	timeCheck := func(cfg plan.Choices) time.Duration {
		start := time.Now()
		r, err := checkFile(img, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if r.Content == nil {
			b.Fatal("no content scan ran")
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var secretsTime, allTime, secretsCPU time.Duration
	for i := 0; i < b.N; i++ {
		stop := benchProfile(b, i)
		cpu0 := cpuTime()
		d := timeCheck(plan.Choices{Profiles: []string{"azure-linux"}})
		secretsCPU += cpuTime() - cpu0
		stop()
		secretsTime += d
		d = timeCheck(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Manifest: filepath.Join(b.TempDir(), "m.json")}})
		allTime += d
	}
	b.StopTimer()
	secretsTime /= time.Duration(b.N)
	allTime /= time.Duration(b.N)
	b.ReportMetric(float64(secretsTime)/float64(readTime), "scan/read")
	b.ReportMetric(float64(allTime)/float64(readTime), "scan+baseline/read")
	b.ReportMetric(float64(secretsTime.Milliseconds()), "scan-ms")
	// the machine is shared: the CPU the check took (user and system, of this process) says
	// more than its wall time when other work competes for the cores
	b.ReportMetric(float64((secretsCPU / time.Duration(b.N)).Milliseconds()), "scan-cpu-ms")
	b.ReportMetric(float64(readTime.Milliseconds()), "read-ms")
	if gitleaks == "" {
		b.Logf("image %d MiB: sequential read %v; check with content scan %v (%.2f× the read); with the integrity baseline (every byte) %v (%.2f×); gitleaks not run (BENCH_GITLEAKS=0)",
			size>>20, readTime.Round(time.Millisecond), secretsTime.Round(time.Millisecond), float64(secretsTime)/float64(readTime),
			allTime.Round(time.Millisecond), float64(allTime)/float64(readTime))
		return
	}
	start := time.Now()
	cmd := exec.Command(gitleaks, "dir", tree, "--no-banner", "--exit-code", "0", "--report-path", filepath.Join(b.TempDir(), "gl.json"), "--log-level", "error")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("gitleaks: %v\n%s", err, out)
	}
	glTime := time.Since(start)
	b.ReportMetric(float64(secretsTime)/float64(glTime), "scan/gitleaks")
	b.Logf("image %d MiB: sequential read %v; check with content scan %v (%.2f× the read); with the integrity baseline (every byte) %v (%.2f×); gitleaks dir on the tree %v (the scan takes %.3f× its time)",
		size>>20, readTime.Round(time.Millisecond), secretsTime.Round(time.Millisecond), float64(secretsTime)/float64(readTime),
		allTime.Round(time.Millisecond), float64(allTime)/float64(readTime), glTime.Round(time.Millisecond), float64(secretsTime)/float64(glTime))
}

// BenchmarkBlob30GiB checks a 30 GiB fixed VHD (sparse: the compliant fixture's partitions at
// the start of a 30 GiB disk) as a page blob in Azurite, by SAS URL, with the structural rules
// (content_scan = false), and reports the range requests and the bytes transferred next to the
// blob's size.
func BenchmarkBlob30GiB(b *testing.B) {
	dir := b.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	if out, err := exec.Command("cp", "--sparse=always", testfixture.Path(b, "clean.raw"), raw).CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	if err := os.Truncate(raw, 30<<30); err != nil {
		b.Fatal(err)
	}
	vhd := filepath.Join(dir, "disk.vhd")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, vhd).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img: %v %s", err, out)
	}
	az := testfixture.AzuriteServer(b)
	url := az.UploadPageBlob(b, "vhds", "disk.vhd", vhd)
	cfg := plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}}
	b.ResetTimer()
	var last *report.BlobInfo
	var size int64
	for i := 0; i < b.N; i++ {
		r, err := checkFile(url, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Compliant {
			b.Fatalf("not compliant: %+v", r.Blocking())
		}
		last, size = r.Image.Blob, r.Image.FileSize
	}
	b.StopTimer()
	b.ReportMetric(float64(last.Requests), "requests")
	b.ReportMetric(float64(last.Bytes)/float64(size)*100, "%bytes")
	b.Logf("30 GiB fixed VHD (%d bytes) in Azurite: %d range requests, %d bytes (%.4f%% of the blob), %d retries",
		size, last.Requests, last.Bytes, float64(last.Bytes)/float64(size)*100, last.Retries)
}

// BenchmarkBlobDebian checks a realistic Debian image (the debootstrap guest root of
// BenchmarkContentScan/os) twice in the same run: from the local raw file and as a fixed VHD page
// blob in Azurite by SAS URL, each with the structural rules only and with the content scan. It
// reports the bytes the blob check transferred as a ratio of the bytes the local check read from
// its file (the blob's budget is 1.25), and the range requests each blob check made.
func BenchmarkBlobDebian(b *testing.B) {
	dir := makeBenchImage(b, "debian-os", func() string { return testfixture.GuestRoot(b) }, 0, 1100, 1200, true)
	raw := filepath.Join(dir, "disk.raw")
	vhd := filepath.Join(b.TempDir(), "debian.vhd")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, vhd).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img: %v %s", err, out)
	}
	url := testfixture.AzuriteServer(b).UploadPageBlob(b, "vhds", "debian.vhd", vhd)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, off := range []bool{true, false} {
			cfg := plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: off}}
			local, err := checkFile(raw, cfg)
			if err != nil {
				b.Fatal(err)
			}
			remote, err := checkFile(url, cfg)
			if err != nil {
				b.Fatal(err)
			}
			what, unit := "with the content scan", "scan"
			if off {
				what, unit = "structural rules", "structural"
			}
			bl := remote.Image.Blob
			ratio := float64(bl.Bytes) / float64(local.Image.BytesRead)
			b.ReportMetric(ratio, "blob/local-bytes-"+unit)
			b.ReportMetric(float64(bl.Requests), "requests-"+unit)
			b.Logf("%s: local file %d bytes read; %d-byte blob: %d range requests, %d bytes (%.3f× the local bytes, %.2f%% of the blob), %d retries",
				what, local.Image.BytesRead, remote.Image.FileSize, bl.Requests, bl.Bytes, ratio, float64(bl.Bytes)/float64(remote.Image.FileSize)*100, bl.Retries)
		}
	}
}

// BenchmarkBlobLatency checks the Debian image of BlobDebian as a page blob behind a proxy that
// holds every range request for 20 ms (a storage account in another region), with the content
// scan: once with one content worker per CPU, as for a local file, and once with the workers a
// blob gets (one per concurrent request). It reports the second time as a ratio of the first.
func BenchmarkBlobLatency(b *testing.B) {
	dir := makeBenchImage(b, "debian-os", func() string { return testfixture.GuestRoot(b) }, 0, 1100, 1200, true)
	vhd := filepath.Join(b.TempDir(), "debian.vhd")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", filepath.Join(dir, "disk.raw"), vhd).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img: %v %s", err, out)
	}
	az := testfixture.AzuriteServer(b)
	url := testfixture.NewLatencyProxy(b, az.Endpoint, 20*time.Millisecond).Via(b, az.UploadPageBlob(b, "vhds", "debian.vhd", vhd))
	defer func(f func(*blob.Reader) int) { blobScanWorkers = f }(blobScanWorkers)
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}})
	run := func(workers int) (time.Duration, int64) {
		blobScanWorkers = func(*blob.Reader) int { return workers }
		start := time.Now()
		r, err := Check(url, p)
		if err != nil {
			b.Fatal(err)
		}
		if r.Content == nil || r.Content.Errors > 0 {
			b.Fatalf("content scan incomplete: %+v", r.Content)
		}
		return time.Since(start), r.Image.Blob.Requests
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		perCPU, reqs := run(runtime.NumCPU())
		blobWorkers, reqs2 := run(8)
		b.ReportMetric(float64(blobWorkers)/float64(perCPU), "blob-workers/per-cpu")
		b.Logf("20 ms per request: %d workers (one per CPU) %s with %d requests; 8 workers %s with %d requests (%.2f× the time)",
			runtime.NumCPU(), perCPU.Round(time.Millisecond), reqs, blobWorkers.Round(time.Millisecond), reqs2, float64(blobWorkers)/float64(perCPU))
	}
}

// BenchmarkWindowsCheck times the azure-windows check of a Windows image (a generalized
// Windows Server layout on NTFS plus 1 GiB of incompressible application data) without and
// with the content scan, each next to a plain sequential read of the same file in the same run.
func BenchmarkWindowsCheck(b *testing.B) {
	img := testfixture.WindowsImage(b, winimage.Options{RandomMiB: 1024})
	sequentialRead(b, img)
	readTime, size := sequentialRead(b, img)
	run := func(content bool) (time.Duration, int64) {
		cfg := plan.Choices{Profiles: []string{"azure-windows"}, Content: plan.ContentChoices{Off: !content}}
		start := time.Now()
		r, err := checkFile(img, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Compliant {
			b.Fatalf("bench image not compliant: %+v", r.Blocking())
		}
		return time.Since(start), r.Image.BytesRead
	}
	b.ResetTimer()
	var structural, scan time.Duration
	var structBytes, scanBytes int64
	for i := 0; i < b.N; i++ {
		d, n := run(false)
		structural, structBytes = structural+d, n
		d, n = run(true)
		scan, scanBytes = scan+d, n
	}
	b.StopTimer()
	structural /= time.Duration(b.N)
	scan /= time.Duration(b.N)
	b.ReportMetric(float64(structural)/float64(readTime), "structural/read")
	b.ReportMetric(float64(scan)/float64(readTime), "scan/read")
	b.ReportMetric(float64(structBytes)/float64(size)*100, "%bytes-structural")
	b.Logf("Windows image %d MiB: sequential read %v; azure-windows structural check %v (ratio %.4f, %d bytes read, %.3f%%); with the content scan %v (ratio %.2f, %d bytes read)",
		size>>20, readTime, structural, float64(structural)/float64(readTime), structBytes, float64(structBytes)/float64(size)*100,
		scan, float64(scan)/float64(readTime), scanBytes)
}

// BenchmarkCompressedContainers checks the real Debian guest (debootstrap, 2 GiB virtual)
// stored raw, as a compressed qcow2 (qemu-img convert -c) and as a streamOptimized VMDK, with
// the content scan, and reports each compressed check's time as a ratio of the raw one measured
// in the same run, and the bytes read from each file.
func BenchmarkCompressedContainers(b *testing.B) {
	src := filepath.Join(testfixture.GuestImage(b), "guest.qcow2")
	dir := b.TempDir()
	imgs := map[string]string{"raw": filepath.Join(dir, "guest.raw"), "qcow2-compressed": filepath.Join(dir, "guest-c.qcow2"),
		"vmdk-stream": filepath.Join(dir, "guest-s.vmdk")}
	for _, args := range [][]string{
		{"convert", "-O", "raw", src, imgs["raw"]},
		{"convert", "-c", "-O", "qcow2", src, imgs["qcow2-compressed"]},
		{"convert", "-O", "vmdk", "-o", "subformat=streamOptimized", src, imgs["vmdk-stream"]},
	} {
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			b.Fatalf("qemu-img %v: %v\n%s", args, err, out)
		}
	}
	timeCheck := func(img string) (time.Duration, int64) {
		sequentialRead(b, img) // from the page cache, like the others
		start := time.Now()
		r, err := checkFile(img, plan.Choices{Profiles: []string{"azure-linux"}})
		if err != nil {
			b.Fatal(err)
		}
		if r.Content == nil || r.Content.Errors > 0 {
			b.Fatalf("%s: content scan %+v", img, r.Content)
		}
		return time.Since(start), r.Image.BytesRead
	}
	times := map[string]time.Duration{}
	read := map[string]int64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range []string{"raw", "qcow2-compressed", "vmdk-stream"} {
			d, n := timeCheck(imgs[k])
			times[k] += d
			read[k] = n
		}
	}
	b.StopTimer()
	for _, k := range []string{"qcow2-compressed", "vmdk-stream"} {
		b.ReportMetric(float64(times[k])/float64(times["raw"]), k+"/raw")
	}
	for _, k := range []string{"raw", "qcow2-compressed", "vmdk-stream"} {
		st, _ := os.Stat(imgs[k])
		b.Logf("%-16s check %v, %d MiB read of a %d MiB file", k, (times[k] / time.Duration(b.N)).Round(time.Millisecond), read[k]>>20, st.Size()>>20)
	}
}
