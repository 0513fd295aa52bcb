package lvm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
)

const (
	pvUUID    = lvmtest.PVUUID
	pvSize    = 8 << 20
	peStart   = lvmtest.PEStart
	extBytes  = lvmtest.ExtBytes
	dataStart = lvmtest.DataStart
	pv1       = lvmtest.PV1
)

var (
	vgText   = lvmtest.VGText
	linearLV = lvmtest.LinearLV
)

// pvImage is a PV of pvSize bytes with UUID uuid holding text, with each of at (PV offset =>
// bytes) written over it.
func pvImage(t testing.TB, uuid, text string, at map[int64][]byte) []byte {
	t.Helper()
	b := make([]byte, pvSize)
	if err := WritePV(b, uuid, peStart, text); err != nil {
		t.Fatal(err)
	}
	for off, d := range at {
		copy(b[off:], d)
	}
	return b
}

// readOne reads b as the only PV and assembles its VG: the LVs, and every problem (the PV's,
// the PVs no VG takes, the LVs that do not read whole) joined.
func readOne(t testing.TB, b []byte) ([]*LV, string) {
	t.Helper()
	pv, err := ReadPV("partition 2", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err.Error()
	}
	return assemble(pv)
}

func assemble(pvs ...*PV) ([]*LV, string) {
	vgs, left := Assemble(pvs)
	var lvs []*LV
	var probs []string
	for _, l := range left {
		probs = append(probs, l.Error())
	}
	for _, vg := range vgs {
		for _, lv := range vg.LVs {
			if lv.Err != nil {
				probs = append(probs, lv.Name+": "+lv.Err.Error())
				continue
			}
			lvs = append(lvs, lv)
		}
	}
	return lvs, strings.Join(probs, "; ")
}

// Each part of the PV that LVM checks, damaged: the rule must not PASS on what LVM would not
// read, and the error names the offset.
func TestReadPVDamaged(t *testing.T) {
	text := vgText(linearLV("root", "pv0", 0, 2), "")
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"label checksum", func(b []byte) { b[512+40] ^= 1 }, "LVM2 PV: label at sector 1 (offset 0x200): checksum"},
		{"label at another sector than it says", func(b []byte) {
			le.PutUint64(b[512+8:], 2)
			le.PutUint32(b[512+16:], CRC(initialCRC, b[512+20:1024]))
		}, "label at sector 1 says it is at sector 2"},
		{"no label", func(b []byte) { clear(b[512:1024]) }, "no LVM2 label in the first 4 sectors"},
		{"metadata area header checksum", func(b []byte) { b[4096+30] ^= 1 }, "metadata area at offset 0x1000: header checksum"},
		{"metadata text checksum", func(b []byte) { b[4096+512+3] ^= 1 }, "metadata area at offset 0x1000: metadata text at offset 0x1200: checksum"},
		{"metadata text past its area", func(b []byte) {
			le.PutUint64(b[4096+48:], 2<<20)
			le.PutUint32(b[4096:], CRC(initialCRC, b[4096+4:4096+512]))
		}, "metadata text at 0x200 of 2097152 bytes is outside the 0xff000-byte area"},
		{"metadata area magic", func(b []byte) {
			b[4096+5] = 'X'
			le.PutUint32(b[4096:], CRC(initialCRC, b[4096+4:4096+512]))
		}, "no LVM2 metadata magic"},
		{"no metadata area", func(b []byte) {
			clear(b[512+72+32 : 512+72+48]) // the mda's entry ends the list
			le.PutUint32(b[512+16:], CRC(initialCRC, b[512+20:1024]))
		}, "holds no metadata area"},
		{"ignored metadata area", func(b []byte) {
			b[4096+60] = 1
			le.PutUint32(b[4096:], CRC(initialCRC, b[4096+4:4096+512]))
		}, "metadata areas are ignored"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := pvImage(t, pvUUID, text, nil)
			c.damage(b)
			lvs, probs := readOne(t, b)
			if len(lvs) != 0 || !strings.Contains(probs, c.want) {
				t.Errorf("LVs %+v, problems %q; want %q", lvs, probs, c.want)
			}
		})
	}
}

