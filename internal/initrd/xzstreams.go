package initrd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// The xz decoder, after a stream, reads what follows as the header of another stream (stream
// padding, then "invalid header magic bytes" on the cpio or gzip segment that follows it). The
// kernel decodes one stream and goes on at the next byte (lib/decompress_unxz.c, v6.6: the
// decoder reports the input it used; init/initramfs.c unpack_to_rootfs then skips zero padding
// and takes the next segment by its magic). XZStreams gives a decoder the bytes of the xz
// streams at the reader's position and ends where the last one's footer ends: it watches the
// bytes go by, and where they end in a stream footer (the xz file format 1.1.0, section 2.1.2:
// CRC32 of the backward size and flags, the flags of the stream's header, "YZ") it looks ahead:
// zero padding and another stream's magic go on, anything else is the end. A footer counts
// only when its CRC32 and flags hold and the index before it accounts for every byte of the
// stream (atFooter), so data that holds "YZ" (or a whole stream stored as it is) is not taken
// for the end; each read it gives ends after a "YZ" it meets, so that a footer always ends one.

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// XZStreams reads, from br, the xz streams at its position and no byte after the last; N counts
// the bytes it gave.
type XZStreams struct {
	br          *bufio.Reader
	N           int64
	streamStart int64   // offset of the current stream's header
	flags       [2]byte // the current stream's header flags
	hist        []byte  // the last bytes given, at least maxXZIndex+12 of them when there are
	ended       bool
}

// maxXZIndex bounds the index of a stream whose end is recognised (an index record takes a few
// bytes a block: a million blocks); a stream with a larger one reads on, and fails.
const maxXZIndex = 4 << 20

// NewXZStreams reads the xz streams at br's position.
func NewXZStreams(br *bufio.Reader) *XZStreams { return &XZStreams{br: br} }

func (x *XZStreams) Read(p []byte) (int, error) {
	if x.ended {
		return 0, io.EOF
	}
	if x.atFooter() {
		// zero padding (a multiple of 4 bytes) and another stream go on; anything else ends
		head, _ := x.br.Peek(x.br.Size())
		z := 0
		for z < len(head) && head[z] == 0 {
			z++
		}
		if z%4 != 0 || !bytes.HasPrefix(head[z:], xzMagic) {
			x.ended = true
			return 0, io.EOF
		}
		x.streamStart = x.N + int64(z)
	}
	// a read ends after each "YZ" it meets, so that a footer ends a read whoever reads (a
	// buffered reader over this one asks for more than the decoder needs)
	head, err := x.br.Peek(min(len(p), x.br.Size()))
	if len(head) == 0 {
		return 0, err
	}
	if i := bytes.Index(head, []byte("YZ")); i >= 0 {
		head = head[:i+2]
	} else if len(head) > 1 && head[len(head)-1] == 'Y' {
		head = head[:len(head)-1]
	}
	n := copy(p, head)
	x.br.Discard(n)
	x.saw(p[:n])
	return n, nil
}

// saw records bytes given: the current stream's header flags, and the last bytes.
func (x *XZStreams) saw(b []byte) {
	for i := range b {
		off := x.N + int64(i) - x.streamStart
		if off == 6 || off == 7 {
			x.flags[off-6] = b[i]
		}
	}
	x.N += int64(len(b))
	x.hist = append(x.hist, b...)
	if keep := maxXZIndex + 12; len(x.hist) > 2*keep {
		x.hist = append(x.hist[:0], x.hist[len(x.hist)-keep:]...)
	}
}

// atFooter says whether the bytes given end in the footer of the current stream: the footer's
// CRC32 and flags hold, the index before it (of the size the footer gives) has its indicator
// and CRC32, and the sizes of the blocks it lists, with the header, the index and the footer,
// are the bytes of the stream (the xz file format 1.1.0, sections 2.1.2 and 4). A stream stored
// as it is inside another (a .ko.xz in an xz initramfs) has a footer and an index of its own,
// whose sizes are not those of the stream around it.
func (x *XZStreams) atFooter() bool {
	le := binary.LittleEndian
	h := x.hist
	if len(h) < 12 || x.N-x.streamStart < 12+12 {
		return false
	}
	t := h[len(h)-12:]
	if t[10] != 'Y' || t[11] != 'Z' || t[8] != x.flags[0] || t[9] != x.flags[1] ||
		crc32.ChecksumIEEE(t[4:10]) != le.Uint32(t[0:4]) {
		return false
	}
	bs := (int64(le.Uint32(t[4:8])) + 1) * 4
	if bs < 8 || bs > maxXZIndex || int64(len(h)) < bs+12 || x.N-x.streamStart < 12+bs+12 {
		return false
	}
	idx := h[int64(len(h))-12-bs : len(h)-12]
	if idx[0] != 0 || crc32.ChecksumIEEE(idx[:bs-4]) != le.Uint32(idx[bs-4:]) {
		return false
	}
	rest := idx[1 : bs-4]
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && i < len(rest); i++ {
			v |= uint64(rest[i]&0x7f) << (7 * i)
			if rest[i]&0x80 == 0 {
				rest = rest[i+1:]
				return v, true
			}
		}
		return 0, false
	}
	count, ok := varint()
	if !ok || count > uint64(bs) {
		return false
	}
	blocks := uint64(0)
	for range count {
		unpadded, ok1 := varint()
		_, ok2 := varint()
		if !ok1 || !ok2 || unpadded > 1<<62 {
			return false
		}
		blocks += (unpadded + 3) &^ 3
		if blocks > 1<<62 {
			return false
		}
	}
	for _, b := range rest { // index padding
		if b != 0 {
			return false
		}
	}
	return uint64(x.N-x.streamStart) == 12+blocks+uint64(bs)+12
}
