// Package ntfs reads NTFS volumes (Windows system and data partitions) from an io.ReaderAt,
// read-only and without mounting: the MFT with update-sequence fixups and attribute lists,
// resident and non-resident attributes, $I30 directory indexes, and junctions and symbolic links
// as symlinks that resolve inside the image. It implements the Volume interface of the parent fs
// package; lookups are case-insensitive, as on Windows.
package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// Attribute types.
const (
	attrStandardInformation = 0x10
	attrAttributeList       = 0x20
	attrFileName            = 0x30
	attrData                = 0x80
	attrIndexRoot           = 0x90
	attrIndexAllocation     = 0xA0
	attrReparsePoint        = 0xC0
	attrEnd                 = 0xFFFFFFFF
)

const (
	recordInUse = 0x0001
	recordIsDir = 0x0002

	rootRecord = 5
	// records below this number are the volume's own metadata ($MFT, $Bitmap, ...); they are
	// not listed in directories
	firstUserRecord = 24

	flagCompressed = 0x0001
	flagEncrypted  = 0x4000

	tagMountPoint = 0xA0000003
	tagWOF        = 0x80000017
	tagSymlink    = 0xA000000C

	maxCachedRecords   = 4096
	maxExtensionRecs   = 512
	maxAttrListBytes   = 1 << 20
	maxReparseBytes    = 16 << 10
	maxIndexRecordSize = 64 << 10
	// maxVCN keeps cluster arithmetic far from overflow (2^40 clusters of up to 2 MiB).
	maxVCN = 1 << 40
)

var le = binary.LittleEndian

// FS is an opened NTFS volume.
type FS struct {
	name        string
	r           io.ReaderAt
	size        int64
	clusterSize int64
	clusters    uint64
	recordSize  int64
	mft         io.ReaderAt
	mftRecords  uint64

	mu    sync.Mutex
	cache map[uint64]*record
}

// attr is one attribute, with the runs of every extent of a non-resident one merged.
type attr struct {
	typ         uint32
	name        string
	flags       uint16
	nonResident bool
	value       []byte // resident value
	startVCN    uint64
	compUnit    uint8 // log2 of clusters per compression unit, for compressed attributes
	runs        []filesystem.Extent
	realSize    int64
	initSize    int64
	at          int64 // byte offset of the attribute header in the MFT, for errors
}

type record struct {
	num   uint64
	flags uint16
	links uint16
	attrs []*attr
}

func (r *record) find(typ uint32, name string) *attr {
	for _, a := range r.attrs {
		if a.typ == typ && a.name == name {
			return a
		}
	}
	return nil
}

// Open reads the boot sector and the MFT's own record.
func Open(name string, r io.ReaderAt, size int64) (*FS, error) {
	bs, err := byteio.ReadAt(r, name, 0, 512)
	if err != nil {
		return nil, err
	}
	if string(bs[3:11]) != "NTFS    " {
		return nil, byteio.Corrupt(name, 3, "no NTFS signature")
	}
	bps := int64(le.Uint16(bs[11:]))
	spc := int64(bs[13])
	if spc > 0x80 {
		// Windows writes large cluster sizes as a negative power of two
		if 256-spc > 12 {
			return nil, byteio.Corrupt(name, 13, "cluster size 2^%d sectors is too large", 256-spc)
		}
		spc = 1 << (256 - spc)
	}
	cs := bps * spc
	if bps < 256 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 || cs > 2<<20 {
		return nil, byteio.Corrupt(name, 11, "NTFS sector size %d or cluster size %d sectors invalid", bps, spc)
	}
	f := &FS{name: name, r: r, size: size, clusterSize: cs, cache: map[uint64]*record{}}
	f.clusters = uint64(size / cs)
	f.recordSize, err = f.unitSize(int8(bs[0x40]), 0x40)
	if err != nil {
		return nil, err
	}
	if f.recordSize < 256 || f.recordSize > 64<<10 {
		return nil, byteio.Corrupt(name, 0x40, "MFT record size %d invalid", f.recordSize)
	}
	mftLCN := le.Uint64(bs[0x30:])
	if mftLCN >= f.clusters {
		return nil, byteio.Corrupt(name, 0x30, "MFT at cluster %d is outside the %d-cluster volume", mftLCN, f.clusters)
	}
	// the $MFT record describes where the rest of the MFT lives; its first extent covers at
	// least the records its attribute list can name
	f.mft = io.NewSectionReader(r, int64(mftLCN)*cs, size-int64(mftLCN)*cs)
	f.mftRecords = 16
	rec0, err := f.parseRecord(0)
	if err != nil {
		return nil, err
	}
	if err := f.setMFT(rec0); err != nil {
		return nil, err
	}
	if rec0.find(attrAttributeList, "") != nil {
		if err := f.loadExtensions(rec0); err != nil {
			return nil, err
		}
		if err := f.setMFT(rec0); err != nil {
			return nil, err
		}
	}
	if f.mftRecords <= rootRecord {
		return nil, byteio.Corrupt(name, int64(mftLCN)*cs, "MFT holds only %d records", f.mftRecords)
	}
	return f, nil
}

