// Package xfs reads XFS filesystems (v4 and v5) from an io.ReaderAt, read-only and without
// mounting. It implements the Volume interface of the parent fs package.
package xfs

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

const (
	incompatFtype       = 0x1
	incompatSpinodes    = 0x2
	incompatMetaUUID    = 0x4
	incompatBigtime     = 0x8
	incompatNeedsRepair = 0x10
	incompatNrext64     = 0x20
	incompatExchRange   = 0x40
	incompatParent      = 0x80
	supportedIncompat   = incompatFtype | incompatSpinodes | incompatMetaUUID | incompatBigtime | incompatNrext64 | incompatExchRange | incompatParent

	features2Ftype = 0x200

	fmtDev     = 0
	fmtLocal   = 1
	fmtExtents = 2
	fmtBtree   = 3

	diflag2Bigtime = 1 << 3
	diflag2Nrext64 = 1 << 4

	dirLeafOffset  = int64(1) << 35 // directory data blocks live below 32 GiB
	maxDirBytes    = 64 << 20
	maxSymlinkLen  = 1024
	maxExtents     = 1 << 20
	maxBtreeLevels = 10
)

// FS is an opened XFS filesystem.
type FS struct {
	name       string
	r          io.ReaderAt
	size       int64
	v5         bool
	ftype      bool
	blockSize  int64
	agBlocks   uint64
	agCount    uint64
	agBlkLog   uint
	inoPBLog   uint
	inodeSize  int64
	rootIno    uint64
	dirBlkSize int64
}

// Open reads the primary superblock of the XFS filesystem in r (size bytes).
func Open(name string, r io.ReaderAt, size int64) (*FS, error) {
	sb, err := byteio.ReadAt(r, name, 0, 512)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	if string(sb[:4]) != "XFSB" {
		return nil, byteio.Corrupt(name, 0, "no XFS superblock magic")
	}
	f := &FS{name: name, r: r, size: size}
	f.blockSize = int64(be.Uint32(sb[4:]))
	if f.blockSize < 512 || f.blockSize > 65536 || f.blockSize&(f.blockSize-1) != 0 {
		return nil, byteio.Corrupt(name, 4, "block size %d invalid", f.blockSize)
	}
	f.rootIno = be.Uint64(sb[56:])
	f.agBlocks = uint64(be.Uint32(sb[84:]))
	f.agCount = uint64(be.Uint32(sb[88:]))
	version := be.Uint16(sb[100:]) & 0xf
	f.inodeSize = int64(be.Uint16(sb[104:]))
	inoPerBlock := int64(be.Uint16(sb[106:]))
	f.inoPBLog = uint(sb[123])
	f.agBlkLog = uint(sb[124])
	if f.inodeSize < 256 && version == 5 || f.inodeSize < 128 || f.inodeSize > 2048 || f.inodeSize&(f.inodeSize-1) != 0 {
		return nil, byteio.Corrupt(name, 104, "inode size %d invalid", f.inodeSize)
	}
	if inoPerBlock != f.blockSize/f.inodeSize || int64(1)<<f.inoPBLog != inoPerBlock {
		return nil, byteio.Corrupt(name, 106, "inodes per block %d (log %d) disagree with block and inode size", inoPerBlock, f.inoPBLog)
	}
	if f.agCount == 0 || f.agBlocks == 0 || f.agBlkLog > 31 || uint64(1)<<f.agBlkLog < f.agBlocks {
		return nil, byteio.Corrupt(name, 84, "allocation groups (%d of %d blocks, log %d) invalid", f.agCount, f.agBlocks, f.agBlkLog)
	}
	dirBlkLog := uint(sb[192])
	if dirBlkLog > 8 {
		return nil, byteio.Corrupt(name, 192, "directory block log %d invalid", dirBlkLog)
	}
	f.dirBlkSize = f.blockSize << dirBlkLog
	switch version {
	case 5:
		f.v5 = true
		incompat := be.Uint32(sb[216:])
		if incompat&incompatNeedsRepair != 0 {
			return nil, byteio.Corrupt(name, 216, "filesystem is marked as needing xfs_repair")
		}
		if u := incompat &^ supportedIncompat; u != 0 {
			return nil, byteio.Corrupt(name, 216, "unsupported XFS incompatible features %#x", u)
		}
		f.ftype = incompat&incompatFtype != 0
	case 4:
		f.ftype = be.Uint32(sb[200:])&features2Ftype != 0
	default:
		return nil, byteio.Corrupt(name, 100, "XFS version %d not supported", version)
	}
	if _, err := f.inodeOffset(f.rootIno); err != nil {
		return nil, err
	}
	return f, nil
}

