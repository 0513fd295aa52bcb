package initrd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// Archive makes a real initramfs with cpio (newc) from a tree holding the given files,
// compressed by the named tool ("" for none), and returns its bytes.
func archive(t testing.TB, files []string, compress ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, bytes.Repeat([]byte(f), 100), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", "find . | LC_ALL=C sort | cpio --quiet -o -H newc")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio: %v", err)
	}
	if len(compress) > 0 {
		c := exec.Command(compress[0], compress[1:]...)
		c.Stdin = bytes.NewReader(out)
		if out, err = c.Output(); err != nil {
			t.Fatalf("%s: %v", compress[0], err)
		}
	}
	return out
}

var modules = []string{"usr/lib/modules/6.1.0-28-amd64/kernel/drivers/hv/hv_vmbus.ko", "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/scsi/hv_storvsc.ko.xz", "init"}

func TestListEveryCompression(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress []string
	}{
		{"none", nil},
		{"gzip", []string{"gzip", "-c"}},
		{"xz", []string{"xz", "-c", "--check=crc32"}},
		{"zstd", []string{"zstd", "-q", "-c"}},
		{"lz4", []string{"lz4", "-l", "-q", "-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, formats, err := List(bytes.NewReader(archive(t, modules, tc.compress...)))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range modules {
				if !slices.Contains(names, m) {
					t.Errorf("%s not listed: %v", m, names)
				}
			}
			if len(formats) != 1 || formats[0] != tc.name {
				t.Errorf("formats %v", formats)
			}
		})
	}
}

// Debian's and dracut's layout: an uncompressed early-microcode archive, then the compressed one.
func TestListAfterMicrocodePrefix(t *testing.T) {
	early := archive(t, []string{"kernel/x86/microcode/GenuineIntel.bin"})
	main := archive(t, modules, "zstd", "-q", "-c")
	data := append(append(early, make([]byte, 512)...), main...)
	names, formats, err := List(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "kernel/x86/microcode/GenuineIntel.bin") || !slices.Contains(names, modules[1]) || !slices.Equal(formats, []string{"none", "zstd"}) {
		t.Errorf("names %v, formats %v", names, formats)
	}
}

// Truncated, corrupted or foreign data is an error with the archive and offset, never a panic.
func TestListBadInput(t *testing.T) {
	good := archive(t, modules)
	for name, data := range map[string][]byte{
		"truncated": good[:300],
		"not cpio":  []byte("MZ\x90\x00 this is a PE file, not an initramfs"),
		"bad size":  append([]byte("070701"), bytes.Repeat([]byte("Z"), 104)...),
	} {
		_, _, err := List(bytes.NewReader(data))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want *Error", name, err)
		}
	}
}

func FuzzList(f *testing.F) {
	f.Add(archive(f, modules))
	f.Add(archive(f, modules, "gzip", "-c"))
	f.Add(archive(f, modules, "zstd", "-q", "-c"))
	f.Add(archive(f, modules, "xz", "-c", "--check=crc32"))
	f.Fuzz(func(t *testing.T, data []byte) {
		List(bytes.NewReader(data))
	})
}
