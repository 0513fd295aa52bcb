package filesystem_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/vfat"
)

// vfatImage makes a FAT filesystem of the given FAT size holding a copy of dir (mkfs.vfat and
// mtools' mcopy: no mount).
func vfatImage(t testing.TB, dir string, fatBits, sizeKiB int) string {
	img := filepath.Join(t.TempDir(), fmt.Sprintf("fat%d.img", fatBits))
	env := append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin", "MTOOLS_SKIP_CHECK=1")
	mk := exec.Command("mkfs.vfat", "-C", "-F", fmt.Sprint(fatBits), img, fmt.Sprint(sizeKiB))
	mk.Env = env
	if b, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("mkfs.vfat: %v\n%s", err, b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		cp := exec.Command("mcopy", "-s", "-i", img, filepath.Join(dir, e.Name()), "::/")
		cp.Env = env
		if b, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("mcopy: %v\n%s", err, b)
		}
	}
	return img
}

func fatTree(t testing.TB) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "EFI", "debian"), 0o755)
	os.WriteFile(filepath.Join(dir, "EFI", "debian", "grub.cfg"), []byte("configfile $prefix/grub.cfg\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "A directory with a Long Name"), 0o755)
	for i := 0; i < 300; i++ {
		os.WriteFile(filepath.Join(dir, "A directory with a Long Name", fmt.Sprintf("entry number %03d.conf", i)), []byte(fmt.Sprint(i)), 0o644)
	}
	big := make([]byte, 3<<20+17)
	rand.Read(big)
	os.WriteFile(filepath.Join(dir, "shimx64.efi"), big, 0o644)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644)
	return dir
}

func TestVFATMatchesTheSourceTree(t *testing.T) {
	host := fatTree(t)
	for _, c := range []struct{ bits, kib int }{{12, 8 << 10}, {16, 32 << 10}, {32, 64 << 10}} {
		t.Run(fmt.Sprintf("FAT%d", c.bits), func(t *testing.T) {
			img := vfatImage(t, host, c.bits, c.kib)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			v, err := vfat.Open(img, f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			compareWithHost(t, filesystem.NewTree(v), host)
		})
	}
}

func FuzzVFAT(f *testing.F) {
	dir := f.TempDir()
	os.MkdirAll(filepath.Join(dir, "EFI", "BOOT"), 0o755)
	os.WriteFile(filepath.Join(dir, "EFI", "BOOT", "grub.cfg"), []byte("configfile x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "A long file name.txt"), bytes.Repeat([]byte("y"), 5000), 0o644)
	b, err := os.ReadFile(vfatImage(f, dir, 12, 64))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := vfat.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		exercise(v)
	})
}
