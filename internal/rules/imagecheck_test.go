package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The compliant tree's root filesystem UUID, as its grub.cfg and fstab name it.
const cleanRootUUID = "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a"

// judge runs one rule on an image and checks its status and that its message or evidence
// holds the text.
func judge(t *testing.T, imgPath, rule string, want rules.Status, text string) rules.Result {
	t.Helper()
	img, err := inspect.Open(imgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, ok := rules.ByID(rule)
	if !ok {
		t.Fatalf("no rule %s", rule)
	}
	res := r.Run(&rules.Context{Image: img})
	var all []string
	all = append(all, res.Message)
	for _, e := range res.Evidence {
		all = append(all, e.Path+" "+e.Detail)
	}
	if res.Status != want {
		t.Errorf("%s is %s (%s), want %s; evidence %q", rule, res.Status, res.Message, want, all)
	}
	if !strings.Contains(strings.Join(all, "\n"), text) {
		t.Errorf("%s: %q lacks %q", rule, all, text)
	}
	return res
}

type imageCase struct {
	name   string
	change testfixture.Change
	status rules.Status
	text   string
}

func runTreeCases(t *testing.T, rule string, cases []imageCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			judge(t, testfixture.Variant(t, c.change), rule, c.status, c.text)
		})
	}
}

const nvmeOn = "CONFIG_NVME_CORE=m"

func TestNVMeDriverAtBoot(t *testing.T) {
	initrd := "/boot/initrd.img-" + testfixture.KernelRelease
	config := "/boot/config-" + testfixture.KernelRelease
	both := map[string]string{"nvme": "drivers/nvme/host", "nvme_core": "drivers/nvme/host", "virtio_blk": "drivers/block"}
	runTreeCases(t, "nvme-driver-at-boot", []imageCase{
		{"modules in a zstd initramfs", testfixture.Change{config: testfixture.KernelConfig(t, nvmeOn, "CONFIG_BLK_DEV_NVME=m"),
			initrd: string(testfixture.Initrd(t, testfixture.KernelRelease, "zstd", both))}, rules.Pass, "nvme is in the initramfs"},
		{"built in", testfixture.Change{config: testfixture.KernelConfig(t, "CONFIG_NVME_CORE=y", "CONFIG_BLK_DEV_NVME=y")}, rules.Pass, "CONFIG_BLK_DEV_NVME=y"},
		{"not in the kernel", testfixture.Change{}, rules.Fail, "CONFIG_BLK_DEV_NVME is not set"},
		{"modules the initramfs lacks", testfixture.Change{config: testfixture.KernelConfig(t, nvmeOn, "CONFIG_BLK_DEV_NVME=m")},
			rules.Fail, "nvme is a module and not in the initramfs"},
		// one of the two missing is enough to fail
		{"nvme_core missing", testfixture.Change{config: testfixture.KernelConfig(t, nvmeOn, "CONFIG_BLK_DEV_NVME=m"),
			initrd: string(testfixture.Initrd(t, testfixture.KernelRelease, "gzip", map[string]string{"nvme": "drivers/nvme/host"}))},
			rules.Fail, "nvme_core is a module and not in the initramfs"},
		{"initramfs unreadable", testfixture.Change{config: testfixture.KernelConfig(t, nvmeOn, "CONFIG_BLK_DEV_NVME=m"),
			initrd: "\x28\xb5\x2f\xfdnot really zstd"}, rules.Error, "could not be read to its end"},
	})
}

