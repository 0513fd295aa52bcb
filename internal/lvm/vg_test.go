package lvm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
)

const pv1UUID = lvmtest.PV1UUID

// seg is a segment section of count extents from LV extent start, striped over stripes
// ("pvN", extent pairs) in chunks of 128 sectors.
func seg(n, start, count int, stripes ...any) string {
	var list []string
	for i := 0; i < len(stripes); i += 2 {
		list = append(list, fmt.Sprintf("%q, %d", stripes[i], stripes[i+1]))
	}
	return fmt.Sprintf("segment%d {\nstart_extent = %d\nextent_count = %d\n\ntype = \"striped\"\nstripe_count = %d\nstripe_size = 128\n\nstripes = [\n%s\n]\n}\n",
		n, start, count, len(list), strings.Join(list, ",\n"))
}

// marks fills each extent e of a PV image with bytes naming the PV and the extent.
func marks(b []byte, pv string) {
	for e := 0; int64(dataStart+(e+1)*extBytes) <= int64(len(b)); e++ {
		for off := 0; off < extBytes; off += 16 {
			copy(b[dataStart+e*extBytes+off:], fmt.Sprintf("%s e%d %08x      ", pv, e, off)[:16])
		}
	}
}

func mustPV(t *testing.T, name string, b []byte) *PV {
	t.Helper()
	pv, err := ReadPV(name, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pv
}

// A VG over two PVs: an LV whose second segment lies on the other PV, and one striped over
// both, read byte for byte where LVM maps them (dm-linear, dm-stripe).
func TestAssembleTwoPVs(t *testing.T) {
	lvs := lvmtest.Segments("root", seg(1, 0, 2, "pv0", 0)+seg(2, 2, 2, "pv1", 0), 2) +
		lvmtest.Segments("st", seg(1, 0, 4, "pv0", 2, "pv1", 2), 1)
	text := vgText(lvs, pv1)
	a, b := pvImage(t, pvUUID, text, nil), pvImage(t, pv1UUID, text, nil)
	marks(a, "pv0")
	marks(b, "pv1")
	vgs, left := Assemble([]*PV{mustPV(t, "partition 2", a), mustPV(t, "partition 3", b)})
	if len(vgs) != 1 || len(left) != 0 || len(vgs[0].PVs) != 2 || len(vgs[0].Missing) != 0 || vgs[0].Describe() != "partition 2 and partition 3" {
		t.Fatalf("VGs %+v, left %v", vgs, left)
	}
	want := map[string][]byte{
		"root": append(bytes.Clone(a[dataStart:dataStart+2*extBytes]), b[dataStart:dataStart+2*extBytes]...),
	}
	var st []byte // chunks of 64 KiB, pv0 and pv1 in turn, each from its extent 2
	for c := 0; c < 4*extBytes/(64<<10); c++ {
		src := a
		if c%2 == 1 {
			src = b
		}
		at := dataStart + 2*extBytes + (c/2)*(64<<10)
		st = append(st, src[at:at+64<<10]...)
	}
	want["st"] = st
	for _, lv := range vgs[0].LVs {
		if lv.Err != nil {
			t.Fatalf("%s: %v", lv.Name, lv.Err)
		}
		got := make([]byte, lv.Size)
		if n, err := lv.ReadAt(got, 0); err != nil || n != len(got) {
			t.Fatalf("%s: read %d: %v", lv.Name, n, err)
		}
		if !bytes.Equal(got, want[lv.Name]) {
			t.Errorf("%s: bytes differ from LVM's mapping", lv.Name)
		}
		// a read across a piece boundary (a segment, a stripe chunk) is the same bytes
		part := make([]byte, 1000)
		off := int64(64<<10) - 500
		if lv.Name == "root" {
			off = 2*extBytes - 500
		}
		if _, err := lv.ReadAt(part, off); err != nil || !bytes.Equal(part, want[lv.Name][off:off+1000]) {
			t.Errorf("%s: read at %#x across pieces: %v", lv.Name, off, err)
		}
		// a read past the LV's end reads up to it, and says io.EOF as an io.ReaderAt does
		if n, err := lv.ReadAt(part, lv.Size-500); n != 500 || err != io.EOF || !bytes.Equal(part[:500], want[lv.Name][lv.Size-500:]) {
			t.Errorf("%s: read over the end: %d, %v", lv.Name, n, err)
		}
	}
}

// What keeps an LV, or a PV, from being read is named: a PV that is not in the image, a thin
// volume, extents past the PV, two PVs with one UUID, a PV without metadata nobody lists.
func TestAssembleUnreadable(t *testing.T) {
	noMDA := func(b []byte) []byte {
		clear(b[512+72+32 : 512+72+48]) // the metadata area's entry ends the list
		binary.LittleEndian.PutUint32(b[512+16:], CRC(initialCRC, b[512+20:1024]))
		return b
	}
	spanning := vgText(lvmtest.Segments("root", seg(1, 0, 2, "pv0", 0)+seg(2, 2, 2, "pv1", 0), 2), pv1)
	thin := strings.Replace(linearLV("thin1", "pv0", 0, 2), `type = "striped"`, `type = "thin"
thin_pool = "pool"
transaction_id = 0
device_id = 1`, 1)
	newer := strings.Replace(vgText(linearLV("new", "pv0", 0, 1), pv1), "seqno = 3", "seqno = 4", 1)
	for _, c := range []struct {
		name   string
		pvs    map[string][]byte
		lvs    string // the LVs that read whole
		probls string
	}{
		{"an LV on a PV not in the image", map[string][]byte{"partition 2": pvImage(t, pvUUID, spanning, nil)}, "",
			"root: segment segment2 lies on pv1 (PV UUID " + pv1UUID + "), which is not among the PVs read: not read"},
		{"a thin LV", map[string][]byte{"partition 2": pvImage(t, pvUUID, vgText(thin+linearLV("root", "pv0", 2, 2), ""), nil)}, "root",
			"thin1: segment segment1 is of type thin, whose bytes are no plain mapping onto PVs: not read"},
		{"extents past the PV", map[string][]byte{"partition 2": pvImage(t, pvUUID, vgText(linearLV("root", "pv0", 6, 2), ""), nil)}, "",
			"root: segment segment1: extents 6 to 7 of pv0 lie outside partition 2 (8388608 bytes)"},
		{"extents that end at the PV's end", map[string][]byte{"partition 2": pvImage(t, pvUUID, vgText(linearLV("root", "pv0", 5, 2), ""), nil)}, "root", ""},
		{"two PVs with one UUID", map[string][]byte{"partition 2": pvImage(t, pvUUID, vgText(linearLV("root", "pv0", 0, 2), ""), nil),
			"partition 3": pvImage(t, pvUUID, vgText(linearLV("root", "pv0", 0, 2), ""), nil)}, "",
			"root: segment segment1 lies on pv0: partition 2 and partition 3 both carry the UUID " + pvUUID + " of pv0: which one LVM uses is unknown"},
		{"a PV without metadata joins the VG that lists it", map[string][]byte{"partition 2": pvImage(t, pvUUID, spanning, nil),
			"partition 3": noMDA(pvImage(t, pv1UUID, spanning, nil))}, "root", ""},
		{"a PV without metadata that no VG lists", map[string][]byte{"partition 3": noMDA(pvImage(t, pv1UUID, spanning, nil))}, "",
			"LVM2 PV holds no metadata area: its VG's metadata is on another PV, and no PV read here holds metadata listing this PV (UUID " + pv1UUID + "): its VG is not read"},
		{"the newest metadata of the VG's PVs counts", map[string][]byte{"partition 2": pvImage(t, pvUUID, spanning, nil),
			"partition 3": pvImage(t, pv1UUID, newer, nil)}, "new", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pvs []*PV
			for _, name := range []string{"partition 2", "partition 3"} {
				if b, ok := c.pvs[name]; ok {
					pvs = append(pvs, mustPV(t, name, b))
				}
			}
			lvs, probs := assemble(pvs...)
			var names []string
			for _, lv := range lvs {
				names = append(names, lv.Name)
			}
			if strings.Join(names, " ") != c.lvs || c.probls == "" && probs != "" || !strings.Contains(probs, c.probls) {
				t.Errorf("LVs %q, problems %q; want %q and %q", names, probs, c.lvs, c.probls)
			}
		})
	}
}

