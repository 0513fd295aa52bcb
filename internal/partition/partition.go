// Package partition reads MBR and GPT partition tables and identifies what each partition
// holds by its on-disk signature (not by the type the table claims).
package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Kind is what a partition holds, detected from its content.
type Kind string

const (
	KindExt2  Kind = "ext2"
	KindExt3  Kind = "ext3"
	KindExt4  Kind = "ext4"
	KindXFS   Kind = "xfs"
	KindBtrfs Kind = "btrfs"
	KindVFAT  Kind = "vfat"
	KindNTFS  Kind = "ntfs"
	KindSwap  Kind = "swap"
	KindLVM   Kind = "lvm2-pv"
	KindLUKS  Kind = "luks"
	// KindBitLocker is a BitLocker-encrypted Windows volume.
	KindBitLocker Kind = "bitlocker"
	KindBIOSBoot  Kind = "bios-boot"
	KindEmpty     Kind = "empty"
	KindUnknown   Kind = "unknown"
	// KindAmbiguous carries the superblocks of more than one filesystem (Partition.Signatures):
	// libblkid calls such a device ambivalent and names none, and which one is mounted depends
	// on the type mount is given, so none is read as the partition's.
	KindAmbiguous Kind = "ambiguous"
)

// IsFilesystem reports whether k is a filesystem that holds files.
func (k Kind) IsFilesystem() bool {
	switch k {
	case KindExt2, KindExt3, KindExt4, KindXFS, KindBtrfs, KindVFAT, KindNTFS:
		return true
	}
	return false
}

// Partition is one entry of the table (or the whole disk when there is no table).
type Partition struct {
	Number   int    // 1-based as Linux names them (sda1); 0 for a whole-disk filesystem
	Start    int64  // byte offset on the disk
	Size     int64  // bytes
	Table    string // "gpt", "mbr" or "none"
	TypeID   string // GPT type GUID or MBR type as "0x83"
	UUID     string // GPT unique partition GUID or MBR "disksig-NN" (PARTUUID)
	Name     string // GPT partition name
	Kind     Kind
	FSUUID   string // filesystem UUID (for fstab UUID=)
	FSLabel  string
	Warnings []string
	// Signatures are the filesystems whose superblocks a KindAmbiguous partition carries.
	Signatures []Kind
}

// ReaderAt returns the partition's bytes. The reader also passes a Prefetch hint (see
// Section.Prefetch) on to the disk, at the disk's offsets.
func (p *Partition) ReaderAt(disk io.ReaderAt) io.ReaderAt {
	return &Section{byteio.Section{R: disk, Off: p.Start, N: p.Size}}
}

// Section is a partition's bytes on its disk.
type Section struct{ byteio.Section }

// Prefetch tells the disk under the section, when it can be told (a blob's reader, through a
// raw or fixed VHD image), that the bytes [off, off+n) of the partition will be read soon; the
// range is clipped to the partition. It reports whether the disk prefetches at all: false for a
// local file, so that a caller can stop computing hints nobody uses.
func (s *Section) Prefetch(off, n int64) bool {
	pf, ok := s.R.(interface{ Prefetch(off, n int64) bool })
	if !ok {
		return false
	}
	end := min(off+max(n, 0), s.N)
	off = max(off, 0)
	if off >= end {
		return pf.Prefetch(0, 0)
	}
	return pf.Prefetch(s.Off+off, end-off)
}

// Table is the disk's layout.
type Table struct {
	Scheme     string // gpt, mbr, none
	Partitions []*Partition
}

var (
	gptBIOSBoot = byteio.MustGUID("21686148-6449-6E6F-744E-656564454649")
	maxGPTParts = 1024
	maxLogical  = 128
)

const sector = 512

