package rules_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func TestRuleReferenceIsUpToDate(t *testing.T) {
	p := filepath.Join(testfixture.RepoRoot(), "docs", "rules.md")
	got, err := os.ReadFile(p)
	if err != nil || string(got) != rules.Markdown() {
		t.Fatalf("%s is stale or missing (%v): run `make generate`", p, err)
	}
}
