package image_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every container format must present exactly the bytes of the raw image it was converted from.
func TestEveryFormatReadsLikeRaw(t *testing.T) {
	for _, name := range []string{"clean", "dirty"} {
		raw, err := os.Open(testfixture.Path(t, name+".raw"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		st, _ := raw.Stat()
		for _, f := range testfixture.Formats[1:] {
			t.Run(name+f.Suffix, func(t *testing.T) {
				d, err := image.Open(testfixture.Path(t, name+f.Suffix))
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if d.Format != f.Format || d.Variant != f.Variant {
					t.Errorf("detected %s/%s, want %s/%s", d.Format, d.Variant, f.Format, f.Variant)
				}
				if d.Size() != st.Size() {
					t.Fatalf("virtual size %d, raw is %d", d.Size(), st.Size())
				}
				// odd-sized reads at odd offsets cross every cluster/grain/block boundary kind
				want := make([]byte, 3<<20+4097)
				got := make([]byte, len(want))
				for off := int64(0); off < st.Size(); off += int64(len(want)) - 511 {
					n, _ := raw.ReadAt(want, off)
					m, err := d.ReadAt(got[:n], off)
					if m != n || (err != nil && err != io.EOF) {
						t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", n, off, m, err)
					}
					if !bytes.Equal(got[:n], want[:n]) {
						t.Fatalf("bytes at %d differ from the raw image", off)
					}
				}
				if _, err := d.ReadAt(got[:1], d.Size()); err != io.EOF {
					t.Errorf("read past the end: %v, want io.EOF", err)
				}
			})
		}
	}
}

// Damaged images give an error that names the file and an offset, never a panic or a silent pass.
func TestDamagedImagesAreErrors(t *testing.T) {
	dir := t.TempDir()
	for _, f := range testfixture.Formats[1:] {
		src, err := os.ReadFile(testfixture.Path(t, "clean"+f.Suffix))
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{600, 70 << 10, 200 << 10} {
			if cut >= len(src) {
				continue
			}
			p := filepath.Join(dir, "cut"+f.Suffix)
			os.WriteFile(p, src[:cut], 0o644)
			d, err := image.Open(p)
			if err == nil && f.Variant == "fixed" {
				// a fixed VHD keeps its footer at the end: cut, it is indistinguishable from raw
				if d.Format != "raw" {
					t.Errorf("cut fixed VHD detected as %s", d.Format)
				}
				d.Close()
				continue
			}
			if err == nil {
				// the header survived: reading the disk must then fail, not invent data
				buf := make([]byte, 1<<20)
				var rerr error
				for off := int64(0); off < d.Size() && rerr == nil; off += int64(len(buf)) {
					_, rerr = d.ReadAt(buf, off)
				}
				d.Close()
				if rerr == nil || rerr == io.EOF {
					t.Errorf("%s cut to %d bytes reads without error", f.Suffix, cut)
				}
				continue
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "offset") {
				t.Errorf("%s cut to %d: error %q does not name the file and offset", f.Suffix, cut, err)
			}
		}
	}
}

func TestHeaderCorruption(t *testing.T) {
	cases := []struct {
		fixture string
		off     int
		val     byte
		want    string
	}{
		{"clean.qcow2", 23, 30, "cluster_bits"},             // cluster bits = 30
		{"clean.qcow2", 35, 1, "encrypted"},                 // crypt method
		{"clean-dynamic.vhd", 70, 0xff, "checksum"},         // footer copy damaged
		{"clean.vhdx", 64<<10 + 9, 0xff, "no valid header"}, // header sequence → CRC fails
		{"clean.vmdk", 44, 0, "grain table"},                // numGTEsPerGT = 0
	}
	dir := t.TempDir()
	for _, c := range cases {
		src, err := os.ReadFile(testfixture.Path(t, c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		if c.fixture == "clean.vhdx" {
			// damage both header copies
			src[128<<10+9] ^= 0xff
		}
		if c.fixture == "clean.vmdk" {
			src[45] = 0
		}
		src[c.off] = c.val
		p := filepath.Join(dir, "bad-"+c.fixture)
		os.WriteFile(p, src, 0o644)
		_, err = image.Open(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !byteio.IsCorrupt(err) {
			t.Errorf("%s byte %d = %#x: error %v, want a corrupt-image error mentioning %q", c.fixture, c.off, c.val, err, c.want)
		}
	}
}

func TestLooksLikeDisk(t *testing.T) {
	for _, f := range testfixture.Formats {
		if !image.LooksLikeDisk(testfixture.Path(t, "clean"+f.Suffix)) {
			t.Errorf("clean%s not recognised as a disk", f.Suffix)
		}
	}
	p := filepath.Join(t.TempDir(), "box.ovf")
	os.WriteFile(p, bytes.Repeat([]byte("<Envelope/>\n"), 1000), 0o644)
	if image.LooksLikeDisk(p) {
		t.Error("an OVF descriptor was taken for a disk")
	}
}

// Child disks are refused, not read alone (their unallocated clusters are the parent's): a
// qcow2 with a backing file, and a VMDK delta (parentFileNameHint), both made by qemu-img.
func TestChildDisksAreRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ format, want string }{{"qcow2", "backing file"}, {"vmdk", "delta disk"}} {
		base := filepath.Join(dir, "base."+c.format)
		child := filepath.Join(dir, "child."+c.format)
		for _, args := range [][]string{
			{"create", "-q", "-f", c.format, base, "16M"},
			{"create", "-q", "-f", c.format, "-b", base, "-F", c.format, child},
		} {
			if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
				t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
			}
		}
		if _, err := image.Open(base); err != nil {
			t.Errorf("%s base: %v", c.format, err)
		}
		if _, err := image.Open(child); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s child: %v, want an error saying %q", c.format, err, c.want)
		}
	}
}