// Metadata that wraps from the end of its area to just after the area's header is read in
// two pieces, and its checksum runs over both (format-text.c _vg_read_raw_area, config.c).
func TestReadMetadataWraps(t *testing.T) {
	text := []byte(vgText(linearLV("root", "pv0", 0, 2), ""))
	const area, asize = 4096, 8192
	b := make([]byte, area+asize)
	le := binary.LittleEndian
	h := b[area : area+512]
	copy(h[4:], mdaMagic)
	le.PutUint32(h[20:], 1)
	le.PutUint64(h[24:], area)
	le.PutUint64(h[32:], asize)
	roff := uint64(asize - 300)
	le.PutUint64(h[40:], roff)
	le.PutUint64(h[48:], uint64(len(text)))
	le.PutUint32(h[56:], CRC(initialCRC, text))
	le.PutUint32(h[0:], CRC(initialCRC, h[4:]))
	copy(b[area+roff:], text[:300])
	copy(b[area+512:], text[300:])
	m, err := readMetadata(bytes.NewReader(b), int64(len(b)), diskLocn{area, asize})
	if err != nil || !bytes.Equal(m.text, text) {
		t.Fatalf("%v: %q", err, m.text)
	}
	vg, err := parseVG(m.text)
	if err != nil || vg.name != "vg0" || vg.seqno != 3 || len(vg.lvs) != 1 || vg.lvs[0].extents != 2 {
		t.Errorf("%+v, %v", vg, err)
	}
}

func TestLVMCRC(t *testing.T) {
	// a label sector pvcreate (lvm2 2.03.16) wrote: its checksum field and the bytes after it
	label := make([]byte, 512)
	copy(label, "LABELONE\x01\x00\x00\x00\x00\x00\x00\x00\x0c\x4d\xbd\x9d\x20\x00\x00\x00LVM2 001fzAZMQFckKQFiREwNolycz4iIbnar8Fd")
	le := binary.LittleEndian
	le.PutUint64(label[64:], 16<<20)
	le.PutUint64(label[72:], 0x100000)
	le.PutUint64(label[104:], 0x1000)
	le.PutUint64(label[112:], 0xff000)
	le.PutUint32(label[136:], 2)
	le.PutUint32(label[140:], 1)
	if got, want := CRC(initialCRC, label[20:]), le.Uint32(label[16:]); got != want {
		t.Errorf("crc %#x, pvcreate wrote %#x", got, want)
	}
}

