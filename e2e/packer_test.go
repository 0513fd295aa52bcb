// Package e2e drives a real `packer build` with the plugin installed through
// `packer plugins install --path`, so that the HCL a user writes is what is tested.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

var (
	setupOnce sync.Once
	setupErr  error
	env       []string
	pluginsMu sync.Mutex
	installed = map[string]error{}
)

// builderPlugins are the builder plugins scripts/get-tools.sh builds next to packer, by the
// name it takes and the source address Packer installs them under.
var builderPlugins = map[string]string{
	"qemu":  "github.com/hashicorp/qemu",
	"azure": "github.com/hashicorp/azure",
}

// packer returns the packer binary made by scripts/get-tools.sh and an environment in which
// the freshly built plugin, and the builder plugins named, are installed into a private plugin
// directory.
func packer(t *testing.T, builders ...string) (string, []string) {
	t.Helper()
	root := testfixture.RepoRoot()
	tools := filepath.Join(root, ".tools", "bin")
	bin := os.Getenv("PACKER_BIN")
	if bin == "" {
		bin = filepath.Join(tools, "packer")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no packer binary at %s: run scripts/get-tools.sh (make test does)", bin)
	}
	setupOnce.Do(func() {
		dir, err := os.MkdirTemp("", "marketplace-e2e-")
		if err != nil {
			setupErr = err
			return
		}
		plugin := filepath.Join(dir, "packer-plugin-marketplace")
		build := exec.Command("go", "build", "-o", plugin, ".")
		build.Dir = root
		if b, err := build.CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("%v\n%s", err, b)
			return
		}
		env = append(os.Environ(), "PACKER_PLUGIN_PATH="+filepath.Join(dir, "plugins"),
			"PACKER_CONFIG_DIR="+filepath.Join(dir, "config"), "CHECKPOINT_DISABLE=1", "PACKER_NO_COLOR=1")
		setupErr = install(bin, plugin, "github.com/marketready/marketplace")
	})
	if setupErr != nil {
		t.Fatalf("installing the plugin: %v", setupErr)
	}
	for _, b := range builders {
		pluginsMu.Lock()
		err, done := installed[b]
		if !done {
			path := filepath.Join(tools, "packer-plugin-"+b)
			if _, err = os.Stat(path); err != nil {
				err = fmt.Errorf("no %s builder plugin at %s: run scripts/get-tools.sh %s (make test does)", b, path, b)
			} else {
				err = install(bin, path, builderPlugins[b])
			}
			installed[b] = err
		}
		pluginsMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	return bin, env
}

func install(bin, plugin, source string) error {
	cmd := exec.Command(bin, "plugins", "install", "--path", plugin, source)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("packer plugins install %s: %v\n%s", source, err, b)
	}
	return nil
}

func build(t *testing.T, image string, vars ...string) (string, string, error) {
	bin, env := packer(t)
	work := t.TempDir()
	args := []string{"build", "-color=false", "-var", "image=" + image, "-var", "output=" + filepath.Join(work, "disk.img"), "-var", "reports=" + work}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	args = append(args, filepath.Join(testfixture.RepoRoot(), "example", "file-check.pkr.hcl"))
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	return string(out), work, err
}

func TestDirtyImageFailsTheBuild(t *testing.T) {
	out, _, err := build(t, testfixture.Path(t, "dirty.qcow2"))
	if err == nil {
		t.Fatalf("packer build passed a dirty image:\n%s", out)
	}
	for _, id := range []string{"no-swap", "no-lvm", "no-shell-history", "ssh-client-alive-interval", "kernel-cmdline", "azure-agent", "Build 'file.disk' errored"} {
		if !strings.Contains(out, id) {
			t.Errorf("output does not name %s", id)
		}
	}
}

