package filesystem_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// xattrTree is a small tree whose file and directory carry user attributes: a short one that
// fits in the inode and a long one that goes to the external block. mke2fs -d copies them.
func xattrTree(t testing.TB) string {
	dir := t.TempDir()
	f := filepath.Join(dir, "app.conf")
	d := filepath.Join(dir, "data")
	if err := os.WriteFile(f, []byte("x=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ path, name, value string }{
		{f, "user.short", "in-the-inode"},
		{f, "user.long", strings.Repeat("L", 700)},
		{d, "user.dir", "on-a-directory"},
	} {
		if err := syscall.Setxattr(x.path, x.name, []byte(x.value), 0); err != nil {
			t.Fatalf("setxattr %s on the test tree: %v (the temporary directory must allow user attributes)", x.name, err)
		}
	}
	return dir
}

func xattrMap(t *testing.T, v filesystem.XattrVolume, tree *filesystem.Tree, p string) (map[string]string, error) {
	t.Helper()
	st, err := tree.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	xs, err := v.Xattrs(st.Sys().(*filesystem.Inode).Ino)
	m := map[string]string{}
	for _, x := range xs {
		m[x.Name] = string(x.Value)
	}
	return m, err
}

// debugfsOut runs a debugfs request on an image and returns its output.
func debugfsOut(t *testing.T, img, req string) string {
	t.Helper()
	bin := "/usr/sbin/debugfs"
	if p, err := exec.LookPath("debugfs"); err == nil {
		bin = p
	}
	out, err := exec.Command(bin, "-R", req, img).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs %s: %v\n%s", req, err, out)
	}
	return string(out)
}

// The attributes in the inode and in the external block are read, on files and directories,
// under metadata_csum and without it; a flipped byte in the block fails its checksum and is an
// error naming the block, while the attributes in the inode are still returned.
func TestExt4Xattrs(t *testing.T) {
	dir := xattrTree(t)
	for _, c := range []struct {
		name string
		opts []string
		csum bool
	}{
		{"metadata_csum", []string{"-b", "4096", "-O", "metadata_csum"}, true},
		{"no checksums", []string{"-b", "4096", "-O", "^metadata_csum"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := testfixture.Filesystem(t, "ext4", dir, "8M", c.opts...)
			raw, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ext4.Open("x.img", bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatal(err)
			}
			tree := filesystem.NewTree(v)
			m, err := xattrMap(t, v, tree, "app.conf")
			if err != nil || m["user.short"] != "in-the-inode" || m["user.long"] != strings.Repeat("L", 700) {
				t.Fatalf("app.conf: %v %q", err, m)
			}
			if m, err := xattrMap(t, v, tree, "data"); err != nil || m["user.dir"] != "on-a-directory" {
				t.Fatalf("data: %v %q", err, m)
			}

			// corrupt one byte of the long value in the external block
			acl := 0
			for _, l := range strings.Split(debugfsOut(t, img, "stat /app.conf"), "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(l), "File ACL:"); ok {
					acl, _ = strconv.Atoi(strings.Fields(v)[0])
				}
			}
			if acl == 0 {
				t.Fatal("debugfs shows no external attribute block for app.conf")
			}
			at := acl*4096 + bytes.Index(raw[acl*4096:(acl+1)*4096], []byte("LLLL"))
			bad := append([]byte(nil), raw...)
			bad[at] = 'M'
			v2, _ := ext4.Open("x.img", bytes.NewReader(bad), int64(len(bad)))
			m, err = xattrMap(t, v2, filesystem.NewTree(v2), "app.conf")
			if c.csum {
				if err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), "block "+strconv.Itoa(acl)) {
					t.Fatalf("corrupt block under metadata_csum: %v", err)
				}
				if m["user.short"] != "in-the-inode" || m["user.long"] != "" {
					t.Errorf("with the block unreadable, got %q", m)
				}
			} else if err != nil || !strings.HasPrefix(m["user.long"], "M") {
				t.Errorf("without checksums the changed byte is read as it is: %v %.20q", err, m["user.long"])
			}

			// an entry whose value lies past the block is an error with its offset
			hdr := acl*4096 + 32
			bad = append([]byte(nil), raw...)
			for e := hdr; binary.LittleEndian.Uint32(bad[e:]) != 0; e += (16 + int(bad[e]) + 3) &^ 3 {
				binary.LittleEndian.PutUint16(bad[e+2:], 4000)
			}
			v3, _ := ext4.Open("x.img", bytes.NewReader(bad), int64(len(bad)))
			if _, err := xattrMap(t, v3, filesystem.NewTree(v3), "app.conf"); err == nil || (!strings.Contains(err.Error(), "outside its area") && !strings.Contains(err.Error(), "checksum")) {
				t.Errorf("value offset past the block: %v", err)
			}
		})
	}
}

