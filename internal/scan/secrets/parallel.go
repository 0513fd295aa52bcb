package secrets

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/zricethezav/gitleaks/v8/report"
)

// A large file is searched on every core: the sink cuts the file into fragments in order (the
// cut, the overlap and the line each fragment starts at are decided as they were, by the sink,
// one fragment after the other), and hands each whole fragment but a file's last to a helper
// goroutine while one is free (the Scanner's helpers slots, one per CPU, shared by every file
// being searched); when none is, the sink searches the fragment itself. A search is pure: it
// returns the fragment's findings with their file lines and touches nothing of the sink. The
// sink merges the results strictly in fragment order (merge), which is where a finding in the
// overlap two fragments share is kept once, exactly as the sequential search keeps it, and where
// the strings of binary bytes lose their line numbers. At most maxPending fragments of one file
// wait to be merged (the sink blocks on the oldest), so memory stays a few fragments per file.

// maxPending is how many fragments of one file may be searched ahead of the merge.
var maxPending = 4 * runtime.GOMAXPROCS(0)

// fragHit is a finding of one fragment, on its file line, and the key it is told apart by in
// the overlap.
type fragHit struct {
	f   Finding
	key string
}

// fragJob is one fragment's search: what it found (set before done is closed), and what the
// merge needs of the state the sink had when it cut the fragment.
type fragJob struct {
	done     chan struct{} // closed when hits is set; nil: searched by the sink itself
	hits     []fragHit
	nextLine int  // the 0-based file line the next fragment starts at (this one's overlap)
	strs     bool // the sink was searching the strings of binary bytes
	strsLine int  // and the lines from strsLine on were strings
}

// awsPackedRule is the rule for an AWS access key ID without word boundaries.
const awsPackedRule = "aws-access-key-id-packed"

// searchFragment runs the detector on one fragment of the file at path, which starts at the
// 0-based file line line, and on the base64 values it decodes; it keeps what is not ignored, as
// findings on their file lines. It is safe for concurrent use.
func (s *Scanner) searchFragment(det *fastDetector, p string, chunk string, line int) []fragHit {
	var hits []fragHit
	add := func(f report.Finding, at int, note string) {
		if ignore(f) {
			return
		}
		fd := s.finding(p, f)
		fd.Line = at
		fd.Description += note
		hits = append(hits, fragHit{f: fd, key: fd.Rule + "\x00" + fd.Fingerprint + "\x00" + strconv.Itoa(fd.Line)})
	}
	found := det.detect(chunk, p)
	ids := map[string]bool{}
	for _, f := range found {
		if f.RuleID == "aws-access-token" {
			ids[f.Secret] = true
		}
	}
	for _, f := range found {
		if f.RuleID == awsPackedRule && (ids[f.Secret] || strings.HasSuffix(f.Secret, "EXAMPLE")) {
			continue // the same key, found with its word boundaries; or AWS's documented example (gitleaks' allowlist)
		}
		add(f, line+f.StartLine+1, "")
	}
	for _, d := range decodedValues(chunk) {
		for _, f := range det.detect(d.text, p) {
			add(f, line+d.line, " (base64-encoded)")
		}
	}
	for _, d := range encodedValues(chunk) {
		for _, f := range det.detect(d.text, p) {
			add(f, line+d.line, " (encoded: "+d.how+")")
		}
	}
	return hits
}

// binaryKey searches the PEM text of the binary key the file is (binkeys.go), its findings on
// the file's first line.
func (k *sink) binaryKey(text string) {
	j := &fragJob{nextLine: 1 << 30}
	for _, h := range k.w.s.searchFragment(k.w.s.det, k.f.Path, text, 0) {
		h.f.Line = 1
		h.f.Description += " (binary: DER or PKCS#12)"
		h.key += "\x00binary"
		j.hits = append(j.hits, h)
	}
	k.pending = append(k.pending, j)
	k.collect(false)
}

// submit searches one fragment (chunk, which the caller may reuse once submit returns), which
// starts at file line k.line and whose overlap starts at nextLine: on a helper when one is free
// and the fragment is not the file's last (last: the sink would only wait for it), else here.
func (k *sink) submit(chunk []byte, nextLine int, last bool) {
	s := k.w.s
	j := &fragJob{nextLine: nextLine, strs: k.strs != nil, strsLine: k.strsLine}
	text, p, line := string(chunk), k.f.Path, k.line
	det := s.det
	if k.strict {
		det = s.strictDetector()
	}
	helped := false
	if !last && s.helpers != nil {
		select {
		case s.helpers <- struct{}{}:
			helped = true
		default:
		}
	}
	if helped {
		j.done = make(chan struct{})
		s.helped.Add(1)
		go func() {
			defer func() { <-s.helpers }()
			j.hits = s.searchFragment(det, p, text, line)
			close(j.done)
		}()
	} else {
		j.hits = s.searchFragment(det, p, text, line)
	}
	k.pending = append(k.pending, j)
	k.collect(len(k.pending) > maxPending)
	k.peak = max(k.peak, len(k.pending))
}

// collect merges, in order, the searched fragments at the head of the queue; wait: it waits for
// the oldest one first (the queue is full, or the file has ended).
func (k *sink) collect(wait bool) {
	for len(k.pending) > 0 {
		j := k.pending[0]
		if j.done != nil {
			if wait {
				<-j.done
			} else {
				select {
				case <-j.done:
				default:
					return
				}
			}
		}
		k.merge(j)
		k.pending[0] = nil
		k.pending = k.pending[1:]
		wait = false
	}
}

// drain merges every fragment still being searched.
func (k *sink) drain() {
	for len(k.pending) > 0 {
		k.collect(true)
	}
	k.pending = nil
}

// merge keeps a fragment's findings on their file lines, once: one that lies in the overlap
// the next fragment repeats is remembered so that the next fragment does not report it again;
// a finding in the strings of binary bytes has no line of the file.
func (k *sink) merge(j *fragJob) {
	var next map[string]bool
	for _, h := range j.hits {
		if h.f.Line-1 >= j.nextLine {
			if next == nil {
				next = map[string]bool{}
			}
			next[h.key] = true
		}
		if k.seen[h.key] {
			continue
		}
		f := h.f
		if j.strs && f.Line-1 >= j.strsLine {
			f.Line = 0
			f.Description += " (in binary data)"
		}
		k.found = append(k.found, f)
	}
	k.seen = next
}