// Read reads the partition table of disk (size bytes) and probes every partition.
func Read(name string, disk io.ReaderAt, size int64) (*Table, error) {
	if size < sector {
		return nil, byteio.Corrupt(name, 0, "disk of %d bytes has no room for a partition table", size)
	}
	mbr, err := byteio.ReadAt(disk, name, 0, sector)
	if err != nil {
		return nil, err
	}
	t := &Table{Scheme: "none"}
	signed := mbr[510] == 0x55 && mbr[511] == 0xAA
	if signed && looksLikeFAT(mbr) && mbrEntriesValid(mbr) && !hasProtective(mbr) {
		return nil, byteio.Corrupt(name, 446, "sector 0 is both a FAT or NTFS boot sector and a partition table with partitions: "+
			"Linux reads the table (block/partitions/msdos.c: boot indicators 0 or 0x80) and the whole disk also mounts as that filesystem, "+
			"so which one holds the system's files is not known")
	}
	hasMBR := signed && !looksLikeFAT(mbr)
	if hasMBR && hasProtective(mbr) {
		t.Scheme = "gpt"
		if t.Partitions, err = readGPT(name, disk, size); err != nil {
			return nil, err
		}
	} else if hasMBR {
		t.Scheme = "mbr"
		if t.Partitions, err = readMBR(name, disk, size, mbr); err != nil {
			return nil, err
		}
	} else {
		t.Partitions = []*Partition{{Number: 0, Start: 0, Size: size, Table: "none"}}
	}
	for _, p := range t.Partitions {
		if p.Kind == KindBIOSBoot {
			// GRUB's core.img, and no files; unless a filesystem was put there, which is then
			// read as one (nothing in its type keeps a publisher from it)
			q := *p
			if err := Probe(name, disk, &q); err != nil {
				return nil, err
			}
			if q.Kind.IsFilesystem() {
				*p = q
			}
			continue
		}
		if err := Probe(name, disk, p); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func looksLikeFAT(b []byte) bool {
	return (b[0] == 0xEB || b[0] == 0xE9) && (bytes.Equal(b[54:59], []byte("FAT12")) ||
		bytes.Equal(b[54:59], []byte("FAT16")) || bytes.Equal(b[82:87], []byte("FAT32")) ||
		bytes.Equal(b[3:11], []byte("NTFS    ")))
}

// mbrEntriesValid says whether sector 0 is a partition table to Linux with a partition in it:
// every entry's boot indicator 0 or 0x80 (msdos_partition rejects the sector otherwise) and an
// entry with sectors. A FAT boot sector's code leaves those bytes zero, or fails the test.
func mbrEntriesValid(mbr []byte) bool {
	used := false
	for i := 0; i < 4; i++ {
		e := mbr[446+i*16:]
		if e[0] != 0 && e[0] != 0x80 {
			return false
		}
		used = used || binary.LittleEndian.Uint32(e[12:]) != 0
	}
	return used
}

func hasProtective(mbr []byte) bool {
	for i := 0; i < 4; i++ {
		if mbr[446+i*16+4] == 0xEE {
			return true
		}
	}
	return false
}

func readMBR(name string, disk io.ReaderAt, size int64, mbr []byte) ([]*Partition, error) {
	le := binary.LittleEndian
	sig := le.Uint32(mbr[440:])
	var parts []*Partition
	for i := 0; i < 4; i++ {
		e := mbr[446+i*16:]
		typ := e[4]
		start, count := int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
		if count == 0 {
			// an entry is unused when it has no sectors: Linux (block/partitions/msdos.c)
			// skips only those, so an entry of type 0x00 with sectors is a partition to it,
			// and is read here as one
			continue
		}
		if isExtended(typ) {
			logical, err := readEBRChain(name, disk, size, start, count, sig)
			if err != nil {
				return nil, err
			}
			parts = append(parts, logical...)
			continue
		}
		p, err := mbrPartition(name, size, i+1, typ, start, count, sig, int64(446+i*16))
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func mbrPartition(name string, size int64, num int, typ byte, start, count int64, sig uint32, at int64) (*Partition, error) {
	if (start+count)*sector > size {
		return nil, byteio.Corrupt(name, at, "MBR partition %d (sectors %d+%d) runs past the end of the %d-byte disk", num, start, count, size)
	}
	return &Partition{Number: num, Start: start * sector, Size: count * sector, Table: "mbr",
		TypeID: fmt.Sprintf("0x%02x", typ), UUID: fmt.Sprintf("%08x-%02d", sig, num)}, nil
}

// isExtended says whether an MBR type byte is an extended partition (DOS, Win98 LBA, Linux).
func isExtended(typ byte) bool { return typ == 0x05 || typ == 0x0F || typ == 0x85 }

// readEBRChain reads the logical partitions of the extended partition at sector extStart
// (extSize sectors) as Linux does (block/partitions/msdos.c, parse_extended): in each extended
// boot record, every entry with sectors that is not an extended one is a logical partition (its
// start counts from the record), the third and fourth only when they lie inside the record's own
// extended entry and the whole extended partition; the first entry that is extended, in any of
// the four slots, links to the next record (its start counts from the extended partition's).
// Logical partitions are numbered from 5 in the order they are met.
func readEBRChain(name string, disk io.ReaderAt, size, extStart, extSize int64, sig uint32) ([]*Partition, error) {
	le := binary.LittleEndian
	var parts []*Partition
	this, thisSize := extStart, extSize
	n := 5
	for links := 0; ; links++ {
		if links >= maxLogical {
			return nil, byteio.Corrupt(name, extStart*sector, "more than %d extended boot records", maxLogical)
		}
		at := this * sector
		ebr, err := byteio.ReadAt(disk, name, at, sector)
		if err != nil {
			return nil, err
		}
		if ebr[510] != 0x55 || ebr[511] != 0xAA {
			return nil, byteio.Corrupt(name, at+510, "extended boot record without 0x55AA signature")
		}
		for i := 0; i < 4; i++ {
			e := ebr[446+i*16:]
			typ, start, count := e[4], int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
			if count == 0 || isExtended(typ) {
				continue
			}
			next := this + start
			if i >= 2 && (start+count > thisSize || next < extStart || next+count > extStart+extSize) {
				continue // Linux takes the third and fourth entries for garbage unless they fit
			}
			if n-5 >= maxLogical {
				return nil, byteio.Corrupt(name, extStart*sector, "more than %d logical partitions", maxLogical)
			}
			p, err := mbrPartition(name, size, n, typ, next, count, sig, at+446+int64(i*16))
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
			n++
		}
		link := -1
		for i := 0; i < 4 && link < 0; i++ {
			if e := ebr[446+i*16:]; le.Uint32(e[12:]) != 0 && isExtended(e[4]) {
				link = 446 + i*16
			}
		}
		if link < 0 {
			return parts, nil
		}
		nx := extStart + int64(le.Uint32(ebr[link+8:]))
		if nx <= this {
			return nil, byteio.Corrupt(name, at+int64(link), "extended partition chain loops back")
		}
		this, thisSize = nx, int64(le.Uint32(ebr[link+12:]))
	}
}

func readGPT(name string, disk io.ReaderAt, size int64) ([]*Partition, error) {
	le := binary.LittleEndian
	h, err := byteio.ReadAt(disk, name, sector, sector)
	if err != nil {
		return nil, err
	}
	if string(h[:8]) != "EFI PART" {
		return nil, byteio.Corrupt(name, sector, "protective MBR but no GPT header (signature %q)", h[:8])
	}
	entriesLBA := int64(le.Uint64(h[72:]))
	count := int(le.Uint32(h[80:]))
	esize := int(le.Uint32(h[84:]))
	if count > maxGPTParts || esize < 128 || esize > 4096 || esize%8 != 0 {
		return nil, byteio.Corrupt(name, sector+80, "GPT header claims %d entries of %d bytes", count, esize)
	}
	raw, err := byteio.ReadAt(disk, name, entriesLBA*sector, count*esize)
	if err != nil {
		return nil, err
	}
	var parts []*Partition
	for i := 0; i < count; i++ {
		e := raw[i*esize:]
		typ := byteio.GUID(e[:16])
		if typ.IsZero() {
			continue
		}
		first, last := int64(le.Uint64(e[32:])), int64(le.Uint64(e[40:]))
		if first > last || last >= size/sector || first < 0 {
			return nil, byteio.Corrupt(name, entriesLBA*sector+int64(i*esize)+32,
				"GPT partition %d spans LBA %d..%d outside the %d-byte disk", i+1, first, last, size)
		}
		p := &Partition{Number: i + 1, Start: first * sector, Size: (last - first + 1) * sector, Table: "gpt",
			TypeID: typ.String(), UUID: byteio.GUID(e[16:32]).String(), Name: utf16Name(e[56:128])}
		if typ == gptBIOSBoot {
			p.Kind = KindBIOSBoot
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