func (f *FS) setMFT(rec0 *record) error {
	d := rec0.find(attrData, "")
	if d == nil || !d.nonResident {
		return byteio.Corrupt(f.name, 0, "the $MFT record has no non-resident $DATA")
	}
	f.mft = f.extentReader(d, 0)
	f.mftRecords = uint64(d.realSize / f.recordSize)
	return nil
}

// unitSize decodes the boot sector's record-size bytes: clusters, or 2^-v bytes when negative.
func (f *FS) unitSize(v int8, off int64) (int64, error) {
	if v > 0 {
		return int64(v) * f.clusterSize, nil
	}
	if v < -31 || v == 0 {
		return 0, byteio.Corrupt(f.name, off, "size code %d invalid", v)
	}
	return 1 << uint(-v), nil
}

// Name implements fs.Volume.
func (f *FS) Name() string { return f.name }

// Root implements fs.Volume.
func (f *FS) Root() uint64 { return rootRecord }

// CaseInsensitive tells the tree to match names the way Windows does.
func (f *FS) CaseInsensitive() bool { return true }

// record returns a record with the attributes of its extension records merged in.
func (f *FS) record(num uint64) (*record, error) {
	f.mu.Lock()
	rec, ok := f.cache[num]
	f.mu.Unlock()
	if ok {
		return rec, nil
	}
	rec, err := f.parseRecord(num)
	if err != nil {
		return nil, err
	}
	if rec.flags&recordInUse == 0 {
		return nil, fmt.Errorf("%s: MFT record %d is not in use", f.name, num)
	}
	if rec.find(attrAttributeList, "") != nil {
		if err := f.loadExtensions(rec); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	if len(f.cache) >= maxCachedRecords {
		clear(f.cache)
	}
	f.cache[num] = rec
	f.mu.Unlock()
	return rec, nil
}

// readRecord reads one MFT record and applies its update-sequence fixups.
func (f *FS) readRecord(num uint64) ([]byte, int64, error) {
	if num >= f.mftRecords {
		return nil, 0, fmt.Errorf("%s: MFT record %d is past the MFT's %d records", f.name, num, f.mftRecords)
	}
	off := int64(num) * f.recordSize
	b := make([]byte, f.recordSize)
	if n, err := f.mft.ReadAt(b, off); n < len(b) {
		if err == nil || err == io.EOF {
			err = byteio.Corrupt(f.name, off, "MFT record %d is cut short", num)
		}
		return nil, off, err
	}
	if string(b[:4]) != "FILE" {
		return nil, off, byteio.Corrupt(f.name, off, "MFT record %d has no FILE signature", num)
	}
	if err := fixup(b, f.name, off); err != nil {
		return nil, off, err
	}
	return b, off, nil
}

// fixup checks and undoes the update sequence of a multi-sector record (FILE or INDX).
func fixup(b []byte, name string, off int64) error {
	usaOff := int(le.Uint16(b[4:]))
	usaCount := int(le.Uint16(b[6:]))
	if usaCount == 0 || usaCount-1 != len(b)/512 || usaOff+2*usaCount > len(b) || usaOff < 8 {
		return byteio.Corrupt(name, off+4, "update sequence array (offset %d, %d entries) does not fit the %d-byte record", usaOff, usaCount, len(b))
	}
	usn := b[usaOff : usaOff+2]
	for i := 1; i < usaCount; i++ {
		p := i*512 - 2
		if b[p] != usn[0] || b[p+1] != usn[1] {
			return byteio.Corrupt(name, off+int64(p), "update sequence mismatch (torn write)")
		}
		copy(b[p:p+2], b[usaOff+2*i:usaOff+2*i+2])
	}
	return nil
}

func (f *FS) parseRecord(num uint64) (*record, error) {
	b, off, err := f.readRecord(num)
	if err != nil {
		return nil, err
	}
	rec := &record{num: num, flags: le.Uint16(b[0x16:]), links: le.Uint16(b[0x12:])}
	attrs, err := f.parseAttrs(b, off)
	if err != nil {
		return nil, err
	}
	rec.attrs = attrs
	return rec, nil
}

func (f *FS) parseAttrs(b []byte, recOff int64) ([]*attr, error) {
	used := int(le.Uint32(b[0x18:]))
	pos := int(le.Uint16(b[0x14:]))
	if used > len(b) || pos < 0x18 || pos > used {
		return nil, byteio.Corrupt(f.name, recOff+0x14, "record attributes at %d, used size %d do not fit", pos, used)
	}
	var out []*attr
	for pos+4 <= used {
		typ := le.Uint32(b[pos:])
		if typ == attrEnd {
			break
		}
		at := recOff + int64(pos)
		if pos+16 > used {
			return nil, byteio.Corrupt(f.name, at, "attribute header cut short")
		}
		alen := int(le.Uint32(b[pos+4:]))
		if alen < 24 || alen > used-pos || alen%8 != 0 {
			return nil, byteio.Corrupt(f.name, at, "attribute length %d invalid", alen)
		}
		ab := b[pos : pos+alen]
		a := &attr{typ: typ, nonResident: ab[8] != 0, flags: le.Uint16(ab[12:]), at: at}
		nameLen, nameOff := int(ab[9]), int(le.Uint16(ab[10:]))
		if nameLen > 0 {
			if nameOff+2*nameLen > alen {
				return nil, byteio.Corrupt(f.name, at, "attribute name outside the attribute")
			}
			a.name = byteio.UTF16(ab[nameOff : nameOff+2*nameLen])
		}
		if !a.nonResident {
			vlen, voff := int(le.Uint32(ab[16:])), int(le.Uint16(ab[20:]))
			if voff > alen || vlen > alen-voff {
				return nil, byteio.Corrupt(f.name, at, "resident value (%d bytes at %d) outside the attribute", vlen, voff)
			}
			a.value = ab[voff : voff+vlen]
			a.realSize, a.initSize = int64(vlen), int64(vlen)
		} else {
			if alen < 64 {
				return nil, byteio.Corrupt(f.name, at, "non-resident attribute header cut short")
			}
			a.startVCN = le.Uint64(ab[16:])
			a.compUnit = ab[34]
			lastVCN := le.Uint64(ab[24:])
			runOff := int(le.Uint16(ab[32:]))
			a.realSize = int64(le.Uint64(ab[48:]))
			a.initSize = int64(le.Uint64(ab[56:]))
			if a.startVCN > maxVCN || lastVCN > maxVCN || runOff > alen || a.realSize < 0 || a.initSize < 0 {
				return nil, byteio.Corrupt(f.name, at, "non-resident attribute header invalid")
			}
			runs, err := f.decodeRuns(ab[runOff:], a.startVCN, at+int64(runOff))
			if err != nil {
				return nil, err
			}
			a.runs = runs
		}
		out = append(out, a)
		pos += alen
	}
	return out, nil
}

// decodeRuns decodes a mapping-pairs array into extents in cluster units; sparse runs are left
// out and read as zeros.
func (f *FS) decodeRuns(b []byte, vcn uint64, at int64) ([]filesystem.Extent, error) {
	var out []filesystem.Extent
	lcn := int64(0)
	for p := 0; p < len(b) && b[p] != 0; {
		ln, on := int(b[p]&0xF), int(b[p]>>4)
		if ln == 0 || ln > 8 || on > 8 || p+1+ln+on > len(b) {
			return nil, byteio.Corrupt(f.name, at+int64(p), "run header %#x invalid", b[p])
		}
		length := uint64(0)
		for i := ln - 1; i >= 0; i-- {
			length = length<<8 | uint64(b[p+1+i])
		}
		if length == 0 || length > maxVCN || vcn+length > maxVCN {
			return nil, byteio.Corrupt(f.name, at+int64(p), "run of %d clusters invalid", length)
		}
		if on > 0 {
			delta := int64(0)
			for i := on - 1; i >= 0; i-- {
				delta = delta<<8 | int64(b[p+1+ln+i])
			}
			// sign-extend
			delta <<= 64 - 8*uint(on)
			delta >>= 64 - 8*uint(on)
			lcn += delta
			if lcn < 0 || uint64(lcn)+length > f.clusters {
				return nil, byteio.Corrupt(f.name, at+int64(p), "run at cluster %d (%d clusters) is outside the volume", lcn, length)
			}
			out = append(out, filesystem.Extent{Logical: vcn, Length: length, Physical: lcn * f.clusterSize})
		}
		vcn += length
		p += 1 + ln + on
	}
	return out, nil
}

// loadExtensions merges the attributes kept in the extension records an attribute list names.
func (f *FS) loadExtensions(rec *record) error {
	al := rec.find(attrAttributeList, "")
	data, err := f.attrBytes(al, maxAttrListBytes)
	if err != nil {
		return err
	}
	seen := map[uint64]bool{rec.num: true}
	for p := 0; p+26 <= len(data); {
		elen := int(le.Uint16(data[p+4:]))
		if elen < 26 || p+elen > len(data) {
			return byteio.Corrupt(f.name, al.at, "attribute list entry at %d has length %d", p, elen)
		}
		ref := le.Uint64(data[p+16:]) & 0xFFFFFFFFFFFF
		p += elen
		if seen[ref] {
			continue
		}
		if len(seen) > maxExtensionRecs {
			return byteio.Corrupt(f.name, al.at, "attribute list names more than %d records", maxExtensionRecs)
		}
		seen[ref] = true
		b, off, err := f.readRecord(ref)
		if err != nil {
			return err
		}
		if base := le.Uint64(b[0x20:]) & 0xFFFFFFFFFFFF; base != rec.num {
			return byteio.Corrupt(f.name, off+0x20, "extension record %d belongs to record %d, not %d", ref, base, rec.num)
		}
		attrs, err := f.parseAttrs(b, off)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if a.typ == attrAttributeList {
				continue
			}
			// a later extent of a non-resident attribute adds its runs to the first one
			if prev := rec.find(a.typ, a.name); prev != nil && prev.nonResident && a.nonResident {
				if a.startVCN == 0 {
					prev.realSize, prev.initSize, prev.flags = a.realSize, a.initSize, a.flags
				}
				prev.runs = append(prev.runs, a.runs...)
				continue
			}
			rec.attrs = append(rec.attrs, a)
		}
	}
	return nil
}

