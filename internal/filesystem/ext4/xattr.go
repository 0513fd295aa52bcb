package ext4

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// Extended attributes live in two places (Documentation/filesystems/ext4/attributes.rst): the
// inode's extra space after i_extra_isize (a 4-byte magic, then entries whose values are
// addressed from the first entry), and one external block named by i_file_acl (a 32-byte header
// with its own crc32c under metadata_csum, then entries whose values are addressed from the
// block's start). With the ea_inode feature a large value lives in an inode of its own.
const (
	xattrMagic      = 0xEA020000
	xattrBlockHdr   = 32
	xattrEntryHdr   = 16
	maxXattrEntries = 4096
)

// xattrPrefix maps e_name_index to the name's prefix (fs/ext4/xattr.c, ext4_xattr_handler_map).
var xattrPrefix = map[uint8]string{
	0: "",
	1: "user.",
	2: "system.posix_acl_access",
	3: "system.posix_acl_default",
	4: "trusted.",
	6: "security.",
	7: "system.",
	8: "system.richacl",
}

// Xattrs implements filesystem.XattrVolume: the attributes in the inode, then those of its
// external block.
func (f *FS) Xattrs(ino uint64) ([]filesystem.Xattr, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Xattr
	var errs []error
	if f.inodeSize > 128 {
		le := binary.LittleEndian
		extra := int64(le.Uint16(ri.b[128:]))
		start := 128 + extra
		switch {
		case extra == 0:
			// no extra fields, so no attributes in the inode (ext4_iget)
		case extra%4 != 0 || start > f.inodeSize:
			errs = append(errs, byteio.Corrupt(f.name, ri.off+128, "inode %d: i_extra_isize %d invalid for %d-byte inodes", ino, extra, f.inodeSize))
		case start+4 > f.inodeSize:
			// the extra fields fill the inode: no room for attributes
		case le.Uint32(ri.b[start:]) == xattrMagic:
			if err := f.checkInodeCsum(ri); err != nil {
				errs = append(errs, err)
				break
			}
			area := ri.b[start+4:]
			xs, err := f.xattrEntries(ino, area, area, ri.off+start+4, ri.off+start+4)
			out = append(out, xs...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	le := binary.LittleEndian
	blk := uint64(le.Uint32(ri.b[104:]))
	if f.inodeSize >= 128 {
		blk |= uint64(le.Uint16(ri.b[118:])) << 32
	}
	if blk != 0 {
		xs, err := f.xattrBlock(ino, blk)
		out = append(out, xs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// xattrBlock reads the external attribute block of an inode.
func (f *FS) xattrBlock(ino, blk uint64) ([]filesystem.Xattr, error) {
	if blk >= f.blocksCount {
		return nil, byteio.Corrupt(f.name, 0, "inode %d: extended attribute block %d outside the filesystem", ino, blk)
	}
	at := int64(blk) * f.blockSize
	b, err := byteio.ReadAt(f.r, f.name, at, int(f.blockSize))
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != xattrMagic {
		return nil, byteio.Corrupt(f.name, at, "inode %d: extended attribute block %d has no magic", ino, blk)
	}
	if n := le.Uint32(b[8:]); n != 1 {
		return nil, byteio.Corrupt(f.name, at+8, "inode %d: extended attribute block %d claims %d blocks", ino, blk, n)
	}
	if f.csum {
		// ext4_xattr_block_csum: the block number, the header before h_checksum, a zero
		// checksum, then the rest of the block
		c := crc32c(f.csumSeed, le.AppendUint64(nil, blk))
		c = crc32c(c, b[:16])
		c = crc32c(c, make([]byte, 4))
		c = crc32c(c, b[20:])
		if want := le.Uint32(b[16:]); want != c {
			return nil, byteio.Corrupt(f.name, at+16, "inode %d: extended attribute block %d checksum %#x, computed %#x", ino, blk, want, c)
		}
	}
	return f.xattrEntries(ino, b[xattrBlockHdr:], b, at+xattrBlockHdr, at)
}

// xattrEntries parses the entries in ents, whose values are at offsets into vals; entsAt and
// valsAt are where they are in the image, for errors.
func (f *FS) xattrEntries(ino uint64, ents, vals []byte, entsAt, valsAt int64) ([]filesystem.Xattr, error) {
	le := binary.LittleEndian
	var out []filesystem.Xattr
	pos := 0
	for n := 0; ; n++ {
		if pos+4 > len(ents) {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos), "inode %d: extended attribute entries run past their area", ino)
		}
		if le.Uint32(ents[pos:]) == 0 {
			return out, nil
		}
		if n == maxXattrEntries {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos), "inode %d: more than %d extended attributes", ino, maxXattrEntries)
		}
		if pos+xattrEntryHdr > len(ents) {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos), "inode %d: extended attribute entry runs past its area", ino)
		}
		e := ents[pos:]
		nameLen := int(e[0])
		index := e[1]
		voff := int(le.Uint16(e[2:]))
		vino := uint64(le.Uint32(e[4:]))
		vsize := int64(le.Uint32(e[8:]))
		if pos+xattrEntryHdr+nameLen > len(ents) {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos), "inode %d: extended attribute name runs past its area", ino)
		}
		prefix, ok := xattrPrefix[index]
		if !ok {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos+1), "inode %d: unknown extended attribute name index %d", ino, index)
		}
		name := prefix + string(e[xattrEntryHdr:xattrEntryHdr+nameLen])
		if vsize > filesystem.MaxXattrValue {
			return out, byteio.Corrupt(f.name, entsAt+int64(pos+8), "inode %d: extended attribute %s of %d bytes, over the %d-byte limit", ino, name, vsize, filesystem.MaxXattrValue)
		}
		var val []byte
		if vino != 0 {
			var err error
			if val, err = f.xattrInodeValue(ino, vino, name, vsize); err != nil {
				return out, err
			}
		} else {
			if voff+int(vsize) > len(vals) {
				return out, byteio.Corrupt(f.name, entsAt+int64(pos+2), "inode %d: extended attribute %s value at %d+%d outside its area of %d bytes", ino, name, voff, vsize, len(vals))
			}
			val = append([]byte(nil), vals[voff:voff+int(vsize)]...)
		}
		out = append(out, filesystem.Xattr{Name: name, Value: val})
		pos += (xattrEntryHdr + nameLen + 3) &^ 3
	}
}

