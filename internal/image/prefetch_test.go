package image_test

import (
	"os"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// hinted is a container file that takes Prefetch hints and records them.
type hinted struct {
	f   *os.File
	got [][2]int64
}

func (h *hinted) ReadAt(p []byte, off int64) (int, error) { return h.f.ReadAt(p, off) }
func (h *hinted) Prefetch(off, n int64) bool {
	if n > 0 {
		h.got = append(h.got, [2]int64{off, n})
	}
	return true
}

// A raw image and a fixed VHD pass a hint to the file's reader at the same offset, clipped to
// the virtual disk (a fixed VHD's footer is not the disk's); a format that maps the disk
// through tables (qcow2, dynamic VHD, VHDX, VMDK) takes no hints.
func TestDiskPrefetch(t *testing.T) {
	for _, c := range []struct {
		name string
		take bool
	}{{"clean.raw", true}, {"clean-fixed.vhd", true}, {"clean.qcow2", false}} {
		f, err := os.Open(testfixture.Path(t, c.name))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		h := &hinted{f: f}
		d, err := image.New(c.name, h, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Prefetch(0, 0); got != c.take {
			t.Errorf("%s (%s): takes hints %v, want %v", c.name, d.Format, got, c.take)
		}
		d.Prefetch(4096, 8192)
		d.Prefetch(d.VirtualSize-100, 1000)
		if c.take {
			if len(h.got) != 2 || h.got[0] != [2]int64{4096, 8192} || h.got[1] != [2]int64{d.VirtualSize - 100, 100} {
				t.Errorf("%s: hints %v, want [4096 8192] [%d 100]", c.name, h.got, d.VirtualSize-100)
			}
		} else if len(h.got) != 0 {
			t.Errorf("%s: hints %v passed through a table-mapped format", c.name, h.got)
		}
		f.Close()
	}
}