func TestParseConfig(t *testing.T) {
	root, err := parseConfig([]byte("a {\n b = \"x\\\"y\" # c\n c = [1, 'z', -2]\n d = 1.5\n\"q r\" { }\n}\n e = bare\x00 ignored {"))
	if err != nil {
		t.Fatal(err)
	}
	a := root.child("a")
	if a == nil || !a.section || len(a.children) != 4 {
		t.Fatalf("%+v", root)
	}
	if s, err := a.str("b"); err != nil || s != `x"y` {
		t.Errorf("b %q %v", s, err)
	}
	if c := a.child("c"); !c.array || len(c.values) != 3 || !c.values[0].number || c.values[1].s != "z" || c.values[2].s != "-2" {
		t.Errorf("c %+v", c)
	}
	if a.child("q r") == nil || root.child("e").values[0].s != "bare" {
		t.Errorf("%+v", root)
	}
	if _, err := a.uint("d", 10); err == nil {
		t.Error("1.5 read as an integer")
	}
	for in, want := range map[string]string{
		"a {":                    "section a (line 1) not closed",
		"a = ":                   "the text ends where a value was expected",
		"a = 1\na = 2":           "line 2: a repeated",
		"a b":                    "a followed by \"b\"",
		"a = \"x":                "unterminated string",
		"= 1":                    "where a key was expected",
		strings.Repeat("a{", 17): "nested deeper than 16",
	} {
		if _, err := parseConfig([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	var many strings.Builder
	for i := range 1000 { // 1000 sections of 132 values each: under the text's bound, over the nodes'
		fmt.Fprintf(&many, "s%d{", i)
		for j := range 132 {
			fmt.Fprintf(&many, "a%d=1 ", j)
		}
		many.WriteString("}\n")
	}
	if _, err := parseConfig([]byte(many.String())); err == nil || !strings.Contains(err.Error(), "more than 131072 nodes") {
		t.Errorf("no limit on the nodes: %v", err)
	}
	if _, err := parseConfig(make([]byte, maxMetadataText+1)); err == nil {
		t.Error("no limit on the text")
	}
	if _, err := parseConfig([]byte("a{" + strings.Repeat("b=[1,2]\n", 1) + "}")); err != nil {
		t.Error(err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(vgText(linearLV("root", "pv0", 0, 2), "")))
	f.Add([]byte("a = [\"x\", 1, 'y']\nb { c = -1.5 }"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseVG(b); err != nil && err.Error() == "" {
			t.Error("an error without a message")
		}
	})
}

// Any metadata text, laid out with valid checksums: ReadPV and Assemble answer without
// panicking, every LV that reads whole maps each byte inside its PV's data area, and every
// problem has a message.
func FuzzProbeLVM(f *testing.F) {
	f.Add([]byte(vgText(linearLV("root", "pv0", 0, 1), "")))
	f.Add([]byte(vgText(linearLV("a", "pv0", 0, 1)+linearLV("b", "pv1", 0, 1), pv1)))
	f.Fuzz(func(t *testing.T, text []byte) {
		b := make([]byte, 2<<20)
		if WritePV(b, pvUUID, peStart, string(text)) != nil {
			return
		}
		pv, err := ReadPV("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if err.Error() == "" {
				t.Error("an error without a message")
			}
			return
		}
		vgs, left := Assemble([]*PV{pv})
		for _, l := range left {
			if l.Error() == "" {
				t.Error("a problem without a message")
			}
		}
		for _, vg := range vgs {
			for _, lv := range vg.LVs {
				if lv.Err != nil {
					if lv.Err.Error() == "" {
						t.Error("an LV error without a message")
					}
					continue
				}
				for _, off := range []int64{0, lv.Size - 1} {
					_, at, run, err := lv.Locate(off)
					if err != nil || at < dataStart || at >= int64(len(b)) || run <= 0 || at+run > int64(len(b)) {
						t.Errorf("LV %s byte %#x at %#x (run %d, %v), outside the data area", lv.Name, off, at, run, err)
					}
				}
			}
		}
	})
}

// The counts the metadata text may hold are bounded beyond the text's size.
func TestParseVGBounds(t *testing.T) {
	seg := func(i int) string {
		return fmt.Sprintf("s%d{start_extent=%d\nextent_count=1\ntype=\"striped\"\nstripe_count=1\nstripes=[\"pv0\",%d]}\n", i, i, i)
	}
	var lvs, segs strings.Builder
	for i := range maxLVs + 1 {
		fmt.Fprintf(&lvs, "l%d{segment_count=1\n%s}\n", i, seg(0))
	}
	segs.WriteString("big{segment_count=4097\n")
	for i := range maxSegments + 1 {
		segs.WriteString(seg(i))
	}
	segs.WriteString("}\n")
	for _, c := range []struct{ lvs, want string }{
		{lvs.String(), "more than 4096 logical volumes"},
		{segs.String(), "LVM logical volume big: more than 4096 segments"},
		{"x{segment_count=1\n" + seg(0)[:len(seg(0))-3] + ", \"pv0\", 1]}\n}\n", "LVM logical volume x: line 32: 4 values in stripes for 1 stripes"},
	} {
		text := vgText(c.lvs, "")
		if len(text) > maxMetadataText {
			t.Fatalf("%d bytes of text: the test needs fewer", len(text))
		}
		if _, err := parseVG([]byte(text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

// A device is no PV to LVM exactly when no label in its first four sectors is one LVM's label
// scan takes; a PV whose label LVM takes but whose metadata is damaged is still a PV.
func TestReadPVNotAPV(t *testing.T) {
	text := vgText(linearLV("root", "pv0", 0, 2), "")
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		notPV  bool
	}{
		{"label checksum", func(b []byte) { b[512+40] ^= 1 }, true},
		{"no label", func(b []byte) { clear(b[512:1024]) }, true},
		{"label of another type", func(b []byte) {
			copy(b[512+24:], "LVM1 001")
			le.PutUint32(b[512+16:], CRC(initialCRC, b[512+20:1024]))
		}, true},
		{"metadata header checksum", func(b []byte) { b[4096+30] ^= 1 }, false},
		{"intact", func([]byte) {}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := pvImage(t, pvUUID, text, nil)
			c.damage(b)
			_, err := ReadPV("pv", bytes.NewReader(b), int64(len(b)))
			if got := errors.Is(err, ErrNotPV); got != c.notPV {
				t.Errorf("errors.Is(%v, ErrNotPV) = %v, want %v", err, got, c.notPV)
			}
		})
	}
}
