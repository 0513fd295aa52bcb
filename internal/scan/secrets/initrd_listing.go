package secrets

import (
	"bufio"
	"crypto/sha256"
	"hash"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
)

// An initramfs is searched like any stream of containers (an uncompressed cpio, then a
// compressed one); the driver rules list its files with initrd.List, which decompresses it
// again. So that it is decompressed once, the search makes the listing as it reads the file
// (an initrd.Builder told of every archive and cpio header of the file's own stream) and hands
// it on (Options.Initramfs) with the size and SHA-256 of the file's bytes: the rules take it for
// a file with those bytes. The search reads more than List does (odc archives, tar, what follows
// the archives) and List stops where the search goes on; the listing is handed on only when
// List would read the same entries and succeed: anything List reads differently is an
// initrd.Builder Fail (List then runs and makes the facts and the errors), and so is any error
// or unseen part of the search (it may be one List would meet). Like the kernel, List goes on
// after a compressed archive at the next byte, and so does the search: every archive at the top
// of the file is told. The gzip stream List opens is one member, its bzip2 stream one stream
// (the search reads the members or streams that follow as one stream, as gzip -dc and bzip2 -dc
// do; List, as the kernel, each as an archive of its own): more than one is a Fail. So a cpio
// cut in two across gzip members is read whole by the search, while List (and the kernel:
// its gunzip stops at the first member's end and unpack_to_rootfs then finds the cpio cut
// short, "junk at the end of compressed archive", init/initramfs.c v6.6) fails on it. The
// decoders are List's libraries with the same memory limits (xz's DictCap
// is a minimum the stream's own dictionary size overrides, zstd's low-memory mode changes its
// buffers, not its output), so a stream the search decoded without error, List decodes to the
// same bytes.

// InitramfsFunc receives the listing of a file read whole as an initramfs, by its path.
type InitramfsFunc func(path string, l *initrd.Shared)

// initrdObs is the listing being made of one file of the image.
type initrdObs struct {
	b   initrd.Builder
	raw *hashingReader // the file's bytes, as the search reads them from its start
	// inside is set while the search is in a compressed archive at the top of the file; record
	// while it reads the cpio archive whose headers List lists; trailer is where, in the
	// decompressed stream, that archive's trailer ended (-1: not reached)
	inside  bool
	record  bool
	trailer int64
	gz      *gzipMembers  // the compressed archive's decoder when it is gzip
	bz      *bzip2Framing // the compressed archive's framing when it is bzip2
	done    bool          // List has stopped: what follows is not told
}

func newInitrdObs(r io.Reader) *initrdObs {
	o := &initrdObs{trailer: -1}
	o.raw = &hashingReader{r: r, h: sha256.New(), o: o}
	return o
}

// hashingReader digests what is read through it, until the listing has failed.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
	o *initrdObs
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.o.b.Failed() == "" {
		h.h.Write(p[:n])
	}
	h.n += int64(n)
	return n, err
}

// at is o for the file's own stream (depth 1), nil for what is nested in its members. The
// methods of a nil o, and of one whose List has stopped (done), do nothing.
func (o *initrdObs) at(depth int) *initrdObs {
	if depth != 1 {
		return nil
	}
	return o
}

func (o *initrdObs) off() bool { return o == nil || o.done }

// listFormat names a container as List names an archive's compression ("" for none it reads).
func listFormat(k containerKind) string {
	switch k {
	case cpioArchive:
		return "none"
	case gzipStream:
		return "gzip"
	case xzStream:
		return "xz"
	case zstdStream:
		return "zstd"
	case lz4Stream:
		return "lz4"
	case bzip2Stream:
		return "bzip2"
	case lzmaStream:
		return "lzma"
	}
	return ""
}

// archive is the search's next container of the file's stream, after zeros zero bytes, at
// compression layer layers, the seg-th of its stream; head is its first bytes.
func (o *initrdObs) archive(layers, seg int, zeros int64, kind containerKind, head []byte) {
	switch {
	case o.off():
	case layers == 0:
		o.b.Padding(zeros)
		f := listFormat(kind)
		if f == "" {
			o.b.Fail("a %s at the top of the file", kind)
			return
		}
		if kind == lzmaStream && (len(head) < 2 || head[0] != 0x5d || head[1] != 0) {
			// List (as the kernel) knows an LZMA-alone stream by the magic 5d 00 only
			o.b.Fail("an lzma stream List does not recognise (starts %x)", head[:min(len(head), 2)])
			return
		}
		o.b.Archive(f)
		o.record = kind == cpioArchive
	case layers == 1 && seg == 0:
		// the decompressed stream: one cpio (newc or crc), its headers from byte 0
		if kind != cpioArchive || zeros != 0 {
			o.b.Fail("the compressed archive does not start with a cpio header")
			return
		}
		o.record = true
	}
	// the decompressed stream's next containers, and what is nested: List drains or skips them
}

