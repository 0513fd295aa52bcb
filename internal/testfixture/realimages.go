package testfixture

import (
	"path/filepath"
	"sync"
	"testing"
)

var (
	vmdb2Once sync.Once
	vmdb2Path string
	vmdb2Err  error
)

// VMDB2Image returns a Debian 12 disk image made by vmdb2, Debian's own image builder, from
// scripts/vmdb2/debian12.vmdb with scripts/make-vmdb2-image.sh (root, loop devices and Debian's
// package archive; about 4 minutes), built once per script version and cached. It is a real
// image from a builder we did not write: its ext4 was written by the kernel (htree directories),
// its grub.cfg by grub-mkconfig on a build machine without udev. Callers must not modify it.
func VMDB2Image(t testing.TB) string {
	t.Helper()
	vmdb2Once.Do(func() {
		var dir string
		dir, vmdb2Err = cachedBuild("vmdb2", []string{"make-vmdb2-image.sh", "vmdb2/debian12.vmdb", "vmdb2/kpartx"}, func(out string) error {
			return runScript("make-vmdb2-image.sh", filepath.Join(out, "debian12.raw"))
		})
		vmdb2Path = filepath.Join(dir, "debian12.raw")
	})
	if vmdb2Err != nil {
		t.Fatalf("building the vmdb2 image: %v", vmdb2Err)
	}
	return vmdb2Path
}
