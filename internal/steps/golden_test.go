package steps_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden scripts")

var goldens = map[string]steps.Options{
	"azure.sh":          {ProfileName: "azure-linux", Version: "golden"},
	"alibaba.sh":        {ProfileName: "alibaba", Version: "golden", CleanPaths: []string{"/var/lib/app/cache"}, RemoveUsers: []string{"tester"}},
	"azure-dry-run.sh":  {ProfileName: "azure-linux", Version: "golden", DryRun: true, KeepFirewall: true, KeepPaths: []string{"/opt/it's/kept"}},
	"deprovision.sh":    {ProfileName: "azure-linux", Version: "golden", Deprovision: true, ContinueOnError: true},
	"aws.sh":            {ProfileName: "aws", Version: "golden"},
	"digitalocean.sh":   {ProfileName: "digitalocean", Version: "golden"},
	"oracle.sh":         {ProfileName: "oracle", Version: "golden", DryRun: true},
	"windows-azure.ps1": {OS: steps.OSWindows, ProfileName: "azure-windows", Version: "golden"},
	"windows-aws.ps1":   {OS: steps.OSWindows, ProfileName: "aws-windows", Version: "golden"},
	"windows-alibaba-sysprep.ps1": {OS: steps.OSWindows, ProfileName: "alibaba-windows", Version: "golden", Sysprep: true,
		RemoveUsers: []string{"tester"}, CleanPaths: []string{`D:\app\cache`}, SysprepTimeoutMinutes: 45},
	"windows-dry-run.ps1": {OS: steps.OSWindows, ProfileName: "azure-windows", Version: "golden", DryRun: true, ContinueOnError: true,
		KeepPaths: []string{`C:\Users\it's kept`}, KeepFirewallRules: []string{"App (TCP 8443)"}},
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
		if filepath.Ext(name) != ".sh" {
			continue
		}
		out, err := exec.Command(sc, "-s", "sh", "-S", "style", filepath.Join("testdata", name)).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, out)
		}
	}
}

// Every generated PowerShell script parses (tree-sitter's PowerShell grammar: no Windows here).
func TestPowerShellSyntax(t *testing.T) {
	var files []string
	for name := range goldens {
		if filepath.Ext(name) == ".ps1" {
			files = append(files, filepath.Join("testdata", name))
		}
	}
	testfixture.PowerShellSyntax(t, files...)
}

