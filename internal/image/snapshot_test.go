package image_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
)

func run(t *testing.T, args ...string) {
	t.Helper()
	if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, b)
	}
}

// rawWithData is a sparse raw file of 64 MiB whose only data is 4 KiB of 0xAB at 5 MiB.
func rawWithData(t *testing.T, dir string) string {
	raw := filepath.Join(dir, "disk.raw")
	run(t, "truncate", "-s", "64M", raw)
	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4096)
	for i := range b {
		b[i] = 0xAB
	}
	if _, err := f.WriteAt(b, 5<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return raw
}

// qemu-img's internal snapshots are surfaced with their names (the disk they hold is not the
// one ReadAt shows); an image without one has none.
func TestQcow2SnapshotsAreListed(t *testing.T) {
	dir := t.TempDir()
	raw := rawWithData(t, dir)
	q := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q)
	d, err := image.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Snapshots) != 0 {
		t.Errorf("a qcow2 without snapshots lists %+v", d.Snapshots)
	}
	d.Close()
	run(t, "qemu-img", "snapshot", "-c", "before-cleanup", q)
	run(t, "qemu-img", "snapshot", "-c", "second", q)
	d, err = image.Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Snapshots) != 2 || d.Snapshots[0].Name != "before-cleanup" || d.Snapshots[1].Name != "second" || d.Snapshots[0].ID != "1" {
		t.Fatalf("snapshots %+v", d.Snapshots)
	}
	if d.Snapshots[0].DiskSize != 64<<20 || d.Snapshots[0].VMStateSize != 0 {
		t.Errorf("snapshot sizes %+v", d.Snapshots[0])
	}
	if got := d.Snapshots[0].Label(); got != `qcow2 internal snapshot "1" "before-cleanup"` {
		t.Errorf("label %s", got)
	}
}

// DataAfter skips what the container proves is zeros (unallocated qcow2 clusters, a sparse raw
// file's holes) and never skips data.
func TestDataAfterSkipsOnlyHoles(t *testing.T) {
	dir := t.TempDir()
	raw := rawWithData(t, dir)
	q := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q)
	for _, p := range []string{raw, q} {
		d, err := image.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		at := d.DataAfter(0)
		if at > 5<<20 || at < 4<<20 {
			t.Errorf("%s: DataAfter(0) = %d, want the data's block at 5 MiB", d.Format, at)
		}
		if got := d.DataAfter(5<<20 + 100); got != 5<<20+100 {
			t.Errorf("%s: DataAfter inside the data = %d", d.Format, got)
		}
		if got := d.DataAfter(6 << 20); got != d.Size() {
			t.Errorf("%s: DataAfter past the data = %d, want %d", d.Format, got, d.Size())
		}
		d.Close()
	}
}
