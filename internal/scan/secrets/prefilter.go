package secrets

// The detector below finds exactly what gitleaks' Detector.DetectContext finds in a fragment (as
// this package configures it: no decoding, no redaction, no baseline), but looks for literals
// first. gitleaks runs a rule's regular expression over the whole fragment whenever one of the
// rule's keywords occurs anywhere in it, which on ordinary text (logs, bundles, JSON) is nearly
// always; here one pass over the fragment (prefilter_literal.go) finds the occurrences of the
// literals each rule's expression cannot match without (derived from the expression with regexp/syntax), a
// cheap gate checks, byte by byte, that what the expression requires right after the literal
// (an assignment operator, a run of value characters) is there, and only the windows a match
// could occupy around the surviving occurrences meet the expression. What is found in the
// windows is then judged exactly as gitleaks judges it (secret group, entropy, allowlists,
// "gitleaks:allow", the generic-rule dedupe), with gitleaks' own line computation.
//
// Why a window gives the same matches as the whole fragment. For a rule whose literal
// occurrence at k (length m) is needed by every match, with at most pre bytes (and preNL
// newlines) of the match before the literal and post bytes (postNL newlines) after it, a match
// can only start in [lo, k] and end by maxEnd. The expression is run over the local string
// [ls, le) with ls < lo (so the position treated as "start of text" can start no match, and the
// assertions ^, \b of every possible match see their real left context) and le > maxEnd (so the
// "end of text" is touched by no match, and $ and \b see their real right context); windows
// whose local strings overlap are merged. A match inside a local string contains a literal
// occurrence that lies in that same merged window, so the local FindAll finds, in order, the
// very matches the whole-fragment FindAll finds there, and none that it does not. ls is moved
// back to a byte that starts a UTF-8 sequence so that runes decode as they do in the whole
// fragment. Case folding: the literal pass lower-cases ASCII only; a fragment holding one of the
// few non-ASCII characters that lower-case or fold to ASCII letters (U+212A Kelvin sign, U+017F
// long s, U+0130 dotted capital I) is handed to gitleaks whole. Rules without a usable literal
// are run on the whole fragment, as gitleaks runs them.

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

// unbounded marks a length or newline count without a bound.
const unbounded = -1

// Limits of the literal derivation: sets of alternative literals larger than maxLiteralSet, or
// literals longer than maxLiteralLen, are not expanded further; a rule whose best literal is
// shorter than minLiteralLen (and has no gate) is run on the whole fragment.
const (
	maxLiteralSet = 64
	maxLiteralLen = 64
	minLiteralLen = 3
	maxGateReach  = 1024 // bytes after the literal a gate looks at
)

// fastDetector is the detector; it is safe for concurrent use.
type fastDetector struct {
	// the reference: its DetectContext is run on the whole fragment when the prefilter cannot
	// decide, and its configuration is the rules
	*detect.Detector
	rules []*fastRule
	// lits is the literal pass (prefilter_literal.go); trie, the Aho–Corasick automaton of the
	// same patterns, is what it is tested and measured against
	lits *litScanner
	trie *ahocorasick.Trie
	// litsFirst and litsDeferred split lits: litsDeferred holds the patterns that are nothing
	// but literals of rules seldom to run (each limited to some paths by its Path, or gated by
	// keywords that seldom occur, seldomKeyword: pgpass's ':', facebook's '|' and '%',
	// sidekiq's 'https://'), which are not keywords and not special; litsFirst, the others.
	// A fragment is scanned with litsFirst, and with litsDeferred too only when one of
	// deferredRules is to run there (deferredActive). litsFirst is nil when nothing is deferred.
	litsFirst, litsDeferred *litScanner
	deferredRules           []int
	// patText is each Aho–Corasick pattern's text (lower-case)
	patText []string
	// per Aho–Corasick pattern: whether it is one of the characters that force the reference,
	// and which rules' literals it is
	special []bool
	users   [][]litRef
	scratch sync.Pool // *scratch
	// allReference hands every fragment to gitleaks (a rule has a non-ASCII keyword)
	allReference bool
}

