package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// Without a profile a Windows image is checked against azure-windows and the UI says so; with
// azure-linux it fails once, naming the profile to use. No line repeats the post-processor's
// name (Packer prefixes it), and "violated" counts failures only.
func TestPostProcessProfileOfTheGuest(t *testing.T) {
	img := testfixture.WindowsImage(t, winimage.Options{Dirty: true, Format: "vpc"})
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"content_scan": false}); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{img}})
	if err == nil || !strings.Contains(out.String(), "checked against azure-windows, the profile for the guest OS found (Windows Server") ||
		!strings.Contains(err.Error(), "rule(s) violated: windows-") || strings.Contains(err.Error(), "could not be evaluated") {
		t.Errorf("no profile: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "marketplace-check: ") {
			t.Errorf("the post-processor's name repeated: %q", l)
		}
	}
	p = PostProcessor{}
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux", "content_scan": false}); err != nil {
		t.Fatal(err)
	}
	ui, out = newUI()
	_, _, _, err = p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{img}})
	if err == nil || !strings.Contains(err.Error(), "profile azure-linux is for linux guests") || !strings.Contains(err.Error(), `profiles = ["azure-windows"]`) ||
		strings.Contains(out.String(), "ERROR") {
		t.Errorf("azure-linux on Windows: %v\n%s", err, out)
	}
}

// Rules that could not run are not "violated".
func TestBlockingSummaryWords(t *testing.T) {
	var p PostProcessor
	// a Linux profile on an image with no filesystem at all: every rule is an error
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux", "content_scan": false}); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	if err == nil || !strings.Contains(err.Error(), "rule(s) violated: ") {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(err.Error(), "could not be evaluated") {
		t.Errorf("a dirty image's failures counted as errors: %v", err)
	}
}

// packer validate names clamd_address for an address that cannot be dialled, and suggests the
// closest rule and profile for a misspelled one.
func TestConfigureNamesAndSuggests(t *testing.T) {
	for raw, want := range map[string]map[string]interface{}{
		`clamd_address: clamd address "tcp://localhost"`: {"clamd_address": "tcp://localhost"},
		`clamd_address: clamd address "nonsense::::"`:    {"clamd_address": "nonsense::::"},
		`unknown rule "firewal-disabled" (did you mean "firewall-disabled"?): ` + "`packer-plugin-marketplace rules`": {
			"waive": []map[string]interface{}{{"rule": "firewal-disabled", "reason": "x"}}},
		`unknown profile "azure-linx" (did you mean "azure-linux"?)`: {"profile": "azure-linx"},
	} {
		var p PostProcessor
		if err := p.Configure(want); err == nil || !strings.Contains(err.Error(), raw) {
			t.Errorf("%v: %v, want %q", want, err, raw)
		}
	}
}

// fingerprint_key is carried by the template, hidden from Packer's logs, and named (never
// quoted) in the report notes.
func TestFingerprintKeyInTheTemplate(t *testing.T) {
	const key = "template-fingerprint-key-0123456789"
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux", "fingerprint_key": key,
		"secrets_allow_fingerprints": []string{"00000000000000aa"}}); err != nil {
		t.Fatal(err)
	}
	if got := packer.LogSecretFilter.FilterString("log " + key); strings.Contains(got, key) {
		t.Errorf("the key is not filtered from logs: %q", got)
	}
	ui, out := newUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	s := out.String()
	if err == nil || strings.Contains(s, key) || !strings.Contains(s, "keyed with the key from fingerprint_key in the template") ||
		!strings.Contains(s, "00000000000000aa matched no credential") {
		t.Errorf("%v\n%s", err, s)
	}
}

// Under a terminal, a content pass too small for Packer's bar (which counts whole MiB and
// showed "(0 of 0 MiB)") is shown by one line.
func TestSmallPassProgressLine(t *testing.T) {
	defer func(d time.Duration, f func() bool) { progressEvery, haveTerminal = d, f }(progressEvery, haveTerminal)
	haveTerminal = func() bool { return true }
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"profile": "azure-linux"}); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	p.PostProcess(context.Background(), ui, &packer.MockArtifact{FilesValue: []string{testfixture.Path(t, "dirty.raw")}})
	if n := strings.Count(out.String(), "\ndirty.raw: content scan 100% ("); n != 1 || strings.Contains(out.String(), "of 0 MiB") {
		t.Errorf("%d lines:\n%s", n, out)
	}
}

// A compliant image's artifact is passed on as itself for the next post-processor (builder ID,
// ID, files) but listed by its verdict, not a second time word for word.
func TestArtifactPassedOnListedOnce(t *testing.T) {
	dir := t.TempDir()
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"json_report": dir + "/r.json"}); err != nil {
		t.Fatal(err)
	}
	art := &packer.MockArtifact{BuilderIdValue: "transcend.qemu", IdValue: "disk", FilesValue: []string{testfixture.Path(t, "clean.qcow2")}}
	ui, out := newUI()
	got, keep, force, err := p.PostProcess(context.Background(), ui, art)
	if err != nil || !keep || !force {
		t.Fatalf("%v %v %v\n%s", err, keep, force, out)
	}
	if got.BuilderId() != art.BuilderId() || got.Id() != art.Id() || len(got.Files()) != 1 || got.Files()[0] != art.Files()[0] {
		t.Errorf("not the input artifact: %s %s %q", got.BuilderId(), got.Id(), got.Files())
	}
	if s := got.String(); s == art.String() || s != "clean.qcow2 checked by marketplace-check: compliant with azure-linux; reports: "+dir+"/r.json" {
		t.Errorf("listed as %q", s)
	}
}
