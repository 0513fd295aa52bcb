package encryption

import (
	"errors"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
)

// The header sectors of each LVM logical volume are read where its extents lie, on whichever
// PV of the image holds them: internal/lvm reads the PVs and assembles their VGs as LVM does.

// LogicalVolume is an LVM logical volume whose header sectors were read.
type LogicalVolume struct {
	VG, Name string
	Header   Header // Kind "" when no volume header was found
	// PV is the PV that holds the header (or the LV's first byte), At where in it (bytes).
	PV *lvm.PV
	At int64
}

// PVProblem is what kept a PV, or one logical volume of it, from being read.
type PVProblem = lvm.Problem

// WritePV lays out an LVM2 physical volume in pv as pvcreate and vgcreate leave one (see
// lvm.WritePV): the tests build images with it.
func WritePV(pv []byte, uuid string, peStart int64, text string) error {
	return lvm.WritePV(pv, uuid, peStart, text)
}

// ProbeLVM reads one LVM2 PV of size bytes and the header sectors of each logical volume of
// its VG, as Probe reads a partition's: probeVGs on this PV alone.
func ProbeLVM(ra io.ReaderAt, size int64) ([]LogicalVolume, []PVProblem) {
	pv, err := lvm.ReadPV("this PV", ra, size)
	if err != nil {
		return nil, []PVProblem{asProblem(err)}
	}
	vgs, left := lvm.Assemble([]*lvm.PV{pv})
	var probs []PVProblem
	for _, l := range left {
		probs = append(probs, PVProblem{Err: l.Err})
	}
	lvs, more := probeVGs(vgs)
	return lvs, append(probs, more...)
}

func asProblem(err error) PVProblem {
	var p lvm.Problem
	if errors.As(err, &p) {
		return p
	}
	return PVProblem{Err: err}
}

// probeVGs reads the header sectors of every LV of vgs (the primary header, then each LUKS2
// secondary offset), as far as its bytes can be read: a header found before a byte that cannot
// be read (a stripe on a PV that is not in the image) is still found. An LV whose probed bytes
// cannot be read is a problem naming it.
func probeVGs(vgs []*lvm.VG) ([]LogicalVolume, []PVProblem) {
	var out []LogicalVolume
	var probs []PVProblem
	for _, vg := range vgs {
		for _, l := range vg.LVs {
			lv := LogicalVolume{VG: vg.Name, Name: l.Name}
			if l.Size == 0 {
				probs = append(probs, PVProblem{LV: l.Name, Err: errors.New("no extents")})
				continue
			}
			h, ok, err := Probe(l, l.Size)
			if err != nil {
				probs = append(probs, PVProblem{LV: l.Name, Err: err})
				continue
			}
			if ok {
				lv.Header = h
			}
			pv, at, _, err := l.Locate(lv.Header.Offset)
			if err != nil {
				probs = append(probs, PVProblem{LV: l.Name, Err: err})
				continue
			}
			lv.PV, lv.At = pv, at
			out = append(out, lv)
		}
	}
	return out, probs
}
