package partition_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func readTable(t *testing.T, p string) *partition.Table {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tbl, err := partition.Read(p, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestFixtureTables(t *testing.T) {
	clean := readTable(t, testfixture.Path(t, "clean.raw"))
	want := []partition.Kind{partition.KindBIOSBoot, partition.KindVFAT, partition.KindExt2, partition.KindXFS}
	if clean.Scheme != "gpt" || len(clean.Partitions) != len(want) {
		t.Fatalf("clean: %s with %d partitions", clean.Scheme, len(clean.Partitions))
	}
	for i, p := range clean.Partitions {
		if p.Kind != want[i] {
			t.Errorf("clean partition %d is %s, want %s", p.Number, p.Kind, want[i])
		}
	}
	if p := clean.Partitions[3]; p.FSUUID != "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a" || p.FSLabel != "root" || p.Name != "root" || p.Start != 50<<20 {
		t.Errorf("root partition %+v", p)
	}
	if p := clean.Partitions[1]; p.FSUUID != "1A2B-3C4D" || p.FSLabel != "ESP" {
		t.Errorf("ESP %+v", p)
	}
	dirty := readTable(t, testfixture.Path(t, "dirty.raw"))
	wantD := []partition.Kind{partition.KindExt4, partition.KindSwap, partition.KindLVM, partition.KindExt4}
	if dirty.Scheme != "mbr" || len(dirty.Partitions) != len(wantD) {
		t.Fatalf("dirty: %s with %d partitions", dirty.Scheme, len(dirty.Partitions))
	}
	for i, p := range dirty.Partitions {
		if p.Kind != wantD[i] {
			t.Errorf("dirty partition %d is %s, want %s", p.Number, p.Kind, wantD[i])
		}
	}
	if dirty.Partitions[1].FSUUID != "3f2e1d0c-9b8a-4776-8554-433221100fed" {
		t.Errorf("swap UUID %s", dirty.Partitions[1].FSUUID)
	}
}

// sfdiskDisk is a 64 MiB disk image whose partition table sfdisk wrote from script.
func sfdiskDisk(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.raw")
	os.WriteFile(p, nil, 0o644)
	os.Truncate(p, 64<<20)
	cmd := exec.Command("sfdisk", "-q", p)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, b)
	}
	return p
}

func TestLogicalPartitions(t *testing.T) {
	p := sfdiskDisk(t, "label: dos\nstart=1MiB, size=8MiB, type=83\nstart=9MiB, type=5\nstart=10MiB, size=8MiB, type=83\nstart=19MiB, size=8MiB, type=82\n")
	tbl := readTable(t, p)
	var nums []int
	for _, q := range tbl.Partitions {
		nums = append(nums, q.Number)
	}
	if len(nums) != 3 || nums[0] != 1 || nums[1] != 5 || nums[2] != 6 {
		t.Fatalf("partitions %v, want [1 5 6]", nums)
	}
	if tbl.Partitions[2].TypeID != "0x82" || tbl.Partitions[1].Start != 10<<20 {
		t.Errorf("logical partitions %+v %+v", tbl.Partitions[1], tbl.Partitions[2])
	}
}

func TestWholeDiskFilesystem(t *testing.T) {
	img := testfixture.Filesystem(t, "ext4", t.TempDir(), "8M")
	tbl := readTable(t, img)
	if tbl.Scheme != "none" || len(tbl.Partitions) != 1 || tbl.Partitions[0].Kind != partition.KindExt4 {
		t.Fatalf("%+v", tbl)
	}
}

func TestCorruptTables(t *testing.T) {
	raw, err := os.ReadFile(testfixture.Path(t, "clean.raw"))
	if err != nil {
		t.Fatal(err)
	}
	head := append([]byte(nil), raw[:34*512]...)
	// GPT claims more entries than fit
	head[512+80], head[512+81] = 0xff, 0xff
	_, err = partition.Read("bad.raw", bytes.NewReader(head), int64(len(raw)))
	if err == nil || !strings.Contains(err.Error(), "bad.raw") || !strings.Contains(err.Error(), "offset") {
		t.Errorf("GPT with 65535 entries: %v", err)
	}
}