// litRef names one literal of one rule.
type litRef struct{ rule, lit int }

type fastRule struct {
	r        config.Rule
	keywords []int // pattern indices of the rule's keywords (gitleaks' gate); none: always run
	// whole: the regexp is run on the whole fragment (no usable literal); reference: the fragment
	// is handed to gitleaks whole when this rule is to run (required rules)
	whole, reference bool
	lits             []literal
}

// literal is one literal (set) of a rule: every match contains one of its strings, with at most
// pre bytes and preNL newlines before it and post bytes and postNL newlines after it.
type literal struct {
	pats                    []int // pattern indices
	pre, preNL, post, postN int   // unbounded = -1
	gate                    gateNode
	quick                   *quickGate // a cheap first test of gate, or nil
}

// scratch is the per-call memory.
type scratch struct {
	occ   [][]int // occurrence positions by pattern
	hit   []bool  // pattern occurred
	spans []span
	arena []ivl // the gates' reachable sets
	// inPath caches, per rule, whether its Path matches path (pathMatch): a file's fragments
	// share their path, and matching ten expressions per fragment cost 4 % of the search
	path   string
	inPath []int8 // 0 not known yet, 1 matches, -1 does not
}

// pathMatch says whether rule ri's Path (not nil) matches path, as r.Path.MatchString does.
func (fd *fastDetector) pathMatch(sc *scratch, ri int, path string) bool {
	if sc.path != path || len(sc.inPath) != len(fd.rules) {
		sc.path = path
		if cap(sc.inPath) < len(fd.rules) {
			sc.inPath = make([]int8, len(fd.rules))
		}
		sc.inPath = sc.inPath[:len(fd.rules)]
		clear(sc.inPath)
	}
	switch sc.inPath[ri] {
	case 1:
		return true
	case -1:
		return false
	}
	m := fd.rules[ri].r.Path.MatchString(path)
	sc.inPath[ri] = -1
	if m {
		sc.inPath[ri] = 1
	}
	return m
}

type span struct{ ls, le int }

// newFastDetector builds the prefilter for det's rules.
func newFastDetector(det *detect.Detector) *fastDetector {
	fd := &fastDetector{Detector: det}
	patIndex := map[string]int{}
	var pats []string
	pattern := func(s string) int {
		if i, ok := patIndex[s]; ok {
			return i
		}
		patIndex[s] = len(pats)
		pats = append(pats, s)
		fd.special = append(fd.special, false)
		fd.users = append(fd.users, nil)
		return len(pats) - 1
	}
	for _, s := range foldSpecials() {
		fd.special[pattern(s)] = true
	}
	// gitleaks runs each rule of its map once, in no particular order
	ids := make([]string, 0, len(det.Config.Rules))
	for id := range det.Config.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := det.Config.Rules[id]
		fr := &fastRule{r: r}
		for _, k := range r.Keywords {
			fr.keywords = append(fr.keywords, pattern(strings.ToLower(k)))
			for i := 0; i < len(k); i++ {
				if k[i] >= 0x80 {
					// the literal pass lower-cases ASCII only: gitleaks decides such a gate
					fd.allReference = true
				}
			}
		}
		fr.reference = len(r.RequiredRules) > 0
		if r.Regex != nil && !fr.reference {
			lits, ok := deriveLiterals(r.Regex.String())
			if !ok {
				fr.whole = true
			}
			for li, l := range lits {
				lit := literal{pre: l.pre, preNL: l.preNL, post: l.post, postN: l.postNL, gate: l.gate}
				if l.gate != nil {
					lit.quick = quickOf(l.gate)
				}
				for _, s := range l.strs {
					p := pattern(s)
					lit.pats = append(lit.pats, p)
					fd.users[p] = append(fd.users[p], litRef{rule: len(fd.rules), lit: li})
				}
				fr.lits = append(fr.lits, lit)
			}
		}
		fd.rules = append(fd.rules, fr)
	}
	fd.trie = ahocorasick.NewTrieBuilder().AddStrings(pats).Build()
	fd.patText = pats
	fd.lits = newLitScanner(pats)
	fd.splitDeferred(pats)
	n := len(pats)
	fd.scratch.New = func() any { return &scratch{occ: make([][]int, n), hit: make([]bool, n)} }
	return fd
}

