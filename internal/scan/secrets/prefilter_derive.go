package secrets

import (
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// derived is what deriveLiterals learns of an expression: every match contains one of strs
// (lower-case ASCII letters; the text is searched lower-cased), with at most pre bytes and preNL
// newlines of the match before it and post bytes and postNL newlines after it (unbounded = -1);
// gate, when set, is what the expression requires right after the literal.
type derived struct {
	strs                     []string
	pre, preNL, post, postNL int
	gate                     gateNode
}

// deriveLiterals finds the literal a rule's matches cannot do without. ok is false when there
// is none worth using: the rule is then run on the whole fragment.
func deriveLiterals(expr string) ([]derived, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	return deriveFrom(re, 0)
}

// maxSplitDepth and maxSplitBranches bound splitting an expression at its alternations.
const (
	maxSplitDepth    = 2
	maxSplitBranches = 8
)

// deriveFrom is deriveLiterals of a parsed expression. When the expression as a whole has no
// literal worth using, it is split at the first alternation of its top-level sequence that
// gives every branch one: each match of the expression is a match of prefix+branch+suffix for
// one of the branches, so it contains that branch's literal within that branch's bounds, and
// the literals of all branches together are what every match needs one of (vault's
// `\b(?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24}))…`: "hvs." and "s." with the runs each
// requires after it, where the alternation as one element only gives "s." without a gate).
func deriveFrom(re *syntax.Regexp, depth int) ([]derived, bool) {
	els := flatten(re)
	if d, ok := deriveSeq(els); ok {
		return d, true
	}
	if depth >= maxSplitDepth {
		return nil, false
	}
	for i, e := range els {
		for e.Op == syntax.OpCapture {
			e = e.Sub[0]
		}
		if e.Op != syntax.OpAlternate || len(e.Sub) > maxSplitBranches {
			continue
		}
		var out []derived
		for _, b := range e.Sub {
			seq := make([]*syntax.Regexp, 0, len(els))
			seq = append(append(append(seq, els[:i]...), b), els[i+1:]...)
			d, ok := deriveFrom(&syntax.Regexp{Op: syntax.OpConcat, Sub: seq}, depth+1)
			if !ok {
				out = nil
				break
			}
			out = append(out, d...)
		}
		if out != nil {
			return out, true
		}
	}
	return nil, false
}

// deriveSeq derives the literal of a sequence of elements as a whole.
func deriveSeq(els []*syntax.Regexp) ([]derived, bool) {
	type cand struct {
		d      derived
		minLen int
		exact  bool
	}
	var best *cand
	better := func(c *cand) bool {
		if best == nil {
			return true
		}
		if (c.d.gate != nil) != (best.d.gate != nil) && min(c.minLen, best.minLen) >= minLiteralLen &&
			2*min(c.minLen, best.minLen) >= max(c.minLen, best.minLen) {
			// a gated literal of useful length beats an ungated one up to twice as long
			return c.d.gate != nil
		}
		if c.minLen != best.minLen {
			return c.minLen > best.minLen
		}
		if c.exact != best.exact {
			return c.exact
		}
		return len(c.d.strs) < len(best.d.strs)
	}
	sumBytes := func(es []*syntax.Regexp) int {
		t := 0
		for _, e := range es {
			n := maxBytes(e)
			if n == unbounded {
				return unbounded
			}
			t += n
		}
		return t
	}
	sumNL := func(es []*syntax.Regexp) int {
		t := 0
		for _, e := range es {
			n := maxNL(e)
			if n == unbounded {
				return unbounded
			}
			t += n
		}
		return t
	}
	add := func(a, b int) int {
		if a == unbounded || b == unbounded {
			return unbounded
		}
		return a + b
	}
	for i := range els {
		// runs of elements matching one of a few exact strings, and such a run followed by what
		// the next element starts with
		prod := []string{""}
		for j := i; j <= len(els); j++ {
			var ex []string
			ok := j < len(els)
			if ok {
				ex, ok = exact(els[j])
			}
			if !ok {
				if j < len(els) {
					if pf, ok := exactPrefix(els[j]); ok {
						if pp, ok := product(prod, pf); ok && minLen(pp) > 0 {
							c := &cand{d: derived{strs: pp, pre: sumBytes(els[:i]), preNL: sumNL(els[:i]),
								post: sumBytes(els[j:]), postNL: sumNL(els[j:])}, minLen: minLen(pp)}
							if better(c) {
								best = c
							}
						}
					}
				}
				break
			}
			if prod, ok = product(prod, ex); !ok {
				break
			}
			if ml := minLen(prod); ml > 0 {
				c := &cand{d: derived{strs: prod, pre: sumBytes(els[:i]), preNL: sumNL(els[:i]),
					post: sumBytes(els[j+1:]), postNL: sumNL(els[j+1:])}, minLen: ml, exact: true}
				if g, _ := gateSeq(els[j+1:]); g != nil && !emptyGate(g) {
					c.d.gate = g
				}
				if better(c) {
					best = c
				}
			}
		}
		// an element that needs one of some strings somewhere in it
		if _, ok := exact(els[i]); !ok {
			if rq, ok := required(els[i]); ok {
				w, n := maxBytes(els[i]), maxNL(els[i])
				c := &cand{d: derived{strs: rq, pre: add(sumBytes(els[:i]), w), preNL: add(sumNL(els[:i]), n),
					post: add(w, sumBytes(els[i+1:])), postNL: add(n, sumNL(els[i+1:]))}, minLen: minLen(rq)}
				if better(c) {
					best = c
				}
			}
		}
	}
	if best == nil || best.minLen < minLiteralLen && best.d.gate == nil {
		return nil, false
	}
	return []derived{best.d}, true
}

// flatten lists the elements of an expression's top-level concatenation (captures opened).
func flatten(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpCapture:
		return flatten(re.Sub[0])
	case syntax.OpConcat:
		var out []*syntax.Regexp
		for _, s := range re.Sub {
			out = append(out, flatten(s)...)
		}
		return out
	}
	return []*syntax.Regexp{re}
}