// A BIOS boot partition holds GRUB's core.img and no files, unless a filesystem was put there
// (outside review R3, case 72): then it is probed and read as that filesystem; one that holds
// boot code stays a BIOS boot partition.
func TestBIOSBootPartitionHoldingAFilesystem(t *testing.T) {
	for _, c := range []struct {
		name string
		fill func(t *testing.T) []byte
		want partition.Kind
	}{
		{"an ext2 filesystem", func(t *testing.T) []byte {
			b, err := os.ReadFile(testfixture.Filesystem(t, "ext2", t.TempDir(), "1M"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, partition.KindExt2},
		{"boot code", func(*testing.T) []byte {
			return bytes.Repeat([]byte{0x52, 0xe8, 0x28, 0x01, 0x74, 0x08, 0x56, 0xbe}, 4096)
		}, partition.KindBIOSBoot},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bios.raw")
			os.WriteFile(p, nil, 0o644)
			os.Truncate(p, 16<<20)
			cmd := exec.Command("sfdisk", "-q", p)
			cmd.Stdin = strings.NewReader("label: gpt\nstart=1MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649\nstart=2MiB, size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n")
			cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v\n%s", err, b)
			}
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(c.fill(t), 1<<20); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if got := readTable(t, p).Partitions[0].Kind; got != c.want {
				t.Errorf("partition 1 is %s, want %s", got, c.want)
			}
		})
	}
}

// An MBR entry is unused only when it has no sectors: Linux (block/partitions/msdos.c) makes a
// partition of an entry of type 0x00 that has a start and a size, primary or logical, so a
// filesystem there is mounted and must be read (red-team finding: the type byte alone hid one).
func TestTypeZeroEntryWithSectorsIsAPartition(t *testing.T) {
	p := sfdiskDisk(t, "label: dos\nstart=1MiB, size=8MiB, type=83\nstart=9MiB, size=8MiB, type=83\nstart=17MiB, type=5\nstart=18MiB, size=8MiB, type=83\n")
	fs, err := os.ReadFile(testfixture.Filesystem(t, "ext4", t.TempDir(), "8M"))
	if err != nil {
		t.Fatal(err)
	}
	disk, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{9 << 20, 18 << 20} {
		if _, err := disk.WriteAt(fs, at); err != nil {
			t.Fatal(err)
		}
	}
	// the second primary entry's type byte, and the first logical's (the EBR at 17 MiB)
	for _, at := range []int64{446 + 16 + 4, 17<<20 + 446 + 4} {
		if _, err := disk.WriteAt([]byte{0}, at); err != nil {
			t.Fatal(err)
		}
	}
	disk.Close()
	tbl := readTable(t, p)
	got := map[int]partition.Kind{}
	for _, q := range tbl.Partitions {
		got[q.Number] = q.Kind
	}
	if got[2] != partition.KindExt4 || got[5] != partition.KindExt4 {
		t.Fatalf("partitions %v: the type-0x00 entries 2 and 5 (with sectors) are not read as ext4", got)
	}
}

// The logical partitions Linux makes of an extended partition (block/partitions/msdos.c,
// parse_extended): every data entry of each extended boot record, the second and (when it fits
// inside the record's extended entry and the whole extended partition) the third and fourth
// too, and the link to the next record in whichever slot holds the first extended entry; a
// fourth entry that does not fit is garbage to Linux and is not read.
func TestExtendedBootRecordsAreReadAsLinuxReadsThem(t *testing.T) {
	const disk = 131072 // sectors: 64 MiB
	b := make([]byte, disk*512)
	entry := func(rec int64, slot int, typ byte, start, count uint32) {
		e := b[rec*512+446+int64(slot)*16:]
		e[4] = typ
		binary.LittleEndian.PutUint32(e[8:], start)
		binary.LittleEndian.PutUint32(e[12:], count)
		b[rec*512+510], b[rec*512+511] = 0x55, 0xAA
	}
	entry(0, 0, 0x05, 2048, 120000) // the extended partition
	entry(2048, 0, 0x83, 2048, 16384)
	entry(2048, 1, 0x83, 20480, 100000) // a data entry in the second slot (never bounded by Linux)
	entry(2048, 2, 0x83, 38912, 16384)  // in the third, inside the record's extent
	entry(2048, 3, 0x05, 60000, 20000)  // the link, in the fourth slot
	entry(62048, 0, 0x83, 2048, 16384)
	entry(62048, 2, 0x83, 10000, 16384)   // past the record's extent: garbage
	entry(62048, 3, 0x83, 100000, 100000) // and this
	fs, err := os.ReadFile(testfixture.Filesystem(t, "ext4", t.TempDir(), "8M"))
	if err != nil {
		t.Fatal(err)
	}
	copy(b[40960*512:], fs)
	tbl, err := partition.Read("ebr.raw", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]int64{}
	for _, p := range tbl.Partitions {
		got[p.Number] = p.Start / 512
	}
	want := map[int]int64{5: 4096, 6: 22528, 7: 40960, 8: 64096}
	if len(got) != len(want) {
		t.Fatalf("partitions (number: start sector) %v, want %v", got, want)
	}
	for n, s := range want {
		if got[n] != s {
			t.Errorf("partition %d starts at sector %d, want %d (all: %v)", n, got[n], s, got)
		}
	}
	for _, p := range tbl.Partitions {
		if p.Number == 7 && p.Kind != partition.KindExt4 {
			t.Errorf("partition 7 (the third entry) is %s, want ext4", p.Kind)
		}
	}
}

