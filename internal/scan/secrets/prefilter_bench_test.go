package secrets

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	coregx "github.com/coregx/ahocorasick"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// benchText is size bytes of one kind of the ordinary text: a base64 blob, an
// application log, a JSON export, a minified JS bundle, a SQL dump, one long line. It holds the
// generic keywords as such text does (token=, apiKey, secret, password_policy) and no secret.
func benchText(kind string, size int) string {
	rng := rand.New(rand.NewSource(int64(len(kind))))
	an := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = b64chars[rng.Intn(62)]
		}
		return string(b)
	}
	var b strings.Builder
	for b.Len() < size {
		switch kind {
		case "base64":
			for i := 0; i < 76; i++ {
				b.WriteByte(b64chars[rng.Intn(64)])
			}
			b.WriteByte('\n')
		case "log":
			fmt.Fprintf(&b, "2024-05-%02dT10:%02d:%02d.%03dZ INFO http request_id=%s method=GET path=/api/v1/items/%d status=200 token=%s password_policy=strict apiKey=redacted secret_ref=vault:%s duration_ms=%d\n",
				rng.Intn(28)+1, rng.Intn(60), rng.Intn(60), rng.Intn(1000), an(16), rng.Intn(1e5), an(6), an(8), rng.Intn(900))
		case "json":
			fmt.Fprintf(&b, `{"id":%d,"name":"item %s","owner":"user%d","apiKey":null,"token_type":"bearer","secret":false,"created":"2024-05-01T10:00:00Z","tags":["a","b"],"password_policy":"strict"},`+"\n",
				rng.Intn(1e7), an(8), rng.Intn(1e4))
		case "js":
			fmt.Fprintf(&b, `function %s(t,e){var n=t.apiKey||e.token,r={secret:n,auth:"Bearer "+n,key:"%s"};return fetch("/api/"+t.id,{headers:r}).then(function(o){return o.json()})}`,
				an(3), an(6))
		case "sql":
			fmt.Fprintf(&b, "INSERT INTO `sessions` (`id`,`user_id`,`token_hash`,`password_policy`,`created_at`) VALUES (%d,%d,'%s','default','2024-05-01 10:00:00');\n",
				rng.Intn(1e7), rng.Intn(1e5), an(12))
		case "longline":
			fmt.Fprintf(&b, "key=%s; token %s secret auth api %s ", an(5), an(9), an(20))
		}
	}
	return b.String()[:size]
}

var benchKinds = []string{"base64", "log", "json", "js", "sql", "longline"}

// benchFragments cuts text into the fragments the scanner searches (with their overlaps).
func benchFragments(text string) []string {
	var out []string
	b := []byte(text)
	overlap := 0
	for len(b) > overlap {
		cut := fragmentEnd(b, overlap)
		if cut < 0 {
			cut = len(b)
		}
		chunk := b[:cut]
		out = append(out, string(chunk))
		ov := overlapStart(chunk)
		if cut == len(b) {
			break
		}
		overlap = cut - ov
		b = b[ov:]
	}
	return out
}

// BenchmarkDetector measures, on each kind of the text, gitleaks' DetectContext on each
// whole fragment (old) and the prefilter (new) in the same run; "speedup" is old/new.
//
//	go test -run '^$' -bench Detector -benchtime 3x ./internal/scan/secrets/
func BenchmarkDetector(b *testing.B) {
	fd := testDetector(b)
	for _, kind := range benchKinds {
		frags := benchFragments(benchText(kind, 1<<20))
		b.Run(kind, func(b *testing.B) {
			var old, fast time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				for _, f := range frags {
					fd.Detector.DetectContext(context.Background(), detect.Fragment{Raw: f, FilePath: "/srv/data"})
				}
				t1 := time.Now()
				for _, f := range frags {
					fd.find(f, "/srv/data")
				}
				old += t1.Sub(t0)
				fast += time.Since(t1)
			}
			mb := float64(1<<20) * float64(b.N) / 1e6
			b.ReportMetric(mb/old.Seconds(), "old-MB/s")
			b.ReportMetric(mb/fast.Seconds(), "new-MB/s")
			b.ReportMetric(old.Seconds()/fast.Seconds(), "speedup")
		})
	}
}

// BenchmarkPrefilter is the prefilter alone on each kind of text, 4 MiB each.
func BenchmarkPrefilter(b *testing.B) {
	fd := testDetector(b)
	for _, kind := range benchKinds {
		frags := benchFragments(benchText(kind, 4<<20))
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(4 << 20)
			for i := 0; i < b.N; i++ {
				for _, f := range frags {
					fd.find(f, "/srv/data")
				}
			}
		})
	}
}

