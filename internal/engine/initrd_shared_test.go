package engine

import (
	"reflect"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// fixtureInitrd is the clean fixture's initramfs (its kernel is 6.1.0-28-cloud-amd64).
const fixtureInitrd = "/boot/initrd.img-6.1.0-28-cloud-amd64"

// initramfsOf makes an initramfs as initramfs-tools does: an uncompressed early cpio
// (microcode), then the main cpio of the files through compress (a shell command).
func initramfsOf(t *testing.T, compress string, files map[string]string) string {
	t.Helper()
	early := tree(t, map[string]string{"kernel/x86/microcode/GenuineIntel.bin": "\x01\x00\x00\x00microcode\x00\xff"})
	main := tree(t, files)
	b := append(shell(t, early, "find . | LC_ALL=C sort | cpio --quiet -o -H newc"),
		shell(t, main, "find . | LC_ALL=C sort | cpio --quiet -o -H newc | "+compress)...)
	return string(b)
}

// The driver rules' facts (the Hyper-V drivers in the initramfs) are the same whether the
// content pass listed the initramfs while it searched it or initrd.List listed it, and with the
// content pass on, the initramfs is decompressed once: by the search, never again by the rules.
// An initramfs the search does not list the way List reads it (here: LZMA with lc=4, a
// properties byte the kernel does not take as an LZMA magic, so neither does List) is listed
// by initrd.List, with its error.
func TestInitramfsDecompressedOnce(t *testing.T) {
	mods := "usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/"
	files := map[string]string{
		mods + "hv/hv_vmbus.ko":          "\x7fELF hv_vmbus",
		mods + "scsi/hv_storvsc.ko":      "\x7fELF hv_storvsc",
		mods + "net/hyperv/hv_netvsc.ko": "\x7fELF hv_netvsc",
		"etc/modprobe.d/hv.conf":         "options hv_vmbus\n",
	}
	for _, c := range []struct {
		name, compress string
		shared         bool
	}{
		{"gzip", "gzip -c", true},
		{"zstd", "zstd -q -c", true},
		{"xz", "xz -c --check=crc32", true},
		{"lz4", "lz4 -l -q -c", true},
		{"bzip2", "bzip2 -c", true},
		{"lzma", "lzma -c", true},
		{"lzma lc=4", "xz --format=lzma --lzma1=preset=6,lc=4 -c", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := testfixture.Variant(t, testfixture.Change{fixtureInitrd: initramfsOf(t, c.compress, files)})
			before := initrd.Decompressed()
			on := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
			byRules := initrd.Decompressed() - before
			before = initrd.Decompressed()
			off := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}})
			alone := initrd.Decompressed() - before
			if on.Content == nil || off.Content != nil {
				t.Fatalf("content pass: on %v, off %v", on.Content != nil, off.Content != nil)
			}
			switch {
			case c.shared && byRules != 0:
				t.Errorf("with the content pass, the rules decompressed the initramfs %d time(s): it was not taken from the pass", byRules)
			case !c.shared && byRules != alone:
				t.Errorf("the rules decompressed the %s initramfs %d time(s) with the content pass, %d without", c.name, byRules, alone)
			}
			if c.shared && alone != 1 {
				t.Errorf("without the content pass, the rules decompressed the initramfs %d time(s), not once", alone)
			}
			a, b := finding(t, on, "hyperv-drivers-at-boot"), finding(t, off, "hyperv-drivers-at-boot")
			if a.Status != b.Status || a.Message != b.Message || !reflect.DeepEqual(a.Evidence, b.Evidence) {
				t.Errorf("the driver rule differs:\n with the pass: %s %s %v\n without:       %s %s %v", a.Status, a.Message, a.Evidence, b.Status, b.Message, b.Evidence)
			}
			if c.shared && a.Status != rules.Pass {
				t.Errorf("hyperv-drivers-at-boot: %s: %s %v", a.Status, a.Message, a.Evidence)
			}
		})
	}
}
