// Package lvm reads LVM2 physical volumes offline as LVM itself reads them, and the logical
// volumes of the volume groups they make up: each LV's bytes, where every segment of it is a
// plain mapping (linear or striped) onto PVs that were read.
//
// A PV is read as lvm2@d804677c reads one: the label in one of the first four sectors
// (lib/label/label.c _find_lvm_header), the pv_header after it with its lists of data and
// metadata areas (lib/format_text/text_label.c label_check_pv_layout, layout.h), each metadata
// area's header and the committed raw location of the VG's text metadata in it
// (lib/format_text/format-text.c raw_parse_mda_header, _read_metadata_location_vg,
// _vg_read_raw_area), and the text itself (lib/format_text/import_vsn1.c _read_vg, _read_pv,
// _read_lv, _read_segment, lib/striped/striped.c _striped_text_import). The PVs of one VG are
// grouped by the VG's UUID and the newest metadata (highest seqno) among them is the VG's, as
// lib/metadata/metadata.c _vg_read does; an LV's stripes name PVs of the VG, found by PV UUID.
package lvm

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

const (
	sectorSize     = 512
	labelScan      = 4 // sectors searched for the label (LABEL_SCAN_SECTORS)
	initialCRC     = 0xf597a6cf
	mdaHeaderSize  = 512
	mdaMagic       = "\x20LVM2\x20x[5A%r0N*>"
	rawLocnIgnored = 1
	maxAreas       = 16 // data and metadata areas in a pv_header (a sector holds at most 29)
	maxLVs         = 4096
	maxSegments    = 4096
	maxExtentSize  = 1 << 32 // sectors (LVM stores extent_size in 32 bits)
	maxExtents     = 1 << 32 // extent counts and numbers (32 bits in LVM)
)

// CRC is LVM's checksum (lib/misc/crc.c calc_crc): the reflected CRC-32 polynomial of zlib,
// started from initial and with no final inversion. crc32.Update inverts on the way in and out,
// so both are undone around it.
func CRC(initial uint32, b []byte) uint32 {
	return ^crc32.Update(^initial, crc32.IEEETable, b)
}

// Problem is what kept a PV, or one logical volume of its VG, from being read.
type Problem struct {
	LV  string // "" for the PV itself
	Err error
}

func (p Problem) Error() string {
	if p.LV == "" {
		return p.Err.Error()
	}
	return "LVM logical volume " + p.LV + ": " + p.Err.Error()
}

func (p Problem) Unwrap() error { return p.Err }

type diskLocn struct{ offset, size int64 }

// PV is one physical volume read: its label, and the VG metadata its metadata areas hold.
type PV struct {
	// Name names the PV in errors (the caller's: "partition 3").
	Name string
	// UUID is the PV's UUID as the label holds it (32 characters, no dashes).
	UUID string
	Size int64
	// Orphan says the PV belongs to no VG (pvcreate only: its metadata areas hold nothing).
	Orphan bool
	// NoMetadata says why the PV's own metadata areas tell nothing of its VG ("" when they
	// do): it has none, or they are ignored; its VG's metadata is on another PV of the VG.
	NoMetadata string

	r    io.ReaderAt
	vg   *vgInfo // the newest VG metadata this PV holds; nil when NoMetadata or Orphan
	data []diskLocn
	mdas []diskLocn
}

// VGName is the name of the VG whose metadata the PV holds ("" when it holds none).
func (pv *PV) VGName() string {
	if pv.vg == nil {
		return ""
	}
	return pv.vg.name
}