func minLen(ss []string) int {
	m := -1
	for _, s := range ss {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return max(m, 0)
}

// product is every a+b, lower-case; ok is false when it grows past the limits.
func product(as, bs []string) ([]string, bool) {
	if len(as)*len(bs) > maxLiteralSet {
		return nil, false
	}
	set := map[string]bool{}
	for _, a := range as {
		for _, b := range bs {
			if len(a)+len(b) > maxLiteralLen {
				return nil, false
			}
			set[a+b] = true
		}
	}
	return sortedKeys(set), true
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// isSpecial says whether r is one of the non-ASCII characters that fold or lower-case to an
// ASCII letter: a fragment holding one is handed to gitleaks whole, so the derivation may
// ignore them.
func isSpecial(r rune) bool {
	if r < 0x80 {
		return false
	}
	if unicode.ToLower(r) < 0x80 {
		return true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < 0x80 {
			return true
		}
	}
	return false
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// exact is the set of strings (lower-cased) an expression matches, when it is small.
func exact(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= 0x80 && re.Flags&syntax.FoldCase != 0 {
				return nil, false
			}
			b.WriteRune(lowerASCII(r))
		}
		if b.Len() > maxLiteralLen {
			return nil, false
		}
		return []string{b.String()}, true
	case syntax.OpCharClass:
		set := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 64 {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				if isSpecial(r) {
					continue
				}
				if r >= 0x80 {
					return nil, false
				}
				set[string(lowerASCII(r))] = true
				if len(set) > 8 {
					return nil, false
				}
			}
		}
		if len(set) == 0 {
			return nil, false
		}
		return sortedKeys(set), true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpConcat:
		prod := []string{""}
		for _, s := range re.Sub {
			ex, ok := exact(s)
			if !ok {
				return nil, false
			}
			if prod, ok = product(prod, ex); !ok {
				return nil, false
			}
		}
		return prod, true
	case syntax.OpAlternate:
		set := map[string]bool{}
		for _, s := range re.Sub {
			ex, ok := exact(s)
			if !ok {
				return nil, false
			}
			for _, e := range ex {
				set[e] = true
			}
			if len(set) > maxLiteralSet {
				return nil, false
			}
		}
		return sortedKeys(set), true
	case syntax.OpQuest:
		ex, ok := exact(re.Sub[0])
		if !ok {
			return nil, false
		}
		set := map[string]bool{"": true}
		for _, e := range ex {
			set[e] = true
		}
		return sortedKeys(set), true
	case syntax.OpRepeat:
		if re.Max != re.Min || re.Max > 4 {
			return nil, false
		}
		ex, ok := exact(re.Sub[0])
		if !ok {
			return nil, false
		}
		prod := []string{""}
		for n := 0; n < re.Min; n++ {
			if prod, ok = product(prod, ex); !ok {
				return nil, false
			}
		}
		return prod, true
	}
	return nil, false
}

// exactPrefix is a set of strings (lower-cased) one of which every match of re starts with.
func exactPrefix(re *syntax.Regexp) ([]string, bool) {
	if ex, ok := exact(re); ok {
		return ex, true
	}
	switch re.Op {
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= 0x80 && re.Flags&syntax.FoldCase != 0 || b.Len() >= maxLiteralLen {
				break
			}
			b.WriteRune(lowerASCII(r))
		}
		return []string{b.String()}, true
	case syntax.OpCapture, syntax.OpPlus:
		return exactPrefix(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return exactPrefix(re.Sub[0])
		}
	case syntax.OpConcat:
		prod := []string{""}
		for _, s := range re.Sub {
			if ex, ok := exact(s); ok {
				if prod, ok = product(prod, ex); !ok {
					return nil, false
				}
				continue
			}
			pf, ok := exactPrefix(s)
			if !ok {
				return prod, true
			}
			if pp, ok := product(prod, pf); ok {
				return pp, true
			}
			return prod, true
		}
		return prod, true
	case syntax.OpAlternate:
		set := map[string]bool{}
		for _, s := range re.Sub {
			pf, ok := exactPrefix(s)
			if !ok {
				return nil, false
			}
			for _, p := range pf {
				set[p] = true
			}
		}
		if len(set) > maxLiteralSet {
			return nil, false
		}
		return sortedKeys(set), true
	}
	return nil, false
}

