package initrd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// Issue #24 (FE2 1): a bzip2, lzma or lz4 (legacy) segment followed by more segments, as the
// kernel reads them: each decoder stops at its stream's end, the zero padding after it is
// skipped and the next segments (a gzip cpio, an uncompressed cpio) are listed. lz4's legacy
// format has no end mark: the kernel ends it at a zero block size (grub and dracut pad with
// zeros) or the end of the input.
func TestListSegmentsAfterBzip2LZMALZ4(t *testing.T) {
	early := archive(t, []string{"kernel/x86/microcode/GenuineIntel.bin"})
	gz := archive(t, []string{"etc/second.conf"}, "gzip", "-n", "-c")
	last := archive(t, []string{"etc/aws-credentials"})
	for _, tc := range []struct {
		name    string
		main    []byte
		pad     int
		formats []string
	}{
		{"bzip2", archive(t, modules, "bzip2", "-c"), 0, []string{"none", "bzip2", "gzip", "none"}},
		{"bzip2 -1, padding", archive(t, modules, "bzip2", "-1", "-c"), 3, []string{"none", "bzip2", "gzip", "none"}},
		{"lzma", archive(t, modules, "lzma", "-c"), 0, []string{"none", "lzma", "gzip", "none"}},
		{"lzma -9, padding", archive(t, modules, "lzma", "-9", "-c"), 8, []string{"none", "lzma", "gzip", "none"}},
		{"lz4 legacy, padding", archive(t, modules, "lz4", "-l", "-q", "-c"), 4, []string{"none", "lz4", "gzip", "none"}},
		{"lz4 legacy -9, long padding", archive(t, modules, "lz4", "-l", "-9", "-q", "-c"), 512, []string{"none", "lz4", "gzip", "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := cat(early, tc.main, make([]byte, tc.pad), gz, last)
			names, formats, err := List(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range append(slices.Clone(modules), "etc/second.conf", "etc/aws-credentials") {
				if !slices.Contains(names, m) {
					t.Errorf("%s not listed: %v", m, names)
				}
			}
			if !slices.Equal(formats, tc.formats) {
				t.Errorf("formats %v, want %v", formats, tc.formats)
			}
		})
	}
	// two bzip2 streams one after the other are two segments to the kernel
	two := cat(archive(t, modules, "bzip2", "-c"), archive(t, []string{"etc/x"}, "bzip2", "-c"))
	if names, formats, err := List(bytes.NewReader(two)); err != nil || !slices.Contains(names, "etc/x") || !slices.Equal(formats, []string{"bzip2", "bzip2"}) {
		t.Errorf("two bzip2 streams: %q %v %v", names, formats, err)
	}
}

// An lz4 legacy segment followed, without zero padding, by another segment: the kernel reads
// the next segment's magic as a block size and fails on a block that does not decode; List
// fails too (the segment is not listed as if the kernel had unpacked it), with an error naming
// the lz4 segment.
func TestListLZ4LegacyWithoutPadding(t *testing.T) {
	data := cat(archive(t, modules, "lz4", "-l", "-q", "-c"), archive(t, []string{"etc/second.conf"}, "gzip", "-n", "-c"))
	_, _, err := List(bytes.NewReader(data))
	var e *Error
	if !errors.As(err, &e) || e.Segment != 0 {
		t.Fatalf("err %v, want an *Error in segment 0", err)
	}
}

// Bzip2Stream gives exactly the stream's bytes, whatever the reads' sizes, leaves the reader at
// the next byte, and ends at each stream unless Multi. A stream cut short is an error saying
// that the end-of-stream marker is missing.
func TestBzip2StreamEndsAtItsMarker(t *testing.T) {
	for _, level := range []string{"-1", "-9"} {
		a := archive(t, modules, "bzip2", level, "-c")
		b := archive(t, []string{"etc/x"}, "bzip2", "-c")
		for _, after := range []string{"\x1f\x8b\x08rest", "070701", "\x00\x00\x00\x00", ""} {
			br := newBR(cat(a, []byte(after)))
			z := NewBzip2Stream(br)
			var got bytes.Buffer
			if _, err := got.ReadFrom(z); err != nil {
				t.Fatalf("%s, after %q: %v", level, after, err)
			}
			if !bytes.Equal(got.Bytes(), a) || z.N != int64(len(a)) || z.Streams != 1 {
				t.Fatalf("%s, after %q: gave %d bytes (%d streams), the stream is %d", level, after, got.Len(), z.Streams, len(a))
			}
			rest := make([]byte, 64)
			n, _ := br.Read(rest)
			if string(rest[:n]) != after {
				t.Fatalf("the reader is at %q, want %q", rest[:n], after)
			}
		}
		// Multi reads on into the next stream, and ends after it
		br := newBR(cat(a, b, []byte("070701")))
		z := NewBzip2Stream(br)
		z.Multi = true
		var got bytes.Buffer
		if _, err := got.ReadFrom(z); err != nil || !bytes.Equal(got.Bytes(), cat(a, b)) || z.Streams != 2 {
			t.Fatalf("multi: %v, gave %d bytes in %d streams, want %d in 2", err, got.Len(), z.Streams, len(a)+len(b))
		}
		// without Multi, the first only
		z = NewBzip2Stream(newBR(cat(a, b)))
		got.Reset()
		if _, err := got.ReadFrom(z); err != nil || !bytes.Equal(got.Bytes(), a) {
			t.Fatalf("single: %v, gave %d bytes, want %d", err, got.Len(), len(a))
		}
		// cut short: no marker
		got.Reset()
		if _, err := got.ReadFrom(NewBzip2Stream(newBR(a[:len(a)-6]))); err == nil || !strings.Contains(err.Error(), "end-of-stream marker") {
			t.Fatalf("cut short: err %v", err)
		}
	}
	// the smallest stream: a header and the end-of-stream marker at bit 32 (an empty input)
	empty := []byte("BZh9\x17\x72\x45\x38\x50\x90\x00\x00\x00\x00")
	br := newBR(cat(empty, []byte("X")))
	var got bytes.Buffer
	if _, err := got.ReadFrom(NewBzip2Stream(br)); err != nil || got.Len() != len(empty) {
		t.Fatalf("empty stream: %v, gave %d bytes, want %d", err, got.Len(), len(empty))
	}
	if _, err := got.ReadFrom(NewBzip2Stream(newBR([]byte("BZh9garbage!")))); err == nil {
		t.Fatal("a stream with no block magic was read")
	}
}

// LZ4Legacy gives the magic and the blocks, skips a repeated magic as the kernel does, and
// ends at a zero size or the end of the input; a block over the format's bound, a block cut
// short and a missing magic are errors.
func TestLZ4LegacyFraming(t *testing.T) {
	a := archive(t, modules, "lz4", "-l", "-q", "-c")
	b := archive(t, []string{"etc/x"}, "lz4", "-l", "-q", "-c")
	for name, c := range map[string]struct {
		in, want []byte
		rest     string
	}{
		"alone":              {a, a, ""},
		"then zero padding":  {cat(a, []byte("\x00\x00\x00\x00\x1f\x8b")), a, "\x00\x00\x00\x00\x1f\x8b"},
		"then 3 bytes":       {cat(a, []byte("\x00\x00\x01")), a, "\x00\x00\x01"},
		"two concatenated":   {cat(a, b, make([]byte, 4)), cat(a, b), "\x00\x00\x00\x00"},
		"empty legacy frame": {[]byte{0x02, 0x21, 0x4c, 0x18}, []byte{0x02, 0x21, 0x4c, 0x18}, ""},
	} {
		br := newBR(c.in)
		l := NewLZ4Legacy(br)
		var got bytes.Buffer
		if _, err := got.ReadFrom(l); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), c.want) || l.N != int64(len(c.want)) {
			t.Fatalf("%s: gave %d bytes, want %d", name, got.Len(), len(c.want))
		}
		rest := make([]byte, 64)
		n, _ := br.Read(rest)
		if string(rest[:n]) != c.rest {
			t.Fatalf("%s: the reader is at %q, want %q", name, rest[:n], c.rest)
		}
	}
	magic := []byte{0x02, 0x21, 0x4c, 0x18}
	for name, c := range map[string]struct {
		in   []byte
		want string
	}{
		"no magic":  {[]byte("070701"), "no legacy magic"},
		"huge":      {cat(magic, []byte{0x91, 0x80, 0x80, 0x00}), "over the format's"},
		"cut short": {cat(magic, []byte{10, 0, 0, 0}, []byte("abc")), "ends inside a block"},
	} {
		var got bytes.Buffer
		if _, err := got.ReadFrom(NewLZ4Legacy(newBR(c.in))); !errors.Is(err, ErrLZ4Framing) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrLZ4Framing saying %q", name, err, c.want)
		}
	}
	// the largest block the format allows is a block, one byte more an error
	atMax := cat(magic, binary.LittleEndian.AppendUint32(nil, lz4LegacyMaxBlock))
	var got bytes.Buffer
	if _, err := got.ReadFrom(NewLZ4Legacy(newBR(atMax))); errors.Is(err, ErrLZ4Framing) && strings.Contains(err.Error(), "over the format's") {
		t.Errorf("a block of the format's maximum size was refused: %v", err)
	}
}

