// Package extended reads the extended partitions of an MBR disk: the primary entries of type
// 0x05, 0x0F or 0x85 that contain the logical partitions. internal/partition follows their
// chains of extended boot records and lists the logical partitions, not the containers; a
// container is still an entry of the partition table that bounds what may grow: growpart
// (cloud-utils) grows a partition only up to the next entry that starts after it, the extended
// container included, and a logical partition only inside its container (sfdisk refuses a
// logical partition that leaves it).
package extended

import (
	"encoding/binary"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Container is one extended partition, as its primary entry gives it.
type Container struct {
	Number int   // 1 to 4: the primary entry
	Start  int64 // byte offset on the disk
	Size   int64 // bytes
}

// End is the first byte after the container.
func (c Container) End() int64 { return c.Start + c.Size }

const sector = 512

// IsExtendedType reports whether an MBR partition type is an extended partition (CHS 0x05,
// LBA 0x0F, Linux 0x85), the types Linux's msdos partition parser follows.
func IsExtendedType(typ byte) bool { return typ == 0x05 || typ == 0x0F || typ == 0x85 }

// Read returns the extended partitions of the MBR in sector 0 of disk (size bytes): none when
// sector 0 holds no MBR signature. An entry that runs past the end of the disk is an error
// naming the file and the entry's offset.
func Read(name string, disk io.ReaderAt, size int64) ([]Container, error) {
	if size < sector {
		return nil, byteio.Corrupt(name, 0, "disk of %d bytes has no room for a partition table", size)
	}
	mbr, err := byteio.ReadAt(disk, name, 0, sector)
	if err != nil {
		return nil, err
	}
	return Parse(name, mbr, size)
}

// Parse reads the containers from sector 0's bytes (at least 512) of a disk of size bytes.
func Parse(name string, mbr []byte, size int64) ([]Container, error) {
	if len(mbr) < sector {
		return nil, byteio.Corrupt(name, 0, "sector 0 is %d bytes, want %d", len(mbr), sector)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xAA {
		return nil, nil
	}
	le := binary.LittleEndian
	var out []Container
	for i := 0; i < 4; i++ {
		at := 446 + i*16
		e := mbr[at : at+16]
		start, count := int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
		if !IsExtendedType(e[4]) || count == 0 {
			continue
		}
		if (start+count)*sector > size {
			return nil, byteio.Corrupt(name, int64(at), "extended partition %d (sectors %d+%d) runs past the end of the %d-byte disk", i+1, start, count, size)
		}
		out = append(out, Container{Number: i + 1, Start: start * sector, Size: count * sector})
	}
	return out, nil
}
