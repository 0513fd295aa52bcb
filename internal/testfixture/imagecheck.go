package testfixture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KernelRelease is the compliant tree's kernel.
const KernelRelease = "6.1.0-28-cloud-amd64"

// Initrd makes an initramfs holding an empty module file for each of mods (name => directory
// under kernel/, e.g. "nvme" => "drivers/nvme/host") of kernel release, with cpio, compressed
// with compressor ("" for none, else gzip, xz or zstd), and returns its bytes.
func Initrd(t testing.TB, release, compressor string, mods map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	for m, sub := range mods {
		d := filepath.Join(dir, "usr/lib/modules", release, "kernel", sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, m+".ko"), []byte("ko"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pipe := "find . | cpio -o -H newc --quiet"
	if compressor != "" {
		pipe += " | " + compressor + " -c"
	}
	cmd := exec.Command("sh", "-c", pipe)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("making an initramfs: %v", err)
	}
	return b
}

// KernelConfig is the compliant tree's /boot/config-RELEASE with the extra lines appended.
func KernelConfig(t testing.TB, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), "trees", "clean", "boot", "config-"+KernelRelease))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	for _, l := range extra {
		s += l + "\n"
	}
	return s
}

// CheckDisk describes a disk for the image-check rules' tests: a partition table, what sector 0
// holds, an EFI system partition, and where the root (the compliant tree with RootChanges, an
// ext4 filesystem with UUID RootUUID) lies.
type CheckDisk struct {
	Label    string // "gpt" or "dos"
	Size     string // the disk's size for truncate (e.g. "100M", "21G"): the image file is sparse
	BootCode bool   // sector 0 holds boot code (bytes 0 to 439 not zero)
	BIOSBoot bool   // a GPT BIOS boot partition (bios_grub) first
	// ESP, when not nil, is an EFI system partition (FAT) holding these files (path => bytes);
	// ESPUnreadable makes it one whose bytes are all zero (no filesystem to read).
	ESP           map[string][]byte
	ESPUnreadable bool
	RootChanges   Change
	RootUUID      string
	// DataAfter puts an 8 MiB Linux data partition after the root.
	DataAfter bool
}

// Build makes the disk with mke2fs, mkfs.vfat, mcopy, sfdisk and dd, and returns its path.
func (d CheckDisk) Build(t testing.TB) string {
	t.Helper()
	work := t.TempDir()
	disk := filepath.Join(work, "disk.raw")
	root := filepath.Join(work, "root.img")
	tree := variantTree(t, d.RootChanges)
	cmds := [][]string{{"mke2fs", "-q", "-F", "-t", "ext4", "-U", d.RootUUID, "-L", "root", "-d", tree, root, "64M"}}
	type part struct {
		img        string
		start, mib int
		gpt, mbr   string
	}
	var parts []part
	at := 1
	if d.BIOSBoot {
		parts = append(parts, part{"", at, 1, "21686148-6449-6E6F-744E-656564454649", ""})
		at++
	}
	if d.ESP != nil {
		esp := filepath.Join(work, "esp.img")
		espDir := filepath.Join(work, "esp")
		if !d.ESPUnreadable {
			cmds = append(cmds, []string{"mkfs.vfat", "-C", "-n", "ESP", esp, "16384"})
		} else {
			esp = ""
		}
		for p, b := range d.ESP {
			full := filepath.Join(espDir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if len(d.ESP) > 0 && esp != "" {
			ents, err := os.ReadDir(espDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				cmds = append(cmds, []string{"mcopy", "-s", "-i", esp, filepath.Join(espDir, e.Name()), "::/"})
			}
		}
		parts = append(parts, part{esp, at, 16, gptTypeESP, "ef"})
		at += 16
	}
	parts = append(parts, part{root, at, 64, gptTypeLinuxData, "83"})
	at += 64
	if d.DataAfter {
		data := filepath.Join(work, "data.img")
		cmds = append(cmds, []string{"mke2fs", "-q", "-F", "-t", "ext4", "-L", "data", data, "8M"})
		parts = append(parts, part{data, at, 8, gptTypeLinuxData, "83"})
	}
	script := "label: " + d.Label + "\n"
	for _, p := range parts {
		typ := p.gpt
		if d.Label == "dos" {
			typ = p.mbr
		}
		script += fmt.Sprintf("start=%dMiB, size=%dMiB, type=%s\n", p.start, p.mib, typ)
	}
	cmds = append(cmds, []string{"truncate", "-s", d.Size, disk}, []string{"sh", "-c", "printf '" + strings.ReplaceAll(script, "\n", "\\n") + "' | sfdisk -q " + disk})
	for _, p := range parts {
		if p.img != "" {
			cmds = append(cmds, []string{"dd", "if=" + p.img, "of=" + disk, "bs=1M", fmt.Sprintf("seek=%d", p.start), "conv=notrunc,sparse", "status=none"})
		}
	}
	runAll(t, []string{"MTOOLS_SKIP_CHECK=1"}, cmds)
	if d.BootCode {
		f, err := os.OpenFile(disk, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		// what a boot sector starts with: a jump over the BIOS parameter area, then code
		code := []byte{0xeb, 0x63, 0x90}
		if _, err := f.WriteAt(code, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return disk
}
