package boot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// espTypedDisk is a GPT disk whose partition 1 is typed EFI system partition and holds a
// filesystem of fsType ("ext4", written in place by mke2fs -E offset=, or "vfat", by
// mkfs.vfat and mcopy) with files, and whose partition 2 is the compliant root with root's
// changes.
func espTypedDisk(t *testing.T, fsType string, files map[string]string, root testfixture.Change) string {
	t.Helper()
	work := t.TempDir()
	dir := filepath.Join(work, "esp")
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk := filepath.Join(work, "disk.raw")
	run := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1", "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("", "truncate", "-s", "100M", disk)
	run("label: gpt\nstart=1MiB, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=17MiB, size=64MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", "sfdisk", "-q", disk)
	switch fsType {
	case "ext4":
		run("", "mke2fs", "-q", "-F", "-t", "ext4", "-E", "offset=1048576", "-d", dir, disk, "16M")
	case "vfat":
		img := filepath.Join(work, "esp.img")
		run("", "mkfs.vfat", "-C", "-n", "ESP", img, "16384")
		tops, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, top := range tops {
			run("", "mcopy", "-s", "-i", img, filepath.Join(dir, top.Name()), "::/")
		}
		run("", "dd", "if="+img, "of="+disk, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none")
	}
	run("", "dd", "if="+testfixture.Variant(t, root), "of="+disk, "bs=1M", "seek=17", "conv=notrunc,sparse", "status=none")
	return disk
}

// A GPT partition typed ESP that holds ext4: UEFI firmware reads only FAT, so neither the
// grub.cfg GRUB's EFI image would read there nor systemd-boot's loader entries there are the
// booted configuration; the root's /boot/grub/grub.cfg (BIOS GRUB's) is. The same files on FAT
// are read.
func TestESPNotFATIsNotBooted(t *testing.T) {
	grub := func(arg string) string {
		return "set default=0\nmenuentry 'Debian' {\n\tlinux /boot/vmlinuz root=LABEL=root ro " + arg + "\n}\n"
	}
	esp := map[string]string{
		"EFI/debian/grub.cfg":        grub("esp-grub"),
		"loader/loader.conf":         "default debian.conf\n",
		"loader/entries/debian.conf": "title Debian\nlinux /vmlinuz\noptions root=LABEL=root esp-sdboot\n",
		"vmlinuz":                    "kernel",
	}
	for _, c := range []struct {
		fs      string
		espRead bool
	}{{"ext4", false}, {"vfat", true}} {
		t.Run(c.fs, func(t *testing.T) {
			img, err := inspect.Open(espTypedDisk(t, c.fs, esp, testfixture.Change{"/boot/grub/grub.cfg": grub("root-grub")}))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if len(img.Boot) != 1 || img.Boot[0].Role != inspect.RoleESP {
				t.Fatalf("boot partitions %+v", img.Boot)
			}
			ch := Of(img)
			if ch.Err != nil {
				t.Fatal(ch.Err)
			}
			booted, skipped := ch.Booted()
			for _, e := range skipped {
				t.Logf("skipped %s %q %s", e.Path, e.Cmdline, e.Note)
			}
			var all []string
			for _, e := range booted {
				all = append(all, e.Cmdline)
			}
			got := strings.Join(all, " | ")
			for _, arg := range []string{"esp-grub", "esp-sdboot"} {
				if strings.Contains(got, arg) != c.espRead {
					t.Errorf("booted command lines %q: %s's config read %v, want %v", got, arg, !c.espRead, c.espRead)
				}
			}
			if !strings.Contains(got, "root-grub") {
				t.Errorf("booted command lines %q: the root's grub.cfg is not among them", got)
			}
			if FirmwareReads(img.Boot[0]) != c.espRead {
				t.Errorf("FirmwareReads(%s) = %v", c.fs, !c.espRead)
			}
		})
	}
}

// A boot partition whose kind was not probed (a view built in memory) is read: only a
// filesystem known not to be FAT is passed over.
func TestFirmwareReadsUnprobed(t *testing.T) {
	files := map[string]string{"/loader/entries/a.conf": "linux /vmlinuz\noptions unprobed\n", "/vmlinuz": "k"}
	v := &view{boot: []inspect.BootPartition{{Role: inspect.RoleESP, Partition: &partition.Partition{Number: 1}, Tree: filesystem.NewTree(newMemVol(files))}}}
	sb, err := v.systemdBoot()
	if err != nil || len(sb.entries) != 1 || sb.entries[0].Cmdline != "unprobed" {
		t.Errorf("%+v, %v", sb, err)
	}
	v.boot[0].Partition.Kind = partition.KindExt4
	if sb, err := v.systemdBoot(); err != nil || len(sb.entries) != 0 {
		t.Errorf("an ext4 ESP: %+v, %v", sb, err)
	}
}