// BenchmarkLiteralPass compares Aho–Corasick libraries on the literal pass alone: every
// occurrence (overlapping) of the detector's literals and keywords in the lower-cased
// fragments of each kind of text. BobuSumisu/aho-corasick is what gitleaks uses (an NFA walked
// with failure links); coregx/ahocorasick builds a DFA; "tables" is the detector's own pass
// (prefilter_literal.go), which finds the same occurrences in the text as it is
// (TestLiteralScanMatchesTrie), measured against BobuSumisu's with the lower-casing it needs.
//
//	go test -run '^$' -bench LiteralPass ./internal/scan/secrets/
func BenchmarkLiteralPass(b *testing.B) {
	fd := testDetector(b)
	cg, err := coregx.NewBuilder().AddStrings(fd.patText).Build()
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range benchKinds {
		text := []byte(strings.ToLower(benchText(kind, 4<<20)))
		b.Run("bobusumisu/"+kind, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				n := 0
				fd.trie.Walk(text, func(end, l, p int64) bool { n++; return true })
			}
		})
		b.Run("coregx/"+kind, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				_ = len(cg.FindAllOverlapping(text))
			}
		})
		// the detector's literal pass (prefilter_literal.go), on the text as it is: it folds
		// case itself, so the lower-casing the automata need is part of their cost, not of its
		raw := benchText(kind, 4<<20)
		b.Run("tables/"+kind, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				n := 0
				fd.lits.scan(raw, func(start int, p int32) bool { n++; return true })
			}
		})
		// the first scan of a fragment that no seldom-run rule applies to (splitDeferred)
		b.Run("tables-first/"+kind, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				n := 0
				fd.litsFirst.scan(raw, func(start int, p int32) bool { n++; return true })
			}
		})
		b.Run("bobusumisu+lower/"+kind, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			lower := make([]byte, len(raw))
			for i := 0; i < b.N; i++ {
				for j := 0; j < len(raw); j++ {
					c := raw[j]
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					}
					lower[j] = c
				}
				n := 0
				fd.trie.Walk(lower, func(end, l, p int64) bool { n++; return true })
			}
		})
	}
}

// TestLiteralPassLibrariesAgree: both libraries report the same occurrences, so the benchmark
// compares like with like.
func TestLiteralPassLibrariesAgree(t *testing.T) {
	fd := testDetector(t)
	cg, err := coregx.NewBuilder().AddStrings(fd.patText).Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range benchKinds {
		text := []byte(strings.ToLower(benchText(kind, 64<<10)))
		var a, c []string
		fd.trie.Walk(text, func(end, l, p int64) bool {
			a = append(a, fmt.Sprint(end-l+1, fd.patText[p]))
			return true
		})
		for _, m := range cg.FindAllOverlapping(text) {
			c = append(c, fmt.Sprint(m.Start, fd.patText[m.PatternID]))
		}
		sort.Strings(a)
		sort.Strings(c)
		if strings.Join(a, ",") != strings.Join(c, ",") {
			t.Errorf("%s: %d occurrences by one, %d by the other", kind, len(a), len(c))
		}
	}
}

// BenchmarkDeferredLiterals is the prefilter on each kind of text, 4 MiB each, with every
// literal in a fragment's first scan ("all") and with the seldom-run rules' literals deferred
// (splitDeferred: "first"), alternately in the same run; each figure is the best of b.N rounds,
// as the machines here are noisy, and "speedup" is all/first.
//
//	go test -run '^$' -bench DeferredLiterals -benchtime 15x ./internal/scan/secrets/
func BenchmarkDeferredLiterals(b *testing.B) {
	fd := testDetector(b)
	first := fd.litsFirst
	defer func() { fd.litsFirst = first }()
	for _, kind := range benchKinds {
		frags := benchFragments(benchText(kind, 4<<20))
		b.Run(kind, func(b *testing.B) {
			best := [2]time.Duration{math.MaxInt64, math.MaxInt64}
			for i := 0; i < b.N; i++ {
				for v, lits := range []*litScanner{nil, first} {
					fd.litsFirst = lits
					t0 := time.Now()
					for _, f := range frags {
						fd.find(f, "/srv/data")
					}
					best[v] = min(best[v], time.Since(t0))
				}
			}
			mb := float64(4<<20) / 1e6
			b.ReportMetric(mb/best[0].Seconds(), "all-MB/s")
			b.ReportMetric(mb/best[1].Seconds(), "first-MB/s")
			b.ReportMetric(best[0].Seconds()/best[1].Seconds(), "speedup")
		})
	}
}
