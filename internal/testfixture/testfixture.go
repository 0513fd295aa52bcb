// Package testfixture builds the test disk images with scripts/make-fixtures.sh (real mke2fs,
// mkfs.xfs, sfdisk and qemu-img) once per script version, and makes one-change variants of the
// compliant tree as small ext4 images. Tests fail, never skip, when the tools are missing:
// .ci/run installs them.
package testfixture

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Formats lists each fixture file suffix with the container format it holds.
var Formats = []struct {
	Suffix, Format, Variant string
}{
	{".raw", "raw", ""},
	{".qcow2", "qcow2", "v3"},
	{"-compressed.qcow2", "qcow2", "v3"},
	{"-fixed.vhd", "vhd", "fixed"},
	{"-dynamic.vhd", "vhd", "dynamic"},
	{".vhdx", "vhdx", ""},
	{".vmdk", "vmdk", "monolithicSparse"},
	{"-stream.vmdk", "vmdk", "streamOptimized"},
}

var (
	once   sync.Once
	dir    string
	dirErr error
)

// RepoRoot is the module's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Dir returns the directory holding the fixtures, building them if the script changed.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() { dir, dirErr = build() })
	if dirErr != nil {
		t.Fatalf("building fixtures: %v", dirErr)
	}
	return dir
}

// Path returns the path of fixture name (e.g. "clean.qcow2").
func Path(t testing.TB, name string) string {
	return filepath.Join(Dir(t), name)
}

func build() (string, error) {
	out := filepath.Join(RepoRoot(), "testdata", "fixtures")
	return out, cached(out, filepath.Join(out, ".stamp"), []string{"make-fixtures.sh"}, func() error {
		return runScript("make-fixtures.sh", out)
	})
}

// Change edits a copy of the compliant tree: each key is an in-image path; a value of
// Remove deletes it, a value starting with "-> " makes a symlink, anything else is file content.
type Change map[string]string

// Remove as a Change value deletes the path.
const Remove = "\x00remove"

// Variant builds a whole-disk ext4 image of the compliant tree with the changes applied and
// returns its path. The image is real: mke2fs -d writes it.
func Variant(t testing.TB, changes Change) string {
	t.Helper()
	tree := variantTree(t, changes)
	img := filepath.Join(filepath.Dir(tree), "variant.raw")
	cmd := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, img, "64M")
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v\n%s", err, b)
	}
	return img
}

// DiskVariant is Variant as a whole disk: an MBR partition table with one Linux partition from
// 1 MiB holding the ext4 filesystem, made with the given UUID and the label "root", so that
// device names (UUID=, LABEL=, /dev/sda1) can be resolved against it.
func DiskVariant(t testing.TB, changes Change, fsUUID string) string {
	t.Helper()
	tree := variantTree(t, changes)
	dir := filepath.Dir(tree)
	part, disk := filepath.Join(dir, "part.img"), filepath.Join(dir, "disk.raw")
	runAll(t, nil, [][]string{
		{"mke2fs", "-q", "-F", "-t", "ext4", "-U", fsUUID, "-L", "root", "-d", tree, part, "64M"},
		{"truncate", "-s", "65M", disk},
		{"sh", "-c", "printf 'label: dos\\nstart=2048, type=83\\n' | sfdisk -q " + disk},
		{"dd", "if=" + part, "of=" + disk, "bs=1M", "seek=1", "conv=notrunc", "status=none"},
	})
	return disk
}

// runAll runs each command in turn, with the sbin directories on PATH and the extra
// environment given, and fails the test with the output of the first that fails.
func runAll(t testing.TB, extraEnv []string, cmds [][]string) {
	t.Helper()
	env := append(append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin"), extraEnv...)
	for _, c := range cmds {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, b)
		}
	}
}

// variantTree copies the compliant tree and applies the changes; it returns the tree's path.
// executableMark starts a Change's value that is written as an executable file (mode 0755).
const executableMark = "\x00+x\x00"

// Executable is a Change's value for an executable file holding body (a script).
func Executable(body string) string { return executableMark + body }

func variantTree(t testing.TB, changes Change) string {
	t.Helper()
	base := filepath.Join(Dir(t), "trees", "clean")
	work := t.TempDir()
	tree := filepath.Join(work, "root")
	if b, err := exec.Command("cp", "-a", base, tree).CombinedOutput(); err != nil {
		t.Fatalf("copying the compliant tree: %v\n%s", err, b)
	}
	// In path order, so that a change under a removed or replaced directory ("/boot/grub"
	// removed, "/boot/grub/grub.cfg" written) applies after it whatever the map's order.
	for _, p := range slices.Sorted(maps.Keys(changes)) {
		v := changes[p]
		full := filepath.Join(tree, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.RemoveAll(full); err != nil {
			t.Fatal(err)
		}
		if v == Remove {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(v, "-> "); ok {
			err = os.Symlink(target, full)
		} else if body, ok := strings.CutPrefix(v, executableMark); ok {
			err = os.WriteFile(full, []byte(body), 0o755)
		} else {
			err = os.WriteFile(full, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// Filesystem makes a filesystem image of type (ext2, ext3, ext4, xfs) holding a copy of dir,
// with scripts/mkfs-from-dir.sh, and returns its path.
func Filesystem(t testing.TB, typ, dir, size string, opts ...string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), typ+".img")
	args := append([]string{filepath.Join(RepoRoot(), "scripts", "mkfs-from-dir.sh"), typ, dir, img, size}, opts...)
	if b, err := exec.Command("bash", args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs-from-dir %s: %v\n%s", typ, err, b)
	}
	return img
}

// RPMDB makes a real SQLite rpm database listing the packages (NAME:EPOCH:VERSION:RELEASE) with
// scripts/make-rpmdb.sh and returns the database file's bytes.
func RPMDB(t testing.TB, pkgs ...string) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rpm")
	args := append([]string{filepath.Join(RepoRoot(), "scripts", "make-rpmdb.sh"), dir}, pkgs...)
	if b, err := exec.Command("bash", args...).CombinedOutput(); err != nil {
		t.Fatalf("make-rpmdb: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
