package ext4

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalNeedingRecoveryIsNotRead: a committed transaction left in the journal (written by
// debugfs's journal commands, as a crash or a copy of a running disk leaves one) is what Linux
// writes into the filesystem when it mounts it, so the file as this reader would read it is
// not the file the system reads: the filesystem is refused, naming why. Once e2fsck has
// replayed it the file is read with the journal's content; a filesystem marked needs_recovery
// whose journal is empty is read.
func TestJournalNeedingRecoveryIsNotRead(t *testing.T) {
	mke2fs, debugfs, e2fsck := lookTool(t, "mke2fs"), lookTool(t, "debugfs"), lookTool(t, "e2fsck")
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "app.conf"), []byte(strings.Repeat("before\n", 585)+"\n"), 0o644)
	run := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(name, args...).CombinedOutput()
		if err != nil && name != e2fsck { // e2fsck exits 1 when it fixed something
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
		return string(b)
	}
	img := filepath.Join(dir, "fs.img")
	run(mke2fs, "-q", "-F", "-t", "ext4", "-b", "4096", "-d", root, img, "32M")
	empty := filepath.Join(dir, "empty.img")
	os.WriteFile(empty, must(os.ReadFile(img)), 0o644)
	run(debugfs, "-w", "-R", "feature needs_recovery", empty)
	if v := openImage(t, empty); string(must(readPath(v, "app.conf")))[:7] != "before\n" {
		t.Error("an empty journal's filesystem: app.conf not read")
	}

	blk := strings.TrimSpace(string(must(exec.Command(debugfs, "-R", "bmap /app.conf 0", img).Output())))
	after := filepath.Join(dir, "after")
	os.WriteFile(after, []byte(strings.Repeat("after!\n", 585)+"\n"), 0o644)
	cmd := exec.Command(debugfs, "-w", "-f", "-", img)
	cmd.Stdin = strings.NewReader("jo\njw -b " + blk + " " + after + "\njc\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debugfs journal write: %v\n%s", err, b)
	}
	f := must(os.Open(img))
	defer f.Close()
	_, err := Open(img, f, must(f.Stat()).Size())
	if err == nil || !strings.Contains(err.Error(), "needs journal recovery") || !strings.Contains(err.Error(), img) {
		t.Fatalf("a filesystem with a committed transaction to replay opened: %v", err)
	}

	// the same journal with needs_recovery cleared: the kernel would discard the transaction,
	// e2fsck at boot stops to ask (red-team finding: it passed, and e2fsck -fy replays it)
	cleared := filepath.Join(dir, "cleared.img")
	os.WriteFile(cleared, must(os.ReadFile(img)), 0o644)
	run(debugfs, "-w", "-R", "feature ^needs_recovery", cleared)
	g := must(os.Open(cleared))
	defer g.Close()
	if _, err := Open(cleared, g, must(g.Stat()).Size()); err == nil || !strings.Contains(err.Error(), "not marked needs_recovery") {
		t.Errorf("a journal holding a transaction, needs_recovery cleared, opened: %v", err)
	}

	run(e2fsck, "-fy", img)
	if got := string(must(readPath(openImage(t, img), "app.conf"))); got[:7] != "after!\n" {
		t.Errorf("after e2fsck replayed the journal, app.conf starts %q", got[:7])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func openImage(t *testing.T, p string) *FS {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	v, err := Open(p, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
