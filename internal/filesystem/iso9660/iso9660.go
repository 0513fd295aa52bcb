// Package iso9660 reads ISO 9660 images (CD and DVD images, installers, a cloud-init NoCloud
// "cidata" seed) from an io.ReaderAt, read-only: the directory tree of the primary volume
// descriptor with its Rock Ridge names (NM), symbolic links (SL) and relocated directories
// (CL/RE), or of a Joliet supplementary descriptor when there is no Rock Ridge; files in several
// extents (multi-extent). A zisofs-compressed file (Rock Ridge ZF) is listed with Zisofs set:
// its bytes are not decoded here.
//
// The layout read is ECMA-119 (volume descriptors from sector 16, directory records), SUSP 1.12
// (system use entries, CE continuation areas, SP skip length) and RRIP 1.12 (NM, SL, PX, CL, RE,
// and the ZF entry zisofs-tools defines), as the Linux kernel's isofs reads them (fs/isofs/
// inode.c isofs_fill_super, dir.c do_isofs_readdir, rock.c parse_rock_ridge_inode_internal,
// Linux 6.1), in this package's own terms. Every count and size read from the image is bounded,
// and a malformed structure is an error naming the image and the offset.
package iso9660

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf16"
)

const (
	sectorSize     = 2048
	firstVD        = 16
	maxVDs         = 64       // volume descriptors read before the terminator
	maxDirBytes    = 16 << 20 // one directory's records
	maxTotalDir    = 64 << 20 // all directories' records
	maxDepth       = 64
	maxFiles       = 1 << 20
	maxExtents     = 4096 // extents of one multi-extent file
	maxCE          = 32   // continuation areas followed for one record
	maxNameBytes   = 4096
	maxDirErrors   = 1000 // records that do not parse, before the walk gives up
	flagDirectory  = 0x02
	flagMultiExtnt = 0x80
)

// File is a regular file (or symbolic link) of the image.
type File struct {
	Path    string // slash-separated, from the root, no leading slash
	Size    int64
	Extents []Extent
	Zisofs  bool   // Rock Ridge ZF: stored zisofs-compressed
	Symlink string // Rock Ridge SL: a symbolic link to this target (no bytes)
}

// Extent is a run of bytes of a file in the image.
type Extent struct{ Offset, Length int64 }

// DirError is a directory that could not be read whole.
type DirError struct {
	Path string
	Err  error
}

// FS is an opened image.
type FS struct {
	name      string
	r         io.ReaderAt
	size      int64
	block     int64
	volBytes  int64 // the volume's size as its descriptor says
	root      record
	rockRidge bool
	skip      int // SUSP SP: bytes to skip at the start of every system use area
	joliet    bool
	dirBytes  int64
	files     int
}

// record is a directory record, its Rock Ridge entries applied.
type record struct {
	extent  int64 // byte offset
	length  int64
	flags   byte
	name    string
	symlink string
	zisofs  bool
	reloc   bool  // RE: a relocated directory, listed where its CL points at it
	child   int64 // CL: the relocated directory's byte offset (-1: none)
}

// Open reads the volume descriptors: the primary's root, Rock Ridge when its root says SUSP is
// in use, else a Joliet supplementary descriptor's root when there is one.
func Open(name string, r io.ReaderAt, size int64) (*FS, error) {
	f := &FS{name: name, r: r, size: size}
	var pvd, svd []byte
	for i := 0; i < maxVDs; i++ {
		off := int64(firstVD+i) * sectorSize
		d, err := f.read(off, sectorSize)
		if err != nil {
			return nil, err
		}
		if string(d[1:6]) != "CD001" {
			return nil, fmt.Errorf("%s: volume descriptor at offset %d: no CD001 identifier", name, off)
		}
		switch d[0] {
		case 1:
			if pvd == nil {
				pvd = d
			}
		case 2:
			esc := string(d[88:91])
			if svd == nil && d[6] == 1 && (esc == "%/@" || esc == "%/C" || esc == "%/E") {
				svd = d
			}
		case 255:
			i = maxVDs
		}
	}
	if pvd == nil {
		return nil, fmt.Errorf("%s: no primary volume descriptor", name)
	}
	le := binary.LittleEndian
	f.block = int64(le.Uint16(pvd[128:]))
	if f.block != 512 && f.block != 1024 && f.block != 2048 {
		return nil, fmt.Errorf("%s: logical block size %d", name, f.block)
	}
	f.volBytes = int64(le.Uint32(pvd[80:])) * f.block
	root, err := f.parseRecord(pvd[156:190], 16*sectorSize+156, false)
	if err != nil {
		return nil, err
	}
	f.root = root
	// Rock Ridge: the root directory's "." record carries an SP entry
	if sp, ok := f.rootSP(); ok {
		f.rockRidge, f.skip = true, sp
	} else if svd != nil {
		jroot, err := f.parseRecord(svd[156:190], 0, false)
		if err == nil {
			f.root, f.joliet = jroot, true
		}
	}
	return f, nil
}

