package image

import (
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

var (
	vhdxRegionBAT      = byteio.MustGUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
	vhdxRegionMetadata = byteio.MustGUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParameters = byteio.MustGUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxVirtualSize    = byteio.MustGUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxLogicalSector  = byteio.MustGUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	castagnoli         = crc32.MakeTable(crc32.Castagnoli)
)

const (
	vhdxBlockFullyPresent = 6
	vhdxMaxBATEntries     = 32 << 20
)

type vhdx struct {
	name       string
	src        io.ReaderAt
	bat        []uint64
	chunkRatio int64
}

func vhdxCRC(b []byte) uint32 {
	c := make([]byte, len(b))
	copy(c, b)
	clear(c[4:8])
	return crc32.Checksum(c, castagnoli)
}

func openVHDX(d *Disk, src io.ReaderAt) error {
	if err := vhdxCheckHeader(d, src); err != nil {
		return err
	}
	bat, meta, err := vhdxRegions(d, src)
	if err != nil {
		return err
	}
	g, err := vhdxReadMetadata(d, src, meta)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	chunkRatio := (int64(1) << 23) * g.sector / g.blockSize
	blocks := (g.size + g.blockSize - 1) / g.blockSize
	entries := blocks
	if blocks > 0 {
		entries += (blocks - 1) / chunkRatio
	}
	if entries > vhdxMaxBATEntries || entries*8 > int64(bat.length) {
		return byteio.Corrupt(d.Name, bat.offset, "VHDX BAT region of %d bytes cannot hold %d entries", bat.length, entries)
	}
	raw, err := byteio.ReadAt(src, d.Name, bat.offset, int(entries)*8)
	if err != nil {
		return err
	}
	v := &vhdx{name: d.Name, src: src, bat: make([]uint64, entries), chunkRatio: chunkRatio}
	for i := range v.bat {
		v.bat[i] = le.Uint64(raw[i*8:])
	}
	d.Format, d.Variant, d.VirtualSize = "vhdx", "", g.size
	d.virt = &blockReader{size: g.size, blockSize: g.blockSize, readBlock: v.readBlock}
	return nil
}

// vhdxCheckHeader finds the current header (of two copies, the valid one with the higher
// sequence number) and refuses a VHDX whose log must be replayed.
func vhdxCheckHeader(d *Disk, src io.ReaderAt) error {
	le := binary.LittleEndian
	var hdr []byte
	var seq uint64
	var hdrAt int64
	for _, at := range []int64{64 << 10, 128 << 10} {
		h, err := byteio.ReadAt(src, d.Name, at, 4096)
		if err != nil {
			return err
		}
		if string(h[:4]) != "head" || le.Uint32(h[4:]) != vhdxCRC(h) {
			continue
		}
		if s := le.Uint64(h[8:]); hdr == nil || s > seq {
			hdr, seq, hdrAt = h, s, at
		}
	}
	if hdr == nil {
		return byteio.Corrupt(d.Name, 64<<10, "VHDX has no valid header (both copies fail signature or CRC-32C)")
	}
	if !byteio.GUID(hdr[48:64]).IsZero() {
		return byteio.Corrupt(d.Name, hdrAt+48, "VHDX has a log that must be replayed; open and close it with Hyper-V or qemu-img first")
	}
	return nil
}

// vhdxRegion is where a region of the file is.
type vhdxRegion struct {
	offset int64
	length uint32
}

// vhdxRegions reads the region table (the first copy, else the second) and returns the BAT and
// metadata regions; a required region this reader does not know is an error.
func vhdxRegions(d *Disk, src io.ReaderAt) (bat, meta vhdxRegion, err error) {
	le := binary.LittleEndian
	rt, err := byteio.ReadAt(src, d.Name, 192<<10, 64<<10)
	if err != nil {
		return bat, meta, err
	}
	if string(rt[:4]) != "regi" || le.Uint32(rt[4:]) != vhdxCRC(rt) {
		if rt, err = byteio.ReadAt(src, d.Name, 256<<10, 64<<10); err != nil {
			return bat, meta, err
		}
		if string(rt[:4]) != "regi" || le.Uint32(rt[4:]) != vhdxCRC(rt) {
			return bat, meta, byteio.Corrupt(d.Name, 192<<10, "VHDX region table invalid (signature or CRC-32C)")
		}
	}
	n := int(le.Uint32(rt[8:]))
	if n > 2047 {
		return bat, meta, byteio.Corrupt(d.Name, 192<<10+8, "VHDX region table has %d entries", n)
	}
	for i := 0; i < n; i++ {
		e := rt[16+i*32:]
		switch byteio.GUID(e[:16]) {
		case vhdxRegionBAT:
			bat = vhdxRegion{int64(le.Uint64(e[16:])), le.Uint32(e[24:])}
		case vhdxRegionMetadata:
			meta = vhdxRegion{int64(le.Uint64(e[16:])), le.Uint32(e[24:])}
		default:
			if le.Uint32(e[28:])&1 != 0 {
				return bat, meta, byteio.Corrupt(d.Name, 192<<10+16+int64(i)*32, "VHDX has a required region %s this reader does not know", byteio.GUID(e[:16]))
			}
		}
	}
	if bat.offset == 0 || meta.offset == 0 {
		return bat, meta, byteio.Corrupt(d.Name, 192<<10, "VHDX region table lacks the BAT or metadata region")
	}
	return bat, meta, nil
}

// vhdxGeometry is what the metadata region says of the virtual disk.
type vhdxGeometry struct {
	blockSize, size, sector int64
}

// vhdxReadMetadata reads the metadata table and validates the block size, virtual size and
// logical sector size; a differencing VHDX is refused.
func vhdxReadMetadata(d *Disk, src io.ReaderAt, meta vhdxRegion) (g vhdxGeometry, err error) {
	le := binary.LittleEndian
	metaOff := meta.offset
	mt, err := byteio.ReadAt(src, d.Name, metaOff, 64<<10)
	if err != nil {
		return g, err
	}
	if string(mt[:8]) != "metadata" {
		return g, byteio.Corrupt(d.Name, metaOff, "VHDX metadata table signature %q", mt[:8])
	}
	items := map[byteio.GUID][]byte{}
	cnt := int(le.Uint16(mt[10:]))
	if cnt > 2047 {
		return g, byteio.Corrupt(d.Name, metaOff+10, "VHDX metadata table has %d entries", cnt)
	}
	for i := 0; i < cnt; i++ {
		e := mt[32+i*32:]
		off, ln := int64(le.Uint32(e[16:])), int(le.Uint32(e[20:]))
		if ln > 4096 || off+int64(ln) > int64(meta.length) {
			return g, byteio.Corrupt(d.Name, metaOff+32+int64(i)*32, "VHDX metadata item outside its region")
		}
		b, err := byteio.ReadAt(src, d.Name, metaOff+off, ln)
		if err != nil {
			return g, err
		}
		items[byteio.GUID(e[:16])] = b
	}
	fp, vs, ls := items[vhdxFileParameters], items[vhdxVirtualSize], items[vhdxLogicalSector]
	if len(fp) < 8 || len(vs) < 8 || len(ls) < 4 {
		return g, byteio.Corrupt(d.Name, metaOff, "VHDX metadata lacks file parameters, virtual size or logical sector size")
	}
	g.blockSize = int64(le.Uint32(fp))
	if le.Uint32(fp[4:])&2 != 0 {
		return g, byteio.Corrupt(d.Name, metaOff, "differencing VHDX (has a parent); check a merged copy")
	}
	g.size = int64(le.Uint64(vs))
	g.sector = int64(le.Uint32(ls))
	if g.blockSize < 1<<20 || g.blockSize > 256<<20 || g.blockSize&(g.blockSize-1) != 0 {
		return g, byteio.Corrupt(d.Name, metaOff, "VHDX block size %d invalid", g.blockSize)
	}
	if g.sector != 512 && g.sector != 4096 {
		return g, byteio.Corrupt(d.Name, metaOff, "VHDX logical sector size %d invalid", g.sector)
	}
	if g.size < 0 || g.size > 64<<40 {
		return g, byteio.Corrupt(d.Name, metaOff, "VHDX virtual size %d out of range", g.size)
	}
	return g, nil
}

func (v *vhdx) readBlock(p []byte, idx, within int64) error {
	e := v.bat[idx+idx/v.chunkRatio]
	if e&7 != vhdxBlockFullyPresent {
		byteio.ZeroFill(p)
		return nil
	}
	return readFull(v.src, v.name, p, int64(e>>20)<<20+within)
}
