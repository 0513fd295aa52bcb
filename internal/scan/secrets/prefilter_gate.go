package secrets

import (
	"regexp/syntax"
	"unicode"
)

// A gate is a byte-level outline of what an expression requires right after its literal: runs
// of bytes from a set, of bounded length, in sequence or as alternatives. It is looser than the
// expression (a multi-byte rune is any run of high bytes, assertions are ignored, and the
// outline stops at the first part it cannot describe), so an occurrence it rejects cannot be
// part of a match; it is much cheaper than the expression because it starts at one position.
type gateNode interface{}

// gateItem is a run of min..max bytes of set (max unbounded: any run, followed up to
// maxGateReach).
type gateItem struct {
	set      [256]bool
	min, max int
}

// gateSeqNode is a sequence; stop says the outline ends after it (what follows was not
// described).
type gateSeqNode struct {
	items []gateNode
	stop  bool
}

// gateAltNode is one of several alternatives.
type gateAltNode struct {
	alts []gateNode
}

// gateSeq outlines a sequence of elements; complete is false when it stopped early.
func gateSeq(els []*syntax.Regexp) (gateNode, bool) {
	seq := &gateSeqNode{}
	for _, e := range els {
		g, complete := gateOf(e)
		if g != nil {
			seq.items = append(seq.items, g)
		}
		if !complete {
			seq.stop = true
			return seq, false
		}
	}
	return seq, true
}

// emptyGate says a gate checks nothing: no text makes it fail (it is empty, or ends before
// anything it requires, as after "[\w-]*").
func emptyGate(g gateNode) bool {
	fails, _ := canFail(g)
	return !fails
}

// canFail says whether some text makes g fail; stops that g's outline ends (passes) before
// anything that could.
func canFail(g gateNode) (fails, stops bool) {
	switch n := g.(type) {
	case *gateItem:
		return n.min > 0, false
	case *gateSeqNode:
		for _, it := range n.items {
			f, st := canFail(it)
			if f {
				return true, false
			}
			if st {
				return false, true
			}
		}
		return false, n.stop
	case *gateAltNode:
		all := true
		for _, a := range n.alts {
			f, st := canFail(a)
			if !f && st {
				return false, true
			}
			all = all && f
		}
		return all, false
	}
	return false, true
}

// byteSet is the bytes a rune of class (or any rune, for nil) can begin or continue with:
// the ASCII members, and every high byte when the class holds a non-ASCII rune other than the
// specials.
func byteSet(runes []rune) (set [256]bool, wide bool) {
	for i := 0; i+1 < len(runes); i += 2 {
		lo, hi := runes[i], runes[i+1]
		for r := lo; r <= hi && r < 0x80; r++ {
			set[r] = true
		}
		if hi >= 0x80 && !(lo == hi && isSpecial(lo)) {
			wide = true
		}
	}
	if wide {
		for b := 0x80; b < 0x100; b++ {
			set[b] = true
		}
	}
	return set, wide
}

// single outlines a one-rune expression: its byte set and the most bytes it takes.
func single(re *syntax.Regexp) (set [256]bool, width int, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Rune[0] >= 0x80 {
			return set, 0, false
		}
		r := re.Rune[0]
		set[r] = true
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if f < 0x80 {
					set[f] = true
				}
			}
		}
		return set, 1, true
	case syntax.OpCharClass:
		s, wide := byteSet(re.Rune)
		if wide {
			return s, 4, true
		}
		return s, 1, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		for b := range set {
			set[b] = true
		}
		if re.Op == syntax.OpAnyCharNotNL {
			set['\n'] = false
		}
		return set, 4, true
	}
	return set, 0, false
}

