package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Check(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitStatuses(t *testing.T) {
	clean, dirty := testfixture.Path(t, "clean.vmdk"), testfixture.Path(t, "dirty.vhdx")
	if code, out, errs := run(clean); code != ExitCompliant || !strings.Contains(out, "Verdict: COMPLIANT") {
		t.Errorf("clean: %d\n%s%s", code, out, errs)
	}
	if code, out, _ := run(dirty, "--profile", "alibaba"); code != ExitViolations || !strings.Contains(out, "NOT COMPLIANT") {
		t.Errorf("dirty: %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.qcow2")
	os.WriteFile(bad, []byte("QFI\xfb\x00\x00\x00\x03"+strings.Repeat("\x00", 600)), 0o644)
	code, _, errs := run(bad)
	if code != ExitCannot || !strings.Contains(errs, "bad.qcow2") {
		t.Errorf("corrupt: %d %q", code, errs)
	}
	// the worst status wins when several images are checked
	if code, _, _ := run("--quiet", clean, dirty, bad); code != ExitCannot {
		t.Errorf("mixed: %d", code)
	}
	if code, _, errs := run("--profile", "nope", clean); code != ExitCannot || !strings.Contains(errs, "unknown profile") {
		t.Errorf("bad profile: %d %q", code, errs)
	}
	if code, _, _ := run(); code != ExitCannot {
		t.Errorf("no image: %d", code)
	}
}

func TestFlagsAfterImagesAndPerImageReports(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	code, _, errs := run(testfixture.Path(t, "clean.raw"), "--quiet", testfixture.Path(t, "dirty.raw"), "--json", js,
		"--waive", "firewall-disabled=appliance", "--fail-on", "high")
	if code != ExitViolations {
		t.Fatalf("%d %s", code, errs)
	}
	for _, n := range []string{"r-clean.json", "r-dirty.json"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		var doc struct {
			FailOn   string `json:"fail_on"`
			Findings []struct{ Rule, Status string }
		}
		if err != nil || json.Unmarshal(b, &doc) != nil || doc.FailOn != "high" {
			t.Errorf("%s: %v %s", n, err, doc.FailOn)
		}
		if n == "r-dirty.json" {
			for _, f := range doc.Findings {
				if f.Rule == "firewall-disabled" && f.Status != "waived" {
					t.Errorf("waiver not applied: %s", f.Status)
				}
			}
		}
	}
}

func TestRulesListing(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Rules([]string{"--profile", "alibaba"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "no-hardcoded-credentials") || strings.Contains(out.String(), "kernel-cmdline") {
		t.Errorf("%d\n%s", code, out.String())
	}
}

func TestFormatMSCert(t *testing.T) {
	code, out, errs := run("--format", "mscert", testfixture.Path(t, "dirty.raw"))
	var doc struct {
		TestResult string
		Tests      []struct{ TestCaseName, Result string }
	}
	if code != ExitViolations || json.Unmarshal([]byte(out), &doc) != nil || doc.TestResult != "Fail" || len(doc.Tests) < 6 {
		t.Errorf("--format mscert: %d %q\n%s", code, errs, out)
	}
	if code, _, _ := run("--format", "pdf", testfixture.Path(t, "dirty.raw")); code != ExitCannot {
		t.Errorf("unknown format: %d", code)
	}
}

func TestCheckContentFlags(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	img := testfixture.Path(t, "dirty.raw")
	code := Check([]string{"--sarif", filepath.Join(dir, "r.sarif"), "--sbom", filepath.Join(dir, "s.json"),
		"--integrity-manifest", filepath.Join(dir, "m.json"), "--progress", "--quiet", img}, &out, &errb)
	if code != ExitViolations {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, f := range []string{"r.sarif", "s.json", "m.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(errb.String(), "content scan 100%") {
		t.Errorf("no progress on stderr: %q", errb.String())
	}
	out.Reset()
	if code := Check([]string{"--no-content-scan", "--format", "sarif", img}, &out, &errb); code != ExitViolations || !strings.Contains(out.String(), `"version": "2.1.0"`) {
		t.Errorf("--format sarif: exit %d %s", code, out.String()[:min(200, out.Len())])
	}
	if code := Check([]string{"--clamd", "unix:///nonexistent.sock", img}, &out, &errb); code != ExitCannot || !strings.Contains(errb.String(), "clamd is unreachable") {
		t.Errorf("unreachable clamd: exit %d %s", code, errb.String())
	}
}
