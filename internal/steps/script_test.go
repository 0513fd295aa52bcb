package steps_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func options() steps.Options {
	return steps.Options{
		ProfileName: "azure-linux", SkipSteps: []string{"patch"}, Version: "test",
		KeepPaths: []string{"/tmp/keep-me"}, RemoveUsers: []string{"tester"}, CleanPaths: []string{"/opt/app/cache"},
	}
}

// runScript runs the generated script against root the way the provisioner runs it on a guest,
// with MP_ROOT pointing at the tree, and returns the parsed results.
func runScript(t *testing.T, root string, o steps.Options) *steps.Collector {
	t.Helper()
	c, stderr, out, err := runScriptAllowingFailures(t, root, o)
	if err != nil || !c.Finished || len(c.Failed()) > 0 {
		t.Fatalf("script: %v, finished=%v, failed=%+v\nstderr:\n%s\nstdout:\n%s", err, c.Finished, c.Failed(), stderr, out)
	}
	return c
}

// runScriptAllowingFailures is runScript for runs where a step may fail: it returns the results,
// the script's stderr and stdout, and its exit error.
func runScriptAllowingFailures(t *testing.T, root string, o steps.Options) (*steps.Collector, string, []byte, error) {
	t.Helper()
	script, err := steps.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "harden.sh")
	os.WriteFile(p, []byte(script), 0o700)
	cmd := exec.Command("sh", p)
	cmd.Env = append(os.Environ(), "MP_ROOT="+root, "MP_CLEANUP=1", "TMPDIR="+t.TempDir(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	c := steps.NewCollector()
	var human []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if !c.Line(sc.Text()) {
			human = append(human, sc.Text())
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the script's directory was not removed after the run")
	}
	return c, stderr.String(), out, err
}

func TestScriptHardensATreeAndChangesNothingTheSecondTime(t *testing.T) {
	root := testfixture.DirtyTree(t)
	first := runScript(t, root, options())
	t.Logf("first run:\n%s", first.Summary())
	if first.Changed() < 20 {
		t.Errorf("first run made only %d changes", first.Changed())
	}
	for p, want := range testfixture.Sentinels {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != want {
			t.Errorf("sentinel %s changed: %q %v", p, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "home/tester")); !os.IsNotExist(err) {
		t.Errorf("remove_users: /home/tester still there")
	}
	// The hardened tree passes both profiles, except /tmp/keep-me that keep_paths protected.
	img := testfixture.Filesystem(t, "ext4", root, "96M")
	r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux", "alibaba"}, Options: rules.Options{CleanPaths: []string{"/opt/app/cache"}, AllowedUsers: []string{"keeper"}}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		switch {
		case f.Rule == "empty-tmp":
			if f.Status != rules.Fail || len(f.Evidence) != 1 || f.Evidence[0].Path != "/tmp/keep-me" {
				t.Errorf("empty-tmp should fail on /tmp/keep-me alone: %s %+v", f.Status, f.Evidence)
			}
		case testfixture.NotBuiltForAlibaba[f.Rule] != "":
			// the compliant tree is built for Azure; the provisioner installs no cloud-init or agent
			if string(f.Status) != testfixture.NotBuiltForAlibaba[f.Rule] {
				t.Errorf("after hardening, %s is %s, want %s: %s", f.Rule, f.Status, testfixture.NotBuiltForAlibaba[f.Rule], f.Message)
			}
		case f.Status != rules.Pass && f.Status != rules.NotApplicable:
			t.Errorf("after hardening, %s is %s: %s %+v", f.Rule, f.Status, f.Message, f.Evidence)
		}
	}
	second := runScript(t, root, options())
	if n := second.Changed(); n != 0 {
		for _, r := range second.Results {
			if len(r.Changes) > 0 {
				t.Errorf("second run, %s changed: %v", r.Step, r.Changes)
			}
		}
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	root := testfixture.DirtyTree(t)
	before := treeDigest(t, root)
	o := options()
	o.DryRun = true
	c := runScript(t, root, o)
	if c.Changed() < 20 {
		t.Errorf("dry run reported only %d would-be changes", c.Changed())
	}
	for _, r := range c.Results {
		for _, ch := range r.Changes {
			if !strings.HasPrefix(ch, "would ") {
				t.Errorf("%s: dry run change %q", r.Step, ch)
			}
		}
	}
	if after := treeDigest(t, root); after != before {
		t.Errorf("dry run changed the tree")
	}
}

func treeDigest(t *testing.T, root string) string {
	out, err := exec.Command("sh", "-c", "cd '"+root+"' && find . -printf '%p %s %m %l\\n' | sort && find . -type f -exec md5sum {} + | sort").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// The distro-network step writes what Microsoft's suite reads on RHEL-family and SUSE images,
// from whatever the build left, and the rule that checks it passes afterwards; a second run
// changes nothing.
func TestDistroNetworkStep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"RHEL 8, static ifcfg-eth0, no sysconfig/network", map[string]string{
			"etc/os-release": "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.9\"\n",
			"etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nONBOOT=no\nBOOTPROTO=none\nIPADDR=10.0.0.4\n"}},
		{"AlmaLinux 9, nothing written", map[string]string{
			"etc/os-release": "NAME=\"AlmaLinux\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n"}},
		{"SLES 15, DHCP client renames the VM", map[string]string{
			"etc/os-release":             "NAME=\"SLES\"\nID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"15.5\"\n",
			"etc/sysconfig/network/dhcp": "DHCLIENT_SET_HOSTNAME=\"yes\"\nDHCLIENT_HOSTNAME_OPTION=\"AUTO\"\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := testfixture.DirtyTree(t)
			for p, v := range tc.files {
				full := filepath.Join(root, p)
				os.MkdirAll(filepath.Dir(full), 0o755)
				if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			runScript(t, root, options())
			img := testfixture.Filesystem(t, "ext4", root, "96M")
			r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.Rule == "distro-image-config" && f.Status != rules.Pass {
					t.Errorf("after hardening, distro-image-config is %s: %s %+v", f.Status, f.Message, f.Evidence)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(root, "etc/sysconfig/network/dhcp")); len(b) > 0 && !strings.Contains(string(b), "DHCLIENT_HOSTNAME_OPTION=\"AUTO\"") {
				t.Errorf("the other DHCP settings were lost: %s", b)
			}
			second := runScript(t, root, options())
			for _, res := range second.Results {
				if res.Step == "distro-network" && len(res.Changes) > 0 {
					t.Errorf("second run changed %v", res.Changes)
				}
			}
		})
	}
}

