package check

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every HCL option must be documented.
func TestEveryOptionIsDocumented(t *testing.T) {
	testfixture.DocumentsOptions(t, "post-processors/check.mdx", Config{}, Waiver{})
}
