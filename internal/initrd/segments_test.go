package initrd

import (
	"bufio"
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Issue #26 (R3 cases 41, 41d): the kernel takes any sequence of segments, each an uncompressed
// cpio or a compressed stream, zero padding between; a segment after a compressed one is read
// too, and its names are listed.
func TestListSegmentsInAnyOrder(t *testing.T) {
	early := archive(t, []string{"kernel/x86/microcode/GenuineIntel.bin"})
	tail := []string{"etc/appended.conf"}
	zst := []string{"zstd", "-q", "-c"}
	for _, tc := range []struct {
		name    string
		parts   [][]byte
		formats []string
	}{
		{"zstd then gzip", [][]byte{early, archive(t, modules, zst...), archive(t, tail, "gzip", "-n", "-c")}, []string{"none", "zstd", "gzip"}},
		{"zstd then none", [][]byte{early, archive(t, modules, zst...), archive(t, tail)}, []string{"none", "zstd", "none"}},
		{"zstd, padding, zstd", [][]byte{archive(t, modules, zst...), make([]byte, 512), archive(t, tail, zst...)}, []string{"zstd", "zstd"}},
		{"xz then none", [][]byte{archive(t, modules, "xz", "-c", "--check=crc32"), archive(t, tail)}, []string{"xz", "none"}},
		{"xz, padding, gzip", [][]byte{archive(t, modules, "xz", "-c"), make([]byte, 6), archive(t, tail, "gzip", "-c")}, []string{"xz", "gzip"}},
		{"two xz streams then zstd", [][]byte{archive(t, modules, "xz", "-c", "--check=sha256"), make([]byte, 8), archive(t, nil, "xz", "-c", "--check=none"), archive(t, tail, zst...)}, []string{"xz", "zstd"}},
		{"gzip then xz", [][]byte{archive(t, modules, "gzip", "-c"), archive(t, tail, "xz", "-c")}, []string{"gzip", "xz"}},
		{"gzip then none", [][]byte{archive(t, modules, "gzip", "-c"), make([]byte, 3), archive(t, tail)}, []string{"gzip", "none"}},
		{"zstd with a checksum, then none", [][]byte{archive(t, modules, "zstd", "-q", "-c", "--check"), archive(t, tail)}, []string{"zstd", "none"}},
		{"zstd without a checksum, then gzip", [][]byte{archive(t, modules, "zstd", "-q", "-c", "--no-check"), archive(t, tail, "gzip", "-c")}, []string{"zstd", "gzip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, formats, err := List(bytes.NewReader(bytes.Join(tc.parts, nil)))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range append(slices.Clone(modules), tail...) {
				if !slices.Contains(names, m) {
					t.Errorf("%s not listed: %v", m, names)
				}
			}
			if !slices.Equal(formats, tc.formats) {
				t.Errorf("formats %v, want %v", formats, tc.formats)
			}
		})
	}
}

// What follows a zstd stream and is no segment is an error naming the segment, never a
// listing that stops there in silence.
func TestListGarbageAfterZstd(t *testing.T) {
	data := append(archive(t, modules, "zstd", "-q", "-c"), "not an archive"...)
	_, _, err := List(bytes.NewReader(data))
	var e *Error
	if !errors.As(err, &e) || e.Segment != 1 {
		t.Fatalf("err %v, want an *Error in segment 1", err)
	}
	// a zstd stream cut short inside a block is an error of its segment
	z := archive(t, modules, "zstd", "-q", "-c")
	if _, _, err := List(bytes.NewReader(z[:len(z)-5])); !errors.As(err, &e) || e.Segment != 0 {
		t.Fatalf("cut short: err %v, want an *Error in segment 0", err)
	}
}

// ZstdFrames gives exactly the frames, skippable frames included, and leaves the reader at the
// next byte.
func TestZstdFramesEndAtTheFrame(t *testing.T) {
	a := archive(t, modules, "zstd", "-q", "-c")
	b := archive(t, modules, "zstd", "-q", "-c", "-19", "--no-check")
	skip := []byte{0x52, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	frames := bytes.Join([][]byte{a, skip, b}, nil)
	for _, after := range []string{"\x1f\x8b\x08rest", "070701", ""} {
		br := newBR(append(slices.Clone(frames), after...))
		z := NewZstdFrames(br)
		var got bytes.Buffer
		if _, err := got.ReadFrom(z); err != nil {
			t.Fatalf("after %q: %v", after, err)
		}
		if !bytes.Equal(got.Bytes(), frames) || z.N != int64(len(frames)) {
			t.Fatalf("after %q: gave %d bytes, the frames are %d", after, got.Len(), len(frames))
		}
		rest := make([]byte, 64)
		n, _ := br.Read(rest)
		if string(rest[:n]) != after {
			t.Fatalf("the reader is at %q, want %q", rest[:n], after)
		}
	}
}

func newBR(b []byte) *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(b), 16) }

// Frames made by hand, for the parts of the framing the zstd tool's output may not show: a
// dictionary ID, a window descriptor with a 2-byte content size, a 1-byte content size, an RLE
// block; each followed by a byte that starts no frame.
func TestZstdFramesHeaderFields(t *testing.T) {
	magic := []byte{0x28, 0xb5, 0x2f, 0xfd}
	raw := func(s string) []byte { // a last raw block
		v := 1 | len(s)<<3
		return append([]byte{byte(v), byte(v >> 8), byte(v >> 16)}, s...)
	}
	for name, frame := range map[string][]byte{
		"dictionary ID and 1-byte size": cat(magic, []byte{0x21, 0x7f, 3}, raw("xyz")),
		"4-byte dictionary ID":          cat(magic, []byte{0x23, 1, 2, 3, 4, 3}, raw("xyz")),
		"window and 2-byte size":        cat(magic, []byte{0x40, 0x00, 3, 0}, raw("xyz")),
		"window, 8-byte size, checksum": cat(magic, []byte{0xc4, 0x00, 3, 0, 0, 0, 0, 0, 0, 0}, raw("xyz"), []byte{1, 2, 3, 4}),
		"RLE block":                     cat(magic, []byte{0x20, 200}, []byte{0x43, 0x06, 0, 'q'}), // last, RLE, 200 bytes
		"two blocks":                    cat(magic, []byte{0x20, 6}, []byte{3 << 3, 0, 0}, []byte("abc"), raw("def")),
	} {
		br := newBR(cat(frame, []byte("0707")))
		z := NewZstdFrames(br)
		var got bytes.Buffer
		if _, err := got.ReadFrom(z); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), frame) {
			t.Errorf("%s: gave %x, the frame is %x", name, got.Bytes(), frame)
		}
	}
	// no frame at all, a reserved block type, a block over the format's maximum, a frame cut
	// short: errors that say so
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"no frame":       {[]byte("0707010000"), "no zstd frame"},
		"reserved block": {cat(magic, []byte{0x20, 3}, []byte{1 | 3<<1, 0, 0}), "reserved block type"},
		"huge block":     {cat(magic, []byte{0x20, 3}, []byte{1, 0, 0x80}), "block of 1048576 bytes"},
		"cut short":      {cat(magic, []byte{0x20, 3}, raw("xyz")[:4]), "ends inside a frame"},
	} {
		var got bytes.Buffer
		if _, err := got.ReadFrom(NewZstdFrames(newBR(c.b))); !errors.Is(err, ErrZstdFraming) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrZstdFraming saying %q", name, err, c.want)
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
