package filesystem_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// A linear (unindexed) directory leaf block on a metadata_csum filesystem whose entries were
// changed fails its checksum: one changed letter of a name is an error naming the block, never
// a directory that lists a file which does not exist (and hides the one that does).
func TestExt4LeafDirectoryBlockChecksum(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "etc", "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alpha.conf", "bravo.conf", "credentials.ini"} {
		if err := os.WriteFile(filepath.Join(src, "etc", "app", n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(t.TempDir(), "leaf.img")
	env := append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	cmd := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-O", "metadata_csum,^dir_index", "-b", "4096", "-d", src, img, "8M")
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v\n%s", err, b)
	}
	if ents, err := filesystem.NewTree(open(t, "ext4", img)).ReadDir("etc/app"); err != nil || len(ents) != 3 {
		t.Fatalf("intact directory: %d entries, %v; want 3", len(ents), err)
	}
	cmd = exec.Command("debugfs", "-R", "bmap /etc/app 0", img)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("bmap: %q", out)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	block := b[blk*4096 : (blk+1)*4096]
	i := strings.Index(string(block), "credentials.ini")
	if i < 0 {
		t.Fatal("the name is not in the directory's first block")
	}
	block[i] = 'x' // "xredentials.ini": a well-formed entry, only the checksum can tell
	if err := os.WriteFile(img, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ents, err := filesystem.NewTree(open(t, "ext4", img)).ReadDir("etc/app")
	if err == nil || !strings.Contains(err.Error(), "fails its checksum") {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("a changed leaf block: entries %v, err = %v; want a checksum error", names, err)
	}
}
