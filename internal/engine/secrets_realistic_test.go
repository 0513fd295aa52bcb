package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The realistic OS image of BenchmarkContentScan/os (the debootstrap guest root: a kernel and
// its initramfs, apt's cache of the packages it installed, thousands of binaries), built once
// and cached under testdata/bench/debian-os like the benchmark's: now that binary files, the
// initramfs and the cached packages are searched, the credential rule still finds nothing (the
// packages and their members are the distribution's, skipped by their digests).
func TestRealisticOSImageHasNoCredentialFindings(t *testing.T) {
	dir := filepath.Join(testfixture.RepoRoot(), "testdata", "bench", "debian-os")
	if _, err := os.Stat(filepath.Join(dir, "disk.raw")); err != nil {
		cmd := exec.Command("bash", filepath.Join(testfixture.RepoRoot(), "scripts", "make-bench-image.sh"), testfixture.GuestRoot(t), dir,
			fmt.Sprint(0), fmt.Sprint(1100), fmt.Sprint(1200))
		cmd.Env = append(os.Environ(), "KEEP_TREE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make-bench-image: %v\n%s", err, out)
		}
	}
	r := mustCheck(t, filepath.Join(dir, "disk.raw"), plan.Choices{Profiles: []string{"azure-linux"}})
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Pass {
		t.Errorf("no-hardcoded-credentials: %s: %s", f.Status, f.Message)
		for _, e := range f.Evidence {
			t.Errorf("  %s:%d %s", e.Path, e.Line, e.Detail)
		}
	}
}
