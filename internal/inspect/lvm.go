package inspect

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// LogicalVolume is an LVM2 logical volume of a VG whose PVs are partitions of the image
// (internal/lvm reads them as LVM does). Its filesystem is probed and opened as a partition's
// is, so that fstab lines and root= naming it (/dev/mapper/VG-LV, /dev/VG/LV, UUID=, LABEL=)
// mount it and the root may be found on it.
type LogicalVolume struct {
	VG, Name string
	// Partition stands for the LV wherever the image names a filesystem by its partition
	// (Mounts, RootPartition, Filesystems, Unread): its Number, Start and Table are those of
	// the PV partition that holds the LV's first extent, its Size, Kind, FSUUID and FSLabel the
	// LV's own. It is in no partition table, and its bytes are not at Start: they are read
	// through Reader. PartitionName names it "partition N LV VG/LV".
	Partition *partition.Partition
	// PVs are the partitions of the LV's VG.
	PVs []*partition.Partition
	// Reader reads the LV's bytes (Size of them); nil when they cannot all be read.
	Reader io.ReaderAt
	Size   int64
	// Err says why the LV is not read (a thin or RAID segment, a PV not in the image); its
	// entry in Unread says so too.
	Err error
}

// FullName is "VG/LV".
func (lv *LogicalVolume) FullName() string { return lv.VG + "/" + lv.Name }

// LogicalVolumes lists the image's LVM logical volumes, readable or not (hidden ones, which
// are parts of another LV, are not listed: their bytes are that LV's).
func (img *Image) LogicalVolumes() []*LogicalVolume { return img.lvs }

// lvOf is the LV that p stands for; nil when p is a partition of the table.
func (img *Image) lvOf(p *partition.Partition) *LogicalVolume {
	return img.lvByPart[p]
}

// lvName is "VG/LV" when p stands for an LV, else "".
func (img *Image) lvName(p *partition.Partition) string {
	if lv := img.lvOf(p); lv != nil {
		return lv.FullName()
	}
	return ""
}

// allPartitions are the table's partitions, then the LVs' stand-in partitions.
func (img *Image) allPartitions() []*partition.Partition {
	if img.Table == nil {
		return nil
	}
	if len(img.lvs) == 0 {
		return img.Table.Partitions
	}
	out := append([]*partition.Partition(nil), img.Table.Partitions...)
	for _, lv := range img.lvs {
		out = append(out, lv.Partition)
	}
	return out
}

// lvNames names the LVs' stand-in partitions for PartitionName, for as long as they live.
var lvNames sync.Map // weak.Pointer[partition.Partition] => string

func nameLVPartition(p *partition.Partition, name string) {
	key := weak.Make(p)
	lvNames.Store(key, name)
	runtime.AddCleanup(p, func(k weak.Pointer[partition.Partition]) { lvNames.Delete(k) }, key)
}

func isLVPartition(p *partition.Partition) bool {
	_, ok := lvNames.Load(weak.Make(p))
	return ok
}

// PartitionName names p in messages and file names: "partition 3", or "partition 3 LV
// rhel/root" for an LVM logical volume's stand-in partition (see LogicalVolume; "the whole
// disk LV rhel/root" for one on a PV without a partition table).
func PartitionName(p *partition.Partition) string {
	if n, ok := lvNames.Load(weak.Make(p)); ok {
		return n.(string)
	}
	return fmt.Sprintf("partition %d", p.Number)
}

// hostName names a PV's partition in the names of its LVs: "partition 3", or "the whole disk"
// for a PV without a partition table.
func hostName(p *partition.Partition) string {
	if p.Number == 0 && p.Table == "none" {
		return "the whole disk"
	}
	return PartitionName(p)
}

// dmName is the device-mapper name LVM gives an LV: VG and LV joined by "-", each "-" in
// either doubled (lib/activate/dev_manager.c dm_build_dm_name, lvm2 2.03), so that
// /dev/mapper/VG-LV names it; udev links /dev/VG/LV to it as well.
func dmName(vg, lv string) string {
	return strings.ReplaceAll(vg, "-", "--") + "-" + strings.ReplaceAll(lv, "-", "--")
}

// matches reports whether an fstab or root= device spec names the LV: its filesystem's UUID=
// or LABEL= (and their /dev/disk/by-* links), /dev/mapper/VG-LV, /dev/VG/LV or
// /dev/disk/by-id/dm-name-VG-LV. PARTUUID=, PARTLABEL= and /dev/sdXN name partitions, never
// an LV.
func (lv *LogicalVolume) matches(spec string) bool {
	p := lv.Partition
	eq := strings.EqualFold
	if key, val, ok := strings.Cut(spec, "="); ok && !strings.HasPrefix(spec, "/") {
		val = strings.Trim(val, `"`)
		switch key {
		case "UUID":
			return p.FSUUID != "" && eq(val, p.FSUUID)
		case "LABEL":
			return p.FSLabel != "" && val == p.FSLabel
		}
		return false
	}
	dm := dmName(lv.VG, lv.Name)
	switch {
	case strings.HasPrefix(spec, "/dev/disk/by-uuid/"):
		return p.FSUUID != "" && eq(strings.TrimPrefix(spec, "/dev/disk/by-uuid/"), p.FSUUID)
	case strings.HasPrefix(spec, "/dev/disk/by-label/"):
		return p.FSLabel != "" && strings.TrimPrefix(spec, "/dev/disk/by-label/") == p.FSLabel
	}
	return spec == "/dev/mapper/"+dm || spec == "/dev/"+lv.VG+"/"+lv.Name || spec == "/dev/disk/by-id/dm-name-"+dm
}

