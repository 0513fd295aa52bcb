package initrd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Where a bzip2 or an lz4 legacy segment of an initramfs ends, as the kernel finds it. The
// kernel goes on after each compressed segment at the byte after the input its decompressor
// used (init/initramfs.c, unpack_to_rootfs, v6.6). Go's bzip2 decoder reads, after a stream,
// the next bytes as the start of another ("bad magic value in continuation file" on the gzip
// or cpio segment that follows); the lz4 decoder reads the next segment's magic as a block
// size. These readers give a decoder its segment's bytes and no more.

// Bzip2Stream reads, from br, one bzip2 stream (with Multi, the bzip2 streams that follow one
// another, as bzip2 -dc reads them) and no byte after it; N counts the bytes it gave, Streams
// the streams it began.
//
// The kernel's bunzip2 (lib/decompress_bunzip2.c, get_next_block and bunzip2, v6.6) reads the
// stream's bits as it needs them: after the 48-bit end-of-stream magic 0x177245385090 and the
// 32-bit combined CRC it stops, at the end of the byte that holds the CRC's last bit, and
// reports that position. The magic lies at any bit offset; Bzip2Stream watches the bits go by
// and ends the stream there. Compressed data that holds the magic by chance (once in 2^48 bit
// positions) ends the stream early: the decoder then fails on a block cut short (an error,
// never a stream read in part without one).
type Bzip2Stream struct {
	br      *bufio.Reader
	N       int64
	Streams int
	Multi   bool
	start   int64  // offset of the current stream's "BZh"
	reg     uint64 // the last bits given
	bits    int64  // bits of the current stream watched
	end     int64  // where the current stream ends, -1 until its end-of-stream magic is seen
	done    bool
}

const (
	bzip2EOS   = 0x177245385090
	bzip2Block = 0x314159265359
	mask48     = 1<<48 - 1
)

// NewBzip2Stream reads the bzip2 stream at br's position.
func NewBzip2Stream(br *bufio.Reader) *Bzip2Stream { return &Bzip2Stream{br: br, end: -1} }

// bzip2Start says whether b starts a bzip2 stream: "BZh", the block size 1-9, then the magic
// of a block or of the stream's end.
func bzip2Start(b []byte) bool {
	if len(b) < 10 || string(b[:3]) != "BZh" || b[3] < '1' || b[3] > '9' {
		return false
	}
	m := uint64(b[4])<<40 | uint64(b[5])<<32 | uint64(binary.BigEndian.Uint32(b[6:]))
	return m == bzip2Block || m == bzip2EOS
}

func (z *Bzip2Stream) Read(p []byte) (int, error) {
	if z.done {
		return 0, io.EOF
	}
	if z.N == z.end || z.Streams == 0 {
		head, _ := z.br.Peek(10)
		if !bzip2Start(head) {
			if z.Streams == 0 {
				return 0, fmt.Errorf("bzip2: no stream header at offset %d (starts %x)", z.N, head)
			}
			z.done = true
			return 0, io.EOF
		}
		if z.Streams > 0 && !z.Multi {
			z.done = true
			return 0, io.EOF
		}
		z.Streams++
		z.start, z.reg, z.bits, z.end = z.N, 0, 0, -1
	}
	if len(p) == 0 {
		return 0, nil
	}
	head, err := z.br.Peek(min(len(p), z.br.Size()))
	if len(head) == 0 {
		if err == io.EOF {
			err = fmt.Errorf("bzip2: the file ends at offset %d before the stream's end-of-stream marker: %w", z.N, io.ErrUnexpectedEOF)
		}
		return 0, err
	}
	if z.end >= 0 {
		head = head[:min(int64(len(head)), z.end-z.N)]
	} else {
		for _, b := range head {
			for k := 7; k >= 0; k-- {
				z.reg = z.reg<<1 | uint64(b>>k&1)
				z.bits++
				if z.bits >= 32+48 && z.reg&mask48 == bzip2EOS {
					// the magic ends at this bit; the CRC's 32 bits follow, then padding
					// to the byte
					z.end = z.start + (z.bits+32+7)/8
					break
				}
			}
			if z.end >= 0 {
				head = head[:min(int64(len(head)), z.end-z.N)] // past byte i: the CRC follows
				break
			}
		}
	}
	n := copy(p, head)
	z.br.Discard(n)
	z.N += int64(n)
	return n, nil
}

// LZ4Legacy reads, from br, an lz4 legacy-format stream (the format lz4 -l writes and the
// kernel reads: the magic 0x184C2102, then blocks, each a 4-byte little-endian compressed size
// and the block) and no byte after it; N counts the bytes it gave.
//
// The format has no end mark. The kernel's unlz4 (lib/decompress_unlz4.c, unlz4, v6.6) reads
// block sizes until its input ends: fewer than 4 bytes left, or a size of zero (the zero
// padding before a further segment) ends the stream there, at the size; the magic again where
// a size is expected is skipped (streams concatenated); any other size is a block, which must
// decode. So a segment that follows an lz4 one without zero padding is, to the kernel, a block
// that does not decode: LZ4Legacy ends at a size of zero or the end of the file, and gives any
// other size to the decoder as the kernel does (a block larger than the format allows is an
// error here).
type LZ4Legacy struct {
	br    *bufio.Reader
	N     int64
	left  int64 // bytes of the current block (or magic) still to give
	begun bool
	err   error
}

const (
	lz4LegacyMagic = 0x184C2102
	// lz4LegacyMaxBlock is LZ4_compressBound of the legacy format's 8 MiB blocks.
	lz4LegacyMaxBlock = 8<<20 + (8<<20)/255 + 16
)

// ErrLZ4Framing is an lz4 legacy stream whose framing does not hold.
var ErrLZ4Framing = errors.New("lz4 legacy framing")

// NewLZ4Legacy reads the lz4 legacy stream at br's position.
func NewLZ4Legacy(br *bufio.Reader) *LZ4Legacy { return &LZ4Legacy{br: br} }

func (l *LZ4Legacy) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	for l.left == 0 {
		h, _ := l.br.Peek(4)
		if !l.begun {
			if len(h) < 4 || binary.LittleEndian.Uint32(h) != lz4LegacyMagic {
				l.err = fmt.Errorf("%w: no legacy magic at offset %d (starts %x)", ErrLZ4Framing, l.N, h)
				return 0, l.err
			}
			l.begun, l.left = true, 4
			break
		}
		if len(h) < 4 {
			l.err = io.EOF
			return 0, l.err
		}
		switch size := int64(binary.LittleEndian.Uint32(h)); {
		case size == 0:
			l.err = io.EOF
			return 0, l.err
		case size == lz4LegacyMagic:
			l.left = 4
		case size > lz4LegacyMaxBlock:
			l.err = fmt.Errorf("%w: a block of %d bytes at offset %d, over the format's %d", ErrLZ4Framing, size, l.N, lz4LegacyMaxBlock)
			return 0, l.err
		default:
			l.left = 4 + size
		}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.br.Read(p)
	l.N += int64(n)
	l.left -= int64(n)
	if err == io.EOF {
		err = nil
		if n == 0 {
			l.err = fmt.Errorf("%w: the file ends inside a block (offset %d): %w", ErrLZ4Framing, l.N, io.ErrUnexpectedEOF)
			err = l.err
		}
	}
	return n, err
}
