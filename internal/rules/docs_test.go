package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func TestRuleReferenceIsUpToDate(t *testing.T) {
	// docs/certification.md includes the LISA run `make lisa` recorded, when there is one
	var run *rules.LISARun
	if b, err := os.ReadFile(filepath.Join(testfixture.RepoRoot(), "docs", "lisa-run.json")); err == nil {
		run = &rules.LISARun{}
		if err := json.Unmarshal(b, run); err != nil {
			t.Fatalf("docs/lisa-run.json: %v", err)
		}
	}
	for name, want := range map[string]string{"rules.md": rules.Markdown(), "certification.md": rules.CertificationMarkdown(run)} {
		p := filepath.Join(testfixture.RepoRoot(), "docs", name)
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("%s is stale or missing (%v): run `make generate`", p, err)
		}
	}
}