// FuzzExt4Xattrs opens arbitrary bytes as ext4 and reads every inode's attributes: errors, never
// a panic, a hang or an unbounded allocation.
func FuzzExt4Xattrs(f *testing.F) {
	dir := xattrTree(f)
	small := []string{"-b", "1024", "-N", "48", "-O", "^has_journal,^resize_inode"}
	f.Add(readAll(f, testfixture.Filesystem(f, "ext4", dir, "96K", small...), 96<<10))
	f.Add(readAll(f, testfixture.Filesystem(f, "ext4", dir, "96K", append(small, "-O", "^metadata_csum")...), 96<<10))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ext4.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for ino := uint64(1); ino <= 64; ino++ {
			xs, _ := v.Xattrs(ino)
			for _, x := range xs {
				if len(x.Value) > filesystem.MaxXattrValue {
					t.Fatalf("inode %d: %s of %d bytes", ino, x.Name, len(x.Value))
				}
			}
		}
	})
}

// A value too large for the attribute block is kept in an inode of its own (ea_inode), which
// debugfs's ea_set writes; it is read whole.
func TestExt4XattrInAnEAInode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := testfixture.Filesystem(t, "ext4", dir, "8M", "-b", "4096", "-O", "ea_inode")
	val := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(val, bytes.Repeat([]byte("H"), 6000), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := "/usr/sbin/debugfs"
	if p, err := exec.LookPath("debugfs"); err == nil {
		bin = p
	}
	if out, err := exec.Command(bin, "-w", "-R", "ea_set -f "+val+" /f user.huge", img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs ea_set: %v\n%s", err, out)
	}
	// debugfs lists the attribute with its size: what it stored
	list := debugfsOut(t, img, "ea_list /f")
	i := strings.Index(list, "user.huge (")
	if i < 0 {
		t.Fatalf("debugfs does not list the attribute:\n%s", list)
	}
	want, _ := strconv.Atoi(strings.TrimSuffix(strings.Fields(list[i+len("user.huge ("):])[0], ")"))
	if acl := debugfsOut(t, img, "stat /f"); !strings.Contains(acl, "File ACL: 0") {
		t.Fatalf("the attribute went to a block, not an EA inode:\n%s", acl)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ext4.Open("x.img", bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := xattrMap(t, v, filesystem.NewTree(v), "f")
	if err != nil || want < 4096 || len(m["user.huge"]) != want || strings.Trim(m["user.huge"], "H") != "" {
		t.Fatalf("EA inode value: %v, %d bytes (debugfs: %d)", err, len(m["user.huge"]), want)
	}
}

// Inline data (mke2fs -O inline_data): a file of more than the 60 bytes of i_block keeps the
// rest in its system.data attribute, and reads whole; small directories are inline too.
func TestExt4InlineDataPastTheInode(t *testing.T) {
	dir := t.TempDir()
	mid := make([]byte, 120)
	for i := range mid {
		mid[i] = byte('a' + i%26)
	}
	if err := os.WriteFile(filepath.Join(dir, "mid"), mid, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small"), []byte("tiny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := os.WriteFile(filepath.Join(dir, "d", "n"+strconv.Itoa(i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := testfixture.Filesystem(t, "ext4", dir, "8M", "-b", "4096", "-I", "512", "-O", "inline_data")
	if st := debugfsOut(t, img, "stat /mid"); !strings.Contains(st, "Size of inline data: 120") {
		t.Fatalf("mid is not inline:\n%s", st)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ext4.Open("x.img", bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	tree := filesystem.NewTree(v)
	for name, want := range map[string]string{"mid": string(mid), "small": "tiny\n"} {
		if got, err := tree.ReadFile(name, 1<<20); err != nil || string(got) != want {
			t.Errorf("%s: %v %q", name, err, got)
		}
	}
	ents, err := tree.ReadDir("d")
	if err != nil || len(ents) != 6 {
		t.Errorf("inline directory: %v, %d entries", err, len(ents))
	}
}
