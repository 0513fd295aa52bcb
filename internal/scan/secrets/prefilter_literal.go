package secrets

// The literal pass: every occurrence, overlapping ones included, of the detector's literals and
// keywords in a fragment, ASCII letters compared without case. It finds exactly what the
// Aho–Corasick automaton (fd.trie) finds in the fragment lower-cased (TestLiteralScanMatchesTrie
// compares them), but without lower-casing a copy of the fragment and without walking the
// automaton through every byte. Each position's three bytes, as they are, index a bitmap of
// 2^24 bits (2 MiB, of which ordinary text touches a few hundred KiB) that says whether a literal
// may start so: a one-byte literal (any two bytes after it), a two-byte one (any byte after it),
// or the first three bytes of a longer one, in any case of their ASCII letters. On ordinary text
// few positions pass (the two-byte table this replaced let 12–23 % through, the three bytes
// 1–11 %, each an unpredictable branch); a position that passes is looked up in a table of its
// two bytes (folded) that says which kinds of literal start so, then compared with those (the
// longer ones found by a hash of their first three bytes, each first by its first four bytes as
// one word, folded at once, then byte by byte: on text dense with the generic keywords the
// buckets hold literals that share three bytes, and the word rejects most of them in one
// comparison). For one literal, occurrences come in increasing order, as the automaton reports
// them.

// litHashBits is the size of the three-byte prefix table (in bits of the hash).
const litHashBits = 12

// foldASCII maps A-Z to a-z and every other byte to itself.
var foldASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// litScanner holds the tables of the literal pass.
type litScanner struct {
	pats []string
	// pair has, for the two bytes b0<<8|b1 at a position (folded), the pairOne bit when b0 is
	// a one-byte literal, pairTwo when b0 b1 is a two-byte literal, and pairLong when a longer
	// literal starts with b0 b1
	pair [1 << 16]uint8
	// rawPair is pair indexed by the two bytes as they are: rawPair[b0<<8|b1] is
	// pair[fold(b0)<<8|fold(b1)], so the loop over the text folds only where a literal may start
	rawPair [1 << 16]uint8
	// one lists, per byte, the one-byte literals that are it; two, per two bytes, the two-byte
	// literals; three, per hashed three-byte prefix, the longer literals
	one   [256][]int32
	two   map[uint16][]int32
	three [1 << litHashBits][]int32
	// head is, per pattern, its first four bytes as a little-endian word and the mask of the
	// bytes it has (a three-byte literal's fourth is any byte)
	head []litHead
	// start is the bitmap of the three raw bytes b0<<16|b1<<8|b2 at which a literal may start
	start *[1 << 21]byte
}

type litHead struct{ word, mask uint32 }

const (
	pairOne = 1 << iota
	pairTwo
	pairLong
)

func litHash(x uint32) uint32 { return (x * 0x9E3779B1) >> (32 - litHashBits) }

// newLitScanner builds the tables for pats (lower-case for ASCII letters, as the automaton's).
func newLitScanner(pats []string) *litScanner {
	ls := &litScanner{pats: pats, two: map[uint16][]int32{}, head: make([]litHead, len(pats))}
	for i, p := range pats {
		for j := 0; j < 4 && j < len(p); j++ {
			ls.head[i].word |= uint32(p[j]) << (8 * j)
			ls.head[i].mask |= 0xff << (8 * j)
		}
		switch {
		case len(p) == 0:
		case len(p) == 1:
			ls.one[p[0]] = append(ls.one[p[0]], int32(i))
			for b1 := 0; b1 < 256; b1++ {
				ls.pair[int(p[0])<<8|b1] |= pairOne
			}
		case len(p) == 2:
			k := uint16(p[0])<<8 | uint16(p[1])
			ls.two[k] = append(ls.two[k], int32(i))
			ls.pair[k] |= pairTwo
		default:
			h := litHash(uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2]))
			ls.three[h] = append(ls.three[h], int32(i))
			ls.pair[uint16(p[0])<<8|uint16(p[1])] |= pairLong
		}
	}
	for b0 := 0; b0 < 256; b0++ {
		for b1 := 0; b1 < 256; b1++ {
			ls.rawPair[b0<<8|b1] = ls.pair[uint16(foldASCII[b0])<<8|uint16(foldASCII[b1])]
		}
	}
	ls.start = new([1 << 21]byte)
	for _, p := range pats {
		if len(p) == 0 {
			continue
		}
		// the bytes that fold to each of the literal's first three (any byte past its end)
		var at [3][]int
		for j := range at {
			for b := 0; b < 256; b++ {
				if j >= len(p) || foldASCII[b] == p[j] {
					at[j] = append(at[j], b)
				}
			}
		}
		for _, b0 := range at[0] {
			for _, b1 := range at[1] {
				for _, b2 := range at[2] {
					x := b0<<16 | b1<<8 | b2
					ls.start[x>>3] |= 1 << (x & 7)
				}
			}
		}
	}
	return ls
}

