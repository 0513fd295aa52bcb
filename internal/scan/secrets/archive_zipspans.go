package secrets

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// A zip's central directory need not list every local entry (issue #24, M3/M4): two zips back
// to back (only the last directory is found from the end), or an entry left out of a rewritten
// directory, which a reader of local headers (Java's ZipInputStream) still reads. The bytes no
// listed entry covers are searched as the file's own (searchZipRest), but a deflated entry there
// is not text: a local file header found in them, with a plausible name, is named as not seen,
// with its offset and name.

// maxOrphansNamed bounds the local headers outside the directory that are looked at.
const maxOrphansNamed = 64

// zipOrphans records, as not seen, the local file headers of the zip (ra, size bytes) that no
// entry of its central directory zr (which reads ra itself) starts at.
func zipOrphans(u *unpacking, name string, zr *zip.Reader, ra io.ReaderAt, size int64) {
	zipOrphansAt(u, name, zr, 0, ra, size)
}

// zipOrphansAt is zipOrphans for a zr that reads the zip from base of ra (its offsets count
// from there); the file's bytes before base are looked at too.
func zipOrphansAt(u *unpacking, name string, zr *zip.Reader, base int64, ra io.ReaderAt, size int64) {
	listed := map[int64]bool{}
	var covered []zipSpan // the listed entries' data: a stored jar inside a jar has local headers of its own
	for _, f := range zr.File {
		if off, err := f.DataOffset(); err == nil {
			off += base
			listed[off] = true
			if f.CompressedSize64 > 0 && f.CompressedSize64 < uint64(size) {
				covered = append(covered, zipSpan{off, off + int64(f.CompressedSize64)})
			}
		}
	}
	slices.SortFunc(covered, func(a, b zipSpan) int { return cmp.Compare(a.from, b.from) })
	reach := make([]int64, len(covered)) // the furthest end of the spans up to each (they may overlap)
	for j, c := range covered {
		reach[j] = c.to
		if j > 0 {
			reach[j] = max(reach[j-1], c.to)
		}
	}
	inside := func(off int64) bool {
		i, _ := slices.BinarySearchFunc(covered, off+1, func(s zipSpan, t int64) int { return cmp.Compare(s.from, t) })
		return i > 0 && reach[i-1] > off
	}
	le := binary.LittleEndian
	sig := []byte("PK\x03\x04")
	buf := make([]byte, 64<<10)
	found := 0
	for at := int64(0); at < size && found < maxOrphansNamed; {
		n, _ := ra.ReadAt(buf, at)
		if n < len(sig) {
			return
		}
		chunk := buf[:n]
		for i := 0; ; {
			j := bytes.Index(chunk[i:], sig)
			if j < 0 {
				break
			}
			off := at + int64(i+j)
			i += j + 1
			var h [30]byte
			if got, _ := ra.ReadAt(h[:], off); got < 30 {
				continue
			}
			nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
			dataOff := off + 30 + nameLen + extraLen
			if nameLen == 0 || dataOff > size || listed[dataOff] || inside(off) {
				continue
			}
			entry := make([]byte, nameLen)
			if got, _ := ra.ReadAt(entry, off+30); int64(got) < nameLen || !plausibleEntryName(entry) {
				continue
			}
			found++
			u.miss(fmt.Errorf("%s: a local entry at offset %d (%q, method %d) that the central directory does not list, not opened",
				name, off, redactedName(entry), le.Uint16(h[8:])))
			if found >= maxOrphansNamed {
				u.miss(fmt.Errorf("%s: more than %d local entries outside the central directory", name, maxOrphansNamed))
				return
			}
		}
		if at+int64(n) >= size {
			return
		}
		at += int64(n) - int64(len(sig)) + 1
	}
}

// zipSpan is the bytes [from, to) of a listed entry's data.
type zipSpan struct{ from, to int64 }

// plausibleEntryName: UTF-8 without control characters, as zip tools write names.
func plausibleEntryName(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// redactedName is an entry name cut to 64 bytes for a message.
func redactedName(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
