package ntfs

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// maxUnitBytes bounds a compression unit (16 clusters of at most 4 KiB on volumes Windows
// compresses; larger ones are refused).
const maxUnitBytes = 1 << 20

// compressed reads an NTFS-compressed attribute: the data is cut into compression units of
// 2^compUnit clusters; a unit whose clusters are all allocated is stored as is, one with no
// cluster is zeros, and one with fewer clusters holds LZNT1-compressed data in them.
type compressed struct {
	f         *FS
	ino       uint64
	runs      []filesystem.Extent
	size      int64
	unitClust uint64
	unitBytes int64

	mu   sync.Mutex
	unit int64 // the unit cached in buf, -1 for none
	buf  []byte
}

func (f *FS) compressedReader(a *attr, ino uint64) (io.ReaderAt, error) {
	if a.compUnit == 0 || a.compUnit > 8 || f.clusterSize<<a.compUnit > maxUnitBytes {
		return nil, byteio.Corrupt(f.name, a.at, "record %d: compression unit of 2^%d clusters of %d bytes is not supported", ino, a.compUnit, f.clusterSize)
	}
	c := &compressed{f: f, ino: ino, runs: append([]filesystem.Extent(nil), a.runs...), size: a.realSize,
		unitClust: 1 << a.compUnit, unitBytes: f.clusterSize << a.compUnit, unit: -1}
	sort.Slice(c.runs, func(i, j int) bool { return c.runs[i].Logical < c.runs[j].Logical })
	if a.initSize < a.realSize {
		return &initReader{r: c, init: a.initSize}, nil
	}
	return c, nil
}

// ReadAt implements io.ReaderAt.
func (c *compressed) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= c.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), c.size-off)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(0)
	for n < want {
		pos := off + n
		u := pos / c.unitBytes
		if err := c.load(u); err != nil {
			return int(n), err
		}
		n += int64(copy(p[n:want], c.buf[pos-u*c.unitBytes:]))
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// load decompresses unit u into c.buf.
func (c *compressed) load(u int64) error {
	if c.unit == u {
		return nil
	}
	if c.buf == nil {
		c.buf = make([]byte, c.unitBytes)
	}
	clear(c.buf)
	c.unit = -1
	start := uint64(u) * c.unitClust
	end := start + c.unitClust
	cs := c.f.clusterSize
	raw := make([]byte, 0, c.unitBytes)
	i := sort.Search(len(c.runs), func(i int) bool { return c.runs[i].Logical+c.runs[i].Length > start })
	for ; i < len(c.runs) && c.runs[i].Logical < end; i++ {
		e := c.runs[i]
		s, t := max(e.Logical, start), min(e.Logical+e.Length, end)
		phys := e.Physical + int64(s-e.Logical)*cs
		n := int64(t-s) * cs
		if phys < 0 || phys+n > c.f.size || int64(len(raw))+n > c.unitBytes {
			return byteio.Corrupt(c.f.name, phys, "record %d: compressed data runs outside the volume or the unit", c.ino)
		}
		chunk := make([]byte, n)
		if got, err := c.f.r.ReadAt(chunk, phys); got < len(chunk) {
			if err == nil || err == io.EOF {
				err = byteio.Corrupt(c.f.name, phys, "record %d: short read of compressed data", c.ino)
			}
			return err
		}
		raw = append(raw, chunk...)
	}
	switch {
	case len(raw) == 0: // a sparse unit: zeros
	case int64(len(raw)) == c.unitBytes:
		copy(c.buf, raw) // stored uncompressed
	default:
		if err := LZNT1(raw, c.buf); err != nil {
			return fmt.Errorf("%s: record %d, compression unit %d: %w", c.f.name, c.ino, u, err)
		}
	}
	c.unit = u
	return nil
}

// LZNT1 decompresses in into out (whose length is the unit's size): a series of chunks of at
// most 4 KiB of output, each stored or compressed with back-references whose offset and length
// bits depend on the position in the chunk. Output past what the data describes stays zero.
func LZNT1(in, out []byte) error {
	ip, op := 0, 0
	for ip+2 <= len(in) && op < len(out) {
		h := int(in[ip]) | int(in[ip+1])<<8
		ip += 2
		if h == 0 {
			break
		}
		size := h&0x0FFF + 1
		if ip+size > len(in) {
			return fmt.Errorf("LZNT1 chunk at %d of %d bytes runs past the %d-byte input", ip-2, size, len(in))
		}
		chunk := in[ip : ip+size]
		ip += size
		start := op
		end := min(op+4096, len(out))
		if h&0x8000 == 0 {
			copy(out[op:end], chunk)
			op = end
			continue
		}
		for cp := 0; cp < len(chunk) && op < end; {
			flags := chunk[cp]
			cp++
			for bit := 0; bit < 8 && cp < len(chunk) && op < end; bit++ {
				if flags&(1<<bit) == 0 {
					out[op] = chunk[cp]
					op++
					cp++
					continue
				}
				if cp+2 > len(chunk) {
					return fmt.Errorf("LZNT1 back-reference cut short at %d", ip-size+cp)
				}
				tok := int(chunk[cp]) | int(chunk[cp+1])<<8
				cp += 2
				pos := op - start
				lg := 0
				for i := pos - 1; i >= 0x10; i >>= 1 {
					lg++
				}
				length := tok&(0xFFF>>lg) + 3
				offset := tok>>(12-lg) + 1
				if pos == 0 || offset > pos {
					return fmt.Errorf("LZNT1 back-reference %d bytes back at chunk position %d", offset, pos)
				}
				for k := 0; k < length && op < end; k++ {
					out[op] = out[op-offset]
					op++
				}
			}
		}
		op = end
	}
	return nil
}
