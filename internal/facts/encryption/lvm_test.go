package encryption

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	pvUUID    = lvmtest.PVUUID
	pvID      = lvmtest.PVID
	pvSize    = 8 << 20 // DiskWithData's second partition
	peStart   = lvmtest.PEStart
	extBytes  = lvmtest.ExtBytes
	dataStart = lvmtest.DataStart
	pv1       = lvmtest.PV1
)

var (
	vgText   = lvmtest.VGText
	linearLV = lvmtest.LinearLV
)

// pvImage is a PV holding text, with each of at (PV offset => bytes) written over it.
func pvImage(t testing.TB, text string, at map[int64][]byte) []byte {
	t.Helper()
	b := make([]byte, pvSize)
	if err := WritePV(b, pvUUID, peStart, text); err != nil {
		t.Fatal(err)
	}
	for off, d := range at {
		copy(b[off:], d)
	}
	return b
}

// realLUKS2 is what cryptsetup luksFormat --type luks2 writes on a file of size bytes (its
// headers and keyslot area), with the given label.
func realLUKS2(t testing.TB, size int64, label string) []byte {
	t.Helper()
	if _, err := exec.LookPath("cryptsetup"); err != nil {
		t.Skip("cryptsetup (Debian cryptsetup-bin) is not installed")
	}
	dir := t.TempDir()
	f, key := filepath.Join(dir, "luks.img"), filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("a key file for the test"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
		"--luks2-metadata-size", "16k", "--luks2-keyslots-size", "256k", "--label", label, "--key-file", key, f).CombinedOutput()
	if err != nil {
		t.Fatalf("cryptsetup luksFormat: %v: %s", err, out)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func problemsText(ps []PVProblem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Error())
	}
	return strings.Join(s, "; ")
}

func TestProbeLVM(t *testing.T) {
	luks := make([]byte, 32<<10) // cryptsetup's headers, or written ones standing in
	if _, err := exec.LookPath("cryptsetup"); err == nil {
		copy(luks, realLUKS2(t, 2*extBytes, "secret"))
	} else {
		t.Log("cryptsetup (Debian cryptsetup-bin) is not installed: written LUKS2 headers stand in")
		copy(luks, testfixture.LUKS2Header(uuid, "secret", 0))
		copy(luks[0x4000:], testfixture.LUKS2Header(uuid, "secret", 0x4000))
	}
	wipedPrimary := bytes.Clone(luks)
	clear(wipedPrimary[:512])
	ext4 := make([]byte, 2048)
	copy(ext4[1024+0x38:], "\x53\xef") // an ext4 superblock's magic: a filesystem, no volume header

	two := linearLV("root", "pv0", 0, 3) + linearLV("crypt", "pv0", 3, 2)
	thin := `
pool {
id = "x"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1

segment1 {
start_extent = 0
extent_count = 2

type = "thin-pool"
metadata = "pool_tmeta"
pool = "pool_tdata"
transaction_id = 0
chunk_size = 128
discards = "passdown"
zero_new_blocks = 1
}
}
` + linearLV("pool_tdata", "pv0", 0, 2)
	// two stripes of 64 KiB (128 sectors) chunks, both on this PV (LVM would use two PVs; the
	// mapping is the same): LV bytes [64 KiB, 128 KiB) are the first chunk of the second stripe,
	// which starts at extent 4
	striped := `
st {
id = "y"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = 1

segment1 {
start_extent = 0
extent_count = 4

type = "striped"
stripe_count = 2
stripe_size = 128

stripes = [
"pv0", 0,
"pv0", 4
]
}
}
`
	stripedCross := strings.Replace(striped, `"pv0", 4`, `"pv1", 0`, 1)
	for _, c := range []struct {
		name   string
		text   string
		at     map[int64][]byte
		lvs    string // "name:kind@offset" of each LV read
		probls string // substring of the problems ("" for none)
	}{
		{"no VG (pvcreate only)", "", nil, "", ""},
		{"a plain LV", vgText(linearLV("root", "pv0", 0, 7), ""), map[int64][]byte{dataStart: ext4}, "root:@0x100000", ""},
		{"a LUKS2 LV after a plain one", vgText(two, ""), map[int64][]byte{dataStart + 3*extBytes: luks},
			"root:@0x100000 crypt:LUKS2@0x400000", ""},
		{"a LUKS2 LV with its primary header wiped", vgText(two, ""), map[int64][]byte{dataStart + 3*extBytes: wipedPrimary},
			"root:@0x100000 crypt:LUKS2@0x404000", ""},
		{"a LUKS2 secondary header in the second stripe", vgText(striped, ""),
			map[int64][]byte{dataStart + 4*extBytes: testfixture.LUKS2Header(uuid, "s", 0x10000)}, "st:LUKS2@0x500000", ""},
		{"a stripe on another PV", vgText(stripedCross, pv1), nil, "", "LVM logical volume st: offset 0x10000: reading 512 bytes: segment segment1 lies on pv1 (PV UUID AaaaaabbbbccccddddeeeeffffgggggG), which is not among the PVs read: not read"},
		{"a LUKS header found before the other PV's stripe is needed", vgText(stripedCross, pv1), map[int64][]byte{dataStart: luks}, "st:LUKS2@0x100000", ""},
		{"an LV on another PV", vgText(linearLV("data", "pv1", 0, 2)+linearLV("root", "pv0", 0, 2), pv1), nil, "root:@0x100000",
			"LVM logical volume data: offset 0x0: reading 512 bytes: segment segment1 lies on pv1"},
		{"a thin pool", vgText(thin, ""), nil, "pool_tdata:@0x100000", "LVM logical volume pool: offset 0x0: reading 512 bytes: segment type thin-pool not read"},
		{"segment_count disagrees", vgText(strings.Replace(linearLV("root", "pv0", 0, 2), "segment_count = 1", "segment_count = 2", 1), ""), nil, "",
			"LVM logical volume root: metadata area at offset 0x1000: segment_count 2, but 1 segments"},
		{"a stripe past the partition", vgText(linearLV("root", "pv0", 9, 2), ""), nil, "", "LVM logical volume root: offset 0x0: reading 512 bytes: segment segment1: extent 9 of pv0 lies outside the partition"},
		{"metadata that does not parse", vgText(linearLV("root", "pv0", 0, 2), "")[:300], nil, "", "metadata area at offset 0x1000: line"},
		{"a VG that does not list this PV", strings.Replace(vgText(linearLV("root", "pv0", 0, 2), ""), pvID, "Zzzzzz-FckK-QFiR-EwNo-lycz-4iIb-nar8Fd", 1), nil, "",
			"lists no PV with this PV's UUID " + pvUUID},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := pvImage(t, c.text, c.at)
			lvs, probs := ProbeLVM(bytes.NewReader(b), int64(len(b)))
			var got []string
			for _, lv := range lvs {
				got = append(got, fmt.Sprintf("%s:%s@%#x", lv.Name, lv.Header.Kind, lv.At))
			}
			if strings.Join(got, " ") != c.lvs {
				t.Errorf("LVs %q, want %q", strings.Join(got, " "), c.lvs)
			}
			if ps := problemsText(probs); c.probls == "" && ps != "" || !strings.Contains(ps, c.probls) {
				t.Errorf("problems %q, want %q", ps, c.probls)
			}
		})
	}
}

