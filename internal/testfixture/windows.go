package testfixture

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// WindowsImage builds a Windows Server image (see winimage.Build) in the test's temporary
// directory and returns its path.
func WindowsImage(t testing.TB, o winimage.Options) string {
	t.Helper()
	img, err := winimage.Build(t.TempDir(), o)
	if err != nil {
		t.Fatalf("building the Windows image: %v", err)
	}
	return img
}

// Hive makes a registry hive file holding the keys and values of reg (see winimage.MakeHive).
func Hive(t testing.TB, reg string) string {
	t.Helper()
	h, err := winimage.MakeHive(t.TempDir(), reg)
	if err != nil {
		t.Fatalf("making a hive: %v", err)
	}
	return h
}
