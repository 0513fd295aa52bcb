package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// TestVulnerabilityFlags: --vulnerability-db judges the installed packages against a dump
// (the dirty image fails on the demo's advisory, the clean one passes), no data is exit 2,
// --no-vulnerability-scan says the rule was turned off, a bad threshold is refused, and the
// SBOM lists the advisory found.
func TestVulnerabilityFlags(t *testing.T) {
	db := testfixture.OSVRecords(t, testfixture.DemoOpenSSLRecord())
	dir := t.TempDir()
	dirty, clean := testfixture.Path(t, "dirty.raw"), testfixture.Path(t, "clean.raw")
	report := filepath.Join(dir, "r.json")
	sbom := filepath.Join(dir, "sbom.json")
	code, out, errs := run("--profile", "azure-linux", "--no-content-scan", "--vulnerability-db", db, "--json", report, "--sbom", sbom, dirty)
	if code != ExitViolations || !strings.Contains(out, "security-updates-installed") {
		t.Fatalf("dirty: exit %d\n%s\n%s", code, out, errs)
	}
	var r struct {
		Findings []struct{ Rule, Status, Message string }
	}
	b, _ := os.ReadFile(report)
	json.Unmarshal(b, &r)
	found := false
	for _, f := range r.Findings {
		if f.Rule == "security-updates-installed" {
			found = f.Status == "fail" && strings.Contains(f.Message, "DEMO-OPENSSL-1 openssl")
		}
	}
	if !found {
		t.Errorf("the JSON report has no failing security-updates-installed naming the advisory: %s", b)
	}
	if s, _ := os.ReadFile(sbom); !strings.Contains(string(s), `"vulnerabilities"`) || !strings.Contains(string(s), "DEMO-OPENSSL-1") {
		t.Errorf("the SBOM lists no vulnerability: %s", s)
	}
	if code, out, errs := run("--profile", "azure-linux", "--no-content-scan", "--vulnerability-db", db, clean); code != ExitCompliant {
		t.Errorf("clean: exit %d\n%s\n%s", code, out, errs)
	}
	missing := filepath.Join(dir, "missing.zip")
	if code, out, _ := run("--profile", "azure-linux", "--no-content-scan", "--vulnerability-db", missing, clean); code != ExitCannot || !strings.Contains(out, "vulnerability_db") {
		t.Errorf("no data: exit %d\n%s", code, out)
	}
	if code, out, _ := run("--profile", "azure-linux", "--no-content-scan", "--vulnerability-db", missing, "--no-vulnerability-scan", "--format", "json", clean); code != ExitCompliant || !strings.Contains(out, "turned off") {
		t.Errorf("turned off: exit %d\n%s", code, out)
	}
	if code, _, errs := run("--vulnerability-fail-on", "severe", clean); code != ExitCannot || !strings.Contains(errs, "--vulnerability-fail-on") {
		t.Errorf("bad threshold: exit %d\n%s", code, errs)
	}
	if code, _, errs := run("--vulnerability-db", "http://mirror.example.com/all.zip", clean); code != ExitCannot || !strings.Contains(errs, "plain http is refused") {
		t.Errorf("plain http: exit %d\n%s", code, errs)
	}
}
