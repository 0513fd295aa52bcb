package secrets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The cases an outside review of issue #24 (R1) planted a key in and got no finding and nothing
// unseen, built the way R1 built them: each must FAIL naming the path, or be unseen with the
// reason, never pass.

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
}

// M3/M4: two zips back to back, and a local entry the central directory leaves out: the entry
// the directory does not list is named as not seen, with its offset and name.
func TestZipEntriesOutsideTheDirectory(t *testing.T) {
	secret := zipBytes(t, "BOOT-INF/classes/application.properties", []byte(awsKeys), 0)
	harmless := zipBytes(t, "META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\n"), 0)
	r := scanBytes(t, Options{}, "/opt/app/lib/concat.jar", append(append([]byte(nil), secret...), harmless...))
	if r.err == nil || !strings.Contains(r.err.Error(), `/opt/app/lib/concat.jar: a local entry at offset 0 ("BOOT-INF/classes/application.properties", method 8) that the central directory does not list`) {
		t.Errorf("concat: err %v, found %+v", r.err, r.found)
	}
	// an orphan: the zip tool writes both, then the directory is rewritten without the first
	// (what R1's orphan.jar is); made here by cutting the first entry out of the directory
	needTool(t, "zip")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "application.properties"), []byte(awsKeys), 0o644)
	os.WriteFile(filepath.Join(dir, "MANIFEST.MF"), []byte("Manifest-Version: 1.0\n"), 0o644)
	cmd := exec.Command("zip", "-q", "-X", "both.zip", "application.properties", "MANIFEST.MF")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip: %v %s", err, out)
	}
	both, _ := os.ReadFile(filepath.Join(dir, "both.zip"))
	orphan := dropFirstDirectoryEntry(t, both)
	r = scanBytes(t, Options{}, "/opt/app/lib/orphan.jar", orphan)
	if r.err == nil || !strings.Contains(r.err.Error(), `("application.properties", method 8) that the central directory does not list`) {
		t.Errorf("orphan: err %v, found %+v", r.err, r.found)
	}
	// the zip tool's own archive, every entry listed: nothing unseen
	if r := scanBytes(t, Options{}, "/opt/app/lib/both.zip", both); r.err != nil || !r.foundAWS(t, "/opt/app/lib/both.zip!/application.properties") {
		t.Errorf("listed: err %v, found %+v", r.err, r.found)
	}
}

