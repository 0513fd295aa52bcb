package fs_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/fs"
	"github.com/marketready/packer-plugin-marketplace/internal/fs/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/fs/xfs"
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

func open(t *testing.T, typ, img string) fs.Volume {
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
func compareWithHost(t *testing.T, tree *fs.Tree, host string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(host, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		rel = filepath.ToSlash(rel)
		n++
		switch {
		case d.Type()&iofs.ModeSymlink != 0:
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
			tree := fs.NewTree(open(t, c.typ, testfixture.Filesystem(t, c.typ, host, c.size)))
			compareWithHost(t, tree, host)
		})
	}
}

func TestSymlinksResolveInsideTheImage(t *testing.T) {
	host := sampleTree(t)
	for _, typ := range []string{"ext4", "xfs"} {
		t.Run(typ, func(t *testing.T) {
			tree := fs.NewTree(open(t, typ, testfixture.Filesystem(t, typ, host, "64M")))
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
			if _, err := tree.Stat("etc/dangling"); !errors.Is(err, iofs.ErrNotExist) {
				t.Errorf("dangling link: %v, want not-exist (and never the host's /nonexistent)", err)
			}
			if _, err := tree.Stat("etc/loop-a"); err == nil || !strings.Contains(err.Error(), "too many levels") {
				t.Errorf("symlink loop: %v", err)
			}
			if fi, err := tree.Lstat("etc/loop-a"); err != nil || fi.Mode()&iofs.ModeSymlink == 0 {
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
	tree := fs.NewTree(open(t, "xfs", testfixture.Filesystem(t, "xfs", host, "64M")))
	tree.Mount("/boot", open(t, "ext4", testfixture.Filesystem(t, "ext4", boot, "8M")))
	if b, err := tree.ReadFile("boot/grub/grub.cfg", 1024); err != nil || !strings.Contains(string(b), "ttyS0") {
		t.Fatalf("read across a mount: %q %v", b, err)
	}
	if got, err := tree.Resolve("boot/grub/up"); err != nil || got != "/etc/ssh" {
		t.Errorf(".. across a mount point: %q %v", got, err)
	}
	ents, _ := tree.ReadDir(".")
	if !slices.ContainsFunc(ents, func(e iofs.DirEntry) bool { return e.Name() == "boot" && e.IsDir() }) {
		// the mount point exists only as the mount here: it must still be listed as a directory
		if _, err := tree.Stat("boot"); err != nil {
			t.Errorf("mount point not reachable: %v", err)
		}
	}
	if err := iofs.WalkDir(tree, ".", func(string, iofs.DirEntry, error) error { return nil }); err != nil {
		t.Errorf("io/fs.WalkDir over the tree: %v", err)
	}
}
