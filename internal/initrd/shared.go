package initrd

import (
	"crypto/sha256"
	"fmt"
	"io"
	"sync/atomic"
)

// Listing is what List returns for one initramfs.
type Listing struct {
	Names, Formats []string
	Err            error
}

// decompressed counts the compressed archives List has opened, for the tests and benchmarks
// that prove an initramfs is decompressed once per check.
var decompressed atomic.Int64

// Decompressed is how many compressed archives List has decompressed since the process began.
func Decompressed() int64 { return decompressed.Load() }

// SharedKey is the key of the image's memo (inspect.Image.Memo) under which the content pass
// leaves the *Shared listing of the initramfs it read at path (the file's in-image path, as a
// user of the running system finds it).
func SharedKey(path string) string { return "initrd listing made by the content pass: " + path }

// Shared is a listing that another reader of an initramfs made while it read the file whole
// (the credential scan, which decompresses every cpio stream to search its members), with the
// size and SHA-256 of the bytes it was made from. It stands for List's result on a file only
// when that file has these bytes, so that an initramfs is decompressed once per check.
type Shared struct {
	Listing
	Size   int64
	SHA256 [sha256.Size]byte
}

// List returns the listing of the initramfs that open opens: s's, when the file has the bytes
// s was made from (same size and SHA-256, which costs a read of the compressed file, not its
// decompression), else List's. s may be nil: List's. An error of open is the listing's error.
func (s *Shared) List(open func() (io.ReadCloser, error)) Listing {
	if s != nil {
		f, err := open()
		if err != nil {
			return Listing{Err: err}
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, 1<<20))
		f.Close()
		if err == nil && n == s.Size && [sha256.Size]byte(h.Sum(nil)) == s.SHA256 {
			return s.Listing
		}
		// another file, or it could not be read whole: List gives the facts (and the error)
	}
	f, err := open()
	if err != nil {
		return Listing{Err: err}
	}
	defer f.Close()
	names, formats, err := List(f)
	return Listing{Names: names, Formats: formats, Err: err}
}

// A Builder makes, from another parser's reading of an initramfs (the credential scan's, which
// also reads what List does not: odc archives, tar, data after the archives), the listing List
// gives, or says that it cannot. The other parser tells it what it reads, in order: the zero
// padding before each archive at the top of the file (Padding), each archive there with its
// compression (Archive), the header of each entry of the cpio archive List lists in it (Entry:
// only the first archive of a compressed stream), the bytes List would count as unpacked
// (Unpacked), and where List would stop with success (End). Whatever List would not accept
// (or might not: an odc header, a name or a padding over List's limits, a negative size, more
// archives or entries than List reads, an archive List does not recognise) is told with Fail,
// and the Builder then has no listing: the caller runs List, which gives the facts and the
// error. A Builder is for successful listings only; List's errors are List's to make.
type Builder struct {
	names, formats []string
	unpacked       int64
	failed         string
	ended          bool
}

// Fail says that List might not give what this reading gives; the Builder has no listing.
func (b *Builder) Fail(format string, a ...any) {
	if b.failed == "" {
		b.failed = fmt.Sprintf(format, a...)
	}
}

// Failed is why the Builder has no listing, "" while it may have one.
func (b *Builder) Failed() string { return b.failed }

// Padding is the zero bytes before the next archive, or before the end of the file.
func (b *Builder) Padding(n int64) {
	if n >= maxPaddingBytes {
		b.Fail("%d zero bytes between archives", n)
	}
}

// Archive is the next archive at the top of the file, with its compression as List names it
// ("none", "gzip", "bzip2", "lzma", "xz", "zstd", "lz4"); any other is a Fail.
func (b *Builder) Archive(format string) {
	switch format {
	case "none", "gzip", "bzip2", "lzma", "xz", "zstd", "lz4":
	default:
		b.Fail("a %s archive, which List does not read", format)
		return
	}
	if b.ended {
		b.Fail("an archive after the end")
	}
	if len(b.formats) >= maxSegments {
		b.Fail("more than %d archives", maxSegments)
	}
	b.formats = append(b.formats, format)
}

// Entry is the header of the next entry of a cpio archive that List lists: its magic number,
// its name as stored (NULs trimmed), the name's length field (with its NUL) and its data size.
// The trailer (TRAILER!!!) is told too, and ends the archive.
func (b *Builder) Entry(magic, name string, nameLen, size int64) {
	switch {
	case len(b.formats) == 0:
		b.Fail("an entry outside an archive")
	case magic != "070701" && magic != "070702":
		b.Fail("a cpio header with magic %q", magic)
	case nameLen <= 0 || nameLen > MaxNameLen:
		b.Fail("cpio name length %d", nameLen)
	case size < 0:
		b.Fail("negative file size")
	case name == "TRAILER!!!":
	case len(b.names) >= MaxEntries:
		b.Fail("more than %d entries", MaxEntries)
	default:
		b.names = append(b.names, trimName(name))
	}
}

// Unpacked counts bytes List would count against MaxUnpacked (a bound of them does too).
func (b *Builder) Unpacked(n int64) {
	b.unpacked += n
	if b.unpacked >= MaxUnpacked {
		b.Fail("more than %d bytes unpacked", int64(MaxUnpacked))
	}
}

// End says that List would stop here, with success: at the end of the file (List goes on after
// a compressed archive as after an uncompressed one).
func (b *Builder) End() { b.ended = true }

// Listing is List's result for the file, when the reading was told in full (End) and nothing
// in it could make List differ (no Fail).
func (b *Builder) Listing() (Listing, bool) {
	if b.failed != "" || !b.ended {
		return Listing{}, false
	}
	return Listing{Names: b.names, Formats: b.formats}, true
}
