package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// qemuBuild runs one build of example/qemu-debian.pkr.hcl ("marketplace": harden then check, or
// "check-only") on a fresh copy of the dirty Debian guest, booted by the real QEMU builder under
// TCG. It returns the output, the output directory prefix and the build error.
func qemuBuild(t *testing.T, build string, vars ...string) (string, string, error) {
	t.Helper()
	bin, env := packer(t, "qemu")
	guest := testfixture.GuestImage(t)
	work := t.TempDir()
	out := filepath.Join(work, "output")
	args := []string{"build", "-color=false", "-only=" + build + ".qemu.debian",
		"-var", "guest_dir=" + guest, "-var", "output_dir=" + out}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	args = append(args, filepath.Join(testfixture.RepoRoot(), "example", "qemu-debian.pkr.hcl"))
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, work
	start := time.Now()
	b, err := cmd.CombinedOutput()
	t.Logf("packer build -only=%s.qemu.debian took %s", build, time.Since(start).Round(time.Second))
	// the guest's console tells why a build failed before the check ran
	if serial, rerr := os.ReadFile(out + "-serial.log"); rerr == nil && err != nil && !strings.Contains(string(b), "(marketplace-check)") {
		t.Logf("guest serial console (last 2 KB):\n%s", tail(serial, 2048))
	}
	return string(b), out, err
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// The dirty guest, booted and shut down without hardening, fails the build, and the output names
// the violated rules.
func TestQEMUDirtyGuestFailsTheCheck(t *testing.T) {
	out, _, err := qemuBuild(t, "check-only")
	if err == nil {
		t.Fatalf("the dirty guest passed marketplace-check:\n%s", out)
	}
	if !strings.Contains(out, "Build 'check-only.qemu.debian' errored") {
		t.Fatalf("the build did not fail in marketplace-check:\n%s", out)
	}
	for _, id := range []string{"no-swap", "no-shell-history", "ssh-client-alive-interval", "kernel-cmdline", "azure-agent",
		"locked-accounts", "no-ssh-keys", "no-resolv-conf"} {
		if !strings.Contains(out, id) {
			t.Errorf("output does not name %s", id)
		}
	}
}

// The same guest hardened by marketplace-harden over SSH, then shut down by Packer, passes
// marketplace-check; the per-step results and every report are written.
func TestQEMUHardenThenCheck(t *testing.T) {
	out, prefix, err := qemuBuild(t, "marketplace")
	if err != nil {
		t.Fatalf("packer build failed: %v\n%s", err, out)
	}
	for _, want := range []string{"[patch] refreshed the package index", "[kernel-cmdline] regenerated grub.cfg (update-grub)",
		"[history] removed /root/.bash_history", "reading every file of the image (content scan)", "PASS    critical  no-hardcoded-credentials"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q", want)
		}
	}
	var results struct {
		Finished bool
		Steps    []struct{ Step, Status string }
	}
	if b, err := os.ReadFile(prefix + "-harden.json"); err != nil || json.Unmarshal(b, &results) != nil || !results.Finished {
		t.Errorf("harden results: %v %s", err, b)
	}
	for _, s := range results.Steps {
		if s.Status == "failed" {
			t.Errorf("step %s failed", s.Step)
		}
	}
	var rep struct{ Compliant bool }
	if b, err := os.ReadFile(filepath.Join(prefix+"-reports", "marketplace-check.json")); err != nil || json.Unmarshal(b, &rep) != nil || !rep.Compliant {
		t.Errorf("JSON report: %v %s", err, b)
	}
	for _, f := range []string{"marketplace-check-junit.xml", "marketplace-check-mscert.json", "marketplace-check.sarif", "sbom.cdx.json"} {
		if _, err := os.Stat(filepath.Join(prefix+"-reports", f)); err != nil {
			t.Error(err)
		}
	}
}

// A failure the publisher accepts is waived in HCL: the support log the harden keeps
// (keep_paths) fails empty-logs, the waiver with its reason turns it into a reported, waived
// finding, and the build succeeds.
func TestQEMUWaiverInHCL(t *testing.T) {
	const reason = "the appliance ships its install log for support cases"
	out, prefix, err := qemuBuild(t, "marketplace", `keep_paths=["/var/log/build.log"]`, `waivers={"empty-logs":"`+reason+`"}`)
	if err != nil {
		t.Fatalf("the waived build failed: %v\n%s", err, out)
	}
	for _, want := range []string{"kept /var/log/build.log (keep_paths)", "WAIVED", reason, "/var/log/build.log"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q", want)
		}
	}
	var rep struct {
		Compliant bool
		Findings  []struct{ Rule, Status string }
	}
	b, err := os.ReadFile(filepath.Join(prefix+"-reports", "marketplace-check.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("JSON report: %v %s", err, b)
	}
	waived := false
	for _, r := range rep.Findings {
		if r.Rule == "empty-logs" && r.Status == "waived" {
			waived = true
		}
	}
	if !waived || !strings.Contains(string(b), reason) {
		t.Errorf("the JSON report lacks the waived empty-logs finding and its reason:\n%s", b)
	}
}