// An lzma dictionary over the bound is an error naming it, never an allocation of it.
func TestListLZMADictionaryBound(t *testing.T) {
	hdr := []byte{0x5d, 0, 0, 0, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}
	_, _, err := List(bytes.NewReader(hdr))
	if err == nil || !strings.Contains(err.Error(), "lzma dictionary") {
		t.Fatalf("128 MiB dictionary: err %v", err)
	}
	hdr[4] = 0x04 // 64 MiB: allowed (the stream then fails as the garbage it is)
	if _, _, err := List(bytes.NewReader(hdr)); err != nil && strings.Contains(err.Error(), "lzma dictionary") {
		t.Fatalf("64 MiB dictionary refused: %v", err)
	}
}

// Issue #24 (FE2 2): a cpio cut at an arbitrary byte and each part gzipped on its own. gzip -dc
// reads one stream, but the kernel's gunzip stops at the first member's end and unpack_to_rootfs
// finds its cpio cut short ("junk at the end of compressed archive"): List fails as the kernel
// does, and says why. A gzip stream cut short (no clean end) is not told as that.
func TestListCpioCutAcrossGzipMembers(t *testing.T) {
	c := archive(t, modules)
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	for _, cut := range []int{7, 115, len(c) / 2} {
		_, _, err := List(bytes.NewReader(cat(gz(c[:cut]), gz(c[cut:]))))
		var e *Error
		if !errors.As(err, &e) || e.Segment != 0 || !strings.Contains(err.Error(), "junk at the end of compressed archive") {
			t.Errorf("cut at %d: err %v", cut, err)
		}
	}
	whole := gz(c)
	if _, _, err := List(bytes.NewReader(whole[:len(whole)/2])); err == nil || strings.Contains(err.Error(), "junk at the end") {
		t.Errorf("a gzip stream cut short: err %v", err)
	}
}

// FuzzListBzip2LZMALZ4 is FuzzList from bzip2, lzma and lz4 (legacy) segments followed by more.
func FuzzListBzip2LZMALZ4(f *testing.F) {
	tail := archive(f, []string{"etc/x"}, "gzip", "-c")
	f.Add(cat(archive(f, modules, "bzip2", "-c"), tail))
	f.Add(cat(archive(f, modules, "lzma", "-c"), tail))
	f.Add(cat(archive(f, modules, "lz4", "-l", "-q", "-c"), make([]byte, 4), tail))
	f.Fuzz(func(t *testing.T, data []byte) {
		List(bytes.NewReader(data))
	})
}