// scan calls found(start, pattern) for every occurrence in raw, by increasing start for each
// pattern; found returning false stops the pass.
func (ls *litScanner) scan(raw string, found func(start int, p int32) bool) {
	n := len(raw)
	if n == 0 {
		return
	}
	var x uint32 // the bytes at i-1 and i, then with i+2: the bitmap's index at i
	if n >= 2 {
		x = uint32(raw[0])<<8 | uint32(raw[1])
	}
	for i := 0; i < n; i++ {
		if i+2 < n {
			x = (x<<8 | uint32(raw[i+2])) & (1<<24 - 1)
			if ls.start[x>>3&(1<<21-1)]&(1<<(x&7)) == 0 {
				continue // no literal starts with these three bytes
			}
		}
		var f uint8
		if i+1 < n {
			f = ls.rawPair[uint16(raw[i])<<8|uint16(raw[i+1])]
		} else {
			f = ls.rawPair[uint16(raw[i])<<8] & pairOne // the last byte: one-byte literals only
		}
		if f == 0 {
			continue
		}
		c, next := foldASCII[raw[i]], byte(0)
		if i+1 < n {
			next = foldASCII[raw[i+1]]
		}
		if f&pairOne != 0 {
			for _, p := range ls.one[c] {
				if !found(i, p) {
					return
				}
			}
		}
		if f&pairTwo != 0 {
			for _, p := range ls.two[uint16(c)<<8|uint16(next)] {
				if !found(i, p) {
					return
				}
			}
		}
		if f&pairLong == 0 || i+2 >= n {
			continue
		}
		x := litHash(uint32(c)<<16 | uint32(next)<<8 | uint32(foldASCII[raw[i+2]]))
		bucket := ls.three[x]
		if len(bucket) == 0 {
			continue
		}
		if i+4 <= n {
			w := fold4(uint32(raw[i]) | uint32(raw[i+1])<<8 | uint32(raw[i+2])<<16 | uint32(raw[i+3])<<24)
			for _, p := range bucket {
				if h := ls.head[p]; w&h.mask == h.word && foldedPrefix(raw[i:], ls.pats[p]) && !found(i, p) {
					return
				}
			}
			continue
		}
		for _, p := range bucket {
			if foldedPrefix(raw[i:], ls.pats[p]) && !found(i, p) {
				return
			}
		}
	}
}

// fold4 is foldASCII applied to each byte of x at once: 0x20 is added to each byte from 'A' to
// 'Z'. The comparisons are made on the bytes' low seven bits, where adding 0x3f (sets bit 7 from
// 'A' = 0x41 on) and 0x25 (from '[' = 0x5b on) cannot carry into the next byte; a byte with bit 7
// set is left alone.
func fold4(x uint32) uint32 {
	lo := x & 0x7f7f7f7f
	fromA := (lo + 0x3f3f3f3f) & 0x80808080
	pastZ := (lo + 0x25252525) & 0x80808080
	upper := fromA &^ pastZ &^ (x & 0x80808080)
	return x | upper>>2
}

// foldedPrefix says whether s, its ASCII letters lower-cased, starts with pat.
func foldedPrefix(s, pat string) bool {
	if len(s) < len(pat) {
		return false
	}
	for i := 0; i < len(pat); i++ {
		if foldASCII[s[i]] != pat[i] {
			return false
		}
	}
	return true
}