// seldomKeyword says whether a keyword seldom occurs in text that holds no credential of its
// rule, even in random letters and digits (base64, hex, a binary's strings): six bytes or
// more, or four with one that is neither a letter nor a digit ("ops_", "sig="). A rule gated by
// such keywords only runs on few fragments; "curl" or "xoxb" occurs about once in 64 KiB of
// random base64.
func seldomKeyword(k string) bool {
	if len(k) >= 6 {
		return true
	}
	if len(k) < 4 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return true
		}
	}
	return false
}

// splitDeferred sets litsFirst, litsDeferred and deferredRules. A pattern is deferred when it is
// not special, no rule's keyword, and a literal of rules that are each limited to some paths or
// gated by seldom keywords only. Scanning a fragment without it
// changes no finding when none of those rules is to run there: find skips them before it looks
// at their occurrences, and only keywords and specials are looked up by whether they occurred.
func (fd *fastDetector) splitDeferred(pats []string) {
	keyword := make([]bool, len(pats))
	for _, fr := range fd.rules {
		for _, p := range fr.keywords {
			keyword[p] = true
		}
	}
	seldom := func(fr *fastRule) bool {
		if fr.r.Path != nil {
			return true
		}
		if len(fr.keywords) == 0 {
			return false
		}
		for _, p := range fr.keywords {
			if !seldomKeyword(pats[p]) {
				return false
			}
		}
		return true
	}
	first := append([]string(nil), pats...)
	deferred := make([]string, len(pats)) // the literal pass skips an empty pattern
	inRules := map[int]bool{}
	for p := range pats {
		if fd.special[p] || keyword[p] || len(fd.users[p]) == 0 {
			continue
		}
		ok := true
		for _, u := range fd.users[p] {
			if !seldom(fd.rules[u.rule]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		first[p], deferred[p] = "", pats[p]
		for _, u := range fd.users[p] {
			if !inRules[u.rule] {
				inRules[u.rule] = true
				fd.deferredRules = append(fd.deferredRules, u.rule)
			}
		}
	}
	if len(fd.deferredRules) == 0 {
		return
	}
	sort.Ints(fd.deferredRules)
	fd.litsFirst, fd.litsDeferred = newLitScanner(first), newLitScanner(deferred)
}

// deferredActive says whether one of the rules with deferred patterns is to run on a fragment
// of path whose first scan is in sc: its keywords occurred (or it has none) and its Path, if
// it has one, matches path. find decides the same (and more) before it uses a rule's literals.
func (fd *fastDetector) deferredActive(sc *scratch, path string) bool {
	for _, ri := range fd.deferredRules {
		fr := fd.rules[ri]
		if keywordGate(sc, fr) && (fr.r.Path == nil || fd.pathMatch(sc, ri, path)) {
			return true
		}
	}
	return false
}

// keywordGate is gitleaks' keyword gate: rule fr is run on a fragment when it has no keywords
// or one of them occurred there (sc.hit).
func keywordGate(sc *scratch, fr *fastRule) bool {
	if len(fr.keywords) == 0 {
		return true
	}
	for _, p := range fr.keywords {
		if sc.hit[p] {
			return true
		}
	}
	return false
}

// foldSpecials are the UTF-8 encodings of the non-ASCII characters that strings.ToLower turns
// into an ASCII letter or that case-insensitive matching folds to one (isSpecial).
var foldSpecials = sync.OnceValue(func() []string {
	var out []string
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if isSpecial(r) {
			out = append(out, string(r))
		}
	}
	return out
})

// verify, when set (by this package's tests), sees every fragment searched and what detect
// found in it, to compare with the reference.
var verify func(fd *fastDetector, raw, path string, found []report.Finding)

// detect finds what det.DetectContext finds in a fragment of the file at path.
func (fd *fastDetector) detect(raw, path string) []report.Finding {
	found := fd.find(raw, path)
	if verify != nil {
		verify(fd, raw, path, found)
	}
	return found
}

func (fd *fastDetector) find(raw, path string) []report.Finding {
	frag := detect.Fragment{Raw: raw, FilePath: path}
	cfg := &fd.Detector.Config
	if path != "" && path == cfg.Path {
		return nil
	}
	if pathAllowed(path, cfg.Allowlists) {
		return nil
	}
	if fd.allReference {
		return fd.Detector.DetectContext(context.Background(), frag)
	}
	sc := fd.scratch.Get().(*scratch)
	defer fd.scratch.Put(sc)
	for i := range sc.occ {
		sc.occ[i] = sc.occ[i][:0]
		sc.hit[i] = false
	}
	special := false
	record := func(start int, p int32) bool {
		if fd.special[p] {
			special = true
			return false
		}
		sc.hit[p] = true
		if len(fd.users[p]) > 0 {
			sc.occ[p] = append(sc.occ[p], start)
		}
		return true
	}
	if fd.litsFirst == nil {
		fd.lits.scan(raw, record)
	} else {
		fd.litsFirst.scan(raw, record)
		// the deferred patterns are none of litsFirst's: each one's occurrences still come in
		// order, from this scan alone
		if !special && fd.deferredActive(sc, path) {
			fd.litsDeferred.scan(raw, record)
		}
	}
	if special {
		return fd.Detector.DetectContext(context.Background(), frag)
	}
	var findings []report.Finding
	var nl [][]int // newline indices, for gitleaks' location
	for ri, fr := range fd.rules {
		r := &fr.r
		if r.SkipReport {
			continue
		}
		if !keywordGate(sc, fr) {
			continue
		}
		if fr.reference {
			return fd.Detector.DetectContext(context.Background(), frag)
		}
		if pathAllowed(path, r.Allowlists) {
			continue
		}
		if r.Path != nil {
			if r.Regex == nil {
				if fd.pathMatch(sc, ri, path) {
					findings = append(findings, report.Finding{RuleID: r.RuleID, Description: r.Description,
						File: path, Match: "file detected: " + path, Tags: r.Tags})
				}
				continue
			}
			if !fd.pathMatch(sc, ri, path) {
				continue
			}
		}
		if r.Regex == nil {
			continue
		}
		var matches [][]int
		if fr.whole {
			matches = r.Regex.FindAllStringIndex(raw, -1)
		} else {
			matches = fd.windowMatches(sc, ri, raw)
		}
		if len(matches) == 0 {
			continue
		}
		if nl == nil {
			nl = newlines(raw)
		}
		findings = append(findings, judge(frag, raw, r, matches, nl, cfg.Allowlists)...)
	}
	return dedupeGeneric(findings)
}

// windowMatches runs rule ri's expression over the windows around its literals' occurrences
// and returns the matches in fragment offsets, in order.
func (fd *fastDetector) windowMatches(sc *scratch, ri int, raw string) [][]int {
	fr := fd.rules[ri]
	sc.spans = sc.spans[:0]
	for li := range fr.lits {
		l := &fr.lits[li]
		for _, p := range l.pats {
			m := len(fd.patText[p])
			for _, k := range sc.occ[p] {
				if l.quick != nil && !l.quick.pass(raw, k+m) {
					continue
				}
				if l.gate != nil {
					var pass bool
					if pass, sc.arena = gateMatch(l.gate, raw, k+m, sc.arena); !pass {
						continue
					}
				}
				sc.spans = append(sc.spans, window(raw, k, m, l))
			}
		}
	}
	if len(sc.spans) == 0 {
		return nil
	}
	sort.Slice(sc.spans, func(i, j int) bool { return sc.spans[i].ls < sc.spans[j].ls })
	var out [][]int
	cur := sc.spans[0]
	flush := func(w span) {
		for _, m := range fr.r.Regex.FindAllStringIndex(raw[w.ls:w.le], -1) {
			out = append(out, []int{m[0] + w.ls, m[1] + w.ls})
		}
	}
	for _, w := range sc.spans[1:] {
		if w.ls < cur.le {
			cur.le = max(cur.le, w.le)
			continue
		}
		flush(cur)
		cur = w
	}
	flush(cur)
	return out
}

// window is the local string for an occurrence at k of a literal of length m.
func window(raw string, k, m int, l *literal) span {
	lo := 0
	if l.pre != unbounded {
		lo = max(0, k-l.pre)
	}
	if l.preNL != unbounded {
		// at most preNL newlines in [start, k)
		at := k
		for n := 0; n <= l.preNL; n++ {
			i := strings.LastIndexByte(raw[lo:at], '\n')
			if i < 0 {
				at = -1
				break
			}
			at = lo + i
		}
		if at >= 0 {
			lo = max(lo, at+1)
		}
	}
	end := len(raw)
	if l.post != unbounded {
		end = min(end, k+m+l.post)
	}
	if l.postN != unbounded {
		at := k + m
		for n := 0; n <= l.postN && at <= end; n++ {
			i := strings.IndexByte(raw[at:end], '\n')
			if i < 0 {
				at = -1
				break
			}
			if n == l.postN {
				end = at + i // the match ends by this newline
				break
			}
			at += i + 1
		}
	}
	ls, le := 0, min(len(raw), end+1)
	if lo > 0 {
		ls = lo - 1
		for ls > 0 && raw[ls]&0xc0 == 0x80 {
			ls-- // start where a rune starts
		}
	}
	return span{ls, le}
}

// pathAllowed is gitleaks' checkCommitOrPathAllowed for a fragment without a commit.
func pathAllowed(path string, lists []*config.Allowlist) bool {
	if path == "" {
		return false
	}
	for _, a := range lists {
		pathOK := a.PathAllowed(path)
		allowed := pathOK
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
				continue // checked on each finding
			}
			allowed = true
			if len(a.Commits) > 0 {
				allowed = false // there is no commit
			}
			if len(a.Paths) > 0 {
				allowed = allowed && pathOK
			}
		}
		if allowed {
			return true
		}
	}
	return false
}

