package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	sdRelease = "6.1.0-28-cloud-amd64"
	sdOld     = "6.1.0-27-cloud-amd64"
	sdGood    = "ro console=ttyS0 earlyprintk=ttyS0 rootdelay=300"
	sdUUID    = "7e0a3c51-2d4b-4f6e-8a1c-9b2d3e4f5a6b"
)

// sdRoot is the compliant tree as a systemd-boot image leaves it: no GRUB, the kernels only on
// the ESP, kernel-install's command line for the next kernel.
func sdRoot() testfixture.Change {
	return testfixture.Change{
		"/etc/fstab":                    "# Discoverable Partitions: nothing to list\n",
		"/boot/grub":                    testfixture.Remove,
		"/boot/efi":                     testfixture.Remove,
		"/etc/default/grub":             testfixture.Remove,
		"/boot/vmlinuz-" + sdRelease:    testfixture.Remove,
		"/boot/initrd.img-" + sdRelease: testfixture.Remove,
		"/etc/kernel/cmdline":           sdGood + "\n",
	}
}

func sdInitrd(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "boot", "initrd.img-"+sdRelease))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdESP holds two type #1 entries, the newest (sdRelease) with the console and the older
// without; extra files are added or (nil) removed.
func sdESP(t *testing.T, dir, loaderConf string, newest, older []byte, extra map[string][]byte) map[string][]byte {
	m := map[string][]byte{
		"/loader/loader.conf":                  []byte(loaderConf),
		dir + "/debian-" + sdRelease + ".conf": newest,
		dir + "/debian-" + sdOld + ".conf":     older,
		"/" + sdRelease + "/linux":             []byte("kernel"),
		"/" + sdRelease + "/initrd":            sdInitrd(t),
		"/" + sdOld + "/linux":                 []byte("old kernel"),
		"/" + sdOld + "/initrd":                sdInitrd(t),
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func sdEntry(version, sep, options string) []byte {
	return []byte("title" + sep + "Debian GNU/Linux 12\nversion" + sep + version + "\nlinux" + sep + "/" + version + "/linux\ninitrd" + sep + "/" + version + "/initrd\noptions" + sep + options + "\n")
}

// Issue 26, systemd-boot as systemd 252 reads its configuration: a tab separates keys from
// values; loader.conf's default matches entry names without case; entries systemd-boot drops
// (a missing kernel, a foreign architecture) are never its default; /Loader/Entries may be
// spelled in any case on FAT. In each case the entry that boots lacks the console:
// kernel-cmdline fails naming it.
func TestFactsBootSystemdBoot(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{azureLinux}}
	newest := sdEntry(sdRelease, " ", sdGood)
	older := sdEntry(sdOld, " ", "ro quiet")
	olderWhere := "partition 1:/loader/entries/debian-" + sdOld + ".conf"
	for name, tc := range map[string]struct {
		esp   map[string][]byte
		where string
		line  int
	}{
		// loader.conf's "default<TAB>..." chooses the older entry
		"tab in loader.conf": {sdESP(t, "/loader/entries", "timeout 0\ndefault\tdebian-"+sdOld+".conf\n", newest, older, nil), olderWhere, 5},
		// the older entry's keys are separated by tabs; its sort-key puts it first in the menu
		"tab in an entry": {sdESP(t, "/loader/entries", "timeout 3\n", newest, append(sdEntry(sdOld, "\t", "ro quiet"), "sort-key\tdebian\n"...), nil), olderWhere, 5},
		// DEBIAN-6.1.0-27* names debian-6.1.0-27-cloud-amd64.conf
		"case-insensitive default": {sdESP(t, "/loader/entries", "default DEBIAN-"+sdOld+"*\n", newest, older, nil), olderWhere, 5},
		// the newest entry's kernel is missing: systemd-boot drops it and boots the older
		"missing kernel": {sdESP(t, "/loader/entries", "timeout 3\n", newest, older, map[string][]byte{"/" + sdRelease + "/linux": nil}), olderWhere, 5},
		// the newest entry is for another architecture: dropped
		"foreign architecture": {sdESP(t, "/loader/entries", "timeout 3\n", append(append([]byte{}, newest...), "architecture aa64\n"...), older, nil), olderWhere, 5},
		// the entries directory in mixed case, as FAT allows
		"mixed-case /Loader/Entries": {sdESP(t, "/Loader/Entries", "default debian-"+sdOld+".conf\n", newest, older, nil),
			"partition 1:/Loader/Entries/debian-" + sdOld + ".conf", 5},
	} {
		d := testfixture.ESPDisk(t, sdRoot(), tc.esp, sdUUID)
		r := mustCheck(t, d, cfg)
		f := finding(t, r, "kernel-cmdline")
		if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, tc.where, tc.line, "console=ttyS0") {
			t.Errorf("%s: %s: %s %+v", name, f.Status, f.Message, f.Evidence)
		}
	}
	// the control: the newest entry boots and carries the parameters
	d := testfixture.ESPDisk(t, sdRoot(), sdESP(t, "/loader/entries", "timeout 3\n", newest, older, nil), sdUUID)
	if f := finding(t, mustCheck(t, d, cfg), "kernel-cmdline"); f.Status != rules.Pass {
		t.Errorf("control: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}

// A UKI's .cmdline as systemd-stub 252 finds it: a .cmdline section of VirtualSize 0 is
// absent (the kernel gets no command line from it), and of two .cmdline sections the stub
// takes the last. Either way the console is not passed: kernel-cmdline fails naming the UKI.
func TestFactsBootUKISections(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{azureLinux}}
	const uki = "/EFI/Linux/debian-" + sdRelease + ".efi"
	sections := func(more map[string][]byte) map[string][]byte {
		m := map[string][]byte{
			".osrel":   []byte("ID=debian\nVERSION_ID=\"12\"\n"),
			".cmdline": []byte(sdGood + "\n"),
			".uname":   []byte(sdRelease),
			".linux":   []byte("a kernel"),
			".initrd":  sdInitrd(t),
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	good := testfixture.UKI(t, sections(nil))
	vsize0 := testfixture.PatchPESection(t, good, ".cmdline", "", 0)
	// a second section ".cmdlinz" (after .cmdline in the table) renamed .cmdline
	two := testfixture.PatchPESection(t, testfixture.UKI(t, sections(map[string][]byte{".cmdlinz": []byte("ro quiet\n")})), ".cmdlinz", ".cmdline", -1)
	for name, b := range map[string][]byte{"VirtualSize 0": vsize0, "two .cmdline sections": two} {
		d := testfixture.ESPDisk(t, sdRoot(), map[string][]byte{uki: b, "/loader/loader.conf": []byte("timeout 0\n")}, sdUUID)
		r := mustCheck(t, d, cfg)
		if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Fail || r.Compliant || !hasEvidence(f, "partition 1:"+uki, 0, "console=ttyS0") {
			t.Errorf("%s: %s: %s %+v", name, f.Status, f.Message, f.Evidence)
		}
	}
	d := testfixture.ESPDisk(t, sdRoot(), map[string][]byte{uki: good, "/loader/loader.conf": []byte("timeout 0\n")}, sdUUID)
	if f := finding(t, mustCheck(t, d, cfg), "kernel-cmdline"); f.Status != rules.Pass {
		t.Errorf("control: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}