// A Spring Boot jar stores its libraries uncompressed (BOOT-INF/lib/*.jar, method 0): their local
// headers lie inside a listed entry's data, are not orphans, and the nested jar is opened. Cut
// the first byte of the cover and the nested header is named as not seen.
func TestStoredJarInAJarIsNotAnOrphan(t *testing.T) {
	inner := zipBytes(t, "application.properties", []byte(awsKeys), 0)
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.CreateHeader(&zip.FileHeader{Name: "BOOT-INF/lib/config.jar", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	f.Write(inner)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := scanBytes(t, Options{}, "/opt/app/app.jar", b.Bytes())
	if r.err != nil || !r.foundAWS(t, "/opt/app/app.jar!/BOOT-INF/lib/config.jar!/application.properties") {
		t.Errorf("stored jar: err %v, found %+v", r.err, r.found)
	}
	// the inner header is at the outer entry's first data byte: a span that started one byte
	// later would not cover it
	zr, _ := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	off, _ := zr.File[0].DataOffset()
	var u unpacking
	zipOrphans(&u, "x.jar", zr, bytes.NewReader(b.Bytes()), int64(b.Len()))
	if len(u.missed) != 0 {
		t.Errorf("covered header at %d named: %v", off, u.missed)
	}
}

// dropFirstDirectoryEntry rewrites a zip's central directory without its first entry.
func dropFirstDirectoryEntry(t *testing.T, z []byte) []byte {
	le := binary.LittleEndian
	e := bytes.LastIndex(z, []byte("PK\x05\x06"))
	cdSize, cdOff := int(le.Uint32(z[e+12:])), int(le.Uint32(z[e+16:]))
	first := z[cdOff:]
	n := 46 + int(le.Uint16(first[28:])) + int(le.Uint16(first[30:])) + int(le.Uint16(first[32:]))
	out := append(append([]byte(nil), z[:cdOff]...), z[cdOff+n:cdOff+cdSize]...)
	end := append([]byte(nil), z[e:]...)
	le.PutUint16(end[8:], le.Uint16(end[8:])-1)
	le.PutUint16(end[10:], le.Uint16(end[10:])-1)
	le.PutUint32(end[12:], uint32(cdSize-n))
	if _, err := zip.NewReader(bytes.NewReader(append(out, end...)), int64(len(out)+len(end))); err != nil {
		t.Fatal(err)
	}
	return append(out, end...)
}

// M5: PAX records (an xattr, as tar --xattrs writes it; a comment; a global header) are
// searched, named ARCHIVE!/MEMBER [pax KEY].
func TestTarPAXRecordsAreSearched(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	data := []byte("# see xattr\n")
	tw.WriteHeader(&tar.Header{Name: "etc/app/app.conf", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"SCHILY.xattr.user.aws_credentials": awsKeys, "comment": awsKeys}})
	tw.Write(data)
	tw.Close()
	r := scanBytes(t, Options{}, "/opt/app/pax-xattr.tar", b.Bytes())
	for _, p := range []string{"/opt/app/pax-xattr.tar!/etc/app/app.conf [pax SCHILY.xattr.user.aws_credentials]", "/opt/app/pax-xattr.tar!/etc/app/app.conf [pax comment]"} {
		if r.err != nil || !r.foundAWS(t, p) {
			t.Errorf("%s: err %v, found %+v", p, r.err, r.found)
		}
	}
	b.Reset()
	tw = tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": awsKeys}})
	tw.WriteHeader(&tar.Header{Name: "readme", Mode: 0o644, Size: 6, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello\n"))
	tw.Close()
	if r := scanBytes(t, Options{}, "/opt/app/pax-global.tar", b.Bytes()); r.err != nil || !r.foundAWS(t, "/opt/app/pax-global.tar!/pax_global_header [pax comment]") {
		t.Errorf("global: err %v, found %+v", r.err, r.found)
	}
	// the records that are the header's own fields are not searched as files
	if paxCarriesBytes("mtime") || paxCarriesBytes("GNU.sparse.map") || !paxCarriesBytes("SCHILY.xattr.user.x") {
		t.Error("paxCarriesBytes")
	}
}

// gzipWithHeader is a gzip member with the optional header fields R1 set.
func gzipWithHeader(payload []byte, fname, fcomment, extra string) []byte {
	flg := byte(0)
	h := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}
	if extra != "" {
		flg |= 4
		h = binary.LittleEndian.AppendUint16(h, uint16(len(extra)))
		h = append(h, extra...)
	}
	if fname != "" {
		flg |= 8
		h = append(append(h, fname...), 0)
	}
	if fcomment != "" {
		flg |= 16
		h = append(append(h, fcomment...), 0)
	}
	h[3] = flg
	body := gzipBytes(payload) // its deflate data and trailer follow its own 10-byte header
	return append(h, body[10:]...)
}

// M6: a gzip header's FEXTRA, FNAME and FCOMMENT are searched as "STREAM [gzip header]".
func TestGzipHeaderFieldsAreSearched(t *testing.T) {
	aws := strings.TrimSpace(awsKeys)
	for _, tc := range []struct{ name, fname, comment, extra string }{
		{"comment", "notes.txt", aws, ""},
		{"extra", "", "", "AK" + string([]byte{byte(len(awsKeys)), 0}) + awsKeys},
		{"name", "aws_access_key_id = " + awsKeyID + " aws_secret_access_key = " + awsSecret, "", ""},
	} {
		gz := gzipWithHeader([]byte("nothing here\n"), tc.fname, tc.comment, tc.extra)
		r := scanBytes(t, Options{}, "/opt/app/hdr.gz", gz)
		if r.err != nil || !r.foundAWS(t, "/opt/app/hdr.gz [gzip header]") {
			t.Errorf("%s: err %v, found %+v", tc.name, r.err, r.found)
		}
	}
	// the second member's header too
	gz := append(gzipWithHeader([]byte("first\n"), "a", "", ""), gzipWithHeader([]byte("second\n"), "", aws, "")...)
	if r := scanBytes(t, Options{}, "/opt/app/multi.gz", gz); r.err != nil || !r.foundAWS(t, "/opt/app/multi.gz [gzip header]") {
		t.Errorf("second member: err %v, found %+v", r.err, r.found)
	}
}

// M12: a squashfs image stored as a file (mksquashfs) is unseen, with the reason.
func TestSquashfsFileIsUnseen(t *testing.T) {
	needTool(t, "mksquashfs")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src", "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "etc", "app.conf"), []byte(awsKeys), 0o644)
	img := filepath.Join(dir, "data.squashfs")
	if out, err := exec.Command("mksquashfs", filepath.Join(dir, "src"), img, "-noappend", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v %s", err, out)
	}
	b, _ := os.ReadFile(img)
	r := scanBytes(t, Options{}, "/opt/img/data.squashfs", b)
	if r.err == nil || !strings.Contains(r.err.Error(), "/opt/img/data.squashfs: a squashfs image, which this checker does not open") {
		t.Errorf("err %v", r.err)
	}
	if squashfsSuperblock(append([]byte("hsqs"), make([]byte, 200)...)) {
		t.Error("hsqs and zeros taken for a squashfs superblock")
	}
}

