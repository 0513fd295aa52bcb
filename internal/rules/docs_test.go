package rules_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func TestRuleReferenceIsUpToDate(t *testing.T) {
	for name, want := range map[string]string{"rules.md": rules.Markdown(), "certification.md": rules.CertificationMarkdown()} {
		p := filepath.Join(testfixture.RepoRoot(), "docs", name)
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("%s is stale or missing (%v): run `make generate`", p, err)
		}
	}
}
