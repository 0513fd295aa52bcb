package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	kernelRelease = "6.1.0-28-cloud-amd64"
	ukiName       = "/EFI/Linux/debian-" + kernelRelease + ".efi"
	goodCmdline   = "ro console=ttyS0 earlyprintk=ttyS0 rootdelay=300"
	rootFSUUID    = "7e0a3c51-2d4b-4f6e-8a1c-9b2d3e4f5a6b"
)

// systemdBootRoot is the compliant tree as mkosi leaves it for a systemd-boot image: an empty
// fstab (Discoverable Partitions), no GRUB, the kernel and its initramfs only inside the UKI,
// and kernel-install's command line for the next kernel.
func systemdBootRoot(more testfixture.Change) testfixture.Change {
	c := testfixture.Change{
		"/etc/fstab":                        "# Discoverable Partitions: nothing to list\n",
		"/boot/grub":                        testfixture.Remove,
		"/boot/efi":                         testfixture.Remove,
		"/etc/default/grub":                 testfixture.Remove,
		"/boot/vmlinuz-" + kernelRelease:    testfixture.Remove,
		"/boot/initrd.img-" + kernelRelease: testfixture.Remove,
		"/etc/kernel/cmdline":               goodCmdline + "\n",
	}
	for k, v := range more {
		c[k] = v
	}
	return c
}

// cleanInitrd is the compliant image's initramfs (zstd, with the Hyper-V drivers).
func cleanInitrd(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "boot", "initrd.img-"+kernelRelease))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// initrdWithout is an uncompressed initramfs (made by cpio) with no Hyper-V driver in it.
func initrdWithout(t *testing.T) []byte {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr/lib/modules", kernelRelease, "kernel/drivers/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/lib/modules", kernelRelease, "kernel/drivers/block/virtio_blk.ko"), []byte("ko"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "find . | cpio -o -H newc --quiet")
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ukiWith(t *testing.T, cmdline string, initrd []byte) []byte {
	return testfixture.UKI(t, map[string][]byte{
		".osrel":   []byte("ID=debian\nVERSION_ID=\"12\"\n"),
		".cmdline": []byte(cmdline + "\n"),
		".uname":   []byte(kernelRelease),
		".linux":   []byte("a kernel"),
		".initrd":  initrd,
	})
}

// A systemd-boot image with a unified kernel image on its ESP: the command line is the UKI's
// .cmdline, the Hyper-V drivers are looked for in its .initrd, and the evidence names the UKI.
func TestUnifiedKernelImageOnTheESP(t *testing.T) {
	good := ukiWith(t, goodCmdline, cleanInitrd(t))
	esp := func(uki []byte, more map[string][]byte) map[string][]byte {
		m := map[string][]byte{ukiName: uki, "/loader/loader.conf": []byte("timeout 0\n")}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	disk := testfixture.ESPDisk(t, systemdBootRoot(nil), esp(good, nil), rootFSUUID)
	where := "partition 1:" + ukiName
	wantRule(t, disk, "kernel-cmdline", rules.Pass, where)
	wantRule(t, disk, "kernel-cmdline", rules.Pass, "unified kernel image's .cmdline on the ESP (partition 1)")
	wantRule(t, disk, "hyperv-drivers-at-boot", rules.Pass, where+" the UKI's .initrd section")
	wantRule(t, disk, "boot-devices-resolve", rules.Pass, "no root=")
	wantRule(t, disk, "unique-machine-id", rules.Pass, "")

	t.Run("UKI without the serial console", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp(ukiWith(t, "ro quiet", cleanInitrd(t)), nil), rootFSUUID)
		wantRule(t, d, "kernel-cmdline", rules.Fail, where)
	})
	t.Run("an add-on supplies the serial console", func(t *testing.T) {
		addon := testfixture.UKI(t, map[string][]byte{".cmdline": []byte(goodCmdline)})
		d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp(ukiWith(t, "quiet", cleanInitrd(t)),
			map[string][]byte{ukiName + ".extra.d/serial.addon.efi": addon}), rootFSUUID)
		wantRule(t, d, "kernel-cmdline", rules.Pass, where)
	})
	t.Run("UKI whose initramfs lacks the Hyper-V drivers", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp(ukiWith(t, goodCmdline, initrdWithout(t)), nil), rootFSUUID)
		wantRule(t, d, "hyperv-drivers-at-boot", rules.Fail, where+" the UKI's .initrd section")
	})
	t.Run("root= names the build host's loop device", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp(ukiWith(t, "root=/dev/loop0p2 "+goodCmdline, cleanInitrd(t)), nil), rootFSUUID)
		wantRule(t, d, "boot-devices-resolve", rules.Fail, where)
	})
	t.Run("kernel-install would drop the console on the next kernel", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(testfixture.Change{"/etc/kernel/cmdline": "ro quiet\n"}), esp(good, nil), rootFSUUID)
		wantRule(t, d, "kernel-cmdline", rules.Warn, "/etc/kernel/cmdline")
	})
	t.Run("mounted on /boot by its GPT type when /boot is empty", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(testfixture.Change{"/boot": testfixture.Remove}), esp(good, nil), rootFSUUID)
		wantRule(t, d, "kernel-cmdline", rules.Pass, "/boot"+ukiName)
		wantRule(t, d, "single-root", rules.Pass, "")
	})
	t.Run("no entry at all", func(t *testing.T) {
		d := testfixture.ESPDisk(t, systemdBootRoot(testfixture.Change{"/etc/kernel/cmdline": testfixture.Remove}),
			map[string][]byte{"/loader/loader.conf": []byte("timeout 0\n")}, rootFSUUID)
		wantRule(t, d, "kernel-cmdline", rules.Fail, "the ESP holds no /loader/entries/*.conf")
	})
}