// M14: zlib streams (git's loose objects, made by git itself; .zz) and LZMA-alone (xz
// --format=lzma) are opened, and so is a git packfile (archive_gitpack.go: its objects named by
// their ids); text that only starts like a zlib header is searched as text.
func TestZlibLZMAAndGit(t *testing.T) {
	var zz bytes.Buffer
	zw := zlib.NewWriter(&zz)
	zw.Write([]byte(awsKeys))
	zw.Close()
	if r := scanBytes(t, Options{}, "/opt/app/app.conf.zz", zz.Bytes()); r.err != nil || !r.foundAWS(t, "/opt/app/app.conf.zz!/app.conf") {
		t.Errorf("zz: err %v, found %+v", r.err, r.found)
	}
	// "x^" is a valid zlib header; what follows is not deflate: searched as the text it is
	text := []byte("x^ says the note\n" + awsKeys)
	if r := scanBytes(t, Options{}, "/opt/app/note.txt", text); r.err != nil || !r.foundAWS(t, "/opt/app/note.txt") {
		t.Errorf("x^ text: err %v, found %+v", r.err, r.found)
	}
	// a zlib stream cut short: what decoded is searched, then its bytes
	cut := zz.Bytes()[:len(zz.Bytes())-6]
	if r := scanBytes(t, Options{}, "/opt/app/cut.zz", cut); r.err != nil || !r.foundAWS(t, "/opt/app/cut.zz!/cut") {
		t.Errorf("cut zz: err %v, found %+v", r.err, r.found)
	}
	needTool(t, "xz")
	cmd := exec.Command("xz", "--format=lzma", "-c")
	cmd.Stdin = strings.NewReader(awsKeys)
	lz, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if r := scanBytes(t, Options{}, "/opt/app/app.conf.lzma", lz); r.err != nil || !r.foundAWS(t, "/opt/app/app.conf.lzma!/app.conf") {
		t.Errorf("lzma: err %v, found %+v", r.err, r.found)
	}
	needTool(t, "git")
	repo := t.TempDir()
	git := func(args ...string) {
		c := exec.Command("git", append([]string{"-c", "user.email=a@b.c", "-c", "user.name=a"}, args...)...)
		c.Dir = repo
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q")
	os.WriteFile(filepath.Join(repo, "app.conf"), []byte(awsKeys), 0o644)
	git("add", "app.conf")
	git("commit", "-qm", "add")
	out, _ := exec.Command("git", "-C", repo, "rev-parse", "HEAD:app.conf").Output()
	id := strings.TrimSpace(string(out))
	obj, err := os.ReadFile(filepath.Join(repo, ".git", "objects", id[:2], id[2:]))
	if err != nil {
		t.Fatal(err)
	}
	p := "/opt/app/.git/objects/" + id[:2] + "/" + id[2:]
	if r := scanBytes(t, Options{}, p, obj); r.err != nil || !r.foundAWS(t, p+"!/"+id[2:]) {
		t.Errorf("loose object: err %v, found %+v", r.err, r.found)
	}
	git("gc", "-q")
	packs, _ := filepath.Glob(filepath.Join(repo, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	pack, _ := os.ReadFile(packs[0])
	const pp = "/opt/app/.git/objects/pack/p.pack"
	if r := scanBytes(t, Options{}, pp, pack); r.err != nil || !r.foundAWS(t, pp+"!/"+id) {
		t.Errorf("pack: err %v, found %+v", r.err, r.found)
	}
}

// M15: a 16 MiB ext4 image inside a tar (over the size a member is held to) is opened, and the
// gzip inside it; one over the buffered bound is unseen with the reason.
func TestFilesystemImageOverTheSniffedSizeInATar(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "app.conf.gz"), gzipBytes([]byte(awsKeys)), 0o644)
	img, err := os.ReadFile(testfixture.Filesystem(t, "ext4", dir, "16M"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(img)) <= maxSniffedMember {
		t.Fatalf("the image is %d bytes, not over %d", len(img), maxSniffedMember)
	}
	backup := tarBytes(t, "disk.img", img, '0')
	r := scanBytes(t, Options{}, "/var/backups/backup.tar", backup)
	if r.err != nil || !r.foundAWS(t, "/var/backups/backup.tar!/disk.img!/etc/app.conf.gz!/app.conf") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	old := maxBufferedMember
	maxBufferedMember = 12 << 20
	defer func() { maxBufferedMember = old }()
	r = scanBytes(t, Options{}, "/var/backups/backup.tar", backup)
	if r.err == nil || !strings.Contains(r.err.Error(), "/var/backups/backup.tar!/disk.img: a disk or filesystem image of 16777216 bytes, over the size limit for a nested filesystem image") {
		t.Errorf("over the bound: err %v", r.err)
	}
}

// FuzzArchiveIssue24: the readers added for issue #24 (a weak zlib or LZMA-alone sign, gzip
// header fields, PAX records, local entries outside a zip's directory, a squashfs superblock, a
// large filesystem image in a stream) take any bytes without panicking or unpacking past the
// limit; the seeds are one of each.
func FuzzArchiveIssue24(f *testing.F) {
	var zz bytes.Buffer
	zw := zlib.NewWriter(&zz)
	zw.Write([]byte(awsKeys))
	zw.Close()
	f.Add(zz.Bytes())
	f.Add([]byte("x^ plain text that starts like zlib\n"))
	f.Add(append([]byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, "\x30\x9d\x00"...))
	f.Add(gzipWithHeader([]byte("x\n"), "name", "comment", "AB\x02\x00xy"))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "g", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "c"}})
	tw.WriteHeader(&tar.Header{Name: "a", Size: 1, Typeflag: tar.TypeReg, PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}})
	tw.Write([]byte("x"))
	tw.Close()
	f.Add(b.Bytes())
	one := zipBytes(f, "a.conf", []byte(awsKeys), 0)
	f.Add(append(append([]byte(nil), one...), zipBytes(f, "b", []byte("x"), 0)...))
	sq := append([]byte("hsqs"), make([]byte, 96)...)
	binary.LittleEndian.PutUint32(sq[12:], 1<<17)
	binary.LittleEndian.PutUint16(sq[22:], 17)
	binary.LittleEndian.PutUint16(sq[28:], 4)
	f.Add(sq)
	f.Add([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01"))
	s, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	old := maxArchiveUnpacked
	maxArchiveUnpacked = 4 << 20
	defer func() { maxArchiveUnpacked = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		w, _ := s.NewWorker()
		u := &unpacking{top: "fuzz"}
		if kind := sniffContainer(data, bytes.NewReader(data), int64(len(data))); kind.recognised() {
			w.(*worker).openTop(u, "fuzz", kind, bytes.NewReader(data), int64(len(data)))
		}
		w.(*worker).searchMember(u, "fuzz", int64(len(data)), bytes.NewReader(data), nil, 0)
		if zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			zipOrphans(u, "fuzz", zr, bytes.NewReader(data), int64(len(data)))
		}
		lzmaHeaderParts(data)
		if u.unpacked > maxArchiveUnpacked+(64<<10) {
			t.Fatalf("unpacked %d bytes", u.unpacked)
		}
	})
}

