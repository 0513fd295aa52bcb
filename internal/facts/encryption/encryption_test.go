package encryption

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const uuid = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

func TestParseHeader(t *testing.T) {
	wiped := make([]byte, 512) // a primary LUKS2 header wiped: only the secondary is left
	for _, c := range []struct {
		name  string
		b     []byte
		off   int64
		kind  string
		label string
	}{
		{"LUKS1", testfixture.LUKS1Header(uuid), 0, LUKS1, ""},
		{"LUKS2 primary", testfixture.LUKS2Header(uuid, "data", 0), 0, LUKS2, "data"},
		{"LUKS2 secondary", testfixture.LUKS2Header(uuid, "data", 0x4000), 0x4000, LUKS2, "data"},
		{"LUKS2 secondary at another offset than its own", testfixture.LUKS2Header(uuid, "data", 0x8000), 0x4000, "", ""},
		{"LUKS1 magic as a secondary", append([]byte("SKUL\xba\xbe\x00\x01"), make([]byte, 504)...), 0x4000, "", ""},
		{"unknown LUKS version", append([]byte("LUKS\xba\xbe\x00\x07"), make([]byte, 504)...), 0, LUKS, ""},
		{"BitLocker", testfixture.BitLockerBootSector(), 0, BitLocker, ""},
		{"BitLocker magic inside a partition", testfixture.BitLockerBootSector(), 0x4000, "", ""},
		{"BitLocker To Go", bitLockerToGo(bitLockerToGoGUID), 0, BitLocker, ""},
		{"a FAT boot sector named MSWIN4.1 without the GUID", bitLockerToGo(make([]byte, 16)), 0, "", ""},
		{"zeros", wiped, 0, "", ""},
		{"short", []byte("LUKS\xba"), 0, "", ""},
	} {
		h, ok := ParseHeader(c.b, c.off)
		if ok != (c.kind != "") || h.Kind != c.kind || h.Label != c.label {
			t.Errorf("%s: %+v, %v; want kind %q label %q", c.name, h, ok, c.kind, c.label)
		}
		if ok && (c.kind == LUKS1 || c.kind == LUKS2) && h.UUID != uuid {
			t.Errorf("%s: UUID %q", c.name, h.UUID)
		}
	}
}

func TestParseCrypttab(t *testing.T) {
	data := "# <target> <source> <key> <options>\n\ncryptroot UUID=" + uuid + " none luks,discard\n" +
		"swap /dev/sda3 /dev/urandom swap,noauto\nbroken\nfive a b c d\n"
	ents, err := ParseCrypttab([]byte(data))
	// "five a b c d": the generator's sscanf takes the first four fields and opens it
	if err != nil || len(ents) != 3 || ents[0].Line != 3 || ents[0].Name != "cryptroot" || ents[0].NoAuto() || !ents[1].NoAuto() || ents[1].Line != 4 ||
		ents[2].Line != 6 || ents[2].Name != "five" || ents[2].Options != "c" {
		t.Errorf("%+v, %v", ents, err)
	}
	if _, err := ParseCrypttab([]byte("a b\n" + strings.Repeat("x", 5000))); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("an overlong line: %v", err)
	}
}

