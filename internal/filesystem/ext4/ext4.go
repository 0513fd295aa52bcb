// Package ext4 reads ext2, ext3 and ext4 filesystems from an io.ReaderAt, read-only and without
// mounting. It implements the Volume interface of the parent fs package.
package ext4

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

const (
	superblockOffset = 1024
	magic            = 0xEF53

	incompatFiletype   = 0x2
	incompatRecover    = 0x4
	incompatJournalDev = 0x8
	incompatMetaBG     = 0x10
	incompatExtents    = 0x40
	incompat64bit      = 0x80
	incompatMMP        = 0x100
	incompatFlexBG     = 0x200
	incompatEAInode    = 0x400
	incompatDirData    = 0x1000
	incompatCsumSeed   = 0x2000
	incompatLargeDir   = 0x4000
	incompatInlineData = 0x8000
	incompatEncrypt    = 0x10000
	incompatCasefold   = 0x20000

	rocompatSparseSuper  = 0x1
	rocompatMetadataCsum = 0x400
	compatSparseSuper2   = 0x200
	compatHasJournal     = 0x4

	flagIndex      = 0x1000 // hashed (htree) directory
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
	flagEncrypt    = 0x800

	extentMagic    = 0xF30A
	maxExtentDepth = 5
	maxDirBytes    = 64 << 20
	maxSymlinkLen  = 4096
	maxExtents     = 1 << 20
)

var supportedIncompat = uint32(incompatFiletype | incompatRecover | incompatMetaBG | incompatExtents |
	incompat64bit | incompatMMP | incompatFlexBG | incompatCsumSeed | incompatLargeDir | incompatInlineData |
	incompatCasefold | incompatEAInode | incompatEncrypt)

// FS is an opened ext2/3/4 filesystem.
type FS struct {
	name           string
	r              io.ReaderAt
	size           int64
	blockSize      int64
	blocksCount    uint64
	inodesCount    uint32
	inodesPerGroup uint32
	inodeSize      int64
	descSize       int64
	groups         uint32
	firstDataBlock uint32
	blocksPerGroup int64
	gdtBlock       int64
	metaBG         bool
	// sparseSuper, sparseSuper2 and backupGroups say which groups hold a superblock backup
	// (and, without meta_bg, a copy of the descriptor table)
	sparseSuper  bool
	sparseSuper2 bool
	backupGroups [2]uint32
	descPerBlock int64
	firstMetaBG  uint32
	// csum: metadata_csum is on, every directory leaf block ends in a checksum entry seeded
	// with csumSeed
	csum     bool
	csumSeed uint32

	mu          sync.Mutex
	inodeTables map[uint32]int64
	// inodeBlocks caches blocks of the inode tables: resolving every path reads the inodes of
	// its directories, 16 of which share a 4 KiB block
	inodeBlocks map[int64][]byte
}

// maxInodeBlocks bounds the inode-table blocks cached (4 MiB with 4 KiB blocks).
const maxInodeBlocks = 1024

