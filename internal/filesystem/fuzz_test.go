package filesystem_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/xfs"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// seedTree is small enough that the whole filesystem image is a fuzz seed.
func seedTree(f *testing.F) string {
	dir := f.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc", "ssh"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "ssh", "sshd_config"), []byte("ClientAliveInterval 180\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc", "big"), bytes.Repeat([]byte("x"), 20000), 0o644)
	os.Symlink("ssh/sshd_config", filepath.Join(dir, "etc", "link"))
	os.Symlink(string(bytes.Repeat([]byte("a/"), 60))+"x", filepath.Join(dir, "etc", "longlink"))
	for i := 0; i < 30; i++ {
		os.WriteFile(filepath.Join(dir, "etc", "f"+string(rune('a'+i%26))+string(rune('a'+i/26))), []byte("x"), 0o644)
	}
	return dir
}

func readAll(f *testing.F, p string, max int) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	return b[:min(len(b), max)]
}

// FuzzExt4 opens arbitrary bytes as ext2/3/4 and walks and reads everything.
func FuzzExt4(f *testing.F) {
	dir := seedTree(f)
	// small seeds: the fuzzing engine slows to a crawl on megabyte inputs
	small := []string{"-b", "1024", "-N", "48", "-O", "^has_journal,^resize_inode"}
	f.Add(readAll(f, testfixture.Filesystem(f, "ext4", dir, "96K", small...), 96<<10))
	f.Add(readAll(f, testfixture.Filesystem(f, "ext2", dir, "96K", small...), 96<<10))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ext4.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		exercise(v)
	})
}

// FuzzXFS opens arbitrary bytes as XFS and walks and reads everything.
func FuzzXFS(f *testing.F) {
	dir := seedTree(f)
	// the superblock, AG headers and the root inode chunk; reads past the seed are errors
	f.Add(readAll(f, testfixture.Filesystem(f, "xfs", dir, "16M", "-b", "size=1024"), 96<<10))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xfs.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		exercise(v)
	})
}