// An LV of which only part can be read still reads that part (a header before the missing
// PV's extents), and says why at the first byte it cannot.
func TestLVReadAtMissingPV(t *testing.T) {
	text := vgText(lvmtest.Segments("root", seg(1, 0, 2, "pv0", 0)+seg(2, 2, 2, "pv1", 0), 2), pv1)
	a := pvImage(t, pvUUID, text, nil)
	marks(a, "pv0")
	vgs, _ := Assemble([]*PV{mustPV(t, "partition 2", a)})
	lv := vgs[0].LVs[0]
	if len(vgs[0].Missing) != 1 || vgs[0].Missing[0] != "pv1 (PV UUID "+pv1UUID+")" {
		t.Errorf("missing %q", vgs[0].Missing)
	}
	buf := make([]byte, 1024)
	if _, err := lv.ReadAt(buf, 2*extBytes-1024); err != nil || !bytes.Equal(buf, a[dataStart+2*extBytes-1024:dataStart+2*extBytes]) {
		t.Errorf("the part on pv0: %v", err)
	}
	n, err := lv.ReadAt(buf, 2*extBytes-512)
	if n != 512 || err == nil || !strings.Contains(err.Error(), "lies on pv1") {
		t.Errorf("read across into pv1: %d, %v", n, err)
	}
	if _, err := lv.ReadAt(buf, lv.Size); err == nil {
		t.Error("a read past the LV's end succeeded")
	}
}

