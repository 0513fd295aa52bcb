package steps_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
)

var update = flag.Bool("update", false, "rewrite the golden scripts")

var goldens = map[string]steps.Options{
	"azure.sh":         {Profile: "azure", Version: "golden"},
	"alibaba.sh":       {Profile: "alibaba", Version: "golden", CleanPaths: []string{"/var/lib/app/cache"}, RemoveUsers: []string{"tester"}},
	"azure-dry-run.sh": {Profile: "azure", Version: "golden", DryRun: true, KeepFirewall: true, KeepPaths: []string{"/opt/it's/kept"}},
	"deprovision.sh":   {Profile: "azure", Version: "golden", Deprovision: true, ContinueOnError: true},
}

// The generated scripts are reviewed as text: any change to them shows up in a diff.
func TestGoldenScripts(t *testing.T) {
	for name, o := range goldens {
		got, err := steps.Render(o)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join("testdata", name)
		if *update {
			os.MkdirAll("testdata", 0o755)
			os.WriteFile(p, []byte(got), 0o644)
		}
		want, err := os.ReadFile(p)
		if err != nil || string(want) != got {
			t.Errorf("%s differs from the generated script (run go test ./internal/steps -update and review the diff)", p)
		}
	}
}

// Every generated script is clean under shellcheck as POSIX sh.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not found: apt-get install shellcheck (make deps does)")
	}
	for name := range goldens {
		out, err := exec.Command(sc, "-s", "sh", "-S", "style", filepath.Join("testdata", name)).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, out)
		}
	}
}

func TestSelection(t *testing.T) {
	ids := func(o steps.Options) []string {
		sel, err := steps.Select(o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sel {
			out = append(out, s.ID)
		}
		return out
	}
	az := ids(steps.Options{Profile: "azure"})
	if az[0] != "patch" || az[len(az)-1] != "history" {
		t.Errorf("azure order: %v", az)
	}
	for _, id := range az {
		if id == "deprovision" || id == "clean-paths" {
			t.Errorf("azure selects opt-in step %s", id)
		}
	}
	if got := ids(steps.Options{Profile: "azure", Deprovision: true}); got[len(got)-1] != "deprovision" {
		t.Errorf("deprovision must run last: %v", got)
	}
	if got := ids(steps.Options{Profile: "azure", KeepFirewall: true, SkipSteps: []string{"patch"}}); got[0] == "patch" || slices.Contains(got, "firewall") {
		t.Errorf("skip: %v", got)
	}
	if got := ids(steps.Options{Steps: []string{"history", "logs"}}); len(got) != 2 || got[0] != "logs" {
		t.Errorf("explicit steps run in catalogue order: %v", got)
	}
	for _, bad := range []steps.Options{
		{Profile: "gcp"}, {Steps: []string{"nope"}}, {Steps: []string{"deprovision"}},
		{KeepPaths: []string{"relative"}}, {CleanPaths: []string{"/etc"}}, {CleanPaths: []string{"/"}},
		{RemoveUsers: []string{"root"}}, {RemoveUsers: []string{"a;rm -rf /"}},
	} {
		if _, err := steps.Render(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
