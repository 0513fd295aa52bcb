package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// elf64 is the start of a 64-bit little-endian ELF program for the machine (62 x86-64).
func elf64(machine byte) string {
	b := make([]byte, 64)
	copy(b, "\x7fELF\x02\x01\x01")
	b[18] = machine
	return string(b)
}

// cloud-init's stages run only when their conditions hold on the image for the command line
// the image really boots (issue #26): the kernel command line reaches ConditionKernelCommandLine=
// from the boot chain, the architecture from the image's systemd, and what cannot be read is an
// error of the rule.
func TestCloudInitStageConditions(t *testing.T) {
	r, ok := rules.ByID("cloud-init-enabled")
	if !ok {
		t.Fatal("no rule cloud-init-enabled")
	}
	const dropIn = "/etc/systemd/system/cloud-final.service.d/c.conf"
	ci := testfixture.With(testfixture.CloudInit(), testfixture.Change{"/usr/lib/systemd/system/cloud-final.service.d/up.conf": "[Unit]\nConditionPathExists=!/etc/cloud/cloud-init.disabled\nConditionKernelCommandLine=!cloud-init=disabled\nConditionEnvironment=!KERNEL_CMDLINE=cloud-init=disabled\n"})
	cond := func(c string) testfixture.Change { return testfixture.Change{dropIn: "[Unit]\n" + c + "\n"} }
	grub := func(words string) testfixture.Change {
		return testfixture.Change{"/boot/grub/grub.cfg": fmt.Sprintf(accessGrub, words)}
	}
	for _, c := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
		not      string
	}{
		{"cloud-init's own conditions hold", ci, rules.Pass, "cloud-final.service started at boot", "counted as running"},
		{"the booted command line skips a stage", testfixture.With(ci, cond("ConditionKernelCommandLine=!stage=off"), grub("stage=off")), rules.Fail, dropIn + ":2 systemd skips cloud-final.service", ""},
		{"a command line without the word", testfixture.With(ci, cond("ConditionKernelCommandLine=!stage=off"), grub("quiet")), rules.Pass, "cloud-final.service started at boot", "counted as running"},
		{"GRUB adds BOOT_IMAGE= to the command line", testfixture.With(ci, cond("ConditionKernelCommandLine=BOOT_IMAGE")), rules.Pass, "cloud-final.service started at boot", "counted as running"},
		{"BOOT_IMAGE='s value is not decided", testfixture.With(ci, cond("ConditionKernelCommandLine=BOOT_IMAGE=/vmlinuz")), rules.Pass, "counted as running", ""},
		{"the architecture of the image's systemd", testfixture.With(ci, cond("ConditionArchitecture=x86-64"), testfixture.Change{"/usr/lib/systemd/systemd": elf64(62)}), rules.Pass, "cloud-final.service started at boot", "counted as running"},
		{"another architecture skips it", testfixture.With(ci, cond("ConditionArchitecture=arm64"), testfixture.Change{"/usr/lib/systemd/systemd": elf64(62)}), rules.Fail, "ConditionArchitecture=arm64", ""},
		{"a systemd binary that is no program is an error", testfixture.With(ci, cond("ConditionArchitecture=x86-64")), rules.Error, "/usr/lib/systemd/systemd", ""},
		{"the os-release version", testfixture.With(ci, cond("ConditionOSRelease=VERSION_ID>=13")), rules.Fail, "VERSION_ID", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskVariant(t, testfixture.With(accessBase(), c.change), accessRootUUID))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			res := r.Run(&rules.Context{Image: img})
			var ev []string
			for _, e := range res.Evidence {
				ev = append(ev, fmt.Sprintf("%s:%d %s", e.Path, e.Line, e.Detail))
			}
			all := res.Message + "\n" + strings.Join(ev, "\n")
			if res.Status != c.status || !strings.Contains(all, c.evidence) || c.not != "" && strings.Contains(all, c.not) {
				t.Errorf("%s, want %s with %q (and not %q):\n%s", res.Status, c.status, c.evidence, c.not, all)
			}
		})
	}
}
