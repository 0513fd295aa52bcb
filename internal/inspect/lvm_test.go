package inspect_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	lvBootUUID = "4b7e2c1d-9a3f-4e5b-8c6d-1f2e3d4c5b6a"
	lvHomeUUID = "7c6b5a49-3827-4165-9f4e-3d2c1b0a9988"
	// the RHEL layout: /boot a partition of its own, the rest LVs of one VG
	lvFstab = "/dev/mapper/vg0-root / ext4 defaults 0 1\nUUID=" + lvBootUUID + " /boot ext4 defaults 0 2\n" +
		"LABEL=home /home ext4 defaults 0 2\n/dev/vg0/swap none swap defaults 0 0\n"
	plantedKey = "AWS_ACCESS_KEY_ID=AKIAZ4QK7W2N5XR3TY6P\npassword = Sup3rS3cretPassw0rd\n"
)

func run(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

func readFile(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lvSpec is an LV to make: its name, size in MiB, and its content (nil: zeros).
type lvSpec struct {
	name    string
	mib     int
	content []byte
}

// makePV lays out a PV of mib MiB holding VG vg0 with the LVs, each with its content written
// where LVM put its first extent. With root and LVM's tools, pvcreate, vgcreate and lvcreate
// make it on a loop device; without them, lvm.WritePV writes the layout LVM's own lvs accepts
// (internal/lvm's TestWritePVOracleLVMTools), the LVs one after another from extent 0.
func makePV(t *testing.T, mib int, lvs []lvSpec) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(file, make([]byte, mib<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && hasTools("losetup", "pvcreate", "lvcreate") {
		l := lvmtest.NewTools(t, file)
		l.Run("pvcreate", "-q", l.Dev)
		l.Run("vgcreate", "-q", "-s", "1M", "vg0", l.Dev)
		at := map[string]int64{}
		for _, lv := range lvs {
			l.Run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-L", fmt.Sprintf("%dM", lv.mib), "-n", lv.name, "vg0")
			at[lv.name] = l.LVStart("vg0/"+lv.name, 1<<20)
		}
		b := readFile(t, file)
		for _, lv := range lvs {
			copy(b[at[lv.name]:], lv.content)
		}
		return b
	}
	t.Log("LVM's tools cannot run here (root, losetup, lvm2): lvm.WritePV lays out the PV")
	b := make([]byte, mib<<20)
	var sections string
	ext := 0
	for _, lv := range lvs {
		sections += lvmtest.LinearLV(lv.name, "pv0", ext, lv.mib)
		copy(b[lvmtest.DataStart+ext<<20:], lv.content)
		ext += lv.mib
	}
	if err := lvm.WritePV(b, lvmtest.PVUUID, lvmtest.PEStart, lvmtest.VGText(sections, "")); err != nil {
		t.Fatal(err)
	}
	return b
}

func hasTools(names ...string) bool {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if _, err := exec.LookPath("/usr/sbin/" + n); err != nil {
				return false
			}
		}
	}
	return true
}

// ext4Of is an ext4 filesystem of mib MiB that mke2fs -d makes of files, with label and uuid.
func ext4Of(t *testing.T, files map[string]string, label, uuid string, mib int) []byte {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for p, c := range files {
		full := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "fs.img")
	run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-U", uuid, "-d", tree, img, fmt.Sprintf("%dM", mib))
	return readFile(t, img)
}

// swapOf is what mkswap writes on a file of mib MiB: a header page, zeros after it.
func swapOf(t *testing.T, mib int) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "swap.img")
	if err := os.WriteFile(f, make([]byte, mib<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mkswap", "-q", f)
	return readFile(t, f)
}

// lvmDisk is an MBR disk of a /boot partition (8 MiB of ext4) and an LVM2 PV partition
// (partition 2) holding pv, written with sfdisk and dd.
func lvmDisk(t *testing.T, pv []byte) string {
	t.Helper()
	dir := t.TempDir()
	boot := ext4Of(t, map[string]string{"grub2/grub.cfg": "set timeout=1\n", "loader/entries/x.conf": "title x\n"}, "boot", lvBootUUID, 8)
	bootF, pvF, disk := filepath.Join(dir, "boot.img"), filepath.Join(dir, "pv.img"), filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(bootF, boot, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pvF, pv, 0o644); err != nil {
		t.Fatal(err)
	}
	sectors := len(pv) / 512
	run(t, "truncate", "-s", fmt.Sprintf("%d", (9<<20)+len(pv)), disk)
	run(t, "sh", "-c", fmt.Sprintf("printf 'label: dos\\nstart=2048, size=16384, type=83\\nstart=18432, size=%d, type=8e\\n' | sfdisk -q %s", sectors, disk))
	run(t, "dd", "if="+bootF, "of="+disk, "bs=1M", "seek=1", "conv=notrunc", "status=none")
	// sparse: the zeros of the PV are holes of the raw file, which Disk.DataAfter proves
	run(t, "dd", "if="+pvF, "of="+disk, "bs=4k", "seek=2304", "conv=notrunc,sparse", "status=none")
	return disk
}

// rootLV is the compliant tree (mke2fs -d, 64 MiB) with the RHEL fstab and changes.
func rootLV(t *testing.T, changes testfixture.Change) []byte {
	t.Helper()
	return readFile(t, testfixture.Variant(t, testfixture.With(testfixture.Change{"/etc/fstab": lvFstab}, changes)))
}

func open(t *testing.T, disk string) *inspect.Image {
	t.Helper()
	img, err := inspect.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// The RHEL layout: /boot a partition, the PV partition 2 holding VG vg0 with LVs root, home
// and swap. The root is found on vg0/root, which fstab mounts as /dev/mapper/vg0-root; /home
// (LABEL=home) is the home LV; /boot (UUID=) partition 1. Nothing is left unread: every LV
// reads, and the swap LV holds only mkswap's header.
func TestRootOnLVM(t *testing.T) {
	home := ext4Of(t, map[string]string{"alice/notes.txt": "hello from the home LV\n"}, "home", lvHomeUUID, 8)
	img := open(t, lvmDisk(t, makePV(t, 84, []lvSpec{{"root", 64, rootLV(t, nil)}, {"home", 8, home}, {"swap", 4, swapOf(t, 4)}})))
	if img.RootPartition == nil || inspect.PartitionName(img.RootPartition) != "partition 2 LV vg0/root" || img.RootPartition.Kind != partition.KindExt4 {
		t.Fatalf("root %v (%v), notes %q", img.RootPartition, img.RootErr, img.Notes)
	}
	if len(img.Unread) != 0 {
		t.Errorf("unread %+v", img.Unread)
	}
	var mounts []string
	for _, m := range img.Mounts {
		mounts = append(mounts, m.Path+"="+inspect.PartitionName(m.Partition))
	}
	if strings.Join(mounts, " ") != "/boot=partition 1 /home=partition 2 LV vg0/home" {
		t.Errorf("mounts %q", mounts)
	}
	if b, err := img.Root.ReadFile("home/alice/notes.txt", 1<<10); err != nil || string(b) != "hello from the home LV\n" {
		t.Errorf("/home/alice/notes.txt: %q, %v", b, err)
	}
	if b, err := img.ReadFile("/etc/fstab"); err != nil || string(b) != lvFstab {
		t.Errorf("/etc/fstab: %q, %v", b, err)
	}
	var labels []string
	for _, f := range img.Filesystems() {
		labels = append(labels, f.Label()+" "+f.Prefix+" "+f.LV)
	}
	want := "partition 2 LV vg0/root (ext4, the root filesystem) / vg0/root|partition 1 (ext4, mounted at /boot) partition 1:/ |partition 2 LV vg0/home (ext4, mounted at /home) partition 2 LV vg0/home:/ vg0/home"
	if strings.Join(labels, "|") != want {
		t.Errorf("filesystems %q", labels)
	}
	for spec, want := range map[string]string{
		"/dev/mapper/vg0-root":                     "partition 2 LV vg0/root",
		"/dev/vg0/home":                            "partition 2 LV vg0/home",
		"/dev/disk/by-id/dm-name-vg0-swap":         "partition 2 LV vg0/swap",
		"UUID=" + lvHomeUUID:                       "partition 2 LV vg0/home",
		"/dev/disk/by-label/home":                  "partition 2 LV vg0/home",
		"/dev/sda2":                                "partition 2",
		"/dev/mapper/vg0-nothing":                  "",
		"/dev/vg0-root":                            "",
		"PARTUUID=" + img.Table.Partitions[1].UUID: "partition 2",
	} {
		got := ""
		if p := img.Resolve(spec); p != nil {
			got = inspect.PartitionName(p)
		}
		if got != want {
			t.Errorf("Resolve(%q) = %q, want %q", spec, got, want)
		}
	}
}

// What an LV holds that is not read is listed unread, named by its LV: a swap LV holding
// pages, a LUKS LV, an LV of unknown content.
func TestLVMUnreadContent(t *testing.T) {
	swap := swapOf(t, 4)
	copy(swap[64<<10:], "a swapped-out page")
	luks := testfixture.LUKS2Header("0e4d1c2b-3a4f-4b5c-9d6e-7f8091a2b3c4", "data", 0)
	ext4Magic := make([]byte, 2048)
	copy(ext4Magic[1024+0x38:], "\x53\xef") // a superblock's magic and nothing else
	for _, c := range []struct {
		name string
		lv   lvSpec
		free []byte // written in the PV's last extent, which no LV uses
		want string
	}{
		{"swap holding pages", lvSpec{"swap", 4, swap}, nil, "partition 2 LV vg0/swap: LVM logical volume vg0/swap is a swap area holding data (at offset 65536 of its 4194304 bytes)"},
		{"LUKS", lvSpec{"crypt", 4, luks}, nil, "partition 2 LV vg0/crypt: LVM logical volume vg0/crypt: encrypted (luks)"},
		{"unknown bytes", lvSpec{"raw", 4, []byte("\x01some bytes of no known format")}, nil, "partition 2 LV vg0/raw: LVM logical volume vg0/raw holds no filesystem this checker reads (unknown): its 4194304 bytes are not searched"},
		{"zeros", lvSpec{"empty", 4, nil}, nil, ""},
		{"a filesystem that does not open", lvSpec{"data", 4, ext4Magic}, nil, "partition 2 LV vg0/data: LVM logical volume vg0/data: its ext2 filesystem could not be read: "},
		{"data in free extents", lvSpec{"empty", 4, nil}, []byte("a removed LV's file"),
			"partition 2: lvm2-pv of VG vg0: its 7340032 bytes that no logical volume uses hold data (at offset 78643200 of the PV): they are not searched"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pv := makePV(t, 76, []lvSpec{{"root", 64, rootLV(t, nil)}, c.lv})
			copy(pv[len(pv)-1<<20:], c.free)
			img := open(t, lvmDisk(t, pv))
			var got []string
			for _, u := range img.Unread {
				got = append(got, inspect.PartitionName(u.Partition)+": "+u.Reason)
			}
			if c.want == "" && len(got) != 0 || !strings.Contains(strings.Join(got, "; "), c.want) {
				t.Errorf("unread %q, want %q", got, c.want)
			}
		})
	}
}

// lvmText is VG vg0's metadata over pv0 (and pv1 when more is lvmtest.PV1) with the LVs.
func lvmText(lvs, more string) string { return lvmtest.VGText(lvs, more) }

// A VG over two partitions: the root LV's first extents on partition 2, the rest on partition
// 3; the root is read whole across both. With partition 3 missing the root LV is unread,
// named with the PV it lacks, and there is no root. A thin LV is unread, named.
func TestLVMAcrossPartitions(t *testing.T) {
	rootFS := rootLV(t, nil)
	// 64 MiB root: 40 extents on pv0 (from extent 0), 24 on pv1 (from extent 0)
	root := lvmtest.Segments("root", fmt.Sprintf(`segment1 {
start_extent = 0
extent_count = 40
type = "striped"
stripe_count = 1
stripes = ["pv0", 0]
}
segment2 {
start_extent = 40
extent_count = 24
type = "striped"
stripe_count = 1
stripes = ["pv1", 0]
}
`), 2)
	text := lvmText(root, lvmtest.PV1)
	pv := func(uuid string, data []byte) []byte {
		b := make([]byte, 48<<20)
		if err := lvm.WritePV(b, uuid, lvmtest.PEStart, text); err != nil {
			t.Fatal(err)
		}
		copy(b[lvmtest.DataStart:], data)
		return b
	}
	a, b := pv(lvmtest.PVUUID, rootFS[:40<<20]), pv(lvmtest.PV1UUID, rootFS[40<<20:])
	two := func(t *testing.T, second []byte, typ string) string {
		dir := t.TempDir()
		disk := filepath.Join(dir, "disk.raw")
		run(t, "truncate", "-s", fmt.Sprintf("%d", (1<<20)+2*(48<<20)), disk)
		run(t, "sh", "-c", fmt.Sprintf("printf 'label: dos\\nstart=2048, size=98304, type=8e\\nstart=100352, size=98304, type=%s\\n' | sfdisk -q %s", typ, disk))
		for i, part := range [][]byte{a, second} {
			f := filepath.Join(dir, fmt.Sprintf("p%d", i))
			if err := os.WriteFile(f, part, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "dd", "if="+f, "of="+disk, "bs=1M", fmt.Sprintf("seek=%d", 1+48*i), "conv=notrunc", "status=none")
		}
		return disk
	}
	t.Run("both PVs", func(t *testing.T) {
		img := open(t, two(t, b, "8e"))
		if img.RootPartition == nil || inspect.PartitionName(img.RootPartition) != "partition 1 LV vg0/root" || len(img.Unread) != 0 {
			t.Fatalf("root %v, unread %+v, notes %q", img.RootPartition, img.Unread, img.Notes)
		}
		lvs := img.LogicalVolumes()
		if len(lvs) != 1 || len(lvs[0].PVs) != 2 || lvs[0].PVs[1].Number != 2 {
			t.Errorf("LVs %+v", lvs)
		}
		// a file whose blocks lie in the second PV's extents reads: the whole tree walks
		var n int
		if err := img.Root.Walk("", func(string, os.DirEntry) error { n++; return nil }); err != nil || n < 10 {
			t.Errorf("walk: %d entries, %v", n, err)
		}
	})
	t.Run("second PV missing", func(t *testing.T) {
		img := open(t, two(t, make([]byte, 48<<20), "83"))
		var got []string
		for _, u := range img.Unread {
			got = append(got, inspect.PartitionName(u.Partition)+": "+u.Reason)
		}
		want := "partition 1 LV vg0/root: LVM logical volume vg0/root: not read: segment segment2 lies on pv1 (PV UUID " + lvmtest.PV1UUID + "), which is not among the PVs read: not read"
		if img.RootPartition != nil || !strings.Contains(strings.Join(got, "; "), want) {
			t.Errorf("root %v, unread %q", img.RootPartition, got)
		}
	})
	t.Run("thin LV", func(t *testing.T) {
		// thin1 in the thin pool "pool", whose data and metadata are the hidden LVs pool_tdata
		// and pool_tmeta, as lvcreate --thin makes them: thin1 and pool are unread; the
		// hidden ones are not listed (their bytes are the pool's)
		thin := strings.Replace(lvmtest.LinearLV("thin1", "pv0", 0, 2), `type = "striped"`, "type = \"thin\"\nthin_pool = \"pool\"\ntransaction_id = 0\ndevice_id = 1", 1)
		pool := strings.Replace(lvmtest.LinearLV("pool", "pv0", 0, 2), `type = "striped"`, "type = \"thin-pool\"\nmetadata = \"pool_tmeta\"\npool = \"pool_tdata\"\ntransaction_id = 0\nchunk_size = 128", 1)
		hidden := func(s string) string { return strings.Replace(s, `, "VISIBLE"]`, "]", 1) }
		lvs := thin + pool + hidden(lvmtest.LinearLV("pool_tdata", "pv0", 0, 2)) + hidden(lvmtest.LinearLV("pool_tmeta", "pv0", 2, 1))
		b := make([]byte, 8<<20)
		copy(b[lvmtest.DataStart:], "thin data chunks")
		if err := lvm.WritePV(b, lvmtest.PVUUID, lvmtest.PEStart, lvmText(lvs, "")); err != nil {
			t.Fatal(err)
		}
		img := open(t, testfixture.DiskWithData(t, nil, "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a", b, nil))
		var got []string
		for _, u := range img.Unread {
			got = append(got, inspect.PartitionName(u.Partition)+": "+u.Reason)
		}
		want := []string{"partition 2 LV vg0/thin1: LVM logical volume vg0/thin1: not read: segment segment1 is of type thin,",
			"partition 2 LV vg0/pool: LVM logical volume vg0/pool: not read: segment segment1 is of type thin-pool,"}
		if len(got) != 2 || !strings.HasPrefix(got[0], want[0]) || !strings.HasPrefix(got[1], want[1]) {
			t.Errorf("unread %q, want %q", got, want)
		}
	})
}

// The content rules read the root on an LV: a key planted in it is found by
// no-hardcoded-credentials, named by its path; planted in the home LV, likewise.
func TestLVMCredentialsFound(t *testing.T) {
	defer testfixture.UseInertVulnerabilityDB()()
	home := ext4Of(t, map[string]string{"alice/.aws/credentials": plantedKey}, "home", lvHomeUUID, 8)
	disk := lvmDisk(t, makePV(t, 84, []lvSpec{{"root", 64, rootLV(t, testfixture.Change{"/opt/app/deploy.env": plantedKey})}, {"home", 8, home}, {"swap", 4, swapOf(t, 4)}}))
	p, err := plan.New(plan.Choices{Profiles: []string{"azure-linux"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Check(disk, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Image.Root != "partition 2 (ext4)" && !strings.Contains(r.Image.Root, "partition 2") {
		t.Errorf("root %q", r.Image.Root)
	}
	for _, f := range r.Findings {
		if f.Rule != "no-hardcoded-credentials" {
			continue
		}
		var paths []string
		for _, e := range f.Evidence {
			paths = append(paths, e.Path)
		}
		all := strings.Join(paths, " ")
		if f.Status != rules.Fail || !strings.Contains(all, "/opt/app/deploy.env") || !strings.Contains(all, "/home/alice/.aws/credentials") {
			t.Errorf("%s: %s; evidence %q", f.Status, f.Message, paths)
		}
		// the content ledger names the LVs' filesystems, each walked
		var fss []string
		for _, l := range r.Content.Ledger.Filesystems {
			if l.Files > 0 {
				fss = append(fss, l.Name)
			}
		}
		if want := "partition 2 LV vg0/root (ext4, the root filesystem)|partition 1 (ext4, mounted at /boot)|partition 2 LV vg0/home (ext4, mounted at /home)"; strings.Join(fss, "|") != want {
			t.Errorf("ledger %q, want %q", fss, want)
		}
		return
	}
	t.Error("no no-hardcoded-credentials finding")
}

// A swap LV holding pages is content the pass does not see: the credential rule cannot pass,
// and says which LV.
func TestLVMSwapPagesUnseen(t *testing.T) {
	defer testfixture.UseInertVulnerabilityDB()()
	swap := swapOf(t, 4)
	copy(swap[8192:], plantedKey)
	disk := lvmDisk(t, makePV(t, 84, []lvSpec{{"root", 64, rootLV(t, nil)}, {"home", 8, ext4Of(t, nil, "home", lvHomeUUID, 8)}, {"swap", 4, swap}}))
	p, err := plan.New(plan.Choices{Profiles: []string{"azure-linux"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Check(disk, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Rule != "no-hardcoded-credentials" {
			continue
		}
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, e.Path+" "+e.Detail)
		}
		t.Logf("%s: %s; %q", f.Status, f.Message, ev)
		if f.Status == rules.Pass || !strings.Contains(f.Message+strings.Join(ev, " "), "vg0/swap") {
			t.Errorf("%s: %s; evidence %q", f.Status, f.Message, ev)
		}
		return
	}
	t.Error("no no-hardcoded-credentials finding")
}

// A PV in no VG (pvcreate only) has no LVs: its data area is proven zeros, else unread.
func TestLVMOrphanPV(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"zeros", nil, ""},
		{"data", []byte("left over"), "partition 2: lvm2-pv in no VG: its 7340032 bytes that no logical volume uses hold data (at offset 1048576 of the PV): they are not searched"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := make([]byte, 8<<20)
			if err := lvm.WritePV(b, lvmtest.PVUUID, lvmtest.PEStart, ""); err != nil {
				t.Fatal(err)
			}
			copy(b[lvmtest.DataStart:], c.data)
			img := open(t, testfixture.DiskWithData(t, nil, "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a", b, nil))
			var got []string
			for _, u := range img.Unread {
				got = append(got, inspect.PartitionName(u.Partition)+": "+u.Reason)
			}
			if c.want == "" && len(got) != 0 || !strings.Contains(strings.Join(got, "; "), c.want) || img.Root == nil {
				t.Errorf("unread %q, want %q (root %v)", got, c.want, img.RootPartition)
			}
		})
	}
}

// A PV that is the whole disk (no partition table), as a data disk often is: its root LV is
// found and named on the whole disk.
func TestLVMWholeDiskPV(t *testing.T) {
	root := rootLV(t, nil)
	b := make([]byte, 72<<20)
	if err := lvm.WritePV(b, lvmtest.PVUUID, lvmtest.PEStart, lvmText(lvmtest.LinearLV("root", "pv0", 0, 64), "")); err != nil {
		t.Fatal(err)
	}
	copy(b[lvmtest.DataStart:], root)
	disk := filepath.Join(t.TempDir(), "pv.raw")
	if err := os.WriteFile(disk, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img := open(t, disk)
	if img.RootPartition == nil || inspect.PartitionName(img.RootPartition) != "the whole disk LV vg0/root" || len(img.Unread) != 0 {
		t.Fatalf("root %v, unread %+v, notes %q", img.RootPartition, img.Unread, img.Notes)
	}
	if fs := img.Filesystems(); len(fs) != 1 || fs[0].Label() != "the whole disk LV vg0/root (ext4, the root filesystem)" {
		t.Errorf("filesystems %+v", fs)
	}
}