// findingAllowed is gitleaks' checkFindingAllowed for a fragment without a commit.
func findingAllowed(f report.Finding, path, line string, lists []*config.Allowlist) bool {
	for _, a := range lists {
		target := f.Secret
		switch a.RegexTarget {
		case "match":
			target = f.Match
		case "line":
			target = line
		}
		regexAllowed := a.RegexAllowed(target)
		stop, _ := a.ContainsStopWord(f.Secret)
		var allowed bool
		if a.MatchCondition == config.AllowlistMatchAnd {
			checks := []bool{}
			if len(a.Commits) > 0 {
				checks = append(checks, false)
			}
			if len(a.Paths) > 0 {
				checks = append(checks, a.PathAllowed(path))
			}
			if len(a.Regexes) > 0 {
				checks = append(checks, regexAllowed)
			}
			if len(a.StopWords) > 0 {
				checks = append(checks, stop)
			}
			allowed = true
			for _, c := range checks {
				allowed = allowed && c
			}
		} else {
			allowed = regexAllowed || stop
		}
		if allowed {
			return true
		}
	}
	return false
}

// newlines are the fragment's newline indices, as gitleaks computes them.
func newlines(raw string) [][]int {
	out := [][]int{}
	for i := 0; i < len(raw); {
		j := strings.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		out = append(out, []int{i + j, i + j + 1})
		i += j + 1
	}
	return out
}

