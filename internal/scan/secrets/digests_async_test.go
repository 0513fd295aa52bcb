package secrets

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// TestDigestsReadInBackground: with the package digests read in the background (forImage), a
// worker is made only once the dpkg digests are there, a file outside apt's cache is begun
// without waiting for apt's, and a package in apt's cache waits for them: both are then skipped
// by digest exactly as when Options holds the maps from the start.
func TestDigestsReadInBackground(t *testing.T) {
	conf := []byte("password = Sup3rS3cretPassw0rd\n")
	deb := []byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n")
	md, sh := md5.Sum(conf), sha256.Sum256(deb)
	const confPath, debPath = "/etc/app.conf", aptCacheDir + "app_1.0_amd64.deb"
	release, releaseVendor := make(chan struct{}), make(chan struct{})
	s, err := New(Options{FingerprintKey: []byte("k"), readDigests: &digestReaders{
		vendor: func() map[string]string {
			<-releaseVendor
			return map[string]string{confPath: hex.EncodeToString(md[:])}
		},
		archives: func() map[string]string {
			<-release
			return map[string]string{debPath: hex.EncodeToString(sh[:])}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	made := make(chan scan.Worker, 1)
	go func() {
		w, _ := s.NewWorker()
		made <- w
	}()
	var w scan.Worker
	select {
	case w = <-made:
		t.Error("a worker was made before the dpkg digests were read")
	case <-time.After(100 * time.Millisecond):
	}
	close(releaseVendor)
	if w == nil {
		w = <-made
	}
	run := func(path string, content []byte) scan.Outcome {
		k, err := w.Begin(&scan.File{Path: path, Location: path, Size: int64(len(content))})
		if err != nil || k == nil {
			t.Fatalf("%s: Begin %v %v", path, err, k)
		}
		if err := k.Write(content); err != nil && err != scan.ErrEnough {
			t.Fatal(err)
		}
		if err := k.End(); err != nil {
			t.Fatalf("%s: End %v", path, err)
		}
		return k.(scan.Accounted).Outcome()
	}
	done := make(chan scan.Outcome)
	go func() { done <- run(confPath, conf) }()
	select {
	case o := <-done:
		if o != scan.Skipped {
			t.Errorf("%s: %v, want skipped by its dpkg digest", confPath, o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a file outside apt's cache waited for apt's digests")
	}
	go func() { done <- run(debPath, deb) }()
	var o scan.Outcome
	select {
	case o = <-done:
		t.Errorf("%s was searched (%v) before apt's digests were read", debPath, o)
		close(release)
	case <-time.After(100 * time.Millisecond):
		close(release)
		select {
		case o = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("apt's digests were read, and the package still waits")
		}
	}
	if o != scan.Skipped {
		t.Errorf("%s: %v, want skipped by its apt index digest", debPath, o)
	}
	if len(s.Findings()) != 0 {
		t.Errorf("findings %v, want none", s.Findings())
	}
}
