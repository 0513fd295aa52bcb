package secrets

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// literalOccurrences are the literal pass's occurrences in raw, "start pattern", sorted, and
// whether it was stopped by a special character (every other occurrence is then irrelevant).
func literalOccurrences(fd *fastDetector, raw string) (occ []string, special bool) {
	fd.lits.scan(raw, func(start int, p int32) bool {
		if fd.special[p] {
			special = true
			return false
		}
		occ = append(occ, fmt.Sprint(start, " ", p))
		return true
	})
	sort.Strings(occ)
	return occ, special
}

// trieOccurrences are the Aho–Corasick automaton's on raw lower-cased (ASCII letters only), as
// the literal pass was before it.
func trieOccurrences(fd *fastDetector, raw string) (occ []string, special bool) {
	lower := []byte(raw)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	fd.trie.Walk(lower, func(end, n, p int64) bool {
		if fd.special[p] {
			special = true
			return false
		}
		occ = append(occ, fmt.Sprint(end-n+1, " ", p))
		return true
	})
	sort.Strings(occ)
	return occ, special
}

// checkLiteralPass fails when the literal pass and the automaton disagree on raw.
func checkLiteralPass(t testing.TB, fd *fastDetector, raw string) {
	t.Helper()
	a, sa := literalOccurrences(fd, raw)
	b, sb := trieOccurrences(fd, raw)
	if sa || sb {
		if sa != sb {
			t.Fatalf("special character seen by one pass only (literal pass %v, automaton %v) in %q", sa, sb, trunc(raw))
		}
		return
	}
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("literal pass: %d occurrences, automaton: %d, in %q", len(a), len(b), trunc(raw))
	}
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestLiteralScanMatchesTrie: the literal pass finds every occurrence the Aho–Corasick automaton
// finds in the lower-cased fragment, and no other, on each kind of the text, on random
// bytes, and on text dense with every literal in random case (overlapping, at the very start
// and end, cut short at the end).
func TestLiteralScanMatchesTrie(t *testing.T) {
	fd := testDetector(t)
	for _, kind := range benchKinds {
		text := benchText(kind, 256<<10)
		checkLiteralPass(t, fd, text)
		checkLiteralPass(t, fd, strings.ToUpper(text))
	}
	rng := rand.New(rand.NewSource(7))
	randomCase := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'a' <= c && c <= 'z' && rng.Intn(2) == 0 {
				b[i] = c - 'a' + 'A'
			}
		}
		return string(b)
	}
	for round := 0; round < 300; round++ {
		var b strings.Builder
		for b.Len() < 4096 {
			switch rng.Intn(4) {
			case 0:
				p := fd.patText[rng.Intn(len(fd.patText))]
				if fd.special[patIndexOf(fd, p)] && rng.Intn(8) != 0 {
					continue // most rounds without a special character, else all stop early
				}
				b.WriteString(randomCase(p))
			case 1:
				p := fd.patText[rng.Intn(len(fd.patText))]
				b.WriteString(randomCase(p[:rng.Intn(len(p)+1)])) // a literal cut short
			case 2:
				b.WriteByte(byte(rng.Intn(256)))
			default:
				b.WriteString(b64chars[rng.Intn(len(b64chars)):])
			}
		}
		s := b.String()
		checkLiteralPass(t, fd, s)
		// every cut of the end, so literals end exactly at the end of the text
		for cut := 0; cut < 12 && cut < len(s); cut++ {
			checkLiteralPass(t, fd, s[:len(s)-cut])
		}
	}
	for _, p := range fd.patText {
		checkLiteralPass(t, fd, p)
		checkLiteralPass(t, fd, randomCase(p)+p)
	}
}

func patIndexOf(fd *fastDetector, s string) int {
	for i, p := range fd.patText {
		if p == s {
			return i
		}
	}
	return -1
}

// FuzzLiteralPass: on any bytes the literal pass and the automaton agree.
func FuzzLiteralPass(f *testing.F) {
	fd := testDetector(f)
	f.Add("token=AKIAxx ghp_ -----BEGIN pass:")
	f.Add("ey\x00sk s. q~ : % |")
	f.Add("\u212aey İ ſ")
	f.Add(strings.ToUpper(benchText("log", 2048)))
	f.Fuzz(func(t *testing.T, s string) {
		checkLiteralPass(t, fd, s)
	})
}

// TestFold4MatchesTable: folding a word at once gives what foldASCII gives for each of its
// bytes, for every value of every byte (the others random, so that no carry or borrow between
// bytes goes unseen).
func TestFold4MatchesTable(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for pos := 0; pos < 4; pos++ {
		for v := 0; v < 256; v++ {
			for range 64 {
				x := rng.Uint32()&^(0xff<<(8*pos)) | uint32(v)<<(8*pos)
				var want uint32
				for j := 0; j < 4; j++ {
					want |= uint32(foldASCII[byte(x>>(8*j))]) << (8 * j)
				}
				if got := fold4(x); got != want {
					t.Fatalf("fold4(%#08x) = %#08x, want %#08x", x, got, want)
				}
			}
		}
	}
}
