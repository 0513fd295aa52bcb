package engine

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A real Debian 12 image from a builder we did not write (vmdb2): every directory is read
// (its ext4 was written by the kernel, with htree directories whose index blocks carry their
// own checksums), nothing ends in ERROR, the package list is the one e2fsprogs' debugfs reads,
// and the first-boot problems vmdb2 leaves fail with the file and line that cause them.
func TestRealVMDB2Image(t *testing.T) {
	img := testfixture.VMDB2Image(t)
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	byRule := map[string]int{}
	for i, f := range r.Findings {
		byRule[f.Rule] = i
		if f.Status == rules.Error {
			t.Errorf("%s: ERROR %s", f.Rule, f.Message)
		}
	}
	if r.Content == nil || r.Content.Errors > 0 || r.Content.Files < 10000 {
		t.Errorf("the content scan did not read everything: %+v", r.Content)
	}
	for _, tc := range []struct {
		rule   string
		status rules.Status
		path   string // evidence that must be named (with a line when line is set)
		line   bool
		detail string
	}{
		{"boot-devices-resolve", rules.Fail, "/boot/grub/grub.cfg", true, "root=: /dev/loop"},
		{"unique-machine-id", rules.Fail, "/etc/machine-id", false, "holds a machine ID"},
		{"first-nic-dhcp", rules.Fail, "/etc", false, "no ifupdown, netplan"},
		{"kernel-cmdline", rules.Fail, "/boot/grub/grub.cfg", true, "missing console=ttyS0"},
		{"hyperv-drivers-at-boot", rules.Pass, "", false, ""},
		{"no-hardcoded-credentials", rules.Pass, "", false, ""},
		{"single-root", rules.Pass, "", false, ""},
	} {
		i, ok := byRule[tc.rule]
		if !ok {
			t.Errorf("no finding for %s", tc.rule)
			continue
		}
		f := r.Findings[i]
		if f.Status != tc.status {
			t.Errorf("%s: %s (%s), want %s", tc.rule, f.Status, f.Message, tc.status)
			continue
		}
		if tc.path == "" {
			continue
		}
		named := false
		for _, e := range f.Evidence {
			if e.Path == tc.path && (!tc.line || e.Line > 0) && strings.Contains(e.Detail, tc.detail) {
				named = true
			}
		}
		if !named {
			t.Errorf("%s: no evidence %s (line: %v) saying %q: %+v", tc.rule, tc.path, tc.line, tc.detail, f.Evidence)
		}
	}

	// the installed packages, against debugfs's reading of dpkg's status file
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	inv, err := im.Packages()
	if err != nil {
		t.Fatal(err)
	}
	status, err := exec.Command("debugfs", "-R", "cat /var/lib/dpkg/status", fmt.Sprintf("%s?offset=%d", img, im.RootPartition.Start)).Output()
	if err != nil {
		t.Fatalf("debugfs: %v", err)
	}
	want := map[string]bool{}
	name := ""
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "Package: "); ok {
			name = v
		}
		if l == "Status: install ok installed" {
			want[name] = true
		}
	}
	got := map[string]bool{}
	for _, pkg := range inv.Packages {
		got[pkg.Name] = true
	}
	if len(want) < 100 || len(got) != len(want) {
		t.Errorf("%d packages read, debugfs lists %d installed", len(got), len(want))
	}
	for n := range want {
		if !got[n] {
			t.Errorf("package %s is installed (debugfs) but not listed", n)
		}
	}
}
