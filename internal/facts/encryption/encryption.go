// Package encryption finds the encrypted volumes of a disk image as cryptsetup, blkid and the
// booting system find them: a LUKS1 or LUKS2 header at the start of a partition (or of the
// whole disk), a LUKS2 secondary header at one of the offsets cryptsetup looks at when the
// primary is damaged or wiped, a BitLocker volume's boot sector, the volumes /etc/crypttab opens
// at boot, and the LUKS volumes the kernel command line asks systemd-cryptsetup-generator or
// dracut to open (rd.luks.uuid=, rd.luks.name=, luks.uuid=, luks.name=). It reads only the
// header sectors of each partition, and of each logical volume of an LVM2 physical volume
// (see lvm.go and internal/lvm), LUKS containers in files that crypttab or a unit opens and
// the units that open dm-crypt volumes (files.go), and fscrypt-encrypted ext4 directories
// (fscrypt.go). It also finds eCryptfs-encrypted home and private directories (ecryptfs.go).
package encryption

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/boot"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// The kinds of encrypted volume.
const (
	LUKS1     = "LUKS1"
	LUKS2     = "LUKS2"
	LUKS      = "LUKS" // a LUKS magic with a version cryptsetup does not know
	BitLocker = "BitLocker"
)

// bitLockerToGoGUID is the GUID a BitLocker To Go boot sector carries at byte 424.
var bitLockerToGoGUID = []byte{0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01}

// HeaderSize is how many bytes of a header sector are read.
const HeaderSize = 512

// SecondaryOffsets are where cryptsetup looks for a LUKS2 secondary header (the primary's
// header size picks one; lib/luks2/luks2_disk_metadata.c hdr2_offsets).
var SecondaryOffsets = []int64{0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000}

// Crypttab is the file systemd-cryptsetup-generator and Debian's cryptdisks read.
const Crypttab = "/etc/crypttab"

// Header is what a header sector says.
type Header struct {
	Kind    string
	Version int    // LUKS version
	UUID    string // LUKS UUID
	Label   string // LUKS2 label
	Offset  int64  // where in the partition the header was found (a secondary's offset)
}