// judge turns a rule's matches into findings the way gitleaks' detectRule does.
func judge(frag detect.Fragment, raw string, r *config.Rule, matches [][]int, nl [][]int, global []*config.Allowlist) []report.Finding {
	var out []report.Finding
	for _, mi := range matches {
		secret := strings.Trim(raw[mi[0]:mi[1]], "\n")
		idx := []int{mi[0], mi[0] + len(secret)}
		loc := location(nl, raw, idx)
		if idx[1] > loc.endLineIndex {
			loc.endLineIndex = idx[1]
		}
		f := report.Finding{
			RuleID:      r.RuleID,
			Description: r.Description,
			StartLine:   frag.StartLine + loc.startLine,
			EndLine:     frag.StartLine + loc.endLine,
			StartColumn: loc.startColumn,
			EndColumn:   loc.endColumn,
			Line:        raw[loc.startLineIndex:loc.endLineIndex],
			Match:       secret,
			Secret:      secret,
			File:        frag.FilePath,
			Tags:        r.Tags,
		}
		if strings.Contains(f.Line, "gitleaks:allow") {
			continue
		}
		currentLine := f.Line
		groups := r.Regex.FindStringSubmatch(f.Secret)
		if len(groups) >= 2 {
			if r.SecretGroup > 0 {
				if len(groups) <= r.SecretGroup {
					continue
				}
				f.Secret = groups[r.SecretGroup]
			} else {
				for _, s := range groups[1:] {
					if len(s) > 0 {
						f.Secret = s
						break
					}
				}
			}
		}
		entropy := shannonEntropy(f.Secret)
		f.Entropy = float32(entropy)
		if r.Entropy != 0.0 && entropy <= r.Entropy {
			continue
		}
		if findingAllowed(f, frag.FilePath, currentLine, global) || findingAllowed(f, frag.FilePath, currentLine, r.Allowlists) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// shannonEntropy is gitleaks'.
func shannonEntropy(data string) (entropy float64) {
	if data == "" {
		return 0
	}
	counts := make(map[rune]int)
	for _, c := range data {
		counts[c]++
	}
	inv := 1.0 / float64(len(data))
	for _, n := range counts {
		freq := float64(n) * inv
		entropy -= freq * math.Log2(freq)
	}
	return entropy
}

// dedupeGeneric is gitleaks' filter without redaction: a generic rule's finding is dropped when
// a specific rule found a secret containing it on the same line.
func dedupeGeneric(findings []report.Finding) []report.Finding {
	var out []report.Finding
	for _, f := range findings {
		include := true
		if strings.Contains(strings.ToLower(f.RuleID), "generic") {
			for _, g := range findings {
				if f.StartLine == g.StartLine && f.Commit == g.Commit && f.RuleID != g.RuleID &&
					strings.Contains(g.Secret, f.Secret) && !strings.Contains(strings.ToLower(g.RuleID), "generic") {
					include = false
					break
				}
			}
		}
		if include {
			out = append(out, f)
		}
	}
	return out
}

// loc is gitleaks' Location.
type loc struct {
	startLine, endLine, startColumn, endColumn, startLineIndex, endLineIndex int
}

// location is gitleaks' location function (detect/location.go, MIT licence), unchanged.
func location(newlineIndices [][]int, raw string, matchIndex []int) loc {
	var (
		prevNewLine int
		location    loc
		lineSet     bool
		_lineNum    int
	)
	start := matchIndex[0]
	end := matchIndex[1]
	location.startLineIndex = 0
	if len(newlineIndices) == 0 {
		newlineIndices = [][]int{{len(raw), len(raw) + 1}}
	}
	for lineNum, pair := range newlineIndices {
		_lineNum = lineNum
		newLineByteIndex := pair[0]
		if prevNewLine <= start && start < newLineByteIndex {
			lineSet = true
			location.startLine = lineNum
			location.endLine = lineNum
			location.startColumn = (start - prevNewLine) + 1
			location.startLineIndex = prevNewLine
			location.endLineIndex = newLineByteIndex
		}
		if prevNewLine < end && end <= newLineByteIndex {
			location.endLine = lineNum
			location.endColumn = (end - prevNewLine)
			location.endLineIndex = newLineByteIndex
		}
		prevNewLine = pair[0]
	}
	if !lineSet {
		location.startColumn = (start - prevNewLine) + 1
		location.endColumn = (end - prevNewLine)
		location.startLine = _lineNum + 1
		location.endLine = _lineNum + 1
		i := 0
		for end+i < len(raw) {
			if raw[end+i] == '\n' || raw[end+i] == '\r' {
				break
			}
			i++
		}
		location.endLineIndex = end + i
	}
	return location
}