// Name implements fs.Volume.
func (f *FS) Name() string { return f.name }

// Root implements fs.Volume.
func (f *FS) Root() uint64 { return f.rootIno }

func (f *FS) inodeOffset(ino uint64) (int64, error) {
	aginoBits := f.inoPBLog + f.agBlkLog
	agno := ino >> aginoBits
	agino := ino & (1<<aginoBits - 1)
	agbno := agino >> f.inoPBLog
	idx := agino & (1<<f.inoPBLog - 1)
	if agno >= f.agCount || agbno >= f.agBlocks {
		return 0, byteio.Corrupt(f.name, 0, "inode %d outside the filesystem (AG %d, block %d)", ino, agno, agbno)
	}
	off := int64(agno*f.agBlocks+agbno)*f.blockSize + int64(idx)*f.inodeSize
	if off+f.inodeSize > f.size {
		return 0, byteio.Corrupt(f.name, off, "inode %d past the end of the filesystem", ino)
	}
	return off, nil
}

// fsbOffset converts a filesystem block number (AG number and AG block packed) to a byte offset.
func (f *FS) fsbOffset(fsb uint64, at int64) (int64, error) {
	agno := fsb >> f.agBlkLog
	agbno := fsb & (1<<f.agBlkLog - 1)
	if agno >= f.agCount || agbno >= f.agBlocks {
		return 0, byteio.Corrupt(f.name, at, "block %d outside the filesystem (AG %d, block %d)", fsb, agno, agbno)
	}
	return int64(agno*f.agBlocks+agbno) * f.blockSize, nil
}

type dinode struct {
	b        []byte
	off      int64
	ino      uint64
	mode     uint32
	format   uint8
	size     int64
	nextents uint64
	fork     []byte // data fork
	forkOff  int64  // where the data fork starts on disk
}

func (f *FS) readInode(ino uint64) (*dinode, error) {
	off, err := f.inodeOffset(ino)
	if err != nil {
		return nil, err
	}
	b, err := byteio.ReadAt(f.r, f.name, off, int(f.inodeSize))
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	if string(b[:2]) != "IN" {
		return nil, byteio.Corrupt(f.name, off, "inode %d has no inode magic", ino)
	}
	d := &dinode{b: b, off: off, ino: ino, mode: uint32(be.Uint16(b[2:])), format: b[5]}
	version := b[4]
	core := 100
	if version == 3 {
		core = 176
	} else if f.v5 {
		return nil, byteio.Corrupt(f.name, off+4, "inode %d version %d on a v5 filesystem", ino, version)
	}
	d.size = int64(be.Uint64(b[56:]))
	if d.size < 0 {
		return nil, byteio.Corrupt(f.name, off+56, "inode %d size overflows", ino)
	}
	d.nextents = uint64(be.Uint32(b[76:]))
	if version == 3 && be.Uint64(b[120:])&diflag2Nrext64 != 0 {
		d.nextents = be.Uint64(b[24:])
	}
	forkLen := int(f.inodeSize) - core
	if fo := int(b[82]); fo != 0 {
		if fo*8 > forkLen {
			return nil, byteio.Corrupt(f.name, off+82, "inode %d fork offset %d beyond the inode", ino, fo)
		}
		forkLen = fo * 8
	}
	d.fork = b[core : core+forkLen]
	d.forkOff = off + int64(core)
	return d, nil
}

// Inode implements fs.Volume.
func (f *FS) Inode(ino uint64) (*filesystem.Inode, error) {
	d, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	var mtime time.Time
	if d.b[4] == 3 && be.Uint64(d.b[120:])&diflag2Bigtime != 0 {
		ns := be.Uint64(d.b[40:])
		mtime = time.Unix(int64(ns/1e9)-(1<<31), int64(ns%1e9)).UTC()
	} else {
		mtime = time.Unix(int64(int32(be.Uint32(d.b[40:]))), int64(be.Uint32(d.b[44:]))).UTC()
	}
	return &filesystem.Inode{
		Ino: ino, Mode: filesystem.UnixMode(d.mode), Size: d.size,
		UID: be.Uint32(d.b[8:]), GID: be.Uint32(d.b[12:]), Nlink: be.Uint32(d.b[16:]),
		ModTime: mtime,
	}, nil
}

