package filesystem_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A file whose name is not UTF-8 (Latin-1 "café-menu.txt", R1's case 19), as ext4 and XFS store
// it, is listed by Walk and opened by OpenReaderAt and ReadFile under that name; the io/fs
// method Open still refuses it, as fs.ValidPath requires.
func TestNamesThatAreNotUTF8AreRead(t *testing.T) {
	name := "caf\xe9-menu.txt"
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "srv", "d\xe9j\xe0"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "srv", name), filepath.Join(dir, "srv", "d\xe9j\xe0", "x.txt")} {
		if err := os.WriteFile(p, []byte("password = Sup3rS3cretPassw0rd\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range []string{"ext4", "xfs"} {
		t.Run(typ, func(t *testing.T) {
			tree := filesystem.NewTree(open(t, typ, testfixture.Filesystem(t, typ, dir, "300M")))
			var files []string
			if err := tree.Walk("", func(p string, d fs.DirEntry) error {
				if d.Type().IsRegular() {
					files = append(files, p)
				}
				return nil
			}); err != nil {
				t.Fatalf("walk: %v", err)
			}
			want := map[string]bool{"srv/" + name: true, "srv/d\xe9j\xe0/x.txt": true}
			for _, p := range files {
				if !want[p] {
					continue
				}
				delete(want, p)
				r, n, err := tree.OpenReaderAt(p)
				if err != nil {
					t.Fatalf("open %q: %v", p, err)
				}
				b, err := io.ReadAll(io.NewSectionReader(r, 0, n))
				if err != nil || string(b) != "password = Sup3rS3cretPassw0rd\n" {
					t.Errorf("%q: %q, %v", p, b, err)
				}
				if _, err := tree.ReadFile(p, 1<<20); err != nil {
					t.Errorf("ReadFile %q: %v", p, err)
				}
			}
			if len(want) > 0 {
				t.Errorf("not walked: %v (walked %q)", want, files)
			}
			if _, err := tree.Open("srv/" + name); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("io/fs Open of a name that is not UTF-8: %v, want fs.ErrInvalid", err)
			}
		})
	}
}

func TestValidPathBytes(t *testing.T) {
	for p, want := range map[string]bool{".": true, "a": true, "caf\xe9": true, "a/b\xff/c": true,
		"": false, "/a": false, "a/": false, "a//b": false, "a/./b": false, "a/../b": false, "..": false, "\xff/..": false} {
		if got := filesystem.ValidPathBytes(p); got != want {
			t.Errorf("ValidPathBytes(%q) = %v", p, got)
		}
	}
}

// Named $DATA streams (alternate data streams, R1's M13: ntfscp -N) are the NTFS volume's
// extended attributes ":NAME:$DATA", resident and not; one over the bound is an error naming it.
func TestNTFSAlternateDataStreams(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := testfixture.Filesystem(t, "ntfs", dir, "24M")
	small, big := filepath.Join(t.TempDir(), "creds"), filepath.Join(t.TempDir(), "big")
	os.WriteFile(small, []byte("password = Sup3rS3cretPassw0rd\n"), 0o644)
	large := make([]byte, 5000) // non-resident
	copy(large[4000:], "AWS_ACCESS_KEY_ID=AKIAZ4QK7W2N5XR3TY6P\n")
	os.WriteFile(big, large, 0o644)
	for _, c := range [][]string{{img, small, "readme.txt", "creds"}, {img, big, "readme.txt", "blob"}} {
		cmd := exec.Command("ntfscp", "-f", "-N", c[3], c[0], c[1], c[2])
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ntfscp: %v\n%s", err, b)
		}
	}
	v := openNTFS(t, img)
	tree := filesystem.NewTree(v)
	st, err := tree.Stat("readme.txt")
	if err != nil {
		t.Fatal(err)
	}
	ino := st.Sys().(*filesystem.Inode).Ino
	xs, err := v.Xattrs(ino)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range xs {
		got[x.Name] = string(x.Value)
	}
	if got[":creds:$DATA"] != "password = Sup3rS3cretPassw0rd\n" || got[":blob:$DATA"] != string(large) || len(got) != 2 {
		t.Errorf("streams %q", got)
	}
	// the file's own content is the unnamed stream, unchanged
	if b, err := tree.ReadFile("readme.txt", 1<<10); err != nil || string(b) != "hello\n" {
		t.Errorf("readme.txt: %q, %v", b, err)
	}
	huge := filepath.Join(t.TempDir(), "huge")
	os.WriteFile(huge, make([]byte, filesystem.MaxXattrValue+1), 0o644)
	cmd := exec.Command("ntfscp", "-f", "-N", "huge", img, huge, "readme.txt")
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ntfscp: %v\n%s", err, b)
	}
	v = openNTFS(t, img)
	xs, err = v.Xattrs(ino)
	if err == nil || len(xs) != 2 {
		t.Errorf("a stream over the bound: %d streams, error %v", len(xs), err)
	}
}