// ReadPV reads the LVM2 PV of size bytes in r: its label and pv_header, and the VG text
// metadata of each metadata area. An error names the PV (name), the offset and what does not
// hold; a Problem with LV set names the logical volume whose section of the metadata does not
// parse (the VG is then not read: which of its LVs were meant is unknown).
func ReadPV(name string, r io.ReaderAt, size int64) (*PV, error) {
	pv, err := readLabel(r, size)
	if err != nil {
		return nil, fmt.Errorf("LVM2 PV: %w", err)
	}
	pv.Name, pv.Size, pv.r = name, size, r
	if len(pv.mdas) == 0 {
		pv.NoMetadata = "LVM2 PV holds no metadata area: its VG's metadata is on another PV"
		return pv, nil
	}
	// Every metadata area is read: a copy that does not read might be the newest.
	var seq int64 = -1
	empty, ignored := 0, 0
	for _, a := range pv.mdas {
		m, err := readMetadata(r, size, a)
		if err != nil {
			return nil, fmt.Errorf("LVM2 PV: %w", err)
		}
		if m.empty {
			empty++
			continue
		}
		if m.ignored {
			ignored++
			continue
		}
		vg, err := parseVG(m.text)
		if err != nil {
			var lp Problem
			if errors.As(err, &lp) {
				return nil, Problem{LV: lp.LV, Err: fmt.Errorf("metadata area at offset %#x: %w", a.offset, lp.Err)}
			}
			return nil, fmt.Errorf("LVM2 PV: metadata area at offset %#x: %w", a.offset, err)
		}
		if vg.seqno > seq {
			pv.vg, seq = vg, vg.seqno
		}
	}
	switch {
	case pv.vg == nil && ignored > 0:
		pv.NoMetadata = "LVM2 PV: its metadata areas are ignored (metadataignore): the VG's metadata is on another PV"
	case pv.vg == nil:
		pv.Orphan = true
	case empty > 0:
		return nil, errors.New("LVM2 PV: one metadata area holds VG " + pv.vg.name + ", another none")
	default:
		if pv.vg.pvByUUID(pv.UUID) == "" {
			return nil, fmt.Errorf("LVM2 PV: VG %s lists no PV with this PV's UUID %s", pv.vg.name, pv.UUID)
		}
	}
	return pv, nil
}

// readLabel finds the PV label and reads the pv_header after it.
func readLabel(ra io.ReaderAt, size int64) (*PV, error) {
	n := int64(labelScan * sectorSize)
	if n > size {
		n = size - size%sectorSize
	}
	if n < sectorSize {
		return nil, fmt.Errorf("%d bytes: too small for a PV label", size)
	}
	buf := make([]byte, n)
	if err := readFull(ra, buf, 0); err != nil {
		return nil, err
	}
	var why []string
	for s := int64(0); (s+1)*sectorSize <= n; s++ {
		sec := buf[s*sectorSize : (s+1)*sectorSize]
		if string(sec[:8]) != "LABELONE" {
			continue
		}
		if got := int64(binary.LittleEndian.Uint64(sec[8:16])); got != s {
			why = append(why, fmt.Sprintf("label at sector %d says it is at sector %d (LVM ignores it)", s, got))
			continue
		}
		if want, got := binary.LittleEndian.Uint32(sec[16:20]), CRC(initialCRC, sec[20:]); want != got {
			why = append(why, fmt.Sprintf("label at sector %d (offset %#x): checksum %#08x, computed %#08x (LVM ignores it)", s, s*sectorSize, want, got))
			continue
		}
		if string(sec[24:32]) != "LVM2 001" {
			why = append(why, fmt.Sprintf("label at sector %d: type %q, not \"LVM2 001\"", s, cstr(sec[24:32])))
			continue
		}
		pv, err := parsePVHeader(sec)
		if err != nil {
			return nil, fmt.Errorf("label at sector %d (offset %#x): %w", s, s*sectorSize, err)
		}
		return pv, nil
	}
	if len(why) == 0 {
		return nil, notPV("no LVM2 label in the first 4 sectors")
	}
	return nil, notPV(strings.Join(why, "; "))
}

// ErrNotPV is what ReadPV's error is (errors.Is) when the device holds no label LVM takes: none
// in its first four sectors, or only ones LVM's label scan passes over (a checksum that does not
// match, a sector number that is not the label's own, a type other than "LVM2 001";
// lib/label/label.c _find_lvm_header). LVM does not see such a device as a PV at all, so
// nothing on it is a volume the system activates.
var ErrNotPV = errors.New("not an LVM2 PV")

type notPV string

func (e notPV) Error() string        { return string(e) }
func (e notPV) Is(target error) bool { return target == ErrNotPV }

