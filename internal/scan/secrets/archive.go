package secrets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/bzip2"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Containers are recognised by their content, wherever a reader would find them: zip (and its
// kin jar, war, ear, whl, apk) by its end-of-central-directory record, so that a zip behind a
// prefix (an executable Spring Boot jar, a self-extracting archive) opens; tar, cpio (newc, crc
// and odc), ar (and so .deb), rpm packages, and gzip, bzip2, xz, zstd and lz4 streams, one after
// another as in an initramfs (an uncompressed microcode cpio, then a compressed cpio); and disk
// or filesystem images stored as files (raw, qcow2, VHD, VHDX, VMDK; ext2/3/4, XFS, FAT, NTFS),
// opened with the checker's own readers; zlib and LZMA-alone streams by a weak sign checked by
// decoding; git packfiles, their objects resolved and named by their ids (archive_gitpack.go).
// Every member that carries bytes is searched as a file
// of its own, whatever its type (a tar contiguous file, a zip entry whose mode says symlink or
// FIFO), named "ARCHIVE!/MEMBER" (nested: "A!/B!/C"). Opening is bounded: nesting depth, member
// count and the bytes unpacked from one top-level file (a zip bomb stops at the limit). What is
// recognised but not opened (an encrypted zip entry, 7z, rar, squashfs, a zisofs file in an ISO,
// a PDF stream in another filter, a limit reached, a corrupt archive) is unseen: End's error names it with its reason, so that the credential rule cannot
// pass on it. A container the package manager installed and that still has its recorded digest
// is skipped like the package's other files.
var (
	maxArchiveDepth          = 3        // an archive in an archive in an archive
	maxArchiveMembers        = 20000    // files listed, over the whole nesting (not a git pack's objects: the budget in bytes bounds those, archive_gitpack.go)
	maxArchiveUnpacked int64 = 1 << 30  // bytes unpacked, over the whole nesting
	maxBufferedMember  int64 = 64 << 20 // a zip or disk image inside a stream is read into memory to be opened
	// maxSniffedMember: a member up to this size is read into memory first, so that what is
	// recognised by its end (a zip's directory, a fixed VHD's footer) is recognised inside
	// archives too
	maxSniffedMember int64 = 8 << 20
)

// sniffBytes is how much of a file's start recognition looks at (an ext superblock ends at 1288).
const sniffBytes = 4096

// containerKind is what a file's bytes say it is.
type containerKind int

const (
	notContainer containerKind = iota
	zipArchive
	tarArchive
	cpioArchive
	arArchive
	rpmPackage
	gzipStream
	bzip2Stream
	xzStream
	zstdStream
	lz4Stream
	zlibStream // a zlib header (RFC 1950): git's loose objects, .zz; a weak sign, checked by decoding (archive_weak.go)
	lzmaStream // LZMA-alone (.lzma, xz --format=lzma); a weak sign, checked by decoding
	// brotliStream: brotli (RFC 7932: a web server's precompressed .br files) has no magic
	// number; a file or member named *.br is taken for it, a weak sign checked by decoding
	brotliStream
	diskImage // qcow2, VHD, VHDX, VMDK: a magic number no other file starts with
	rawDisk   // a partition table or a filesystem's superblock: tried, and searched as bytes if it does not open
	sevenZip  // recognised, not opened
	rarArchive
	squashFS // recognised, not opened: the checker has no squashfs reader
	gitPack  // a git packfile: its objects are searched (archive_gitpack.go)
	// selfExtractor: a shell script with an archive or a compressed stream after it, at a line
	// start (a makeself .run installer): the script is searched as the file, what follows it
	// is opened (archive_makeself.go)
	selfExtractor
	isoImage    // an ISO 9660 image (a NoCloud cidata seed, an installer): its files are searched (archive_iso.go)
	cramFS      // a cramfs image: its files are searched (archive_cramfs.go)
	pdfDocument // a PDF: its Flate streams are inflated and searched (archive_pdf.go)
	journalFile // a systemd journal: its compressed DATA objects are decompressed and searched (archive_journal.go)
	gitBundle   // a git bundle: a text header, then a packfile (archive_gitpack.go)
	ukiImage    // a unified kernel image: its .initrd section is opened (archive_uki.go)
)

func (k containerKind) String() string {
	return [...]string{"", "zip", "tar", "cpio", "ar", "rpm", "gzip", "bzip2", "xz", "zstd", "lz4",
		"zlib", "lzma", "brotli", "disk image", "disk or filesystem image", "7z", "rar", "squashfs", "git packfile",
		"self-extracting script", "ISO 9660 image", "cramfs", "PDF", "systemd journal", "git bundle", "unified kernel image"}[k]
}

func (k containerKind) recognised() bool { return k != notContainer }

// compressed says whether k is a compressed stream.
func (k containerKind) compressed() bool { return k >= gzipStream && k <= brotliStream }

// weak says whether k is recognised by a sign that other bytes may show by chance (a two-byte
// zlib header, an LZMA-alone header): a stream of it that does not decode is searched as the
// bytes it is, after what it did decode.
func (k containerKind) weak() bool { return k == zlibStream || k == lzmaStream || k == brotliStream }

