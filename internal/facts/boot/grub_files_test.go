package boot

import (
	"slices"
	"strings"
	"testing"
)

const threeEntries = `menuentry 'A' { linux /vmlinuz-a ro a
	initrd /initrd-a }
menuentry 'B' { linux /vmlinuz-b ro b
	initrd /initrd-b }
menuentry 'C' { linux /vmlinuz-c ro c }
`

// The files an entry loads are looked for where GRUB reads them: a kernel that is not on
// $root (or on the device named) is missing; a missing initrd is missing too (and loads
// nothing of its command), the kernel itself still there.
func TestGrubEntryFilesExist(t *testing.T) {
	boot := map[string]string{"/vmlinuz-a": "k", "/initrd-a": "i", "/vmlinuz-b": "k"}
	for _, c := range []struct {
		name, cfg     string
		kernel        string
		kernelMissing bool
		missing       []string
		unresolved    int
		initrds       []string
	}{
		{"on $root", "menuentry 'x' { linux /vmlinuz-a ro\ninitrd /initrd-a }\n", "/vmlinuz-a", false, nil, 0, []string{"/initrd-a"}},
		{"not on $root", "menuentry 'x' { linux /vmlinuz-z ro\ninitrd /initrd-a }\n", "/vmlinuz-z", true, []string{"/vmlinuz-z"}, 0, []string{"/initrd-a"}},
		{"an initrd missing fails its whole command", "menuentry 'x' { linux /vmlinuz-a ro\ninitrd /initrd-a /initrd-z }\n", "/vmlinuz-a", false, []string{"/initrd-z"}, 0, nil},
		{"on the partition search finds", "menuentry 'x' { search --fs-uuid --set=root uuid-2\nlinux /vmlinuz-2 ro }\n", "partition 2:/vmlinuz-2", false, nil, 0, nil},
		{"not on the partition search finds", "menuentry 'x' { search --fs-uuid --set=root uuid-2\nlinux /vmlinuz-a ro }\n", "partition 2:/vmlinuz-a", true, []string{"partition 2:/vmlinuz-a"}, 0, nil},
		{"a device named", "menuentry 'x' { linux (hd0,gpt2)/vmlinuz-2 ro }\n", "partition 2:/vmlinuz-2", false, nil, 0, nil},
		{"a partition the disk lacks", "menuentry 'x' { linux (hd0,gpt9)/vmlinuz-a ro }\n", "(hd0,gpt9)/vmlinuz-a", true, []string{"(hd0,gpt9)/vmlinuz-a"}, 0, nil},
		{"a device not of this disk", "menuentry 'x' { linux (lvm/vg-boot)/vmlinuz-a ro }\n", "", false, nil, 1, nil},
		{"a search that found nothing, the file not on the old root", "menuentry 'x' { search --fs-uuid --set=root nosuch\nlinux /vmlinuz-2 ro }\n", "", false, nil, 1, nil},
		{"a search that found nothing, the file on the old root", "menuentry 'x' { search --fs-uuid --set=root nosuch\nlinux /vmlinuz-a ro }\n", "/vmlinuz-a", false, nil, 0, nil},
		{"a directory is no kernel", "menuentry 'x' { linux /boot ro }\n", "/boot", true, []string{"/boot"}, 0, nil},
	} {
		files := map[string]string{"/boot/grub/grub.cfg": c.cfg, "/boot/x": ""}
		for k, v := range boot {
			files[k] = v
		}
		r := testRun(files, map[string]string{"/vmlinuz-2": "k"})
		res := runOne(t, r, "/boot/grub/grub.cfg")
		if len(res.entries) != 1 {
			t.Fatalf("%s: %d entries", c.name, len(res.entries))
		}
		e := res.entries[0]
		if e.KernelFile != c.kernel || e.KernelMissing != c.kernelMissing || !slices.Equal(e.Missing, c.missing) || len(e.Unresolved) != c.unresolved || !slices.Equal(e.InitrdFiles, c.initrds) {
			t.Errorf("%s: kernel %q missing %v %q unresolved %q initrds %q", c.name, e.KernelFile, e.KernelMissing, e.Missing, e.Unresolved, e.InitrdFiles)
		}
	}
}

// When the default entry's kernel is missing GRUB tries `fallback`, a list of top-level entry
// numbers, in order: the first whose kernel exists is the booted entry. Without a fallback (or
// with none that boots) the default stays the judged entry, and its missing kernel with it.
func TestGrubFallback(t *testing.T) {
	kernels := map[string]string{"/vmlinuz-b": "k", "/initrd-b": "i", "/vmlinuz-c": "k"}
	for _, c := range []struct {
		head, booted, decision string
	}{
		{"set default=0\n", "A: ro a", "no fallback is set"},
		{"set default=0\nset fallback=1\n", "B: ro b", "falls back to entry 1"},
		{"set default=0\nset fallback=\"0 2 1\"\n", "C: ro c", "falls back to entry 2"},
		{"set default=0\nset fallback=\"7 1\"\n", "B: ro b", "falls back to entry 1"},
		{"set default=0\nset fallback=B\n", "A: ro a", "no fallback entry boots"}, // 2.06 takes numbers only
		{"set default=0\nset fallback=\"1x 2\"\n", "B: ro b", "falls back to entry 1"},
		{"set default=1\nset fallback=0\n", "B: ro b", "GRUB boots"}, // the default boots: no fallback
	} {
		files := map[string]string{"/boot/grub/grub.cfg": c.head + threeEntries}
		for k, v := range kernels {
			files[k] = v
		}
		res := runOne(t, testRun(files), "/boot/grub/grub.cfg")
		if got := joinLines(cmdlines(res.entries, true)); got != c.booted || !strings.Contains(res.decision, c.decision) {
			t.Errorf("%q: booted %q, decision %q; want %q, %q", c.head, got, res.decision, c.booted, c.decision)
		}
	}
	// a fallback submenu: every entry in it is judged
	files := map[string]string{"/vmlinuz-s": "k", "/boot/grub/grub.cfg": "set default=0\nset fallback=1\n" +
		"menuentry 'A' { linux /vmlinuz-a ro a }\nsubmenu 'S' {\n menuentry 'S1' { linux /vmlinuz-s ro s1 }\n menuentry 'S2' { linux /vmlinuz-s ro s2 }\n}\n"}
	res := runOne(t, testRun(files), "/boot/grub/grub.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "S>S1: ro s1 | S>S2: ro s2" {
		t.Errorf("a fallback submenu: booted %q (%s)", got, res.decision)
	}
}

// A filesystem on the whole disk (no partition table) has no GRUB of its own: a file missing
// from it is unresolved, not missing; one that is there is found.
func TestGrubWholeDiskFilesUnresolved(t *testing.T) {
	r := testRun(map[string]string{"/boot/grub/grub.cfg": "menuentry 'x' { linux /vmlinuz-z ro\ninitrd /boot/i }\n", "/boot/i": "i"})
	r.devs[0].part.Number, r.devs[0].name = 0, "hd0"
	e := runOne(t, r, "/boot/grub/grub.cfg").entries[0]
	if e.KernelMissing || len(e.Missing) != 0 || len(e.Unresolved) != 1 || !slices.Equal(e.InitrdFiles, []string{"/boot/i"}) {
		t.Errorf("whole disk: %+v", e)
	}
}