// parsePVHeader reads the pv_header at the label's offset_xl: the PV UUID, the device size,
// then two lists of (offset, size) pairs, each ended by a zero offset, all inside the sector.
func parsePVHeader(sec []byte) (*PV, error) {
	off := int(binary.LittleEndian.Uint32(sec[20:24]))
	if off < 32 || off+40 > len(sec) {
		return nil, fmt.Errorf("pv_header offset %d outside the label sector", off)
	}
	pv := &PV{UUID: cstr(sec[off : off+32])}
	p := off + 40
	for list := 0; list < 2; list++ {
		for {
			if p+16 > len(sec) {
				return nil, errors.New("pv_header's area lists run past the label sector")
			}
			o, sz := binary.LittleEndian.Uint64(sec[p:]), binary.LittleEndian.Uint64(sec[p+8:])
			p += 16
			if o == 0 {
				break
			}
			if o > math.MaxInt64 || sz > math.MaxInt64 {
				return nil, fmt.Errorf("pv_header area at %#x of %#x bytes: out of range", o, sz)
			}
			if len(pv.data)+len(pv.mdas) >= maxAreas {
				return nil, fmt.Errorf("pv_header lists more than %d areas", maxAreas)
			}
			if list == 0 {
				pv.data = append(pv.data, diskLocn{int64(o), int64(sz)})
			} else {
				pv.mdas = append(pv.mdas, diskLocn{int64(o), int64(sz)})
			}
		}
	}
	return pv, nil
}

func readFull(ra io.ReaderAt, b []byte, off int64) error {
	n, err := ra.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("offset %#x: reading %d bytes: %w", off, len(b), err)
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return strings.ToValidUTF8(string(b), "?")
}

// metadata is one metadata area's committed VG text.
type metadata struct {
	at      int64 // of the mda header
	text    []byte
	empty   bool // the area holds no VG (an orphan PV)
	ignored bool // flagged RAW_LOCN_IGNORED: its text may be stale
}

// readMetadata reads the metadata area at a: its header (checksum of all but the checksum
// field, magic, version 1, its own start, size), the first raw location (the committed
// metadata; the second is a precommitted copy only a running command uses), which may wrap
// from the area's end to just after its header, and checks the text's checksum.
func readMetadata(ra io.ReaderAt, psize int64, a diskLocn) (metadata, error) {
	m := metadata{at: a.offset}
	where := fmt.Sprintf("metadata area at offset %#x", a.offset)
	if a.offset < 0 || a.offset > psize-mdaHeaderSize {
		return m, fmt.Errorf("%s: outside the %d-byte partition", where, psize)
	}
	h := make([]byte, mdaHeaderSize)
	if err := readFull(ra, h, a.offset); err != nil {
		return m, fmt.Errorf("%s: %w", where, err)
	}
	if want, got := binary.LittleEndian.Uint32(h[0:4]), CRC(initialCRC, h[4:]); want != got {
		return m, fmt.Errorf("%s: header checksum %#08x, computed %#08x", where, want, got)
	}
	if string(h[4:20]) != mdaMagic {
		return m, fmt.Errorf("%s: no LVM2 metadata magic", where)
	}
	if v := binary.LittleEndian.Uint32(h[20:24]); v != 1 {
		return m, fmt.Errorf("%s: metadata format version %d, not 1", where, v)
	}
	if st := binary.LittleEndian.Uint64(h[24:32]); st != uint64(a.offset) {
		return m, fmt.Errorf("%s: header says it starts at %#x", where, st)
	}
	asize := binary.LittleEndian.Uint64(h[32:40])
	if asize < mdaHeaderSize || asize > uint64(psize-a.offset) {
		return m, fmt.Errorf("%s: area size %#x does not fit the partition", where, asize)
	}
	roff, rsize := binary.LittleEndian.Uint64(h[40:48]), binary.LittleEndian.Uint64(h[48:56])
	sum := binary.LittleEndian.Uint32(h[56:60])
	if roff == 0 && rsize == 0 {
		m.empty = true
		return m, nil
	}
	if binary.LittleEndian.Uint32(h[60:64])&rawLocnIgnored != 0 {
		m.ignored = true // pvchange --metadataignore: LVM neither reads nor updates it
		return m, nil
	}
	if roff < mdaHeaderSize || roff >= asize || rsize > asize-mdaHeaderSize {
		return m, fmt.Errorf("%s: metadata text at %#x of %d bytes is outside the %#x-byte area", where, roff, rsize, asize)
	}
	if rsize > maxMetadataText {
		return m, fmt.Errorf("%s: metadata text of %d bytes, more than %d", where, rsize, maxMetadataText)
	}
	text := make([]byte, rsize)
	first := rsize
	if roff+rsize > asize {
		first = asize - roff // the rest wraps to just after the header
	}
	if err := readFull(ra, text[:first], a.offset+int64(roff)); err != nil {
		return m, fmt.Errorf("%s: metadata text: %w", where, err)
	}
	if first < rsize {
		if err := readFull(ra, text[first:], a.offset+mdaHeaderSize); err != nil {
			return m, fmt.Errorf("%s: metadata text (wrapped): %w", where, err)
		}
	}
	if got := CRC(initialCRC, text); got != sum {
		return m, fmt.Errorf("%s: metadata text at offset %#x: checksum %#08x, computed %#08x", where, a.offset+int64(roff), sum, got)
	}
	m.text = text
	return m, nil
}