// selectedIDs is what steps.Select picks, by ID, in order.
func selectedIDs(t *testing.T, o steps.Options) []string {
	t.Helper()
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

func TestSelection(t *testing.T) {
	ids := func(o steps.Options) []string { return selectedIDs(t, o) }
	az := ids(steps.Options{ProfileName: "azure-linux"})
	if az[0] != "patch" || az[len(az)-1] != "history" {
		t.Errorf("azure order: %v", az)
	}
	if old, def := ids(steps.Options{ProfileName: "azure"}), ids(steps.Options{}); !slices.Equal(old, az) || !slices.Equal(def, az) {
		t.Errorf("the old spelling azure selects %v, the default %v, azure-linux %v", old, def, az)
	}
	for _, id := range az {
		if id == "deprovision" || id == "clean-paths" {
			t.Errorf("azure selects opt-in step %s", id)
		}
	}
	if got := ids(steps.Options{ProfileName: "azure-linux", Deprovision: true}); got[len(got)-1] != "deprovision" {
		t.Errorf("deprovision must run last: %v", got)
	}
	if got := ids(steps.Options{ProfileName: "azure-linux", KeepFirewall: true, SkipSteps: []string{"patch"}}); got[0] == "patch" || slices.Contains(got, "firewall") {
		t.Errorf("skip: %v", got)
	}
	if got := ids(steps.Options{Steps: []string{"history", "logs"}}); len(got) != 2 || got[0] != "logs" {
		t.Errorf("explicit steps run in catalogue order: %v", got)
	}
	for _, bad := range []steps.Options{
		{ProfileName: "gcp"}, {Steps: []string{"nope"}}, {Steps: []string{"deprovision"}},
		{KeepPaths: []string{"relative"}}, {CleanPaths: []string{"/etc"}}, {CleanPaths: []string{"/"}},
		{RemoveUsers: []string{"root"}}, {RemoveUsers: []string{"a;rm -rf /"}},
	} {
		if _, err := steps.Render(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestWindowsSelection(t *testing.T) {
	ids := func(o steps.Options) []string {
		o.OS = steps.OSWindows
		return selectedIDs(t, o)
	}
	az := ids(steps.Options{ProfileName: "azure-windows"})
	if az[0] != "windows-update" || az[len(az)-1] != "event-logs" {
		t.Errorf("azure order: %v", az)
	}
	for _, id := range []string{"sysprep", "accounts", "clean-paths"} {
		if slices.Contains(az, id) {
			t.Errorf("azure selects opt-in step %s", id)
		}
	}
	if old := ids(steps.Options{ProfileName: "azure"}); !slices.Equal(old, az) {
		t.Errorf("the old spelling azure selects %v, azure-windows %v", old, az)
	}
	if got := ids(steps.Options{ProfileName: "alibaba-windows", Sysprep: true, RemoveUsers: []string{"tester"}}); got[len(got)-1] != "sysprep" || !slices.Contains(got, "accounts") || slices.Contains(got, "auto-updates") {
		t.Errorf("alibaba with sysprep and remove_users: %v", got)
	}
	if got := ids(steps.Options{KeepFirewall: true}); slices.Contains(got, "firewall") {
		t.Errorf("keep_firewall: %v", got)
	}
	for _, bad := range []steps.Options{
		{Steps: []string{"patch"}}, {Steps: []string{"sysprep"}}, {KeepPaths: []string{`relative\dir`}},
		{KeepPaths: []string{"/etc"}}, {CleanPaths: []string{`C:\`}}, {CleanPaths: []string{`c:/Windows/`}},
		{CleanPaths: []string{`C:\data\*`}}, {RemoveUsers: []string{`a"; Remove-Item C:\ #`}},
		{KeepFirewallRules: []string{"x\ny"}}, {OS: "bsd"},
	} {
		if bad.OS == "" {
			bad.OS = steps.OSWindows
		}
		if _, err := steps.Render(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// Windows clean_paths are judged as Windows resolves them: "..", ".", trailing dots and
// spaces, forward slashes and short names cannot smuggle a system folder or a drive root past
// the guard; the script gets the normalised path.
func TestWindowsCleanPathsAreNormalised(t *testing.T) {
	for _, p := range []string{`C:\..`, `C:\.`, `C:\Windows\.`, `C:\Users\..\Windows`, `c:/windows/`, `C:\Windows.`, `C:\Windows \`,
		`C:\Program Files\..\..\`, `C:\PROGRA~1`, `C:\Windows\System32\config`, `C:\Users\Public\..\Default`, `C:\ProgramData\x\..`, `C:\app::$DATA`} {
		o := steps.Options{OS: steps.OSWindows, CleanPaths: []string{p}, Version: "test"}
		if err := o.Validate(); err == nil {
			t.Errorf("clean_paths %q accepted", p)
		}
	}
	o := steps.Options{OS: steps.OSWindows, CleanPaths: []string{`c:/Shop/app/../cache.`}, Version: "test"}
	script, err := steps.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script, `'C:\Shop\cache'`) {
		t.Errorf("the script does not get the normalised path:\n%s", script[:min(len(script), 2000)])
	}
	for in, want := range map[string]string{`C:\Users\..\Windows\.`: `C:\Windows`, `C:\..`: `C:\`, `d:/a/./b/../c...`: `D:\a\c`} {
		if got := steps.WindowsPath(in); got != want {
			t.Errorf("WindowsPath(%q) = %q, want %q", in, got, want)
		}
	}
}
