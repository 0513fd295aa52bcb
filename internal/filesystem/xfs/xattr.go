package xfs

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// Extended attributes live in the inode's attribute fork, after the data fork (di_forkoff): in
// short form inside the inode, or in attribute blocks mapped by the fork's extents: one leaf
// block, or a dabtree of node blocks over leaf blocks; a value too large for its leaf is in
// "remote" blocks of its own (with a header and a crc32c on v5). Leaf, node and remote blocks
// of a v5 filesystem carry a crc32c, which is checked.
const (
	attrLeafMagic  = 0xfbee
	attr3LeafMagic = 0x3bee
	daNodeMagic    = 0xfebe
	da3NodeMagic   = 0x3ebe
	attr3RmtMagic  = 0x5841524d // "XARM"

	attrLocal      = 0x01
	attrRoot       = 0x02
	attrSecure     = 0x04
	attrParent     = 0x08
	attrIncomplete = 0x80

	maxAttrDepth  = 5
	maxAttrBlocks = 1 << 12 // attribute blocks read for one inode
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// attrName is an attribute's full name from its namespace flags.
func attrName(flags uint8, name []byte) string {
	switch {
	case flags&attrParent != 0:
		return "trusted.xfs.parent." + string(name) // parent pointers (a directory's inode and name)
	case flags&attrRoot != 0:
		return "trusted." + string(name)
	case flags&attrSecure != 0:
		return "security." + string(name)
	}
	return "user." + string(name)
}

// Xattrs implements filesystem.XattrVolume.
func (f *FS) Xattrs(ino uint64) ([]filesystem.Xattr, error) {
	d, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	b := d.b
	fo := int(b[82])
	if fo == 0 {
		return nil, nil // no attribute fork
	}
	core := 100
	if b[4] == 3 {
		core = 176
	}
	start := core + fo*8
	if start > len(b) {
		return nil, byteio.Corrupt(f.name, d.off+82, "inode %d attribute fork offset %d beyond the inode", ino, fo)
	}
	be := binary.BigEndian
	af := &dinode{b: b, off: d.off, ino: ino, format: b[83], fork: b[start:], forkOff: d.off + int64(start)}
	af.nextents = uint64(be.Uint16(b[80:]))
	if b[4] == 3 && be.Uint64(b[120:])&diflag2Nrext64 != 0 {
		af.nextents = uint64(be.Uint32(b[76:]))
	}
	switch af.format {
	case fmtLocal:
		return f.shortformAttrs(af)
	case fmtExtents, fmtBtree:
		ext, err := f.extents(af)
		if err != nil {
			return nil, err
		}
		a := &attrReader{f: f, ino: ino, ext: ext, budget: maxAttrBlocks}
		err = a.block(0, 0)
		return a.out, err
	}
	return nil, byteio.Corrupt(f.name, d.off+83, "inode %d attribute fork format %d unknown", ino, af.format)
}

// shortformAttrs parses attributes kept in the inode: a 4-byte header (total size, count),
// then entries of name length, value length, flags, name and value.
func (f *FS) shortformAttrs(d *dinode) ([]filesystem.Xattr, error) {
	fork := d.fork
	if len(fork) < 4 {
		return nil, byteio.Corrupt(f.name, d.forkOff, "inode %d attribute fork too small for its header", d.ino)
	}
	total := int(binary.BigEndian.Uint16(fork[0:]))
	if total < 4 || total > len(fork) {
		return nil, byteio.Corrupt(f.name, d.forkOff, "inode %d short-form attributes of %d bytes in a %d-byte fork", d.ino, total, len(fork))
	}
	count := int(fork[2])
	var out []filesystem.Xattr
	pos := 4
	for i := 0; i < count; i++ {
		if pos+3 > total {
			return out, byteio.Corrupt(f.name, d.forkOff+int64(pos), "inode %d short-form attribute %d runs past the %d bytes", d.ino, i, total)
		}
		nl, vl, fl := int(fork[pos]), int(fork[pos+1]), fork[pos+2]
		if pos+3+nl+vl > total {
			return out, byteio.Corrupt(f.name, d.forkOff+int64(pos), "inode %d short-form attribute %d runs past the %d bytes", d.ino, i, total)
		}
		nv := fork[pos+3:]
		if fl&attrIncomplete == 0 {
			out = append(out, filesystem.Xattr{Name: attrName(fl, nv[:nl]), Value: append([]byte(nil), nv[nl:nl+vl]...)})
		}
		pos += 3 + nl + vl
	}
	return out, nil
}

// attrReader reads an inode's attribute blocks through its attribute fork's extents.
type attrReader struct {
	f      *FS
	ino    uint64
	ext    []filesystem.Extent
	budget int
	out    []filesystem.Xattr
}

// read returns attribute-fork block lblk, its checksum checked on v5 at crcOff.
func (a *attrReader) read(lblk uint64, crcOff int) ([]byte, int64, error) {
	f := a.f
	if a.budget == 0 {
		return nil, 0, byteio.Corrupt(f.name, 0, "inode %d: more than %d attribute blocks", a.ino, maxAttrBlocks)
	}
	a.budget--
	for _, e := range a.ext {
		if lblk >= e.Logical && lblk < e.Logical+e.Length {
			at := e.Physical + int64(lblk-e.Logical)*f.blockSize
			b, err := byteio.ReadAt(f.r, f.name, at, int(f.blockSize))
			if err != nil {
				return nil, at, err
			}
			if f.v5 && crcOff >= 0 {
				if err := f.checkCRC(b, crcOff, at); err != nil {
					return nil, at, err
				}
			}
			return b, at, nil
		}
	}
	return nil, 0, byteio.Corrupt(f.name, 0, "inode %d: attribute block %d is not mapped", a.ino, lblk)
}

// checkCRC verifies a v5 metadata block's crc32c: over the block with the checksum field
// zeroed, stored little-endian.
func (f *FS) checkCRC(b []byte, off int, at int64) error {
	want := binary.LittleEndian.Uint32(b[off:])
	c := crc32.Update(0, castagnoli, b[:off])
	c = crc32.Update(c, castagnoli, make([]byte, 4))
	c = crc32.Update(c, castagnoli, b[off+4:])
	if c != want {
		return byteio.Corrupt(f.name, at+int64(off), "attribute block checksum %#x, computed %#x", want, c)
	}
	return nil
}

// block reads a leaf or a node block and, under a node, its children.
func (a *attrReader) block(lblk uint64, depth int) error {
	f := a.f
	if depth > maxAttrDepth {
		return byteio.Corrupt(f.name, 0, "inode %d: attribute tree deeper than %d", a.ino, maxAttrDepth)
	}
	crcOff := -1
	if f.v5 {
		crcOff = 12 // xfs_da3_blkinfo: forw, back, magic, pad, crc
	}
	b, at, err := a.read(lblk, crcOff)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	magic := be.Uint16(b[8:])
	switch {
	case magic == attrLeafMagic && !f.v5, magic == attr3LeafMagic && f.v5:
		return a.leaf(b, at)
	case magic == daNodeMagic && !f.v5, magic == da3NodeMagic && f.v5:
		// xfs_da_node_hdr: blkinfo, count, level (16 bytes); v5's xfs_da3_node_hdr: da3_blkinfo
		// (56 bytes), count, level, pad (64 bytes)
		hdr, countOff := 16, 12
		if f.v5 {
			hdr, countOff = 64, 56
		}
		count := int(be.Uint16(b[countOff:]))
		if hdr+count*8 > len(b) {
			return byteio.Corrupt(f.name, at, "inode %d: attribute node of %d entries, room for %d", a.ino, count, (len(b)-hdr)/8)
		}
		for i := 0; i < count; i++ {
			child := uint64(be.Uint32(b[hdr+i*8+4:]))
			if err := a.block(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return byteio.Corrupt(f.name, at+8, "inode %d: attribute block %d magic %#x is not a leaf or a node", a.ino, lblk, magic)
}

// leaf parses an attribute leaf block: a header (count), entries (hash, name offset, flags),
// and the names and values they point at.
func (a *attrReader) leaf(b []byte, at int64) error {
	f := a.f
	be := binary.BigEndian
	hdr := 32
	if f.v5 {
		hdr = 80
	}
	countOff := 12
	if f.v5 {
		countOff = 56
	}
	count := int(be.Uint16(b[countOff:]))
	if hdr+count*8 > len(b) {
		return byteio.Corrupt(f.name, at+int64(countOff), "inode %d: attribute leaf of %d entries, room for %d", a.ino, count, (len(b)-hdr)/8)
	}
	for i := 0; i < count; i++ {
		e := b[hdr+i*8:]
		idx := int(be.Uint16(e[4:]))
		fl := e[6]
		if fl&attrIncomplete != 0 {
			continue
		}
		if fl&attrLocal != 0 {
			if idx+3 > len(b) {
				return byteio.Corrupt(f.name, at+int64(hdr+i*8), "inode %d: attribute entry %d name at %d past the block", a.ino, i, idx)
			}
			vl, nl := int(be.Uint16(b[idx:])), int(b[idx+2])
			if idx+3+nl+vl > len(b) {
				return byteio.Corrupt(f.name, at+int64(idx), "inode %d: attribute entry %d runs past the block", a.ino, i)
			}
			nv := b[idx+3:]
			a.out = append(a.out, filesystem.Xattr{Name: attrName(fl, nv[:nl]), Value: append([]byte(nil), nv[nl:nl+vl]...)})
			continue
		}
		if idx+9 > len(b) {
			return byteio.Corrupt(f.name, at+int64(hdr+i*8), "inode %d: attribute entry %d name at %d past the block", a.ino, i, idx)
		}
		blk, vl, nl := uint64(be.Uint32(b[idx:])), int64(be.Uint32(b[idx+4:])), int(b[idx+8])
		if idx+9+nl > len(b) {
			return byteio.Corrupt(f.name, at+int64(idx), "inode %d: attribute entry %d name runs past the block", a.ino, i)
		}
		name := attrName(fl, b[idx+9:idx+9+nl])
		if vl > filesystem.MaxXattrValue {
			return byteio.Corrupt(f.name, at+int64(idx+4), "inode %d: attribute %s of %d bytes, over the %d-byte limit", a.ino, name, vl, filesystem.MaxXattrValue)
		}
		val, err := a.remote(blk, vl, name)
		if err != nil {
			return err
		}
		a.out = append(a.out, filesystem.Xattr{Name: name, Value: val})
	}
	return nil
}

// remote reads a value kept in blocks of its own from attribute-fork block blk on; on v5 each
// block starts with a 56-byte header (magic, offset, bytes, crc) before its share of the value.
func (a *attrReader) remote(blk uint64, size int64, name string) ([]byte, error) {
	f := a.f
	val := make([]byte, 0, size)
	for int64(len(val)) < size {
		if !f.v5 {
			b, _, err := a.read(blk, -1)
			if err != nil {
				return nil, err
			}
			val = append(val, b[:min(int64(len(b)), size-int64(len(val)))]...)
			blk++
			continue
		}
		b, at, err := a.read(blk, 12)
		if err != nil {
			return nil, err
		}
		be := binary.BigEndian
		if be.Uint32(b[0:]) != attr3RmtMagic {
			return nil, byteio.Corrupt(f.name, at, "inode %d: attribute %s remote block has no magic", a.ino, name)
		}
		off, n := int64(be.Uint32(b[4:])), int64(be.Uint32(b[8:]))
		if off != int64(len(val)) || n <= 0 || n > int64(len(b))-56 || off+n > size {
			return nil, byteio.Corrupt(f.name, at+4, "inode %d: attribute %s remote block holds bytes %d+%d of %d", a.ino, name, off, n, size)
		}
		val = append(val, b[56:56+n]...)
		blk++
	}
	return val, nil
}