// extentReader reads a non-resident attribute's bytes; past the initialized size they are zeros.
func (f *FS) extentReader(a *attr, num uint64) io.ReaderAt {
	er := &filesystem.ExtentReader{R: f.r, VolSize: f.size, Name: f.name, Ino: num, BlockSize: f.clusterSize, Size: a.realSize, Extents: append([]filesystem.Extent(nil), a.runs...)}
	er.Sort()
	if a.initSize >= a.realSize {
		return er
	}
	return &initReader{r: er, init: a.initSize}
}

type initReader struct {
	r    io.ReaderAt
	init int64
}

func (r *initReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	for i := 0; i < n; i++ {
		if off+int64(i) >= r.init {
			clear(p[i:n])
			break
		}
	}
	return n, err
}

// attrBytes reads a whole attribute value of at most limit bytes.
func (f *FS) attrBytes(a *attr, limit int64) ([]byte, error) {
	if !a.nonResident {
		return a.value, nil
	}
	if a.realSize > limit {
		return nil, byteio.Corrupt(f.name, a.at, "attribute of %d bytes is over the %d-byte limit", a.realSize, limit)
	}
	b := make([]byte, a.realSize)
	if n, err := f.extentReader(a, 0).ReadAt(b, 0); n < len(b) {
		if err == nil || err == io.EOF {
			err = byteio.Corrupt(f.name, a.at, "attribute data cut short")
		}
		return nil, err
	}
	return b, nil
}

