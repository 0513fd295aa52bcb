package image

import (
	"encoding/binary"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

const (
	vhdTypeFixed        = 2
	vhdTypeDynamic      = 3
	vhdTypeDifferencing = 4
	vhdMaxBlockSize     = 256 << 20
	vhdMaxBATEntries    = 16 << 20
)

// vhdChecksum is the one's complement of the byte sum of b, skipping the 4 checksum bytes at skip.
func vhdChecksum(b []byte, skip int) uint32 {
	var sum uint32
	for i, c := range b {
		if i >= skip && i < skip+4 {
			continue
		}
		sum += uint32(c)
	}
	return ^sum
}

func parseVHDFooter(name string, footer []byte, at int64) (diskType uint32, size int64, dataOffset int64, err error) {
	be := binary.BigEndian
	if got, want := be.Uint32(footer[64:]), vhdChecksum(footer[:512], 64); got != want {
		return 0, 0, 0, byteio.Corrupt(name, at+64, "VHD footer checksum %#x, computed %#x", got, want)
	}
	diskType = be.Uint32(footer[60:])
	size = int64(be.Uint64(footer[48:]))
	if size < 0 || size > 1<<50 {
		return 0, 0, 0, byteio.Corrupt(name, at+48, "VHD current size %d out of range", size)
	}
	return diskType, size, int64(be.Uint64(footer[16:])), nil
}

func openFixedVHD(d *Disk, src io.ReaderAt, footer []byte) error {
	at := d.FileSize - 512
	typ, size, _, err := parseVHDFooter(d.Name, footer, at)
	if err != nil {
		return err
	}
	if typ != vhdTypeFixed {
		return byteio.Corrupt(d.Name, at+60, "VHD footer at the end says disk type %d but no header copy at offset 0", typ)
	}
	if size > at {
		return byteio.Corrupt(d.Name, at+48, "fixed VHD says %d bytes but holds only %d", size, at)
	}
	d.Format, d.Variant, d.VirtualSize = "vhd", "fixed", size
	d.virt = &byteio.Section{R: src, Off: 0, N: size}
	d.direct = true
	return nil
}

type dynamicVHD struct {
	name       string
	src        io.ReaderAt
	bat        []uint32
	bitmapSize int64
}

func openDynamicVHD(d *Disk, src io.ReaderAt, head []byte) error {
	typ, size, dataOff, err := parseVHDFooter(d.Name, head, 0)
	if err != nil {
		return err
	}
	switch typ {
	case vhdTypeDynamic:
	case vhdTypeDifferencing:
		return byteio.Corrupt(d.Name, 60, "differencing VHD (has a parent); check a merged copy")
	default:
		return byteio.Corrupt(d.Name, 60, "VHD disk type %d with a header copy at offset 0 is not a dynamic VHD", typ)
	}
	be := binary.BigEndian
	dh, err := byteio.ReadAt(src, d.Name, dataOff, 1024)
	if err != nil {
		return err
	}
	if string(dh[:8]) != "cxsparse" {
		return byteio.Corrupt(d.Name, dataOff, "dynamic VHD header cookie %q, want \"cxsparse\"", dh[:8])
	}
	if got, want := be.Uint32(dh[36:]), vhdChecksum(dh, 36); got != want {
		return byteio.Corrupt(d.Name, dataOff+36, "dynamic VHD header checksum %#x, computed %#x", got, want)
	}
	batOff := int64(be.Uint64(dh[16:]))
	entries := int64(be.Uint32(dh[28:]))
	blockSize := int64(be.Uint32(dh[32:]))
	if blockSize < 512 || blockSize > vhdMaxBlockSize || blockSize&(blockSize-1) != 0 {
		return byteio.Corrupt(d.Name, dataOff+32, "dynamic VHD block size %d invalid", blockSize)
	}
	need := (size + blockSize - 1) / blockSize
	if entries < need || entries > vhdMaxBATEntries {
		return byteio.Corrupt(d.Name, dataOff+28, "dynamic VHD has %d block table entries, size needs %d", entries, need)
	}
	raw, err := byteio.ReadAt(src, d.Name, batOff, int(need)*4)
	if err != nil {
		return err
	}
	v := &dynamicVHD{name: d.Name, src: src, bat: make([]uint32, need)}
	for i := range v.bat {
		v.bat[i] = be.Uint32(raw[i*4:])
	}
	sectorsPerBlock := blockSize / 512
	v.bitmapSize = ((sectorsPerBlock+7)/8 + 511) / 512 * 512
	d.Format, d.Variant, d.VirtualSize = "vhd", "dynamic", size
	d.virt = &blockReader{size: size, blockSize: blockSize, readBlock: v.readBlock}
	return nil
}

func (v *dynamicVHD) readBlock(p []byte, idx, within int64) error {
	e := v.bat[idx]
	if e == 0xFFFFFFFF {
		byteio.ZeroFill(p)
		return nil
	}
	return readFull(v.src, v.name, p, int64(e)*512+v.bitmapSize+within)
}
