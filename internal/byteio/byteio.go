// Package byteio holds the small helpers every parser of untrusted image bytes shares:
// bounded reads at an offset and an error type that names the file and the offset.
package byteio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf16"
)

// CorruptError reports bytes that do not parse. It always names where they are.
type CorruptError struct {
	File   string // what was being read: an image file, a partition, an in-image path
	Offset int64  // byte offset inside File
	Msg    string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: offset %#x: %s", e.File, e.Offset, e.Msg)
}

// Corrupt builds a *CorruptError.
func Corrupt(file string, off int64, format string, args ...any) error {
	return &CorruptError{File: file, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// IsCorrupt reports whether err is (or wraps) a *CorruptError.
func IsCorrupt(err error) bool {
	var ce *CorruptError
	return errors.As(err, &ce)
}

// MaxMetadataRead bounds any single metadata read a parser makes, so that a
// hostile length field can never make us allocate more than this at once.
const MaxMetadataRead = 64 << 20

// ReadAt reads exactly n bytes at off. A short read is a *CorruptError naming file and offset.
func ReadAt(r io.ReaderAt, file string, off int64, n int) ([]byte, error) {
	if n < 0 || n > MaxMetadataRead {
		return nil, Corrupt(file, off, "refusing metadata read of %d bytes", n)
	}
	if off < 0 {
		return nil, Corrupt(file, off, "negative offset")
	}
	// Refuse before allocating when the reader knows its size and the read cannot fit.
	if s, ok := r.(interface{ Size() int64 }); ok && off+int64(n) > s.Size() {
		return nil, Corrupt(file, off, "%d bytes at this offset run past the end (%d bytes; truncated?)", n, s.Size())
	}
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, off)
	if got == n {
		return buf, nil
	}
	if err == nil || err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, Corrupt(file, off, "short read: want %d bytes, got %d (truncated?)", n, got)
	}
	return nil, fmt.Errorf("%s: offset %#x: %w", file, off, err)
}

// Section is an io.ReaderAt over [off, off+size) of another ReaderAt.
type Section struct {
	R   io.ReaderAt
	Off int64
	N   int64
}

// Size returns the section's length.
func (s *Section) Size() int64 { return s.N }

// ReadAt implements io.ReaderAt, returning io.EOF past the end of the section.
func (s *Section) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= s.N {
		return 0, io.EOF
	}
	if rem := s.N - off; int64(len(p)) > rem {
		n, err := s.R.ReadAt(p[:rem], s.Off+off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return s.R.ReadAt(p, s.Off+off)
}

// ZeroFill clears p; used for holes and unallocated blocks.
func ZeroFill(p []byte) {
	clear(p)
}

// FileTime converts a Windows FILETIME (100 ns since 1601-01-01 UTC), as NTFS, registry hives
// and event logs store it; out-of-range values are the zero time.
func FileTime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if ft < epochDiff || ft-epochDiff > math.MaxInt64/100 {
		return time.Time{}
	}
	return time.Unix(0, int64(ft-epochDiff)*100).UTC()
}

// UTF16 decodes little-endian UTF-16 (an odd last byte is ignored).
func UTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
