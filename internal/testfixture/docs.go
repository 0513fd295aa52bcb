package testfixture

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// includeRe matches renderdocs' include lines.
var includeRe = regexp.MustCompile(`(?m)^@include '([^']+)'$`)

// DocumentsOptions fails t for every mapstructure option of the given config structs that the
// documentation page (a path under docs/) does not mention as `option`. It returns the page.
func DocumentsOptions(t *testing.T, page string, configs ...any) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(RepoRoot(), "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	// the option lists are generated into docs-partials and included, as renderdocs does
	doc := includeRe.ReplaceAllFunc(raw, func(line []byte) []byte {
		name := includeRe.FindSubmatch(line)[1]
		b, err := os.ReadFile(filepath.Join(RepoRoot(), "docs-partials", string(name)))
		if err != nil {
			t.Errorf("docs/%s includes %s: %v", page, name, err)
		}
		return b
	})
	for _, c := range configs {
		typ := reflect.TypeOf(c)
		for i := 0; i < typ.NumField(); i++ {
			tag := strings.Split(typ.Field(i).Tag.Get("mapstructure"), ",")[0]
			if tag != "" && !strings.Contains(string(doc), "`"+tag+"`") {
				t.Errorf("option %s is not documented in docs/%s", tag, page)
			}
		}
	}
	return string(doc)
}