// A partition that carries two filesystems' superblocks (red-team finding: a small, valid ext2
// in the boot-code sectors of an NTFS volume, which ntfs-3g mounts while this reader read the
// empty ext2) is ambiguous, naming both: libblkid calls it ambivalent and names neither. One
// filesystem's own bytes never pass for a second one.
func TestTwoSuperblocksAreAmbiguous(t *testing.T) {
	ext2, err := os.ReadFile(testfixture.Filesystem(t, "ext2", t.TempDir(), "1M"))
	if err != nil {
		t.Fatal(err)
	}
	probe := func(b []byte) partition.Partition {
		p := partition.Partition{Number: 1, Start: 0, Size: int64(len(b))}
		if err := partition.Probe("p.raw", bytes.NewReader(b), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	poly := append([]byte(nil), ext2...)
	copy(poly, "\xeb\x52\x90NTFS    ")
	poly[510], poly[511] = 0x55, 0xaa
	if p := probe(poly); p.Kind != partition.KindAmbiguous || fmt.Sprint(p.Signatures) != "[ext2 ntfs]" || p.FSUUID != "" {
		t.Errorf("ext2 with an NTFS boot sector: %s %v (uuid %q)", p.Kind, p.Signatures, p.FSUUID)
	}
	for _, typ := range []string{"ext2", "ext4", "xfs", "ntfs"} {
		b, err := os.ReadFile(testfixture.Filesystem(t, typ, t.TempDir(), "40M"))
		if err != nil {
			t.Fatal(err)
		}
		if p := probe(b); p.Kind == partition.KindAmbiguous || len(p.Signatures) != 0 {
			t.Errorf("a plain %s: %s %v", typ, p.Kind, p.Signatures)
		}
	}
	// an ext superblock magic whose geometry is not one (a zero block count) is not a signature
	bad := append([]byte(nil), poly...)
	binary.LittleEndian.PutUint32(bad[1024+4:], 0)
	if p := probe(bad); p.Kind == partition.KindAmbiguous {
		t.Errorf("an ext magic without a block count taken for a second superblock: %v", p.Signatures)
	}
}

// Sector 0 that is both a FAT boot sector and a partition table Linux reads (boot indicators 0
// or 0x80, an entry with sectors) is refused, naming why: Linux makes partitions of the table
// while the whole disk also mounts as FAT (red-team finding: the table was ignored and the check
// said only that no root filesystem was found). A whole-disk FAT whose entry bytes are zeros
// (mkfs.fat's) or not a table's is read as the FAT it is.
func TestFATBootSectorThatIsAlsoAPartitionTable(t *testing.T) {
	mkfs, err := exec.LookPath("mkfs.vfat")
	if err != nil {
		if mkfs, err = exec.LookPath("/usr/sbin/mkfs.vfat"); err != nil {
			t.Skip("mkfs.vfat is not installed")
		}
	}
	p := filepath.Join(t.TempDir(), "fat.raw")
	if b, err := exec.Command(mkfs, "-C", p, "32768").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.vfat: %v\n%s", err, b)
	}
	fat, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	read := func(b []byte) (*partition.Table, error) {
		return partition.Read("fat.raw", bytes.NewReader(b), int64(len(b)))
	}
	if tbl, err := read(fat); err != nil || tbl.Scheme != "none" || tbl.Partitions[0].Kind != partition.KindVFAT {
		t.Fatalf("mkfs.vfat's whole-disk FAT: %+v, %v", tbl, err)
	}
	both := append([]byte(nil), fat...)
	binary.LittleEndian.PutUint32(both[446+8:], 2048)
	binary.LittleEndian.PutUint32(both[446+12:], 8192)
	both[446+4] = 0x83
	if _, err := read(both); err == nil || !strings.Contains(err.Error(), "both a FAT or NTFS boot sector and a partition table") {
		t.Errorf("FAT boot sector with a partition entry: %v", err)
	}
	notTable := append([]byte(nil), both...)
	notTable[446+16] = 0x12 // a boot indicator Linux rejects: not a table
	if tbl, err := read(notTable); err != nil || tbl.Partitions[0].Kind != partition.KindVFAT {
		t.Errorf("FAT boot sector whose entries are no table: %+v, %v", tbl, err)
	}
}
