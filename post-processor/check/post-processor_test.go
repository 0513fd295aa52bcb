package check

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func newUI() (*packer.BasicUi, *bytes.Buffer) {
	var out bytes.Buffer
	return &packer.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out}, &out
}

func TestConfigureRejectsBadSettings(t *testing.T) {
	cases := map[string]map[string]interface{}{
		"unknown profile":     {"profile": "gcp-linux"},
		"waiver w/o reason":   {"waive": []map[string]interface{}{{"rule": "no-swap"}}},
		"waiver unknown rule": {"waive": []map[string]interface{}{{"rule": "nope", "reason": "x"}}},
		"bad fail_on":         {"fail_on": "severe"},
		// before the plan, a malformed clamd address failed only after the whole VM build
		"bad clamd_address": {"clamd_address": "clamd"},
		"bad report format": {"report_formats": []string{"html"}},
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
	if got := p.plan.Profiles(); len(got) != 1 || got[0] != "azure-linux" {
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
	art := &packer.MockArtifact{BuilderIdValue: "transcend.qemu", FilesValue: []string{notes, testfixture.Path(t, "dirty.qcow2")}}
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
	art := &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "clean-fixed.vhd")}}
	if _, _, _, err := p.PostProcess(context.Background(), ui, art); err != nil {
		t.Fatalf("clean image failed: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "COMPLIANT") {
		t.Errorf("output lacks the verdict:\n%s", out)
	}
	// the table reaches Packer's UI as the check wrote it (the redaction of the UI once took
	// the line after "... empty password" for a password)
	var table strings.Builder
	r, err := engine.Check(testfixture.Path(t, "clean-fixed.vhd"), p.plan)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteTable(&table)
	for _, line := range strings.Split(table.String(), "\n") {
		if strings.HasPrefix(line, "PASS") && !strings.Contains(out.String(), line) {
			t.Errorf("the UI shows the table altered; missing line %q", line)
		}
	}
}

func TestPostProcessNeedsADisk(t *testing.T) {
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{}); err != nil {
		t.Fatal(err)
	}
	ui, _ := newUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &packer.MockArtifact{BuilderIdValue: "mitchellh.amazonebs"})
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
	p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
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

// The content-scan options from HCL reach the engine: clamd finds the planted file, the SARIF
// report, the SBOM and the integrity baseline are written, and content_scan = false turns the
// content rules off.
func TestContentScanOptions(t *testing.T) {
	dir := t.TempDir()
	var p PostProcessor
	err := p.Configure(map[string]interface{}{
		"profile":                    "azure-linux",
		"clamd_address":              testfixture.DirtyClamd(t).Address,
		"clamd_max_stream_mb":        8,
		"sarif_report":               filepath.Join(dir, "r.sarif"),
		"sbom":                       filepath.Join(dir, "sbom.json"),
		"integrity_manifest":         filepath.Join(dir, "baseline.json"),
		"secrets_allow_paths":        []string{"/home/tester/.ssh/"},
		"secrets_allow_fingerprints": []string{"0000000000000000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	_, _, _, err = p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.qcow2")}})
	if err == nil || !strings.Contains(err.Error(), "no-malware") || !strings.Contains(err.Error(), "no-hardcoded-credentials") {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if strings.Contains(out.String(), "/home/tester/.ssh/id_ed25519: ") && strings.Contains(out.String(), "private-key") {
		t.Errorf("secrets_allow_paths was not applied:\n%s", out)
	}
	for _, f := range []string{"r.sarif", "sbom.json", "baseline.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	var off PostProcessor
	if err := off.Configure(map[string]interface{}{"content_scan": false}); err != nil {
		t.Fatal(err)
	}
	if !off.plan.ContentOff() || off.plan.NeedsContent() {
		t.Error("content_scan = false did not turn the pass off")
	}
}

// An azure-arm artifact that captured a VHD is checked where Azure keeps it, by its read-only
// SAS URL; a managed image without a VHD gets a message saying how to capture one.
func TestAzureArtifactIsReadFromBlobStorage(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	sasURL := az.UploadPageBlob(t, "system", "Microsoft.Compute/Images/images/pkr-osDisk.vhd", testfixture.Path(t, "clean-fixed.vhd"))
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux", "content_scan": false}); err != nil {
		t.Fatal(err)
	}
	art := &packer.MockArtifact{BuilderIdValue: azureARM, FilesValue: []string{}, IdValue: strings.SplitN(sasURL, "?", 2)[0],
		StringValue: "Azure.ResourceManagement.VMImage:\n\nOSType: Linux\nOSDiskUri: " + strings.SplitN(sasURL, "?", 2)[0] + "\nOSDiskUriReadOnlySas: " + sasURL + "\n"}
	ui, out := newUI()
	if _, _, _, err := p.PostProcess(context.Background(), ui, art); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "range requests") || strings.Contains(out.String(), "sig=") {
		t.Errorf("output lacks the request count or shows the SAS token:\n%s", out)
	}
	managed := &packer.MockArtifact{BuilderIdValue: azureARM, FilesValue: []string{},
		IdValue: "/subscriptions/x/resourceGroups/images/providers/Microsoft.Compute/images/ubuntu-marketplace"}
	managed.StringValue = "Azure.ResourceManagement.VMImage:\n\nOSType: Linux\nManagedImageName: ubuntu-marketplace\n"
	_, _, _, err := p.PostProcess(context.Background(), ui, managed)
	if err == nil || !strings.Contains(err.Error(), "capture_container_name") || !strings.Contains(err.Error(), "vhd_url") {
		t.Errorf("managed image: %v", err)
	}
}

