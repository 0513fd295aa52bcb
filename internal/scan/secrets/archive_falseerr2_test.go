package secrets

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
)

// compressWith pipes data through a compression tool.
func compressWith(t *testing.T, data []byte, tool ...string) []byte {
	t.Helper()
	needTool(t, tool[0])
	c := exec.Command(tool[0], tool[1:]...)
	c.Stdin = bytes.NewReader(data)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%v: %v", tool, err)
	}
	return out
}

// Issue #24 (FE2 1): an initramfs whose bzip2, lzma or lz4 (legacy) segment is followed by more
// segments (a gzip cpio, then an uncompressed cpio holding the key), as the kernel reads it:
// each decoder stops at its stream's end and the search goes on. The key is found, nothing is
// unseen, and the listing handed on is initrd.List's, with the last segment's names. lz4's
// legacy format has no end mark: the kernel needs the zero padding grub and dracut write.
func TestInitramfsSegmentsAfterBzip2LZMALZ4(t *testing.T) {
	needTool(t, "cpio")
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	second := gzipBytes(cpioBytes(map[string][]byte{"etc/second.conf": []byte("x=1\n")}, false))
	last := cpioBytes(map[string][]byte{"etc/aws-credentials": []byte(awsKeys)}, false)
	for _, c := range []struct {
		name, compress, format string
		pad                    int
	}{
		{"bzip2", "bzip2 -c", "bzip2", 0},
		{"bzip2 -1, padding", "bzip2 -1 -c", "bzip2", 5},
		{"lzma", "lzma -c", "lzma", 0},
		{"lzma, padding", "lzma -c -6", "lzma", 4},
		{"lz4 legacy", "lz4 -l -q -c", "lz4", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			needTool(t, strings.Fields(c.compress)[0])
			early, main := initramfsParts(t, c.compress, initrdFiles)
			b := cat(early, main, make([]byte, c.pad), second, last)
			l, r := listingOf(t, s, "/boot/initrd.img", b)
			if r.err != nil || !r.foundAWS(t, "/boot/initrd.img!/etc/aws-credentials") {
				t.Fatalf("err %v, found %+v", r.err, r.found)
			}
			if !checkShared(t, s, b) {
				t.Fatal("no listing handed on")
			}
			want := []string{"none", c.format, "gzip", "none"}
			if !slices.Contains(l.Names, "etc/aws-credentials") || !slices.Contains(l.Names, "etc/second.conf") || !slices.Contains(l.Names, "init") || !slices.Equal(l.Formats, want) {
				t.Errorf("listing %q %v, want the names of every segment and formats %v", l.Names, l.Formats, want)
			}
		})
	}
	// an ordinary file of two bzip2 streams one after the other (pbzip2, cat a.bz2 b.bz2) is
	// one stream to bzip2 -dc: a tar cut across them is read whole
	tarb := tarTree(t, map[string]string{"etc/aws-credentials": awsKeys, "etc/other": strings.Repeat("filler ", 300)})
	cut := len(tarb) / 3
	two := cat(compressWith(t, tarb[:cut], "bzip2", "-c"), compressWith(t, tarb[cut:], "bzip2", "-c"))
	if r := scanWith(t, s, "/srv/backup.tar.bz2", two); r.err != nil || !r.foundAWS(t, "/srv/backup.tar.bz2!/etc/aws-credentials") {
		t.Errorf("tar across two bzip2 streams: err %v, found %+v", r.err, r.found)
	}
	// as an initramfs, List reads each stream as a segment: no listing is handed on
	early, _ := initramfsParts(t, "", initrdFiles)
	whole := cpioBytes(initrdFilesBytes(), false)
	if l, r := listingOf(t, s, "/boot/initrd.img", cat(early, compressWith(t, whole, "bzip2", "-c"), compressWith(t, last, "bzip2", "-c"))); r.err != nil || l != nil && len(l.Formats) != 3 {
		t.Errorf("two bzip2 streams in an initramfs: err %v, listing %+v", r.err, l)
	}
}

// tarTree is a tar archive of files, made with tar.
func tarTree(t *testing.T, files map[string]string) []byte {
	t.Helper()
	needTool(t, "tar")
	dir := t.TempDir()
	for p, c := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("tar", "-cf", "-", "--sort=name", ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar: %v", err)
	}
	return out
}

