package initrd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A zstd decoder reads its input to the end and takes what follows its last frame for another
// frame ("magic number mismatch" on the gzip or cpio segment that follows it in an initramfs).
// The kernel decodes the frames and goes on at the next byte (init/initramfs.c,
// unpack_to_rootfs, v6.6: the decompressor reports how much input it used, the loop skips zero
// padding there and recognises the next segment by its magic). ZstdFrames gives a decoder
// exactly the bytes of the zstd frames at the reader's position, framed as RFC 8878 section 3.1
// lays them out (a header, blocks each with a 3-byte header giving its size, an optional
// checksum; skippable frames by their size field), and ends where the next byte starts no frame.

const (
	zstdMagic         = 0xfd2fb528
	zstdSkippableMask = 0xfffffff0
	zstdSkippable     = 0x184d2a50
	zstdMaxBlock      = 128 << 10 // Block_Maximum_Size (RFC 8878 3.1.1.2.4)
)

// ErrZstdFraming is a zstd frame whose framing does not hold (a reserved block type or bit, a
// block larger than the format allows, a frame cut short).
var ErrZstdFraming = errors.New("zstd framing")

type zstdState int

const (
	zstdFrameStart zstdState = iota
	zstdBlock
	zstdChecksum
)

// ZstdFrames reads, from br, the zstd frames (and skippable frames) that follow one another at
// its position; it ends (io.EOF) before the first byte that starts no frame, which is then the
// next byte br gives. N counts the bytes it gave.
type ZstdFrames struct {
	br       *bufio.Reader
	N        int64
	frames   int
	left     int64 // bytes of the current header, block or skippable frame still to give
	state    zstdState
	checksum bool
	err      error
}

// NewZstdFrames reads the zstd frames at br's position.
func NewZstdFrames(br *bufio.Reader) *ZstdFrames { return &ZstdFrames{br: br} }

func (z *ZstdFrames) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	for z.left == 0 {
		if err := z.next(); err != nil {
			z.err = err
			return 0, err
		}
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	n, err := z.br.Read(p)
	z.N += int64(n)
	z.left -= int64(n)
	if err == io.EOF {
		err = nil
		if n == 0 {
			err = fmt.Errorf("%w: the stream ends inside a frame (offset %d)", ErrZstdFraming, z.N)
			z.err = err
		}
	}
	return n, err
}

// next reads the header of what follows: a frame, a block of the current frame, its checksum.
func (z *ZstdFrames) next() error {
	switch z.state {
	case zstdChecksum:
		z.left, z.state = 4, zstdFrameStart
		return nil
	case zstdBlock:
		h, err := z.br.Peek(3)
		if len(h) < 3 {
			return fmt.Errorf("%w: the stream ends inside a frame (offset %d): %v", ErrZstdFraming, z.N, err)
		}
		v := uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16
		last, typ, size := v&1 != 0, (v>>1)&3, int64(v>>3)
		switch typ {
		case 1: // RLE: one byte stands for size bytes
			if size > zstdMaxBlock {
				return fmt.Errorf("%w: block of %d bytes at offset %d", ErrZstdFraming, size, z.N)
			}
			size = 1
		case 3:
			return fmt.Errorf("%w: reserved block type at offset %d", ErrZstdFraming, z.N)
		}
		if size > zstdMaxBlock {
			return fmt.Errorf("%w: block of %d bytes at offset %d", ErrZstdFraming, size, z.N)
		}
		z.left = 3 + size
		if last {
			z.state = zstdFrameStart
			if z.checksum {
				z.state = zstdChecksum
			}
		}
		return nil
	}
	h, _ := z.br.Peek(4)
	if len(h) < 4 {
		return z.end(h)
	}
	magic := binary.LittleEndian.Uint32(h)
	switch {
	case magic == zstdMagic:
		h, _ = z.br.Peek(5)
		if len(h) < 5 {
			return fmt.Errorf("%w: the stream ends inside a frame header (offset %d)", ErrZstdFraming, z.N)
		}
		fhd := h[4]
		if fhd&0x08 != 0 {
			return fmt.Errorf("%w: reserved bit of the frame header set (offset %d)", ErrZstdFraming, z.N+4)
		}
		single := fhd&0x20 != 0
		n := int64(5)
		if !single {
			n++ // window descriptor
		}
		n += [4]int64{0, 1, 2, 4}[fhd&3] // dictionary ID
		fcs := [4]int64{0, 2, 4, 8}[fhd>>6]
		if fcs == 0 && single {
			fcs = 1
		}
		z.left = n + fcs
		z.checksum = fhd&0x04 != 0
		z.state = zstdBlock
		z.frames++
		return nil
	case magic&zstdSkippableMask == zstdSkippable:
		h, _ = z.br.Peek(8)
		if len(h) < 8 {
			return fmt.Errorf("%w: the stream ends inside a skippable frame (offset %d)", ErrZstdFraming, z.N)
		}
		z.left = 8 + int64(binary.LittleEndian.Uint32(h[4:]))
		z.frames++
		return nil
	}
	return z.end(h)
}

// end is what follows the frames: io.EOF after at least one, an error before any.
func (z *ZstdFrames) end(h []byte) error {
	if z.frames == 0 {
		return fmt.Errorf("%w: no zstd frame (starts %x)", ErrZstdFraming, h)
	}
	return io.EOF
}
