package osv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
)

// Verdict is what one affected entry says of one installed version.
type Verdict struct {
	Affected bool
	// Fixed is the lowest "fixed" version above the installed one in the range that holds it;
	// "" when the record names no fix for it (still affected, nothing to install).
	Fixed string
}

// Evaluate applies the OSV evaluation algorithm (schema "Evaluation": IncludedInVersions or
// IncludedInRanges, each range before its limits) to version v under the ecosystem's order.
// GIT ranges are skipped (an installed package is not a commit). A version of the record or v
// that the order's package manager would refuse is an error: it cannot be placed soundly.
func (a Affected) Evaluate(v string, s pkgver.Scheme) (Verdict, error) {
	if err := s.Valid(v); err != nil {
		return Verdict{}, fmt.Errorf("installed %w", err)
	}
	for _, x := range a.Versions {
		if s.Compare(v, x) == 0 {
			return Verdict{Affected: true, Fixed: a.fixedAbove(v, s)}, nil
		}
	}
	for i, r := range a.Ranges {
		if r.Type == "GIT" {
			continue
		}
		if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
			return Verdict{}, fmt.Errorf("range %d: unknown type %q", i, r.Type)
		}
		in, fixed, err := r.includes(v, s)
		if err != nil {
			return Verdict{}, fmt.Errorf("range %d: %w", i, err)
		}
		if in {
			return Verdict{Affected: true, Fixed: fixed}, nil
		}
	}
	return Verdict{}, nil
}

// fixedAbove is the lowest fixed version above v in any range (for an affected version named
// in versions).
func (a Affected) fixedAbove(v string, s pkgver.Scheme) string {
	best := ""
	for _, r := range a.Ranges {
		for _, e := range r.Events {
			if e.Fixed != "" && s.Valid(e.Fixed) == nil && s.Compare(e.Fixed, v) > 0 && (best == "" || s.Compare(e.Fixed, best) < 0) {
				best = e.Fixed
			}
		}
	}
	return best
}

// includes is IncludedInRanges for one range, and the fix that ends the affected interval
// holding v.
func (r Range) includes(v string, s pkgver.Scheme) (bool, string, error) {
	evs := make([]Event, 0, len(r.Events))
	var limits []string
	introduced := false
	for _, e := range r.Events {
		k, x := e.kind()
		if !(k == "introduced" && x == "0") && !(k == "limit" && strings.Contains(x, "*")) {
			if err := s.Valid(x); err != nil {
				return false, "", fmt.Errorf("%s %w", k, err)
			}
		}
		if k == "limit" {
			limits = append(limits, x)
			continue
		}
		introduced = introduced || k == "introduced"
		evs = append(evs, e)
	}
	if !introduced {
		return false, "", fmt.Errorf("no introduced event")
	}
	// BeforeLimits: no limit means an implicit "*"
	if len(limits) > 0 {
		before := false
		for _, l := range limits {
			if strings.Contains(l, "*") || s.Compare(v, l) < 0 {
				before = true
				break
			}
		}
		if !before {
			return false, "", nil
		}
	}
	// sorted by version; "introduced: 0" sorts before every version; at one version the
	// events keep their order in the record
	sort.SliceStable(evs, func(i, j int) bool { return eventLess(evs[i], evs[j], s) })
	vulnerable := false
	for _, e := range evs {
		switch {
		case e.Introduced != "" && (e.Introduced == "0" || s.Compare(v, e.Introduced) >= 0):
			vulnerable = true
		case e.Fixed != "" && s.Compare(v, e.Fixed) >= 0:
			vulnerable = false
		case e.LastAffected != "" && s.Compare(v, e.LastAffected) > 0:
			vulnerable = false
		}
	}
	fixed := ""
	if vulnerable {
		// the fix of the interval that holds v: the first fixed version above it
		for _, e := range evs {
			if e.Fixed != "" && s.Compare(e.Fixed, v) > 0 {
				fixed = e.Fixed
				break
			}
		}
	}
	return vulnerable, fixed, nil
}

func eventLess(a, b Event, s pkgver.Scheme) bool {
	_, x := a.kind()
	_, y := b.kind()
	az, bz := a.Introduced == "0", b.Introduced == "0"
	switch {
	case az && bz:
		return false
	case az:
		return true
	case bz:
		return false
	}
	return s.Compare(x, y) < 0
}
