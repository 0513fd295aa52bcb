package testfixture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// SystemdStub is systemd's EFI stub from Debian's systemd-boot-efi package, what ukify and
// mkosi turn into unified kernel images (and add-ons).
const SystemdStub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

// sectionVMA places the sections as the systemd documentation's objcopy recipe does.
var sectionVMA = map[string]string{".osrel": "0x20000", ".cmdline": "0x30000", ".uname": "0x40000", ".splash": "0x50000", ".linux": "0x2000000", ".initrd": "0x3000000"}

// UKI makes a unified kernel image (or, with only .cmdline, an add-on) from systemd's stub with
// objcopy, each named section holding the given bytes, and returns the file's bytes.
func UKI(t testing.TB, sections map[string][]byte) []byte {
	t.Helper()
	if _, err := os.Stat(SystemdStub); err != nil {
		t.Fatalf("systemd's EFI stub is missing (apt-get install systemd-boot-efi; .ci/run installs it): %v", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "uki.efi")
	names := make([]string, 0, len(sections))
	for n := range sections {
		names = append(names, n)
	}
	sort.Strings(names)
	args := []string{}
	for i, n := range names {
		f := filepath.Join(dir, strings.TrimPrefix(n, "."))
		if err := os.WriteFile(f, sections[n], 0o644); err != nil {
			t.Fatal(err)
		}
		vma, ok := sectionVMA[n]
		if !ok {
			vma = fmt.Sprintf("%#x", 0x60000+i*0x10000)
		}
		args = append(args, "--add-section", n+"="+f, "--change-section-vma", n+"="+vma)
	}
	args = append(args, SystemdStub, out)
	if b, err := exec.Command("objcopy", args...).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Root type GUIDs of the Discoverable Partitions Specification.
const (
	gptTypeESP       = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	gptTypeRootX8664 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
)

// ESPDisk builds a systemd-boot style disk: GPT, partition 1 an EFI system partition (FAT made
// by mkfs.vfat, filled with mcopy) holding esp (in-partition path => bytes), partition 2 the
// x86-64 root (ext4, label "root", filesystem UUID fsUUID) holding the compliant tree with the
// root changes applied.
func ESPDisk(t testing.TB, root Change, esp map[string][]byte, fsUUID string) string {
	t.Helper()
	tree := variantTree(t, root)
	dir := filepath.Dir(tree)
	espDir := filepath.Join(dir, "esp")
	for p, b := range esp {
		full := filepath.Join(espDir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(espDir, 0o755); err != nil {
		t.Fatal(err)
	}
	espImg, part, disk := filepath.Join(dir, "esp.img"), filepath.Join(dir, "root.img"), filepath.Join(dir, "disk.raw")
	cmds := [][]string{
		{"mkfs.vfat", "-C", "-n", "ESP", espImg, "32768"},
		{"mke2fs", "-q", "-F", "-t", "ext4", "-U", fsUUID, "-L", "root", "-d", tree, part, "64M"},
		{"truncate", "-s", "98M", disk},
		{"sh", "-c", "printf 'label: gpt\\nstart=1MiB, size=32MiB, type=" + gptTypeESP + ", name=esp\\nstart=33MiB, size=64MiB, type=" + gptTypeRootX8664 + ", name=root\\n' | sfdisk -q " + disk},
	}
	ents, err := os.ReadDir(espDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		cmds = append(cmds, []string{"mcopy", "-s", "-i", espImg, filepath.Join(espDir, e.Name()), "::/"})
	}
	cmds = append(cmds,
		[]string{"dd", "if=" + espImg, "of=" + disk, "bs=1M", "seek=1", "conv=notrunc", "status=none"},
		[]string{"dd", "if=" + part, "of=" + disk, "bs=1M", "seek=33", "conv=notrunc", "status=none"})
	runAll(t, []string{"MTOOLS_SKIP_CHECK=1"}, cmds)
	return disk
}