// A stream taken for zlib by its first bytes that stops decoding later is searched as the bytes
// it is: a key after the broken stream is found, nothing is left unseen.
func TestWeakStreamThatBreaksIsSearchedAsBytes(t *testing.T) {
	noise := make([]byte, 16<<10)
	rand.New(rand.NewSource(24)).Read(noise) // incompressible: the stream is longer than the probe
	var zz bytes.Buffer
	zw := zlib.NewWriter(&zz)
	zw.Write(noise)
	zw.Close()
	b := append([]byte(nil), zz.Bytes()...)
	if len(b) < 2*sniffBytes {
		t.Fatalf("the stream is %d bytes: its break would be inside the probe", len(b))
	}
	for i := sniffBytes + 100; i < len(b); i += 97 {
		b[i] ^= 0x5a
	}
	b = append(b, "\n"+awsKeys...)
	if !zlibHeader(b) {
		t.Fatal("the stream's start is not taken for zlib")
	}
	if r := scanBytes(t, Options{}, "/opt/app/x.zz", b); r.err != nil || !r.foundAWS(t, "/opt/app/x.zz") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
}

// An executable jar (a launch script, then the zip: found by the zip's end record) that is a
// member of a tar or a .tgz too large to be held as a member is (maxSniffedMember) is read into
// memory up to maxBufferedMember and opened (red-team finding: a fat jar over 8 MiB in a release
// tarball was searched only as its deflated bytes).
func TestLargeExecutableJarInATarIsOpened(t *testing.T) {
	oldSniffed, oldBuffered := maxSniffedMember, maxBufferedMember
	defer func() { maxSniffedMember, maxBufferedMember = oldSniffed, oldBuffered }()
	launcher := "#!/bin/sh\n# Spring Boot executable jar\n" + strings.Repeat("# launch script option\n", 200) + "exec java -jar \"$0\" \"$@\"\n"
	jar := append([]byte(launcher), zipBytes(t, "BOOT-INF/classes/application.properties", []byte(awsKeys), 0)...)
	maxSniffedMember = int64(len(jar)) - 1 // the jar is over it: not held as a member is
	maxBufferedMember = int64(len(jar))
	tb := tarBytes(t, "app/app.jar", jar, '0')
	for name, b := range map[string][]byte{"/srv/release.tar": tb, "/srv/release.tgz": gzipBytes(tb)} {
		r := scanBytes(t, Options{}, name, b)
		if r.err != nil || !r.foundAWS(t, name+"!/app/app.jar!/BOOT-INF/classes/application.properties") {
			t.Errorf("%s: err %v, found %+v", name, r.err, r.found)
		}
	}
	// one byte over the buffered bound: searched as its bytes, and named as a zip not opened
	// (red-team finding: a 70 MiB fat jar in a .tgz passed with nothing unseen); a member of
	// the same size that is no zip is searched, nothing unseen
	maxBufferedMember = int64(len(jar)) - 1
	for name, b := range map[string][]byte{"/srv/release.tar": tb, "/srv/release.tgz": gzipBytes(tb)} {
		r := scanBytes(t, Options{}, name, b)
		if r.err == nil || !strings.Contains(r.err.Error(), name+"!/app/app.jar is a zip (found by its end record) inside an archive, larger than") {
			t.Errorf("%s over the bound: err %v", name, r.err)
		}
	}
	plain := tarBytes(t, "app/app.log", bytes.Repeat([]byte("log line\n"), len(jar)/9+1), '0')
	if r := scanBytes(t, Options{}, "/srv/logs.tar", plain); r.err != nil {
		t.Errorf("a large member that is no zip: %v", r.err)
	}
}

