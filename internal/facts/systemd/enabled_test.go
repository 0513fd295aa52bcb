package systemd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// More units than the bound is a problem of the fact, never a cut list; exactly at the bound
// is read.
func TestBootUnitsBound(t *testing.T) {
	build := func(n int) string {
		root := t.TempDir()
		wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
		if err := os.MkdirAll(wants, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := os.Symlink("/dev/null", filepath.Join(wants, fmt.Sprintf("u%d.service", i))); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	// multi-user.target and the standard targets it pulls in without files: basic, sysinit,
	// sockets, timers, paths, slices, local-fs, swap (9 units with it)
	const standard = 9
	b := ReadBoot(FromDir(build(maxBootUnits - standard)))
	if err := b.Err(); err != nil || len(b.Units) != maxBootUnits {
		t.Fatalf("%d units at the bound: %d read, %v", maxBootUnits, len(b.Units), err)
	}
	b = ReadBoot(FromDir(build(maxBootUnits - standard + 1)))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("one unit over the bound: %v (%d units)", err, len(b.Units))
	}
}