// What WritePV lays out (and the tests judge) is a PV that LVM itself reads: pvs and lvs list
// its VG and logical volumes, which needs both checksums right.
func TestWritePVOracleLVMTools(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(file, pvImage(t, pvUUID, vgText(linearLV("root", "pv0", 0, 3)+linearLV("crypt", "pv0", 3, 2), ""), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	l := lvmtest.NewTools(t, file)
	out := l.Run("lvs", "--driverloaded", "n", "--noheadings", "-o", "vg_name,lv_name,seg_pe_ranges", "--devices", l.Dev)
	got := strings.Join(strings.Fields(out), " ")
	want := "vg0 crypt " + l.Dev + ":3-4 vg0 root " + l.Dev + ":0-2"
	if got != want {
		t.Errorf("lvs: %q, want %q", got, want)
	}
}

// A VG that vgcreate made over two loop devices, with an LV that lvcreate spread over both
// and one striped over both: each extent holds bytes naming its device and PE, and every LV
// byte read is the one lvs's seg_pe_ranges maps it to.
func TestAssembleOracleLVMTools(t *testing.T) {
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")}
	for _, f := range files {
		if err := os.WriteFile(f, make([]byte, 8<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	la, lb := lvmtest.NewTools(t, files[0]), lvmtest.NewTools(t, files[1])
	la.See(lb)
	la.Run("pvcreate", "-q", la.Dev, lb.Dev)
	la.Run("vgcreate", "-q", "-s", "1M", "vgo", la.Dev, lb.Dev)
	la.Run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-i", "2", "-I", "64k", "-l", "2", "-n", "st", "vgo")
	la.Run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-l", "9", "-n", "span", "vgo", la.Dev, lb.Dev)
	ranges := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(la.Run("lvs", "--driverloaded", "n", "--noheadings", "--separator", ";", "-o", "lv_name,seg_pe_ranges,stripes,stripe_size", "--units", "b", "--nosuffix", "vgo")), "\n") {
		f := strings.Split(strings.TrimSpace(line), ";")
		if len(f) != 4 {
			t.Fatalf("lvs line %q", line)
		}
		ranges[f[0]] += f[1] + " "
	}
	peStart := strings.TrimSpace(la.Run("pvs", "--driverloaded", "n", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", la.Dev))
	var pe0 int64
	if _, err := fmt.Sscan(peStart, &pe0); err != nil {
		t.Fatal(err)
	}
	imgs := map[string][]byte{}
	var pvs []*PV
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dev := []string{la.Dev, lb.Dev}[i]
		for e := int64(0); pe0+(e+1)<<20 <= int64(len(b)); e++ {
			for off := int64(0); off < 1<<20; off += 16 {
				copy(b[pe0+e<<20+off:], fmt.Sprintf("%d e%d %08x       ", i, e, off)[:16])
			}
		}
		imgs[dev] = b
		pvs = append(pvs, mustPV(t, dev, b))
	}
	vgs, left := Assemble(pvs)
	if len(vgs) != 1 || len(left) != 0 {
		t.Fatalf("VGs %+v, left %v", vgs, left)
	}
	// the expected bytes, from lvs's ranges ("dev:first-last" for each stripe)
	for _, lv := range vgs[0].LVs {
		var pieces [][]byte
		for _, r := range strings.Fields(ranges[lv.Name]) {
			dev, span, _ := strings.Cut(r, ":")
			var first, last int64
			if _, err := fmt.Sscanf(span, "%d-%d", &first, &last); err != nil {
				t.Fatalf("range %q: %v", r, err)
			}
			pieces = append(pieces, imgs[dev][pe0+first<<20:pe0+(last+1)<<20])
		}
		var want []byte
		if lv.Name == "st" { // 64 KiB chunks round the two stripes
			for c := 0; c < len(pieces[0])/(64<<10)*2; c++ {
				at := (c / 2) * (64 << 10)
				want = append(want, pieces[c%2][at:at+64<<10]...)
			}
		} else {
			want = bytes.Join(pieces, nil)
		}
		got := make([]byte, lv.Size)
		if lv.Err != nil || int64(len(want)) != lv.Size {
			t.Fatalf("%s: %v; %d bytes from lvs's ranges %q, LV of %d", lv.Name, lv.Err, len(want), ranges[lv.Name], lv.Size)
		}
		if _, err := lv.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s (%s): bytes differ from LVM's mapping: %v", lv.Name, ranges[lv.Name], err)
		}
	}
}