// streamEnd is the end of a stream of the file after zeros zero bytes: of the file itself
// (layers 0), where List stops with success.
func (o *initrdObs) streamEnd(layers int, zeros int64) {
	if o.off() || layers != 0 {
		return
	}
	o.b.Padding(zeros)
	o.b.End()
	o.done = true
}

// compressed starts the compressed archive at layer layers, decoded by dec; those at the top
// of the file (layers 1) are List's. It returns o when it is one.
func (o *initrdObs) compressed(layers int, dec io.Reader, bz *bzip2Framing) *initrdObs {
	if o.off() || layers != 1 {
		return nil
	}
	o.inside = true
	o.trailer = -1
	o.gz, _ = dec.(*gzipMembers)
	o.bz = bz
	return o
}

// compressedEnd is the end, without error, of a compressed archive at the top of the file;
// sniffed is what the search took its stream for. List goes on after it, as the search does.
func (o *initrdObs) compressedEnd(sniffed containerKind) {
	if o == nil {
		return
	}
	switch {
	case sniffed != cpioArchive || o.trailer < 0:
		o.b.Fail("the compressed archive holds no whole cpio archive")
	case o.gz != nil && (o.gz.first < 0 || o.gz.n > o.gz.first):
		o.b.Fail("a gzip stream of more than one member (List reads each as an archive of its own)")
	case o.bz != nil && o.bz.Streams != 1:
		o.b.Fail("%d bzip2 streams one after another (List reads each as an archive of its own)", o.bz.Streams)
	}
	o.inside = false
	o.gz, o.bz = nil, nil
}

// header is the next header of a cpio archive of the file's stream (depth 1): told when it is
// the archive List lists. end is the offset, in the archive, where the header and its name end
// (with padding: ok says the padding could be read).
func (o *initrdObs) header(depth int, magic, name string, nameLen, size, end int64, ok bool) {
	if o = o.at(depth); o.off() || !o.record {
		return
	}
	o.b.Entry(magic, name, nameLen, size)
	if name != "TRAILER!!!" {
		return
	}
	if !ok {
		o.b.Fail("the trailer's name is cut short")
	}
	o.record = false
	if o.inside {
		o.trailer = end
	} else {
		o.b.Unpacked(end) // List counts an uncompressed archive's bytes too
	}
}

// publish hands on the listing of the file at name (ra, size bytes), if there is one: the search
// read the file without error and unpacked bytes, which bound what List counts.
func (o *initrdObs) publish(to InitramfsFunc, name string, ra io.ReaderAt, size, unpacked int64) {
	o.b.Unpacked(unpacked)
	l, ok := o.b.Listing()
	if !ok {
		return
	}
	if o.raw.n < size {
		// what the search left unread (List too: it stops at the end of its last archive)
		if _, err := io.Copy(o.raw.h, io.NewSectionReader(ra, o.raw.n, size-o.raw.n)); err != nil {
			return
		}
	} else if o.raw.n > size {
		return
	}
	s := &initrd.Shared{Listing: l, Size: size}
	o.raw.h.Sum(s.SHA256[:0])
	to(name, s)
}

// bzip2Framing delimits the bzip2 streams of a compressed archive (their count tells the
// listing whether List reads them as one archive).
type bzip2Framing = initrd.Bzip2Stream

// streamOnly reads, through a buffer of its own, the zstd frames (initrd.ZstdFrames), the xz
// streams (initrd.XZStreams), the bzip2 streams (initrd.Bzip2Stream: those that follow one
// another, as bzip2 -dc reads them, returned too) or the lz4 legacy blocks (initrd.LZ4Legacy)
// at br's position and no byte after them: the decoders take all their input for their stream.
// An lz4 frame (not legacy) is br itself: its decoder stops at the frame's end mark.
func streamOnly(kind containerKind, br *bufio.Reader) (*bufio.Reader, *bzip2Framing) {
	switch kind {
	case xzStream:
		return bufio.NewReaderSize(initrd.NewXZStreams(br), 64<<10), nil
	case bzip2Stream:
		bz := initrd.NewBzip2Stream(br)
		bz.Multi = true
		return bufio.NewReaderSize(bz, 64<<10), bz
	case lz4Stream:
		if head, _ := br.Peek(4); string(head) != "\x02\x21\x4c\x18" {
			return br, nil
		}
		return bufio.NewReaderSize(initrd.NewLZ4Legacy(br), 64<<10), nil
	}
	return bufio.NewReaderSize(initrd.NewZstdFrames(br), 64<<10), nil
}