// readLVM reads the LVM2 PV partitions pvs, assembles their VGs (a VG may span several
// partitions) and gives each visible LV a stand-in partition: an LV whose bytes all read is
// probed and its filesystem opened as a partition's is; one that holds swap, LUKS, BitLocker
// or an unknown format is treated as such a partition is (a swap area's pages proven zero, or
// unread); one that does not read (a segment type that is no plain mapping, such as thin or
// raid; extents on a PV that is not in the image), or whose filesystem does not open, is
// unread with why. A PV that does not read, or that belongs to no VG read here, is unread
// itself.
func (img *Image) readLVM(d *image.Disk, parts []*partition.Partition) {
	var pvs []*lvm.PV
	partOf := map[*lvm.PV]*partition.Partition{}
	for _, p := range parts {
		pv, err := lvm.ReadPV(hostName(p), p.ReaderAt(d), p.Size)
		if err != nil {
			img.unread(p, fmt.Sprintf("%s, not read: %v", p.Kind, err))
			continue
		}
		pvs = append(pvs, pv)
		partOf[pv] = p
		if pv.Orphan { // pvcreate only: its data area is no LV's
			img.unusedExtents(d, p, "in no VG", []lvm.Range{{Start: pv.DataStart(), End: pv.Size}})
		}
	}
	vgs, left := lvm.Assemble(pvs)
	for _, l := range left {
		img.unread(partOf[l.PV], fmt.Sprintf("%s, not read: %v", partOf[l.PV].Kind, l.Err))
	}
	for _, vg := range vgs {
		var vgParts []*partition.Partition
		for _, pv := range vg.PVs {
			vgParts = append(vgParts, partOf[pv])
		}
		for _, l := range vg.LVs {
			if !l.Visible {
				continue // a part of another LV (a pool's data or metadata, a RAID image)
			}
			img.addLV(d, vgParts, partOf, l)
		}
		for _, pv := range vg.PVs {
			img.unusedExtents(d, partOf[pv], "of VG "+vg.Name, vg.Unallocated(pv))
		}
	}
}

// addLV gives LV l its stand-in partition and reads it.
func (img *Image) addLV(d *image.Disk, vgParts []*partition.Partition, partOf map[*lvm.PV]*partition.Partition, l *lvm.LV) {
	host := vgParts[0]
	if pv, _, _, err := l.Locate(0); err == nil {
		host = partOf[pv]
	}
	stand := &partition.Partition{Number: host.Number, Start: host.Start, Size: l.Size, Table: host.Table, Kind: partition.KindUnknown}
	name := hostName(host) + " LV " + l.FullName()
	nameLVPartition(stand, name)
	lv := &LogicalVolume{VG: l.VG.Name, Name: l.Name, Partition: stand, PVs: vgParts, Size: l.Size, Err: l.Err}
	img.lvs = append(img.lvs, lv)
	if img.lvByPart == nil {
		img.lvByPart = map[*partition.Partition]*LogicalVolume{}
	}
	img.lvByPart[stand] = lv
	what := "LVM logical volume " + l.FullName()
	if l.Err != nil {
		img.unread(stand, fmt.Sprintf("%s: not read: %v", what, l.Err))
		return
	}
	lv.Reader = l
	probe := &partition.Partition{Number: host.Number, Size: l.Size}
	if err := partition.Probe(d.Name+" "+name, l, probe); err != nil {
		img.unread(stand, fmt.Sprintf("%s: %v", what, err))
		return
	}
	stand.Kind, stand.FSUUID, stand.FSLabel = probe.Kind, probe.FSUUID, probe.FSLabel
	v, err := openVolumeOn(fmt.Sprintf("%s %s (%s)", d.Name, name, stand.Kind), l, stand)
	switch {
	case err != nil:
		// unlike a partition's, whose damage fails the image, an LV whose filesystem does not
		// open is unread with why: the rest of the image is still judged, and every rule
		// that needed this LV's files errors on it
		img.unread(stand, fmt.Sprintf("%s: its %s filesystem could not be read: %v", what, stand.Kind, err))
	case v != nil:
		img.volumes[stand] = v
	case stand.Kind == partition.KindBitLocker || stand.Kind == partition.KindLUKS:
		img.unread(stand, fmt.Sprintf("%s: encrypted (%s): its files cannot be read offline", what, stand.Kind))
	case stand.Kind.IsFilesystem() || stand.Kind == partition.KindLVM:
		img.unread(stand, fmt.Sprintf("%s: %s: identified, but its files are not read by this checker", what, stand.Kind))
	default:
		if reason := lvUnreadBytes(d, l, partOf, stand); reason != "" {
			img.unread(stand, what+" "+reason)
		}
	}
}

