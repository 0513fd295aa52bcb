// Package initrd lists the files of a Linux initramfs: one or more concatenated cpio archives
// (newc or crc format), each uncompressed (an early-microcode prefix usually is) or compressed
// with gzip, bzip2, lzma, xz, zstd or lz4, in any order and number, with zero padding between them. Only names are read; file data is
// skipped as it streams past. The reader is bounded: it stops with an error that names the
// offset when an archive is malformed or grows past its limits.
package initrd

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Limits bound what a (possibly hostile) initramfs may cost.
const (
	MaxEntries      = 1 << 20 // names listed across all archives
	MaxNameLen      = 4096
	MaxUnpacked     = 4 << 30  // bytes decompressed across all archives
	maxSegments     = 64       // concatenated archives
	maxPaddingBytes = 1 << 20  // zero bytes between two archives
	maxLZMADict     = 64 << 20 // an lzma dictionary (xz -9's): the decoder allocates it
)

// Error says where in the initramfs reading stopped.
type Error struct {
	Segment int   // 0-based index of the cpio archive
	Offset  int64 // byte offset in that archive's uncompressed stream
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("initramfs archive %d, offset %d: %v", e.Segment, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// List returns the names (as stored, without a leading "./" or "/") of every entry of every
// archive in r, and the compression of each archive ("none", "gzip", "bzip2", "lzma", "xz",
// "zstd", "lz4").
func List(r io.Reader) (names []string, formats []string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var unpacked int64
	for seg := 0; ; seg++ {
		if err := skipZeros(br); err == io.EOF {
			return names, formats, nil
		} else if err != nil {
			return names, formats, &Error{Segment: seg, Err: err}
		}
		if seg >= maxSegments {
			return names, formats, &Error{Segment: seg, Err: fmt.Errorf("more than %d archives", maxSegments)}
		}
		magic, _ := br.Peek(6)
		format, stream, closeFn, err := open(br, magic)
		if err != nil {
			return names, formats, &Error{Segment: seg, Err: err}
		}
		formats = append(formats, format)
		cr := &countingReader{r: stream, limit: MaxUnpacked - unpacked}
		got, err := listCPIO(cr, format == "none")
		names = append(names, got...)
		unpacked += cr.n
		if err != nil && format != "none" && errors.Is(err, io.ErrUnexpectedEOF) {
			// the stream ended cleanly (it gives io.EOF again) inside its cpio archive: a cpio
			// cut across gzip members, say. The kernel reads each compressed stream as a
			// segment whose archive ends in it, and stops there too
			if _, rerr := stream.Read(make([]byte, 1)); rerr == io.EOF {
				err = fmt.Errorf("%w: the %s stream ends inside its cpio archive, which the kernel refuses too (\"junk at the end of compressed archive\", init/initramfs.c unpack_to_rootfs, v6.6)", err, format)
			}
		}
		if closeFn != nil {
			closeFn()
		}
		if err != nil {
			return names, formats, &Error{Segment: seg, Offset: cr.n, Err: err}
		}
		if len(names) > MaxEntries {
			return names, formats, &Error{Segment: seg, Offset: cr.n, Err: fmt.Errorf("more than %d entries", MaxEntries)}
		}
		// the kernel goes on after a compressed archive as after an uncompressed one: at the
		// next byte after its stream, past zero padding, with whatever segment its magic says
		// (init/initramfs.c, unpack_to_rootfs, v6.6); each decoder here ends where its stream
		// ends (gzip: one member; zstd: the frames ZstdFrames delimits; xz: the streams
		// XZStreams delimits; bzip2: the stream Bzip2Stream delimits; lz4 legacy: the blocks
		// LZ4Legacy delimits; lzma: the decoder's own end)
	}
}

// open recognises the archive's compression by its magic number.
func open(br *bufio.Reader, magic []byte) (string, io.Reader, func(), error) {
	switch {
	case bytes.HasPrefix(magic, []byte("0707")):
		return "none", br, nil, nil
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		decompressed.Add(1)
		z, err := gzip.NewReader(br)
		if err != nil {
			return "gzip", nil, nil, err
		}
		z.Multistream(false)
		return "gzip", z, func() { z.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		decompressed.Add(1)
		z, err := xz.NewReader(NewXZStreams(br))
		return "xz", z, nil, err
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		decompressed.Add(1)
		z, err := zstd.NewReader(NewZstdFrames(br), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return "zstd", nil, nil, err
		}
		return "zstd", z, z.Close, nil
	case bytes.HasPrefix(magic, []byte{0x02, 0x21, 0x4c, 0x18}):
		// the legacy format, the kernel's: LZ4Legacy ends it where unlz4 does
		decompressed.Add(1)
		return "lz4", lz4.NewReader(NewLZ4Legacy(br)), nil, nil
	case bytes.HasPrefix(magic, []byte{0x04, 0x22, 0x4d, 0x18}):
		// the frame format: the decoder reads one frame, to its end mark and checksum
		decompressed.Add(1)
		return "lz4", lz4.NewReader(br), nil, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		decompressed.Add(1)
		return "bzip2", bzip2.NewReader(NewBzip2Stream(br)), nil, nil
	case bytes.HasPrefix(magic, []byte{0x5d, 0x00}):
		// LZMA-alone as the kernel recognises it (lib/decompress.c, compressed_formats, v6.6:
		// the properties byte of lc=3 lp=0 pb=2, a dictionary of a multiple of 256 bytes). The
		// decoder reads its input a byte at a time from br (an io.ByteReader) and stops at
		// the end-of-stream marker or the header's uncompressed size, as the kernel's unlzma
		// does (lib/decompress_unlzma.c, v6.6): br is then at the next segment.
		decompressed.Add(1)
		head, _ := br.Peek(13)
		if len(head) < 13 {
			return "lzma", nil, nil, fmt.Errorf("lzma header cut short")
		}
		if dict := binary.LittleEndian.Uint32(head[1:]); dict > maxLZMADict {
			return "lzma", nil, nil, fmt.Errorf("an lzma dictionary of %d bytes, over the %d this reader allocates", dict, maxLZMADict)
		}
		z, err := lzma.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(br)
		return "lzma", z, nil, err
	}
	return "", nil, nil, fmt.Errorf("not a cpio archive nor a known compression (starts %x)", magic)
}

// skipZeros skips the zero padding between archives; io.EOF when nothing follows.
func skipZeros(br *bufio.Reader) error {
	for n := 0; ; n++ {
		b, err := br.ReadByte()
		if err != nil {
			return err
		}
		if b != 0 {
			return br.UnreadByte()
		}
		if n > maxPaddingBytes {
			return fmt.Errorf("more than %d zero bytes between archives", maxPaddingBytes)
		}
	}
}

type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, fmt.Errorf("more than %d bytes unpacked", int64(MaxUnpacked))
	}
	if int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// listCPIO reads newc/crc entries up to TRAILER!!!. An uncompressed archive shares its reader
// with what follows, so it must not read past its own end.
func listCPIO(r io.Reader, shared bool) ([]string, error) {
	var names []string
	hdr := make([]byte, 110)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return names, fmt.Errorf("cpio header: %w", eofIsUnexpected(err))
		}
		if !bytes.HasPrefix(hdr, []byte("070701")) && !bytes.HasPrefix(hdr, []byte("070702")) {
			return names, fmt.Errorf("bad cpio magic %q", hdr[:6])
		}
		field := func(i int) (int64, error) {
			return strconv.ParseInt(string(hdr[6+8*i:14+8*i]), 16, 64)
		}
		size, err1 := field(6)
		nameLen, err2 := field(11)
		if err := errors.Join(err1, err2); err != nil {
			return names, fmt.Errorf("cpio header field: %w", err)
		}
		if nameLen <= 0 || nameLen > MaxNameLen {
			return names, fmt.Errorf("cpio name length %d", nameLen)
		}
		// the name (with its NUL) is padded so that header + name is a multiple of 4
		nameBuf := make([]byte, pad4(110+nameLen)-110)
		if _, err := io.ReadFull(r, nameBuf); err != nil {
			return names, fmt.Errorf("cpio name: %w", eofIsUnexpected(err))
		}
		name := string(bytes.TrimRight(nameBuf[:nameLen], "\x00"))
		if name == "TRAILER!!!" {
			if !shared {
				// drain: a compressed stream may pad after the trailer
				if _, err := io.Copy(io.Discard, r); err != nil {
					return names, err
				}
			}
			return names, nil
		}
		names = append(names, trimName(name))
		if len(names) > MaxEntries {
			return names, fmt.Errorf("more than %d entries", MaxEntries)
		}
		if size < 0 {
			return names, fmt.Errorf("negative file size")
		}
		if _, err := io.CopyN(io.Discard, r, pad4(size)); err != nil {
			return names, fmt.Errorf("data of %s: %w", name, eofIsUnexpected(err))
		}
	}
}

func pad4(n int64) int64 { return (n + 3) &^ 3 }

func trimName(n string) string {
	for len(n) > 0 && (n[0] == '/' || len(n) > 1 && n[:2] == "./") {
		if n[0] == '/' {
			n = n[1:]
		} else {
			n = n[2:]
		}
	}
	return n
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
