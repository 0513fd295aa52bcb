package secrets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/zlib"
	"github.com/ulikunitz/xz/lzma"
)

// Streams recognised by a weak sign (issue #24, M14): a zlib header is two bytes (RFC 1950:
// CMF says deflate with a window of at most 32 KiB, FCHECK makes CMF*256+FLG a multiple of 31),
// an LZMA-alone header thirteen bytes of parameters. Plain text may start with either by chance
// ("x^", "hb"), so a sign counts only when the first bytes after it decode without a corrupt-data
// error; and a stream taken for one that stops decoding later is searched as the bytes it is,
// after what it did decode (openCompressed): a decoder gives nothing past the point where the
// stream breaks, so every byte any reader would see is searched either way.

// weakProbeInput is how much of a file's start the check of a weak sign decodes, weakProbeOutput
// at most how much output that decoding makes.
const (
	weakProbeInput  = sniffBytes
	weakProbeOutput = 32 << 10
)

// maxLZMADict is the largest LZMA-alone dictionary opened (xz -9's); the decoder allocates it.
const maxLZMADict = 64 << 20

// zlibHeader says whether p starts with a zlib stream (no preset dictionary) whose first bytes
// decode.
func zlibHeader(p []byte) bool {
	if len(p) < 3 {
		return false
	}
	cmf, flg := p[0], p[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 {
		return false
	}
	z, err := zlib.NewReader(bytes.NewReader(p[:min(len(p), weakProbeInput)]))
	if err != nil {
		return false
	}
	return probeDecodes(z)
}

// lzmaHeaderParts reads an LZMA-alone header: properties lc/lp/pb (below 225), the dictionary
// size (2^n or 2^n+2^(n-1), from 4 KiB, as xz writes it), the uncompressed size (all ones:
// unknown), and the range coder's first byte, always 0.
func lzmaHeaderParts(p []byte) (dict uint32, ok bool) {
	if len(p) < 14 || p[0] >= 225 || p[13] != 0 {
		return 0, false
	}
	dict = binary.LittleEndian.Uint32(p[1:])
	usize := binary.LittleEndian.Uint64(p[5:])
	if usize != ^uint64(0) && usize > 1<<48 {
		return 0, false
	}
	d := dict
	for d > 1 && d&1 == 0 {
		d >>= 1
	}
	if dict < 4096 || (d != 1 && d != 3) {
		return 0, false
	}
	return dict, true
}

// lzmaHeader says whether p starts with an LZMA-alone stream whose first bytes decode. The check
// decodes with a small dictionary (its output is bounded below it, so no distance reaches past
// it); the stream itself is opened with the header's, up to maxLZMADict.
func lzmaHeader(p []byte) bool {
	if _, ok := lzmaHeaderParts(p); !ok {
		return false
	}
	probe := append([]byte(nil), p[:min(len(p), weakProbeInput)]...)
	binary.LittleEndian.PutUint32(probe[1:], 1<<16)
	z, err := lzma.ReaderConfig{DictCap: 1 << 16}.NewReader(bytes.NewReader(probe))
	if err != nil {
		return false
	}
	return probeDecodes(io.LimitReader(z, 1<<15))
}

// probeDecodes reads at most weakProbeOutput bytes from a decoder of a prefix of a stream: true
// when the prefix decodes (to the stream's end, to the prefix's end, or to the output bound).
func probeDecodes(r io.Reader) bool {
	var buf [4096]byte
	got := 0
	for got < weakProbeOutput {
		n, err := r.Read(buf[:])
		got += n
		switch {
		case err == io.EOF:
			return true
		case errors.Is(err, io.ErrUnexpectedEOF) || err != nil && err.Error() == "lzma: unexpected EOF":
			return true // the prefix ends inside the stream
		case err != nil:
			return false
		}
	}
	return true
}

// newLZMAReader opens an LZMA-alone stream with the dictionary its header asks for, at most
// maxLZMADict.
func newLZMAReader(r io.Reader, head []byte) (io.Reader, error) {
	dict, ok := lzmaHeaderParts(head)
	if !ok {
		return nil, errors.New("not an LZMA-alone header")
	}
	if dict > maxLZMADict {
		return nil, errors.New("an LZMA dictionary larger than the 64 MiB this checker allocates")
	}
	return lzma.ReaderConfig{DictCap: int(dict)}.NewReader(r)
}

// squashfsSuperblock says whether p starts with a squashfs 4.0 superblock (little-endian "hsqs"):
// block size a power of two from 4 KiB to 1 MiB, its log beside it.
func squashfsSuperblock(p []byte) bool {
	if len(p) < 96 {
		return false
	}
	le := binary.LittleEndian
	block, blockLog := le.Uint32(p[12:]), le.Uint16(p[22:])
	major := le.Uint16(p[28:])
	return major == 4 && block >= 4096 && block <= 1<<20 && blockLog < 32 && block == 1<<blockLog
}

// gitPackHeader says whether p starts with a git packfile header: "PACK", version 2 or 3.
func gitPackHeader(p []byte) bool {
	if len(p) < 12 {
		return false
	}
	v := binary.BigEndian.Uint32(p[4:])
	return v == 2 || v == 3
}

// brokenStream reads a decoder and ends, as if at the stream's end, where the decoder fails:
// what was decoded is searched whole; err keeps the failure.
type brokenStream struct {
	r   io.Reader
	err error
}

func (b *brokenStream) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
		return n, io.EOF
	}
	return n, err
}
