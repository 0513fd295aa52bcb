// Package vfat reads FAT12, FAT16 and FAT32 filesystems (EFI system partitions) from an
// io.ReaderAt, read-only and without mounting, with long file names. It implements the Volume
// interface of the parent fs package.
package vfat

import (
	"encoding/binary"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

const (
	attrReadOnly = 0x01
	attrVolumeID = 0x08
	attrDir      = 0x10
	attrLFN      = 0x0F
	rootIno      = 1
	maxDirBytes  = 16 << 20
)

// FS is an opened FAT filesystem.
type FS struct {
	name        string
	r           io.ReaderAt
	size        int64
	bits        int // 12, 16 or 32
	clusterSize int64
	dataStart   int64 // byte offset of cluster 2
	clusters    uint32
	rootStart   int64 // FAT12/16: the fixed root directory region
	rootBytes   int64
	rootCluster uint32 // FAT32
	fat         []byte

	mu      sync.Mutex
	entries map[uint64]entry // inode number (entry offset + 2) → directory entry
}

type entry struct {
	attr    byte
	cluster uint32
	size    int64
	mtime   time.Time
}

// Open reads the boot sector and the first FAT.
func Open(name string, r io.ReaderAt, size int64) (*FS, error) {
	bs, err := byteio.ReadAt(r, name, 0, 512)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	bps := int64(le.Uint16(bs[11:]))
	spc := int64(bs[13])
	reserved := int64(le.Uint16(bs[14:]))
	nfats := int64(bs[16])
	rootEntries := int64(le.Uint16(bs[17:]))
	total := int64(le.Uint16(bs[19:]))
	if total == 0 {
		total = int64(le.Uint32(bs[32:]))
	}
	fatSize := int64(le.Uint16(bs[22:]))
	if fatSize == 0 {
		fatSize = int64(le.Uint32(bs[36:]))
	}
	if bps < 512 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 || reserved == 0 || nfats == 0 || fatSize == 0 {
		return nil, byteio.Corrupt(name, 11, "FAT boot sector parameters invalid (sector %d, cluster %d sectors, %d FATs)", bps, spc, nfats)
	}
	f := &FS{name: name, r: r, size: size, clusterSize: bps * spc, entries: map[uint64]entry{}}
	rootSectors := (rootEntries*32 + bps - 1) / bps
	firstData := reserved + nfats*fatSize + rootSectors
	if total <= firstData || total*bps > size {
		return nil, byteio.Corrupt(name, 19, "FAT filesystem of %d sectors does not fit its layout or the %d-byte partition", total, size)
	}
	clusters := (total - firstData) / spc
	switch {
	case clusters < 4085:
		f.bits = 12
	case clusters < 65525:
		f.bits = 16
	default:
		f.bits = 32
		f.rootCluster = le.Uint32(bs[44:])
	}
	f.clusters = uint32(clusters)
	f.dataStart = firstData * bps
	f.rootStart = (reserved + nfats*fatSize) * bps
	f.rootBytes = rootEntries * 32
	need := (int64(clusters) + 2) * int64(f.bits) / 8
	if need > fatSize*bps {
		return nil, byteio.Corrupt(name, 22, "FAT of %d sectors cannot map %d clusters", fatSize, clusters)
	}
	if f.fat, err = byteio.ReadAt(r, name, reserved*bps, int(need+2)); err != nil {
		return nil, err
	}
	return f, nil
}

// Name implements fs.Volume.
func (f *FS) Name() string { return f.name }

// Root implements fs.Volume.
func (f *FS) Root() uint64 { return rootIno }

func (f *FS) next(c uint32) (uint32, bool) {
	le := binary.LittleEndian
	switch f.bits {
	case 12:
		off := c + c/2
		v := uint32(le.Uint16(f.fat[off:]))
		if c&1 == 1 {
			v >>= 4
		}
		v &= 0xFFF
		return v, v < 0xFF8
	case 16:
		v := uint32(le.Uint16(f.fat[2*c:]))
		return v, v < 0xFFF8
	}
	v := le.Uint32(f.fat[4*c:]) & 0x0FFFFFFF
	return v, v < 0x0FFFFFF8
}

// chain returns the extents of a cluster chain starting at c, at most limit bytes long.
func (f *FS) chain(c uint32, limit int64) ([]filesystem.Extent, error) {
	var out []filesystem.Extent
	var logical uint64
	for steps := uint32(0); c >= 2; steps++ {
		if c >= f.clusters+2 || steps > f.clusters {
			return nil, byteio.Corrupt(f.name, f.dataStart, "cluster chain reaches cluster %d (of %d) or loops", c, f.clusters)
		}
		phys := f.dataStart + int64(c-2)*f.clusterSize
		if n := len(out); n > 0 && out[n-1].Physical+int64(out[n-1].Length)*f.clusterSize == phys {
			out[n-1].Length++
		} else {
			out = append(out, filesystem.Extent{Logical: logical, Length: 1, Physical: phys})
		}
		logical++
		if int64(logical)*f.clusterSize >= limit {
			break
		}
		nx, more := f.next(c)
		if !more {
			break
		}
		c = nx
	}
	return out, nil
}

func (f *FS) lookup(ino uint64) (entry, error) {
	if ino == rootIno {
		return entry{attr: attrDir, cluster: f.rootCluster}, nil
	}
	f.mu.Lock()
	e, ok := f.entries[ino]
	f.mu.Unlock()
	if !ok {
		return entry{}, byteio.Corrupt(f.name, int64(ino-2), "no directory entry read at this offset")
	}
	return e, nil
}

// Inode implements fs.Volume.
func (f *FS) Inode(ino uint64) (*filesystem.Inode, error) {
	e, err := f.lookup(ino)
	if err != nil {
		return nil, err
	}
	mode := uint32(0o100644)
	if e.attr&attrDir != 0 {
		mode = 0o040755
	} else if e.attr&attrReadOnly != 0 {
		mode = 0o100444
	}
	return &filesystem.Inode{Ino: ino, Mode: filesystem.UnixMode(mode), Size: e.size, Nlink: 1, ModTime: e.mtime}, nil
}

// Open implements fs.Volume.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	e, err := f.lookup(ino)
	if err != nil {
		return nil, err
	}
	ext, err := f.chain(e.cluster, e.size)
	if err != nil {
		return nil, err
	}
	if int64(len(ext)) > 0 && e.size > 0 {
		var covered int64
		for _, x := range ext {
			covered += int64(x.Length) * f.clusterSize
		}
		if covered < e.size {
			return nil, byteio.Corrupt(f.name, ext[0].Physical, "file of %d bytes has a cluster chain of %d bytes", e.size, covered)
		}
	}
	return &filesystem.ExtentReader{R: f.r, VolSize: f.size, Name: f.name, Ino: ino, BlockSize: f.clusterSize, Size: e.size, Extents: ext}, nil
}