// Inode implements fs.Volume.
func (f *FS) Inode(ino uint64) (*filesystem.Inode, error) {
	rec, err := f.record(ino)
	if err != nil {
		return nil, err
	}
	in := &filesystem.Inode{Ino: ino, Nlink: uint32(rec.links), Mode: 0o644}
	if rec.flags&recordIsDir != 0 {
		in.Mode = filesystem.ModeDir | 0o755
	}
	if si := rec.find(attrStandardInformation, ""); si != nil && len(si.value) >= 16 {
		in.ModTime = byteio.FileTime(le.Uint64(si.value[8:]))
	}
	if tag, _, err := f.reparse(rec); err == nil && (tag == tagMountPoint || tag == tagSymlink) {
		in.Mode = filesystem.ModeSymlink | 0o777
		return in, nil
	}
	if in.Mode.IsDir() {
		return in, nil
	}
	if d := rec.find(attrData, ""); d != nil {
		in.Size = d.realSize
	}
	return in, nil
}

// reparse returns the reparse tag and data of a record, or an error when it has none.
func (f *FS) reparse(rec *record) (uint32, []byte, error) {
	a := rec.find(attrReparsePoint, "")
	if a == nil {
		return 0, nil, fmt.Errorf("%s: record %d is not a reparse point", f.name, rec.num)
	}
	b, err := f.attrBytes(a, maxReparseBytes)
	if err != nil {
		return 0, nil, err
	}
	if len(b) < 8 {
		return 0, nil, byteio.Corrupt(f.name, a.at, "reparse data cut short")
	}
	return le.Uint32(b), b, nil
}

