package image

import (
	"bytes"
	"encoding/binary"
	"github.com/klauspost/compress/zlib"
	"io"
	"strings"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

const (
	vmdkFlagCompressed = 1 << 16
	vmdkGDAtEnd        = 0xFFFFFFFFFFFFFFFF
	vmdkMaxGrainSize   = 2 << 20
	vmdkMaxGTEs        = 1 << 16
	vmdkMaxGDEntries   = 8 << 20
)

type vmdk struct {
	name       string
	src        io.ReaderAt
	fileSize   int64
	grainSize  int64 // bytes
	gtes       int64
	gd         []uint32
	compressed bool
	mu         sync.Mutex
	gts        *tableCache[[]uint32]
	inflated   *inflatedCache // decompressed grains by file offset
}

func openVMDK(d *Disk, src io.ReaderAt) error {
	le := binary.LittleEndian
	h, err := byteio.ReadAt(src, d.Name, 0, 512)
	if err != nil {
		return err
	}
	flags := le.Uint32(h[8:])
	if le.Uint64(h[56:]) == vmdkGDAtEnd {
		// streamOptimized: the real header is the footer, 1024 bytes before the end.
		if h, err = byteio.ReadAt(src, d.Name, d.FileSize-1024, 512); err != nil {
			return err
		}
		if string(h[:4]) != "KDMV" {
			return byteio.Corrupt(d.Name, d.FileSize-1024, "VMDK footer expected (grain directory at end) but magic is %q", h[:4])
		}
		flags = le.Uint32(h[8:])
	}
	if err := vmdkRefuseDelta(d, src, h); err != nil {
		return err
	}
	capacity := le.Uint64(h[12:])
	grainSectors := le.Uint64(h[20:])
	gtes := int64(le.Uint32(h[44:]))
	gdOff := le.Uint64(h[56:])
	if grainSectors == 0 || grainSectors > vmdkMaxGrainSize/512 || grainSectors&(grainSectors-1) != 0 {
		return byteio.Corrupt(d.Name, 20, "VMDK grain size %d sectors invalid", grainSectors)
	}
	if gtes <= 0 || gtes > vmdkMaxGTEs {
		return byteio.Corrupt(d.Name, 44, "VMDK grain table size %d invalid", gtes)
	}
	if capacity > 1<<41 {
		return byteio.Corrupt(d.Name, 12, "VMDK capacity %d sectors out of range", capacity)
	}
	size := int64(capacity) * 512
	grain := int64(grainSectors) * 512
	grains := (size + grain - 1) / grain
	nGD := (grains + gtes - 1) / gtes
	if nGD > vmdkMaxGDEntries || gdOff == vmdkGDAtEnd || gdOff > uint64(d.FileSize)/512 {
		return byteio.Corrupt(d.Name, 56, "VMDK grain directory at sector %d with %d entries is invalid", gdOff, nGD)
	}
	raw, err := byteio.ReadAt(src, d.Name, int64(gdOff)*512, int(nGD)*4)
	if err != nil {
		return err
	}
	v := &vmdk{name: d.Name, src: src, fileSize: d.FileSize, grainSize: grain, gtes: gtes,
		gd: make([]uint32, nGD), compressed: flags&vmdkFlagCompressed != 0,
		gts: newTableCache[[]uint32](64), inflated: newInflatedCache(inflatedCacheBytes)}
	for i := range v.gd {
		v.gd[i] = le.Uint32(raw[i*4:])
	}
	d.Format, d.VirtualSize = "vmdk", size
	d.Variant = "monolithicSparse"
	if v.compressed {
		d.Variant = "streamOptimized"
	}
	d.virt = &blockReader{size: size, blockSize: grain, readBlock: v.readGrain}
	return nil
}

func (v *vmdk) table(sector uint32) ([]uint32, error) {
	if t, ok := v.gts.get(int64(sector)); ok {
		return t, nil
	}
	raw, err := byteio.ReadAt(v.src, v.name, int64(sector)*512, int(v.gtes)*4)
	if err != nil {
		return nil, err
	}
	t := make([]uint32, v.gtes)
	for i := range t {
		t[i] = binary.LittleEndian.Uint32(raw[i*4:])
	}
	v.gts.put(int64(sector), t)
	return t, nil
}

func (v *vmdk) readGrain(p []byte, idx, within int64) error {
	v.mu.Lock()
	gde := v.gd[idx/v.gtes]
	if gde == 0 {
		v.mu.Unlock()
		byteio.ZeroFill(p)
		return nil
	}
	t, err := v.table(gde)
	v.mu.Unlock()
	if err != nil {
		return err
	}
	gte := t[idx%v.gtes]
	if gte <= 1 { // 0: unallocated, 1: zeroed grain
		byteio.ZeroFill(p)
		return nil
	}
	at := int64(gte) * 512
	if !v.compressed {
		return readFull(v.src, v.name, p, at+within)
	}
	if b, ok := v.inflated.get(at); ok {
		copy(p, b[within:])
		return nil
	}
	hdr, err := byteio.ReadAt(v.src, v.name, at, 12)
	if err != nil {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(hdr[8:]))
	if n <= 0 || n > 2*v.grainSize+4096 || at+12+n > v.fileSize {
		return byteio.Corrupt(v.name, at+8, "VMDK compressed grain of %d bytes invalid", n)
	}
	comp, err := byteio.ReadAt(v.src, v.name, at+12, int(n))
	if err != nil {
		return err
	}
	buf := make([]byte, v.grainSize)
	zr, err := zlib.NewReader(bytes.NewReader(comp))
	if err != nil {
		return byteio.Corrupt(v.name, at+12, "VMDK compressed grain: %v", err)
	}
	if _, err := io.ReadFull(zr, buf); err != nil && err != io.ErrUnexpectedEOF {
		return byteio.Corrupt(v.name, at+12, "VMDK compressed grain does not inflate: %v", err)
	}
	// the last grain of a disk may be short: the rest of buf stays zero
	v.inflated.put(at, buf)
	copy(p, buf[within:])
	return nil
}

// vmdkRefuseDelta reads the embedded descriptor (bounded) and refuses a delta disk, whose
// unallocated grains are its parent's: read alone, it would look like a disk of zeros where the
// parent holds the system.
func vmdkRefuseDelta(d *Disk, src io.ReaderAt, h []byte) error {
	le := binary.LittleEndian
	off, n := le.Uint64(h[28:]), le.Uint64(h[36:])
	if off == 0 || n == 0 {
		return nil
	}
	if n > 128 || off > uint64(d.FileSize)/512 {
		return byteio.Corrupt(d.Name, 28, "VMDK descriptor at sector %d, %d sectors long, is out of range", off, n)
	}
	desc, err := byteio.ReadAt(src, d.Name, int64(off)*512, int(n)*512)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(bytes.TrimRight(desc, "\x00")), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		if (k == "parentCID" && !strings.EqualFold(v, "ffffffff")) || (k == "parentFileNameHint" && v != "") {
			return byteio.Corrupt(d.Name, int64(off)*512, "VMDK delta disk (%s=%s); check a flattened copy (qemu-img convert -O vmdk)", k, v)
		}
	}
	return nil
}
