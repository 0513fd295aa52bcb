package iso9660

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// image is a hand-built ISO 9660 image: sectors of 2048 bytes, the primary volume descriptor at
// 16, the terminator at 17, the root directory at 18.
type image struct{ b []byte }

func newImage(sectors int) *image {
	im := &image{b: make([]byte, sectors*sectorSize)}
	pvd := im.sector(16)
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	binary.LittleEndian.PutUint32(pvd[80:], uint32(sectors))
	binary.LittleEndian.PutUint16(pvd[128:], sectorSize)
	term := im.sector(17)
	term[0] = 255
	copy(term[1:], "CD001")
	return im
}

func (im *image) sector(n int) []byte { return im.b[n*sectorSize : (n+1)*sectorSize] }

// rec is a directory record.
func rec(lba, length uint32, flags byte, id string, su []byte) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n+len(su))
	r[0] = byte(len(r))
	binary.LittleEndian.PutUint32(r[2:], lba)
	binary.BigEndian.PutUint32(r[6:], lba)
	binary.LittleEndian.PutUint32(r[10:], length)
	binary.BigEndian.PutUint32(r[14:], length)
	r[25] = flags
	r[32] = byte(len(id))
	copy(r[33:], id)
	copy(r[n:], su)
	return r
}

// dir writes records into a directory's sector and points the root record at it when root.
func (im *image) dir(sector int, root bool, recs ...[]byte) {
	clear(im.sector(sector))
	d := im.sector(sector)[:0]
	for _, r := range recs {
		d = append(d, r...)
	}
	if root {
		copy(im.sector(16)[156:], rec(uint32(sector), sectorSize, flagDirectory, "\x00", nil))
	}
}

func entry(sig string, data ...byte) []byte {
	return append([]byte{sig[0], sig[1], byte(4 + len(data)), 1}, data...)
}

func walk(t *testing.T, b []byte) (*FS, []File, []DirError) {
	t.Helper()
	f, err := Open("test.iso", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files, bad, err := f.Walk()
	if err != nil {
		t.Fatal(err)
	}
	return f, files, bad
}

func read(t *testing.T, f *FS, file File) string {
	t.Helper()
	r, err := f.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, file.Size))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPlainNamesAndMultiExtent(t *testing.T) {
	im := newImage(30)
	copy(im.sector(20), strings.Repeat("a", sectorSize))
	copy(im.sector(22), "tail")
	copy(im.sector(24), "hello\n")
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", nil),
		rec(18, sectorSize, flagDirectory, "\x01", nil),
		rec(20, sectorSize, flagMultiExtnt, "BIG.BIN;1", nil),
		rec(22, 4, 0, "BIG.BIN;1", nil),
		rec(24, 6, 0, "NOEXT.;1", nil),
	)
	f, files, bad := walk(t, im.b)
	if len(bad) != 0 || len(files) != 2 {
		t.Fatalf("files %+v, bad %+v", files, bad)
	}
	if files[0].Path != "BIG.BIN" || files[0].Size != sectorSize+4 || len(files[0].Extents) != 2 {
		t.Errorf("multi-extent: %+v", files[0])
	}
	if got := read(t, f, files[0]); got != strings.Repeat("a", sectorSize)+"tail" {
		t.Errorf("multi-extent bytes: %q...", got[:8])
	}
	if files[1].Path != "NOEXT" || read(t, f, files[1]) != "hello\n" {
		t.Errorf("no extension: %+v", files[1])
	}
	// a multi-extent file whose last record is missing is named, not listed
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", nil),
		rec(20, sectorSize, flagMultiExtnt, "BIG.BIN;1", nil),
		rec(24, 6, 0, "OTHER.TXT;1", nil),
	)
	_, files, bad = walk(t, im.b)
	if len(bad) != 1 || !strings.Contains(bad[0].Err.Error(), `multi-extent file "BIG.BIN" ends without its last extent`) || len(files) != 1 {
		t.Errorf("missing last extent: files %+v bad %+v", files, bad)
	}
}