// Readlink implements fs.Volume: FAT has no symbolic links.
func (f *FS) Readlink(ino uint64) (string, error) {
	return "", byteio.Corrupt(f.name, int64(ino), "FAT has no symbolic links")
}

// ReadDir implements fs.Volume, assembling long file names.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Dirent, error) {
	e, err := f.lookup(ino)
	if err != nil {
		return nil, err
	}
	if e.attr&attrDir == 0 {
		return nil, byteio.Corrupt(f.name, int64(ino-2), "not a directory")
	}
	data, phys, err := f.dirBytes(ino, e)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	var out []filesystem.Dirent
	var names longName
	for off := 0; off+32 <= len(data); off += 32 {
		d := data[off : off+32]
		if d[0] == 0 {
			break
		}
		if d[0] == 0xE5 || d[11] != attrLFN && d[11]&attrVolumeID != 0 {
			names.reset()
			continue
		}
		if d[11] == attrLFN {
			names.add(d)
			continue
		}
		name := names.take(d)
		if name == "." || name == ".." || name == "" {
			continue
		}
		cl := uint32(le.Uint16(d[26:]))
		if f.bits == 32 {
			cl |= uint32(le.Uint16(d[20:])) << 16
		}
		en := entry{attr: d[11], cluster: cl, size: int64(le.Uint32(d[28:])), mtime: fatTime(le.Uint16(d[24:]), le.Uint16(d[22:]))}
		if en.attr&attrDir != 0 {
			en.size = 0
		}
		id := uint64(phys(off)) + 2
		f.mu.Lock()
		f.entries[id] = en
		f.mu.Unlock()
		de := filesystem.Dirent{Name: name, Ino: id, TypeKnown: true}
		if en.attr&attrDir != 0 {
			de.Type = filesystem.ModeDir
		}
		out = append(out, de)
	}
	return out, nil
}

