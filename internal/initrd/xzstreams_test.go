package initrd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand"
	"os/exec"
	"testing"

	"github.com/ulikunitz/xz"
)

func xzOf(t *testing.T, data []byte, args ...string) []byte {
	t.Helper()
	c := exec.Command("xz", append([]string{"-c"}, args...)...)
	c.Stdin = bytes.NewReader(data)
	out, err := c.Output()
	if err != nil {
		t.Skipf("xz: %v", err)
	}
	return out
}

// XZStreams gives exactly the xz streams (padding between them included), through a buffered
// reader that asks for more than the decoder needs, and leaves the reader at the next byte.
// The data stored in the first stream holds two false footers ("YZ" after a backward size and
// flags, one with a wrong CRC32, one with the wrong flags): neither ends it.
func TestXZStreamsEndAtTheStream(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	data := make([]byte, 200<<10)
	rnd.Read(data)
	fake := func(at int, flags [2]byte, goodCRC bool) {
		f := data[at : at+12]
		binary.LittleEndian.PutUint32(f[4:], 7)
		f[8], f[9], f[10], f[11] = flags[0], flags[1], 'Y', 'Z'
		crc := crc32.ChecksumIEEE(f[4:10])
		if !goodCRC {
			crc++
		}
		binary.LittleEndian.PutUint32(f[0:], crc)
	}
	fake(50000, [2]byte{0, 1}, false) // --check=crc32 flags, a wrong CRC32
	fake(90000, [2]byte{0, 4}, true)  // a right CRC32, the flags of another check
	a := xzOf(t, data, "-0", "--check=crc32")
	if !bytes.Contains(a, data[50000:50012]) || !bytes.Contains(a, data[90000:90012]) {
		t.Fatal("xz did not store the false footers as they are")
	}
	b := xzOf(t, []byte("second stream"), "--check=none")
	streams := bytes.Join([][]byte{a, make([]byte, 8), b}, nil)
	for _, after := range []string{"070701rest", "\x1f\x8b\x08rest", "", "\x00\x00\x00\x00070701", "\x00\x00YZ"} {
		br := bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(streams), after...)), 4096)
		x := NewXZStreams(br)
		got, err := io.ReadAll(bufio.NewReaderSize(x, 64<<10))
		if err != nil {
			t.Fatalf("after %q: %v", after, err)
		}
		if !bytes.Equal(got, streams) {
			t.Fatalf("after %q: gave %d bytes, the streams are %d", after, len(got), len(streams))
		}
		rest, _ := io.ReadAll(br)
		if string(rest) != after {
			t.Fatalf("the reader is at %q, want %q", rest, after)
		}
		// and the decoder reads both streams to their end through it
		br = bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(streams), after...)), 4096)
		z, err := xz.NewReader(bufio.NewReaderSize(NewXZStreams(br), 64<<10))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(out, append(bytes.Clone(data), "second stream"...)) {
			t.Fatalf("after %q: decoded %d bytes, %v", after, len(out), err)
		}
	}
}

// Whatever the reader's buffer size, so wherever its windows split the footer's "YZ", the
// streams end at their footer; zero padding that is not a multiple of 4 bytes ends the streams
// (the next one is a segment of its own, as the kernel takes it).
func TestXZStreamsFooterAtAnyWindow(t *testing.T) {
	a := xzOf(t, []byte("first stream, a few bytes"), "--check=crc32")
	b := xzOf(t, []byte("second"), "--check=none")
	streams := bytes.Join([][]byte{a, make([]byte, 4), b}, nil)
	for size := 16; size <= 96; size++ {
		br := bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(streams), "070701"...)), size)
		got, err := io.ReadAll(bufio.NewReaderSize(NewXZStreams(br), 64<<10))
		if err != nil || !bytes.Equal(got, streams) {
			t.Fatalf("buffer of %d: gave %d bytes (%v), the streams are %d", size, len(got), err, len(streams))
		}
	}
	odd := bytes.Join([][]byte{a, make([]byte, 6), b}, nil)
	br := bufio.NewReaderSize(bytes.NewReader(odd), 4096)
	if got, err := io.ReadAll(NewXZStreams(br)); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("6 bytes of padding: gave %d bytes (%v), the first stream is %d", len(got), err, len(a))
	}
	names, formats, err := List(bytes.NewReader(bytes.Join([][]byte{archive(t, modules, "xz", "-c"), make([]byte, 6), archive(t, []string{"etc/x"}, "xz", "-c")}, nil)))
	if err != nil || len(formats) != 2 || !bytes.Contains([]byte(names[len(names)-1]), []byte("etc/x")) {
		t.Fatalf("List: %q %v %v", names, formats, err)
	}
}

// An xz stream stored as it is inside another (a .ko.xz module in an xz initramfs: xz stores
// incompressible data uncompressed) has its own footer and index, with the same flags: the
// outer stream does not end there.
func TestXZStreamsStreamInsideAStream(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	module := make([]byte, 100<<10)
	rnd.Read(module)
	inner := xzOf(t, module, "--check=crc32")
	outer := xzOf(t, append(bytes.Clone(inner), "after the module"...), "--check=crc32")
	if !bytes.Contains(outer, inner[len(inner)-40:]) {
		t.Fatal("xz did not store the inner stream as it is")
	}
	br := bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(outer), "070701"...)), 4096)
	got, err := io.ReadAll(bufio.NewReaderSize(NewXZStreams(br), 64<<10))
	if err != nil || !bytes.Equal(got, outer) {
		t.Fatalf("gave %d bytes (%v), the outer stream is %d", len(got), err, len(outer))
	}
}