// unusedExtents lists PV partition p as unread when a byte of its data area that no LV maps
// (free), ranges of PV offsets, is not a zero: a removed LV's files may still be there, and no
// filesystem reader sees them. Zeros are proven as a partition's are (unread.go firstNonZero).
func (img *Image) unusedExtents(d *image.Disk, p *partition.Partition, vg string, free []lvm.Range) {
	var total int64
	for _, r := range free {
		total += r.End - r.Start
	}
	for _, r := range free {
		at, err := firstNonZero(d, &partition.Partition{Number: p.Number, Start: p.Start + r.Start, Size: r.End - r.Start}, 0)
		switch {
		case err != nil:
			img.unread(p, fmt.Sprintf("%s %s: its %d bytes that no logical volume uses could not be read to prove them zeros: %v", p.Kind, vg, total, err))
			return
		case at >= 0:
			img.unread(p, fmt.Sprintf("%s %s: its %d bytes that no logical volume uses hold data (at offset %d of the PV): they are not searched", p.Kind, vg, total, r.Start+at))
			return
		}
	}
}

// unread lists p as unread, with a note.
func (img *Image) unread(p *partition.Partition, reason string) {
	img.Notes = append(img.Notes, PartitionName(p)+": "+reason)
	img.Unread = append(img.Unread, UnreadPartition{p, reason})
}

// lvUnreadBytes is unreadBytes (unread.go) for an LV holding no filesystem this checker reads:
// unknown content is unread whole; zeros (KindEmpty), or a swap area's pages after its header,
// are unread unless every byte is a zero, proven where the container proves it (its holes,
// through the LV's mapping onto the disk) and read elsewhere.
func lvUnreadBytes(d *image.Disk, l *lvm.LV, partOf map[*lvm.PV]*partition.Partition, p *partition.Partition) string {
	var from int64
	switch p.Kind {
	case partition.KindEmpty:
	case partition.KindSwap:
		from = lvSwapHeaderSize(l)
	default:
		return fmt.Sprintf("holds no filesystem this checker reads (%s): its %d bytes are not searched", p.Kind, l.Size)
	}
	at, err := lvFirstNonZero(d, l, partOf, from)
	switch {
	case err != nil:
		return fmt.Sprintf("holds no filesystem this checker reads, and its bytes could not be read to prove them zeros: %v", err)
	case at < 0:
		return ""
	case p.Kind == partition.KindSwap:
		return fmt.Sprintf("is a swap area holding data (at offset %d of its %d bytes): swapped-out pages are not searched", at, l.Size)
	}
	return fmt.Sprintf("holds no filesystem this checker reads and data at offset %d of its %d bytes: its bytes are not searched", at, l.Size)
}

// lvSwapHeaderSize is swapHeaderSize (unread.go) on an LV.
func lvSwapHeaderSize(l *lvm.LV) int64 {
	sig := make([]byte, 10)
	for _, ps := range swapPageSizes {
		if ps > l.Size {
			break
		}
		if n, _ := l.ReadAt(sig, ps-10); n == len(sig) && (string(sig) == "SWAPSPACE2" || string(sig) == "SWAP-SPACE") {
			return ps
		}
	}
	return 0
}

// lvFirstNonZero is the offset in l, at or after from, of its first byte that is not zero; -1
// when every byte is a zero. Each contiguous piece of the LV on a PV is skipped where the disk
// proves it holds no data (Disk.DataAfter), and read elsewhere.
func lvFirstNonZero(d *image.Disk, l *lvm.LV, partOf map[*lvm.PV]*partition.Partition, from int64) (int64, error) {
	buf := make([]byte, zeroChunk)
	zeros := make([]byte, zeroChunk)
	for off := from; off < l.Size; {
		pv, pvoff, run, err := l.Locate(off)
		if err != nil {
			return 0, err
		}
		disk := partOf[pv].Start + pvoff
		if data := d.DataAfter(disk); data > disk {
			off += min(run, data-disk)
			continue
		}
		n := int(min(int64(len(buf)), run))
		got, err := l.ReadAt(buf[:n], off)
		if got < n {
			return 0, fmt.Errorf("%s: LV %s offset %#x: %v", d.Name, l.FullName(), off+int64(got), err)
		}
		if !bytes.Equal(buf[:n], zeros[:n]) {
			for i, c := range buf[:n] {
				if c != 0 {
					return off + int64(i), nil
				}
			}
		}
		off += int64(n)
	}
	return -1, nil
}