// VolumeBytes is the size of the volume its primary descriptor states: what lies beyond (an
// appended partition) is not part of the tree.
func (f *FS) VolumeBytes() int64 { return f.volBytes }

// RockRidge and Joliet say which names the tree has.
func (f *FS) RockRidge() bool { return f.rockRidge }
func (f *FS) Joliet() bool    { return f.joliet }

func (f *FS) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, fmt.Errorf("%s: %d bytes at offset %d lie outside the image (%d bytes)", f.name, n, off, f.size)
	}
	b := make([]byte, n)
	if got, err := f.r.ReadAt(b, off); int64(got) < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: offset %d: %w", f.name, off, err)
	}
	return b, nil
}

// rootSP reads the root directory's first record ("."), and its SUSP SP entry: the skip length.
func (f *FS) rootSP() (int, bool) {
	if f.root.length < 34 {
		return 0, false
	}
	b, err := f.read(f.root.extent, min(f.root.length, sectorSize))
	if err != nil || b[0] < 34 || int(b[0]) > len(b) {
		return 0, false
	}
	rec := b[:b[0]]
	idEnd := 33 + int(rec[32])
	if idEnd%2 == 1 {
		idEnd++
	}
	if idEnd > len(rec) {
		return 0, false
	}
	su := rec[idEnd:]
	if len(su) >= 7 && string(su[:2]) == "SP" && su[4] == 0xbe && su[5] == 0xef {
		return int(su[6]), true
	}
	return 0, false
}

// parseRecord reads one directory record rec (at offset off, for errors); rr applies its Rock
// Ridge entries.
func (f *FS) parseRecord(rec []byte, off int64, rr bool) (record, error) {
	le := binary.LittleEndian
	if len(rec) < 34 || int(rec[0]) > len(rec) || rec[0] < 34 || 33+int(rec[32]) > int(rec[0]) {
		return record{}, fmt.Errorf("%s: malformed directory record at offset %d", f.name, off)
	}
	rec = rec[:rec[0]]
	r := record{
		extent: (int64(le.Uint32(rec[2:])) + int64(rec[1])) * f.block,
		length: int64(le.Uint32(rec[10:])),
		flags:  rec[25],
		child:  -1,
	}
	id := rec[33 : 33+int(rec[32])]
	switch {
	case len(id) == 1 && id[0] == 0:
		r.name = "."
	case len(id) == 1 && id[0] == 1:
		r.name = ".."
	case f.joliet:
		u := make([]uint16, len(id)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(id[2*i:])
		}
		r.name = stripVersion(string(utf16.Decode(u)))
	default:
		r.name = stripVersion(string(id))
	}
	if !rr {
		return r, nil
	}
	suStart := 33 + len(id)
	if suStart%2 == 1 {
		suStart++
	}
	suStart += f.skip
	if suStart < len(rec) {
		if err := f.rockRidgeEntries(&r, rec[suStart:], off); err != nil {
			return r, err
		}
	}
	return r, nil
}

// stripVersion drops an ISO 9660 file name's ";1" version and the "." of a name without an
// extension.
func stripVersion(n string) string {
	if i := strings.LastIndexByte(n, ';'); i >= 0 {
		n = n[:i]
	}
	if strings.HasSuffix(n, ".") && n != "." && n != ".." {
		n = n[:len(n)-1]
	}
	return n
}

