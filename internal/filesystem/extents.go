package filesystem

import (
	"errors"
	"io"
	"sort"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Extent maps Length filesystem blocks of a file, from logical block Logical, to the bytes at
// Physical on the volume. Unwritten (preallocated) extents read as zeros.
type Extent struct {
	Logical   uint64
	Length    uint64
	Physical  int64
	Unwritten bool
}

// ExtentReader reads a file's bytes through its extent list; blocks no extent covers are holes.
type ExtentReader struct {
	R         io.ReaderAt // the volume
	VolSize   int64
	Name      string // volume name, for errors
	Ino       uint64
	BlockSize int64
	Size      int64
	Extents   []Extent // sorted by Logical, not overlapping
}

// Sort orders the extents by logical block; readers call it once after collecting them.
func (r *ExtentReader) Sort() {
	sort.Slice(r.Extents, func(i, j int) bool { return r.Extents[i].Logical < r.Extents[j].Logical })
}

// ReadAt implements io.ReaderAt.
func (r *ExtentReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.Size {
		return 0, io.EOF
	}
	want := len(p)
	if rem := r.Size - off; int64(want) > rem {
		want = int(rem)
	}
	bs := r.BlockSize
	n := 0
	for n < want {
		pos := off + int64(n)
		lblk := uint64(pos / bs)
		i := sort.Search(len(r.Extents), func(i int) bool {
			return r.Extents[i].Logical+r.Extents[i].Length > lblk
		})
		var e *Extent
		if i < len(r.Extents) && r.Extents[i].Logical <= lblk {
			e = &r.Extents[i]
		}
		if e == nil || e.Unwritten {
			// a hole (or preallocated space): zeros up to the next extent
			end := int64(want)
			if e == nil && i < len(r.Extents) {
				end = min(end, int64(r.Extents[i].Logical)*bs-off)
			} else if e != nil {
				end = min(end, int64(e.Logical+e.Length)*bs-off)
			}
			if end <= int64(n) {
				end = int64(n) + 1
			}
			clear(p[n:end])
			n = int(end)
			continue
		}
		extEnd := int64(e.Logical+e.Length) * bs
		chunk := min(int64(want-n), extEnd-pos)
		phys := e.Physical + (pos - int64(e.Logical)*bs)
		if phys < 0 || phys+chunk > r.VolSize {
			return n, byteio.Corrupt(r.Name, phys, "inode %d data runs outside the filesystem", r.Ino)
		}
		got, err := r.R.ReadAt(p[n:n+int(chunk)], phys)
		n += got
		if got < int(chunk) {
			if err == nil || err == io.EOF {
				err = byteio.Corrupt(r.Name, phys, "short read of inode %d data", r.Ino)
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// InlineReader reads file bytes kept inside the inode.
type InlineReader []byte

// ReadAt implements io.ReaderAt.
func (b InlineReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
