package secrets

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// encodedBenchText is size bytes of ordinary text that is full of the signs the encoded-value
// decoders look for without holding any encoded value: JSON with \u escapes of accented
// letters, access logs with %-escaped URLs, hex digests, dumps-looking numbers.
func encodedBenchText(kind string, size int) string {
	rng := rand.New(rand.NewSource(int64(len(kind)) + 7))
	hexs := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[rng.Intn(16)]
		}
		return string(b)
	}
	var b strings.Builder
	for b.Len() < size {
		switch kind {
		case "json-u":
			fmt.Fprintf(&b, `{"id":%d,"name":"Caf\u00e9 Cr\u00e8me %d","city":"Z\u00fcrich","desc":"R\u00e9sum\u00e9 d\u00e9j\u00e0 vu \u2014 na\u00efve","html":"\u003cb\u003e%d\u003c/b\u003e","path":"C:\\Users\\app\\data"},`+"\n", rng.Intn(1e6), rng.Intn(1e4), rng.Intn(100))
		case "urls":
			fmt.Fprintf(&b, `10.0.%d.%d - - [01/May/2024:10:00:%02d +0000] "GET /search?q=caf%%C3%%A9%%20au%%20lait%%20%d&redirect_uri=https%%3A%%2F%%2Fexample.com%%2Fcb%%3Fx%%3D%d HTTP/1.1" 200 %d "-" "Mozilla/5.0%%20(X11)"`+"\n",
				rng.Intn(256), rng.Intn(256), rng.Intn(60), rng.Intn(1e4), rng.Intn(1e4), rng.Intn(1e5))
		case "digests":
			fmt.Fprintf(&b, "%s  /usr/lib/x86_64-linux-gnu/libfoo.so.%d\nsha256:%s %08x: %s %s\n", hexs(64), rng.Intn(10), hexs(64), rng.Intn(1<<30), hexs(4), hexs(40))
		}
	}
	return b.String()[:size]
}

// BenchmarkEncodedPass measures, on each kind of ordinary text (the prefilter benchmark's and
// encodedBenchText's), the content pass (the detector on each fragment) and the encoded-value
// pass, in the same run: "runs-%" is the base64/hex/base32 runs alone (alphabetRuns, the pass
// as it was before the escape, dump and joined-line decoders) and the detector on what they
// decode, "all-%" every decoder (encodedValues) and the detector on what they decode, each as a
// percentage of the content pass's time; "values" is how many values were decoded.
//
//	go test -run '^$' -bench EncodedPass -benchtime 3x ./internal/scan/secrets/
func BenchmarkEncodedPass(b *testing.B) {
	fd := testDetector(b)
	kinds := append(append([]string{}, benchKinds...), "json-u", "urls", "digests")
	for _, kind := range kinds {
		var text string
		switch kind {
		case "json-u", "urls", "digests":
			text = encodedBenchText(kind, 4<<20)
		default:
			text = benchText(kind, 4<<20)
		}
		frags := benchFragments(text)
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(4 << 20)
			var content, runs, all time.Duration
			values := 0
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				for _, f := range frags {
					fd.find(f, "/srv/data")
				}
				t1 := time.Now()
				for _, f := range frags {
					for _, d := range alphabetRuns(f) {
						fd.find(d.text, "/srv/data")
					}
				}
				t2 := time.Now()
				for _, f := range frags {
					for _, d := range encodedValues(f) {
						values++
						fd.find(d.text, "/srv/data")
					}
				}
				content += t1.Sub(t0)
				runs += t2.Sub(t1)
				all += time.Since(t2)
			}
			b.ReportMetric(runs.Seconds()/content.Seconds()*100, "runs-%")
			b.ReportMetric(all.Seconds()/content.Seconds()*100, "all-%")
			b.ReportMetric(float64(values)/float64(b.N), "values")
		})
	}
}

// BenchmarkEncodedParts is each decoder of encodedValues alone, on the same texts, for the
// cost of each (the detector not included).
func BenchmarkEncodedParts(b *testing.B) {
	parts := []struct {
		name string
		f    func(string) []encValue
	}{{"runs", alphabetRuns}, {"escaped", escapedValues}, {"lines", lineValues}}
	for _, kind := range append(append([]string{}, benchKinds...), "json-u", "urls", "digests") {
		var text string
		switch kind {
		case "json-u", "urls", "digests":
			text = encodedBenchText(kind, 4<<20)
		default:
			text = benchText(kind, 4<<20)
		}
		frags := benchFragments(text)
		for _, p := range parts {
			b.Run(kind+"/"+p.name, func(b *testing.B) {
				b.SetBytes(4 << 20)
				for i := 0; i < b.N; i++ {
					for _, f := range frags {
						p.f(f)
					}
				}
			})
		}
	}
}
