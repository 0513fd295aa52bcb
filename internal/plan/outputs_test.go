package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
)

// Two outputs that are one file are refused, naming both options: by path, through a symlinked
// directory (also for files that do not exist yet), through a hard link, and a report_formats
// default that meets an explicit path.
func TestOutputsMustBeDistinct(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "old.json")
	os.WriteFile(existing, []byte("{}"), 0o644)
	if err := os.Link(existing, filepath.Join(dir, "hard.json")); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		c    plan.Choices
		want []string
	}{
		"same path":     {plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "r.json"), SARIF: filepath.Join(dir, "r.json")}}, []string{"sarif_report", "json_report"}},
		"cleaned":       {plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "r.json"), JUnit: dir + "/./x/../r.json"}}, []string{"junit_report", "json_report"}},
		"symlink dir":   {plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "r.json")}, SBOM: filepath.Join(dir, "link", "r.json")}, []string{"sbom", "json_report"}},
		"hard link":     {plan.Choices{Reports: plan.Reports{MSCert: existing}, Content: plan.ContentChoices{Manifest: filepath.Join(dir, "hard.json")}}, []string{"integrity_manifest", "mscert_report"}},
		"report_dir":    {plan.Choices{Reports: plan.Reports{Formats: []string{"json"}, Dir: dir, SARIF: filepath.Join(dir, "marketplace-check.json")}}, []string{"report_dir", "sarif_report"}},
		"flags":         {plan.Choices{Flags: true, Reports: plan.Reports{JSON: "r.json", SARIF: "r.json"}}, []string{"--sarif", "--json"}},
		"not creatable": {plan.Choices{Reports: plan.Reports{JSON: "/proc/nope/m.json"}}, []string{"json_report", "/proc/nope/m.json", "cannot create a file in /proc"}},
		"under a file":  {plan.Choices{SBOM: filepath.Join(existing, "s.json")}, []string{"sbom", "not a directory"}},
		"a directory":   {plan.Choices{Reports: plan.Reports{JUnit: dir}}, []string{"junit_report", "is a directory"}},
		"flag names":    {plan.Choices{Flags: true, Content: plan.ContentChoices{Off: true, Manifest: filepath.Join(dir, "m.json")}}, []string{"--integrity-manifest", "--no-content-scan"}},
	}
	for name, c := range cases {
		_, err := plan.New(c.c)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
	// distinct files, directories still to be created: accepted, and nothing is left behind
	p, err := plan.New(plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "a", "b", "r.json"), SARIF: filepath.Join(dir, "r.sarif")},
		SBOM: filepath.Join(dir, "link", "s.json")})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Outputs()) != 3 {
		t.Errorf("outputs %+v", p.Outputs())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 { // link, old.json, hard.json
		t.Errorf("validation left files behind: %v", ents)
	}
}

// An output that is an image being checked is refused: by path, through a symlink to it,
// through a symlinked directory for a file that exists, and by hard link. URLs are not files.
func TestOutputMustNotBeAnInput(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.raw")
	os.WriteFile(img, make([]byte, 4096), 0o644)
	os.Symlink(img, filepath.Join(dir, "disk-link.raw"))
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	os.Symlink(dir, filepath.Join(dir, "out", "up"))
	os.Link(img, filepath.Join(dir, "disk-hard.raw"))
	for name, out := range map[string]string{
		"same path":   img,
		"relative":    dir + "/out/../disk.raw",
		"symlink":     filepath.Join(dir, "disk-link.raw"),
		"symlink dir": filepath.Join(dir, "out", "up", "disk.raw"),
		"hard link":   filepath.Join(dir, "disk-hard.raw"),
	} {
		p, err := plan.New(plan.Choices{Reports: plan.Reports{JSON: out}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = p.CheckInputs("https://acct.blob.core.windows.net/c/x.vhd?sig=x", img)
		if err == nil || !strings.Contains(err.Error(), "json_report") || !strings.Contains(err.Error(), "destroy the image") {
			t.Errorf("%s: %v", name, err)
		}
	}
	p := plan.MustNew(plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "r.json")}})
	if err := p.CheckInputs(img, "https://acct.blob.core.windows.net/c/r.json"); err != nil {
		t.Errorf("distinct paths: %v", err)
	}
}

// Per-image outputs of several images may collide (a/disk.raw and b/disk.raw both write
// r-disk.json): CheckDistinct refuses them.
func TestPerImageOutputsDistinct(t *testing.T) {
	dir := t.TempDir()
	p := plan.MustNew(plan.Choices{Reports: plan.Reports{JSON: filepath.Join(dir, "r.json")}})
	a, b, c := p.ForImage("/x/a/disk.raw", 3), p.ForImage("/x/b/disk.raw", 3), p.ForImage("/x/c.raw", 3)
	if err := plan.CheckDistinct(a, b, c); err == nil || !strings.Contains(err.Error(), "r-disk.json") {
		t.Errorf("colliding per-image reports: %v", err)
	}
	if err := plan.CheckDistinct(a, c); err != nil {
		t.Errorf("distinct per-image reports: %v", err)
	}
}
