package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/bootmode"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// espDisk builds a GPT disk whose partition 1 is typed EFI system partition and holds a
// filesystem of fsType ("ext4", written in place by mke2fs -E offset=, or "vfat", by mkfs.vfat
// and mcopy) with an x86-64 loader at the removable-media path and at a vendor path;
// partition 2 is the compliant root. bootCode writes boot code to sector 0.
func espDisk(t *testing.T, fsType string, bootCode bool) string {
	t.Helper()
	work := t.TempDir()
	files := map[string][]byte{
		"EFI/BOOT/BOOTX64.EFI":       efiApp,
		"loader/loader.conf":         []byte("default debian.conf\n"),
		"loader/entries/debian.conf": []byte("title Debian\nlinux /vmlinuz\noptions root=UUID=" + cleanRootUUID + " console=ttyS0 esp-entry\n"),
		"vmlinuz":                    testfixture.KernelHeader(),
	}
	dir := filepath.Join(work, "esp")
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk := filepath.Join(work, "disk.raw")
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run(nil, "truncate", "-s", "100M", disk)
	sf := exec.Command("sfdisk", "-q", disk)
	sf.Stdin = strings.NewReader("label: gpt\nstart=1MiB, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=17MiB, size=64MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n")
	if out, err := sf.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	switch fsType {
	case "ext4":
		// the filesystem written straight into the partition, 16 MiB from 1 MiB on
		run(nil, "mke2fs", "-q", "-F", "-t", "ext4", "-E", "offset=1048576", "-d", dir, disk, "16M")
	case "vfat":
		img := filepath.Join(work, "esp.img")
		run(nil, "mkfs.vfat", "-C", "-n", "ESP", img, "16384")
		run([]string{"MTOOLS_SKIP_CHECK=1"}, "mcopy", "-s", "-i", img, filepath.Join(dir, "EFI"), "::/")
		run(nil, "dd", "if="+img, "of="+disk, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none")
	default:
		t.Fatalf("no filesystem %s", fsType)
	}
	run(nil, "dd", "if="+testfixture.Variant(t, nil), "of="+disk, "bs=1M", "seek=17", "conv=notrunc,sparse", "status=none")
	if bootCode {
		f, err := os.OpenFile(disk, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{0xeb, 0x63, 0x90}, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("sfdisk", "-d", disk).CombinedOutput(); err != nil || !strings.Contains(string(out), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B") {
		t.Fatalf("the partition table did not survive the filesystem: %v\n%s", err, out)
	}
	return disk
}

// An EFI system partition holding ext4: UEFI firmware reads only FAT, so the loader on it never
// starts and the disk starts by BIOS or not at all; the same files on FAT start by UEFI.
func TestESPHoldingExt4(t *testing.T) {
	for _, c := range []struct {
		name     string
		fs       string
		bootCode bool
		status   rules.Status
		text     string
		actual   string
	}{
		{"ext4, no boot code", "ext4", false, rules.Fail, "starts neither", "none"},
		{"ext4, boot code", "ext4", true, rules.Pass, "starts by BIOS", "BIOS"},
		{"FAT, no boot code", "vfat", false, rules.Pass, "starts by UEFI", "UEFI"},
		{"FAT, boot code", "vfat", true, rules.Pass, "UEFI-Preferred", "UEFI-Preferred"},
	} {
		t.Run(c.name, func(t *testing.T) {
			disk := espDisk(t, c.fs, c.bootCode)
			res := judge(t, disk, "boot-mode-consistent", c.status, c.text)
			if res.Actual != c.actual {
				t.Errorf("Actual %q, want %q", res.Actual, c.actual)
			}
			notFAT := false
			for _, e := range res.Evidence {
				notFAT = notFAT || e.Path == "partition 1" && strings.Contains(e.Detail, "not FAT")
			}
			if notFAT != (c.fs == "ext4") {
				t.Errorf("evidence %+v: an ESP that is not FAT named %v, want %v", res.Evidence, notFAT, c.fs == "ext4")
			}

			img, err := inspect.Open(disk)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			f := bootmode.Of(img)
			if f.Err != nil {
				t.Fatal(f.Err)
			}
			wantNotFAT := []int(nil)
			if c.fs == "ext4" {
				wantNotFAT = []int{1}
			}
			if !slices.Equal(f.ESPs, []int{1}) || !slices.Equal(f.NotFAT, wantNotFAT) || f.UEFI() == (c.fs == "ext4") {
				t.Errorf("facts: ESPs %v, not FAT %v, loaders %+v", f.ESPs, f.NotFAT, f.Loaders)
			}
		})
	}
}
