package harden

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every HCL option and every step must be documented.
func TestEveryOptionAndStepIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testfixture.RepoRoot(), "docs", "provisioners", "harden.mdx"))
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		tag := strings.Split(typ.Field(i).Tag.Get("mapstructure"), ",")[0]
		if tag != "" && !strings.Contains(string(doc), "`"+tag+"`") {
			t.Errorf("option %s is not documented in docs/provisioners/harden.mdx", tag)
		}
	}
	for _, s := range steps.Linux() {
		if !strings.Contains(string(doc), "| `"+s.ID+"` |") {
			t.Errorf("step %s is not in the docs' step table", s.ID)
		}
	}
}
