package harden

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every HCL option and every step must be documented.
func TestEveryOptionAndStepIsDocumented(t *testing.T) {
	doc := testfixture.DocumentsOptions(t, "provisioners/harden.mdx", Config{})
	for _, s := range steps.Linux() {
		if !strings.Contains(doc, "| `"+s.ID+"` |") {
			t.Errorf("step %s is not in the docs' step table", s.ID)
		}
	}
}