// xattrInodeValue reads a value stored in an inode of its own (ea_inode).
func (f *FS) xattrInodeValue(ino, vino uint64, name string, size int64) ([]byte, error) {
	ri, err := f.readInode(vino)
	if err != nil {
		return nil, err
	}
	// an EA inode is never inline: refusing one also stops a cycle of inline data kept in an
	// attribute kept in an inline inode
	if ri.mode()&0o170000 != 0o100000 || ri.size() < size || ri.flags()&flagInlineData != 0 {
		return nil, byteio.Corrupt(f.name, ri.off, "inode %d: extended attribute %s names value inode %d, which is not a regular, non-inline file of %d bytes", ino, name, vino, size)
	}
	r, _, err := f.mapInode(ri)
	if err != nil {
		return nil, err
	}
	val := make([]byte, size)
	if n, err := r.ReadAt(val, 0); n < len(val) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, byteio.Corrupt(f.name, ri.off, "inode %d: extended attribute %s value inode %d: %v", ino, name, vino, err)
	}
	return val, nil
}

// checkInodeCsum verifies an inode's checksum under metadata_csum (ext4_inode_csum): crc32c of
// the inode number and generation, then the inode with its checksum fields zeroed. Only the
// attributes in the inode rely on it here.
func (f *FS) checkInodeCsum(ri *rawInode) error {
	if !f.csum {
		return nil
	}
	le := binary.LittleEndian
	b := append([]byte(nil), ri.b...)
	want := uint32(le.Uint16(b[0x7C:]))
	b[0x7C], b[0x7D] = 0, 0
	extra := int64(le.Uint16(b[128:]))
	hasHi := f.inodeSize > 128 && extra >= 4
	if hasHi {
		want |= uint32(le.Uint16(b[0x82:])) << 16
		b[0x82], b[0x83] = 0, 0
	}
	seed := crc32c(crc32c(f.csumSeed, le.AppendUint32(nil, uint32(ri.ino))), b[0x64:0x68])
	got := crc32c(seed, b)
	if !hasHi {
		got &= 0xFFFF
	}
	if got != want {
		return byteio.Corrupt(f.name, ri.off+0x7C, "inode %d checksum %#x, computed %#x: its extended attributes are not trusted", ri.ino, want, got)
	}
	return nil
}

// inlineData returns the bytes of an inline-data inode: the first 60 in i_block, the rest in
// the inode's system.data attribute (ext4_read_inline_data).
func (f *FS) inlineData(ri *rawInode, size int64) ([]byte, error) {
	if size < 0 || size > f.inodeSize+60 {
		return nil, byteio.Corrupt(f.name, ri.off+4, "inode %d keeps %d bytes inline, more than an inode of %d bytes can", ri.ino, size, f.inodeSize)
	}
	if size <= 60 {
		return append([]byte(nil), ri.b[40:40+size]...), nil
	}
	out := append(make([]byte, 0, size), ri.b[40:100]...)
	xs, err := f.Xattrs(ri.ino)
	if err != nil {
		return nil, err
	}
	for _, x := range xs {
		if x.Name == "system.data" {
			if int64(len(x.Value)) < size-60 {
				return nil, byteio.Corrupt(f.name, ri.off, "inode %d keeps %d bytes inline, its system.data attribute only %d past the first 60", ri.ino, size, len(x.Value))
			}
			return append(out, x.Value[:size-60]...), nil
		}
	}
	return nil, byteio.Corrupt(f.name, ri.off, "inode %d keeps %d bytes inline and has no system.data attribute for those past the first 60", ri.ino, size)
}
