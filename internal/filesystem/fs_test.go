package filesystem_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/xfs"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// sampleTree builds a directory with every shape the readers must handle: directories small
// enough to be inline/short-form, block, leaf and node sized; large, sparse and empty files;
// relative, absolute, dangling and looping symlinks.
func sampleTree(t *testing.T) string {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{3, 40, 600, 2000} {
		d := filepath.Join(dir, fmt.Sprintf("dir%d", n))
		must(os.MkdirAll(d, 0o755))
		for i := 0; i < n; i++ {
			must(os.WriteFile(filepath.Join(d, fmt.Sprintf("entry-with-a-longish-name-%05d", i)), []byte(fmt.Sprint(i)), 0o644))
		}
	}
	big := make([]byte, 5<<20+123)
	rand.Read(big)
	must(os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	must(os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644))
	f, err := os.Create(filepath.Join(dir, "sparse"))
	must(err)
	f.WriteAt([]byte("tail"), 3<<20)
	f.Close()
	must(os.MkdirAll(filepath.Join(dir, "etc", "ssh"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc", "ssh", "sshd_config"), []byte("ClientAliveInterval 180\n"), 0o644))
	must(os.Symlink("ssh/sshd_config", filepath.Join(dir, "etc", "rel-link")))
	must(os.Symlink("/etc/ssh", filepath.Join(dir, "etc", "abs-link")))
	must(os.Symlink("../../../../../../etc/ssh/sshd_config", filepath.Join(dir, "etc", "escape-link")))
	must(os.Symlink("/nonexistent", filepath.Join(dir, "etc", "dangling")))
	must(os.Symlink("loop-b", filepath.Join(dir, "etc", "loop-a")))
	must(os.Symlink("loop-a", filepath.Join(dir, "etc", "loop-b")))
	long := strings.Repeat("d/", 100) + "target"
	must(os.Symlink(long, filepath.Join(dir, "etc", "long-link")))
	return dir
}

func open(t *testing.T, typ, img string) filesystem.Volume {
	st, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if typ == "xfs" {
		v, err := xfs.Open(img, f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v, err := ext4.Open(img, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compareWithHost checks that the image tree holds exactly what the host directory holds.
func compareWithHost(t *testing.T, tree *filesystem.Tree, host string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		rel = filepath.ToSlash(rel)
		n++
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(p)
			got, err := tree.ReadLink(rel)
			if err != nil || got != want {
				t.Errorf("readlink %s = %q, %v; want %q", rel, got, err, want)
			}
		case d.IsDir():
			want, _ := os.ReadDir(p)
			got, err := tree.ReadDir(rel)
			if err != nil {
				t.Errorf("readdir %s: %v", rel, err)
				return nil
			}
			var gn, wn []string
			for _, e := range got {
				if e.Name() != "lost+found" {
					gn = append(gn, e.Name())
				}
			}
			for _, e := range want {
				wn = append(wn, e.Name())
			}
			if !slices.Equal(gn, wn) {
				t.Errorf("readdir %s: %d entries, want %d", rel, len(gn), len(wn))
			}
		default:
			want, _ := os.ReadFile(p)
			got, err := tree.ReadFile(rel, 64<<20)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("read %s: %d bytes, %v; want %d bytes", rel, len(got), err, len(want))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("compared only %d entries", n)
	}
}

func TestReadersMatchTheSourceTree(t *testing.T) {
	host := sampleTree(t)
	for _, c := range []struct{ typ, size string }{{"ext2", "64M"}, {"ext3", "64M"}, {"ext4", "64M"}, {"xfs", "64M"}} {
		t.Run(c.typ, func(t *testing.T) {
			tree := filesystem.NewTree(open(t, c.typ, testfixture.Filesystem(t, c.typ, host, c.size)))
			compareWithHost(t, tree, host)
		})
	}
}

func TestSymlinksResolveInsideTheImage(t *testing.T) {
	host := sampleTree(t)
	for _, typ := range []string{"ext4", "xfs"} {
		t.Run(typ, func(t *testing.T) {
			tree := filesystem.NewTree(open(t, typ, testfixture.Filesystem(t, typ, host, "64M")))
			for link, want := range map[string]string{
				"etc/rel-link":    "/etc/ssh/sshd_config",
				"etc/abs-link":    "/etc/ssh",
				"etc/escape-link": "/etc/ssh/sshd_config", // ".." stops at the image's root
			} {
				got, err := tree.Resolve(link)
				if err != nil || got != want {
					t.Errorf("resolve %s = %q, %v; want %q", link, got, err, want)
				}
			}
			if b, err := tree.ReadFile("etc/escape-link", 1024); err != nil || string(b) != "ClientAliveInterval 180\n" {
				t.Errorf("read through escape-link: %q, %v", b, err)
			}
			if _, err := tree.Stat("etc/dangling"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dangling link: %v, want not-exist (and never the host's /nonexistent)", err)
			}
			if _, err := tree.Stat("etc/loop-a"); err == nil || !strings.Contains(err.Error(), "too many levels") {
				t.Errorf("symlink loop: %v", err)
			}
			if fi, err := tree.Lstat("etc/loop-a"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("lstat of a link: %v %v", fi, err)
			}
		})
	}
}

func TestMounts(t *testing.T) {
	host := sampleTree(t)
	boot := t.TempDir()
	os.MkdirAll(filepath.Join(boot, "grub"), 0o755)
	os.WriteFile(filepath.Join(boot, "grub", "grub.cfg"), []byte("linux /vmlinuz console=ttyS0\n"), 0o644)
	os.Symlink("../../etc/ssh", filepath.Join(boot, "grub", "up"))
	tree := filesystem.NewTree(open(t, "xfs", testfixture.Filesystem(t, "xfs", host, "64M")))
	tree.Mount("/boot", open(t, "ext4", testfixture.Filesystem(t, "ext4", boot, "8M")))
	if b, err := tree.ReadFile("boot/grub/grub.cfg", 1024); err != nil || !strings.Contains(string(b), "ttyS0") {
		t.Fatalf("read across a mount: %q %v", b, err)
	}
	if got, err := tree.Resolve("boot/grub/up"); err != nil || got != "/etc/ssh" {
		t.Errorf(".. across a mount point: %q %v", got, err)
	}
	ents, _ := tree.ReadDir(".")
	if !slices.ContainsFunc(ents, func(e fs.DirEntry) bool { return e.Name() == "boot" && e.IsDir() }) {
		// the mount point exists only as the mount here: it must still be listed as a directory
		if _, err := tree.Stat("boot"); err != nil {
			t.Errorf("mount point not reachable: %v", err)
		}
	}
	if err := fs.WalkDir(tree, ".", func(string, fs.DirEntry, error) error { return nil }); err != nil {
		t.Errorf("io/fs.WalkDir over the tree: %v", err)
	}
}

// Directories indexed as htrees (large directories; e2fsck -D builds them as the kernel does)
// are read whole on a metadata_csum filesystem, and a changed index block fails its dx_tail
// checksum instead of being read as an empty directory.
func TestExt4HtreeIndexBlocks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	big := filepath.Join(src, "usr", "bin")
	os.MkdirAll(big, 0o755)
	for i := 0; i < 700; i++ {
		os.WriteFile(filepath.Join(big, fmt.Sprintf("program-with-a-long-name-%04d", i)), []byte("x"), 0o755)
	}
	img := filepath.Join(t.TempDir(), "htree.img")
	env := append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	for _, c := range [][]string{
		{"mke2fs", "-q", "-F", "-t", "ext4", "-O", "metadata_csum,dir_index", "-b", "4096", "-d", src, img, "32M"},
		{"e2fsck", "-fyD", img},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil && !(c[0] == "e2fsck" && cmd.ProcessState.ExitCode() == 1) {
			t.Fatalf("%v: %v\n%s", c, err, b)
		}
	}
	// the directory is indexed: debugfs dumps its htree
	cmd := exec.Command("debugfs", "-R", "htree_dump /usr/bin", img)
	cmd.Env = env
	dump, _ := cmd.CombinedOutput()
	if !strings.Contains(string(dump), "Root node dump") {
		t.Fatalf("e2fsck -D made no htree:\n%s", dump)
	}
	tree := filesystem.NewTree(open(t, "ext4", img))
	ents, err := tree.ReadDir("usr/bin")
	if err != nil || len(ents) != 700 {
		t.Fatalf("read %d entries, %v; want 700", len(ents), err)
	}

	// change one hash of the root's index: its checksum no longer matches
	cmd = exec.Command("debugfs", "-R", "bmap /usr/bin 0", img)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("bmap: %q", out)
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	const entry1Hash = 0x20 + 8 // the root's count_offset, then entry 0 (limit, count, block)
	b := []byte{0}
	f.ReadAt(b, blk*4096+entry1Hash)
	b[0] ^= 0x40
	f.WriteAt(b, blk*4096+entry1Hash)
	f.Close()
	_, err = filesystem.NewTree(open(t, "ext4", img)).ReadDir("usr/bin")
	if err == nil || !strings.Contains(err.Error(), "index block at byte 0 fails its checksum") {
		t.Fatalf("a changed index block: err = %v", err)
	}
}
