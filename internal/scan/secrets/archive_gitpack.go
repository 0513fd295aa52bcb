package secrets

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A git packfile (issue #24: every image with a git clone has .git/objects/pack/*.pack) is
// opened and each object in it searched as a member named PACK!/<object id>, the id git gives
// it (the SHA-1 of "<type> <size>\0<content>", what `git cat-file -p <id>` shows). The format
// is modelled on git's Documentation/gitformat-pack.txt and, for the details, packfile.c
// (unpack_object_header_buffer: the type and size header; get_delta_base: the offset of an
// OFS_DELTA's base), patch-delta.c (patch_delta: the copy and insert instructions) and
// builtin/index-pack.c (how deltas are resolved from their bases, children after parents),
// git v2.39. In this checker's own terms:
//
//   - a 12-byte header: "PACK", version 2 or 3, the object count (big-endian);
//   - per object, a header: type (bits 4-6 of the first byte) and size (its low four bits, then
//     seven bits per byte while the top bit is set), then for an OFS_DELTA the distance back to
//     its base (seven bits per byte, each continuation adding one before the shift), for a
//     REF_DELTA the base's 20-byte id; then a zlib stream of that size;
//   - a delta's stream is its base's size, the result's size (both seven bits per byte), then
//     instructions: a byte with the top bit set copies a run of the base (offset and size bytes
//     present as bits 0-3 and 4-6 say; a size of 0 means 64 KiB), a byte 1-127 inserts that many
//     bytes that follow, 0 is reserved (an error);
//   - the pack ends with the SHA-1 of what came before.
//
// The pack is read twice: the first pass finds each object's place (inflating every stream to
// find where it ends, charged to the unpacking budget); the second inflates the whole objects
// again (not charged again: the first pass counted those bytes, and the second inflates no
// stream more than once), searches them, and resolves the deltas on each from its base down (as
// index-pack does), so that a base is inflated once for all its deltas and only the chain being
// resolved is held; what a delta makes is charged as it is made. Blobs, commits and tags are
// searched (a secret in a commit message is a secret); trees hold only file names and ids and are
// not searched. A pack's objects are not archive members: a clone of a mid-size repository has
// more of them than maxArchiveMembers, and the budget in bytes bounds the work; so that a pack of
// millions of tiny objects still stops as a zip bomb does, each object searched is charged
// gitObjectCharge bytes besides its own (at most 4 Mi objects for a 1 GiB budget), and a pack
// indexes at most maxGitPackObjects.
// What is not seen is named with its offset and reason: a REF_DELTA whose base is not in the
// pack (a thin pack, as `git pack-objects --thin` writes for a fetch), a chain deeper than
// maxGitDeltaDepth, an object over maxGitObject bytes, a stream that does not inflate (and, where
// the first pass stops, every object after it). Only SHA-1 packs are read: a REF_DELTA in a
// SHA-256 repository's pack misparses and is named as corrupt (git gc writes OFS_DELTAs).
var (
	// maxGitObject bounds an object (and a delta's instructions) held in memory, as a member of
	// a stream is held (maxBufferedMember)
	maxGitObject int64 = 64 << 20
	// maxGitDeltaDepth bounds a chain of deltas (git's own default for repack is 50, its hard
	// limit 4095): an object deeper is named as not seen
	maxGitDeltaDepth = 50
	// maxGitChainHeld bounds the bytes the resolution of one chain holds at once (the bases of
	// the deltas still to resolve)
	maxGitChainHeld int64 = 256 << 20
	// maxGitPackObjects bounds the objects indexed in one pack
	maxGitPackObjects = 1 << 20
)

// gitObjectCharge is what searching one object costs the unpacking budget besides its bytes.
const gitObjectCharge = 256

// git object types in a pack header.
const (
	gitCommit   = 1
	gitTree     = 2
	gitBlob     = 3
	gitTag      = 4
	gitOfsDelta = 6
	gitRefDelta = 7
)

var gitTypeNames = [...]string{gitCommit: "commit", gitTree: "tree", gitBlob: "blob", gitTag: "tag"}

// packEntry is one object of a pack as the first pass found it.
type packEntry struct {
	off    int64 // where its header starts
	data   int64 // where its zlib stream starts
	size   int64 // the inflated size its header gives
	typ    uint8
	done   bool     // resolved (or, for a whole object, searched)
	base   int64    // an OFS_DELTA's base offset
	baseID [20]byte // a REF_DELTA's base id
	why    string   // why a delta was not resolved, when it was tried
}

// packReader reads a pack from its start, counting where it is; a ByteReader, so that zlib reads
// no further than its stream's end.
type packReader struct {
	br  *bufio.Reader
	off int64
}

func (p *packReader) Read(b []byte) (int, error) {
	n, err := p.br.Read(b)
	p.off += int64(n)
	return n, err
}

func (p *packReader) ReadByte() (byte, error) {
	c, err := p.br.ReadByte()
	if err == nil {
		p.off++
	}
	return c, err
}

// packOpen is the state of opening one pack.
type packOpen struct {
	w       *worker
	u       *unpacking
	name    string
	ra      io.ReaderAt
	size    int64
	depth   int
	entries []packEntry
	ofsKids map[int64][]int    // OFS_DELTAs by their base's offset
	refKids map[[20]byte][]int // REF_DELTAs by their base's id
	zr      io.ReadCloser
	br      *bufio.Reader // reused to read one object's stream
	scratch []byte        // reused for what a stream inflates to
	held    int64         // bytes the chain being resolved holds
}

// openGitPack searches the objects of the git packfile at name (size bytes through ra).
func (w *worker) openGitPack(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	g := &packOpen{w: w, u: u, name: name, ra: ra, size: size, depth: depth,
		ofsKids: map[int64][]int{}, refKids: map[[20]byte][]int{}}
	defer func() {
		if g.zr != nil {
			g.zr.Close()
		}
	}()
	end, err := g.index()
	if err != nil {
		if fatal(err) {
			return err
		}
		// the objects before the one that does not parse are still searched; those after it
		// cannot be found
		u.miss(err)
	}
	for i := range g.entries {
		e := &g.entries[i]
		if e.typ == gitOfsDelta || e.typ == gitRefDelta || e.done {
			continue
		}
		if err := g.resolveWhole(i); err != nil {
			return err
		}
	}
	for i := range g.entries {
		e := &g.entries[i]
		if e.done || (e.typ != gitOfsDelta && e.typ != gitRefDelta) {
			continue
		}
		why := e.why
		switch {
		case why != "":
		case e.typ == gitRefDelta:
			why = fmt.Sprintf("a delta on object %s, which is not in this pack (a thin pack) or was not resolved", hex.EncodeToString(e.baseID[:]))
		default:
			why = fmt.Sprintf("a delta on the object at offset %d, which was not resolved", e.base)
		}
		u.miss(fmt.Errorf("%s: object at offset %d: %s", name, e.off, why))
	}
	if err == nil && size-end > 32 {
		// bytes after the pack's checksum: searched as the file's own
		if err := u.member(); err != nil {
			return err
		}
		if err := w.searchPlain(u, name+"!/<data after the pack>", size-end, io.NewSectionReader(ra, end, size-end)); err != nil {
			if fatal(err) {
				return err
			}
			u.miss(err)
		}
	}
	return nil
}

// charge counts n unpacked bytes against the budget; past it, nothing more is counted and the
// limit is the error.
func (g *packOpen) charge(n int64) error {
	if g.u.unpacked+n > maxArchiveUnpacked {
		g.u.unpacked = max(g.u.unpacked, maxArchiveUnpacked+1)
		return fmt.Errorf("%w: more than %d bytes unpacked from %s", errArchiveLimit, maxArchiveUnpacked, g.u.top)
	}
	g.u.unpacked += n
	return nil
}

// index is the first pass: each object's header, its stream inflated to find its end. It
// returns where the objects end.
func (g *packOpen) index() (int64, error) {
	var hdr [12]byte
	if n, _ := g.ra.ReadAt(hdr[:], 0); n < 12 || string(hdr[:4]) != "PACK" {
		return 0, fmt.Errorf("%s: not a git packfile header", g.name)
	}
	if v := binary.BigEndian.Uint32(hdr[4:]); v != 2 && v != 3 {
		return 0, fmt.Errorf("%s: git packfile version %d", g.name, v)
	}
	count := int64(binary.BigEndian.Uint32(hdr[8:]))
	if count > int64(maxGitPackObjects) {
		return 0, fmt.Errorf("%w: %s: a git packfile of %d objects (at most %d are opened)", errArchiveLimit, g.name, count, maxGitPackObjects)
	}
	p := &packReader{br: bufio.NewReaderSize(io.NewSectionReader(g.ra, 12, g.size-12), 64<<10), off: 12}
	for i := int64(0); i < count; i++ {
		off := p.off
		e, err := g.header(p)
		if err != nil {
			return p.off, fmt.Errorf("%s: object %d of %d at offset %d: %w; it and the pack's objects after it are not seen", g.name, i+1, count, off, err)
		}
		if err := g.inflate(p, e.size, nil, true); err != nil {
			if fatal(err) {
				return p.off, err
			}
			return p.off, fmt.Errorf("%s: object %d of %d at offset %d: %w; it and the pack's objects after it are not seen", g.name, i+1, count, off, err)
		}
		idx := len(g.entries)
		g.entries = append(g.entries, e)
		switch e.typ {
		case gitOfsDelta:
			g.ofsKids[e.base] = append(g.ofsKids[e.base], idx)
		case gitRefDelta:
			g.refKids[e.baseID] = append(g.refKids[e.baseID], idx)
		}
	}
	return p.off, nil
}

// header reads an object's header at p.
func (g *packOpen) header(p *packReader) (packEntry, error) {
	e := packEntry{off: p.off}
	c, err := p.ReadByte()
	if err != nil {
		return e, unexpected(err)
	}
	e.typ = (c >> 4) & 7
	size := int64(c & 15)
	for shift := uint(4); c&0x80 != 0; shift += 7 {
		if shift > 56 {
			return e, errors.New("an object header that does not end")
		}
		if c, err = p.ReadByte(); err != nil {
			return e, unexpected(err)
		}
		size |= int64(c&0x7f) << shift
	}
	e.size = size
	switch e.typ {
	case gitCommit, gitTree, gitBlob, gitTag:
	case gitOfsDelta:
		c, err := p.ReadByte()
		if err != nil {
			return e, unexpected(err)
		}
		back := int64(c & 0x7f)
		for c&0x80 != 0 {
			if back >= 1<<55 {
				return e, errors.New("a delta base offset that does not end")
			}
			if c, err = p.ReadByte(); err != nil {
				return e, unexpected(err)
			}
			back = (back+1)<<7 | int64(c&0x7f)
		}
		if back <= 0 || back > e.off-12 {
			return e, fmt.Errorf("a delta base %d bytes back, outside the pack", back)
		}
		e.base = e.off - back
	case gitRefDelta:
		if _, err := io.ReadFull(p, e.baseID[:]); err != nil {
			return e, unexpected(err)
		}
	default:
		return e, fmt.Errorf("object type %d, which git does not define", e.typ)
	}
	e.data = p.off
	return e, nil
}

// inflate reads the zlib stream at r, which must inflate to exactly size bytes, appending them
// to *dst (nil: discarded); it reads the stream to its end (its checksum), no further. charge
// says whether what it inflates is charged to the budget (the first pass's reading of a stream
// is; the second pass's reading of the same stream is not).
func (g *packOpen) inflate(r io.Reader, size int64, dst *[]byte, charge bool) error {
	var err error
	if g.zr == nil {
		g.zr, err = zlib.NewReader(r)
	} else {
		err = g.zr.(zlib.Resetter).Reset(r, nil)
	}
	if err != nil {
		return fmt.Errorf("zlib: %w", unexpected(err))
	}
	var got int64
	if g.scratch == nil {
		g.scratch = make([]byte, 32<<10)
	}
	buf := g.scratch
	for {
		n, rerr := g.zr.Read(buf)
		got += int64(n)
		if charge {
			if err := g.charge(int64(n)); err != nil {
				return err
			}
		}
		if got > size {
			return fmt.Errorf("zlib: inflates past the %d bytes its header gives", size)
		}
		if dst != nil {
			*dst = append(*dst, buf[:n]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("zlib: %w", unexpected(rerr))
		}
	}
	if got != size {
		return fmt.Errorf("zlib: inflates to %d bytes, its header gives %d", got, size)
	}
	return nil
}

// load inflates entry e's stream (a whole object or a delta's instructions).
func (g *packOpen) load(e *packEntry) ([]byte, error) {
	if e.size > maxGitObject {
		return nil, fmt.Errorf("%d bytes, over the %d bytes an object is held to", e.size, maxGitObject)
	}
	b := make([]byte, 0, min(e.size, 1<<20)) // grown as it inflates: the header's size is a claim
	r := io.NewSectionReader(g.ra, e.data, g.size-e.data)
	if g.br == nil {
		g.br = bufio.NewReaderSize(r, 32<<10)
	} else {
		g.br.Reset(r)
	}
	if err := g.inflate(g.br, e.size, &b, false); err != nil {
		return nil, err
	}
	return b, nil
}

// gitObjectID is the id git gives an object of type typ: the SHA-1 of its header and content.
func gitObjectID(typ uint8, data []byte) [20]byte {
	h := sha1.New()
	h.Write([]byte(gitTypeNames[typ] + " " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	var id [20]byte
	h.Sum(id[:0])
	return id
}

// resolveWhole searches the whole (not delta) object i and resolves the deltas on it.
func (g *packOpen) resolveWhole(i int) error {
	e := &g.entries[i]
	e.done = true
	data, err := g.load(e)
	if err != nil {
		if fatal(err) {
			return err
		}
		g.u.miss(fmt.Errorf("%s: %s at offset %d: %w", g.name, gitTypeNames[e.typ], e.off, err))
		return nil
	}
	g.held = int64(len(data))
	return g.found(i, e.typ, data, 0)
}

// found searches object i (of type typ, at chain depth depth) and resolves the deltas on it.
func (g *packOpen) found(i int, typ uint8, data []byte, depth int) error {
	id := gitObjectID(typ, data)
	if typ != gitTree {
		if err := g.search(memberPath(g.name, hex.EncodeToString(id[:])), data); err != nil {
			return err
		}
	}
	kids := append(g.ofsKids[g.entries[i].off], g.refKids[id]...)
	delete(g.ofsKids, g.entries[i].off)
	delete(g.refKids, id) // not needed again (an object stored twice: its deltas are done)
	for n, k := range kids {
		c := &g.entries[k]
		if c.done {
			continue
		}
		if depth+1 > maxGitDeltaDepth {
			c.why = fmt.Sprintf("a delta chain deeper than %d", maxGitDeltaDepth)
			continue
		}
		delta, err := g.load(c)
		if err == nil {
			var out []byte
			out, err = g.patch(data, delta)
			if err == nil {
				c.done = true
				if n == len(kids)-1 {
					// the last delta on this base: the base is no longer held
					g.held -= int64(len(data))
					data = nil
				}
				err = g.found(k, typ, out, depth+1)
				if err != nil || data == nil {
					return err
				}
				continue
			}
		}
		if fatal(err) {
			return err
		}
		c.done = true
		g.u.miss(fmt.Errorf("%s: object at offset %d (a delta on offset %d): %w", g.name, c.off, g.entries[i].off, err))
	}
	if data != nil {
		g.held -= int64(len(data))
	}
	return nil
}

// search searches one object as a file of its own (what worker.member does for an archive's
// member, without counting it as one): charged gitObjectCharge; what it could not see is
// recorded, only a limit is returned.
func (g *packOpen) search(name string, data []byte) error {
	if err := g.charge(gitObjectCharge); err != nil {
		return err
	}
	err := g.w.searchMember(g.u, name, int64(len(data)), bytes.NewReader(data), bytes.NewReader(data), g.depth)
	if err != nil && !fatal(err) {
		g.u.miss(err)
		err = nil
	}
	return err
}

// patch applies a delta to its base (patch-delta.c's patch_delta, in this checker's terms): the
// sizes first, then copy and insert instructions, every range checked.
func (g *packOpen) patch(base, delta []byte) ([]byte, error) {
	p := 0
	varint := func() (int64, error) {
		var v int64
		for shift := uint(0); ; shift += 7 {
			if p >= len(delta) || shift > 56 {
				return 0, errors.New("a delta whose size header does not end")
			}
			c := delta[p]
			p++
			v |= int64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, nil
			}
		}
	}
	baseSize, err := varint()
	if err != nil {
		return nil, err
	}
	if baseSize != int64(len(base)) {
		return nil, fmt.Errorf("a delta for a base of %d bytes, on a base of %d", baseSize, len(base))
	}
	size, err := varint()
	if err != nil {
		return nil, err
	}
	if size > maxGitObject {
		return nil, fmt.Errorf("a delta result of %d bytes, over the %d bytes an object is held to", size, maxGitObject)
	}
	if g.held+size > maxGitChainHeld {
		return nil, fmt.Errorf("a delta chain holding more than %d bytes at once", maxGitChainHeld)
	}
	if err := g.charge(size); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	for p < len(delta) {
		cmd := delta[p]
		p++
		switch {
		case cmd&0x80 != 0:
			var off, n int64
			for bit := 0; bit < 7; bit++ {
				if cmd&(1<<bit) == 0 {
					continue
				}
				if p >= len(delta) {
					return nil, fmt.Errorf("a copy instruction cut short at byte %d of the delta", p)
				}
				if bit < 4 {
					off |= int64(delta[p]) << (8 * bit)
				} else {
					n |= int64(delta[p]) << (8 * (bit - 4))
				}
				p++
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > int64(len(base)) || int64(len(out))+n > size {
				return nil, fmt.Errorf("a copy of %d bytes from offset %d outside the base or the result (byte %d of the delta)", n, off, p)
			}
			out = append(out, base[off:off+n]...)
		case cmd != 0:
			n := int(cmd)
			if p+n > len(delta) || int64(len(out)+n) > size {
				return nil, fmt.Errorf("an insert of %d bytes past the delta or the result (byte %d of the delta)", n, p)
			}
			out = append(out, delta[p:p+n]...)
			p += n
		default:
			return nil, fmt.Errorf("the reserved instruction 0 at byte %d of the delta", p-1)
		}
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("a delta that makes %d bytes, its header gives %d", len(out), size)
	}
	g.held += size
	return out, nil
}

// A git bundle (git bundle create; gitformat-bundle(5)) is a text header, then a packfile: the
// signature line "# v2 git bundle" or "# v3 git bundle", v3's capability lines ("@..."), the
// prerequisites ("-<id> ...") and the references ("<id> <refname>"), one a line, and a blank
// line; the pack follows it. The header is searched as the file's own bytes and the pack as
// one, its objects named FILE!@OFFSET!/<object id>. The header is looked for in the first
// maxBundleHeader bytes (a reference a line: tens of thousands of references); a bundle whose
// blank line is not there, or with no pack after it, is named as not searched.
var maxBundleHeader int64 = 16 << 20

// gitBundleSignature says whether p starts with a git bundle's signature line.
func gitBundleSignature(p []byte) bool {
	return bytes.HasPrefix(p, []byte("# v2 git bundle\n")) || bytes.HasPrefix(p, []byte("# v3 git bundle\n"))
}

// openGitBundle searches the bundle at name (size bytes through ra): its header, then its pack.
func (w *worker) openGitBundle(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	n := min(size, maxBundleHeader)
	head := make([]byte, n)
	if got, err := ra.ReadAt(head, 0); int64(got) < n {
		return fmt.Errorf("%s: %w", name, err)
	}
	blank := bytes.Index(head, []byte("\n\n"))
	if blank < 0 {
		return fmt.Errorf("%s: a git bundle whose header does not end (no blank line) in its first %d bytes: its pack was not searched", name, n)
	}
	at := int64(blank + 2)
	if err := w.searchPlain(u, name, at, io.NewSectionReader(ra, 0, at)); err != nil {
		return err
	}
	pack := make([]byte, 12)
	if got, _ := ra.ReadAt(pack, at); got < 12 || string(pack[:4]) != "PACK" || !gitPackHeader(pack) {
		return fmt.Errorf("%s: a git bundle with no packfile after its header (at offset %d): not searched", name, at)
	}
	if err := u.member(); err != nil {
		return err
	}
	return w.openGitPack(u, fmt.Sprintf("%s!@%d", name, at), io.NewSectionReader(ra, at, size-at), size-at, depth)
}
