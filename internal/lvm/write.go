package lvm

import (
	"encoding/binary"
	"fmt"
)

// WritePV lays out an LVM2 physical volume in pv as pvcreate and vgcreate leave one (what
// ReadPV reads; the tests build images with it, since pvcreate needs a block device): the
// label in sector 1 with its checksum, the pv_header with uuid (32 characters, no dashes), one
// data area at peStart sectors and one metadata area at 4 KiB running up to the data area, its
// header, and text (the VG's metadata, written just after the header) with their checksums.
func WritePV(pv []byte, uuid string, peStart int64, text string) error {
	const mda = 4096
	if len(uuid) != 32 {
		return fmt.Errorf("PV UUID %q: not 32 characters", uuid)
	}
	data := peStart * sectorSize
	if data < mda+mdaHeaderSize+int64(len(text)) || data > int64(len(pv)) {
		return fmt.Errorf("data area at %#x: does not fit the metadata text and the %d-byte PV", data, len(pv))
	}
	le := binary.LittleEndian
	label := pv[sectorSize : 2*sectorSize]
	clear(label)
	copy(label, "LABELONE")
	le.PutUint64(label[8:], 1)
	le.PutUint32(label[20:], 32)
	copy(label[24:], "LVM2 001")
	copy(label[32:], uuid)
	le.PutUint64(label[64:], uint64(len(pv)))
	p := 72
	for _, a := range []diskLocn{{data, 0}, {}, {mda, data - mda}, {}} {
		le.PutUint64(label[p:], uint64(a.offset))
		le.PutUint64(label[p+8:], uint64(a.size))
		p += 16
	}
	le.PutUint32(label[p:], 2)   // pv_header_extension version
	le.PutUint32(label[p+4:], 1) // PV_EXT_USED
	le.PutUint32(label[16:], CRC(initialCRC, label[20:]))

	h := pv[mda : mda+mdaHeaderSize]
	clear(h)
	copy(h[4:], mdaMagic)
	le.PutUint32(h[20:], 1)
	le.PutUint64(h[24:], mda)
	le.PutUint64(h[32:], uint64(data-mda))
	if text != "" {
		le.PutUint64(h[40:], mdaHeaderSize)
		le.PutUint64(h[48:], uint64(len(text)))
		le.PutUint32(h[56:], CRC(initialCRC, []byte(text)))
		copy(pv[mda+mdaHeaderSize:], text)
	}
	le.PutUint32(h[0:], CRC(initialCRC, h[4:]))
	return nil
}
