package testfixture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gptTypeLinuxData is the generic Linux filesystem partition type (not a Discoverable
// Partitions root type: which root boots must come from the boot chain).
const gptTypeLinuxData = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

// RootSpec is one Linux root of TwoRootDisk: the compliant tree with Changes applied, made by
// mke2fs -d with filesystem UUID UUID and label Label.
type RootSpec struct {
	Changes Change
	UUID    string
	Label   string
}

// TwoRootDisk builds a GPT disk with two Linux roots: partition 1 an EFI system partition
// (FAT, mkfs.vfat and mcopy) holding esp (in-partition path => bytes; none when esp is nil:
// then partition 1 is a small empty FAT), partitions 2 and 3 the roots, of the generic Linux
// data type. It returns the disk's path.
func TwoRootDisk(t testing.TB, esp map[string][]byte, first, second RootSpec) string {
	t.Helper()
	work := t.TempDir()
	espDir := filepath.Join(work, "esp")
	if err := os.MkdirAll(espDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, b := range esp {
		full := filepath.Join(espDir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	espImg, disk := filepath.Join(work, "esp.img"), filepath.Join(work, "disk.raw")
	cmds := [][]string{{"mkfs.vfat", "-C", "-n", "ESP", espImg, "16384"}}
	var parts []string
	for i, r := range []RootSpec{first, second} {
		tree := variantTree(t, r.Changes)
		part := filepath.Join(work, fmt.Sprintf("root%d.img", i+1))
		label := r.Label
		if label == "" {
			label = fmt.Sprintf("root%d", i+1)
		}
		cmds = append(cmds, []string{"mke2fs", "-q", "-F", "-t", "ext4", "-U", r.UUID, "-L", label, "-d", tree, part, "64M"})
		parts = append(parts, part)
	}
	cmds = append(cmds,
		[]string{"truncate", "-s", "146M", disk},
		[]string{"sh", "-c", "printf 'label: gpt\\nstart=1MiB, size=16MiB, type=" + gptTypeESP + ", name=esp\\nstart=17MiB, size=64MiB, type=" + gptTypeLinuxData +
			", name=first\\nstart=81MiB, size=64MiB, type=" + gptTypeLinuxData + ", name=second\\n' | sfdisk -q " + disk})
	ents, err := os.ReadDir(espDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		cmds = append(cmds, []string{"mcopy", "-s", "-i", espImg, filepath.Join(espDir, e.Name()), "::/"})
	}
	cmds = append(cmds,
		[]string{"dd", "if=" + espImg, "of=" + disk, "bs=1M", "seek=1", "conv=notrunc", "status=none"},
		[]string{"dd", "if=" + parts[0], "of=" + disk, "bs=1M", "seek=17", "conv=notrunc", "status=none"},
		[]string{"dd", "if=" + parts[1], "of=" + disk, "bs=1M", "seek=81", "conv=notrunc", "status=none"})
	runAll(t, []string{"MTOOLS_SKIP_CHECK=1"}, cmds)
	return disk
}

// PatchPESection rewrites the section table entry called name in a PE file (a UKI that UKI
// made): its name becomes newName (when not ""), and its VirtualSize becomes virtualSize (when
// it is not negative). It fails the test when the file has no such section.
func PatchPESection(t testing.TB, pe []byte, name, newName string, virtualSize int64) []byte {
	t.Helper()
	out := bytes.Clone(pe)
	if len(out) < 0x40 {
		t.Fatal("not a PE file")
	}
	peOff := int(binary.LittleEndian.Uint32(out[0x3c:]))
	n := int(binary.LittleEndian.Uint16(out[peOff+6:]))
	optSize := int(binary.LittleEndian.Uint16(out[peOff+20:]))
	table := peOff + 24 + optSize
	for i := 0; i < n; i++ {
		h := out[table+i*40 : table+(i+1)*40]
		if strings.TrimRight(string(h[:8]), "\x00") != name {
			continue
		}
		if newName != "" {
			var nm [8]byte
			copy(nm[:], newName)
			copy(h[:8], nm[:])
		}
		if virtualSize >= 0 {
			binary.LittleEndian.PutUint32(h[8:], uint32(virtualSize))
		}
		return out
	}
	t.Fatalf("no section %s", name)
	return nil
}
