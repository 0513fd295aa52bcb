package secrets

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// Bounds of the snap assertion reading: one assertion file read whole (a seed's bundle of
// account keys, declarations and revisions is tens of KiB), the files read, the assertions in a
// file and the header lines of one.
const (
	maxAssertFile    = 4 << 20
	maxAssertFiles   = 4_096
	maxAssertsInFile = 10_000
	maxAssertHeaders = 1_000
)

// snapUnchangedReason is the ledger's reason for a snap whose SHA3-384 and size are those of a
// snap-revision assertion in the image. The assertions' signatures are not verified: the
// assertion is the image's own record of the store's snap, the same trust as dpkg's md5sums.
const snapUnchangedReason = "unchanged snap from the store (snap-revision assertion SHA3-384)"

// snapDirs are where snapd keeps the snaps it installed and the image's seed: a .snap there is
// looked up by its digest in SnapRevisionDigests, wherever it lies (its name does not matter).
var snapDirs = []string{"/var/lib/snapd/snaps/", "/var/lib/snapd/seed/snaps/"}

// snapDigestPending is a snap's sink's vendorMD5: not a digest (no hex digest is ever equal to
// it), only the mark of a file whose digest decides whether it is searched (the set in
// sink.snaps does).
const snapDigestPending = "(a snap-revision SHA3-384)"

// newSnapHash is the hash snapd names snaps by (asserts.SnapFileSHA3_384).
func newSnapHash() hash.Hash { return sha3.New384() }

// unchanged says whether the file's digest is the one recorded for it: the hex digest its
// package manager (dpkg, apt's index, a pip RECORD) lists, or, for a snap, a digest some
// snap-revision assertion lists with the snap's size (every byte of it hashed, holes included).
func (k *sink) unchanged() bool {
	if k.vendorMD5 == "" {
		return false // no digest recorded, or given up (a hole too large to hash)
	}
	if k.vendorMD5 == snapDigestPending {
		size, ok := k.snaps[base64.RawURLEncoding.EncodeToString(k.digest.Sum(nil))]
		return ok && size == k.at && k.at == k.f.Size
	}
	return k.vendorMD5 == hex.EncodeToString(k.digest.Sum(nil))
}

// isSnapFile says whether the file at loc is a snap whose digest is looked up.
func isSnapFile(loc string) bool {
	if !strings.HasSuffix(loc, ".snap") {
		return false
	}
	for _, d := range snapDirs {
		if strings.HasPrefix(loc, d) && !strings.Contains(loc[len(d):], "/") {
			return true
		}
	}
	return false
}

// SnapRevisionDigests maps the SHA3-384 digests (base64url without padding, as snapd writes
// them) of the snap-revision assertions in the image to the snap size each asserts. snapd keeps
// the assertions it acquired in /var/lib/snapd/assertions/asserts-v0/TYPE/KEY.../active[.N]
// (snapd asserts/fsbackstore.go, diskPrimaryPathComps: one directory per primary key, query
// escaped, an optional key's non-default value as a further "0:VALUE" directory), one
// assertion a file; an image's seed has /var/lib/snapd/seed/assertions/*.assert, streams of
// several (asserts/asserts.go, Decoder.Decode). The digest is read from each assertion's
// headers, not from the directory's name. A file that cannot be read or parsed adds what was
// read of it before (each assertion is complete on its own); its snaps are otherwise searched.
func SnapRevisionDigests(root *filesystem.Tree) map[string]int64 {
	out := map[string]int64{}
	files := 0
	read := func(name string) {
		if files >= maxAssertFiles {
			return
		}
		files++
		if data, err := root.ReadFile(name, maxAssertFile); err == nil {
			_ = parseAssertions("/"+name, data, out)
		}
	}
	active := func(dir string) {
		ents, err := root.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			n := e.Name()
			switch {
			case e.Type().IsRegular() && (n == "active" || strings.HasPrefix(n, "active.")):
				read(dir + "/" + n)
			case e.IsDir() && strings.Contains(n, ":"):
				// an optional primary key's value (provenance): one more level
				if sub, err := root.ReadDir(dir + "/" + n); err == nil {
					for _, s := range sub {
						if s.Type().IsRegular() && (s.Name() == "active" || strings.HasPrefix(s.Name(), "active.")) {
							read(dir + "/" + n + "/" + s.Name())
						}
					}
				}
			}
		}
	}
	const revs = "var/lib/snapd/assertions/asserts-v0/snap-revision"
	if ents, err := root.ReadDir(revs); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				active(revs + "/" + e.Name())
			}
		}
	}
	const seed = "var/lib/snapd/seed/assertions"
	if ents, err := root.ReadDir(seed); err == nil {
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".assert") {
				read(seed + "/" + e.Name())
			}
		}
	}
	return out
}