// dirBytes reads a directory's bytes, and gives where each byte lives on the volume (entries
// are numbered by that position).
func (f *FS) dirBytes(ino uint64, e entry) (data []byte, phys func(off int) int64, err error) {
	if ino == rootIno && f.bits != 32 {
		if data, err = byteio.ReadAt(f.r, f.name, f.rootStart, int(f.rootBytes)); err != nil {
			return nil, nil, err
		}
		return data, func(off int) int64 { return f.rootStart + int64(off) }, nil
	}
	where, err := f.chain(e.cluster, maxDirBytes)
	if err != nil {
		return nil, nil, err
	}
	for _, x := range where {
		b, err := byteio.ReadAt(f.r, f.name, x.Physical, int(int64(x.Length)*f.clusterSize))
		if err != nil {
			return nil, nil, err
		}
		data = append(data, b...)
	}
	return data, func(off int) int64 {
		for _, x := range where {
			start := int64(x.Logical) * f.clusterSize
			if int64(off) < start+int64(x.Length)*f.clusterSize {
				return x.Physical + int64(off) - start
			}
		}
		return 0
	}, nil
}

// longName collects the VFAT long-name entries that precede a short entry.
type longName struct {
	chars []uint16
	sum   byte
}

func (l *longName) reset() { l.chars = nil }

// add takes one long-name entry; one out of sequence or of another checksum drops the name.
func (l *longName) add(d []byte) {
	le := binary.LittleEndian
	seq := int(d[0] & 0x1F)
	if d[0]&0x40 != 0 || l.chars == nil {
		l.chars = make([]uint16, seq*13)
		l.sum = d[13]
	}
	if seq == 0 || seq*13 > len(l.chars) || d[13] != l.sum {
		l.chars = nil
		return
	}
	part := l.chars[(seq-1)*13 : seq*13]
	for i := 0; i < 5; i++ {
		part[i] = le.Uint16(d[1+2*i:])
	}
	for i := 0; i < 6; i++ {
		part[5+i] = le.Uint16(d[14+2*i:])
	}
	for i := 0; i < 2; i++ {
		part[11+i] = le.Uint16(d[28+2*i:])
	}
}

// take returns the name of the short entry d: the long name collected before it when its
// checksum matches, else the 8.3 name; the collected name is used up.
func (l *longName) take(d []byte) string {
	name := shortName(d)
	if l.chars != nil && checksum(d[:11]) == l.sum {
		n := len(l.chars)
		for i, c := range l.chars {
			if c == 0 || c == 0xFFFF {
				n = i
				break
			}
		}
		name = string(utf16.Decode(l.chars[:n]))
	}
	l.chars = nil
	return name
}

func shortName(d []byte) string {
	base := strings.TrimRight(string(d[0:8]), " ")
	ext := strings.TrimRight(string(d[8:11]), " ")
	if d[0] == 0x05 {
		base = "\xe5" + base[1:]
	}
	if d[12]&0x08 != 0 {
		base = strings.ToLower(base)
	}
	if d[12]&0x10 != 0 {
		ext = strings.ToLower(ext)
	}
	if ext != "" {
		return base + "." + ext
	}
	return base
}

func checksum(name []byte) byte {
	var s byte
	for _, c := range name {
		s = (s>>1 | s<<7) + c
	}
	return s
}

func fatTime(date, tm uint16) time.Time {
	if date == 0 {
		return time.Time{}
	}
	return time.Date(1980+int(date>>9), time.Month(date>>5&0xF), int(date&0x1F),
		int(tm>>11), int(tm>>5&0x3F), int(tm&0x1F)*2, 0, time.UTC)
}
