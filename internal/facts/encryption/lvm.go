package encryption

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

// An LVM2 physical volume read as LVM reads it (lvm2@d804677c): the label in one of the first
// four sectors (lib/label/label.c _find_lvm_header), the pv_header after it with its lists of
// data and metadata areas (lib/format_text/text_label.c label_check_pv_layout, layout.h), each
// metadata area's header and the committed raw location of the VG's text metadata in it
// (lib/format_text/format-text.c raw_parse_mda_header, _read_metadata_location_vg,
// _vg_read_raw_area), and the text itself (lib/format_text/import_vsn1.c _read_vg, _read_pv,
// _read_segment, lib/striped/striped.c _striped_text_import). Each logical volume's header
// sectors are then read where its extents lie on this PV.

const (
	lvmSectorSize     = 512
	lvmLabelScan      = 4 // sectors searched for the label (LABEL_SCAN_SECTORS)
	lvmInitialCRC     = 0xf597a6cf
	lvmMDAHeader      = 512
	lvmMDAMagic       = "\x20LVM2\x20x[5A%r0N*>"
	lvmRawLocnIgnored = 1
	lvmMaxAreas       = 16 // data and metadata areas in a pv_header (a sector holds at most 29)
	maxLVs            = 4096
	maxSegmentsOfLV   = 4096
	maxExtentSize     = 1 << 32 // sectors (LVM stores extent_size in 32 bits)
	maxExtents        = 1 << 32 // extent counts and numbers (32 bits in LVM)
)

// lvmCRC is LVM's checksum (lib/misc/crc.c calc_crc): the reflected CRC-32 polynomial of
// zlib, started from initial and with no final inversion. crc32.Update inverts on the way in
// and out, so both are undone around it.
func lvmCRC(initial uint32, b []byte) uint32 {
	return ^crc32.Update(^initial, crc32.IEEETable, b)
}

// LogicalVolume is an LVM logical volume whose header sectors were read on a PV.
type LogicalVolume struct {
	VG, Name string
	Header   Header // Kind "" when no volume header was found
	// At is where in the PV (bytes) the header was found, or the LV's first byte.
	At int64
}

// PVProblem is what kept a PV, or one logical volume of it, from being read.
type PVProblem struct {
	LV  string // "" for the PV itself
	Err error
}

func (p PVProblem) Error() string {
	if p.LV == "" {
		return p.Err.Error()
	}
	return "LVM logical volume " + p.LV + ": " + p.Err.Error()
}

func (p PVProblem) Unwrap() error { return p.Err }

type diskLocn struct{ offset, size int64 }

type lvmPV struct {
	sector int64 // of the label
	uuid   string
	data   []diskLocn
	mdas   []diskLocn
}

// readLabel finds the PV label and reads the pv_header after it.
func readLabel(ra io.ReaderAt, size int64) (*lvmPV, error) {
	n := int64(lvmLabelScan * lvmSectorSize)
	if n > size {
		n = size - size%lvmSectorSize
	}
	buf := make([]byte, n)
	if err := readFull(ra, buf, 0); err != nil {
		return nil, err
	}
	var why []string
	for s := int64(0); (s+1)*lvmSectorSize <= n; s++ {
		sec := buf[s*lvmSectorSize : (s+1)*lvmSectorSize]
		if string(sec[:8]) != "LABELONE" {
			continue
		}
		if got := int64(binary.LittleEndian.Uint64(sec[8:16])); got != s {
			why = append(why, fmt.Sprintf("label at sector %d says it is at sector %d (LVM ignores it)", s, got))
			continue
		}
		if want, got := binary.LittleEndian.Uint32(sec[16:20]), lvmCRC(lvmInitialCRC, sec[20:]); want != got {
			why = append(why, fmt.Sprintf("label at sector %d (offset %#x): checksum %#08x, computed %#08x (LVM ignores it)", s, s*lvmSectorSize, want, got))
			continue
		}
		if string(sec[24:32]) != "LVM2 001" {
			why = append(why, fmt.Sprintf("label at sector %d: type %q, not \"LVM2 001\"", s, cstr(sec[24:32])))
			continue
		}
		pv, err := parsePVHeader(sec, s)
		if err != nil {
			return nil, fmt.Errorf("label at sector %d (offset %#x): %w", s, s*lvmSectorSize, err)
		}
		return pv, nil
	}
	if len(why) == 0 {
		return nil, errors.New("no LVM2 label in the first 4 sectors")
	}
	return nil, errors.New(strings.Join(why, "; "))
}