type lvStripe struct {
	pv     string
	extent int64
}

type lvSegment struct {
	name         string
	start, count int64 // LV extents
	typ          string
	stripeSize   int64 // sectors, for more than one stripe
	stripes      []lvStripe
	line         int
}

type lvInfo struct {
	name     string
	visible  bool
	segments []lvSegment
	extents  int64
}

type vgInfo struct {
	name, id   string
	seqno      int64              // of two metadata areas, the higher is the newer
	extentSize int64              // sectors
	pvs        map[string]pvEntry // pvN => its id and pe_start
	lvs        []lvInfo
}

type pvEntry struct {
	id      string // without dashes
	peStart int64  // sectors
}

func (vg *vgInfo) pvByUUID(uuid string) string {
	for name, e := range vg.pvs {
		if e.id == uuid {
			return name
		}
	}
	return ""
}

// parseVG reads the VG from the metadata text: the first section of the top level
// (import_vsn1.c _read_vg), its id, seqno, extent_size, physical_volumes and logical_volumes.
func parseVG(text []byte) (*vgInfo, error) {
	root, err := parseConfig(text)
	if err != nil {
		return nil, err
	}
	var vgn *cfgNode
	for _, c := range root.children {
		if c.section {
			vgn = c
			break
		}
	}
	if vgn == nil {
		return nil, errors.New("metadata text holds no volume group section")
	}
	vg := &vgInfo{name: vgn.key, pvs: map[string]pvEntry{}}
	if vg.id, err = vgn.str("id"); err != nil {
		return nil, err
	}
	vg.id = strings.ReplaceAll(vg.id, "-", "")
	if vg.seqno, err = vgn.uint("seqno", math.MaxInt64); err != nil {
		return nil, err
	}
	if vg.extentSize, err = vgn.uint("extent_size", maxExtentSize); err != nil {
		return nil, err
	}
	if vg.extentSize == 0 {
		return nil, errors.New("extent_size is 0")
	}
	pvs := vgn.child("physical_volumes")
	if pvs == nil || !pvs.section {
		return nil, fmt.Errorf("VG %s has no physical_volumes section", vg.name)
	}
	for _, p := range pvs.children {
		if !p.section {
			continue
		}
		id, err := p.str("id")
		if err != nil {
			return nil, fmt.Errorf("physical volume %s: %w", p.key, err)
		}
		pe, err := p.uint("pe_start", math.MaxInt64/sectorSize)
		if err != nil {
			return nil, fmt.Errorf("physical volume %s: %w", p.key, err)
		}
		vg.pvs[p.key] = pvEntry{id: strings.ReplaceAll(id, "-", ""), peStart: pe}
	}
	lvs := vgn.child("logical_volumes")
	if lvs == nil {
		return vg, nil // a VG without logical volumes has none
	}
	if !lvs.section {
		return nil, fmt.Errorf("line %d: logical_volumes is not a section", lvs.line)
	}
	for _, l := range lvs.children {
		if !l.section {
			continue
		}
		if len(vg.lvs) >= maxLVs {
			return nil, fmt.Errorf("more than %d logical volumes", maxLVs)
		}
		lv, err := parseLV(l)
		if err != nil {
			return nil, Problem{LV: l.key, Err: err}
		}
		vg.lvs = append(vg.lvs, lv)
	}
	// Offsets are computed in bytes: bound every extent number so that none overflows.
	maxExt := math.MaxInt64 / 2 / (vg.extentSize * sectorSize)
	for _, lv := range vg.lvs {
		if lv.extents > maxExt {
			return nil, Problem{LV: lv.name, Err: fmt.Errorf("%d extents of %d sectors: too large", lv.extents, vg.extentSize)}
		}
		for _, s := range lv.segments {
			for _, st := range s.stripes {
				if st.extent+s.count > maxExt {
					return nil, Problem{LV: lv.name, Err: fmt.Errorf("line %d: stripe at extent %d: too large", s.line, st.extent)}
				}
			}
		}
	}
	for name, p := range vg.pvs {
		if p.peStart > math.MaxInt64/2/sectorSize {
			return nil, fmt.Errorf("physical volume %s: pe_start %d: too large", name, p.peStart)
		}
	}
	return vg, nil
}

