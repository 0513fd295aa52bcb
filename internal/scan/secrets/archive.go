package secrets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Archives (zip and its kin jar, war, ear; tar; and gzip, xz, zstd or lz4 streams, holding a
// tar or a single file) are opened and their files searched as files of their own, named
// "ARCHIVE!/MEMBER" (nested: "A!/B!/C"). Opening is bounded: nesting depth, member count and
// the bytes unpacked from one archive (a zip bomb stops at the limit); an archive that goes past
// a limit, or is corrupt, is reported as not seen, so that the credential rule cannot pass on
// it. An archive the package manager installed is not opened (like its other binary files).
var (
	maxArchiveDepth          = 3        // an archive in an archive in an archive
	maxArchiveMembers        = 20000    // files listed, over the whole nesting
	maxArchiveUnpacked int64 = 1 << 30  // bytes unpacked, over the whole nesting
	maxBufferedMember  int64 = 64 << 20 // a zip inside an archive is read into memory to be opened
)

// archiveKind is what a file's first bytes say it is.
type archiveKind int

const (
	notArchive archiveKind = iota
	zipArchive
	tarArchive
	gzipStream
	xzStream
	zstdStream
	lz4Stream
)

func (a archiveKind) String() string {
	return [...]string{"", "zip", "tar", "gzip", "xz", "zstd", "lz4"}[a]
}

// sniffArchive recognises an archive by its magic bytes (tar by "ustar" at offset 257).
func sniffArchive(p []byte) archiveKind {
	switch {
	case bytes.HasPrefix(p, []byte("PK\x03\x04")) || bytes.HasPrefix(p, []byte("PK\x05\x06")):
		return zipArchive
	case bytes.HasPrefix(p, []byte{0x1f, 0x8b, 0x08}):
		return gzipStream
	case bytes.HasPrefix(p, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xzStream
	case bytes.HasPrefix(p, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstdStream
	case bytes.HasPrefix(p, []byte{0x04, 0x22, 0x4d, 0x18}):
		return lz4Stream
	case len(p) >= 262 && bytes.Equal(p[257:262], []byte("ustar")):
		return tarArchive
	}
	return notArchive
}

// unpacking is the budget of one top-level archive, shared by everything nested in it.
type unpacking struct {
	top      string
	members  int
	unpacked int64
}

var errArchiveLimit = errors.New("archive limit")

func (u *unpacking) member() error {
	u.members++
	if u.members > maxArchiveMembers {
		return fmt.Errorf("%w: more than %d files in %s", errArchiveLimit, maxArchiveMembers, u.top)
	}
	return nil
}

// countingReader charges what is read to the archive's budget.
type countingReader struct {
	r io.Reader
	u *unpacking
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.u.unpacked += int64(n)
	if c.u.unpacked > maxArchiveUnpacked {
		return n, fmt.Errorf("%w: more than %d bytes unpacked from %s", errArchiveLimit, maxArchiveUnpacked, c.u.top)
	}
	return n, err
}

// openArchive searches the files of the archive at name (kind known from its first bytes):
// ra and size give random access when there is any (a zip needs it), r streams it otherwise.
func (w *worker) openArchive(u *unpacking, name string, kind archiveKind, r io.Reader, ra io.ReaderAt, size int64, depth int) error {
	if depth > maxArchiveDepth {
		return fmt.Errorf("%w: %s is nested more than %d archives deep", errArchiveLimit, name, maxArchiveDepth)
	}
	switch kind {
	case zipArchive:
		if ra == nil {
			// a zip inside a stream: read it into memory, bounded
			b, err := io.ReadAll(io.LimitReader(r, maxBufferedMember+1))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if int64(len(b)) > maxBufferedMember {
				return fmt.Errorf("%w: %s is a zip inside an archive larger than %d bytes", errArchiveLimit, name, maxBufferedMember)
			}
			ra, size = bytes.NewReader(b), int64(len(b))
		}
		// zip.NewReader reads the whole central directory first: its entry count is checked
		// against the limit before that
		if n, err := zipEntries(ra, size); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		} else if u.members+int(min(n, 1<<31)) > maxArchiveMembers {
			return fmt.Errorf("%w: %s lists %d files (at most %d are opened)", errArchiveLimit, name, n, maxArchiveMembers)
		}
		zr, err := zip.NewReader(ra, size)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, f := range zr.File {
			if !f.Mode().IsRegular() {
				continue
			}
			if err := u.member(); err != nil {
				return err
			}
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("%s!/%s: %w", name, f.Name, err)
			}
			err = w.searchMember(u, memberPath(name, f.Name), int64(f.UncompressedSize64), countingReader{rc, u}, depth)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	case tarArchive:
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			if err := u.member(); err != nil {
				return err
			}
			if err := w.searchMember(u, memberPath(name, h.Name), h.Size, countingReader{tr, u}, depth); err != nil {
				return err
			}
		}
	}
	// a compressed stream: a tar inside, or one file named after the archive
	if r == nil {
		r = io.NewSectionReader(ra, 0, size)
	}
	dec, closeFn, err := decompressor(kind, r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer closeFn()
	br := bufio.NewReaderSize(countingReader{dec, u}, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %w", name, err)
	}
	if sniffArchive(head) == tarArchive {
		return w.openArchive(u, name, tarArchive, br, nil, 0, depth)
	}
	if err := u.member(); err != nil {
		return err
	}
	inner := path.Base(name)
	if i := strings.LastIndexByte(inner, '.'); i > 0 {
		inner = inner[:i]
	}
	if strings.HasSuffix(inner, ".tar") || kind == gzipStream && strings.HasSuffix(name, ".tgz") {
		inner = strings.TrimSuffix(inner, ".tar")
	}
	return w.searchMember(u, name+"!/"+inner, -1, br, depth)
}

// memberPath names a member of an archive: ARCHIVE!/MEMBER, the member's name cleaned (no
// leading "/", no "..": an archive's names are only labels here, never paths on a disk).
func memberPath(archive, member string) string {
	return archive + "!/" + strings.TrimPrefix(path.Clean("/"+member), "/")
}

func decompressor(kind archiveKind, r io.Reader) (io.Reader, func(), error) {
	switch kind {
	case gzipStream:
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case xzStream:
		z, err := xz.ReaderConfig{DictCap: 64 << 20, SingleStream: false}.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	case zstdStream:
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case lz4Stream:
		return lz4.NewReader(r), func() {}, nil
	}
	return nil, nil, fmt.Errorf("not a compressed stream")
}

// searchMember searches one file of an archive as a file of its own (size -1: unknown). A
// member that is itself an archive is opened in turn.
func (w *worker) searchMember(u *unpacking, name string, size int64, r io.Reader, depth int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %w", name, err)
	}
	if kind := sniffArchive(head); kind != notArchive {
		return w.openArchive(u, name, kind, br, nil, 0, depth+1)
	}
	s, err := w.Begin(&scan.File{Path: name, Size: size})
	if err != nil || s == nil {
		return err
	}
	k := s.(*sink)
	buf := make([]byte, 64<<10)
	for {
		n, rerr := io.ReadFull(br, buf)
		if n > 0 {
			if werr := k.Write(buf[:n]); werr != nil {
				if errors.Is(werr, scan.ErrEnough) {
					break
				}
				k.End()
				return werr
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			k.End()
			return fmt.Errorf("%s: %w", name, rerr)
		}
	}
	return k.End()
}

// zipEntries reads the entry count of a zip's end-of-central-directory record (or of its
// zip64 record when the count does not fit in 16 bits).
func zipEntries(ra io.ReaderAt, size int64) (uint64, error) {
	const eocdLen, maxComment = 22, 65535
	n := min(size, eocdLen+maxComment)
	buf := make([]byte, n)
	if _, err := ra.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, errors.New("zip: no end of central directory")
	}
	count := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if count != 0xffff {
		return count, nil
	}
	// zip64: the locator sits just before the record and points at the zip64 record
	if i < 20 || !bytes.Equal(buf[i-20:i-16], []byte("PK\x06\x07")) {
		return count, nil
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	rec := make([]byte, 56)
	if off < 0 || off > size-56 {
		return 0, fmt.Errorf("zip64: end record at %d is outside the file", off)
	}
	if _, err := ra.ReadAt(rec, off); err != nil && err != io.EOF {
		return 0, err
	}
	if !bytes.Equal(rec[:4], []byte("PK\x06\x06")) {
		return 0, fmt.Errorf("zip64: no end record at offset %d", off)
	}
	return binary.LittleEndian.Uint64(rec[32:]), nil
}