func TestCmdlineLUKS(t *testing.T) {
	for in, want := range map[string]string{
		"ro quiet": "", "rd.luks.uuid=" + uuid + " ro": "rd.luks.uuid=" + uuid, "luks.name=" + uuid + "=root": "luks.name=" + uuid + "=root",
		"rd.luks.uuid=x rd.luks=0": "", "rd.luks.options=discard": "",
		// rd.luks= turns off the initrd's generator only; luks.uuid= is read by the booted system's too
		"rd.luks=0 luks.uuid=x": "luks.uuid=x", "luks=0 luks.uuid=x": "", "luks=no rd.luks=1 rd.luks.uuid=x": "rd.luks.uuid=x",
		"rd.luks=1 luks=0 rd.luks.uuid=x": "", "rd.luks=off rd.luks.uuid=x": "", "luks=n luks.uuid=x": "",
		"rd.luks=maybe rd.luks.uuid=x": "rd.luks.uuid=x", "rd.luks rd.luks.uuid=x": "rd.luks.uuid=x", "rd.luks.uuid=": "",
	} {
		if got := strings.Join(CmdlineLUKS(in), " "); got != want {
			t.Errorf("CmdlineLUKS(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real disk images: a partition holding each kind of header, found where it is written, and a
// disk with none.
func TestOfDisks(t *testing.T) {
	const root = "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a"
	for _, c := range []struct {
		name   string
		data   []byte
		more   map[int64][]byte
		change testfixture.Change
		kind   string
		at     string
		cttab  int
	}{
		{"plain", nil, nil, nil, "", "", 0},
		{"LUKS1", testfixture.LUKS1Header(uuid), nil, nil, LUKS1, "offset 0x4100000", 0},
		{"LUKS2", testfixture.LUKS2Header(uuid, "data", 0), map[int64][]byte{0x4000: testfixture.LUKS2Header(uuid, "data", 0x4000)}, nil, LUKS2, "offset 0x4100000", 0},
		{"LUKS2 with the primary wiped", nil, map[int64][]byte{0x4000: testfixture.LUKS2Header(uuid, "data", 0x4000)}, nil, LUKS2, "offset 0x4104000", 0},
		{"BitLocker", testfixture.BitLockerBootSector(), nil, nil, BitLocker, "partition 2", 0},
		{"crypttab", nil, nil, testfixture.Change{"/etc/crypttab": "data UUID=" + uuid + " none luks\n"}, "", "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskWithData(t, c.change, root, c.data, c.more))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			f := Of(img)
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			switch {
			case c.kind == "" && len(f.Volumes) != 0:
				t.Errorf("volumes %+v", f.Volumes)
			case c.kind != "" && (len(f.Volumes) != 1 || f.Volumes[0].Kind != c.kind || f.Volumes[0].Partition != 2 || !strings.Contains(f.Volumes[0].Where, c.at)):
				t.Errorf("volumes %+v, want one %s at %s", f.Volumes, c.kind, c.at)
			}
			if len(f.Crypttab) != c.cttab {
				t.Errorf("crypttab %+v", f.Crypttab)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(testfixture.LUKS1Header(uuid), int64(0))
	f.Add(testfixture.LUKS2Header(uuid, "x", 0x4000), int64(0x4000))
	f.Add(testfixture.BitLockerBootSector(), int64(0))
	f.Add([]byte("SKUL\xba\xbe\x00\x02"), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, off int64) {
		h, ok := ParseHeader(b, off)
		if !ok && h != (Header{}) {
			t.Errorf("no header, yet %+v", h)
		}
		if len(h.UUID) > 40*3 || len(h.Label) > 48*3 {
			t.Errorf("fields longer than their slots: %+v", h)
		}
		// Probe over the same bytes as a partition finds what ParseHeader finds at 0
		if off == 0 {
			if ph, pok, err := Probe(bytes.NewReader(b), int64(len(b))); err == nil && ok && (!pok || ph.Kind != h.Kind) && len(b) <= HeaderSize {
				t.Errorf("Probe %+v %v, ParseHeader %+v", ph, pok, h)
			}
		}
	})
}

func FuzzParseCrypttab(f *testing.F) {
	f.Add([]byte("cryptroot UUID=x none luks\n# c\n\nswap /dev/sda3 /dev/urandom swap\n"))
	f.Add([]byte("a\tb\tc\td\te\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ents, _ := ParseCrypttab(data)
		if len(ents) > bytes.Count(data, []byte("\n"))+1 {
			t.Errorf("%d entries from %d lines", len(ents), bytes.Count(data, []byte("\n"))+1)
		}
		for _, e := range ents {
			if e.Name == "" || e.Device == "" || e.Line < 1 {
				t.Errorf("entry %+v", e)
			}
		}
	})
}

// bitLockerToGo is a BitLocker To Go boot sector as libblkid recognises one: "\xeb\x58\x90MSWIN4.1"
// and guid at byte 424 (libblkid/src/superblocks/bitlocker.c, util-linux@47afae0caaa2).
func bitLockerToGo(guid []byte) []byte {
	b := make([]byte, 512)
	copy(b, "\xeb\x58\x90MSWIN4.1")
	copy(b[424:], guid)
	b[510], b[511] = 0x55, 0xaa
	return b
}