// parseLV reads an LV's status and segments: every subsection is one (import_vsn1.c
// _read_segments), and segment_count must agree. Segments are sorted by start_extent and must
// tile the LV. An LV without VISIBLE in its status is a part of another (a thin pool's data or
// metadata, a RAID image, a spare), which lvs hides (lib/metadata/lv.c lv_is_visible).
func parseLV(l *cfgNode) (lvInfo, error) {
	lv := lvInfo{name: l.key}
	if st := l.child("status"); st != nil && st.array {
		for _, v := range st.values {
			if !v.number && v.s == "VISIBLE" {
				lv.visible = true
			}
		}
	}
	for _, s := range l.children {
		if !s.section {
			continue
		}
		if len(lv.segments) >= maxSegments {
			return lv, fmt.Errorf("more than %d segments", maxSegments)
		}
		seg := lvSegment{name: s.key, line: s.line}
		var err error
		if seg.start, err = s.uint("start_extent", maxExtents); err != nil {
			return lv, err
		}
		if seg.count, err = s.uint("extent_count", maxExtents); err != nil {
			return lv, err
		}
		if seg.typ, err = s.str("type"); err != nil {
			return lv, err
		}
		if seg.typ == "striped" || seg.typ == "linear" {
			if err := parseStripes(s, &seg); err != nil {
				return lv, err
			}
		}
		lv.segments = append(lv.segments, seg)
	}
	n, err := l.uint("segment_count", maxSegments)
	if err != nil {
		return lv, err
	}
	if int(n) != len(lv.segments) {
		return lv, fmt.Errorf("segment_count %d, but %d segments", n, len(lv.segments))
	}
	slices.SortFunc(lv.segments, func(a, b lvSegment) int { return cmp.Compare(a.start, b.start) })
	for _, s := range lv.segments {
		if s.start != lv.extents {
			return lv, fmt.Errorf("line %d: segment %s starts at extent %d, not %d", s.line, s.name, s.start, lv.extents)
		}
		lv.extents += s.count
	}
	return lv, nil
}

// parseStripes reads a striped segment's areas: stripe_count, stripe_size (sectors; only read
// for more than one stripe) and stripes = ["pvN", first extent on it, …].
func parseStripes(s *cfgNode, seg *lvSegment) error {
	n, err := s.uint("stripe_count", maxExtents)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("line %d: stripe_count 0", s.line)
	}
	if n > 1 {
		if seg.stripeSize, err = s.uint("stripe_size", maxExtentSize); err != nil {
			return err
		}
		if seg.stripeSize == 0 {
			return fmt.Errorf("line %d: stripe_size 0", s.line)
		}
		if seg.count%n != 0 {
			return fmt.Errorf("line %d: %d extents do not divide into %d stripes", s.line, seg.count, n)
		}
	}
	st := s.child("stripes")
	if st == nil || st.section || !st.array {
		return fmt.Errorf("line %d: segment %s has no stripes list", s.line, s.key)
	}
	if int64(len(st.values)) != 2*n {
		return fmt.Errorf("line %d: %d values in stripes for %d stripes", st.line, len(st.values), n)
	}
	for i := 0; i < len(st.values); i += 2 {
		pv, ext := st.values[i], st.values[i+1]
		if pv.number || !ext.number {
			return fmt.Errorf("line %d: stripes is not a list of PV names and extents", st.line)
		}
		e, err := strconv.ParseInt(ext.s, 10, 64)
		if err != nil || e < 0 || e > maxExtents {
			return fmt.Errorf("line %d: stripe extent %q", st.line, ext.s)
		}
		seg.stripes = append(seg.stripes, lvStripe{pv: pv.s, extent: e})
	}
	return nil
}
