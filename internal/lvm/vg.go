package lvm

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// VG is a volume group made up of the PVs read: the newest metadata any of them holds, and
// its logical volumes.
type VG struct {
	Name string
	UUID string // without dashes
	// PVs are the VG's PVs that were read, in the order they were given to Assemble.
	PVs []*PV
	// Missing names the PVs the VG's metadata lists that were not read ("pv1 (PV UUID …)").
	Missing []string
	LVs     []*LV

	info   *vgInfo
	byName map[string]*PV // pvN => the PV read with its UUID
	dup    map[string]string
}

// LV is a logical volume of a VG.
type LV struct {
	VG   *VG
	Name string
	// Visible is false for an LV that is a part of another (a thin pool's data or metadata, a
	// RAID image, a pool metadata spare): lvs hides it, and its bytes are those of the LV that
	// uses it.
	Visible bool
	// Size is the LV's size in bytes (its extents).
	Size int64
	// Err says why not every byte of the LV can be read (a segment of a type that is no plain
	// mapping onto PVs, such as thin or raid, or extents on a PV that was not read); nil when
	// every byte can. ReadAt still reads the bytes that can be.
	Err error

	info *lvInfo
}

// PVError is a PV that belongs to no VG that could be assembled.
type PVError struct {
	PV  *PV
	Err error
}

func (e PVError) Error() string { return e.Err.Error() }

// Assemble groups the PVs that hold VG metadata by the VG's UUID and makes each VG from the
// newest metadata of its PVs (the highest seqno, as lib/metadata/metadata.c _vg_read picks it);
// a PV without metadata of its own joins the VG whose metadata lists its UUID. Orphan PVs make
// no VG. A PV that no VG takes is returned with why.
func Assemble(pvs []*PV) ([]*VG, []PVError) {
	var vgs []*VG
	byID := map[string]*VG{}
	for _, pv := range pvs {
		if pv.vg == nil {
			continue
		}
		vg := byID[pv.vg.id]
		if vg == nil {
			vg = &VG{Name: pv.vg.name, UUID: pv.vg.id, info: pv.vg}
			byID[pv.vg.id] = vg
			vgs = append(vgs, vg)
		}
		if pv.vg.seqno > vg.info.seqno {
			vg.Name, vg.info = pv.vg.name, pv.vg
		}
	}
	var left []PVError
	for _, pv := range pvs {
		switch {
		case pv.Orphan:
			continue
		case pv.vg != nil:
			byID[pv.vg.id].PVs = append(byID[pv.vg.id].PVs, pv)
			continue
		}
		var home *VG
		for _, vg := range vgs {
			if vg.info.pvByUUID(pv.UUID) != "" {
				home = vg
				break
			}
		}
		if home == nil {
			left = append(left, PVError{PV: pv, Err: fmt.Errorf("%s, and no PV read here holds metadata listing this PV (UUID %s): its VG is not read", pv.NoMetadata, pv.UUID)})
			continue
		}
		home.PVs = append(home.PVs, pv)
	}
	for _, vg := range vgs {
		vg.build()
	}
	return vgs, left
}

// build maps the VG's PV names to the PVs read and makes its LVs.
func (vg *VG) build() {
	vg.byName, vg.dup = map[string]*PV{}, map[string]string{}
	names := make([]string, 0, len(vg.info.pvs))
	for n := range vg.info.pvs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e := vg.info.pvs[n]
		for _, pv := range vg.PVs {
			if pv.UUID != e.id {
				continue
			}
			if first, seen := vg.byName[n]; seen {
				// a cloned disk: LVM picks one of the duplicates by rules of its own
				// (lib/device/dev-cache.c, lvmcache.c _choose_duplicates); which is unknown here
				vg.dup[n] = fmt.Sprintf("%s and %s both carry the UUID %s of %s: which one LVM uses is unknown", first.Name, pv.Name, e.id, n)
				continue
			}
			vg.byName[n] = pv
		}
		if vg.byName[n] == nil {
			vg.Missing = append(vg.Missing, fmt.Sprintf("%s (PV UUID %s)", n, e.id))
		}
	}
	for i := range vg.info.lvs {
		li := &vg.info.lvs[i]
		lv := &LV{VG: vg, Name: li.name, Visible: li.visible, Size: li.extents * vg.info.extentSize * sectorSize, info: li}
		lv.Err = lv.check()
		vg.LVs = append(vg.LVs, lv)
	}
}

// FullName is "VG/LV", as lvs names it.
func (lv *LV) FullName() string { return lv.VG.Name + "/" + lv.Name }

// check says why not every byte of the LV reads: each segment must be linear or striped, and
// each stripe's extents must lie on a PV that was read, inside it.
func (lv *LV) check() error {
	if lv.Size == 0 {
		return errors.New("no extents")
	}
	ext := lv.VG.info.extentSize * sectorSize
	for _, s := range lv.info.segments {
		if s.typ != "striped" && s.typ != "linear" {
			return fmt.Errorf("segment %s is of type %s, whose bytes are no plain mapping onto PVs: not read", s.name, s.typ)
		}
		per := s.count / int64(len(s.stripes))
		for _, st := range s.stripes {
			pv, err := lv.VG.stripePV(s, st)
			if err != nil {
				return err
			}
			start := lv.VG.info.pvs[st.pv].peStart*sectorSize + st.extent*ext
			if end := start + per*ext; end > pv.Size {
				return fmt.Errorf("segment %s: extents %d to %d of %s lie outside %s (%d bytes)", s.name, st.extent, st.extent+per-1, st.pv, pv.Name, pv.Size)
			}
		}
	}
	return nil
}

