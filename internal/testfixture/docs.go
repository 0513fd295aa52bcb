package testfixture

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// DocumentsOptions fails t for every mapstructure option of the given config structs that the
// documentation page (a path under docs/) does not mention as `option`. It returns the page.
func DocumentsOptions(t *testing.T, page string, configs ...any) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(RepoRoot(), "docs", page))
	if err != nil {
		t.Fatal(err)
	}
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