// Issue #24 (FE2 2): a cpio archive cut at an arbitrary byte (inside a header, a name, the
// data) and each part gzipped on its own, the members concatenated. gzip -dc reads them as one
// stream, and so does the search of an ordinary file: the key is found, nothing unseen. The
// kernel reads each member as a segment of its own, and the first one's cpio is cut short
// ("junk at the end of compressed archive"): initrd.List fails on it too, and the search of
// an initramfs hands on no listing (the driver rules then run List and report its error).
func TestCpioCutAcrossGzipMembers(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	c := cpioBytes(map[string][]byte{"etc/aws-credentials": []byte(awsKeys), "etc/hostname": []byte("web1\n")}, false)
	for _, cut := range []int{7, 109, 115, 200, len(c) / 2, len(c) - 3} {
		b := cat(gzipBytes(c[:cut]), gzipBytes(c[cut:]))
		if r := scanWith(t, s, "/srv/backup.cpio.gz", b); r.err != nil || !r.foundAWS(t, "/srv/backup.cpio.gz!/etc/aws-credentials") {
			t.Errorf("cut at %d: err %v, found %+v", cut, r.err, r.found)
		}
		l, r := listingOf(t, s, "/boot/initrd.img", b)
		if r.err != nil || !r.foundAWS(t, "/boot/initrd.img!/etc/aws-credentials") {
			t.Errorf("initramfs cut at %d: err %v, found %+v", cut, r.err, r.found)
		}
		if l != nil {
			t.Errorf("cut at %d: a listing was handed on for an initramfs the kernel fails on", cut)
		}
		if _, _, err := initrd.List(bytes.NewReader(b)); err == nil {
			t.Errorf("cut at %d: initrd.List read a cpio cut across gzip members without error", cut)
		}
	}
}

// Issue #24 (FE2 3): a zip behind a prefix (a launcher script, then the zip appended to it):
// its offsets count from the zip's start, not the file's. Written to a pipe, zip streams its
// entries with data descriptors; from stdin to a file, it writes zip64 end records beside an
// end record whose values fit, and the zip64 locator's offset counts from the zip's start too.
// Both must open, the entries' data searched (the key found where the entry is) and the
// prefix searched as the file's own.
func TestZipBehindPrefix(t *testing.T) {
	needTool(t, "zip")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "creds"), []byte(awsKeys), 0o644)
	os.WriteFile(filepath.Join(dir, "other"), bytes.Repeat([]byte("filler line\n"), 500), 0o644)
	prefix := []byte("#!/bin/sh\n# self-extracting\nexit 0\n")
	// to a pipe: data descriptors
	cmd := exec.Command("zip", "-q", "-", "creds", "other")
	cmd.Dir = dir
	piped, err := cmd.Output()
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	if !bytes.Contains(piped, []byte("PK\x07\x08")) {
		t.Fatalf("zip wrote no data descriptor to a pipe")
	}
	// from stdin to a file: zip64 end records
	f, err := os.Create(filepath.Join(dir, "z64.zip"))
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("zip", "-q", "-", "-")
	cmd.Stdin, cmd.Stdout = strings.NewReader(awsKeys), f
	err = cmd.Run()
	f.Close()
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	z64, _ := os.ReadFile(filepath.Join(dir, "z64.zip"))
	if !bytes.Contains(z64, []byte("PK\x06\x06")) {
		t.Fatalf("zip wrote no zip64 end record")
	}
	for _, c := range []struct {
		name, member string
		zip          []byte
	}{
		{"piped", "creds", piped},
		{"zip64 end records", "-", z64},
	} {
		b := cat(prefix, c.zip)
		loc, ok := zipLocate(bytes.NewReader(b), int64(len(b)))
		if !ok || loc.base != int64(len(prefix)) {
			t.Errorf("%s: zipLocate %+v %v, want the zip at %d", c.name, loc, ok, len(prefix))
		}
		r := scanBytes(t, Options{}, "/opt/app.run", b)
		if r.err != nil || !r.foundAWS(t, "/opt/app.run!/"+c.member) {
			t.Errorf("%s: err %v, found %+v", c.name, r.err, r.found)
		}
		// the prefix is searched as the file's own
		withKey := cat([]byte("#!/bin/sh\n"+awsKeys+"\nexit 0\n"), c.zip)
		if r := scanBytes(t, Options{}, "/opt/app.run", withKey); r.err != nil || !r.foundAWS(t, "/opt/app.run") {
			t.Errorf("%s: the prefix was not searched: err %v, found %+v", c.name, r.err, r.found)
		}
	}
}

