package rules_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// GRUB's booted entry must load a kernel that exists where GRUB reads it: a missing kernel
// makes kernel-cmdline and the driver rules FAIL naming it; with `fallback` naming an entry
// whose kernel exists, that entry is the one judged (and passes); a missing initramfs fails the
// driver rules (GRUB's initrd fails and the kernel boots without one).
func TestGrubEntryKernelMustExist(t *testing.T) {
	const params = " root=/dev/sda1 ro console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300\n"
	good := "menuentry 'good' {\n\tlinux /boot/vmlinuz-" + testfixture.KernelRelease + params + "\tinitrd /boot/initrd.img-" + testfixture.KernelRelease + "\n}\n"
	gone := "menuentry 'gone' {\n\tlinux /boot/vmlinuz-9.9.9-gone" + params + "\tinitrd /boot/initrd.img-" + testfixture.KernelRelease + "\n}\n"
	for _, c := range []struct {
		name, cfg string
		want      rules.Status
		naming    string
	}{
		{"the default's kernel is missing", "set default=0\n" + gone + good, rules.Fail, "/boot/vmlinuz-9.9.9-gone"},
		{"GRUB falls back to an entry that boots", "set default=0\nset fallback=1\n" + gone + good, rules.Pass, ""},
		{"the default's initramfs is missing", "menuentry 'x' {\n\tlinux /boot/vmlinuz-" + testfixture.KernelRelease + params + "\tinitrd /boot/initrd.img-gone\n}\n", rules.Fail, "/boot/initrd.img-gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// a partitioned disk: GRUB's $root is (hd0,msdos1), the one filesystem, /boot on it
			img := testfixture.DiskVariant(t, testfixture.Change{"/boot/grub/grub.cfg": c.cfg}, "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a")
			r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, f := range r.Findings {
				if f.Rule != "kernel-cmdline" && f.Rule != "hyperv-drivers-at-boot" {
					continue
				}
				seen++
				text := f.Message
				for _, e := range f.Evidence {
					text += " " + e.Path + " " + e.Detail
				}
				want := c.want
				if f.Rule == "kernel-cmdline" && strings.Contains(c.name, "initramfs") {
					want = rules.Pass // the command line is right; the drivers are not there
				}
				if f.Status != want || want == rules.Fail && !strings.Contains(text, c.naming) {
					t.Errorf("%s: %s: %s", f.Rule, f.Status, text)
				}
			}
			if seen != 2 {
				t.Errorf("%d of the two rules judged", seen)
			}
		})
	}
}