// Readlink implements fs.Volume. Junctions and absolute links name a drive ("\??\C:\Users");
// the drive is dropped so that the target resolves from this volume's root, inside the image.
func (f *FS) Readlink(ino uint64) (string, error) {
	rec, err := f.record(ino)
	if err != nil {
		return "", err
	}
	tag, b, err := f.reparse(rec)
	if err != nil {
		return "", err
	}
	hdr := 16
	relative := false
	switch tag {
	case tagMountPoint:
	case tagSymlink:
		hdr = 20
		if len(b) < 20 {
			return "", byteio.Corrupt(f.name, 0, "record %d: symbolic link reparse data cut short", ino)
		}
		relative = le.Uint32(b[16:])&1 != 0
	default:
		return "", fmt.Errorf("%s: record %d: reparse tag %#x is not a link", f.name, ino, tag)
	}
	if len(b) < hdr {
		return "", byteio.Corrupt(f.name, 0, "record %d: reparse data cut short", ino)
	}
	so, sn := int(le.Uint16(b[8:])), int(le.Uint16(b[10:]))
	if hdr+so+sn > len(b) {
		return "", byteio.Corrupt(f.name, 0, "record %d: reparse target outside its data", ino)
	}
	target := strings.ReplaceAll(byteio.UTF16(b[hdr+so:hdr+so+sn]), `\`, "/")
	if relative {
		return target, nil
	}
	target = strings.TrimPrefix(target, "/??/")
	if len(target) >= 2 && target[1] == ':' {
		target = target[2:]
	}
	if !strings.HasPrefix(target, "/") {
		return "", fmt.Errorf("%s: record %d: link target %q is not on a drive of this image", f.name, ino, target)
	}
	return target, nil
}

// Open implements fs.Volume: the unnamed $DATA stream.
func (f *FS) Open(ino uint64) (io.ReaderAt, error) {
	rec, err := f.record(ino)
	if err != nil {
		return nil, err
	}
	d := rec.find(attrData, "")
	if d == nil {
		return filesystem.InlineReader(nil), nil
	}
	if d.flags&flagEncrypted != 0 {
		return nil, fmt.Errorf("%s: record %d is EFS-encrypted", f.name, ino)
	}
	if !d.nonResident {
		return filesystem.InlineReader(d.value), nil
	}
	if d.flags&flagCompressed != 0 {
		return f.compressedReader(d, ino)
	}
	if tag, _, err := f.reparse(rec); err == nil && tag == tagWOF {
		return nil, fmt.Errorf("%s: record %d is compressed by Windows (WOF, CompactOS), which is not read", f.name, ino)
	}
	return f.extentReader(d, ino), nil
}

// ReadDir implements fs.Volume by walking the $I30 index B-tree from its root.
func (f *FS) ReadDir(ino uint64) ([]filesystem.Dirent, error) {
	rec, err := f.record(ino)
	if err != nil {
		return nil, err
	}
	if rec.flags&recordIsDir == 0 {
		return nil, fmt.Errorf("%s: record %d is not a directory", f.name, ino)
	}
	root := rec.find(attrIndexRoot, "$I30")
	if root == nil || root.nonResident || len(root.value) < 32 {
		return nil, byteio.Corrupt(f.name, 0, "directory record %d has no $I30 index root", ino)
	}
	idxSize := int64(le.Uint32(root.value[8:]))
	if idxSize < 512 || idxSize > maxIndexRecordSize || idxSize&(idxSize-1) != 0 {
		return nil, byteio.Corrupt(f.name, root.at, "index record size %d invalid", idxSize)
	}
	vcnSize := f.clusterSize
	if idxSize < f.clusterSize {
		vcnSize = 512
	}
	d := &dirReader{f: f, ino: ino, seen: map[string]bool{}}
	var pending []uint64
	if pending, err = d.node(root.value[16:], root.at); err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return d.out, nil
	}
	alloc := rec.find(attrIndexAllocation, "$I30")
	if alloc == nil || !alloc.nonResident {
		return nil, byteio.Corrupt(f.name, root.at, "directory record %d points into an index allocation it lacks", ino)
	}
	ar := f.extentReader(alloc, ino)
	visited := map[uint64]bool{}
	maxNodes := alloc.realSize/idxSize + 1
	buf := make([]byte, idxSize)
	for len(pending) > 0 {
		vcn := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		if visited[vcn] {
			continue
		}
		visited[vcn] = true
		if int64(len(visited)) > maxNodes {
			return nil, byteio.Corrupt(f.name, alloc.at, "directory record %d index visits more nodes than it has", ino)
		}
		off := int64(vcn) * vcnSize
		if vcn > maxVCN || off+idxSize > alloc.realSize {
			return nil, byteio.Corrupt(f.name, alloc.at, "directory record %d index node at VCN %d is outside its allocation", ino, vcn)
		}
		if n, err := ar.ReadAt(buf, off); n < len(buf) {
			if err == nil || err == io.EOF {
				err = byteio.Corrupt(f.name, alloc.at, "index node cut short")
			}
			return nil, err
		}
		if string(buf[:4]) != "INDX" {
			return nil, byteio.Corrupt(f.name, alloc.at, "directory record %d index node at VCN %d has no INDX signature", ino, vcn)
		}
		if err := fixup(buf, f.name, alloc.at); err != nil {
			return nil, err
		}
		more, err := d.node(buf[0x18:], alloc.at)
		if err != nil {
			return nil, err
		}
		pending = append(pending, more...)
	}
	return d.out, nil
}

type dirReader struct {
	f    *FS
	ino  uint64
	out  []filesystem.Dirent
	seen map[string]bool
}

// node reads the entries of one index node (the header and what follows it) and returns the
// VCNs of the child nodes.
func (d *dirReader) node(b []byte, at int64) ([]uint64, error) {
	if len(b) < 16 {
		return nil, byteio.Corrupt(d.f.name, at, "index node header cut short")
	}
	start, end := int(le.Uint32(b[0:])), int(le.Uint32(b[4:]))
	if start < 16 || end > len(b) || start > end {
		return nil, byteio.Corrupt(d.f.name, at, "index entries (%d to %d) outside the %d-byte node", start, end, len(b))
	}
	var children []uint64
	for p := start; p+16 <= end; {
		e := b[p:]
		elen, klen, flags := int(le.Uint16(e[8:])), int(le.Uint16(e[10:])), le.Uint16(e[12:])
		if elen < 16 || elen%8 != 0 || p+elen > end || 16+klen > elen {
			return nil, byteio.Corrupt(d.f.name, at, "index entry at %d has length %d (key %d)", p, elen, klen)
		}
		if flags&1 != 0 {
			if elen < 24 {
				return nil, byteio.Corrupt(d.f.name, at, "index entry at %d is too short for a child pointer", p)
			}
			children = append(children, le.Uint64(e[elen-8:]))
		}
		if flags&2 != 0 {
			break
		}
		if klen >= 66 {
			d.add(le.Uint64(e[0:])&0xFFFFFFFFFFFF, e[16:16+klen])
		}
		p += elen
	}
	return children, nil
}

// add records one $FILE_NAME key, skipping DOS short names, the volume's metadata files and
// the directory itself.
func (d *dirReader) add(ref uint64, key []byte) {
	nameLen, ns := int(key[64]), key[65]
	if ns == 2 || 66+2*nameLen > len(key) || ref == d.ino {
		return
	}
	name := byteio.UTF16(key[66 : 66+2*nameLen])
	if ref < firstUserRecord || name == "" || strings.ContainsAny(name, "/\x00") || d.seen[name] {
		return
	}
	d.seen[name] = true
	// the type is left to Inode: the attributes copied into index entries can be stale (a
	// reparse point set after the entry was written), and a link must never pass for a file
	d.out = append(d.out, filesystem.Dirent{Name: name, Ino: ref})
}

// Xattrs implements filesystem.XattrVolume with the record's named $DATA streams (alternate
// data streams: `ntfscp -N`, `Set-Content -Stream`, `echo x > file:name`), each as an attribute
// named ":NAME:$DATA", the stream's name as Windows writes it in full (FILE:NAME:$DATA), so that
// the content pass searches them like the extended attributes of other filesystems ("PATH
// [xattr :NAME:$DATA]"). A stream over filesystem.MaxXattrValue, EFS-encrypted, or that cannot
// be read is an error naming it (the streams read are returned with it): it is unseen, never
// skipped in silence.
func (f *FS) Xattrs(ino uint64) ([]filesystem.Xattr, error) {
	rec, err := f.record(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Xattr
	var errs []error
	for _, a := range rec.attrs {
		if a.typ != attrData || a.name == "" {
			continue
		}
		name := ":" + a.name + ":$DATA"
		v, err := f.streamBytes(a, ino)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", name, err))
			continue
		}
		out = append(out, filesystem.Xattr{Name: name, Value: v})
	}
	return out, errors.Join(errs...)
}

// streamBytes reads a named $DATA stream whole, at most filesystem.MaxXattrValue bytes.
func (f *FS) streamBytes(a *attr, ino uint64) ([]byte, error) {
	if a.flags&flagEncrypted != 0 {
		return nil, fmt.Errorf("%s: record %d: EFS-encrypted", f.name, ino)
	}
	if !a.nonResident {
		return a.value, nil
	}
	if a.realSize < 0 || a.realSize > filesystem.MaxXattrValue {
		return nil, fmt.Errorf("%s: record %d: %d bytes, over the %d bytes a stream is read whole to be searched", f.name, ino, a.realSize, filesystem.MaxXattrValue)
	}
	var r io.ReaderAt = f.extentReader(a, ino)
	if a.flags&flagCompressed != 0 {
		cr, err := f.compressedReader(a, ino)
		if err != nil {
			return nil, err
		}
		r = cr
	}
	b := make([]byte, a.realSize)
	if n, err := r.ReadAt(b, 0); n < len(b) {
		if err == nil || err == io.EOF {
			err = byteio.Corrupt(f.name, a.at, "stream data cut short")
		}
		return nil, err
	}
	return b, nil
}
