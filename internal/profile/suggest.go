package profile

import (
	"fmt"
	"slices"
	"strings"
)

// Closest are the names of known nearest to name by edit distance (Levenshtein, over bytes,
// case-insensitive), in the order of known: those at the smallest distance, when it is at most
// a third of name's length (at least 1, at most 3); none when nothing is that near. A name that
// is a prefix or an extension of a known one (`azure`, `firewall`) also suggests it.
func Closest(name string, known []string) []string {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return nil
	}
	limit := min(max(len(n)/3, 1), 3)
	best, out := limit+1, []string(nil)
	for _, k := range known {
		lk := strings.ToLower(k)
		d := distance(n, lk)
		if d > limit && len(n) >= 3 && (strings.HasPrefix(lk, n) || strings.HasPrefix(n, lk)) {
			d = limit
		}
		switch {
		case d < best:
			best, out = d, []string{k}
		case d == best && !slices.Contains(out, k):
			out = append(out, k)
		}
	}
	if best > limit {
		return nil
	}
	return out
}

// DidYouMean is ` (did you mean "a" or "b"?)` for the closest names, or "".
func DidYouMean(name string, known []string) string {
	c := Closest(name, known)
	if len(c) == 0 {
		return ""
	}
	q := make([]string, len(c))
	for i, s := range c {
		q[i] = fmt.Sprintf("%q", s)
	}
	return " (did you mean " + strings.Join(q, " or ") + "?)"
}

// distance is the Levenshtein distance of a and b, in O(len(b)) memory; names are short, and
// a name longer than 256 bytes is compared by its first 256.
func distance(a, b string) int {
	const maxLen = 256
	a, b = a[:min(len(a), maxLen)], b[:min(len(b), maxLen)]
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
