package testfixture

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// PowerShellSyntax parses PowerShell files with the tree-sitter PowerShell grammar
// (scripts/ps-syntax-check.mjs, installed with pinned npm packages by scripts/get-tools.sh
// pscheck) and fails the test with every syntax error it reports.
func PowerShellSyntax(t testing.TB, files ...string) {
	t.Helper()
	if err := runScript("get-tools.sh", "pscheck"); err != nil {
		t.Fatalf("installing the PowerShell syntax checker: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: apt-get install nodejs npm (make deps does)")
	}
	args := append([]string{filepath.Join(RepoRoot(), ".tools", "pscheck", "check.mjs")}, files...)
	if out, err := exec.Command(node, args...).CombinedOutput(); err != nil {
		t.Errorf("PowerShell syntax errors: %v\n%s", err, out)
	}
}