func TestRockRidgeEntries(t *testing.T) {
	im := newImage(30)
	copy(im.sector(24), "secret\n")
	sp := entry("SP", 0xbe, 0xef, 0)
	// the name in two NM entries (CONTINUE), the second in a continuation area (CE)
	ce := make([]byte, 24)
	binary.LittleEndian.PutUint32(ce[0:], 26)
	binary.BigEndian.PutUint32(ce[4:], 26)
	binary.LittleEndian.PutUint32(ce[8:], 0)
	binary.LittleEndian.PutUint32(ce[16:], 10)
	copy(im.sector(26), entry("NM", append([]byte{0}, "-name"...)...))
	link := entry("SL", 0, 0, 3, 'e', 't', 'c', 0, 2, 'x', 'y')
	root := entry("SL", 0, 8, 0)
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", sp),
		rec(24, 7, 0, "LONG_NAM.;1", append(entry("NM", append([]byte{1}, "long"...)...), entry("CE", ce...)...)),
		rec(0, 0, 0, "LINK.;1", append(entry("NM", append([]byte{0}, "link"...)...), link...)),
		rec(0, 0, 0, "ABS.;1", append(entry("NM", append([]byte{0}, "abs"...)...), append(root, entry("SL", 0, 0, 3, 'b', 'i', 'n')...)...)),
		rec(25, 10, 0, "Z.;1", entry("ZF", 'p', 'z', 4, 15, 0, 0, 0, 0, 0, 0, 0, 0)),
		rec(0, 0, 0, "CONT.;1", entry("SL", 0, 1, 2, 'a', 'b', 0, 2, 'c', 'd', 0, 1, 'e')),
		rec(25, 1, 0, "DOT.;1", entry("NM", append([]byte{2}, "zzz"...)...)),
	)
	f, files, bad := walk(t, im.b)
	if !f.RockRidge() || len(bad) != 0 || len(files) != 6 {
		t.Fatalf("rr %v files %+v bad %+v", f.RockRidge(), files, bad)
	}
	if files[0].Path != "long-name" || read(t, f, files[0]) != "secret\n" {
		t.Errorf("NM across CE: %+v", files[0])
	}
	if files[1].Path != "link" || files[1].Symlink != "etc/xy" {
		t.Errorf("SL: %+v", files[1])
	}
	if files[2].Symlink != "/bin" {
		t.Errorf("SL root: %+v", files[2])
	}
	if files[3].Path != "Z" || !files[3].Zisofs {
		t.Errorf("ZF: %+v", files[3])
	}
	// a component continued in the next (CONTINUE), then a new component
	if files[4].Symlink != "abcd/e" {
		t.Errorf("SL continue: %+v", files[4])
	}
	// NM with the CURRENT flag names "." and is not a name: the ISO 9660 name stays
	if files[5].Path != "DOT" {
		t.Errorf("NM CURRENT: %+v", files[5])
	}
}

func TestRelocatedDirectory(t *testing.T) {
	im := newImage(30)
	sp := entry("SP", 0xbe, 0xef, 0)
	copy(im.sector(24), "deep\n")
	cl := make([]byte, 8)
	binary.LittleEndian.PutUint32(cl, 20)
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", sp),
		rec(19, sectorSize, flagDirectory, "A", entry("NM", append([]byte{0}, "a"...)...)),
		rec(20, sectorSize, flagDirectory, "RR_MOVED", entry("RE")), // the relocated directory itself: skipped
	)
	im.dir(19, false,
		rec(19, sectorSize, flagDirectory, "\x00", nil),
		rec(0, 0, 0, "B", append(entry("NM", append([]byte{0}, "b"...)...), entry("CL", cl...)...)),
	)
	im.dir(20, false,
		rec(20, sectorSize, flagDirectory, "\x00", nil),
		rec(24, 5, 0, "F.;1", entry("NM", append([]byte{0}, "f.txt"...)...)),
	)
	copy(im.sector(20)[0:], rec(20, sectorSize, flagDirectory, "\x00", nil))
	f, files, bad := walk(t, im.b)
	if len(bad) != 0 || len(files) != 1 || files[0].Path != "a/b/f.txt" || read(t, f, files[0]) != "deep\n" {
		t.Errorf("files %+v bad %+v", files, bad)
	}
}