// A real disk whose second partition is the PV: the encryption facts report the LUKS LV
// with the partition and the offset on the disk, and count the LVs read.
func TestOfLVM(t *testing.T) {
	const root = "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a"
	luks := testfixture.LUKS2Header(uuid, "lv", 0)
	pv := pvImage(t, vgText(linearLV("root", "pv0", 0, 3)+linearLV("crypt", "pv0", 3, 2), ""), map[int64][]byte{dataStart + 3*extBytes: luks})
	img, err := inspect.Open(testfixture.DiskWithData(t, nil, root, pv, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	f := Of(img)
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	// the partition starts at 65 MiB: the header is at 65 MiB + 1 MiB (pe_start) + 3 extents
	if len(f.Volumes) != 1 || f.Volumes[0].LV != "crypt" || f.Volumes[0].Kind != LUKS2 || f.LogicalVolumes != 2 ||
		f.Volumes[0].Where != "partition 2, LVM logical volume crypt of VG vg0, header at offset 0x4500000" {
		t.Errorf("%+v, %d LVs", f.Volumes, f.LogicalVolumes)
	}
}

// A VG over two partitions whose LUKS LV lies on the second: its header is found there, named
// with that partition and the disk offset; with the second partition gone, the LV is a
// problem naming the PV it lacks.
func TestOfLVMTwoPVs(t *testing.T) {
	text := vgText(linearLV("root", "pv0", 0, 2)+linearLV("crypt", "pv1", 1, 2), pv1)
	a, b := make([]byte, pvSize), make([]byte, pvSize)
	if err := WritePV(a, pvUUID, peStart, text); err != nil {
		t.Fatal(err)
	}
	if err := WritePV(b, lvmtest.PV1UUID, peStart, text); err != nil {
		t.Fatal(err)
	}
	copy(b[dataStart+extBytes:], testfixture.LUKS2Header(uuid, "two", 0))
	for _, c := range []struct {
		name      string
		second    []byte
		where     string
		problem   string
		lvsCounts int
	}{
		{"both PVs", b, "partition 2, LVM logical volume crypt of VG vg0, header at offset 0xb00000", "", 2},
		{"the second missing", make([]byte, pvSize), "", "partition 1: LVM logical volume crypt: offset 0x0: reading 512 bytes: segment segment1 lies on pv1 (PV UUID " + lvmtest.PV1UUID + "), which is not among the PVs read: not read", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			disk := filepath.Join(dir, "disk.raw")
			img := make([]byte, (1<<20)+2*pvSize)
			copy(img[1<<20:], a)
			copy(img[(1<<20)+pvSize:], c.second)
			if err := os.WriteFile(disk, img, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", "printf 'label: dos\\nstart=2048, size=16384, type=8e\\nstart=18432, size=16384, type=8e\\n' | sfdisk -q "+disk)
			cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v: %s", err, out)
			}
			im, err := inspect.Open(disk)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			f := Of(im)
			var where []string
			for _, v := range f.Volumes {
				where = append(where, v.Where)
			}
			if strings.Join(where, "; ") != c.where || f.LogicalVolumes != c.lvsCounts ||
				c.problem == "" && f.Err() != nil || c.problem != "" && (f.Err() == nil || !strings.Contains(f.Err().Error(), c.problem)) {
				t.Errorf("volumes %q, %d LVs, problems %v; want %q and %q", where, f.LogicalVolumes, f.Err(), c.where, c.problem)
			}
		})
	}
}