// lzmaProps is data in an LZMA-alone stream with lc=4: its properties byte is 0x5e, not the
// 0x5d the kernel (and initrd.List) recognise an lzma segment by.
func lzmaProps(t *testing.T, data []byte) []byte {
	t.Helper()
	b := compressWith(t, data, "xz", "--format=lzma", "--lzma1=preset=6,lc=4", "-c")
	if b[0] != 0x5e {
		t.Fatalf("lzma properties byte %#x, want 0x5e", b[0])
	}
	return b
}

// Issue #24 (FE2 4): a clone of a mid-size repository: a pack of more objects than archive
// members are opened (maxArchiveMembers). A pack's objects are bounded by the budget in bytes
// (each object searched costs gitObjectCharge besides its bytes), not the member count: the
// pack opens, the key in one of its 25,000 blobs is found, nothing is unseen.
func TestGitPackOfManyObjects(t *testing.T) {
	g := newGitRepo(t)
	const n = 25000
	var in bytes.Buffer
	for i := range n {
		content := fmt.Sprintf("object %d\n", i)
		if i == n-7 {
			content = awsKeys
		}
		fmt.Fprintf(&in, "blob\nmark :%d\ndata %d\n%s\n", i+1, len(content), content)
	}
	in.WriteString("commit refs/heads/main\ncommitter a <a@b.c> 1700000000 +0000\ndata 5\nmany\n\n")
	for i := range n {
		fmt.Fprintf(&in, "M 100644 :%d f/%d\n", i+1, i)
	}
	in.WriteString("\n")
	g.run(in.Bytes(), "fast-import", "--quiet")
	pack, _ := g.pack()
	if count := binary.BigEndian.Uint32(pack[8:]); count < n || int(count) <= maxArchiveMembers {
		t.Fatalf("the pack has %d objects, want at least %d (over %d)", count, n, maxArchiveMembers)
	}
	id := gitObjectID(gitBlob, []byte(awsKeys))
	name := "/srv/repo/.git/objects/pack/pack-1.pack"
	r := scanBytes(t, Options{}, name, pack)
	if r.err != nil || !r.foundAWS(t, name+"!/"+hex.EncodeToString(id[:])) {
		t.Fatalf("err %v, found %+v", r.err, r.found)
	}
	// the per-object charge still stops a pack of many objects at the budget
	restore := SetArchiveUnpackLimitForTest(int64(n) * gitObjectCharge / 2)
	r = scanBytes(t, Options{}, name, pack)
	restore()
	if r.err == nil || !strings.Contains(r.err.Error(), "bytes unpacked from") {
		t.Fatalf("a budget of half the objects' charge: err %v", r.err)
	}
}

// The budget is charged once for what a pack unpacks: every object's stream as the first pass
// inflates it, and gitObjectCharge for each object searched (not again when the second pass
// inflates the same stream to search it). A pack of whole objects (random blobs, no delta)
// charges exactly the sum of their sizes and the per-object charges.
func TestGitPackChargedOnce(t *testing.T) {
	g := newGitRepo(t)
	var in bytes.Buffer
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		b := make([]byte, 40<<10)
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		fmt.Fprintf(&in, "blob\nmark :%d\ndata %d\n%s\n", i+1, len(b), b)
	}
	in.WriteString("commit refs/heads/main\ncommitter a <a@b.c> 1700000000 +0000\ndata 5\nrand\n\n")
	for i := range 8 {
		fmt.Fprintf(&in, "M 100644 :%d r%d\n", i+1, i)
	}
	in.WriteString("\n")
	g.run(in.Bytes(), "-c", "fastimport.unpackLimit=1", "fast-import", "--quiet") // a pack, however few the objects
	pack, path := g.pack()
	var want int64
	for _, o := range g.verifyPack(path) {
		if o.depth != 0 {
			t.Fatalf("a delta in a pack of random blobs: %+v", o)
		}
		want += o.size
		if o.typ != "tree" {
			want += gitObjectCharge
		}
	}
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.NewWorker()
	u := &unpacking{top: "/p.pack"}
	if err := w.(*worker).openGitPack(u, "/p.pack", bytes.NewReader(pack), int64(len(pack)), 1); err != nil || u.err() != nil {
		t.Fatalf("open: %v %v", err, u.err())
	}
	if u.unpacked != want {
		t.Errorf("charged %d bytes, the objects are %d (with the per-object charge)", u.unpacked, want)
	}
}
