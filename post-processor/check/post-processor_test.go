package check

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func newUI() (*packersdk.BasicUi, *bytes.Buffer) {
	var out bytes.Buffer
	return &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out}, &out
}

func TestConfigureRejectsBadSettings(t *testing.T) {
	cases := map[string]map[string]interface{}{
		"unknown profile":     {"profile": "gcp-linux"},
		"waiver w/o reason":   {"waive": []map[string]interface{}{{"rule": "no-swap"}}},
		"waiver unknown rule": {"waive": []map[string]interface{}{{"rule": "nope", "reason": "x"}}},
		"bad fail_on":         {"fail_on": "severe"},
	}
	for name, raw := range cases {
		var p PostProcessor
		if err := p.Configure(raw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if got := p.config.settings.Profiles; len(got) != 1 || got[0] != "azure-linux" {
		t.Errorf("default profile %v", got)
	}
}

func TestPostProcessFailsTheBuildOnViolations(t *testing.T) {
	dir := t.TempDir()
	var p PostProcessor
	err := p.Configure(map[string]interface{}{
		"profile":      "azure-linux",
		"json_report":  filepath.Join(dir, "report.json"),
		"junit_report": filepath.Join(dir, "junit.xml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// the qemu builder's artifact: the disk plus a file that is not a disk
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, bytes.Repeat([]byte("build notes\n"), 100), 0o644)
	art := &packersdk.MockArtifact{BuilderIdValue: "transcend.qemu", FilesValue: []string{notes, testfixture.Path(t, "dirty.qcow2")}}
	ui, out := newUI()
	got, keep, force, err := p.PostProcess(context.Background(), ui, art)
	if err == nil {
		t.Fatal("a dirty image passed")
	}
	if got != art || !keep || !force {
		t.Errorf("the artifact must be passed on and kept: %v %v %v", got, keep, force)
	}
	for _, id := range []string{"no-swap", "no-shell-history", "ssh-client-alive-interval", "kernel-cmdline"} {
		if !strings.Contains(err.Error(), id) || !strings.Contains(out.String(), id) {
			t.Errorf("rule %s not named in the error or the output", id)
		}
	}
	var rep struct{ Compliant bool }
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(js, &rep) != nil || rep.Compliant {
		t.Errorf("JSON report: %v compliant=%v", err, rep.Compliant)
	}
	if _, err := os.Stat(filepath.Join(dir, "junit.xml")); err != nil {
		t.Error(err)
	}
}

func TestPostProcessPassesACompliantImage(t *testing.T) {
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux"}); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	art := &packersdk.MockArtifact{FilesValue: []string{testfixture.Path(t, "clean-fixed.vhd")}}
	if _, _, _, err := p.PostProcess(context.Background(), ui, art); err != nil {
		t.Fatalf("clean image failed: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "COMPLIANT") {
		t.Errorf("output lacks the verdict:\n%s", out)
	}
}

func TestPostProcessNeedsADisk(t *testing.T) {
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{}); err != nil {
		t.Fatal(err)
	}
	ui, _ := newUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &packersdk.MockArtifact{BuilderIdValue: "Azure.ResourceManagement.VMImage"})
	if err == nil || !strings.Contains(err.Error(), "no local disk image") || !strings.Contains(err.Error(), "image") {
		t.Errorf("artifact without a disk: %v", err)
	}
}

func TestReportFormats(t *testing.T) {
	dir := t.TempDir()
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"report_formats": []string{"json", "junit", "mscert"}, "report_dir": dir}); err != nil {
		t.Fatal(err)
	}
	ui, _ := newUI()
	p.PostProcess(context.Background(), ui, &packersdk.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	b, err := os.ReadFile(filepath.Join(dir, "marketplace-check-mscert.json"))
	if err != nil || !strings.Contains(string(b), `"TestCaseName": "Client Alive Interval"`) {
		t.Errorf("mscert report: %v\n%s", err, b)
	}
	for _, n := range []string{"marketplace-check.json", "marketplace-check-junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Error(err)
		}
	}
	var bad PostProcessor
	if err := bad.Configure(map[string]interface{}{"report_formats": []string{"pdf"}}); err == nil {
		t.Error("unknown report format accepted")
	}
}