// gateOf outlines one element; complete is false when the outline must stop after it.
func gateOf(re *syntax.Regexp) (gateNode, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return nil, true
	case syntax.OpCapture:
		return gateOf(re.Sub[0])
	case syntax.OpConcat:
		return gateSeq(re.Sub)
	case syntax.OpLiteral:
		seq := &gateSeqNode{}
		for _, r := range re.Rune {
			if r >= 0x80 {
				seq.stop = true
				return seq, false
			}
			it := &gateItem{min: 1, max: 1}
			it.set[r] = true
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					if f < 0x80 {
						it.set[f] = true
					}
				}
			}
			seq.items = append(seq.items, it)
		}
		return seq, true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		set, w, _ := single(re)
		return &gateItem{set: set, min: 1, max: w}, true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		set, w, ok := single(re.Sub[0])
		if !ok {
			return nil, false
		}
		lo, hi := 0, unbounded
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
		}
		if hi == unbounded {
			return &gateItem{set: set, min: lo, max: unbounded}, true
		}
		return &gateItem{set: set, min: lo, max: hi * w}, true
	case syntax.OpAlternate:
		alt := &gateAltNode{}
		complete := true
		for _, s := range re.Sub {
			g, c := gateOf(s)
			if g == nil {
				g = &gateSeqNode{} // matches the empty string
			}
			if !c {
				if sq, ok := g.(*gateSeqNode); ok {
					sq.stop = true
				} else {
					g = &gateSeqNode{items: []gateNode{g}, stop: true}
				}
				complete = false
			}
			alt.alts = append(alt.alts, g)
		}
		return alt, complete
	}
	return nil, false
}

// quickGate is a cheap first test of a gate whose outline starts with optional runs (min 0,
// bounded) and then something that needs a byte of first (the anchor): from the start, within
// skipMax bytes of skip, a byte of first must come. A position that fails it fails the gate.
//
// When no byte is in both skip and first, the anchor can only start at that first byte, p; and
// when the anchor is bounded (at most anchorMax bytes) and is followed by bounded optional runs
// (gap bytes in all) and then by something that takes at least runMin bytes of run in a row
// (the value of an assignment: "[\w.=-]{10,150}"), a second test follows: a run of runMin
// bytes of run must start in [p+1, p+anchorMax+gap], after bytes the anchor and those runs can
// take. Both are implied by the gate (and so by
// the expression), and both look at a few dozen bytes in one loop each, where the gate follows
// every way the outline can go.
type quickGate struct {
	skip, first [256]bool
	skipMax     int
	// the second test, when runMin > 0: pre are the bytes the anchor and the optional runs
	// after it can take
	pre, run               [256]bool
	runMin, anchorMax, gap int
}

// quickOf derives the quick test of g, or nil.
func quickOf(g gateNode) *quickGate {
	seq, ok := g.(*gateSeqNode)
	if !ok {
		return nil
	}
	q := &quickGate{}
	for i, it := range seq.items {
		if gi, ok := it.(*gateItem); ok && gi.min == 0 && gi.max != unbounded {
			for b, in := range gi.set {
				q.skip[b] = q.skip[b] || in
			}
			q.skipMax += gi.max
			continue
		}
		if !firstBytes(it, &q.first) {
			return nil
		}
		q.second(it, seq.items[i+1:])
		return q
	}
	return nil
}

// second sets up the second test for the anchor and the items after it, when it applies.
func (q *quickGate) second(anchor gateNode, rest []gateNode) {
	for b := range q.skip {
		if q.skip[b] && q.first[b] {
			return // the anchor may start at a later first byte: p does not pin it
		}
	}
	amax := maxGateLen(anchor)
	if amax == unbounded {
		return
	}
	// the bytes the anchor can take after its first, and those of the optional runs after it
	var pre [256]bool
	anchorBytes(anchor, &pre)
	gap := 0
	for j, it := range rest {
		if gi, ok := it.(*gateItem); ok && gi.min == 0 && gi.max != unbounded {
			for b, in := range gi.set {
				pre[b] = pre[b] || in
			}
			gap += gi.max
			continue
		}
		var run [256]bool
		n, _ := leadingRun(rest[j:], &run)
		if n < 2 || q.skipMax+amax+gap+n >= maxGateReach {
			return // nothing worth testing, or the gate's overflow rule could pass first
		}
		q.pre, q.run, q.runMin, q.anchorMax, q.gap = pre, run, n, amax, gap
		return
	}
}

