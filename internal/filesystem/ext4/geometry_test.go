package ext4

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeometryMatrix reads files planted by mke2fs -d in filesystems of every block size, with
// and without bigalloc (clusters of 4 and 16 blocks), flex_bg, meta_bg, 64bit, sparse_super and
// sparse_super2. The files fill the inode tables of many groups (a few inodes a group), so the
// descriptors of groups past the first descriptor block are read, and e2fsck confirms each
// image is clean: a failure is the reader's.
func TestGeometryMatrix(t *testing.T) {
	mke2fs := lookTool(t, "mke2fs")
	e2fsck := lookTool(t, "e2fsck")
	type config struct {
		features string
		cluster  int64 // blocks a cluster (bigalloc), 0 without
		extra    int64 // bytes past the usual size: a short last group
	}
	configs := []config{
		{"", 0, 0},
		{"^flex_bg", 0, 0},
		{"^64bit", 0, 0},
		{"meta_bg,^resize_inode", 0, 0},
		{"meta_bg,^resize_inode", 0, 400 << 10},
		{"meta_bg,^resize_inode,^64bit", 0, 0},
		{"meta_bg,^resize_inode,^sparse_super", 0, 0},
		{"meta_bg,^resize_inode,sparse_super2", 0, 0},
		{"meta_bg,^resize_inode,sparse_super2", 0, 400 << 10},
		{"bigalloc", 4, 0},
		{"bigalloc", 16, 0},
		{"bigalloc,^flex_bg", 16, 0},
		{"bigalloc,^64bit", 4, 0},
		{"bigalloc,meta_bg,^resize_inode", 4, 0},
		{"bigalloc,meta_bg,^resize_inode,^flex_bg", 4, 0},
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 300000/16)
	for _, bs := range []int64{1024, 2048, 4096} {
		for _, c := range configs {
			name := fmt.Sprintf("b%d/%s/c%d/x%d", bs, strings.ReplaceAll(c.features, ",", "+"), c.cluster, c.extra)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				size := int64(640 << 20)
				if bs > 1024 {
					size = 1 << 30
				}
				if c.extra != 0 {
					size = 256<<20 + c.extra
				}
				ratio := c.cluster
				if ratio == 0 {
					ratio = 1
				}
				groups := (size + 8*bs*ratio*bs - 1) / (8 * bs * ratio * bs)
				inodes := max(groups*8, 64)
				files := min(inodes-24, 400)
				tree := filepath.Join(dir, "tree")
				plant := func(p string, b []byte) {
					if err := os.MkdirAll(filepath.Dir(filepath.Join(tree, p)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(tree, p), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want := map[string][]byte{"big/blob": big}
				for i := int64(0); i < files; i++ {
					want[fmt.Sprintf("d/f%03d", i)] = []byte(fmt.Sprintf("planted file %d\n", i))
				}
				for p, b := range want {
					plant(p, b)
				}
				img := filepath.Join(dir, "fs.img")
				if err := os.WriteFile(img, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(img, size); err != nil {
					t.Fatal(err)
				}
				args := []string{"-q", "-F", "-t", "ext4", "-b", fmt.Sprint(bs), "-N", fmt.Sprint(inodes)}
				if c.features != "" {
					args = append(args, "-O", c.features)
				}
				if c.cluster != 0 {
					args = append(args, "-C", fmt.Sprint(c.cluster*bs))
				}
				args = append(args, "-d", tree, img)
				if out, err := exec.Command(mke2fs, args...).CombinedOutput(); err != nil {
					t.Skipf("mke2fs %v: %v: %s", args, err, out)
				}
				if out, err := exec.Command(e2fsck, "-fn", img).CombinedOutput(); err != nil {
					t.Fatalf("e2fsck: %v: %s", err, out)
				}
				f, err := os.Open(img)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				v, err := Open(img, f, size)
				if err != nil {
					t.Fatal(err)
				}
				// every group's inode table where dumpe2fs says it is
				out, err := exec.Command(lookTool(t, "dumpe2fs"), img).Output()
				if err != nil {
					t.Fatalf("dumpe2fs: %v", err)
				}
				tables := inodeTables(t, string(out))
				if len(tables) != int(v.groups) {
					t.Fatalf("dumpe2fs lists %d groups, the reader %d", len(tables), v.groups)
				}
				for g, blk := range tables {
					got, err := v.inodeTable(uint32(g))
					if err != nil {
						t.Fatalf("group %d: %v", g, err)
					}
					if got != blk*bs {
						t.Fatalf("group %d: inode table read at block %d, dumpe2fs says %d", g, got/bs, blk)
					}
				}
				for p, b := range want {
					got, err := readPath(v, p)
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					if !bytes.Equal(got, b) {
						t.Fatalf("%s: read %d bytes, not the %d planted", p, len(got), len(b))
					}
				}
			})
		}
	}
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/sbin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p
		}
	}
	t.Skipf("%s not installed", name)
	return ""
}

// readPath resolves a relative path from the root directory and reads the file whole.
func readPath(v *FS, p string) ([]byte, error) {
	ino := v.Root()
	for _, part := range strings.Split(p, "/") {
		ents, err := v.ReadDir(ino)
		if err != nil {
			return nil, err
		}
		found := uint64(0)
		for _, e := range ents {
			if e.Name == part {
				found = e.Ino
			}
		}
		if found == 0 {
			return nil, fmt.Errorf("no %s in the directory", part)
		}
		ino = found
	}
	in, err := v.Inode(ino)
	if err != nil {
		return nil, err
	}
	r, err := v.Open(ino)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.NewSectionReader(r, 0, in.Size))
}

// inodeTables is, by group, the first block of the inode table in dumpe2fs's listing.
func inodeTables(t *testing.T, out string) []int64 {
	t.Helper()
	var tables []int64
	for _, line := range strings.Split(out, "\n") {
		var blk int64
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "Inode table at %d-", &blk); err == nil {
			tables = append(tables, blk)
		}
	}
	if len(tables) == 0 {
		t.Fatalf("no inode table in dumpe2fs's listing:\n%s", out)
	}
	return tables
}