// required is a set of non-empty strings one of which every match of re contains.
func required(re *syntax.Regexp) ([]string, bool) {
	if ex, ok := exact(re); ok {
		if minLen(ex) > 0 {
			return ex, true
		}
		return nil, false
	}
	switch re.Op {
	case syntax.OpLiteral:
		// the longest run of ASCII characters (a folded non-ASCII one has other byte forms)
		best, cur := "", strings.Builder{}
		for _, r := range append(append([]rune(nil), re.Rune...), 0x80) {
			if r >= 0x80 && re.Flags&syntax.FoldCase != 0 || r == 0x80 {
				if cur.Len() > len(best) {
					best = cur.String()
				}
				cur.Reset()
				continue
			}
			cur.WriteRune(lowerASCII(r))
		}
		if len(best) > maxLiteralLen {
			best = best[:maxLiteralLen]
		}
		return []string{best}, best != ""
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, s := range re.Sub {
			if rq, ok := required(s); ok && minLen(rq) > minLen(best) {
				best = rq
			}
		}
		// runs of exact elements
		for i := range re.Sub {
			prod := []string{""}
			for j := i; j < len(re.Sub); j++ {
				ex, ok := exact(re.Sub[j])
				if !ok {
					break
				}
				if prod, ok = product(prod, ex); !ok {
					break
				}
				if minLen(prod) > minLen(best) {
					best = prod
				}
			}
		}
		return best, len(best) > 0
	case syntax.OpAlternate:
		set := map[string]bool{}
		for _, s := range re.Sub {
			rq, ok := required(s)
			if !ok {
				return nil, false
			}
			for _, r := range rq {
				set[r] = true
			}
		}
		if len(set) > maxLiteralSet {
			return nil, false
		}
		return sortedKeys(set), true
	}
	return nil, false
}

// classWidth is the most bytes a rune of a class takes, specials aside.
func classWidth(runes []rune) int {
	w := 1
	for i := 0; i+1 < len(runes); i += 2 {
		lo, hi := runes[i], runes[i+1]
		if hi < 0x80 || lo == hi && isSpecial(lo) {
			continue
		}
		w = max(w, utf8.RuneLen(hi), utf8.RuneLen(lo))
	}
	return w
}

// foldWidth is the most bytes a rune of r's case-fold orbit takes, specials aside.
func foldWidth(r rune) int {
	w := utf8.RuneLen(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if !isSpecial(f) {
			w = max(w, utf8.RuneLen(f))
		}
	}
	return w
}

func mulBound(n, k int) int {
	if n == unbounded || k == unbounded {
		if n == 0 || k == 0 {
			return 0
		}
		return unbounded
	}
	return n * k
}

// maxBytes is the longest match of re in bytes (invalid UTF-8 bytes match as one byte each).
func maxBytes(re *syntax.Regexp) int {
	return maxOver(re, func(re *syntax.Regexp) (int, bool) {
		switch re.Op {
		case syntax.OpLiteral:
			n := 0
			for _, r := range re.Rune {
				if re.Flags&syntax.FoldCase != 0 {
					n += foldWidth(r)
				} else {
					n += utf8.RuneLen(r)
				}
			}
			return n, true
		case syntax.OpCharClass:
			return classWidth(re.Rune), true
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			return utf8.UTFMax, true
		}
		return 0, false
	})
}

// maxNL is the most newlines a match of re holds.
func maxNL(re *syntax.Regexp) int {
	return maxOver(re, func(re *syntax.Regexp) (int, bool) {
		switch re.Op {
		case syntax.OpLiteral:
			return strings.Count(string(re.Rune), "\n"), true
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
					return 1, true
				}
			}
			return 0, true
		case syntax.OpAnyChar:
			return 1, true
		case syntax.OpAnyCharNotNL:
			return 0, true
		}
		return 0, false
	})
}

// maxOver is the most of a measure (bytes, newlines) a match of re holds, unbounded when
// a repetition or a part of it is: leaf measures one literal, class or any-character node
// (ok false for the other ops), and maxOver combines them through captures, optional parts,
// repetitions, concatenations and alternations. Empty-width ops measure 0.
func maxOver(re *syntax.Regexp, leaf func(*syntax.Regexp) (int, bool)) int {
	if n, ok := leaf(re); ok {
		return n
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpQuest:
		return maxOver(re.Sub[0], leaf)
	case syntax.OpStar, syntax.OpPlus:
		return mulBound(maxOver(re.Sub[0], leaf), unbounded)
	case syntax.OpRepeat:
		return mulBound(maxOver(re.Sub[0], leaf), re.Max)
	case syntax.OpConcat, syntax.OpAlternate:
		t := 0
		for _, s := range re.Sub {
			n := maxOver(s, leaf)
			if n == unbounded {
				return unbounded
			}
			if re.Op == syntax.OpConcat {
				t += n
			} else {
				t = max(t, n)
			}
		}
		return t
	}
	return 0 // empty-width
}
