package filesystem_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/xfs"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// xfsWithAttrs makes an XFS image (mkfs.xfs -p) whose files get attributes from xfs_db's
// attr_set, which fills a value of the given length with 'v': /a in short form in the inode
// (a user and a trusted one), /b in a leaf block with its value in a remote block, /c with so
// many that they need a node block over several leaves.
// With big 0 only /a gets attributes: xfs_db 6.1 crashes turning a v4 inode's short-form
// attributes into a leaf block, so v4 is tested in short form only.
func xfsWithAttrs(t testing.TB, big int, opts ...string) string {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(dir+"/"+n, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := testfixture.Filesystem(t, "xfs", dir, "300M", opts...)
	many := []string{"path /c"}
	for i := range 120 {
		many = append(many, fmt.Sprintf("attr_set -u -v 100 many%03d", i))
	}
	bin := "/usr/sbin/xfs_db"
	if p, err := exec.LookPath("xfs_db"); err == nil {
		bin = p
	}
	// one xfs_db per file: a long session of attr_set crashes xfs_db 6.1 on v4
	sets := [][]string{{"path /a", "attr_set -u -v 10 short", "attr_set -r -v 20 trustme"}}
	if big > 0 {
		sets = append(sets, []string{"path /b", fmt.Sprintf("attr_set -u -v %d big", big)}, many)
	}
	for _, cmds := range sets {
		args := []string{"-x"}
		for _, c := range cmds {
			args = append(args, "-c", c)
		}
		if out, err := exec.Command(bin, append(args, img)...).CombinedOutput(); err != nil {
			t.Fatalf("xfs_db %q: %v\n%s", cmds, err, out)
		}
	}
	return img
}

func xfsAttrs(t *testing.T, v *xfs.FS, p string) (map[string]string, error) {
	t.Helper()
	st, err := filesystem.NewTree(v).Lstat(p)
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

// XFS attributes in short form, in a leaf with a remote value, and under a node are read, on
// v5 (checksummed blocks) and v4; a flipped byte in a v5 attribute block fails its checksum.
func TestXFSXattrs(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []string
		big  int
	}{{"v5", nil, 3000}, {"v4", []string{"-m", "crc=0"}, 0}} {
		t.Run(c.name, func(t *testing.T) {
			img := xfsWithAttrs(t, c.big, c.opts...)
			raw, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			v, err := xfs.Open("x.xfs", bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if m, err := xfsAttrs(t, v, "a"); err != nil || m["user.short"] != strings.Repeat("v", 10) || m["trusted.trustme"] != strings.Repeat("v", 20) {
				t.Errorf("a: %v %q", err, m)
			}
			if c.big == 0 {
				return
			}
			if m, err := xfsAttrs(t, v, "b"); err != nil || m["user.big"] != strings.Repeat("v", c.big) {
				t.Errorf("b: %v %d attributes, big of %d bytes", err, len(m), len(m["user.big"]))
			}
			m, err := xfsAttrs(t, v, "c")
			if err != nil || len(m) != 120 || m["user.many119"] != strings.Repeat("v", 100) {
				t.Errorf("c: %v %d attributes", err, len(m))
			}
			if c.name != "v5" {
				return
			}
			// flip one byte of a value in an attribute block
			i := bytes.Index(raw, []byte("many050"))
			if i < 0 {
				t.Fatal("no attribute name in the image")
			}
			bad := append([]byte(nil), raw...)
			bad[i+len("many050")] ^= 1
			v2, _ := xfs.Open("x.xfs", bytes.NewReader(bad), int64(len(bad)))
			if _, err := xfsAttrs(t, v2, "c"); err == nil || !strings.Contains(err.Error(), "checksum") {
				t.Errorf("corrupt attribute block: %v", err)
			}
		})
	}
}

// FuzzXFSXattrs reads every inode's attributes of arbitrary bytes opened as XFS.
func FuzzXFSXattrs(f *testing.F) {
	img := xfsWithAttrs(f, 3000)
	f.Add(readAll(f, img, 96<<10))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xfs.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, ino := range []uint64{v.Root(), v.Root() + 1, v.Root() + 2, v.Root() + 3, v.Root() + 4} {
			xs, _ := v.Xattrs(ino)
			for _, x := range xs {
				if len(x.Value) > filesystem.MaxXattrValue {
					t.Fatalf("inode %d: %s of %d bytes", ino, x.Name, len(x.Value))
				}
			}
		}
	})
}
