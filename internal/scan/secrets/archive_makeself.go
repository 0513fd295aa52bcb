package secrets

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// A self-extracting shell script (a makeself .run installer, an installer ending in
// "__ARCHIVE_BELOW__") is a script followed by an archive. makeself 2.4/2.5 (makeself.sh and
// makeself-header.sh) write the header script, then append the payload, a tar compressed with
// gzip, bzip2, xz, zstd or lz4, or a plain tar; the script finds it again by skipping its own
// line count (offset=`head -n $skip "$0" | wc -c`), so the payload starts at a line start.
// Here: a file that starts with "#!" and, in its first maxScriptPrefix bytes, has at the start
// of a line a strong magic number (not a weak zlib or LZMA sign) whose stream decodes (or a tar
// header whose checksum holds, a cpio header in hex) is one; nothing before that line start may
// be a NUL byte (the prefix is a script). The script is searched as the file's own bytes, the
// rest as the stream of containers it is, its members named FILE!@OFFSET!/MEMBER.
const maxScriptPrefix = 256 << 10

// zstdSkippableStart says whether p starts with a zstd skippable frame (magic 0x184D2A50 to
// 0x184D2A5F, little-endian, then a 32-bit length), as pzstd writes before each frame (zstd's
// programs/pzstd, SkippableFrame.h): when the frame that follows it is within p, it must be a
// zstd frame or another skippable one. The frames are read past by the decoder and by
// initrd.ZstdFrames as zstd itself reads past them (lib/decompress/zstd_decompress.c,
// ZSTD_decompressMultiFrame, zstd 1.5).
func zstdSkippableStart(p []byte) bool {
	if len(p) < 8 || p[0]&0xf0 != 0x50 || string(p[1:4]) != "\x2a\x4d\x18" {
		return false
	}
	next := 8 + int64(binary.LittleEndian.Uint32(p[4:]))
	if next+4 > int64(len(p)) {
		return true
	}
	q := p[next:]
	return string(q[:4]) == "\x28\xb5\x2f\xfd" || q[0]&0xf0 == 0x50 && string(q[1:4]) == "\x2a\x4d\x18"
}

// selfExtractorPayload finds the archive after a script: its offset and kind.
func selfExtractorPayload(head []byte, ra io.ReaderAt, size int64) (int64, containerKind, bool) {
	if len(head) < 2 || string(head[:2]) != "#!" || ra == nil {
		return 0, notContainer, false
	}
	buf := head
	if n := min(size, maxScriptPrefix); int64(len(buf)) < n {
		buf = make([]byte, n)
		if got, err := ra.ReadAt(buf, 0); int64(got) < n && err != nil {
			buf = buf[:got]
		}
	}
	for i := 0; i < len(buf); {
		nl := bytes.IndexByte(buf[i:], '\n')
		if nl < 0 {
			break
		}
		if bytes.IndexByte(buf[i:i+nl], 0) >= 0 {
			return 0, notContainer, false // a NUL before the payload: not a script
		}
		at := i + nl + 1
		i = at
		if at >= len(buf) {
			break
		}
		if k := payloadKind(buf[at:], ra, int64(at), size); k != notContainer {
			return int64(at), k, true
		}
	}
	return 0, notContainer, false
}

// payloadKind is the container that starts at p (file offset off), checked: a compressed stream
// whose first bytes decode, a tar header whose checksum holds, a cpio header in hex.
func payloadKind(p []byte, ra io.ReaderAt, off, size int64) containerKind {
	if len(p) < 6 {
		return notContainer
	}
	var k containerKind
	switch {
	case p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08:
		k = gzipStream
	case string(p[:3]) == "BZh" && len(p) >= 10 && p[3] >= '1' && p[3] <= '9' && string(p[4:10]) == "1AY&SY":
		k = bzip2Stream
	case string(p[:6]) == "\xfd7zXZ\x00":
		k = xzStream
	case string(p[:4]) == "\x28\xb5\x2f\xfd" || zstdSkippableStart(p):
		k = zstdStream
	case string(p[:4]) == "\x04\x22\x4d\x18":
		k = lz4Stream
	case len(p) >= 512 && string(p[257:262]) == "ustar":
		if tarChecksumOK(p[:512]) {
			return tarArchive
		}
		return notContainer
	case string(p[:6]) == "070701" || string(p[:6]) == "070702":
		if len(p) >= 110 && allHex(p[6:110]) {
			return cpioArchive
		}
		return notContainer
	default:
		return notContainer
	}
	if probeStream(k, io.NewSectionReader(ra, off, size-off)) {
		return k
	}
	return notContainer
}

// probeStream says whether the stream r starts with decodes to its first bytes.
func probeStream(k containerKind, r io.Reader) bool {
	br := bufio.NewReaderSize(r, 16<<10)
	var dec io.Reader
	switch k {
	case gzipStream:
		z, err := gzip.NewReader(br)
		if err != nil {
			return false
		}
		defer z.Close()
		dec = z
	case bzip2Stream:
		dec = bzip2.NewReader(br)
	case xzStream:
		z, err := xz.ReaderConfig{DictCap: 64 << 20}.NewReader(br)
		if err != nil {
			return false
		}
		dec = z
	case zstdStream:
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return false
		}
		defer z.Close()
		dec = z
	case lz4Stream:
		dec = lz4.NewReader(br)
	default:
		return false
	}
	return probeDecodes(io.LimitReader(dec, 4096))
}

// tarChecksumOK checks a tar header's checksum (the unsigned sum of its bytes, the checksum
// field read as spaces), as GNU tar's and Go's archive/tar readers do.
func tarChecksumOK(h []byte) bool {
	field := bytes.Trim(h[148:156], " \x00")
	if len(field) == 0 {
		return false
	}
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var sum int64
	for i, c := range h[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum == want
}

func allHex(p []byte) bool {
	for _, c := range p {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// openSelfExtractor searches the script as the file's own bytes and opens what follows it as the
// stream of containers it is (a tar.gz; more appended with makeself --append).
func (w *worker) openSelfExtractor(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	head := make([]byte, min(size, sniffBytes))
	if n, err := ra.ReadAt(head, 0); n < len(head) {
		return fmt.Errorf("%s: %w", name, err)
	}
	off, _, ok := selfExtractorPayload(head, ra, size)
	if !ok {
		return fmt.Errorf("%s: no archive found after the script", name)
	}
	if err := w.searchPlain(u, name, off, io.NewSectionReader(ra, 0, off)); err != nil {
		return err
	}
	member := fmt.Sprintf("%s!@%d", name, off)
	br := bufio.NewReaderSize(io.NewSectionReader(ra, off, size-off), 64<<10)
	return w.openStream(u, member, br, depth, 0)
}