// rockRidgeEntries applies the SUSP entries of a system use area, following CE continuation
// areas (at most maxCE).
func (f *FS) rockRidgeEntries(r *record, su []byte, off int64) error {
	le := binary.LittleEndian
	var name, link strings.Builder
	nm, sl := false, false
	linkSep := false
	for ce := 0; ; ce++ {
		var next []byte
		for len(su) >= 4 {
			sig, n := string(su[:2]), int(su[2])
			if n < 4 || n > len(su) {
				break // padding, or the end of the entries
			}
			e := su[:n]
			su = su[n:]
			switch sig {
			case "NM":
				if n >= 5 && e[4]&0x06 == 0 {
					if name.Len()+n-5 > maxNameBytes {
						return fmt.Errorf("%s: Rock Ridge name longer than %d bytes at offset %d", f.name, maxNameBytes, off)
					}
					name.Write(e[5:])
					nm = true
				}
			case "SL":
				if n < 5 {
					continue
				}
				sl = true
				comps := e[5:]
				for len(comps) >= 2 {
					flags, cl := comps[0], int(comps[1])
					if 2+cl > len(comps) {
						break
					}
					part := comps[2 : 2+cl]
					comps = comps[2+cl:]
					if link.Len() > maxNameBytes {
						return fmt.Errorf("%s: Rock Ridge link longer than %d bytes at offset %d", f.name, maxNameBytes, off)
					}
					if linkSep {
						link.WriteByte('/')
					}
					switch {
					case flags&0x02 != 0:
						link.WriteString(".")
					case flags&0x04 != 0:
						link.WriteString("..")
					case flags&0x08 != 0:
						link.Reset()
						link.WriteByte('/')
						linkSep = false
						continue
					default:
						link.Write(part)
					}
					linkSep = flags&0x01 == 0 // CONTINUE: the next part belongs to this component
				}
			case "ZF":
				r.zisofs = true
			case "RE":
				r.reloc = true
			case "CL":
				if n >= 12 {
					r.child = (int64(le.Uint32(e[4:]))) * f.block
				}
			case "CE":
				if n >= 28 {
					blk, at, ln := int64(le.Uint32(e[4:])), int64(le.Uint32(e[12:])), int64(le.Uint32(e[20:]))
					if ln > sectorSize*4 {
						return fmt.Errorf("%s: SUSP continuation area of %d bytes at offset %d", f.name, ln, off)
					}
					// continuation areas count with the directories' bytes: a record pointing
					// many times at one area is bounded as a directory that large would be
					f.dirBytes += ln
					if f.dirBytes > maxTotalDir {
						return fmt.Errorf("%w: more than %d bytes of directories and continuation areas (offset %d)", errBound, maxTotalDir, off)
					}
					b, err := f.read(blk*f.block+at, ln)
					if err != nil {
						return err
					}
					next = b
				}
			case "ST":
				su = nil
			}
		}
		if next == nil {
			break
		}
		if ce >= maxCE {
			return fmt.Errorf("%s: more than %d SUSP continuation areas at offset %d", f.name, maxCE, off)
		}
		su = next
	}
	if nm && name.Len() > 0 {
		r.name = name.String()
	}
	if sl {
		r.symlink = link.String()
		if r.symlink == "" {
			r.symlink = "."
		}
	}
	return nil
}