// Metadata fields are searched each by itself (red-team finding: a key ID at the end of a zip
// entry's comment or extra field ran into the next header's "PK", and a tar link's target was
// not searched at all, unlike an ext4 symlink's): a zip's archive comment, an entry's comment
// and an extra field holding text, a tar symlink's and hard link's target, each named.
func TestContainerMetadataFieldsAreSearched(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, h := range []*zip.FileHeader{
		{Name: "a.txt", Method: zip.Store, Comment: "aws_access_key_id = " + awsKeyID},
		{Name: "b.txt", Method: zip.Store, Extra: append([]byte{0x99, 0x99, 40, 0}, []byte("aws_access_key_id = "+awsKeyID)...)},
	} {
		f, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("hello\n"))
	}
	zw.SetComment("deploy key " + awsKeyID)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := "/srv/bundle.zip"
	r := scanBytes(t, Options{}, p, zb.Bytes())
	for _, at := range []string{p + " [zip comment]", p + "!/a.txt [zip comment]", p + "!/b.txt [zip extra field]"} {
		if r.err != nil || !r.foundAWS(t, at) {
			t.Errorf("%s: err %v, found %+v", at, r.err, r.found)
		}
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, h := range []*tar.Header{
		{Name: "key", Typeflag: tar.TypeSymlink, Linkname: awsKeyID, Mode: 0o777},
		{Name: "link", Typeflag: tar.TypeLink, Linkname: "dir/" + awsKeyID, Mode: 0o644},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	r = scanBytes(t, Options{}, "/srv/links.tar", tb.Bytes())
	for _, at := range []string{"/srv/links.tar!/key [link target]", "/srv/links.tar!/link [link target]"} {
		if r.err != nil || !r.foundAWS(t, at) {
			t.Errorf("%s: err %v, found %+v", at, r.err, r.found)
		}
	}
}

// holdsText's bound: a run of minFieldText printable bytes is text, one shorter is not, and a
// byte that is not printable ends a run.
func TestHoldsText(t *testing.T) {
	for in, want := range map[string]bool{"1234567": false, "12345678": true, "1234\x00567890": false, "\x01\x02aws_key=\x00": true, "": false} {
		if got := holdsText([]byte(in)); got != want {
			t.Errorf("holdsText(%q) = %v, want %v", in, got, want)
		}
	}
}