// parseAssertions adds the snap-revision assertions of a stream of assertions (named for
// errors) to out, modelling snapd's asserts/asserts.go Decoder.Decode: headers up to a blank
// line, then, if body-length says so, that many bytes of body and a blank line, then the
// signature up to a blank line or the end. Only the top-level headers are read ("name: value";
// continuation lines of multi-line values and lists are indented). An error names the file and
// the byte offset of the assertion that does not parse; those before it are added.
func parseAssertions(name string, data []byte, out map[string]int64) error {
	nlnl := []byte("\n\n")
	for off, n := 0, 0; off < len(data); n++ {
		// blank lines between assertions
		for off < len(data) && data[off] == '\n' {
			off++
		}
		if off == len(data) {
			break
		}
		if n >= maxAssertsInFile {
			return fmt.Errorf("%s: more than %d assertions", name, maxAssertsInFile)
		}
		start := off
		end := bytes.Index(data[off:], nlnl)
		if end < 0 {
			return fmt.Errorf("%s: offset %d: assertion headers with no blank line after them", name, start)
		}
		head := data[off : off+end]
		off += end + len(nlnl)
		h, err := topHeaders(head)
		if err != nil {
			return fmt.Errorf("%s: offset %d: %w", name, start, err)
		}
		if v, ok := h["body-length"]; ok {
			bl, err := strconv.Atoi(v)
			if err != nil || bl < 0 || bl > len(data)-off {
				return fmt.Errorf("%s: offset %d: body-length %q beyond the file", name, start, v)
			}
			if bl > 0 {
				off += bl
				if !bytes.HasPrefix(data[off:], nlnl) {
					return fmt.Errorf("%s: offset %d: no blank line after the body", name, start)
				}
				off += len(nlnl)
			}
		}
		// the signature, to the blank line that ends the assertion (or the file)
		if e := bytes.Index(data[off:], nlnl); e >= 0 {
			off += e + len(nlnl)
		} else {
			off = len(data)
		}
		if h["type"] != "snap-revision" {
			continue
		}
		digest, sz := h["snap-sha3-384"], h["snap-size"]
		size, err := strconv.ParseInt(sz, 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%s: offset %d: snap-size %q is not a size", name, start, sz)
		}
		if d, err := base64.RawURLEncoding.DecodeString(digest); err != nil || len(d) != 48 {
			return fmt.Errorf("%s: offset %d: snap-sha3-384 %q is not a SHA3-384 in base64url", name, start, digest)
		}
		out[digest] = size
	}
	return nil
}

// topHeaders returns an assertion's top-level headers: the lines that do not start with a space
// (snapd asserts/headers.go parseHeaders; values on the name's line only).
func topHeaders(head []byte) (map[string]string, error) {
	h := map[string]string{}
	for i, line := range strings.Split(string(head), "\n") {
		if i >= maxAssertHeaders {
			return nil, fmt.Errorf("more than %d header lines", maxAssertHeaders)
		}
		if strings.HasPrefix(line, " ") {
			continue // a multi-line value's or a list's line
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("header line %d %q has no name", i+1, line)
		}
		if _, dup := h[k]; dup {
			return nil, fmt.Errorf("header %q repeated", k)
		}
		h[k] = strings.TrimPrefix(v, " ")
	}
	return h, nil
}