// A vhd_url that cannot be read fails the build without printing its SAS signature or password
// in the error or in anything said to Packer's UI.
func TestURLSecretsNeverPrinted(t *testing.T) {
	for _, url := range []string{
		"https://127.0.0.1:9/c/x.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIGNATURE%2Bx",
		"https://deployer:hunter2pw@127.0.0.1:9/c/x.vhd",
	} {
		var p PostProcessor
		if err := p.Configure(map[string]interface{}{"vhd_url": url, "content_scan": false}); err != nil {
			t.Fatal(err)
		}
		ui, out := newUI()
		_, _, _, err := p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{}})
		if err == nil {
			t.Fatalf("%s: no error", url)
		}
		all := out.String() + err.Error()
		for _, secret := range []string{"SECRETSIGNATURE", "hunter2pw"} {
			if strings.Contains(all, secret) {
				t.Errorf("%s: prints %s:\n%s", url, secret, all)
			}
		}
	}
}

// Issue 25.3 at `packer validate` time: an output path that cannot be written, that is the
// image checked, or that is another output fails Configure naming the option, before any
// build (json_report = "/proc/nope/m.json" used to pass validate, run the whole check, print
// COMPLIANT and then fail).
func TestConfigureChecksOutputPaths(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.raw")
	os.WriteFile(img, []byte("not checked here"), 0o644)
	os.Symlink(dir, filepath.Join(dir, "link"))
	cases := map[string]struct {
		raw  map[string]interface{}
		want []string
	}{
		"not creatable":      {map[string]interface{}{"json_report": "/proc/nope/m.json"}, []string{"json_report", "/proc/nope/m.json"}},
		"report_dir":         {map[string]interface{}{"report_formats": []string{"sarif"}, "report_dir": "/proc/nope"}, []string{"report_dir", "sarif"}},
		"sbom under a file":  {map[string]interface{}{"sbom": filepath.Join(img, "sbom.json")}, []string{"sbom", "not a directory"}},
		"the image":          {map[string]interface{}{"image": img, "junit_report": img}, []string{"junit_report", "destroy the image"}},
		"the image via link": {map[string]interface{}{"image": img, "sarif_report": filepath.Join(dir, "link", "disk.raw")}, []string{"sarif_report", "destroy the image"}},
		"two outputs":        {map[string]interface{}{"json_report": filepath.Join(dir, "r.json"), "integrity_manifest": filepath.Join(dir, "link", "r.json")}, []string{"integrity_manifest", "json_report"}},
		"manifest, no scan":  {map[string]interface{}{"integrity_manifest": filepath.Join(dir, "m.json"), "content_scan": false}, []string{"integrity_manifest", "content_scan = false"}},
		"invisible reason":   {map[string]interface{}{"waive": []map[string]interface{}{{"rule": "no-swap", "reason": "\u200b"}}}, []string{`"no-swap"`, "no visible letters"}},
	}
	for name, c := range cases {
		var p PostProcessor
		err := p.Configure(c.raw)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"image": img, "json_report": filepath.Join(dir, "new", "r.json")}); err != nil {
		t.Errorf("a report in a directory still to be created: %v", err)
	}
}

// Issue 25.7: Packer's context reaches the check: a cancelled build stops the content pass and
// the post-processor returns the cancellation, with no verdict.
func TestPostProcessHonoursCancellation(t *testing.T) {
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ui, out := newUI()
	_, _, _, err := p.PostProcess(ctx, ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	if err == nil || !strings.Contains(err.Error(), "context canceled") || strings.Contains(out.String(), "COMPLIANT") {
		t.Errorf("err %v\n%s", err, out)
	}
}

// Without a terminal (Packer draws no progress bar then) the post-processor says a progress
// line every interval of the content pass.
func TestProgressLinesWithoutATerminal(t *testing.T) {
	defer func(d time.Duration, f func() bool) { progressEvery, haveTerminal = d, f }(progressEvery, haveTerminal)
	progressEvery, haveTerminal = time.Millisecond, func() bool { return false }
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux"}); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	if n := strings.Count(out.String(), "\ndirty.raw: content scan "); n < 2 || !strings.Contains(out.String(), "content scan 100%") {
		t.Errorf("%d progress lines:\n%s", n, out)
	}
}

// "written" is said only of a file the check wrote: a file left there by an earlier build is
// not one.
func TestRewritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if rewritten(nil, path) {
		t.Error("a missing file was written")
	}
	os.WriteFile(path, []byte("old"), 0o644)
	before, _ := os.Stat(path)
	if rewritten(before, path) {
		t.Error("an untouched file was written")
	}
	if !rewritten(nil, path) {
		t.Error("a new file was not written")
	}
	os.Remove(path)
	os.WriteFile(path, []byte("new report"), 0o644)
	if !rewritten(before, path) {
		t.Error("a replaced file was not written")
	}
	if rewritten(nil, dir) {
		t.Error("a directory was written")
	}
}