// On an initramfs-tools image the kernel-cmdline step leaves rootdelay=300 out (it would sleep
// 300 s at every boot) unless kernel_rootdelay asks for it.
func TestKernelCmdlineRootdelay(t *testing.T) {
	for _, force := range []bool{false, true} {
		root := testfixture.DirtyTree(t)
		os.MkdirAll(filepath.Join(root, "usr/share/initramfs-tools"), 0o755)
		os.WriteFile(filepath.Join(root, "usr/share/initramfs-tools/init"), []byte("#!/bin/sh\n"), 0o755)
		o := options()
		o.KernelRootdelay = force
		runScript(t, root, o)
		b, err := os.ReadFile(filepath.Join(root, "etc/default/grub"))
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(b), "rootdelay=300"); has != force || !strings.Contains(string(b), "console=ttyS0 earlyprintk=ttyS0") {
			t.Errorf("kernel_rootdelay=%v: /etc/default/grub is %q", force, b)
		}
	}
}

// On a systemd-boot image (no /etc/default/grub) the parameters go into /etc/kernel/cmdline and
// the type #1 entries on the ESP; a unified kernel image is not edited: the step fails and says so.
func TestKernelCmdlineOnSystemdBoot(t *testing.T) {
	root := testfixture.DirtyTree(t)
	os.Remove(filepath.Join(root, "etc/default/grub"))
	os.RemoveAll(filepath.Join(root, "boot/grub"))
	entry := filepath.Join(root, "efi/loader/entries/debian-6.1.0-28-cloud-amd64.conf")
	os.MkdirAll(filepath.Dir(entry), 0o755)
	os.WriteFile(entry, []byte("title Debian\nlinux /6.1.0-28-cloud-amd64/linux\noptions root=PARTUUID=1234 ro quiet\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "etc/kernel"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/kernel/cmdline"), []byte("root=PARTUUID=1234 ro quiet\n"), 0o644)
	runScript(t, root, options())
	for _, f := range []string{entry, filepath.Join(root, "etc/kernel/cmdline")} {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), "ro quiet console=ttyS0 earlyprintk=ttyS0 rootdelay=300") {
			t.Errorf("%s: %q", f, b)
		}
	}
	second := runScript(t, root, options())
	for _, res := range second.Results {
		if res.Step == "kernel-cmdline" && len(res.Changes) > 0 {
			t.Errorf("second run changed %v", res.Changes)
		}
	}

	uki := filepath.Join(root, "efi/EFI/Linux/debian.efi")
	os.MkdirAll(filepath.Dir(uki), 0o755)
	os.WriteFile(uki, []byte("MZ"), 0o644)
	c, stderr, _, _ := runScriptAllowingFailures(t, root, options())
	failed := c.Failed()
	if len(failed) != 1 || failed[0].Step != "kernel-cmdline" || !strings.Contains(stderr+failed[0].Reason, "/efi/EFI/Linux/debian.efi") {
		t.Errorf("with a UKI: failed=%+v stderr=%s; want kernel-cmdline to fail naming the UKI", failed, stderr)
	}
}