// byName is the container a file or member is taken for by its name alone, when its bytes say
// nothing: brotli, which has no magic number (a .br that does not decode is searched as the
// bytes it is, like any weak sign).
func byName(name string) containerKind {
	if strings.HasSuffix(strings.ToLower(name), ".br") {
		return brotliStream
	}
	return notContainer
}

// sniffHead recognises a container by the magic number at its start (tar by "ustar" at 257).
func sniffHead(p []byte) containerKind {
	has := func(off int, sig string) bool { return len(p) >= off+len(sig) && string(p[off:off+len(sig)]) == sig }
	switch {
	case has(0, "PK\x03\x04") || has(0, "PK\x05\x06"):
		return zipArchive
	case has(0, "\x1f\x8b\x08"):
		return gzipStream
	case has(0, "BZh") && len(p) >= 10 && p[3] >= '1' && p[3] <= '9' &&
		(string(p[4:10]) == "1AY&SY" || string(p[4:10]) == "\x17\x72\x45\x38\x50\x90"):
		return bzip2Stream
	case has(0, "\xfd7zXZ\x00"):
		return xzStream
	case has(0, "\x28\xb5\x2f\xfd") || zstdSkippableStart(p):
		return zstdStream
	case has(0, "\x04\x22\x4d\x18") || has(0, "\x02\x21\x4c\x18"): // lz4 frame, legacy frame (kernel)
		return lz4Stream
	case has(257, "ustar"):
		return tarArchive
	case has(0, "070701") || has(0, "070702") || has(0, "070707"):
		return cpioArchive
	case has(0, "!<arch>\n"):
		return arArchive
	case has(0, "\xed\xab\xee\xdb"):
		return rpmPackage
	case has(0, "QFI\xfb") || has(0, "vhdxfile") || has(0, "KDMV") || has(0, "conectix"):
		return diskImage
	case has(0, "7z\xbc\xaf\x27\x1c"):
		return sevenZip
	case has(0, "Rar!\x1a\x07"):
		return rarArchive
	case has(0, "hsqs") && squashfsSuperblock(p):
		return squashFS
	case has(0, "PACK") && gitPackHeader(p):
		return gitPack
	case gitBundleSignature(p):
		return gitBundle
	case has(0, "LPKSHHRH"):
		return journalFile
	case cramfsSuperblock(p):
		return cramFS
	case pdfHeader(p):
		return pdfDocument
	case has(32769, "CD001"):
		return isoImage
	case zlibHeader(p):
		return zlibStream
	case lzmaHeader(p):
		return lzmaStream
	}
	return notContainer
}

// sniffContainer recognises a container from its first bytes and, when there is random access
// to the whole (ra, size bytes), from its end: a zip's end-of-central-directory record, a fixed
// VHD's footer; and a raw disk or filesystem image by its partition table or superblock.
func sniffContainer(head []byte, ra io.ReaderAt, size int64) containerKind {
	if k := sniffHead(head); k != notContainer {
		return k
	}
	if ra == nil || size < 22 {
		return notContainer
	}
	if len(head) < 32769+5 && isoAt(ra, size) { // (a longer head was looked at by sniffHead)
		return isoImage
	}
	if _, _, ok := selfExtractorPayload(head, ra, size); ok {
		return selfExtractor
	}
	if ukiInitrd(head, ra, size) {
		return ukiImage
	}
	if _, ok := zipLocate(ra, size); ok {
		return zipArchive
	}
	if size >= 1024 {
		tail := make([]byte, 8)
		if n, _ := ra.ReadAt(tail, size-512); n == 8 && string(tail) == "conectix" {
			return diskImage
		}
	}
	if looksLikeVolume(head, size) {
		return rawDisk
	}
	return notContainer
}

// looksLikeVolume: a GPT or MBR partition table with a partition inside the file, or the
// superblock of a filesystem the checker reads (ext2/3/4, XFS, NTFS, FAT).
func looksLikeVolume(b []byte, size int64) bool {
	le := binary.LittleEndian
	if len(b) < 512 {
		return false
	}
	boot := b[510] == 0x55 && b[511] == 0xaa
	switch {
	case boot && len(b) >= 520 && string(b[512:520]) == "EFI PART":
		return true
	case len(b) >= 1024+264 && le.Uint16(b[1024+56:]) == 0xef53:
		logBlock := le.Uint32(b[1024+24:])
		blocks := int64(le.Uint32(b[1024+4:]))
		return logBlock <= 6 && blocks > 0 && blocks<<(10+logBlock) <= size
	case string(b[0:4]) == "XFSB":
		bs := binary.BigEndian.Uint32(b[4:])
		return bs >= 512 && bs <= 65536 && bs&(bs-1) == 0
	case boot && string(b[3:11]) == "NTFS    ":
		return true
	case boot && (string(b[54:59]) == "FAT12" || string(b[54:59]) == "FAT16" || string(b[82:87]) == "FAT32"):
		return true
	case boot:
		// an MBR: a partition entry with a sane boot flag that lies inside the file
		for i := 0; i < 4; i++ {
			e := b[446+i*16:]
			start, count := int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
			if e[4] != 0 && (e[0] == 0 || e[0] == 0x80) && start > 0 && count > 0 && (start+count)*512 <= size {
				return true
			}
		}
	}
	return false
}