// Open reads the superblock of the filesystem in r (size bytes). name appears in errors.
func Open(name string, r io.ReaderAt, size int64) (*FS, error) {
	sb, err := byteio.ReadAt(r, name, superblockOffset, 1024)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint16(sb[56:]) != magic {
		return nil, byteio.Corrupt(name, superblockOffset+56, "no ext2/3/4 superblock magic")
	}
	f := &FS{name: name, r: r, size: size, inodeTables: map[uint32]int64{}}
	logBS := le.Uint32(sb[24:])
	if logBS > 6 {
		return nil, byteio.Corrupt(name, superblockOffset+24, "block size 2^(10+%d) out of range", logBS)
	}
	f.blockSize = 1024 << logBS
	f.inodesCount = le.Uint32(sb[0:])
	f.blocksCount = uint64(le.Uint32(sb[4:]))
	f.firstDataBlock = le.Uint32(sb[20:])
	blocksPerGroup := le.Uint32(sb[32:])
	f.inodesPerGroup = le.Uint32(sb[40:])
	incompat := le.Uint32(sb[96:])
	if incompat&incompatJournalDev != 0 {
		return nil, byteio.Corrupt(name, superblockOffset+96, "external journal device, not a filesystem")
	}
	if u := incompat &^ supportedIncompat; u != 0 {
		return nil, byteio.Corrupt(name, superblockOffset+96, "unsupported ext4 incompatible features %#x", u)
	}
	f.inodeSize = 128
	if le.Uint32(sb[76:]) >= 1 {
		f.inodeSize = int64(le.Uint16(sb[88:]))
	}
	if f.inodeSize < 128 || f.inodeSize > f.blockSize || f.inodeSize&(f.inodeSize-1) != 0 {
		return nil, byteio.Corrupt(name, superblockOffset+88, "inode size %d invalid", f.inodeSize)
	}
	f.descSize = 32
	if incompat&incompat64bit != 0 {
		f.blocksCount |= uint64(le.Uint32(sb[0x150:])) << 32
		f.descSize = int64(le.Uint16(sb[254:]))
		if f.descSize < 32 || f.descSize > 1024 || f.descSize&(f.descSize-1) != 0 {
			return nil, byteio.Corrupt(name, superblockOffset+254, "group descriptor size %d invalid", f.descSize)
		}
	}
	if blocksPerGroup == 0 || f.inodesPerGroup == 0 || f.inodesPerGroup > uint32(f.blockSize*8) {
		return nil, byteio.Corrupt(name, superblockOffset+32, "blocks per group %d / inodes per group %d invalid", blocksPerGroup, f.inodesPerGroup)
	}
	if f.blocksCount <= uint64(f.firstDataBlock) {
		return nil, byteio.Corrupt(name, superblockOffset+4, "block count %d invalid", f.blocksCount)
	}
	f.groups = uint32((f.blocksCount - uint64(f.firstDataBlock) + uint64(blocksPerGroup) - 1) / uint64(blocksPerGroup))
	if uint64(f.groups)*uint64(f.inodesPerGroup) < uint64(f.inodesCount) {
		return nil, byteio.Corrupt(name, superblockOffset, "%d groups of %d inodes cannot hold %d inodes", f.groups, f.inodesPerGroup, f.inodesCount)
	}
	f.blocksPerGroup = int64(blocksPerGroup)
	// The descriptor table starts in the block after the one holding the superblock (byte
	// 1024): block 2 with 1 KiB blocks, block 1 otherwise. That is not s_first_data_block + 1:
	// a bigalloc filesystem of 1 KiB blocks has s_first_data_block 0 and its table at block 2
	// (linux fs/ext4/super.c, v6.6: __ext4_fill_super computes logical_sb_block from the
	// superblock's byte offset, and descriptor_loc puts the table right after it).
	f.gdtBlock = superblockOffset/f.blockSize + 1
	f.descPerBlock = f.blockSize / f.descSize
	if incompat&incompatMetaBG != 0 {
		f.metaBG = true
		f.firstMetaBG = le.Uint32(sb[260:])
	}
	f.sparseSuper = le.Uint32(sb[100:])&rocompatSparseSuper != 0
	if le.Uint32(sb[92:])&compatSparseSuper2 != 0 {
		f.sparseSuper2 = true
		f.backupGroups = [2]uint32{le.Uint32(sb[0x24c:]), le.Uint32(sb[0x250:])}
	}
	if le.Uint32(sb[100:])&rocompatMetadataCsum != 0 {
		f.csum = true
		if incompat&incompatCsumSeed != 0 {
			f.csumSeed = le.Uint32(sb[0x270:])
		} else {
			f.csumSeed = crc32c(^uint32(0), sb[104:120]) // the filesystem UUID
		}
	}
	recover, inum := incompat&incompatRecover != 0, le.Uint32(sb[0xE0:])
	if recover || le.Uint32(sb[92:])&compatHasJournal != 0 && inum != 0 {
		if err := f.journalReplayed(inum, recover); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// journalMagic begins every block of a jbd2 journal that is not data.
const journalMagic = 0xC03B3998

// journalReplayed fails unless the journal of a filesystem marked needs_recovery holds nothing
// to replay. Linux replays a journal's committed transactions into the filesystem when it
// mounts it (as after a crash, or on a disk copied from a running VM), so a block this reader
// takes from its place in the filesystem may not be what the system reads there: the files
// are not read as the system reads them, and the filesystem is not read at all. A journal whose
// superblock says its log is empty (s_start 0) leaves nothing to replay. A journal that holds
// transactions while the filesystem is not marked (recover false) is refused too: the kernel
// then discards them, but e2fsck, which systemd-fsck runs at boot, stops there ("Run journal
// anyway", not answered when preening), so what the system reads is not known.
func (f *FS) journalReplayed(inum uint32, recover bool) error {
	at := int64(superblockOffset + 96) // the needs_recovery flag, where errors point
	if inum == 0 {
		return byteio.Corrupt(f.name, at, "filesystem needs journal recovery but has no journal inode")
	}
	j, err := f.Open(uint64(inum))
	if err != nil {
		return fmt.Errorf("%s: the journal (inode %d): %w", f.name, inum, err)
	}
	jsb, err := byteio.ReadAt(j, f.name, 0, 1024)
	if err != nil {
		return fmt.Errorf("%s: the journal (inode %d): %w", f.name, inum, err)
	}
	be := binary.BigEndian
	if be.Uint32(jsb[0:]) != journalMagic || (be.Uint32(jsb[4:]) != 3 && be.Uint32(jsb[4:]) != 4) {
		return byteio.Corrupt(f.name, at, "the journal (inode %d) holds no jbd2 journal superblock (Linux does not mount such a filesystem)", inum)
	}
	if start := be.Uint32(jsb[0x1C:]); start != 0 && !recover {
		return byteio.Corrupt(f.name, at, "the journal holds transactions from sequence %d, at journal block %d, though the filesystem is not marked "+
			"needs_recovery: Linux discards them when it mounts it, e2fsck at boot stops to ask whether to replay them, so which files the system "+
			"reads is not known; run e2fsck -fy on the image and check again", be.Uint32(jsb[0x18:]), start)
	} else if start != 0 {
		return byteio.Corrupt(f.name, at, "filesystem needs journal recovery (needs_recovery, as after a crash or on a copy of a running disk): "+
			"its journal holds transactions from sequence %d, at journal block %d, that Linux writes into the filesystem when it mounts it and this "+
			"reader does not; replay them (e2fsck -fy on the image, or shut the VM down cleanly) and check again",
			be.Uint32(jsb[0x18:]), start)
	}
	return nil
}

// Name implements fs.Volume.
func (f *FS) Name() string { return f.name }

// Root implements fs.Volume: the root directory is inode 2.
func (f *FS) Root() uint64 { return 2 }

func (f *FS) descriptorOffset(group uint32) int64 {
	if !f.metaBG || int64(group)/f.descPerBlock < int64(f.firstMetaBG) {
		return f.gdtBlock*f.blockSize + int64(group)*f.descSize
	}
	// meta_bg: the descriptor block for a run of groups lives in the first group of that run,
	// after its superblock backup if it has one; the group's first block is counted from
	// s_first_data_block in s_blocks_per_group (blocks, bigalloc too). With 1 KiB blocks and
	// s_first_data_block 0 (bigalloc) group 0's block 0 holds the boot sector and block 1 the
	// superblock, so its descriptors are at block 2 (linux fs/ext4/super.c, v6.6:
	// descriptor_loc, ext4_group_first_block_no).
	metaGroup := int64(group) / f.descPerBlock
	first := metaGroup * f.descPerBlock
	blk := int64(f.firstDataBlock) + first*f.blocksPerGroup
	if f.hasSuper(first) {
		blk++
	}
	if f.blockSize == 1024 && metaGroup == 0 && f.firstDataBlock == 0 {
		blk++
	}
	return blk*f.blockSize + (int64(group)%f.descPerBlock)*f.descSize
}

// hasSuper says whether the group holds a superblock backup (linux fs/ext4/balloc.c, v6.6:
// ext4_bg_has_super): group 0 always; with sparse_super2 only the two groups the superblock
// names; with sparse_super group 1 and the powers of 3, 5 and 7; without it every group.
func (f *FS) hasSuper(group int64) bool {
	switch {
	case group == 0:
		return true
	case f.sparseSuper2:
		return group == int64(f.backupGroups[0]) || group == int64(f.backupGroups[1])
	case group == 1 || !f.sparseSuper:
		return true
	}
	for _, b := range []int64{3, 5, 7} {
		g := group
		for g%b == 0 {
			g /= b
		}
		if g == 1 {
			return true
		}
	}
	return false
}

func (f *FS) inodeTable(group uint32) (int64, error) {
	f.mu.Lock()
	t, ok := f.inodeTables[group]
	f.mu.Unlock()
	if ok {
		return t, nil
	}
	off := f.descriptorOffset(group)
	d, err := byteio.ReadAt(f.r, f.name, off, int(f.descSize))
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	blk := uint64(le.Uint32(d[8:]))
	if f.descSize >= 64 {
		blk |= uint64(le.Uint32(d[0x28:])) << 32
	}
	if blk == 0 || blk >= f.blocksCount {
		return 0, byteio.Corrupt(f.name, off+8, "group %d inode table at block %d outside the filesystem", group, blk)
	}
	t = int64(blk) * f.blockSize
	f.mu.Lock()
	f.inodeTables[group] = t
	f.mu.Unlock()
	return t, nil
}

// rawInode is the on-disk inode plus where it was read.
type rawInode struct {
	b   []byte
	off int64
	ino uint64
}

func (f *FS) readInode(ino uint64) (*rawInode, error) {
	if ino == 0 || ino > uint64(f.inodesCount) {
		return nil, byteio.Corrupt(f.name, 0, "inode %d out of range 1..%d", ino, f.inodesCount)
	}
	group := uint32((ino - 1) / uint64(f.inodesPerGroup))
	index := int64((ino - 1) % uint64(f.inodesPerGroup))
	table, err := f.inodeTable(group)
	if err != nil {
		return nil, err
	}
	off := table + index*f.inodeSize
	blockOff := off - off%f.blockSize
	f.mu.Lock()
	blk, ok := f.inodeBlocks[blockOff]
	f.mu.Unlock()
	if !ok || off+f.inodeSize > blockOff+int64(len(blk)) {
		blk, err = byteio.ReadAt(f.r, f.name, blockOff, int(f.blockSize))
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		if f.inodeBlocks == nil || len(f.inodeBlocks) >= maxInodeBlocks {
			f.inodeBlocks = make(map[int64][]byte, maxInodeBlocks)
		}
		f.inodeBlocks[blockOff] = blk
		f.mu.Unlock()
	}
	if off+f.inodeSize > blockOff+int64(len(blk)) {
		return nil, byteio.Corrupt(f.name, off, "inode %d crosses its table block", ino)
	}
	b := make([]byte, f.inodeSize)
	copy(b, blk[off-blockOff:])
	return &rawInode{b: b, off: off, ino: ino}, nil
}

func (ri *rawInode) mode() uint32  { return uint32(binary.LittleEndian.Uint16(ri.b[0:])) }
func (ri *rawInode) flags() uint32 { return binary.LittleEndian.Uint32(ri.b[32:]) }
func (ri *rawInode) size() int64 {
	le := binary.LittleEndian
	return int64(uint64(le.Uint32(ri.b[4:])) | uint64(le.Uint32(ri.b[108:]))<<32)
}

// Inode implements fs.Volume.
func (f *FS) Inode(ino uint64) (*filesystem.Inode, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	b := ri.b
	size := ri.size()
	if size < 0 {
		return nil, byteio.Corrupt(f.name, ri.off+108, "inode %d size overflows", ino)
	}
	return &filesystem.Inode{
		Ino:     ino,
		Mode:    filesystem.UnixMode(ri.mode()),
		Size:    size,
		UID:     uint32(le.Uint16(b[2:])) | uint32(le.Uint16(b[120:]))<<16,
		GID:     uint32(le.Uint16(b[24:])) | uint32(le.Uint16(b[122:]))<<16,
		Nlink:   uint32(le.Uint16(b[26:])),
		ModTime: time.Unix(int64(int32(le.Uint32(b[16:]))), 0).UTC(),
	}, nil
}

// mapInode returns a reader over an inode's data and, for inline data, the inline bytes.
func (f *FS) mapInode(ri *rawInode) (io.ReaderAt, []byte, error) {
	size := ri.size()
	fr := &filesystem.ExtentReader{R: f.r, VolSize: f.size, Name: f.name, Ino: ri.ino, BlockSize: f.blockSize, Size: size}
	fl := ri.flags()
	switch {
	case fl&flagEncrypt != 0:
		return nil, nil, byteio.Corrupt(f.name, ri.off+32, "inode %d is encrypted (fscrypt); its content cannot be read", ri.ino)
	case fl&flagInlineData != 0:
		inline, err := f.inlineData(ri, size)
		if err != nil {
			return nil, nil, err
		}
		return filesystem.InlineReader(inline), inline, nil
	case fl&flagExtents != 0:
		var err error
		budget := f.blocksCount // a file cannot use more tree nodes than the filesystem has blocks
		if fr.Extents, err = f.walkExtents(ri.b[40:100], ri.off+40, 0, &budget, nil); err != nil {
			return nil, nil, err
		}
	default:
		var err error
		if fr.Extents, err = f.blockMap(ri, size); err != nil {
			return nil, nil, err
		}
	}
	fr.Sort()
	return fr, nil, nil
}

func (f *FS) walkExtents(node []byte, at int64, depthSeen int, budget *uint64, out []filesystem.Extent) ([]filesystem.Extent, error) {
	le := binary.LittleEndian
	if len(node) < 12 || le.Uint16(node[0:]) != extentMagic {
		return nil, byteio.Corrupt(f.name, at, "extent header magic missing")
	}
	entries := int(le.Uint16(node[2:]))
	depth := int(le.Uint16(node[6:]))
	if depth > maxExtentDepth || depthSeen > maxExtentDepth {
		return nil, byteio.Corrupt(f.name, at+6, "extent tree depth %d too deep", depth)
	}
	if 12+entries*12 > len(node) {
		return nil, byteio.Corrupt(f.name, at+2, "extent node claims %d entries, room for %d", entries, (len(node)-12)/12)
	}
	for i := 0; i < entries; i++ {
		e := node[12+i*12:]
		if depth == 0 {
			ln := uint32(le.Uint16(e[4:]))
			unwritten := false
			if ln > 32768 {
				ln -= 32768
				unwritten = true
			}
			phys := uint64(le.Uint16(e[6:]))<<32 | uint64(le.Uint32(e[8:]))
			if phys+uint64(ln) > f.blocksCount {
				return nil, byteio.Corrupt(f.name, at+int64(12+i*12), "extent to blocks %d+%d outside the filesystem", phys, ln)
			}
			if ln == 0 {
				return nil, byteio.Corrupt(f.name, at+int64(12+i*12), "extent of length 0")
			}
			if len(out) >= maxExtents || *budget == 0 {
				return nil, byteio.Corrupt(f.name, at, "more extents in one file than the filesystem has blocks (or than %d)", maxExtents)
			}
			*budget--
			out = append(out, filesystem.Extent{Logical: uint64(le.Uint32(e[0:])), Length: uint64(ln), Physical: int64(phys) * f.blockSize, Unwritten: unwritten})
			continue
		}
		child := uint64(le.Uint16(e[8:]))<<32 | uint64(le.Uint32(e[4:]))
		if child >= f.blocksCount {
			return nil, byteio.Corrupt(f.name, at+int64(12+i*12), "extent index to block %d outside the filesystem", child)
		}
		coff := int64(child) * f.blockSize
		if *budget == 0 {
			return nil, byteio.Corrupt(f.name, coff, "extent tree has more nodes than the filesystem has blocks")
		}
		*budget--
		blk, err := byteio.ReadAt(f.r, f.name, coff, int(f.blockSize))
		if err != nil {
			return nil, err
		}
		if int(le.Uint16(blk[6:])) != depth-1 {
			return nil, byteio.Corrupt(f.name, coff+6, "extent node depth %d under a node of depth %d", le.Uint16(blk[6:]), depth)
		}
		if out, err = f.walkExtents(blk, coff, depthSeen+1, budget, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// blockMap reads the classic ext2/3 direct and indirect block pointers as one-block extents
// (merged when contiguous).
func (f *FS) blockMap(ri *rawInode, size int64) ([]filesystem.Extent, error) {
	le := binary.LittleEndian
	nblocks := (size + f.blockSize - 1) / f.blockSize
	if nblocks > maxExtents*16 {
		return nil, byteio.Corrupt(f.name, ri.off+4, "inode %d of %d bytes is too large for an indirect block map", ri.ino, size)
	}
	var out []filesystem.Extent
	budget := f.blocksCount // mapped and indirect blocks together cannot exceed the filesystem
	spend := func() error {
		if budget == 0 {
			return byteio.Corrupt(f.name, ri.off+40, "inode %d maps more blocks than the filesystem has", ri.ino)
		}
		budget--
		return nil
	}
	add := func(logical uint32, phys uint64) error {
		if phys == 0 {
			return nil
		}
		if err := spend(); err != nil {
			return err
		}
		if phys >= f.blocksCount {
			return byteio.Corrupt(f.name, ri.off+40, "inode %d maps block %d outside the filesystem", ri.ino, phys)
		}
		at := int64(phys) * f.blockSize
		if n := len(out); n > 0 && out[n-1].Logical+out[n-1].Length == uint64(logical) && out[n-1].Physical+int64(out[n-1].Length)*f.blockSize == at {
			out[n-1].Length++
			return nil
		}
		out = append(out, filesystem.Extent{Logical: uint64(logical), Length: 1, Physical: at})
		return nil
	}
	per := f.blockSize / 4
	var logical int64
	var walk func(blk uint64, level int) error
	walk = func(blk uint64, level int) error {
		if blk == 0 {
			span := int64(1)
			for i := 0; i < level; i++ {
				span *= per
			}
			logical += span
			return nil
		}
		if blk >= f.blocksCount {
			return byteio.Corrupt(f.name, ri.off+40, "inode %d indirect block %d outside the filesystem", ri.ino, blk)
		}
		if err := spend(); err != nil {
			return err
		}
		b, err := byteio.ReadAt(f.r, f.name, int64(blk)*f.blockSize, int(f.blockSize))
		if err != nil {
			return err
		}
		for i := int64(0); i < per && logical < nblocks; i++ {
			p := uint64(le.Uint32(b[i*4:]))
			if level == 1 {
				if err := add(uint32(logical), p); err != nil {
					return err
				}
				logical++
				continue
			}
			if err := walk(p, level-1); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < 12 && logical < nblocks; i++ {
		if err := add(uint32(logical), uint64(le.Uint32(ri.b[40+i*4:]))); err != nil {
			return nil, err
		}
		logical++
	}
	for level := 1; level <= 3 && logical < nblocks; level++ {
		if err := walk(uint64(le.Uint32(ri.b[40+(11+level)*4:])), level); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Open implements fs.Volume.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	r, _, err := f.mapInode(ri)
	return r, err
}

// ReadDir implements fs.Volume. Hash-tree directories read linearly: their index blocks look
// like empty entries.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Dirent, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return nil, err
	}
	if ri.mode()&0o170000 != 0o040000 {
		return nil, byteio.Corrupt(f.name, ri.off, "inode %d is not a directory", ino)
	}
	fr, inline, err := f.mapInode(ri)
	if err != nil {
		return nil, err
	}
	size := ri.size()
	if size < 0 || size > maxDirBytes || size > f.size {
		return nil, byteio.Corrupt(f.name, ri.off+4, "directory inode %d is %d bytes", ino, size)
	}
	data := make([]byte, size)
	if n, err := fr.ReadAt(data, 0); n < len(data) {
		return nil, fmt.Errorf("%s: directory inode %d: %w", f.name, ino, err)
	}
	le := binary.LittleEndian
	var out []filesystem.Dirent
	chunk := int(f.blockSize)
	start := 0
	if inline != nil {
		// inline directory: 4 bytes of parent inode, then entries
		chunk = len(data)
		start = 4
	}
	var seed uint32
	if f.csum && inline == nil {
		seed = crc32c(crc32c(f.csumSeed, le.AppendUint32(nil, uint32(ino))), ri.b[0x64:0x68])
	}
	for base := 0; base < len(data); base += chunk {
		end := min(base+chunk, len(data))
		pos := base
		if base == 0 {
			pos = start
		}
		if inline == nil {
			var err error
			if end, err = f.checkDirBlock(ri, ino, data[base:end], base, seed); err != nil {
				return nil, err
			}
			end += base
		}
		for pos+8 <= end {
			inum := le.Uint32(data[pos:])
			rec := int(le.Uint16(data[pos+4:]))
			nameLen := int(data[pos+6])
			ftype := data[pos+7]
			if rec < 8 || pos+rec > end || 8+nameLen > rec {
				return nil, byteio.Corrupt(f.name, ri.off, "directory inode %d: bad entry at byte %d (rec_len %d, name_len %d)", ino, pos, rec, nameLen)
			}
			name := string(data[pos+8 : pos+8+nameLen])
			if inum != 0 && name != "." && name != ".." && nameLen > 0 {
				d := filesystem.Dirent{Name: name, Ino: uint64(inum)}
				if t, ok := filesystem.DirentType(ftype); ok {
					d.Type, d.TypeKnown = t, true
				}
				out = append(out, d)
			}
			pos += rec
		}
	}
	return out, nil
}

// checkDirBlock refuses a directory block that cannot be what the filesystem wrote, so that
// a damaged directory is an error rather than an empty one: the first block of a directory
// starts with ".", and with metadata_csum every leaf block ends in a checksum entry whose
// crc32c matches. It returns where the entries of the block end (before the checksum entry).
func (f *FS) checkDirBlock(ri *rawInode, ino uint64, b []byte, base int, seed uint32) (int, error) {
	le := binary.LittleEndian
	indexed := ri.flags()&flagIndex != 0
	if base == 0 && (len(b) < 12 || le.Uint32(b) == 0 || b[6] != 1 || b[8] != '.') {
		return 0, byteio.Corrupt(f.name, ri.off, "directory inode %d: its first block does not start with \".\"", ino)
	}
	if !f.csum || len(b) < 12 {
		return len(b), nil
	}
	// an htree index block (the root, block 0 of an indexed directory, or an internal node: one
	// empty entry over the whole block) carries its checksum in a dx_tail after its entries. Its
	// last 12 bytes may still look like the checksum entry of the leaf block it was made from
	// (the kernel leaves that entry's rec_len and type in dt_reserved), so it is tried first.
	if indexed && (base == 0 || le.Uint32(b) == 0 && int(le.Uint16(b[4:])) == len(b)) {
		if ok, err := f.checkIndexBlock(ri, ino, b, base, seed); ok || err != nil {
			return len(b), err
		}
	}
	t := b[len(b)-12:]
	if le.Uint32(t) == 0 && le.Uint16(t[4:]) == 12 && t[6] == 0 && t[7] == 0xDE {
		if want, got := le.Uint32(t[8:]), crc32c(seed, b[:len(b)-12]); want != got {
			return 0, byteio.Corrupt(f.name, ri.off, "directory inode %d: block at byte %d fails its checksum (stored %#x, computed %#x)", ino, base, want, got)
		}
		return len(b) - 12, nil
	}
	// no checksum entry: only an htree index block (one empty entry over the block, then the
	// index) looks like that, in a directory marked as indexed
	if indexed && (base == 0 || le.Uint32(b) == 0 && int(le.Uint16(b[4:])) == len(b)) {
		return len(b), nil
	}
	return 0, byteio.Corrupt(f.name, ri.off, "directory inode %d: block at byte %d has no checksum entry (metadata_csum is on)", ino, base)
}

// checkIndexBlock verifies an htree index block's dx_tail checksum (the kernel's ext4_dx_csum):
// crc32c over the block up to the end of its used entries, then over dt_reserved and a zeroed
// dt_checksum. ok is false when the block does not
// hold a well-formed index (then it is checked as a leaf).
func (f *FS) checkIndexBlock(ri *rawInode, ino uint64, b []byte, base int, seed uint32) (ok bool, err error) {
	le := binary.LittleEndian
	countOff := 8 // an internal node: the empty entry's header, then limit and count
	if base == 0 {
		// the root: "." (12 bytes), ".." (12 bytes), dx_root_info (info_length bytes)
		if len(b) < 32 {
			return false, nil
		}
		countOff = 24 + int(b[24+5])
	}
	if countOff+8 > len(b) {
		return false, nil
	}
	limit, count := int(le.Uint16(b[countOff:])), int(le.Uint16(b[countOff+2:]))
	tail := countOff + limit*8
	if count == 0 || count > limit || tail+8 != len(b) {
		return false, nil
	}
	got := crc32c(crc32c(crc32c(seed, b[:countOff+count*8]), b[tail:tail+4]), make([]byte, 4)) // then a zero checksum field
	if want := le.Uint32(b[tail+4:]); want != got {
		return false, byteio.Corrupt(f.name, ri.off, "directory inode %d: index block at byte %d fails its checksum (stored %#x, computed %#x)", ino, base, want, got)
	}
	return true, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is ext4's ext4_chksum: CRC-32C continued from seed, without the final inversion.
func crc32c(seed uint32, p []byte) uint32 { return ^crc32.Update(^seed, castagnoli, p) }

// Readlink implements fs.Volume.
func (f *FS) Readlink(ino uint64) (string, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return "", err
	}
	if ri.mode()&0o170000 != 0o120000 {
		return "", byteio.Corrupt(f.name, ri.off, "inode %d is not a symlink", ino)
	}
	if ri.flags()&flagEncrypt != 0 {
		return "", byteio.Corrupt(f.name, ri.off+32, "symlink inode %d is encrypted (fscrypt); its target cannot be read", ino)
	}
	size := ri.size()
	if size <= 0 || size > maxSymlinkLen {
		return "", byteio.Corrupt(f.name, ri.off+4, "symlink inode %d has length %d", ino, size)
	}
	if ri.flags()&(flagExtents|flagInlineData) == 0 && size < 60 {
		return string(ri.b[40 : 40+size]), nil // fast symlink: the target is in i_block
	}
	fr, _, err := f.mapInode(ri)
	if err != nil {
		return "", err
	}
	buf := make([]byte, size)
	if n, err := fr.ReadAt(buf, 0); n < len(buf) {
		return "", fmt.Errorf("%s: symlink inode %d: %w", f.name, ino, err)
	}
	return string(buf), nil
}