// parsePVHeader reads the pv_header at the label's offset_xl: the PV UUID, the device size,
// then two lists of (offset, size) pairs, each ended by a zero offset, all inside the sector.
func parsePVHeader(sec []byte, sector int64) (*lvmPV, error) {
	off := int(binary.LittleEndian.Uint32(sec[20:24]))
	if off < 32 || off+40 > len(sec) {
		return nil, fmt.Errorf("pv_header offset %d outside the label sector", off)
	}
	pv := &lvmPV{sector: sector, uuid: string(sec[off : off+32])}
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
			if len(pv.data)+len(pv.mdas) >= lvmMaxAreas {
				return nil, fmt.Errorf("pv_header lists more than %d areas", lvmMaxAreas)
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
	if a.offset+lvmMDAHeader > psize || a.offset < 0 {
		return m, fmt.Errorf("%s: outside the %d-byte partition", where, psize)
	}
	h := make([]byte, lvmMDAHeader)
	if err := readFull(ra, h, a.offset); err != nil {
		return m, fmt.Errorf("%s: %w", where, err)
	}
	if want, got := binary.LittleEndian.Uint32(h[0:4]), lvmCRC(lvmInitialCRC, h[4:]); want != got {
		return m, fmt.Errorf("%s: header checksum %#08x, computed %#08x", where, want, got)
	}
	if string(h[4:20]) != lvmMDAMagic {
		return m, fmt.Errorf("%s: no LVM2 metadata magic", where)
	}
	if v := binary.LittleEndian.Uint32(h[20:24]); v != 1 {
		return m, fmt.Errorf("%s: metadata format version %d, not 1", where, v)
	}
	if st := binary.LittleEndian.Uint64(h[24:32]); st != uint64(a.offset) {
		return m, fmt.Errorf("%s: header says it starts at %#x", where, st)
	}
	asize := binary.LittleEndian.Uint64(h[32:40])
	if asize < lvmMDAHeader || asize > uint64(psize-a.offset) {
		return m, fmt.Errorf("%s: area size %#x does not fit the partition", where, asize)
	}
	roff, rsize := binary.LittleEndian.Uint64(h[40:48]), binary.LittleEndian.Uint64(h[48:56])
	sum := binary.LittleEndian.Uint32(h[56:60])
	if roff == 0 && rsize == 0 {
		m.empty = true
		return m, nil
	}
	if binary.LittleEndian.Uint32(h[60:64])&lvmRawLocnIgnored != 0 {
		m.ignored = true // pvchange --metadataignore: LVM neither reads nor updates it
		return m, nil
	}
	if roff < lvmMDAHeader || roff >= asize || rsize > asize-lvmMDAHeader {
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
		if err := readFull(ra, text[first:], a.offset+lvmMDAHeader); err != nil {
			return m, fmt.Errorf("%s: metadata text (wrapped): %w", where, err)
		}
	}
	if got := lvmCRC(lvmInitialCRC, text); got != sum {
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
	segments []lvSegment
	extents  int64
}

type vgInfo struct {
	name       string
	seqno      int64              // of two metadata areas, the higher is the newer
	extentSize int64              // sectors
	pvs        map[string]pvEntry // pvN => its id and pe_start
	lvs        []lvInfo
}

type pvEntry struct {
	id      string // without dashes
	peStart int64  // sectors
}

// parseVG reads the VG from the metadata text: the first section of the top level
// (import_vsn1.c _read_vg), its extent_size, physical_volumes and logical_volumes.
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
		pe, err := p.uint("pe_start", math.MaxInt64/lvmSectorSize)
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
			return nil, PVProblem{LV: l.key, Err: err}
		}
		vg.lvs = append(vg.lvs, lv)
	}
	// Offsets are computed in bytes: bound every extent number so that none overflows.
	maxExt := math.MaxInt64 / 2 / (vg.extentSize * lvmSectorSize)
	for _, lv := range vg.lvs {
		if lv.extents > maxExt {
			return nil, PVProblem{LV: lv.name, Err: fmt.Errorf("%d extents of %d sectors: too large", lv.extents, vg.extentSize)}
		}
		for _, s := range lv.segments {
			for _, st := range s.stripes {
				if st.extent+s.count > maxExt {
					return nil, PVProblem{LV: lv.name, Err: fmt.Errorf("line %d: stripe at extent %d: too large", s.line, st.extent)}
				}
			}
		}
	}
	for name, p := range vg.pvs {
		if p.peStart > math.MaxInt64/2/lvmSectorSize {
			return nil, fmt.Errorf("physical volume %s: pe_start %d: too large", name, p.peStart)
		}
	}
	return vg, nil
}

