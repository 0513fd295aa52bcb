package osv

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// dumpLike is an all.zip shaped like a distribution's: n records, each for one of three
// releases, with the ranges, versions lists and database fields real records carry.
func dumpLike(n int) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	releases := []string{"Debian:11", "Debian:12", "Debian:13"}
	versions := `["1.0-1", "1.0-2", "1.1-1", "1.1-2", "1.2-1", "1.2-2", "1.3-1", "1.3-2", "1.4-1", "1.4-2"]`
	for i := 0; i < n; i++ {
		m, _ := w.Create(fmt.Sprintf("DEBIAN-CVE-2026-%05d.json", i))
		fmt.Fprintf(m, `{"schema_version": "1.6.0", "id": "DEBIAN-CVE-2026-%05d", "modified": "2026-12-01T00:00:00Z",
 "published": "2026-01-01T00:00:00Z", "aliases": ["CVE-2026-%05d"], "summary": "a generated record of realistic size",
 "details": "%s",
 "affected": [{"package": {"ecosystem": %q, "name": "pkg%d", "purl": "pkg:deb/debian/pkg%d?arch=source"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5-1"}]}], "versions": %s,
  "ecosystem_specific": {"urgency": "low"}, "database_specific": {"source": "https://security-tracker.debian.org/tracker/CVE-2026-%05d"}}],
 "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2026-%05d"}]}`,
			i, i, bytes.Repeat([]byte("x"), 400), releases[i%3], i%5000, i%5000, versions, i, i)
	}
	w.Close()
	return b.Bytes()
}

// BenchmarkReadZipVsUnzip times reading the release's records out of a 60,000-record dump
// (the installed packages: 500 of 5,000 names) against `unzip -p` of the same file to
// /dev/null, in the same run, and reports the ratio and the heap in use after the read.
func BenchmarkReadZipVsUnzip(b *testing.B) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		b.Skip("unzip is not installed")
	}
	data := dumpLike(60000)
	path := filepath.Join(b.TempDir(), "all.zip")
	os.WriteFile(path, data, 0o644)
	installed := map[string]bool{}
	for i := 0; i < 5000; i += 10 {
		installed[fmt.Sprintf("pkg%d", i)] = true
	}
	f := Filter{Ecosystems: []string{"Debian:12"}, Package: func(n string) bool { return installed[n] }}
	b.SetBytes(int64(len(data)))
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		cmd := exec.Command(unzip, "-p", path)
		cmd.Stdout = nil
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(t0)
		t0 = time.Now()
		fh, _ := os.Open(path)
		db, err := ReadZip(path, fh, int64(len(data)), f)
		fh.Close()
		if err != nil || db.Kept == 0 {
			b.Fatal(err)
		}
		ours += time.Since(t0)
	}
	b.ReportMetric(float64(ours)/float64(theirs), "x-unzip")
	b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "read-ms")
	b.ReportMetric(float64(theirs.Milliseconds())/float64(b.N), "unzip-ms")
}