// maxGateLen is the most bytes an outline can take, or unbounded.
func maxGateLen(g gateNode) int {
	switch n := g.(type) {
	case *gateItem:
		return n.max
	case *gateSeqNode:
		if n.stop {
			return unbounded
		}
		t := 0
		for _, it := range n.items {
			m := maxGateLen(it)
			if m == unbounded {
				return unbounded
			}
			t += m
		}
		return t
	case *gateAltNode:
		t := 0
		for _, a := range n.alts {
			m := maxGateLen(a)
			if m == unbounded {
				return unbounded
			}
			t = max(t, m)
		}
		return t
	}
	return unbounded
}

// leadingRun adds to set the bytes of the run every match of the sequence nodes starts with
// and returns the run's least length: consecutive parts take consecutive bytes, so the parts
// that must take bytes, from the first on, make one run of their sets' union at least as long
// as their minimums together (of alternatives: the union, and the least of their runs). It
// stops before the first part that may take none; whole says it took every node.
func leadingRun(nodes []gateNode, set *[256]bool) (n int, whole bool) {
	for _, g := range nodes {
		var m int
		complete := true
		switch x := g.(type) {
		case *gateItem:
			if x.min == 0 {
				return n, false
			}
			for b, in := range x.set {
				set[b] = set[b] || in
			}
			m = x.min
		case *gateSeqNode:
			var all bool
			m, all = leadingRun(x.items, set)
			complete = all && !x.stop
		case *gateAltNode:
			m = unbounded
			var alts [256]bool
			for _, a := range x.alts {
				am, all := leadingRun([]gateNode{a}, &alts)
				if am == 0 {
					return n, false
				}
				if m == unbounded || am < m {
					m = am
				}
				complete = complete && all
			}
			if m == unbounded {
				return n, false
			}
			for b, in := range alts {
				set[b] = set[b] || in
			}
		default:
			return n, false
		}
		n += m
		if !complete || m == 0 {
			return n, false
		}
	}
	return n, true
}

// firstBytes adds to set the bytes a match of g can start with; false when g can match the
// empty string (or its start is not known).
func firstBytes(g gateNode, set *[256]bool) bool {
	switch n := g.(type) {
	case *gateItem:
		if n.min == 0 {
			return false
		}
		for b, in := range n.set {
			set[b] = set[b] || in
		}
		return true
	case *gateSeqNode:
		return len(n.items) > 0 && firstBytes(n.items[0], set)
	case *gateAltNode:
		for _, a := range n.alts {
			if !firstBytes(a, set) {
				return false
			}
		}
		return len(n.alts) > 0
	}
	return false
}

// pass runs the quick test at raw[at:].
func (q *quickGate) pass(raw string, at int) bool {
	for j := 0; j <= q.skipMax && at+j < len(raw); j++ {
		c := raw[at+j]
		if q.first[c] {
			return q.runMin == 0 || q.runAfter(raw, at+j)
		}
		if !q.skip[c] {
			return false
		}
	}
	return false
}

// runAfter is the second test for an anchor at p: a run of runMin bytes of run that starts in
// [p+1, p+anchorMax+gap] after bytes of pre only (the anchor's, then the optional runs').
func (q *quickGate) runAfter(raw string, p int) bool {
	last := p + q.anchorMax + q.gap // the last start the run may have
	n := 0
	for i := p + 1; i < len(raw); i++ {
		c := raw[i]
		if !q.pre[c] && i < last {
			last = i // what follows a byte the anchor and the gap cannot take is past them
		}
		if q.run[c] {
			if n++; n >= q.runMin {
				return true
			}
			continue
		}
		n = 0
		if i >= last {
			return false
		}
	}
	return false
}