// parseLV reads an LV's segments: every subsection is one (import_vsn1.c _read_segments), and
// segment_count must agree. Segments are sorted by start_extent and must tile the LV.
func parseLV(l *cfgNode) (lvInfo, error) {
	lv := lvInfo{name: l.key}
	for _, s := range l.children {
		if !s.section {
			continue
		}
		if len(lv.segments) >= maxSegmentsOfLV {
			return lv, fmt.Errorf("more than %d segments", maxSegmentsOfLV)
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
	n, err := l.uint("segment_count", maxSegmentsOfLV)
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

// lvReader reads an LV's bytes where they lie on this PV; a byte that lies elsewhere (another
// PV, a segment type whose bytes are not a plain mapping) is an error saying so.
type lvReader struct {
	pv     io.ReaderAt
	psize  int64
	vg     *vgInfo
	lv     *lvInfo
	thisPV string // the VG's name for this PV (pvN)
}

func (r *lvReader) size() int64 { return r.lv.extents * r.vg.extentSize * lvmSectorSize }

// locate maps LV byte off to a PV byte and the number of contiguous bytes from there.
func (r *lvReader) locate(off int64) (int64, int64, error) {
	ext := r.vg.extentSize * lvmSectorSize
	for _, s := range r.lv.segments {
		start, end := s.start*ext, (s.start+s.count)*ext
		if off < start || off >= end {
			continue
		}
		if s.typ != "striped" && s.typ != "linear" {
			return 0, 0, fmt.Errorf("segment type %s not read", s.typ)
		}
		rel, run, stripe := off-start, end-off, 0
		within := rel
		n := int64(len(s.stripes))
		if n > 1 {
			chunk := s.stripeSize * lvmSectorSize
			c := rel / chunk
			stripe = int(c % n)
			within = (c/n)*chunk + rel%chunk
			run = chunk - rel%chunk
		}
		st := s.stripes[stripe]
		if st.pv != r.thisPV {
			pv, known := r.vg.pvs[st.pv]
			if !known {
				return 0, 0, fmt.Errorf("segment %s lies on %s, which the VG does not list", s.name, st.pv)
			}
			return 0, 0, fmt.Errorf("segment %s lies on %s (PV UUID %s), not this PV: not read", s.name, st.pv, pv.id)
		}
		pvoff := r.vg.pvs[r.thisPV].peStart*lvmSectorSize + st.extent*ext + within
		if pvoff < 0 || pvoff+min(run, lvmSectorSize) > r.psize {
			return 0, 0, fmt.Errorf("segment %s: extent %d of %s lies outside the partition", s.name, st.extent, st.pv)
		}
		return pvoff, run, nil
	}
	return 0, 0, fmt.Errorf("offset %#x lies in no segment", off)
}

// ReadAt reads LV bytes, segment piece by segment piece.
func (r *lvReader) ReadAt(b []byte, off int64) (int, error) {
	done := 0
	for done < len(b) {
		pvoff, run, err := r.locate(off + int64(done))
		if err != nil {
			return done, err
		}
		n := min(int64(len(b)-done), run)
		got, err := r.pv.ReadAt(b[done:done+int(n)], pvoff)
		done += got
		if err != nil && int64(got) < n {
			return done, err
		}
	}
	return done, nil
}

// ProbeLVM reads an LVM2 PV of size bytes and the header sectors of each logical volume of
// its VG, as Probe reads a partition's (the primary header, then each LUKS2 secondary
// offset). The volumes read are returned, with or without a header; the problems name what
// could not be read: the PV (its label, metadata area or text, with the offset) or an LV. A
// PV in no VG has no logical volumes.
func ProbeLVM(ra io.ReaderAt, size int64) ([]LogicalVolume, []PVProblem) {
	pv, err := readLabel(ra, size)
	if err != nil {
		return nil, []PVProblem{{Err: fmt.Errorf("LVM2 PV: %w", err)}}
	}
	if len(pv.mdas) == 0 {
		return nil, []PVProblem{{Err: errors.New("LVM2 PV holds no metadata area: its VG's metadata is on another PV, not read")}}
	}
	// Every metadata area is read: a copy that does not read might be the newest.
	var newest *vgInfo
	var newestSeq int64 = -1
	empty, ignored := 0, 0
	for _, a := range pv.mdas {
		m, err := readMetadata(ra, size, a)
		if err != nil {
			return nil, []PVProblem{{Err: fmt.Errorf("LVM2 PV: %w", err)}}
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
			var lp PVProblem
			if errors.As(err, &lp) {
				return nil, []PVProblem{{LV: lp.LV, Err: fmt.Errorf("metadata area at offset %#x: %w", a.offset, lp.Err)}}
			}
			return nil, []PVProblem{{Err: fmt.Errorf("LVM2 PV: metadata area at offset %#x: %w", a.offset, err)}}
		}
		if vg.seqno > newestSeq {
			newest, newestSeq = vg, vg.seqno
		}
	}
	if newest == nil && ignored > 0 {
		return nil, []PVProblem{{Err: errors.New("LVM2 PV: its metadata areas are ignored (metadataignore): the VG's metadata is on another PV, not read")}}
	}
	if newest == nil {
		return nil, nil // an orphan PV: no VG, no logical volumes
	}
	if empty > 0 {
		return nil, []PVProblem{{Err: errors.New("LVM2 PV: one metadata area holds VG " + newest.name + ", another none")}}
	}
	vg := newest
	this := ""
	for name, e := range vg.pvs {
		if e.id == pv.uuid {
			this = name
		}
	}
	if this == "" {
		return nil, []PVProblem{{Err: fmt.Errorf("LVM2 PV: VG %s lists no PV with this PV's UUID %s", vg.name, pv.uuid)}}
	}
	var out []LogicalVolume
	var probs []PVProblem
	for i := range vg.lvs {
		r := &lvReader{pv: ra, psize: size, vg: vg, lv: &vg.lvs[i], thisPV: this}
		lv := LogicalVolume{VG: vg.name, Name: r.lv.name}
		lvsize := r.size()
		if lvsize == 0 {
			probs = append(probs, PVProblem{LV: lv.Name, Err: errors.New("no extents")})
			continue
		}
		h, ok, err := Probe(r, lvsize)
		if err != nil {
			probs = append(probs, PVProblem{LV: lv.Name, Err: err})
			continue
		}
		if ok {
			lv.Header = h
		}
		at, _, err := r.locate(lv.Header.Offset)
		if err != nil {
			probs = append(probs, PVProblem{LV: lv.Name, Err: err})
			continue
		}
		lv.At = at
		out = append(out, lv)
	}
	return out, probs
}