func TestSELinuxDisabled(t *testing.T) {
	grub := "/boot/grub/grub.cfg"
	cfg, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "boot", "grub", "grub.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	withCmdline := func(extra string) string {
		return strings.Replace(string(cfg), "rootdelay=300", "rootdelay=300 "+extra, 1)
	}
	policy := "/etc/selinux/targeted/policy/policy.33"
	runTreeCases(t, "selinux-disabled", []imageCase{
		{"no SELinux at all", testfixture.Change{}, rules.Pass, "no /etc/selinux/config"},
		{"disabled", testfixture.Change{"/etc/selinux/config": "SELINUX=disabled\nSELINUXTYPE=targeted\n", policy: "p"}, rules.Pass, "SELINUX=disabled"},
		{"permissive", testfixture.Change{"/etc/selinux/config": "SELINUX=permissive\n", policy: "p"}, rules.Pass, "permissive"},
		{"enforcing warns", testfixture.Change{"/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n", policy: "p"}, rules.Warn, "SELINUX=enforcing"},
		// libselinux compares the value's start without case, after blanks
		{"enforcing as libselinux reads it", testfixture.Change{"/etc/selinux/config": "# SELINUX=disabled\nSELINUX=bogus\nSELINUX=  Enforcing-ish\n", policy: "p"},
			rules.Warn, "SELINUX=bogus is not a mode"},
		{"enforcing with no policy stops the boot", testfixture.Change{"/etc/selinux/config": "SELINUX=enforcing\n"}, rules.Fail, "stops the boot"},
		{"the policy type the file names is missing", testfixture.Change{"/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=mls\n", policy: "p"}, rules.Fail, "/etc/selinux/mls/policy"},
		{"selinux=0 on the command line", testfixture.Change{"/etc/selinux/config": "SELINUX=enforcing\n", policy: "p", grub: withCmdline("selinux=0")}, rules.Pass, "selinux=0"},
		{"enforcing=1 overrides permissive", testfixture.Change{"/etc/selinux/config": "SELINUX=permissive\n", policy: "p", grub: withCmdline("enforcing=1")}, rules.Warn, "enforcing=1"},
		{"enforcing=0 overrides enforcing", testfixture.Change{"/etc/selinux/config": "SELINUX=enforcing\n", policy: "p", grub: withCmdline("enforcing=0")}, rules.Pass, "enforcing=0"},
		{"a NUL in the file", testfixture.Change{"/etc/selinux/config": "SELINUX=dis\x00abled\n"}, rules.Error, "NUL"},
	})
}

// cloudInitInstalled adds cloud-init to the compliant tree's package database.
func cloudInitInstalled(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "var", "lib", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n") + "\n\nPackage: cloud-init\nStatus: install ok installed\nArchitecture: all\nVersion: 22.4.2-1+deb12u1\n\n"
}