// stripePV is the PV read for stripe st of segment s, or why there is none.
func (vg *VG) stripePV(s lvSegment, st lvStripe) (*PV, error) {
	e, known := vg.info.pvs[st.pv]
	if !known {
		return nil, fmt.Errorf("segment %s lies on %s, which the VG does not list", s.name, st.pv)
	}
	if d, ok := vg.dup[st.pv]; ok {
		return nil, fmt.Errorf("segment %s lies on %s: %s", s.name, st.pv, d)
	}
	pv := vg.byName[st.pv]
	if pv == nil {
		return nil, fmt.Errorf("segment %s lies on %s (PV UUID %s), which is not among the PVs read: not read", s.name, st.pv, e.id)
	}
	return pv, nil
}

// Locate maps LV byte off to the PV that holds it, the offset there, and how many bytes from
// there are contiguous on that PV.
func (lv *LV) Locate(off int64) (*PV, int64, int64, error) {
	if off < 0 || off >= lv.Size {
		return nil, 0, 0, fmt.Errorf("offset %#x lies outside the %d-byte LV", off, lv.Size)
	}
	ext := lv.VG.info.extentSize * sectorSize
	for _, s := range lv.info.segments {
		start, end := s.start*ext, (s.start+s.count)*ext
		if off < start || off >= end {
			continue
		}
		if s.typ != "striped" && s.typ != "linear" {
			return nil, 0, 0, fmt.Errorf("segment type %s not read", s.typ)
		}
		rel, run, stripe := off-start, end-off, 0
		within := rel
		if n := int64(len(s.stripes)); n > 1 {
			// chunks of stripe_size sectors go round the stripes (lib/striped/striped.c, the
			// kernel's dm-stripe.c stripe_map_sector)
			chunk := s.stripeSize * sectorSize
			c := rel / chunk
			stripe = int(c % n)
			within = (c/n)*chunk + rel%chunk
			run = chunk - rel%chunk
		}
		st := s.stripes[stripe]
		pv, err := lv.VG.stripePV(s, st)
		if err != nil {
			return nil, 0, 0, err
		}
		pvoff := lv.VG.info.pvs[st.pv].peStart*sectorSize + st.extent*ext + within
		if pvoff < 0 || pvoff >= pv.Size {
			return nil, 0, 0, fmt.Errorf("segment %s: extent %d of %s lies outside the partition", s.name, st.extent, st.pv)
		}
		return pv, pvoff, min(run, pv.Size-pvoff), nil
	}
	return nil, 0, 0, fmt.Errorf("offset %#x lies in no segment", off)
}

// ReadAt reads LV bytes, piece by piece of contiguous PV bytes. A byte that cannot be read (a
// segment that is no plain mapping, a PV that was not read) ends the read with why.
func (lv *LV) ReadAt(b []byte, off int64) (int, error) {
	done := 0
	for done < len(b) {
		at := off + int64(done)
		if at >= lv.Size {
			return done, io.EOF
		}
		pv, pvoff, run, err := lv.Locate(at)
		if err != nil {
			return done, err
		}
		n := min(int64(len(b)-done), run)
		got, err := pv.r.ReadAt(b[done:done+int(n)], pvoff)
		done += got
		if int64(got) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return done, fmt.Errorf("%s: offset %#x: %w", pv.Name, pvoff+int64(got), err)
		}
	}
	return done, nil
}

// Describe lists the VG's PVs read, by name, for messages: "partition 2 and partition 3".
func (vg *VG) Describe() string {
	var n []string
	for _, pv := range vg.PVs {
		n = append(n, pv.Name)
	}
	return strings.Join(n, " and ")
}

// Range is a byte range [Start, End) of a PV.
type Range struct{ Start, End int64 }

// Unallocated lists the byte ranges of pv's data area, from its pe_start to its end, that no
// LV of the VG maps (free extents: space vgcreate left, or a removed LV left behind, which may
// still hold that LV's bytes), in order. Extents are mapped by the stripes of linear and
// striped segments; every other segment type maps LVs (a pool's data, a RAID image), never PV
// extents. A PV the VG's metadata does not list has none mapped.
func (vg *VG) Unallocated(pv *PV) []Range {
	start, name := pv.DataStart(), ""
	for n, p := range vg.byName {
		if p == pv {
			name, start = n, vg.info.pvs[n].peStart*sectorSize
		}
	}
	if start >= pv.Size {
		return nil
	}
	var used []Range
	ext := vg.info.extentSize * sectorSize
	for _, lv := range vg.info.lvs {
		for _, s := range lv.segments {
			if s.typ != "striped" && s.typ != "linear" || len(s.stripes) == 0 || name == "" {
				continue
			}
			per := s.count / int64(len(s.stripes))
			for _, st := range s.stripes {
				if st.pv == name {
					a := start + st.extent*ext
					used = append(used, Range{a, a + per*ext})
				}
			}
		}
	}
	slices.SortFunc(used, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	var free []Range
	at := start
	for _, u := range used {
		if u.Start > at {
			free = append(free, Range{at, min(u.Start, pv.Size)})
		}
		at = max(at, u.End)
		if at >= pv.Size {
			break
		}
	}
	if at < pv.Size {
		free = append(free, Range{at, pv.Size})
	}
	return free
}

// DataStart is where the PV's data area starts (the pv_header's first data area: pe_start),
// or its end when it lists none.
func (pv *PV) DataStart() int64 {
	if len(pv.data) == 0 || pv.data[0].offset > pv.Size {
		return pv.Size
	}
	return pv.data[0].offset
}