func TestMalformed(t *testing.T) {
	im := newImage(30)
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", nil),
		rec(18, sectorSize, flagDirectory, "LOOP", nil), // the root again
		rec(29, sectorSize*4, 0, "OUT.;1", nil),         // past the image's end
	)
	f, files, bad := walk(t, im.b)
	if len(bad) != 1 || !strings.Contains(bad[0].Err.Error(), "listed twice") {
		t.Errorf("loop: %+v", bad)
	}
	if len(files) != 1 {
		t.Fatalf("files %+v", files)
	}
	if _, err := f.Open(files[0]); !errors.Is(err, ErrOutside) {
		t.Errorf("outside: %v", err)
	}
	// a record shorter than its fixed part
	bad2 := newImage(30)
	bad2.dir(18, true, rec(18, sectorSize, flagDirectory, "\x00", nil), []byte{20, 0, 0})
	_, _, errs := walk(t, bad2.b)
	if len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), "malformed directory record at offset 36898") {
		t.Errorf("short record: %+v", errs)
	}
	// the root record shorter than a record's fixed part
	short := append([]byte(nil), im.b...)
	short[16*sectorSize+156] = 20
	if _, err := Open("x.iso", bytes.NewReader(short), int64(len(short))); err == nil || !strings.Contains(err.Error(), "malformed directory record at offset 32924") {
		t.Errorf("short root record: %v", err)
	}
	// no descriptor, a truncated image
	if _, err := Open("x.iso", bytes.NewReader(im.b[:17*sectorSize-1]), 17*sectorSize-1); err == nil {
		t.Error("a truncated image opened")
	}
	noCD := append([]byte(nil), im.b...)
	copy(noCD[16*sectorSize+1:], "CD002")
	if _, err := Open("x.iso", bytes.NewReader(noCD), int64(len(noCD))); err == nil || !strings.Contains(err.Error(), "offset 32768") {
		t.Errorf("no CD001: %v", err)
	}
	// a directory over the bound is named, not read
	big := newImage(30)
	big.dir(18, true, rec(18, sectorSize, flagDirectory, "\x00", nil))
	copy(big.sector(16)[156:], rec(18, maxDirBytes+1, flagDirectory, "\x00", nil))
	_, _, errs = walk(t, big.b)
	if len(errs) != 1 || !strings.Contains(errs[0].Err.Error(), "over 16777216") {
		t.Errorf("large directory: %+v", errs)
	}
	// nesting: maxDepth directories deep is read, one more is named
	for _, extra := range []int{0, 1} {
		deep := newImage(maxDepth + 40)
		n := maxDepth + extra
		for i := 0; i <= n; i++ {
			recs := [][]byte{rec(uint32(18+i), sectorSize, flagDirectory, "\x00", nil)}
			if i < n {
				recs = append(recs, rec(uint32(19+i), sectorSize, flagDirectory, "D", nil))
			}
			deep.dir(18+i, i == 0, recs...)
		}
		_, _, errs = walk(t, deep.b)
		if (len(errs) != 0) != (extra == 1) {
			t.Errorf("depth %d: %+v", n, errs)
		}
	}
}

// The images xorriso writes: Rock Ridge, Joliet only, plain ISO 9660.
func TestXorrisoImages(t *testing.T) {
	for _, opts := range [][]string{nil, {"-rockridge", "off", "-joliet", "on"}, {"-rockridge", "off"}} {
		b := xorriso(t, opts...)
		_, files, bad := walk(t, b)
		names := []string{}
		for _, f := range files {
			names = append(names, strings.ToLower(f.Path))
		}
		if len(bad) != 0 || strings.Join(names, ",") != "meta-data,user-data" && strings.Join(names, ",") != "meta_data,user_data" {
			t.Errorf("%v: %v %+v", opts, names, bad)
		}
	}
}

func xorriso(t testing.TB, opts ...string) []byte {
	if _, err := exec.LookPath("xorriso"); err != nil {
		t.Skip("xorriso is not installed")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "meta-data"), []byte("instance-id: x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\n"), 0o644)
	out := filepath.Join(t.TempDir(), "x.iso")
	args := append(append([]string{"-report_about", "FAILURE", "-outdev", out}, opts...), "-map", dir, "/")
	if b, err := exec.Command("xorriso", args...).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v %s", err, b)
	}
	b, _ := os.ReadFile(out)
	return b
}

func FuzzISO9660(f *testing.F) {
	im := newImage(30)
	copy(im.sector(24), "hello\n")
	im.dir(18, true,
		rec(18, sectorSize, flagDirectory, "\x00", entry("SP", 0xbe, 0xef, 0)),
		rec(19, sectorSize, flagDirectory, "D", entry("NM", append([]byte{0}, "dir"...)...)),
		rec(24, 6, flagMultiExtnt, "F.;1", entry("NM", append([]byte{0}, "file"...)...)),
		rec(24, 6, 0, "F.;1", entry("SL", 0, 0, 1, 'x')),
	)
	im.dir(19, false, rec(19, sectorSize, flagDirectory, "\x00", nil), rec(18, sectorSize, flagDirectory, "UP", nil))
	f.Add(im.b)
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := Open("fuzz.iso", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		files, _, _ := fs.Walk()
		for _, file := range files {
			r, err := fs.Open(file)
			if err != nil {
				continue
			}
			io.Copy(io.Discard, io.NewSectionReader(r, 0, min(file.Size, 1<<20)))
		}
	})
}