func TestRootGrowsAtFirstBoot(t *testing.T) {
	modules := "cloud_init_modules:\n - migrator\n - [growpart, always]\n - resizefs\n"
	grows := func(more testfixture.Change) testfixture.Change {
		return testfixture.With(testfixture.CloudInit(), testfixture.Change{"/etc/cloud/cloud.cfg": modules, "/usr/bin/growpart": "#!/bin/sh\n"}, more)
	}
	runTreeCases(t, "root-grows-at-first-boot", []imageCase{
		{"growpart and resizefs", grows(nil), rules.Pass, "cloud_init_modules runs growpart"},
		{"module names as cloud-init forms them", grows(testfixture.Change{"/etc/cloud/cloud.cfg": "cloud_init_modules: [cc_growpart.py]\ncloud_final_modules: [' resizefs ']\n"}),
			rules.Pass, "cloud_final_modules runs resizefs"},
		{"no cloud-init", grows(testfixture.Change{"/usr/bin/cloud-init": testfixture.Remove}), rules.Fail, "cloud-init is not installed"},
		{"cloud-init disabled", grows(testfixture.Change{"/etc/cloud/cloud-init.disabled": ""}), rules.Fail, "does not run at boot"},
		{"resizefs not run", grows(testfixture.Change{"/etc/cloud/cloud.cfg": "cloud_init_modules: [growpart]\n"}), rules.Fail, "no module list runs resizefs"},
		// a later conf.d file wins: cloud-init's merge
		{"growpart turned off in conf.d", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/99-off.cfg": "growpart:\n  mode: 'off'\n"}), rules.Fail, "turns growpart off"},
		{"growpart mode false", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/99-off.cfg": "growpart: {mode: false}\n"}), rules.Fail, "turns growpart off"},
		{"devices without the root", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/50-dev.cfg": "growpart: {devices: [/var]}\n"}), rules.Fail, "does not name /"},
		{"resize_rootfs false", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/50-r.cfg": "resize_rootfs: false\n"}), rules.Fail, "resize_rootfs: false"},
		{"resize_rootfs noblock", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/50-r.cfg": "resize_rootfs: noblock\n"}), rules.Pass, "resizefs"},
		{"growroot disabled", grows(testfixture.Change{"/etc/growroot-disabled": ""}), rules.Fail, "/etc/growroot-disabled"},
		{"growpart in /usr/sbin", grows(testfixture.Change{"/usr/bin/growpart": testfixture.Remove, "/usr/sbin/growpart": "#!/bin/sh\n"}), rules.Pass, "/usr/sbin/growpart"},
		{"no growpart program", grows(testfixture.Change{"/usr/bin/growpart": testfixture.Remove}), rules.Fail, "growpart (cloud-utils-growpart, cloud-guest-utils) is not installed"},
		{"configuration unreadable", grows(testfixture.Change{"/etc/cloud/cloud.cfg.d/50-bad.cfg": "growpart: [unclosed\n"}), rules.Error, "50-bad.cfg"},
	})
}

func TestHardwareClockUTC(t *testing.T) {
	runTreeCases(t, "hardware-clock-utc", []imageCase{
		{"no adjtime", testfixture.Change{"/etc/adjtime": testfixture.Remove}, rules.Pass, "no /etc/adjtime"},
		{"UTC", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\nUTC\n"}, rules.Pass, "UTC"},
		{"two lines", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\n"}, rules.Pass, "no third line"},
		{"LOCAL", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\nLOCAL\n"}, rules.Fail, "local time"},
		// systemd reads the stripped line; hwclock would not recognise it, the boot is local
		{"LOCAL without its newline", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\nLOCAL"}, rules.Fail, "local time"},
		{"CRLF line ends", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\r\n0\r\nLOCAL\r\n"}, rules.Fail, "local time"},
		{"UTC without its newline", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\nUTC"}, rules.Warn, "neither UTC nor LOCAL"},
		{"lower-case local", testfixture.Change{"/etc/adjtime": "0.0 0 0.0\n0\nlocal\n"}, rules.Warn, "neither UTC nor LOCAL"},
		{"a line systemd refuses", testfixture.Change{"/etc/adjtime": strings.Repeat("0", 1<<20+1) + "\n0\nUTC\n"}, rules.Error, "longer than"},
	})
}

// pe is the start of a PE file for a machine, what a firmware of that machine starts: "MZ", the
// PE header's offset at 0x3c, "PE\0\0" there and the machine.
func pe(machine uint16) []byte {
	b := make([]byte, 0x80)
	copy(b, "MZ")
	b[0x3c] = 0x40
	copy(b[0x40:], "PE\x00\x00")
	b[0x44], b[0x45] = byte(machine), byte(machine>>8)
	return b
}

// efiApp is an x86-64 EFI application, efiARM an arm64 one.
var efiApp, efiARM = pe(0x8664), pe(0xaa64)

func TestBootModeConsistent(t *testing.T) {
	disk := func(d testfixture.CheckDisk) testfixture.CheckDisk {
		d.Label, d.Size, d.RootUUID = "gpt", "100M", cleanRootUUID
		return d
	}
	arm := testfixture.Change{"/boot/config-" + testfixture.KernelRelease: testfixture.KernelConfig(t, "CONFIG_ARM64=y")}
	for _, c := range []struct {
		name   string
		disk   testfixture.CheckDisk
		status rules.Status
		text   string
	}{
		{"BIOS", disk(testfixture.CheckDisk{BootCode: true, BIOSBoot: true}), rules.Pass, "starts by BIOS"},
		{"UEFI", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": efiApp}}), rules.Pass, "starts by UEFI"},
		{"UEFI with a lower-case name", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/efi/boot/bootx64.efi": efiApp}}), rules.Pass, "starts by UEFI"},
		{"both", disk(testfixture.CheckDisk{BootCode: true, BIOSBoot: true, ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": efiApp, "/EFI/debian/grubx64.efi": efiApp}}),
			rules.Pass, "UEFI-Preferred"},
		{"grub-install never ran", disk(testfixture.CheckDisk{BIOSBoot: true, ESP: map[string][]byte{"/EFI/debian/grub.cfg": []byte("configfile x\n")}}),
			rules.Fail, "grub-install was meant to run"},
		{"an .efi that is no PE file", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": []byte("not a PE file")}}), rules.Fail, "starts neither"},
		{"vendor path only", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/debian/shimx64.efi": efiApp}}), rules.Warn, "vendor path"},
		{"arm64 by BIOS", disk(testfixture.CheckDisk{BootCode: true, RootChanges: arm}), rules.Fail, "arm64 image must start by UEFI"},
		{"arm64 by UEFI", disk(testfixture.CheckDisk{RootChanges: arm, ESP: map[string][]byte{"/EFI/BOOT/BOOTAA64.EFI": efiARM}}), rules.Pass, "CONFIG_ARM64=y"},
		// a firmware starts only its own architecture's program (an outside review)
		{"x86-64 with only an arm64 loader", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/BOOT/BOOTAA64.EFI": efiARM}}), rules.Fail, "an x86-64 firmware does not start it"},
		{"arm64 with only an x86-64 loader", disk(testfixture.CheckDisk{RootChanges: arm, ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": efiApp}}), rules.Fail, "an arm64 firmware does not start it"},
		{"an arm64 program named BOOTX64.EFI", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": efiARM}}), rules.Fail, "for arm64"},
		{"a PE header past the file", disk(testfixture.CheckDisk{ESP: map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": efiApp[:0x42]}}), rules.Fail, "starts neither"},
		{"MBR boot code", testfixture.CheckDisk{Label: "dos", Size: "100M", RootUUID: cleanRootUUID, BootCode: true}, rules.Pass, "sector 0"},
		// sfdisk writes a disk signature at byte 440: that is not boot code
		{"MBR without boot code", testfixture.CheckDisk{Label: "dos", Size: "100M", RootUUID: cleanRootUUID}, rules.Fail, "starts neither"},
		{"ESP unreadable", disk(testfixture.CheckDisk{BootCode: true, ESP: map[string][]byte{}, ESPUnreadable: true}), rules.Error, "could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) { judge(t, c.disk.Build(t), "boot-mode-consistent", c.status, c.text) })
	}
	t.Run("bare filesystem", func(t *testing.T) {
		judge(t, testfixture.Variant(t, nil), "boot-mode-consistent", rules.NotApplicable, "bare filesystem")
	})
}

func TestGrubBootsByUUID(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "boot", "grub", "grub.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	// the disk has one partition, the root: GRUB finds /boot on it
	oneFS := strings.NewReplacer("--set=root 0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "--set=root "+cleanRootUUID,
		"\t/vmlinuz-", "\t/boot/vmlinuz-", "\t/initrd.img-", "\t/boot/initrd.img-").Replace(string(cfg))
	if oneFS == string(cfg) {
		t.Fatal("the compliant grub.cfg changed: this test's edit of it does not apply")
	}
	root := func(spec string) testfixture.Change {
		return testfixture.Change{"/boot/grub/grub.cfg": strings.Replace(oneFS, "root=UUID="+cleanRootUUID, "root="+spec, 1)}
	}
	with := func(c testfixture.Change) testfixture.Change {
		c["/boot/grub/grub.cfg"] = oneFS
		return c
	}
	for _, c := range []imageCase{
		{"by UUID", root("UUID=" + cleanRootUUID), rules.Pass, "root=UUID=" + cleanRootUUID},
		{"by label", root("LABEL=root"), rules.Pass, "root=LABEL=root"},
		{"by device name", root("/dev/vda1"), rules.Fail, "is a device name"},
		// the prefixes are case-sensitive to the initramfs and the kernel (an outside review)
		{"by a lowercase uuid=", root("uuid=" + cleanRootUUID), rules.Fail, "root=uuid=" + cleanRootUUID},
		{"by an unknown UUID", root("UUID=00000000-0000-4000-8000-000000000000"), rules.Fail, "matches no partition"},
		{"no root=", root(""), rules.Fail, "no Discoverable Partitions root type"},
		// the compliant grub.cfg searches for a /boot partition this one-partition disk lacks
		{"files on a device not found", nil, rules.Error, "not known offline"},
		{"kernel missing", with(testfixture.Change{"/boot/vmlinuz-" + testfixture.KernelRelease: testfixture.Remove}), rules.Fail, "the kernel /boot/vmlinuz-" + testfixture.KernelRelease + " does not exist where GRUB reads it"},
		{"initramfs missing", with(testfixture.Change{"/boot/initrd.img-" + testfixture.KernelRelease: testfixture.Remove}), rules.Fail, "the initramfs /boot/initrd.img-" + testfixture.KernelRelease + " does not exist where GRUB reads it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			judge(t, testfixture.DiskVariant(t, c.change, cleanRootUUID), "grub-boots-by-uuid", c.status, c.text)
		})
	}
	t.Run("bare filesystem", func(t *testing.T) {
		judge(t, testfixture.Variant(t, nil), "grub-boots-by-uuid", rules.Pass, "known once it is on a disk")
	})
	// a script that sources itself: GRUB would recurse without end; what boots is unknown
	t.Run("boot chain undecidable", func(t *testing.T) {
		judge(t, testfixture.DiskVariant(t, testfixture.Change{"/boot/grub/grub.cfg": "source $prefix/grub.cfg\n" + string(cfg)}, cleanRootUUID),
			"grub-boots-by-uuid", rules.Error, "loop")
	})
}

func TestRootPartitionLast(t *testing.T) {
	for _, c := range []struct {
		name   string
		disk   testfixture.CheckDisk
		status rules.Status
		text   string
	}{
		{"root last", testfixture.CheckDisk{Label: "gpt", Size: "100M", RootUUID: cleanRootUUID, BIOSBoot: true, ESP: map[string][]byte{}}, rules.Pass, "is the last partition"},
		{"a data partition after it", testfixture.CheckDisk{Label: "gpt", Size: "100M", RootUUID: cleanRootUUID, DataAfter: true}, rules.Fail, "after the root"},
		{"MBR, data after it", testfixture.CheckDisk{Label: "dos", Size: "100M", RootUUID: cleanRootUUID, DataAfter: true}, rules.Fail, "after the root"},
	} {
		t.Run(c.name, func(t *testing.T) { judge(t, c.disk.Build(t), "root-partition-last", c.status, c.text) })
	}
	t.Run("bare filesystem", func(t *testing.T) {
		judge(t, testfixture.Variant(t, nil), "root-partition-last", rules.NotApplicable, "bare filesystem")
	})
}

// The bounds, each on both sides: 20 GiB passes and a MiB less warns; 2048 GiB passes and a
// MiB more fails. The disks are sparse files.
func TestSystemDiskSize(t *testing.T) {
	for _, c := range []struct {
		size   string
		status rules.Status
		text   string
	}{
		{"20479M", rules.Warn, "smaller than 20 GiB"},
		{"20G", rules.Pass, "20.00 GiB"},
		{"2048G", rules.Pass, "2048.00 GiB"},
		{"2097153M", rules.Fail, "larger than the 2048 GiB"},
	} {
		t.Run(c.size, func(t *testing.T) {
			judge(t, testfixture.CheckDisk{Label: "gpt", Size: c.size, RootUUID: cleanRootUUID}.Build(t), "system-disk-size", c.status, c.text)
		})
	}
}

func TestAlibabaAgentsInstalled(t *testing.T) {
	status := cloudInitInstalled(t) // any package database with one more entry
	assist := strings.Replace(status, "Package: cloud-init", "Package: aliyun-assist", 1)
	runTreeCases(t, "cloud-assistant-installed", []imageCase{
		{"package", testfixture.Change{"/var/lib/dpkg/status": assist}, rules.Pass, "package aliyun-assist"},
		{"install path", testfixture.Change{"/usr/sbin/aliyun-service": "\x7fELF"}, rules.Pass, "/usr/sbin/aliyun-service"},
		{"absent", testfixture.Change{}, rules.Warn, "not installed"},
		{"package database unreadable", testfixture.Change{"/var/lib/dpkg/status": testfixture.Remove, "/var/lib/dpkg/status/x": "a directory now"}, rules.Error, "status"},
	})
	runTreeCases(t, "security-center-agent-installed", []imageCase{
		// it installs outside the package database: that database is not read
		{"package database unreadable", testfixture.Change{"/var/lib/dpkg/status": testfixture.Remove, "/var/lib/dpkg/status/x": "a directory now"}, rules.Warn, "none of /usr/local/aegis"},
		{"install path", testfixture.Change{"/usr/local/aegis/aegis_client/aegis_11_91/AliYunDun": "\x7fELF"}, rules.Pass, "/usr/local/aegis/aegis_client"},
		{"absent", testfixture.Change{}, rules.Warn, "not installed"},
	})
}

// alibabaValueDocumented reports whether an item's Value is in the check's vocabulary.
func alibabaValueDocumented(name, v string) bool {
	if name == "OSVersion" || name == "KernelVersion" {
		return v != ""
	}
	return slices.Contains(report.AlibabaItemValues[name], v) || slices.Contains(report.AlibabaResultValues, v)
}

// The Values of real checks, of the clean image and of the one that breaks every rule, are in
// the check's vocabulary (never our sentences), and the clean image's boot mode, clock and
// architecture are the check's own words for them.
func TestAlibabaDetectionValuesOfChecks(t *testing.T) {
	p := plan.MustNew(plan.Choices{Profiles: []string{"alibaba"}})
	for _, fixture := range []string{"clean.raw", "dirty.raw"} {
		r, err := engine.Check(testfixture.Path(t, fixture), p)
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]string{}
		for _, it := range r.AlibabaDetection().Items.Item {
			values[it.Name] = it.Value
			if !alibabaValueDocumented(it.Name, it.Value) {
				t.Errorf("%s: %s = %q is not a value Alibaba's check reports", fixture, it.Name, it.Value)
			}
		}
		if fixture == "clean.raw" && (values["Architecture"] != "x86_64" || values["RtcTimeMode"] != "UTC" ||
			!slices.Contains([]string{"LEGACY", "UEFI", "UEFI-Preferred"}, values["BootMode"]) || values["Virtio"] != "Supported") {
			t.Errorf("clean image's items %v", values)
		}
		t.Logf("%s: %v", fixture, values)
	}
}

// The alibaba-detection report of a real check: the image facts fill Platform, OSVersion and
// KernelVersion, and every item the profile's rules decide is there, by its DescribeImages name.
func TestAlibabaDetectionOfACheck(t *testing.T) {
	p := plan.MustNew(plan.Choices{Profiles: []string{"alibaba"}})
	r, err := engine.Check(testfixture.Path(t, "clean.raw"), p)
	if err != nil {
		t.Fatal(err)
	}
	d := r.AlibabaDetection()
	items := map[string]report.AlibabaDetectionItem{}
	for _, it := range d.Items.Item {
		items[it.Name] = it
	}
	if d.Status != "Finished" || items["Platform"].Value != "Linux" || items["KernelVersion"].Value != testfixture.KernelRelease ||
		!strings.Contains(items["OSVersion"].Value, "Debian") {
		t.Errorf("status %s, items %+v", d.Status, items)
	}
	for _, f := range r.Findings {
		for _, c := range f.Checks {
			name, ok := strings.CutPrefix(c.ID, "GUESTOS.")
			if c.Profile != "alibaba" || !ok {
				continue
			}
			it, found := items[name]
			if !found {
				t.Errorf("%s (%s) is not an item", c.ID, f.Rule)
			}
			if atRisk := it.RiskLevel != ""; atRisk != (f.Status != rules.Pass && f.Status != rules.NotApplicable) {
				t.Errorf("%s: %s is %s, item %+v", name, f.Rule, f.Status, it)
			}
		}
	}
}

// The report format is a plan output like the others: its option names, its default file.
func TestAlibabaDetectionReportOption(t *testing.T) {
	dir := t.TempDir()
	p := plan.MustNew(plan.Choices{Profiles: []string{"alibaba"}, Reports: plan.Reports{Formats: []string{"alibaba-detection"}, Dir: dir}})
	if got := p.Reports().AlibabaDetection; got != filepath.Join(dir, "marketplace-check-alibaba-detection.json") {
		t.Errorf("default path %q", got)
	}
	for flags, want := range map[bool]string{false: "alibaba_detection_report", true: "--alibaba-detection"} {
		p := plan.MustNew(plan.Choices{Flags: flags, Reports: plan.Reports{AlibabaDetection: filepath.Join(dir, "a.json")}})
		outs := p.Outputs()
		if len(outs) != 1 || outs[0].Option != want {
			t.Errorf("flags=%v: outputs %+v, want option %s", flags, outs, want)
		}
	}
	_, err := plan.New(plan.Choices{Reports: plan.Reports{AlibabaDetection: filepath.Join(dir, "x.json"), JSON: filepath.Join(dir, "x.json")}})
	if err == nil || !strings.Contains(err.Error(), "alibaba_detection_report") {
		t.Errorf("one file for two reports: %v", err)
	}
}