// Walk lists the image's files, directories read depth first. A directory that cannot be read
// whole is in the errors, its readable records listed; a bound reached stops the walk with an
// error.
func (f *FS) Walk() ([]File, []DirError, error) {
	var files []File
	var bad []DirError
	seen := map[int64]bool{}
	var walk func(dir string, r record, depth int) error
	walk = func(dir string, r record, depth int) error {
		if depth > maxDepth {
			bad = append(bad, DirError{dir, fmt.Errorf("%s: directories nested more than %d deep", f.name, maxDepth)})
			return nil
		}
		if seen[r.extent] {
			bad = append(bad, DirError{dir, fmt.Errorf("%s: directory at offset %d is listed twice (a loop)", f.name, r.extent)})
			return nil
		}
		seen[r.extent] = true
		if r.length > maxDirBytes {
			bad = append(bad, DirError{dir, fmt.Errorf("%s: directory of %d bytes at offset %d, over %d", f.name, r.length, r.extent, maxDirBytes)})
			return nil
		}
		f.dirBytes += r.length
		if f.dirBytes > maxTotalDir {
			return fmt.Errorf("%s: %w: more than %d bytes of directories and continuation areas", f.name, errBound, maxTotalDir)
		}
		b, err := f.read(r.extent, r.length)
		if err != nil {
			bad = append(bad, DirError{dir, err})
			return nil
		}
		var pending *File // a multi-extent file, until its last extent
		for i := 0; i < len(b); {
			if b[i] == 0 {
				// records do not cross sectors: the rest of this one is padding
				i = (i/sectorSize + 1) * sectorSize
				continue
			}
			at := r.extent + int64(i)
			n := int(b[i])
			if n < 34 || i+n > len(b) {
				bad = append(bad, DirError{dir, fmt.Errorf("%s: malformed directory record at offset %d", f.name, at)})
				break
			}
			rec, err := f.parseRecord(b[i:i+n], at, f.rockRidge)
			i += n
			if errors.Is(err, errBound) {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			if err != nil {
				if len(bad) >= maxDirErrors {
					return fmt.Errorf("%s: more than %d unreadable directory records", f.name, maxDirErrors)
				}
				bad = append(bad, DirError{dir, err})
				continue
			}
			if rec.name == "." || rec.name == ".." || rec.reloc {
				continue
			}
			if strings.ContainsRune(rec.name, '/') || rec.name == "" {
				bad = append(bad, DirError{dir, fmt.Errorf("%s: file name %q at offset %d", f.name, rec.name, at)})
				continue
			}
			p := path.Join(dir, rec.name)
			if rec.child >= 0 {
				// a relocated directory (deep directory relocation): read where CL points
				cr := record{extent: rec.child, child: -1}
				hb, err := f.read(rec.child, 34)
				if err == nil {
					cr.length = int64(binary.LittleEndian.Uint32(hb[10:]))
					err = walk(p, cr, depth+1)
				} else {
					bad = append(bad, DirError{p, err})
				}
				if err != nil {
					return err
				}
				continue
			}
			if rec.flags&flagDirectory != 0 {
				if err := walk(p, rec, depth+1); err != nil {
					return err
				}
				continue
			}
			if pending != nil && pending.Path != p {
				bad = append(bad, DirError{dir, fmt.Errorf("%s: multi-extent file %q ends without its last extent", f.name, pending.Path)})
				pending = nil
			}
			if pending == nil {
				f.files++
				if f.files > maxFiles {
					return fmt.Errorf("%s: more than %d files", f.name, maxFiles)
				}
				pending = &File{Path: p, Zisofs: rec.zisofs, Symlink: rec.symlink}
			}
			if len(pending.Extents) >= maxExtents {
				return fmt.Errorf("%s: file %q in more than %d extents", f.name, p, maxExtents)
			}
			pending.Extents = append(pending.Extents, Extent{rec.extent, rec.length})
			pending.Size += rec.length
			pending.Zisofs = pending.Zisofs || rec.zisofs
			if rec.flags&flagMultiExtnt == 0 {
				files = append(files, *pending)
				pending = nil
			}
		}
		if pending != nil {
			bad = append(bad, DirError{dir, fmt.Errorf("%s: multi-extent file %q ends without its last extent", f.name, pending.Path)})
		}
		return nil
	}
	err := walk("", f.root, 0)
	return files, bad, err
}

// errBound: a bound of the whole walk was reached.
var errBound = errors.New("bound reached")

// ErrOutside: a file's extent lies (in part) outside the image.
var ErrOutside = errors.New("extent outside the image")

// Open gives random access to a file's bytes, its extents one after another; an extent
// outside the image is ErrOutside (the caller names the file).
func (f *FS) Open(file File) (io.ReaderAt, error) {
	for _, e := range file.Extents {
		if e.Offset < 0 || e.Length < 0 || e.Offset > f.size || e.Length > f.size-e.Offset {
			return nil, fmt.Errorf("%w (%d bytes at offset %d, the image has %d)", ErrOutside, e.Length, e.Offset, f.size)
		}
	}
	return extents{r: f.r, ext: file.Extents}, nil
}

type extents struct {
	r   io.ReaderAt
	ext []Extent
}

func (x extents) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for _, e := range x.ext {
		if len(p) == 0 {
			break
		}
		if off >= e.Length {
			off -= e.Length
			continue
		}
		want := min(int64(len(p)), e.Length-off)
		got, err := x.r.ReadAt(p[:want], e.Offset+off)
		n += got
		if int64(got) < want {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		p = p[want:]
		off = 0
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}
