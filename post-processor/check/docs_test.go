package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every HCL option must be documented.
func TestEveryOptionIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testfixture.RepoRoot(), "docs", "post-processors", "check.mdx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Config{}), reflect.TypeOf(Waiver{})} {
		for i := 0; i < typ.NumField(); i++ {
			tag := strings.Split(typ.Field(i).Tag.Get("mapstructure"), ",")[0]
			if tag == "" {
				continue
			}
			if !strings.Contains(string(doc), "`"+tag+"`") {
				t.Errorf("option %s is not documented in docs/post-processors/check.mdx", tag)
			}
		}
	}
}