// unpacking is the budget of one top-level file, shared by everything nested in it, and what of
// it was not seen.
type unpacking struct {
	top      string
	members  int
	unpacked int64
	missed   []string
	nMissed  int
	// initrd, when set, makes the listing initrd.List would give of the file from this reading
	// of it (initrd_listing.go)
	initrd *initrdObs
	// held are the buffers members are read into, one per level of searchMember calls in
	// progress (level), reused from member to member; md5 digests members
	held  [][]byte
	level int
	md5   hash.Hash
}

var (
	errArchiveLimit = errors.New("archive limit")
	// errNotContainer: what looked like a container (by a weak sign) is not one: its bytes are
	// searched as they are
	errNotContainer = errors.New("not a container")
)

func (u *unpacking) member() error {
	u.members++
	if u.members > maxArchiveMembers {
		return fmt.Errorf("%w: more than %d files in %s", errArchiveLimit, maxArchiveMembers, u.top)
	}
	return nil
}

// miss records a part that was recognised and not seen.
func (u *unpacking) miss(err error) {
	u.nMissed++
	if len(u.missed) < 10 {
		u.missed = append(u.missed, err.Error())
	}
}

// err says what was not seen, nil when everything was.
func (u *unpacking) err() error {
	if u.nMissed == 0 {
		return nil
	}
	msg := strings.Join(u.missed, "; ")
	if u.nMissed > len(u.missed) {
		msg += fmt.Sprintf("; and %d more", u.nMissed-len(u.missed))
	}
	return fmt.Errorf("%d part(s) not seen: %s", u.nMissed, msg)
}

// fatal says whether an error from a member stops the whole top-level file (a limit), not only
// the member.
func fatal(err error) bool { return errors.Is(err, errArchiveLimit) }

// countingReader charges what is read to the budget.
type countingReader struct {
	r io.Reader
	u *unpacking
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.u.unpacked += int64(n)
	if c.u.unpacked > maxArchiveUnpacked {
		return n, fmt.Errorf("%w: more than %d bytes unpacked from %s", errArchiveLimit, maxArchiveUnpacked, c.u.top)
	}
	return n, err
}

// openTop opens a file of the image recognised as a container of kind. When the scanner hands
// on initramfs listings (Options.Initramfs), a file that may be one is listed as it is read.
func (w *worker) openTop(u *unpacking, name string, kind containerKind, ra io.ReaderAt, size int64) error {
	var src io.Reader = io.NewSectionReader(ra, 0, size)
	if w.s.opts.Initramfs != nil && (kind == cpioArchive || kind.compressed()) {
		u.initrd = newInitrdObs(src)
		src = u.initrd.raw
	}
	br := bufio.NewReaderSize(src, 64<<10)
	err := w.open(u, name, kind, ra, size, br, 1, 0)
	if u.initrd != nil && err == nil && u.nMissed == 0 {
		u.initrd.publish(w.s.opts.Initramfs, name, ra, size, u.unpacked)
	}
	return err
}

// open searches the members of the container at name, of kind: ra and size give random access
// when there is any, br streams it from its start. depth is its nesting (1: a file of the
// image), layers the compressed streams it is inside.
func (w *worker) open(u *unpacking, name string, kind containerKind, ra io.ReaderAt, size int64, br *bufio.Reader, depth, layers int) error {
	switch kind {
	case zipArchive, diskImage, rawDisk, selfExtractor, isoImage, pdfDocument, journalFile, cramFS, gitBundle, ukiImage:
		if ra == nil {
			b, err := io.ReadAll(io.LimitReader(br, maxBufferedMember+1))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if int64(len(b)) > maxBufferedMember {
				return fmt.Errorf("%w: %s is a %s inside an archive larger than %d bytes", errArchiveLimit, name, kind, maxBufferedMember)
			}
			ra, size = bytes.NewReader(b), int64(len(b))
		}
		switch kind {
		case zipArchive:
			return w.openZip(u, name, ra, size, depth)
		case selfExtractor:
			return w.openSelfExtractor(u, name, ra, size, depth)
		case isoImage:
			return w.openISO(u, name, ra, size, depth)
		case pdfDocument:
			return w.openPDF(u, name, ra, size, depth)
		case journalFile:
			return w.openJournal(u, name, ra, size, depth)
		case cramFS:
			return w.openCramfs(u, name, ra, size, depth)
		case gitBundle:
			return w.openGitBundle(u, name, ra, size, depth)
		case ukiImage:
			return w.openUKI(u, name, ra, size, depth)
		}
		return w.openDisk(u, name, kind, ra, size, depth)
	case brotliStream:
		// its reader reads what follows the stream and refuses it ("excessive input"): a weak
		// sign's failure, so the caller searches the file's bytes too
		return w.openCompressed(u, name, kind, br, depth, layers)
	case sevenZip, rarArchive:
		return fmt.Errorf("%s: a %s archive, which this checker does not open", name, kind)
	case squashFS:
		return fmt.Errorf("%s: a squashfs image, which this checker does not open", name)
	case gitPack:
		// read as a whole (archive_gitpack.go): a delta's base is read again where it lies
		if ra == nil {
			b, err := io.ReadAll(io.LimitReader(br, maxBufferedMember+1))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if int64(len(b)) > maxBufferedMember {
				// not seen, but not a limit of the whole file: the archive's other members are
				return fmt.Errorf("%s: a git packfile inside an archive, larger than the %d bytes one is read into memory to", name, maxBufferedMember)
			}
			ra, size = bytes.NewReader(b), int64(len(b))
		}
		return w.openGitPack(u, name, ra, size, depth)
	}
	return w.openStream(u, name, br, depth, layers)
}

