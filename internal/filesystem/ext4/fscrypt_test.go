package ext4

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// fscryptImage is an ext4 filesystem made by mke2fs -d of dirs (with features), with
// EXT4_ENCRYPT_FL set by debugfs on each of flagged.
func fscryptImage(t *testing.T, features string, dirs, flagged []string) []byte {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "file"), []byte("a file, not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "fs.img")
	run := func(args ...string) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	args := []string{"mke2fs", "-q", "-F", "-t", "ext4"}
	if features != "" {
		args = append(args, "-O", features)
	}
	run(append(args, "-d", tree, img, "8M")...)
	for _, d := range flagged {
		run("debugfs", "-w", "-R", "set_inode_field /"+d+" flags 0x80800", img)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The topmost flagged directories are found, not those under them; Open reads the filesystem,
// and an encrypted directory's entries are an error naming its inode; the walk's bound is an
// error naming the filesystem.
func TestEncryptedDirs(t *testing.T) {
	dirs := []string{"a/b/c", "a/x", "d/e", "f"}
	b := fscryptImage(t, "encrypt", dirs, []string{"a/b", "a/b/c", "f", "d/e"})
	on, err := HasEncryptFeature("fs", bytes.NewReader(b))
	if err != nil || !on {
		t.Fatalf("HasEncryptFeature = %v, %v", on, err)
	}
	f, err := Open("fs", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	tree := filesystem.NewTree(f)
	if _, err := tree.ReadDir("a/b"); err == nil || !strings.Contains(err.Error(), "is encrypted (fscrypt)") {
		t.Errorf("ReadDir of an encrypted directory: %v", err)
	}
	if _, err := tree.ReadDir("a/x"); err != nil {
		t.Errorf("ReadDir of a plain directory: %v", err)
	}
	got, n, err := f.EncryptedDirs(10, 100)
	if err != nil || n != 3 || !slices.Equal(got, []string{"/a/b", "/d/e", "/f"}) {
		t.Errorf("EncryptedDirs = %q, %d, %v", got, n, err)
	}
	if got, n, err := f.EncryptedDirs(1, 100); err != nil || n != 3 || len(got) != 1 {
		t.Errorf("EncryptedDirs(1) = %q, %d, %v", got, n, err)
	}
	// the root, lost+found, a, d, a/x: five directories read when nothing else is followed
	if _, _, err := f.EncryptedDirs(10, 5); err != nil {
		t.Errorf("EncryptedDirs within its bound: %v", err)
	}
	if _, _, err := f.EncryptedDirs(10, 4); err == nil || !strings.Contains(err.Error(), "fs: more than 4 directories") {
		t.Errorf("EncryptedDirs over its bound: %v", err)
	}
}

// Without the feature nothing is to be walked; the superblock's magic is checked.
func TestHasEncryptFeature(t *testing.T) {
	b := fscryptImage(t, "", []string{"a"}, nil)
	if on, err := HasEncryptFeature("fs", bytes.NewReader(b)); err != nil || on {
		t.Errorf("HasEncryptFeature = %v, %v", on, err)
	}
	clear(b[1024+56 : 1024+58])
	if _, err := HasEncryptFeature("fs", bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "fs") {
		t.Errorf("no magic: %v", err)
	}
}
