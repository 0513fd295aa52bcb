package engine

import (
	"bytes"
	"errors"
	"github.com/marketready/packer-plugin-marketplace/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A plan whose report is the image checked (directly, or through a symlinked directory) is
// refused before the image is opened: the image is left as it was.
func TestCheckRefusesAReportOverTheImage(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.raw")
	orig, err := os.ReadFile(testfixture.Path(t, "clean.raw"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(img, orig, 0o644)
	os.Symlink(dir, filepath.Join(dir, "via"))
	for _, out := range []string{img, filepath.Join(dir, "via", "disk.raw")} {
		p := plan.MustNew(plan.Choices{Reports: plan.Reports{JSON: out}})
		if _, err := Check(img, p); err == nil || !strings.Contains(err.Error(), "json_report") || !strings.Contains(err.Error(), "destroy the image") {
			t.Errorf("%s: %v", out, err)
		}
	}
	if b, _ := os.ReadFile(img); !bytes.Equal(b, orig) {
		t.Fatal("the image changed")
	}
}

// A report is written to a temporary file beside it and renamed: a write that fails half-way
// leaves the previous report whole and no temporary file behind; one that succeeds replaces it.
func TestReportsAreReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	os.WriteFile(path, []byte("the previous report\n"), 0o644)
	err := atomicfile.Write(path, func(w io.Writer) error {
		w.Write([]byte("half a rep"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "r.json") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failed write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "the previous report\n" {
		t.Errorf("a failed write changed the report: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed write left %d files", len(ents))
	}
	r := &report.Report{Tool: "t", Compliant: true}
	if err := WriteReports(r, plan.Reports{JSON: path, SARIF: filepath.Join(dir, "new", "r.sarif")}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(`"compliant": true`)) {
		t.Errorf("the report was not replaced: %q", b)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("report mode: %v %v", st.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d entries, want r.json and new/", len(ents))
	}
}
