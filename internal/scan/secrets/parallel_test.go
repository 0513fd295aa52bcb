package secrets

import (
	"bytes"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// searchSplit streams content to a scanner built on proto's detector, with helpers goroutines
// beside the sink (0: the sequential search, every fragment searched by the sink itself), and
// returns the findings and how many fragments the helpers searched.
func searchSplit(t *testing.T, proto *Scanner, helpers int, p string, content []byte) ([]Finding, int64) {
	found, helped, _ := searchSplitPeak(t, proto, helpers, p, content)
	return found, helped
}

// searchSplitPeak is searchSplit, and says how many fragments at most waited to be merged.
func searchSplitPeak(t *testing.T, proto *Scanner, helpers int, p string, content []byte) ([]Finding, int64, int) {
	t.Helper()
	s := &Scanner{opts: proto.opts, det: proto.det, strict: proto.strict, allowFP: proto.allowFP}
	if helpers > 0 {
		s.helpers = make(chan struct{}, helpers)
	}
	w, _ := s.NewWorker()
	k, err := w.Begin(&scan.File{Path: p, Location: p, Size: int64(len(content)), Data: bytes.NewReader(content)})
	if err != nil || k == nil {
		t.Fatalf("Begin: %v, sink %v", err, k)
	}
	for off, n := 0, 64<<10; off < len(content); off, n = off+n, 1<<20 {
		if err := k.Write(content[off:min(len(content), off+n)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.End(); err != nil {
		t.Fatal(err)
	}
	return s.Findings(), s.helped.Load(), k.(*sink).peak
}

// protoScanner is a scanner whose detector the tests' scanners share.
func protoScanner(t *testing.T) *Scanner {
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func findingLines(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s:%d %s %s %q\n", f.Path, f.Line, f.Rule, f.Fingerprint, f.Description)
	}
	return b.String()
}

// fragmentCuts are the fragments the sink cuts text into: each one's start and end in text
// and the start of its overlap (where the next fragment starts).
func fragmentCuts(text []byte) (cuts [][3]int) {
	b, base, overlap := text, 0, 0
	for len(b) > overlap {
		cut := fragmentEnd(b, overlap)
		if cut < 0 {
			cut = len(b)
		}
		ov := overlapStart(b[:cut])
		cuts = append(cuts, [3]int{base, base + cut, base + ov})
		if cut == len(b) {
			break
		}
		overlap = cut - ov
		b, base = b[ov:], base+ov
	}
	return cuts
}

// A PEM private key longer than the overlap's lines (an 8192-bit RSA key is 99 lines, a
// 16384-bit one about 200) that straddles a cut is kept whole in the next fragment from its
// BEGIN line: found once, on that line. The overlap kept for it is at most pemOverlapBytes:
// a key whose BEGIN lies further before the cut is not whole in either fragment.
func TestLongPEMKeyAcrossTheCut(t *testing.T) {
	proto := protoScanner(t)
	pad := "2024-05-01T10:00:00Z INFO request served status=200 duration_ms=12 path=/api/v1/items\n"
	var b strings.Builder
	for b.Len() < 3*fragmentBytes {
		b.WriteString(pad)
	}
	text := b.String()
	end := fragmentCuts([]byte(text))[0][1]
	body := "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
	for _, c := range []struct {
		lines, before int // the key's lines; how far before the first cut its BEGIN line lies
		found         bool
	}{
		{99, 90 * len(body), true},                // past overlapLines (80) before the cut
		{200, 190 * len(body), true},              // a 16384-bit key
		{400, pemOverlapBytes - 2*len(pad), true}, // just inside the bound
		{400, pemOverlapBytes + 2*len(pad), false},
	} {
		pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat(body, c.lines) + "-----END RSA PRIVATE KEY-----\n"
		at := strings.LastIndexByte(text[:end-c.before], '\n') + 1
		content := text[:at] + pem + text[at:]
		cc := fragmentCuts([]byte(content))
		if cc[0][1] >= at+len(pem) || cc[0][1] <= at {
			t.Fatalf("%d lines: the key [%d,%d) is not cut by the first fragment's end %d", c.lines, at, at+len(pem), cc[0][1])
		}
		found, _ := searchSplit(t, proto, 0, "/srv/app.log", []byte(content))
		n := 0
		for _, f := range found {
			if f.Rule == "private-key" {
				n++
				if want := 1 + strings.Count(content[:at], "\n"); f.Line != want {
					t.Errorf("%d lines: private-key on line %d, the key begins on line %d", c.lines, f.Line, want)
				}
			}
		}
		if n > 1 || (n == 1) != c.found {
			t.Errorf("%d-line key, BEGIN %d bytes before the cut: found %d times, want found=%v:\n%s", c.lines, c.before, n, c.found, findingLines(found))
		}
	}
}

// A key that lies where two fragments overlap is in both, and the two are searched on
// different goroutines: it is reported once, on its line. So is a private key that straddles
// the end of a fragment (whole only in the next one), and an AWS key pair whose two lines the
// cut separates.
func TestSecretStraddlingTheSplitIsFoundOnce(t *testing.T) {
	proto := protoScanner(t)
	pad := "2024-05-01T10:00:00Z INFO request served status=200 duration_ms=12 path=/api/v1/items\n"
	var b strings.Builder
	for b.Len() < 3*fragmentBytes {
		b.WriteString(pad)
	}
	text := b.String()
	cuts := fragmentCuts([]byte(text))
	if len(cuts) < 3 {
		t.Fatalf("%d fragments", len(cuts))
	}
	// the first cut: fragment 0 ends at end, fragment 1 starts at ov; the overlap is [ov, end)
	end, ov := cuts[0][1], cuts[0][2]
	lineAt := func(off int) int { return 1 + strings.Count(text[:off], "\n") }
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n", 8) + "-----END RSA PRIVATE KEY-----\n"
	cases := []struct {
		name, secret string
		at           int // where the secret goes (a line start)
		rule         string
	}{
		{"in the overlap", "aws_access_key_id = " + awsKeyID + "\n", ov + len(pad), "aws-access-token"},
		{"across the cut", pem, end - 2*len(pad), "private-key"},
		{"a key pair cut in two", awsKeys, end - len(pad) - len("[default]\n") - len("aws_access_key_id = "+awsKeyID+"\n"), "aws-access-token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := strings.LastIndexByte(text[:c.at], '\n') + 1
			content := text[:at] + c.secret + text[at:]
			cc := fragmentCuts([]byte(content))
			from, to := at, at+len(c.secret)
			inFirst, inSecond := from < cc[0][1], to > cc[1][0]
			if !inFirst || !inSecond {
				t.Fatalf("the secret [%d,%d) does not touch both fragments %v", from, to, cc[:2])
			}
			found, helped := searchSplit(t, proto, runtime.GOMAXPROCS(0)+1, "/srv/app.log", []byte(content))
			if helped == 0 {
				t.Fatal("no fragment was searched by a helper")
			}
			n := 0
			for _, f := range found {
				if f.Rule == c.rule {
					n++
					if f.Line != lineAt(at)+strings.Count(c.secret[:strings.Index(c.secret, firstSecretLine(c.rule))], "\n") {
						t.Errorf("%s on line %d, the secret starts on line %d", f.Rule, f.Line, lineAt(at))
					}
				}
			}
			if n != 1 {
				t.Errorf("%s found %d times, want once:\n%s", c.rule, n, findingLines(found))
			}
			seq, _ := searchSplit(t, proto, 0, "/srv/app.log", []byte(content))
			if findingLines(seq) != findingLines(found) {
				t.Errorf("sequential search:\n%s\nsplit search:\n%s", findingLines(seq), findingLines(found))
			}
		})
	}
}

// firstSecretLine is the text the finding of rule starts at, in the planted secrets.
func firstSecretLine(rule string) string {
	if rule == "private-key" {
		return "-----BEGIN"
	}
	return "aws_access_key_id"
}

// A large file split across cores gives exactly the findings, lines and descriptions of the
// sequential search: text with secrets planted at random lines (some in overlaps, some across
// cuts, some repeated), then the strings of binary bytes (findings without a line), UTF-16 text,
// with helpers and without, and with the merge queue at its smallest (the sink waits on every
// fragment).
func TestSplitSearchMatchesSequential(t *testing.T) {
	proto := protoScanner(t)
	rng := rand.New(rand.NewSource(24))
	secrets := []string{
		"aws_access_key_id = " + awsKeyID + "\n",
		awsKeys,
		"password = Tr0ub4dor-and-3\n",
		"export GITHUB_TOKEN=ghp_" + strings.Repeat("aB3dE6", 6) + "\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n", 6) + "-----END OPENSSH PRIVATE KEY-----\n",
	}
	build := func(n int, binary bool) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			switch r := rng.Intn(60); {
			case r == 0:
				b.WriteString(secrets[rng.Intn(len(secrets))])
			case r == 2:
				// a secret of its own: one found in the strings of binary bytes is reported
				// (without a line) only when the file does not name it on a line too
				b.WriteString("password = Tr0ub4dor-" + randAlnum(rng, 10) + "\n")
			case r == 1 && binary && b.Len() > n/2:
				b.Write([]byte{0, 1, 2, 0xff, 0})
			default:
				fmt.Fprintf(&b, "2024-05-%02d INFO token=%s apiKey=redacted secret_ref=vault:%s\n", rng.Intn(28)+1, randAlnum(rng, 6), randAlnum(rng, 8))
			}
		}
		return b.Bytes()
	}
	utf16le := func(s []byte) []byte {
		out := []byte{0xff, 0xfe}
		for _, c := range s {
			out = append(out, c, 0)
		}
		return out
	}
	files := map[string][]byte{
		"text":   build(768<<10, false),
		"binary": build(512<<10, true),
		"utf16":  utf16le(build(192<<10, false)),
	}
	restore := maxPending
	defer func() { maxPending = restore }()
	for name, content := range files {
		for _, pending := range []int{restore, 1} {
			maxPending = pending
			seq, _ := searchSplit(t, proto, 0, "/etc/app/"+name+".conf", content)
			par, helped, peak := searchSplitPeak(t, proto, 2*runtime.GOMAXPROCS(0), "/etc/app/"+name+".conf", content)
			if helped == 0 {
				t.Fatalf("%s: no fragment was searched by a helper", name)
			}
			if peak > pending {
				t.Errorf("%s: %d fragments waited to be merged, the bound is %d", name, peak, pending)
			}
			if len(seq) < 8 {
				t.Fatalf("%s: only %d findings: the test plants too few secrets", name, len(seq))
			}
			if name == "binary" && !strings.Contains(findingLines(seq), ":0 ") {
				t.Fatalf("binary: no finding in the strings of binary bytes:\n%s", findingLines(seq))
			}
			if a, b := findingLines(seq), findingLines(par); a != b {
				t.Errorf("%s (queue %d): the split search differs from the sequential one:\nsequential:\n%s\nsplit:\n%s", name, pending, a, b)
			}
		}
	}
}

func randAlnum(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64chars[rng.Intn(62)]
	}
	return string(b)
}
