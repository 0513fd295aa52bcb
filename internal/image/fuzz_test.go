package image_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// FuzzOpen feeds arbitrary bytes to format detection and then reads the whole virtual disk.
// It must never panic, hang or allocate without bound; errors are fine.
func FuzzOpen(f *testing.F) {
	for _, fx := range testfixture.Formats[1:] {
		b, err := os.ReadFile(testfixture.Path(f, "clean"+fx.Suffix))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 96<<10)])
	}
	// regression: a VMDK grain size so large that its byte count overflowed to 0 (then divided by)
	vmdk := make([]byte, 1024)
	copy(vmdk, "KDMV")
	binary.LittleEndian.PutUint64(vmdk[12:], 1<<20) // capacity
	binary.LittleEndian.PutUint64(vmdk[20:], 1<<55) // grain size in sectors
	binary.LittleEndian.PutUint32(vmdk[44:], 512)   // grain table entries
	binary.LittleEndian.PutUint64(vmdk[56:], 1)     // grain directory sector
	f.Add(vmdk)
	// a qcow2 with an internal snapshot: the snapshot table is parsed at open
	q := filepath.Join(f.TempDir(), "snap.qcow2")
	for _, c := range [][]string{{"qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", q, "1M"}, {"qemu-img", "snapshot", "-c", "before-cleanup", q}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			f.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	if b, err := os.ReadFile(q); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b[:min(len(b), 96<<10)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := image.New("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for off := int64(0); off < d.Size(); off += 1 << 20 {
			if at := d.DataAfter(off); at < off || at > d.Size() {
				t.Fatalf("DataAfter(%d) = %d outside [%d, %d]", off, at, off, d.Size())
			}
			if off > 64<<20 {
				break
			}
		}
		buf := make([]byte, 64<<10)
		// read a bounded prefix: the virtual size may legitimately be huge and sparse
		for off := int64(0); off < min(d.Size(), 8<<20); off += int64(len(buf)) {
			if _, err := d.ReadAt(buf, off); err != nil {
				return
			}
		}
	})
}