// ParseHeader reads one header sector found at off of a partition: a LUKS primary header
// ("LUKS\xba\xbe", big-endian version), a LUKS2 secondary header ("SKUL\xba\xbe", version 2,
// whose hdr_offset field is off), or a BitLocker boot sector ("-FVE-FS-" at byte 3). ok is
// false for anything else.
func ParseHeader(b []byte, off int64) (h Header, ok bool) {
	switch {
	case len(b) >= 11 && string(b[3:11]) == "-FVE-FS-" && off == 0:
		return Header{Kind: BitLocker}, true
	case len(b) >= 448 && string(b[:11]) == "\xeb\x58\x90MSWIN4.1" && off == 0 && bytes.Equal(b[424:440], bitLockerToGoGUID):
		// BitLocker To Go: a FAT "discovery volume" whose boot code area holds the BitLocker
		// GUID (4967D63B-2E29-4AD8-8399-F6A339E3D001, on disk in GUID byte order) and the FVE
		// metadata offset (libblkid/src/superblocks/bitlocker.c, util-linux@47afae0caaa2,
		// which also checks "-FVE-FS-" at that offset)
		return Header{Kind: BitLocker}, true
	case len(b) >= 8 && (string(b[:6]) == "LUKS\xba\xbe" && off == 0 || string(b[:6]) == "SKUL\xba\xbe"):
	default:
		return Header{}, false
	}
	h = Header{Version: int(binary.BigEndian.Uint16(b[6:8])), Offset: off}
	secondary := b[0] == 'S'
	if len(b) >= 208 {
		h.UUID = cstr(b[168:208])
	}
	switch h.Version {
	case 1:
		if secondary {
			return Header{}, false // LUKS1 has no secondary header
		}
		h.Kind = LUKS1
	case 2:
		h.Kind = LUKS2
		if len(b) >= 72 {
			h.Label = cstr(b[24:72])
		}
		if secondary && (len(b) < 264 || int64(binary.BigEndian.Uint64(b[256:264])) != off) {
			return Header{}, false // not a secondary header at its own offset: chance bytes
		}
	default:
		if secondary {
			return Header{}, false
		}
		h.Kind = LUKS
	}
	return h, true
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// Volume is an encrypted partition.
type Volume struct {
	Partition int    // 1-based; 0 for the whole disk
	LV        string // the LVM logical volume inside the partition (an LVM2 PV) that holds it
	File      string // the file of the root filesystem that holds it (files.go); Partition 0
	Where     string // e.g. "partition 2 at offset 0x100000"
	Header
}

// CrypttabEntry is one line of /etc/crypttab the generator acts on.
type CrypttabEntry struct {
	Line                           int
	Name, Device, KeyFile, Options string
	// Names is the partition or LVM logical volume of the image Device names, with its
	// kind ("partition 2 (luks)"); "" when it names none of them. Set by Of.
	Names string
}

// Tag says the device is named by a tag (UUID=, LABEL=, PARTUUID=, PARTLABEL=), which the
// generator turns into a /dev/disk/by-* path (src/shared/fstab-util.c fstab_node_to_udev_node).
func (e CrypttabEntry) Tag() bool {
	k, _, ok := strings.Cut(e.Device, "=")
	return ok && slices.Contains([]string{"UUID", "LABEL", "PARTUUID", "PARTLABEL"}, k)
}

// NoAuto says the volume is not opened at boot unattended (only on request).
func (e CrypttabEntry) NoAuto() bool {
	for _, o := range strings.Split(e.Options, ",") {
		if o == "noauto" {
			return true
		}
	}
	return false
}

// ParseCrypttab reads crypttab as systemd-cryptsetup-generator does: blank lines and lines
// starting with # are skipped, fields are separated by blanks, a line with fewer than two
// fields is ignored (the generator logs and skips it), and of a longer line the first four are
// used: the generator reads them with sscanf("%ms %ms %ms %ms"), which stops after four, so a
// fifth word (a trailing "# comment") does not keep the volume from being opened
// (src/cryptsetup/cryptsetup-generator.c add_crypttab_devices, systemd@008fd4f9d46c). Lines are returned with
// their numbers; a line longer than maxLine is an error naming it (its fields are unknown).
func ParseCrypttab(data []byte) ([]CrypttabEntry, error) {
	const maxLine = 4096
	var out []CrypttabEntry
	for i, l := range strings.Split(string(data), "\n") {
		if len(l) > maxLine {
			return out, fmt.Errorf("line %d: longer than %d bytes", i+1, maxLine)
		}
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		e := CrypttabEntry{Line: i + 1, Name: f[0], Device: f[1]}
		if len(f) > 2 {
			e.KeyFile = f[2]
		}
		if len(f) > 3 {
			e.Options = f[3]
		}
		out = append(out, e)
	}
	return out, nil
}

// CmdlineLUKS are the words of a kernel command line that make the initramfs or systemd open a
// LUKS volume at boot. The generator runs twice, in the initrd and in the booted system, and
// reads the line differently in each (systemd-cryptsetup-generator(8)): rd.luks.* words only in
// the initrd, luks.* words in both; rd.luks=/luks= turn it off there (the last of them read
// in that stage wins). A word counts when either stage acts on it.
func CmdlineLUKS(cmdline string) []string {
	words := strings.Fields(cmdline)
	var out []string
	for _, initrd := range []bool{true, false} {
		on := true
		var opens []string
		for _, w := range words {
			k, v, hasValue := strings.Cut(w, "=")
			if strings.HasPrefix(k, "rd.") {
				if !initrd {
					continue
				}
				k = strings.TrimPrefix(k, "rd.")
			}
			switch k {
			case "luks.uuid", "luks.name":
				if hasValue && v != "" {
					opens = append(opens, w)
				}
			case "luks":
				if !hasValue {
					on = true
				} else if b, ok := systemdBool(v); ok {
					on = b
				}
			}
		}
		if !on {
			continue
		}
		for _, w := range opens {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// systemdBool parses a boolean as systemd's parse_boolean does (src/basic/parse-util.c).
func systemdBool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}

// BootParam is a kernel command line word that opens a LUKS volume, and the entry passing it.
type BootParam struct {
	Where string
	Line  int
	Word  string
}

// Facts are an image's encrypted volumes.
type Facts struct {
	Volumes  []Volume
	Crypttab []CrypttabEntry // nil when there is no /etc/crypttab (or no Linux root)
	Boot     []BootParam
	// ECryptfs are the signs of eCryptfs-encrypted directories (see ecryptfs.go).
	ECryptfs []ECryptfsSign
	// UnitOpens are the commands of units started at boot that open dm-crypt volumes
	// (files.go).
	UnitOpens []UnitOpen
	// Fscrypt are the filesystems holding fscrypt-encrypted directories, EncryptFeature
	// every filesystem with the ext4 encrypt feature, FscryptSigns the fscrypt tool's files
	// (fscrypt.go).
	Fscrypt        []FscryptFS
	EncryptFeature []string
	FscryptSigns   []FscryptSign
	// NotPVs are the LVM partitions whose label LVM does not take (lvm.ErrNotPV): no volume of
	// them is activated; each says why.
	NotPVs []string
	// LogicalVolumes counts the LVM logical volumes whose header sectors were read.
	LogicalVolumes int
	Problems       problems.List
}

// Err joins the problems: what they name was not read.
func (f *Facts) Err() error { return f.Problems.Err() }

// Of returns the image's encryption facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/encryption", func() any { return read(img) }).(*Facts)
}

func read(img *inspect.Image) *Facts {
	f := &Facts{}
	if img.Table != nil {
		var pvs []*lvm.PV
		partOf := map[*lvm.PV]*partition.Partition{}
		for _, p := range img.Table.Partitions {
			where := fmt.Sprintf("partition %d", p.Number)
			if p.Number == 0 {
				where = "the whole disk"
			}
			v, ok, err := Probe(p.ReaderAt(img.Disk), p.Size)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Errorf("%s: %s: %w", img.Source, where, err))
				continue
			}
			if ok {
				f.Volumes = append(f.Volumes, Volume{Partition: p.Number, Where: fmt.Sprintf("%s, header at offset %#x", where, p.Start+v.Offset), Header: v})
			}
			if p.Kind != partition.KindLVM {
				continue
			}
			pv, err := lvm.ReadPV(where, p.ReaderAt(img.Disk), p.Size)
			if errors.Is(err, lvm.ErrNotPV) {
				// LVM takes no label here: no volume of it is activated, and the partition's own
				// header sectors were probed above
				f.NotPVs = append(f.NotPVs, fmt.Sprintf("%s: %v", where, err))
				continue
			}
			if err != nil {
				f.Problems = append(f.Problems, fmt.Errorf("%s: %s: %w", img.Source, where, err))
				continue
			}
			pvs = append(pvs, pv)
			partOf[pv] = p
		}
		// the PVs of one VG may be several partitions: a VG is read from all of them
		vgs, left := lvm.Assemble(pvs)
		for _, l := range left {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %s: %w", img.Source, l.PV.Name, l.Err))
		}
		for _, vg := range vgs {
			lvs, probs := probeVGs([]*lvm.VG{vg})
			for _, pr := range probs {
				f.Problems = append(f.Problems, fmt.Errorf("%s: %s: %w", img.Source, vg.Describe(), pr))
			}
			for _, lv := range lvs {
				f.LogicalVolumes++
				if lv.Header.Kind != "" {
					p := partOf[lv.PV]
					f.Volumes = append(f.Volumes, Volume{Partition: p.Number, LV: lv.Name,
						Where:  fmt.Sprintf("%s, LVM logical volume %s of VG %s, header at offset %#x", lv.PV.Name, lv.Name, lv.VG, p.Start+lv.At),
						Header: lv.Header})
				}
			}
		}
	}
	readFscrypt(img, f)
	if img.Root == nil {
		return f // a disk without a Linux root has no crypttab (the volumes above still count)
	}
	data, err := img.ReadFile(Crypttab)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", Crypttab, err))
	default:
		ents, err := ParseCrypttab(data)
		for i, e := range ents {
			if p := img.Resolve(e.Device); p != nil {
				ents[i].Names = fmt.Sprintf("%s (%s)", inspect.PartitionName(p), p.Kind)
			}
		}
		f.Crypttab = ents
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", Crypttab, err))
		}
	}
	readUnitOpens(img, f)
	readFileVolumes(img, f)
	readECryptfs(img, f)
	ch := boot.Of(img)
	if ch.Err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("boot chain (its command line may open LUKS volumes): %w", ch.Err))
	}
	booted, _ := ch.Booted()
	for _, e := range booted {
		for _, w := range CmdlineLUKS(e.Cmdline) {
			f.Boot = append(f.Boot, BootParam{Where: e.Path, Line: e.Line, Word: w})
		}
	}
	return f
}

// Probe reads a partition's header sectors: the first, and, when it is no header, each LUKS2
// secondary header offset inside the partition. A read error is returned with the offset.
func Probe(ra io.ReaderAt, size int64) (Header, bool, error) {
	buf := make([]byte, HeaderSize)
	for _, off := range append([]int64{0}, SecondaryOffsets...) {
		if off+8 > size {
			break
		}
		n := int64(HeaderSize)
		if off+n > size {
			n = size - off
		}
		got, err := ra.ReadAt(buf[:n], off)
		if int64(got) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, false, fmt.Errorf("offset %#x: reading %d bytes: %w", off, n, err)
		}
		if h, ok := ParseHeader(buf[:n], off); ok {
			return h, true, nil
		}
	}
	return Header{}, false, nil
}