// openStream searches a stream of containers one after another (an initramfs: a cpio, then a
// compressed cpio), zero padding between them; what follows the last one is searched as data.
func (w *worker) openStream(u *unpacking, name string, br *bufio.Reader, depth, layers int) error {
	obs := u.initrd.at(depth) // the file's own stream: an initramfs listing may be made of it
	for seg := 0; ; seg++ {
		zeros, err := skipZeros(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		head, err := br.Peek(sniffBytes)
		if len(head) == 0 {
			if err == io.EOF {
				obs.streamEnd(layers, zeros)
				return nil
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		kind := sniffHead(head)
		obs.archive(layers, seg, zeros, kind, head)
		switch {
		case kind == tarArchive:
			err = w.openTar(u, name, br, depth)
		case kind == cpioArchive:
			err = w.openCpio(u, name, br, depth)
		case kind == arArchive:
			err = w.openAr(u, name, br, depth)
		case kind == rpmPackage:
			err = w.openRPM(u, name, br, depth)
		case kind.compressed():
			err = w.openCompressed(u, name, kind, br, depth, layers+1)
		case kind.recognised():
			return w.open(u, name, kind, nil, 0, br, depth, layers)
		default:
			// data after the containers (or, in a decompressed stream, instead of one): a file
			member := fmt.Sprintf("%s!/<data after %d container(s)>", name, seg)
			if err := u.member(); err != nil {
				return err
			}
			return w.searchPlain(u, member, -1, br)
		}
		if err != nil {
			return err
		}
	}
}

// skipZeros discards the zero bytes at the reader's position, and says how many.
func skipZeros(br *bufio.Reader) (int64, error) {
	var n int64
	for {
		b, err := br.Peek(4096)
		i := 0
		for i < len(b) && b[i] == 0 {
			i++
		}
		br.Discard(i)
		n += int64(i)
		if i < len(b) || err == io.EOF || err == bufio.ErrBufferFull && i == 0 {
			return n, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return n, err
		}
	}
}

// openCompressed searches a compressed stream: an archive inside (its members named under
// name), or one file named after the stream. A gzip stream ends where its last member ends,
// so that what follows is read as the next container.
func (w *worker) openCompressed(u *unpacking, name string, kind containerKind, br *bufio.Reader, depth, layers int) (err error) {
	if layers > maxArchiveDepth {
		return fmt.Errorf("%w: %s is compressed more than %d times over", errArchiveLimit, name, maxArchiveDepth)
	}
	src := &consumed{br: br}
	var bz *bzip2Framing // the bzip2 streams' framing, for the initramfs listing
	switch kind {
	case zstdStream, xzStream, bzip2Stream, lz4Stream:
		// the zstd, xz, bzip2 and lz4 (legacy) decoders take what follows their stream for
		// more of it: they are given the stream only, and what follows is the next container
		// (initrd.ZstdFrames, initrd.XZStreams, initrd.Bzip2Stream, initrd.LZ4Legacy). An
		// LZMA-alone decoder reads src a byte at a time (an io.ByteReader) and stops at its end
		var ends *bufio.Reader
		ends, bz = streamOnly(kind, br)
		src = &consumed{br: ends}
	}
	dec, closeFn, err := decompressor(kind, src)
	if err != nil {
		if kind.weak() {
			return fmt.Errorf("%w: %s: %s: %v", errNotContainer, name, kind, err)
		}
		return fmt.Errorf("%s: %s: %w", name, kind, err)
	}
	defer closeFn()
	var broken *brokenStream
	if kind.weak() {
		// what decodes is searched; where it stops decoding, the stream's bytes are searched as
		// they are (errNotContainer)
		broken = &brokenStream{r: dec}
		dec = broken
	}
	if g, ok := dec.(*gzipMembers); ok {
		defer func() {
			if err == nil || !fatal(err) {
				err = errors.Join(err, w.searchGzipHeaders(u, name, g))
			}
		}()
	}
	obs := u.initrd.at(depth).compressed(layers, dec, bz)
	dbr := bufio.NewReaderSize(countingReader{dec, u}, 64<<10)
	head, err := dbr.Peek(sniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %s: %w", name, kind, err)
	}
	k := sniffHead(head)
	if k == tarArchive || k == cpioArchive || k == arArchive || k == rpmPackage || k.compressed() {
		err = w.openStream(u, name, dbr, depth, layers)
	} else if err = u.member(); err == nil {
		inner := path.Base(name)
		if i := strings.LastIndexByte(inner, '.'); i > 0 {
			inner = inner[:i]
		}
		inner = strings.TrimSuffix(inner, ".tar")
		err = w.searchMember(u, name+"!/"+inner, -1, dbr, nil, depth)
	}
	if err == nil && broken != nil && broken.err != nil {
		return fmt.Errorf("%w: %s: %s stream: %v", errNotContainer, name, kind, broken.err)
	}
	if err == nil && src.n == 0 {
		// a decoder that read nothing would find the same stream again: never loop on it
		return fmt.Errorf("%s: %s stream: nothing could be read", name, kind)
	}
	if err == nil {
		obs.compressedEnd(k)
	}
	return err
}

// consumed counts the bytes a decoder takes from the stream; it is an io.ByteReader, so that
// gzip and bzip2 take no byte past their stream's end. gzip takes br itself (flate decodes a
// *bufio.Reader without a call through an interface per byte): the header it reads, and
// gzipMembers, count for it.
type consumed struct {
	br *bufio.Reader
	n  int64
}

func (c *consumed) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *consumed) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func decompressor(kind containerKind, br *consumed) (io.Reader, func(), error) {
	switch kind {
	case gzipStream:
		z, err := gzip.NewReader(br.br)
		if err != nil {
			return nil, nil, err
		}
		br.n += 10 // a gzip header is at least 10 bytes: the stream moved on
		z.Multistream(false)
		return &gzipMembers{z: z, br: br.br, first: -1}, func() { z.Close() }, nil
	case bzip2Stream:
		return bzip2.NewReader(br), func() {}, nil
	case xzStream:
		z, err := xz.ReaderConfig{DictCap: 64 << 20, SingleStream: false}.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	case zstdStream:
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case lz4Stream:
		return lz4.NewReader(br), func() {}, nil
	case zlibStream:
		z, err := zlib.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case lzmaStream:
		head, _ := br.br.Peek(14)
		z, err := newLZMAReader(br, head)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	case brotliStream:
		return brotli.NewReader(br), func() {}, nil
	}
	return nil, nil, fmt.Errorf("not a compressed stream")
}

// gzipMembers reads the members of a gzip stream that follow one another (as gunzip does), and
// stops where the last ends: br is then at what follows. n counts the bytes it gave, first
// those of the first member (-1 until it ended).
type gzipMembers struct {
	z     *gzip.Reader
	br    *bufio.Reader
	n     int64
	first int64
	// headers is what the members' headers carry (FEXTRA, FNAME, FCOMMENT), searched when the
	// stream ends (archive_gzhdr.go); seen says the current member's header is in it
	headers gzipHeaderText
	seen    bool
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	if !g.seen {
		g.seen = true
		g.headers.add(g.z.Header)
	}
	for {
		n, err := g.z.Read(p)
		g.n += int64(n)
		if err != io.EOF {
			return n, err
		}
		if g.first < 0 {
			g.first = g.n
		}
		if head, _ := g.br.Peek(3); !bytes.Equal(head, []byte{0x1f, 0x8b, 0x08}) {
			return n, io.EOF
		}
		if err := g.z.Reset(g.br); err != nil {
			return n, err
		}
		g.headers.add(g.z.Header)
		g.z.Multistream(false)
		if n > 0 {
			return n, nil
		}
	}
}

// memberPath names a member of an archive: ARCHIVE!/MEMBER, the member's name cleaned (no
// leading "/", no "..": an archive's names are only labels here, never paths on a disk).
func memberPath(archive, member string) string {
	return archive + "!/" + strings.TrimPrefix(path.Clean("/"+member), "/")
}

// member searches one member of a container (size -1: unknown) from r, which it reads to its
// end; what it could not see is recorded in u, and only what stops the whole file is returned.
func (w *worker) member(u *unpacking, name string, size int64, r io.Reader, ra io.ReaderAt, depth int) error {
	if err := u.member(); err != nil {
		return err
	}
	err := w.searchMember(u, name, size, r, ra, depth)
	if err != nil && !fatal(err) {
		u.miss(err)
		err = nil
	}
	if err == nil {
		// what the search did not read (a member its sink did not want) is read past
		_, err = io.Copy(io.Discard, r)
		if err != nil && !fatal(err) {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	return err
}

// searchMember searches one file of a container as a file of its own (size -1: unknown). A
// member that is itself a container is opened in turn.
func (w *worker) searchMember(u *unpacking, name string, size int64, r io.Reader, ra io.ReaderAt, depth int) error {
	var held []byte // the member's bytes, when they are all here
	if ra == nil && size <= maxSniffedMember {
		// small enough to hold: what is recognised by its end is recognised here too. The
		// buffer is this level's (a member of this member is read into the next level's),
		// reused by the next member at this level
		if u.level >= len(u.held) {
			u.held = append(u.held, nil)
		}
		lvl := u.level
		u.level++
		defer func() { u.level-- }()
		b, err := readHeld(u.held[lvl][:0], r, size, maxSniffedMember+1)
		u.held[lvl] = b[:0]
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if int64(len(b)) <= maxSniffedMember {
			held = b
			ra, size, r = bytes.NewReader(b), int64(len(b)), bytes.NewReader(b)
		} else {
			r = io.MultiReader(bytes.NewReader(b), r)
		}
	}
	want := w.vendorDigest(name)
	if want != "" && ra != nil {
		// a member that is byte for byte a file the package manager installed unchanged (a
		// package in apt's cache, a copy in an initramfs) is the distribution's: not searched,
		// not opened
		if u.md5 == nil {
			u.md5 = md5.New()
		}
		u.md5.Reset()
		var err error
		if held != nil {
			u.md5.Write(held)
		} else {
			_, err = io.Copy(u.md5, io.NewSectionReader(ra, 0, size))
		}
		var sum [md5.Size]byte
		if err == nil && hex.EncodeToString(u.md5.Sum(sum[:0])) == want {
			w.s.count(&w.s.vendor)
			return nil
		}
		want = "" // changed: its digest is known not to match, it is not computed again
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %w", name, err)
	}
	kind := sniffContainer(head, ra, size)
	if !kind.recognised() {
		kind = byName(name)
	}
	if ra == nil && !kind.recognised() && size > maxSniffedMember && size <= maxBufferedMember {
		// too large to be held as a member is, not too large to be read into memory as a zip
		// in a stream is: what is recognised by its end or past its first bytes (a zip after a
		// launch script, as an executable Spring Boot jar is; a makeself installer; an ISO) is
		// recognised here too
		b, err := io.ReadAll(io.LimitReader(br, size))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		ra, size = bytes.NewReader(b), int64(len(b))
		br = bufio.NewReaderSize(bytes.NewReader(b), 64<<10)
		head = b[:min(len(b), sniffBytes)] // (the peeked head was the old reader's buffer, since refilled)
		if kind = sniffContainer(head, ra, size); !kind.recognised() {
			kind = byName(name)
		}
	}
	if ra == nil && !kind.recognised() && size > maxBufferedMember && looksLikeVolume(head, size) {
		// a filesystem image too large to read into memory (issue #24, M15; one within the
		// bound was read above and opened): not seen
		return fmt.Errorf("%s: a disk or filesystem image of %d bytes, over the size limit for a nested filesystem image (%d bytes)", name, size, maxBufferedMember)
	}
	if kind == rawDisk && ra == nil {
		kind = notContainer // too large to hold: its bytes are searched
	}
	if !kind.recognised() && ra == nil && size > maxBufferedMember {
		// too large to read into memory: searched as the bytes it is, and its end looked at, so
		// that a zip found only by its end record (a fat jar after a launch script) is named
		// as not opened rather than passed over
		tail := &tailReader{r: br}
		if err := w.searchBytes(u, name, size, bufio.NewReaderSize(tail, 64<<10), want); err != nil {
			return err
		}
		if zipEndAtTail(tail.tail()) {
			return fmt.Errorf("%w: %s is a zip (found by its end record) inside an archive, larger than the %d bytes one is read into memory to be opened: its entries were searched only as the bytes they are stored as",
				errArchiveLimit, name, maxBufferedMember)
		}
		return nil
	}
	if !kind.recognised() {
		return w.searchBytes(u, name, size, br, want)
	}
	if depth+1 > maxArchiveDepth {
		return fmt.Errorf("%s: nested more than %d archives deep", name, maxArchiveDepth)
	}
	err = w.open(u, name, kind, ra, size, br, depth+1, 0)
	if errors.Is(err, errNotContainer) {
		if ra == nil {
			// a weak sign that did not decode, in a member too large to read again
			return fmt.Errorf("%s: %v, and the member is too large to search again as bytes", name, err)
		}
		return w.searchBytes(u, name, size, io.NewSectionReader(ra, 0, size), want)
	}
	return err
}

// tailReader passes r on and keeps the last zipTailBytes bytes read.
type tailReader struct {
	r   io.Reader
	buf []byte
}

// zipTailBytes holds a zip's end-of-central-directory record with the longest comment.
const zipTailBytes = 22 + 0xffff

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if len(t.buf) > 4*zipTailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-zipTailBytes:]...)
	}
	return n, err
}

