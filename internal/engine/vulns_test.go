package engine_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func updatesFinding(t *testing.T, image string, v plan.VulnChoices) report.Finding {
	t.Helper()
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}, Vulnerabilities: v})
	r, err := engine.Check(image, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Rule == "security-updates-installed" {
			return f
		}
	}
	t.Fatal("no security-updates-installed finding")
	return report.Finding{}
}

func text(f report.Finding) string {
	s := f.Message
	for _, e := range f.Evidence {
		s += "\n" + e.Path + ": " + e.Detail
	}
	return s
}

// TestSecurityUpdatesOnTheFixtures: the dirty image's openssl 0.9.8o is behind the fixture
// advisory's fix and fails, naming the advisory, the versions and the package database; the
// clean image's 3.0.14 passes; no data, stale data and data turned off are each said.
func TestSecurityUpdatesOnTheFixtures(t *testing.T) {
	db := testfixture.OSVRecords(t, testfixture.DemoOpenSSLRecord())
	f := updatesFinding(t, testfixture.Path(t, "dirty.qcow2"), plan.VulnChoices{DB: db})
	if f.Status != rules.Fail || !f.Blocking {
		t.Fatalf("dirty: %s %s", f.Status, text(f))
	}
	for _, s := range []string{"DEMO-OPENSSL-1", "openssl 0.9.8o-4squeeze14", "fixed in 3.0.11-1~deb12u2", "/var/lib/dpkg/status", "Debian:12", "high (CVSS:3.1 base 7.5)"} {
		if !strings.Contains(text(f), s) {
			t.Errorf("dirty: %q not in %s", s, text(f))
		}
	}
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), plan.VulnChoices{DB: db}); f.Status != rules.Pass {
		t.Errorf("clean: %s %s", f.Status, text(f))
	}
	// below vulnerability_fail_on: a warning, not a failure
	if f := updatesFinding(t, testfixture.Path(t, "dirty.qcow2"), plan.VulnChoices{DB: db, FailOn: "critical"}); f.Status != rules.Warn || f.Blocking {
		t.Errorf("dirty, fail on critical: %s %s", f.Status, text(f))
	}
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), plan.VulnChoices{DB: filepath.Join(t.TempDir(), "missing.zip")}); f.Status != rules.Error || !strings.Contains(f.Message, "vulnerability_db") {
		t.Errorf("no data: %s %s", f.Status, text(f))
	}
	old := time.Now().Add(-48 * time.Hour)
	stale := testfixture.OSVRecords(t)
	os.Chtimes(filepath.Join(stale, "record-000.json"), old, old)
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), plan.VulnChoices{DB: stale}); f.Status != rules.Error || !strings.Contains(f.Message, "vulnerability_db_max_age") {
		t.Errorf("stale data: %s %s", f.Status, text(f))
	}
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), plan.VulnChoices{Off: true}); f.Status != rules.NotApplicable || !strings.Contains(f.Message, "turned off") {
		t.Errorf("off: %s %s", f.Status, text(f))
	}
	// a waiver does not cover the error of missing data
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true},
		Vulnerabilities: plan.VulnChoices{DB: filepath.Join(t.TempDir(), "missing.zip")},
		Waivers:         []plan.Waiver{{Rule: "security-updates-installed", Reason: "we patch at boot"}}})
	r, err := engine.Check(testfixture.Path(t, "clean-fixed.vhd"), p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Compliant {
		t.Error("a waiver turned missing vulnerability data into a pass")
	}
}

// TestSecurityUpdatesDownloads: with a URL the dump is downloaded once into the cache and
// reused while fresh (a loopback http server stands for OSV's bucket).
func TestSecurityUpdatesDownloads(t *testing.T) {
	dump := testfixture.OSVDump(testfixture.DemoOpenSSLRecord())
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Write(dump)
	}))
	defer srv.Close()
	v := plan.VulnChoices{DB: srv.URL + "/Debian/all.zip", CacheDir: t.TempDir()}
	if f := updatesFinding(t, testfixture.Path(t, "dirty.qcow2"), v); f.Status != rules.Fail || !strings.Contains(text(f), srv.URL) {
		t.Errorf("dirty: %s %s", f.Status, text(f))
	}
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), v); f.Status != rules.Pass {
		t.Errorf("clean: %s %s", f.Status, text(f))
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (the second check uses the cache)", n)
	}
	srv.Close()
	v.CacheDir = t.TempDir()
	if f := updatesFinding(t, testfixture.Path(t, "clean-fixed.vhd"), v); f.Status != rules.Error || !strings.Contains(f.Message, "vulnerability_db") {
		t.Errorf("server gone, no cache: %s %s", f.Status, text(f))
	}
}