// Type #1 entries on the ESP: loader.conf's default chooses the entry that is judged; the
// others are listed, not judged.
func TestLoaderEntriesDefault(t *testing.T) {
	initrd := cleanInitrd(t)
	entry := func(version, options string) []byte {
		return []byte("title Debian GNU/Linux 12\nversion " + version + "\nlinux /" + version + "/linux\ninitrd /" + version + "/initrd\noptions " + options + "\n")
	}
	esp := func(loaderConf string) map[string][]byte {
		return map[string][]byte{
			"/loader/loader.conf":                               []byte(loaderConf),
			"/loader/entries/debian-6.1.0-27-cloud-amd64.conf":  entry("6.1.0-27-cloud-amd64", "ro quiet"),
			"/loader/entries/debian-" + kernelRelease + ".conf": entry(kernelRelease, goodCmdline),
			"/6.1.0-27-cloud-amd64/linux":                       []byte("old kernel"),
			"/6.1.0-27-cloud-amd64/initrd":                      initrdWithout(t),
			"/" + kernelRelease + "/linux":                      []byte("kernel"),
			"/" + kernelRelease + "/initrd":                     initrd,
		}
	}
	newest := "partition 1:/loader/entries/debian-" + kernelRelease + ".conf"
	older := "partition 1:/loader/entries/debian-6.1.0-27-cloud-amd64.conf"

	// no default: systemd-boot starts the newest version
	d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp("timeout 3\n"), rootFSUUID)
	wantRule(t, d, "kernel-cmdline", rules.Pass, newest)
	wantRule(t, d, "kernel-cmdline", rules.Pass, "not the default entry (not judged)")
	wantRule(t, d, "hyperv-drivers-at-boot", rules.Pass, "partition 1:/"+kernelRelease+"/initrd")

	// loader.conf's default picks the older entry, which lacks the console and the drivers
	d = testfixture.ESPDisk(t, systemdBootRoot(nil), esp("default debian-6.1.0-27*\n"), rootFSUUID)
	wantRule(t, d, "kernel-cmdline", rules.Fail, older)
	wantRule(t, d, "hyperv-drivers-at-boot", rules.Fail, "partition 1:/6.1.0-27-cloud-amd64/initrd")

	// a machine ID pinned on the default entry's command line
	pinned := esp("default debian-" + kernelRelease + ".conf\n")
	pinned["/loader/entries/debian-"+kernelRelease+".conf"] = entry(kernelRelease, goodCmdline+" systemd.machine_id=0123456789abcdef0123456789abcdef")
	d = testfixture.ESPDisk(t, systemdBootRoot(nil), pinned, rootFSUUID)
	wantRule(t, d, "unique-machine-id", rules.Fail, newest)
}

// More loader entries than are read is an error, never a verdict on the ones that were.
func TestTooManyLoaderEntriesIsAnError(t *testing.T) {
	esp := map[string][]byte{"/loader/loader.conf": []byte("timeout 0\n")}
	for i := 0; i < 257; i++ {
		esp[fmt.Sprintf("/loader/entries/e%03d.conf", i)] = []byte("options " + goodCmdline + "\n")
	}
	d := testfixture.ESPDisk(t, systemdBootRoot(nil), esp, rootFSUUID)
	wantRule(t, d, "kernel-cmdline", rules.Error, "more than 256 files match")
}