// extents returns the data fork's extent list (extents or B+tree format).
func (f *FS) extents(d *dinode) ([]filesystem.Extent, error) {
	switch d.format {
	case fmtExtents:
		if d.nextents*16 > uint64(len(d.fork)) {
			return nil, byteio.Corrupt(f.name, d.off+76, "inode %d claims %d extents, its fork holds %d", d.ino, d.nextents, len(d.fork)/16)
		}
		return f.unpackExtents(d.fork[:d.nextents*16], d.forkOff, nil)
	case fmtBtree:
		be := binary.BigEndian
		if len(d.fork) < 4 {
			return nil, byteio.Corrupt(f.name, d.forkOff, "inode %d B+tree root too small", d.ino)
		}
		level := int(be.Uint16(d.fork[0:]))
		nrecs := int(be.Uint16(d.fork[2:]))
		maxrecs := (len(d.fork) - 4) / 16
		if level == 0 || level > maxBtreeLevels || nrecs > maxrecs {
			return nil, byteio.Corrupt(f.name, d.forkOff, "inode %d B+tree root level %d with %d records invalid", d.ino, level, nrecs)
		}
		var out []filesystem.Extent
		budget := f.agCount * f.agBlocks // a tree cannot have more nodes than the filesystem has blocks
		for i := 0; i < nrecs; i++ {
			ptr := be.Uint64(d.fork[4+maxrecs*8+i*8:])
			var err error
			if out, err = f.walkBmbt(ptr, level-1, d.forkOff, &budget, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, byteio.Corrupt(f.name, d.off+5, "inode %d data fork format %d has no extents", d.ino, d.format)
}

func (f *FS) walkBmbt(fsb uint64, level int, at int64, budget *uint64, out []filesystem.Extent) ([]filesystem.Extent, error) {
	off, err := f.fsbOffset(fsb, at)
	if err != nil {
		return nil, err
	}
	if *budget == 0 {
		return nil, byteio.Corrupt(f.name, off, "B+tree has more nodes than the filesystem has blocks")
	}
	*budget--
	b, err := byteio.ReadAt(f.r, f.name, off, int(f.blockSize))
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	hdr := 24
	want := "BMAP"
	if f.v5 {
		hdr, want = 72, "BMA3"
	}
	if string(b[:4]) != want {
		return nil, byteio.Corrupt(f.name, off, "B+tree block magic %q, want %q", b[:4], want)
	}
	if int(be.Uint16(b[4:])) != level {
		return nil, byteio.Corrupt(f.name, off+4, "B+tree block level %d, want %d", be.Uint16(b[4:]), level)
	}
	nrecs := int(be.Uint16(b[6:]))
	maxrecs := (len(b) - hdr) / 16
	if nrecs > maxrecs {
		return nil, byteio.Corrupt(f.name, off+6, "B+tree block has %d records, room for %d", nrecs, maxrecs)
	}
	if level == 0 {
		return f.unpackExtents(b[hdr:hdr+nrecs*16], off+int64(hdr), out)
	}
	for i := 0; i < nrecs; i++ {
		ptr := be.Uint64(b[hdr+maxrecs*8+i*8:])
		if out, err = f.walkBmbt(ptr, level-1, off, budget, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *FS) unpackExtents(recs []byte, at int64, out []filesystem.Extent) ([]filesystem.Extent, error) {
	be := binary.BigEndian
	for i := 0; i+16 <= len(recs); i += 16 {
		l0, l1 := be.Uint64(recs[i:]), be.Uint64(recs[i+8:])
		e := filesystem.Extent{
			Unwritten: l0>>63 != 0,
			Logical:   (l0 & (1<<63 - 1)) >> 9,
			Length:    l1 & (1<<21 - 1),
		}
		startBlock := (l0&0x1ff)<<43 | l1>>21
		phys, err := f.fsbOffset(startBlock, at+int64(i))
		if err != nil {
			return nil, err
		}
		if phys+int64(e.Length)*f.blockSize > f.size {
			return nil, byteio.Corrupt(f.name, at+int64(i), "extent of %d blocks at %d runs past the end of the filesystem", e.Length, startBlock)
		}
		e.Physical = phys
		if e.Length == 0 {
			return nil, byteio.Corrupt(f.name, at+int64(i), "extent of length 0")
		}
		if len(out) >= maxExtents || uint64(len(out)) >= f.agCount*f.agBlocks {
			return nil, byteio.Corrupt(f.name, at, "more than %d extents in one file", maxExtents)
		}
		out = append(out, e)
	}
	return out, nil
}

func (f *FS) reader(d *dinode) (io.ReaderAt, error) {
	switch d.format {
	case fmtLocal:
		if d.size > int64(len(d.fork)) {
			return nil, byteio.Corrupt(f.name, d.off+56, "inode %d keeps %d bytes inline in a %d-byte fork", d.ino, d.size, len(d.fork))
		}
		return filesystem.InlineReader(d.fork[:d.size]), nil
	case fmtExtents, fmtBtree:
		ext, err := f.extents(d)
		if err != nil {
			return nil, err
		}
		r := &filesystem.ExtentReader{R: f.r, VolSize: f.size, Name: f.name, Ino: d.ino, BlockSize: f.blockSize, Size: d.size, Extents: ext}
		r.Sort()
		return r, nil
	case fmtDev:
		return filesystem.InlineReader(nil), nil
	}
	return nil, byteio.Corrupt(f.name, d.off+5, "inode %d data fork format %d unknown", d.ino, d.format)
}

// Open implements fs.Volume.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	d, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	return f.reader(d)
}

// Readlink implements fs.Volume.
func (f *FS) Readlink(ino uint64) (string, error) {
	d, err := f.readInode(ino)
	if err != nil {
		return "", err
	}
	if d.mode&0o170000 != 0o120000 {
		return "", byteio.Corrupt(f.name, d.off, "inode %d is not a symlink", ino)
	}
	if d.size <= 0 || d.size > maxSymlinkLen {
		return "", byteio.Corrupt(f.name, d.off+56, "symlink inode %d has length %d", ino, d.size)
	}
	if d.format == fmtLocal {
		if d.size > int64(len(d.fork)) {
			return "", byteio.Corrupt(f.name, d.off+56, "symlink inode %d longer than its fork", ino)
		}
		return string(d.fork[:d.size]), nil
	}
	ext, err := f.extents(d)
	if err != nil {
		return "", err
	}
	// remote symlink: on v5 each block starts with a 56-byte "XSLM" header
	var target []byte
	for _, e := range ext {
		for b := uint64(0); b < e.Length && int64(len(target)) < d.size; b++ {
			off := e.Physical + int64(b)*f.blockSize
			blk, err := byteio.ReadAt(f.r, f.name, off, int(f.blockSize))
			if err != nil {
				return "", err
			}
			if f.v5 {
				if string(blk[:4]) != "XSLM" {
					return "", byteio.Corrupt(f.name, off, "remote symlink block without XSLM magic")
				}
				blk = blk[56:]
			}
			target = append(target, blk[:min(int64(len(blk)), d.size-int64(len(target)))]...)
		}
	}
	if int64(len(target)) != d.size {
		return "", byteio.Corrupt(f.name, d.off, "symlink inode %d: %d of %d bytes mapped", ino, len(target), d.size)
	}
	return string(target), nil
}

// ReadDir implements fs.Volume for short-form, block, leaf and node directories.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Dirent, error) {
	d, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	if d.mode&0o170000 != 0o040000 {
		return nil, byteio.Corrupt(f.name, d.off, "inode %d is not a directory", ino)
	}
	if d.format == fmtLocal {
		return f.shortformDir(d)
	}
	size := min(d.size, dirLeafOffset)
	if size > maxDirBytes || size > f.size {
		return nil, byteio.Corrupt(f.name, d.off+56, "directory inode %d is %d bytes", ino, size)
	}
	r, err := f.reader(d)
	if err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if n, err := r.ReadAt(data, 0); n < len(data) {
		return nil, fmt.Errorf("%s: directory inode %d: %w", f.name, ino, err)
	}
	var out []filesystem.Dirent
	for base := int64(0); base+f.dirBlkSize <= size; base += f.dirBlkSize {
		if out, err = f.dataBlock(d, data[base:base+f.dirBlkSize], base, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *FS) dataBlock(d *dinode, blk []byte, base int64, out []filesystem.Dirent) ([]filesystem.Dirent, error) {
	be := binary.BigEndian
	magic := string(blk[:4])
	hdr, end := 16, len(blk)
	switch magic {
	case "XD2B", "XDB3":
		count := int(be.Uint32(blk[len(blk)-8:]))
		end = len(blk) - 8 - count*8
	case "XD2D", "XDD3":
	case "\x00\x00\x00\x00":
		return out, nil // a hole in the data section
	default:
		return nil, byteio.Corrupt(f.name, d.off, "directory inode %d block at %#x has magic %q", d.ino, base, blk[:4])
	}
	if magic == "XDB3" || magic == "XDD3" {
		hdr = 64
	}
	if end < hdr {
		return nil, byteio.Corrupt(f.name, d.off, "directory inode %d block at %#x: leaf count overflows the block", d.ino, base)
	}
	pos := hdr
	for pos+8 <= end {
		if be.Uint16(blk[pos:]) == 0xffff { // unused region
			ln := int(be.Uint16(blk[pos+2:]))
			if ln < 8 || ln%8 != 0 {
				return nil, byteio.Corrupt(f.name, d.off, "directory inode %d block at %#x: free region of %d bytes at %d", d.ino, base, ln, pos)
			}
			pos += ln
			continue
		}
		if pos+9 > end {
			break
		}
		inum := be.Uint64(blk[pos:])
		nameLen := int(blk[pos+8])
		entLen := 8 + 1 + nameLen + 2
		if f.ftype {
			entLen++
		}
		entLen = (entLen + 7) &^ 7
		if nameLen == 0 || pos+entLen > end {
			return nil, byteio.Corrupt(f.name, d.off, "directory inode %d block at %#x: entry at %d overruns the block", d.ino, base, pos)
		}
		name := string(blk[pos+9 : pos+9+nameLen])
		if name != "." && name != ".." {
			de := filesystem.Dirent{Name: name, Ino: inum}
			if f.ftype {
				de.Type, de.TypeKnown = filesystem.DirentType(blk[pos+9+nameLen])
			}
			out = append(out, de)
		}
		pos += entLen
	}
	return out, nil
}

func (f *FS) shortformDir(d *dinode) ([]filesystem.Dirent, error) {
	be := binary.BigEndian
	b := d.fork
	if int64(len(b)) > d.size {
		b = b[:d.size]
	}
	if len(b) < 6 {
		return nil, byteio.Corrupt(f.name, d.forkOff, "short-form directory inode %d too small", d.ino)
	}
	count := int(b[0])
	i8 := b[1] != 0
	inoLen := 4
	if i8 {
		inoLen = 8
		count = int(b[1])
	}
	pos := 2 + inoLen
	var out []filesystem.Dirent
	for i := 0; i < count; i++ {
		if pos+3 > len(b) {
			return nil, byteio.Corrupt(f.name, d.forkOff+int64(pos), "short-form directory inode %d truncated", d.ino)
		}
		nameLen := int(b[pos])
		if nameLen == 0 {
			return nil, byteio.Corrupt(f.name, d.forkOff+int64(pos), "short-form directory inode %d: empty name", d.ino)
		}
		np := pos + 3
		ep := np + nameLen
		ft := -1
		if f.ftype {
			if ep >= len(b) {
				return nil, byteio.Corrupt(f.name, d.forkOff+int64(pos), "short-form directory inode %d truncated", d.ino)
			}
			ft = int(b[ep])
			ep++
		}
		if ep+inoLen > len(b) {
			return nil, byteio.Corrupt(f.name, d.forkOff+int64(pos), "short-form directory inode %d truncated", d.ino)
		}
		var inum uint64
		if i8 {
			inum = be.Uint64(b[ep:])
		} else {
			inum = uint64(be.Uint32(b[ep:]))
		}
		de := filesystem.Dirent{Name: string(b[np : np+nameLen]), Ino: inum}
		if ft >= 0 {
			de.Type, de.TypeKnown = filesystem.DirentType(uint8(ft))
		}
		out = append(out, de)
		pos = ep + inoLen
	}
	return out, nil
}