func TestCleanImagePassesAndWritesReports(t *testing.T) {
	out, work, err := build(t, testfixture.Path(t, "clean-fixed.vhd"))
	if err != nil {
		t.Fatalf("packer build failed on the clean image: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(work, "marketplace.json"))
	var rep struct{ Compliant bool }
	if err != nil || json.Unmarshal(b, &rep) != nil || !rep.Compliant {
		t.Fatalf("report: %v %s", err, b)
	}
	if _, err := os.Stat(filepath.Join(work, "marketplace-junit.xml")); err != nil {
		t.Error(err)
	}
}

// A Windows Server image (NTFS, registry hives) through a real packer build: the dirty one fails
// naming the Windows rules, the generalized clean one passes.
func TestWindowsImageCheck(t *testing.T) {
	out, _, err := build(t, testfixture.WindowsImage(t, winimage.Options{Dirty: true, Format: "vpc"}), "profile=azure-windows")
	if err == nil {
		t.Fatalf("packer build passed a dirty Windows image:\n%s", out)
	}
	for _, id := range []string{"windows-generalized", "windows-accounts-locked", "windows-firewall", "windows-no-ssh-keys", "windows-no-powershell-history", "windows-event-logs-cleared", "C:/Users/packer/.ssh/authorized_keys"} {
		if !strings.Contains(out, id) {
			t.Errorf("output does not name %s", id)
		}
	}
	out, work, err := build(t, testfixture.WindowsImage(t, winimage.Options{Format: "vpc"}), "profile=azure-windows")
	if err != nil {
		t.Fatalf("packer build failed on the clean Windows image: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(work, "marketplace.json"))
	var rep struct{ Compliant bool }
	if err != nil || json.Unmarshal(b, &rep) != nil || !rep.Compliant || !strings.Contains(string(b), "windows-server-edition") {
		t.Fatalf("report: %v %s", err, b)
	}
}

func TestWaiverInHCL(t *testing.T) {
	img := testfixture.Variant(t, testfixture.UFW())
	if out, _, err := build(t, img); err == nil || !strings.Contains(out, "firewall-disabled") {
		t.Fatalf("enabled firewall passed without a waiver:\n%s", out)
	}
	out, work, err := build(t, img, "waive_firewall=true")
	if err != nil {
		t.Fatalf("waived build failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "WAIVED") || !strings.Contains(out, "the appliance filters its management port itself") {
		t.Errorf("output does not show the waiver and its reason:\n%s", out)
	}
	b, _ := os.ReadFile(filepath.Join(work, "marketplace.json"))
	if !strings.Contains(string(b), `"status": "waived"`) {
		t.Errorf("JSON report lacks the waived finding")
	}
}

// A real `packer build` runs marketplace-harden over SSH (Packer's own SSH communicator, a real
// sshd), then the hardened tree passes the checker.
func TestHardenOverSSHThenCheck(t *testing.T) {
	bin, env := packer(t)
	srv := testfixture.SSHServer(t)
	root := testfixture.DirtyTree(t)
	work := t.TempDir()
	results := filepath.Join(work, "results.json")
	args := []string{"build", "-color=false",
		"-var", "host=" + srv.Host, "-var", "port=" + srv.Port, "-var", "user=root", "-var", "key=" + srv.KeyFile,
		"-var", "dry_run=false", "-var", `skip_steps=["patch"]`, "-var", "results_file=" + results,
		"-var", "execute_command=env MP_ROOT=" + root + " MP_CLEANUP=1 sh '{{.Path}}'",
		filepath.Join(testfixture.RepoRoot(), "example", "harden-existing-host.pkr.hcl")}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("packer build: %v\n%s", err, out)
	}
	for _, want := range []string{"marketplace-harden: profile azure", "[history] removed /root/.bash_history", "marketplace-harden: results"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("build output lacks %q", want)
		}
	}
	if b, err := os.ReadFile(results); err != nil || !strings.Contains(string(b), `"finished": true`) {
		t.Errorf("results file: %v %s", err, b)
	}
	os.Remove(filepath.Join(root, "tmp", "keep-me")) // the tree's one keep_paths file is not kept here
	img := testfixture.Filesystem(t, "ext4", root, "96M")
	check := exec.Command(bin, "build", "-color=false", "-var", "image="+img, "-var", "output="+filepath.Join(work, "disk.img"),
		"-var", "reports="+work, filepath.Join(testfixture.RepoRoot(), "example", "file-check.pkr.hcl"))
	check.Env, check.Dir = env, work
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("the hardened tree does not pass marketplace-check: %v\n%s", err, out)
	}
}

// Every example template is valid for a real packer with the plugin and the builders it names
// installed.
func TestExamplesValidate(t *testing.T) {
	bin, env := packer(t, "qemu", "azure")
	key := testfixture.SSHServer(t).KeyFile // a valid private key file
	guest := t.TempDir()                    // qemu-debian.pkr.hcl reads the guest's kernel command line
	if err := os.WriteFile(filepath.Join(guest, "cmdline"), []byte("root=/dev/vda1 console=ttyS0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	azure := []string{"subscription_id=00000000-0000-0000-0000-000000000000", "resource_group=images", "storage_account=marketimages"}
	templates := map[string][]string{
		"file-check.pkr.hcl":           {"image=/dev/null"},
		"several-marketplaces.pkr.hcl": {"image=/dev/null"},
		"harden-existing-host.pkr.hcl": {"host=192.0.2.1", "user=azureuser", "key=" + key},
		"qemu-debian.pkr.hcl":          {"guest_dir=" + guest},
		"azure-linux.pkr.hcl":          azure,
		"azure-windows.pkr.hcl":        azure,
	}
	entries, _ := filepath.Glob(filepath.Join(testfixture.RepoRoot(), "example", "*.pkr.hcl"))
	if len(entries) != len(templates) {
		t.Errorf("example/ holds %d templates, this test validates %d: add the new one here", len(entries), len(templates))
	}
	for name, vars := range templates {
		args := []string{"validate"}
		for _, v := range vars {
			args = append(args, "-var", v)
		}
		cmd := exec.Command(bin, append(args, filepath.Join(testfixture.RepoRoot(), "example", name))...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("packer validate %s: %v\n%s", name, err, out)
		}
	}
}

// `packer validate` refuses a report path that cannot be written, naming the option, before any
// build: it used to pass validate, run the whole check, print COMPLIANT and then fail.
func TestValidateChecksReportPaths(t *testing.T) {
	bin, env := packer(t)
	cmd := exec.Command(bin, "validate", "-var", "image=/dev/null", "-var", "reports=/proc/nope",
		filepath.Join(testfixture.RepoRoot(), "example", "file-check.pkr.hcl"))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "json_report") || !strings.Contains(string(out), "/proc/nope/marketplace.json") {
		t.Errorf("packer validate accepted an unwritable json_report: %v\n%s", err, out)
	}
}

// What a new user meets in a real packer build: a Windows image with no profile is checked
// against azure-windows, and Packer's prefix is not repeated; with azure-linux it fails once,
// naming the profile to use, not with an error row per rule.
func TestWindowsImageProfileChosen(t *testing.T) {
	img := testfixture.WindowsImage(t, winimage.Options{Format: "vpc"})
	out, _, err := build(t, img, "profile=")
	if err != nil || !strings.Contains(out, "checked against azure-windows") {
		t.Fatalf("no profile on a clean Windows image: %v\n%s", err, out)
	}
	if strings.Contains(out, "(marketplace-check): marketplace-check:") {
		t.Errorf("the prefix is doubled:\n%s", out)
	}
	// the artifacts Packer lists: the file once, and the check's verdict
	listed := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "--> ") {
			listed[l]++
		}
	}
	verdict := false
	for l, n := range listed {
		verdict = verdict || strings.Contains(l, "checked by marketplace-check: compliant with azure-windows")
		if n > 1 {
			t.Errorf("listed %d times: %s", n, l)
		}
	}
	if len(listed) != 2 || !verdict {
		t.Errorf("artifacts listed: %v\n%s", listed, out)
	}
	out, _, err = build(t, img, "profile=azure-linux")
	if err == nil || !strings.Contains(out, "profile azure-linux is for linux guests") || !strings.Contains(out, `profiles = ["azure-windows"]`) ||
		strings.Count(out, "ERROR") > 0 {
		t.Errorf("azure-linux on Windows: %v\n%s", err, out)
	}
}

// packer validate refuses a clamd address that could not be dialled and a misspelled rule,
// naming the option and suggesting the rule; fingerprint_key is accepted (and sensitive).
func TestValidateClamdAddressAndSuggestions(t *testing.T) {
	bin, env := packer(t)
	dir := t.TempDir()
	for addr, want := range map[string]string{"tcp://localhost": "missing port", "nonsense::::": "too many colons"} {
		tpl := filepath.Join(dir, "t.pkr.hcl")
		body := fmt.Sprintf(`packer {
  required_plugins {
    marketplace = { version = ">= 0.1.0", source = "github.com/marketready/marketplace" }
  }
}
variable "fp_key" {
  type      = string
  default   = "a-key-from-ci-0123456789"
  sensitive = true
}
source "file" "disk" {
  source = "/dev/null"
  target = "%s/disk.img"
}
build {
  sources = ["source.file.disk"]
  post-processor "marketplace-check" {
    clamd_address   = %q
    fingerprint_key = var.fp_key
    waive {
      rule   = "firewal-disabled"
      reason = "the appliance filters its port"
    }
  }
}
`, dir, addr)
		if err := os.WriteFile(tpl, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "validate", tpl)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		s := strings.Join(strings.Fields(string(out)), " ") // Packer wraps its error lines
		if err == nil || !strings.Contains(s, "clamd_address: clamd address") || !strings.Contains(s, want) ||
			!strings.Contains(s, `did you mean "firewall-disabled"?`) || !strings.Contains(s, "packer-plugin-marketplace rules") {
			t.Errorf("packer validate with clamd_address %q: %v\n%s", addr, err, s)
		}
	}
}
