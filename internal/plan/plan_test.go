package plan_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Every mistake is reported by New, before any image is read, all at once.
func TestNewRejects(t *testing.T) {
	cases := map[string]struct {
		c    plan.Choices
		want []string
	}{
		"unknown profile":  {plan.Choices{Profiles: []string{"gcp"}}, []string{`unknown profile "gcp"`}},
		"no reason":        {plan.Choices{Waivers: []plan.Waiver{{Rule: "no-swap", Reason: "  "}}}, []string{"has no reason"}},
		"unknown rule":     {plan.Choices{Waivers: []plan.Waiver{{Rule: "no-such-rule", Reason: "x"}}}, []string{`unknown rule "no-such-rule"`}},
		"waived twice":     {plan.Choices{Waivers: []plan.Waiver{{Rule: "no-swap", Reason: "x"}, {Rule: "no-swap", Reason: "y"}}}, []string{"waived twice"}},
		"severity":         {plan.Choices{FailOn: "severe"}, []string{"fail_on"}},
		"clamd address":    {plan.Choices{Content: plan.ContentChoices{ClamdAddress: "clamd"}}, []string{"clamd_address", "want unix://"}},
		"clamd stream":     {plan.Choices{Content: plan.ContentChoices{ClamdMaxStreamMB: -1}}, []string{"clamd_max_stream_mb"}},
		"report format":    {plan.Choices{Reports: plan.Reports{Formats: []string{"html"}}}, []string{`unknown report format "html"`}},
		"several at once":  {plan.Choices{FailOn: "x", Profiles: []string{"gcp"}}, []string{"fail_on", "gcp"}},
		"windows on linux": {plan.Choices{Profiles: []string{"azure"}}, []string{`unknown profile "azure"`}},
	}
	for name, c := range cases {
		p, err := plan.New(c.c)
		if err == nil || p != nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
}

// The defaults are applied in one place: azure-linux, fail on low, clamd's 25 MiB stream.
func TestDefaultsAndResolution(t *testing.T) {
	p, err := plan.New(plan.Choices{
		Waivers: []plan.Waiver{{Rule: " no-swap ", Reason: " swap is on the data disk "}},
		Content: plan.ContentChoices{ClamdAddress: "tcp://av:3310"},
		Reports: plan.Reports{Formats: []string{"json", "sarif"}, Dir: "out", SARIF: "custom.sarif"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Profiles(); len(got) != 1 || got[0] != "azure-linux" || p.FailOn() != rules.Low {
		t.Errorf("profiles %v, fail_on %s", got, p.FailOn())
	}
	if !p.HasRule("no-swap") || p.HasRule("windows-accounts-locked") || len(p.Rules()) == 0 {
		t.Errorf("rules of azure-linux not resolved")
	}
	if w, ok := p.Waiver("no-swap"); !ok || w.Reason != "swap is on the data disk" {
		t.Errorf("waiver %+v %v", w, ok)
	}
	c := p.Content().Clamd
	if c == nil || c.Network != "tcp" || c.Address != "av:3310" || c.MaxStream != 25<<20 {
		t.Errorf("clamd %+v", c)
	}
	r := p.Reports()
	if r.JSON != filepath.Join("out", "marketplace-check.json") || r.SARIF != "custom.sarif" || r.JUnit != "" {
		t.Errorf("reports %+v", r)
	}
	if kinds := p.ContentKinds(); !p.NeedsContent() || len(kinds) != 2 || kinds[0] != scan.Secrets && kinds[1] != scan.Secrets {
		t.Errorf("azure-linux needs the credential and malware scans: %v", kinds)
	}
	if off := plan.MustNew(plan.Choices{Content: plan.ContentChoices{Off: true}}); off.NeedsContent() || !off.ContentOff() {
		t.Error("content_scan = false, yet the pass would run")
	}
	// a baseline that would never be written is a configuration error, not a silent no-op
	if _, err := plan.New(plan.Choices{Content: plan.ContentChoices{Off: true, Manifest: "m.json"}}); err == nil || !strings.Contains(err.Error(), "integrity_manifest needs the content scan") {
		t.Errorf("integrity_manifest with content_scan = false: %v", err)
	}
	if m := plan.MustNew(plan.Choices{Profiles: []string{"alibaba"}, Content: plan.ContentChoices{Manifest: "m.json"}}); !slices.Contains(m.ContentKinds(), scan.Integrity) {
		t.Errorf("a manifest asks for the integrity baseline: %v", m.ContentKinds())
	}
}

// A plan does not change after New: what its accessors return is a copy, and ForImage gives a
// new plan whose files carry the image's name.
func TestImmutableAndPerImage(t *testing.T) {
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux", "alibaba"}, SBOM: "sbom.json",
		Reports: plan.Reports{JSON: "r/report.json"}, Content: plan.ContentChoices{Manifest: "m.json"}})
	users := []string{"keeper"}
	q0 := plan.MustNew(plan.Choices{Options: rules.Options{AllowedUsers: users}})
	users[0] = "changed"
	q0.Options().AllowedUsers[0] = "changed too"
	if q0.Options().AllowedUsers[0] != "keeper" {
		t.Error("the plan shares its options with the caller")
	}
	p.Profiles()[0] = "changed"
	p.Rules()[0] = nil
	if p.Profiles()[0] != "azure-linux" || p.Rules()[0] == nil {
		t.Fatal("a caller changed the plan through an accessor")
	}
	if p.ForImage("a.qcow2", 1) != p {
		t.Error("one image: the same plan")
	}
	q := p.ForImage("/imgs/a.qcow2", 2)
	if q.Reports().JSON != "r/report-a.json" || q.SBOM() != "sbom-a.json" || q.Content().Manifest != "m-a.json" {
		t.Errorf("per image: %+v %s %s", q.Reports(), q.SBOM(), q.Content().Manifest)
	}
	if p.Reports().JSON != "r/report.json" || p.SBOM() != "sbom.json" {
		t.Error("ForImage changed the plan it was called on")
	}
}
