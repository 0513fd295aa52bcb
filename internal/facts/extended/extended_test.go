package extended

import (
	"encoding/binary"
	"strings"
	"testing"
)

// mbr is sector 0 with the given primary entries (type, start sector, sectors).
func mbr(entries ...[3]uint32) []byte {
	b := make([]byte, 512)
	for i, e := range entries {
		at := 446 + i*16
		b[at+4] = byte(e[0])
		binary.LittleEndian.PutUint32(b[at+8:], e[1])
		binary.LittleEndian.PutUint32(b[at+12:], e[2])
	}
	b[510], b[511] = 0x55, 0xAA
	return b
}

func TestParse(t *testing.T) {
	const disk = 64 << 20
	got, err := Parse("d.img", mbr([3]uint32{0x83, 2048, 20480}, [3]uint32{0x05, 22528, 40960}, [3]uint32{0x0F, 63488, 100}, [3]uint32{0x85, 70000, 10}), disk)
	if err != nil {
		t.Fatal(err)
	}
	want := []Container{{2, 22528 * 512, 40960 * 512}, {3, 63488 * 512, 100 * 512}, {4, 70000 * 512, 10 * 512}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("container %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[0].End() != (22528+40960)*512 {
		t.Errorf("end %d", got[0].End())
	}
	// an empty entry of an extended type is no container; no signature, no table
	if got, err := Parse("d.img", mbr([3]uint32{0x05, 22528, 0}), disk); err != nil || len(got) != 0 {
		t.Errorf("empty entry: %v %v", got, err)
	}
	noSig := mbr([3]uint32{0x05, 2048, 100})
	noSig[511] = 0
	if got, err := Parse("d.img", noSig, disk); err != nil || got != nil {
		t.Errorf("no signature: %v %v", got, err)
	}
	// exactly to the end of the disk fits; one sector more does not
	if _, err := Parse("d.img", mbr([3]uint32{0x05, 2048, disk/512 - 2048}), disk); err != nil {
		t.Errorf("container to the disk's end: %v", err)
	}
	_, err = Parse("d.img", mbr([3]uint32{0x83, 1, 1}, [3]uint32{0x05, 2048, disk/512 - 2047}), disk)
	if err == nil || !strings.Contains(err.Error(), "d.img") || !strings.Contains(err.Error(), "0x1ce") {
		t.Errorf("past the end: %v", err)
	}
	if _, err := Parse("d.img", make([]byte, 100), disk); err == nil {
		t.Error("a short sector is accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mbr([3]uint32{0x05, 2048, 100}), int64(1<<20))
	f.Add(mbr([3]uint32{0x0F, 0xFFFFFFFF, 0xFFFFFFFF}), int64(1<<40))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		cs, err := Parse("fuzz", b, size)
		if err != nil {
			return
		}
		if len(cs) > 4 {
			t.Fatalf("%d containers from four entries", len(cs))
		}
		for _, c := range cs {
			if c.Start < 0 || c.Size <= 0 || c.End() > size {
				t.Fatalf("container %+v outside a %d-byte disk", c, size)
			}
		}
	})
}