// anchorBytes adds to set every byte g can take.
func anchorBytes(g gateNode, set *[256]bool) {
	switch n := g.(type) {
	case *gateItem:
		for b, in := range n.set {
			set[b] = set[b] || in
		}
	case *gateSeqNode:
		for _, it := range n.items {
			anchorBytes(it, set)
		}
	case *gateAltNode:
		for _, a := range n.alts {
			anchorBytes(a, set)
		}
	}
}

// ivl is a range [lo, hi] of offsets from the gate's start.
type ivl struct{ lo, hi int }

// gateMatch says whether the outline g can be matched at raw[at:]. arena is scratch memory for
// the reachable sets; it is returned for reuse.
func gateMatch(g gateNode, raw string, at int, arena []ivl) (bool, []ivl) {
	arena = append(arena[:0], ivl{0, 0})
	reach, stopped := simulate(g, arena[0:1:1], raw, at, &arena)
	return len(reach) > 0 || stopped, arena
}

// simulate advances the reachable offsets (sorted, disjoint ranges) through g; the result is
// a view of the arena. stopped reports that an outline that ended early was reached: the gate
// then passes (as it does when the outline runs past maxGateReach).
func simulate(g gateNode, reach []ivl, raw string, at int, arena *[]ivl) (out []ivl, stopped bool) {
	switch n := g.(type) {
	case *gateItem:
		return step(n, reach, raw, at, arena)
	case *gateSeqNode:
		for _, it := range n.items {
			var st bool
			reach, st = simulate(it, reach, raw, at, arena)
			if st {
				return reach, true
			}
			if len(reach) == 0 {
				return nil, false
			}
		}
		return reach, n.stop && len(reach) > 0
	case *gateAltNode:
		// the alternatives' results, gathered (on the stack while few), then sorted and merged
		var buf [16]ivl
		all := buf[:0]
		for _, a := range n.alts {
			r, st := simulate(a, reach, raw, at, arena)
			if st {
				return r, true
			}
			all = append(all, r...)
		}
		if len(all) == 0 {
			return nil, false
		}
		for i := 1; i < len(all); i++ {
			for j := i; j > 0 && all[j].lo < all[j-1].lo; j-- {
				all[j], all[j-1] = all[j-1], all[j]
			}
		}
		start := len(*arena)
		for _, v := range all {
			if m := len(*arena); m > start && v.lo <= (*arena)[m-1].hi+1 {
				(*arena)[m-1].hi = max((*arena)[m-1].hi, v.hi)
				continue
			}
			*arena = append(*arena, v)
		}
		return (*arena)[start:len(*arena):len(*arena)], false
	}
	return reach, false
}

// step advances reachable offsets over one run item. A run that goes on past maxGateReach is
// not followed (overflow: the gate passes).
func step(it *gateItem, reach []ivl, raw string, at int, arena *[]ivl) (out []ivl, overflow bool) {
	hi := it.max
	if hi == unbounded {
		hi = maxGateReach + 1
	}
	start := len(*arena)
	for _, v := range reach {
		if v.hi > maxGateReach {
			return reach, true
		}
		runEnd := -1 // end of the run of member bytes holding o
		for o := v.lo; o <= v.hi; o++ {
			if runEnd < o {
				e := o
				for e < v.hi+hi && at+e < len(raw) && it.set[raw[at+e]] {
					e++
				}
				runEnd = e
				if it.max == unbounded && e == v.hi+hi {
					return reach, true // the run goes on past what the gate follows
				}
			}
			end := min(runEnd, o+hi)
			if end-o < it.min {
				continue
			}
			a := *arena
			if m := len(a); m > start && o+it.min <= a[m-1].hi+1 {
				a[m-1].hi = max(a[m-1].hi, end)
				continue
			}
			*arena = append(*arena, ivl{o + it.min, end})
		}
	}
	return (*arena)[start:len(*arena):len(*arena)], false
}