func (t *tailReader) tail() []byte { return t.buf[max(0, len(t.buf)-zipTailBytes):] }

// zipEndAtTail says whether b, the end of a file, ends with a zip's end-of-central-directory
// record: its signature, at the place its comment length puts it.
func zipEndAtTail(b []byte) bool {
	for i := len(b) - 22; i >= 0; i-- {
		if b[i] == 'P' && string(b[i:i+4]) == "PK\x05\x06" && i+22+int(binary.LittleEndian.Uint16(b[i+20:])) == len(b) {
			return true
		}
	}
	return false
}

// readHeld reads r to its end into buf (its capacity reused), at most limit bytes: what
// io.ReadAll(io.LimitReader(r, limit)) reads, grown once to size when size is known.
func readHeld(buf []byte, r io.Reader, size, limit int64) ([]byte, error) {
	if want := min(max(size, 512)+1, limit); int64(cap(buf)) < want {
		buf = make([]byte, 0, want)
	}
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow (append's own policy)
		}
		room := buf[len(buf):min(int64(cap(buf)), limit)]
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// vendorDigest is the digest the package manager recorded for the file a container member's
// name says it is ("" for none): a member with that digest is byte for byte the distribution's
// file (a package in apt's cache, a library copied into an initramfs), skipped as the file is.
// Only the digest is matched on a member's name, never the allow paths: a backup's
// "usr/share/doc/x" is not the documentation.
func (w *worker) vendorDigest(name string) string {
	i := strings.LastIndex(name, "!/")
	if i < 0 {
		return ""
	}
	return w.s.opts.Vendor["/"+strings.TrimPrefix(path.Clean("/"+name[i+2:]), "/")]
}

// searchPlain searches bytes as one file, never as a container.
func (w *worker) searchPlain(u *unpacking, name string, size int64, r io.Reader) error {
	return w.searchBytes(u, name, size, r, w.vendorDigest(name))
}

// searchBytes is searchPlain with the digest a member must have to be the distribution's
// ("" when there is none, or when it is known not to match).
func (w *worker) searchBytes(u *unpacking, name string, size int64, r io.Reader, want string) error {
	s, err := w.Begin(&scan.File{Path: name, Size: size})
	if err != nil || s == nil {
		return err
	}
	k := s.(*sink)
	k.sniff = false
	if want != "" && k.vendorMD5 == "" {
		if w.md5 == nil {
			w.md5 = md5.New()
		}
		w.md5.Reset()
		k.vendorMD5, k.digest = want, w.md5
		k.holding = true
	}
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	for {
		n, rerr := io.ReadFull(r, w.buf)
		if n > 0 {
			if werr := k.Write(w.buf[:n]); werr != nil {
				k.End()
				return werr
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			k.End()
			if fatal(rerr) {
				return rerr
			}
			return fmt.Errorf("%s: %w", name, rerr)
		}
	}
	return k.End()
}

// openTar searches every tar member that carries bytes, whatever its type flag.
func (w *worker) openTar(u *unpacking, name string, br *bufio.Reader, depth int) error {
	tr := tar.NewReader(br)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := w.searchPAX(u, name, h); err != nil {
			return err
		}
		if h.Size <= 0 || h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := w.member(u, memberPath(name, h.Name), h.Size, countingReader{tr, u}, nil, depth); err != nil {
			return err
		}
	}
}

// openZip searches every zip entry that carries bytes, whatever its mode; the bytes before the
// archive (a launcher script, a self-extractor) are searched as the file's own.
func (w *worker) openZip(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	loc, ok := zipLocate(ra, size)
	if !ok {
		return fmt.Errorf("%s: zip: no valid end of central directory", name)
	}
	// zip.NewReader reads the whole central directory first: its entry count is checked
	// against the limit before that
	if u.members+int(min(loc.entries, 1<<31)) > maxArchiveMembers {
		return fmt.Errorf("%w: %s lists %d files (at most %d are opened)", errArchiveLimit, name, loc.entries, maxArchiveMembers)
	}
	// the zip is read where its directory says it starts (loc.base): archive/zip computes the
	// prefix from the end record alone, which is wrong by the zip64 records' 76 bytes when a
	// zip written to a pipe (zip64 end records beside an end record whose values fit) follows
	// a prefix, and it looks for the zip64 record at the locator's offset, which counts from
	// the zip's start (archive/zip readDirectoryEnd, go1.26)
	zr, err := zip.NewReader(io.NewSectionReader(ra, loc.base, size-loc.base), size-loc.base)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	zr.RegisterDecompressor(12, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	zr.RegisterDecompressor(93, func(r io.Reader) io.ReadCloser {
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return z.IOReadCloser()
	})
	zr.RegisterDecompressor(95, func(r io.Reader) io.ReadCloser {
		z, err := xz.ReaderConfig{DictCap: 64 << 20}.NewReader(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return io.NopCloser(z)
	})
	if err := w.searchZipRest(u, name, zr, loc.base, ra, size); err != nil {
		return err
	}
	zipOrphansAt(u, name, zr, loc.base, ra, size)
	if zr.Comment != "" {
		if err := w.searchField(u, name+" [zip comment]", zr.Comment+"\n"); err != nil {
			return err
		}
	}
	for _, f := range zr.File {
		mp := memberPath(name, f.Name)
		// an entry's comment and extra field, each by itself (their bytes were searched with
		// the directory's, run into what the format puts next to them)
		if f.Comment != "" {
			if err := w.searchField(u, mp+" [zip comment]", f.Comment+"\n"); err != nil {
				return err
			}
		}
		if holdsText(f.Extra) {
			if err := w.searchField(u, mp+" [zip extra field]", string(f.Extra)+"\n"); err != nil {
				return err
			}
		}
		if f.UncompressedSize64 == 0 && f.CompressedSize64 == 0 {
			continue // a directory, an empty file
		}
		if f.Flags&0x1 != 0 {
			u.miss(fmt.Errorf("%s: encrypted, not opened", mp))
			continue
		}
		rc, err := f.Open()
		if err != nil {
			u.miss(fmt.Errorf("%s: %w", mp, err))
			continue
		}
		err = w.member(u, mp, int64(min(f.UncompressedSize64, 1<<62)), countingReader{rc, u}, nil, depth)
		rc.Close()
		if err != nil {
			if fatal(err) {
				return err
			}
			u.miss(err)
		}
	}
	return nil
}

// searchZipRest searches the bytes of a zip that no entry's data covers, as the file's own: what
// comes before the archive (a launcher script, a self-extractor), the local headers (names,
// extra fields), gaps between entries, the central directory and the archive's comment. zr
// reads the zip from base (its offsets count from there).
func (w *worker) searchZipRest(u *unpacking, name string, zr *zip.Reader, base int64, ra io.ReaderAt, size int64) error {
	type span struct{ from, to int64 }
	var data []span
	for _, f := range zr.File {
		off, err := f.DataOffset()
		off += base
		if err != nil || off < base || off > size {
			continue // the entry's error is reported when it is opened
		}
		data = append(data, span{off, min(size, off+int64(min(f.CompressedSize64, 1<<62)))})
	}
	slices.SortFunc(data, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var rest []io.Reader
	var n, at int64
	for _, d := range append(data, span{size, size}) {
		if d.from > at {
			rest = append(rest, io.NewSectionReader(ra, at, d.from-at))
			n += d.from - at
		}
		at = max(at, d.to)
	}
	if n == 0 {
		return nil
	}
	return w.searchPlain(u, name, n, io.MultiReader(rest...))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// zipLocation is where a zip's end-of-central-directory record says the archive is.
type zipLocation struct {
	base    int64 // bytes before the archive
	entries uint64
}

// zipLocate finds a zip by its end-of-central-directory record (or its zip64 record when the
// values do not fit): the record is within the last 64 KiB of the file, its central directory
// lies before it and starts with a central directory header. The zip may follow other bytes.
func zipLocate(ra io.ReaderAt, size int64) (zipLocation, bool) {
	const eocdLen, maxComment = 22, 65535
	n := min(size, eocdLen+maxComment)
	if n < eocdLen {
		return zipLocation{}, false
	}
	buf := make([]byte, n)
	if got, err := ra.ReadAt(buf, size-n); int64(got) < n && err != nil {
		return zipLocation{}, false
	}
	le := binary.LittleEndian
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if buf[i] != 'P' || string(buf[i:i+4]) != "PK\x05\x06" {
			continue
		}
		rec := buf[i:]
		if int(le.Uint16(rec[20:]))+eocdLen > len(rec) {
			continue // the comment runs past the end
		}
		at := size - n + int64(i)
		entries := uint64(le.Uint16(rec[10:]))
		cdSize, cdOff := int64(le.Uint32(rec[12:])), int64(le.Uint32(rec[16:]))
		end := at // where the central directory (or the zip64 records) end
		// zip64: a locator just before the record points at the zip64 record, which follows
		// the central directory. A writer that does not know the sizes beforehand (zip 3.0 to
		// a pipe) writes them even when the values fit the record's fields: the directory then
		// ends at the zip64 record, not at this record (APPNOTE 6.3, 4.3.14-4.3.15).
		z64, z64Off := zip64End(ra, buf, i, at)
		if entries == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
			if z64 == nil {
				continue
			}
			entries, cdSize, cdOff = le.Uint64(z64[32:]), int64(le.Uint64(z64[40:])), int64(le.Uint64(z64[48:]))
		}
		if z64 != nil {
			end = z64Off
		}
		if cdSize < 0 || cdOff < 0 || cdSize > end || cdOff > end-cdSize {
			continue
		}
		base := end - cdSize - cdOff
		if entries == 0 {
			if cdSize != 0 {
				continue
			}
			return zipLocation{base: base}, true
		}
		sig := make([]byte, 4)
		if got, _ := ra.ReadAt(sig, base+cdOff); got < 4 || string(sig) != "PK\x01\x02" {
			continue
		}
		return zipLocation{base: base, entries: entries}, true
	}
	return zipLocation{}, false
}

// zip64End is the zip64 end-of-central-directory record (56 bytes) that the locator just before
// the end record (at buf[i], file offset at) points at, and its offset; nil when there is none.
func zip64End(ra io.ReaderAt, buf []byte, i int, at int64) ([]byte, int64) {
	if at < 20+56 {
		return nil, 0
	}
	loc := make([]byte, 20)
	if i >= 20 {
		copy(loc, buf[i-20:i])
	} else if got, _ := ra.ReadAt(loc, at-20); got < 20 {
		return nil, 0
	}
	if string(loc[:4]) != "PK\x06\x07" {
		return nil, 0
	}
	le := binary.LittleEndian
	off := int64(le.Uint64(loc[8:]))
	if off < 0 || off > at-20-56 {
		return nil, 0
	}
	// the locator's offset counts from the zip's start, not the file's: behind a prefix (a
	// zip written to a pipe after a launcher script) the record lies later by the prefix. It
	// ends where the locator begins when it has no extensible data (its size field, which
	// counts the bytes after the field, is then 44: APPNOTE 6.3.6, 4.3.14), so it is looked for
	// there first, then at the offset itself (a record with extensible data, no prefix)
	z := make([]byte, 56)
	if phys := at - 20 - 56; phys > off {
		if got, _ := ra.ReadAt(z, phys); got == 56 && string(z[:4]) == "PK\x06\x06" && le.Uint64(z[4:]) == 44 {
			return z, phys
		}
	}
	if got, _ := ra.ReadAt(z, off); got < 56 || string(z[:4]) != "PK\x06\x06" {
		return nil, 0
	}
	return z, off
}
