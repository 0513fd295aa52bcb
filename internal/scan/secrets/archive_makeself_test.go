package secrets

import (
	"archive/tar"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// issue #24 (FMT 1): a makeself .run installer, built by makeself itself, with each compressor it
// offers: the payload's file FAILs as FILE!@OFFSET!/MEMBER, nothing unseen.
func TestMakeselfInstallers(t *testing.T) {
	needTool(t, "makeself")
	for _, c := range []struct {
		flag  string
		magic string
	}{
		{"--gzip", "\x1f\x8b\x08"},
		{"--bzip2", "BZh"},
		{"--xz", "\xfd7zXZ\x00"},
		{"--zstd", "\x28\xb5\x2f\xfd"},
		{"--nocomp", ""},
	} {
		t.Run(c.flag, func(t *testing.T) {
			switch c.flag {
			case "--bzip2":
				needTool(t, "bzip2")
			case "--xz":
				needTool(t, "xz")
			case "--zstd":
				needTool(t, "zstd")
			}
			dir := t.TempDir()
			src := filepath.Join(dir, "payload")
			os.MkdirAll(filepath.Join(src, "conf"), 0o755)
			os.WriteFile(filepath.Join(src, "conf", "aws.ini"), []byte(awsKeys), 0o644)
			os.WriteFile(filepath.Join(src, "setup.sh"), []byte("#!/bin/sh\necho installed\n"), 0o755)
			out := filepath.Join(dir, "installer.run")
			cmd := exec.Command("makeself", "--quiet", "--nox11", c.flag, src, out, "test installer", "./setup.sh")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("makeself: %v %s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(awsKeyID)) && c.flag != "--nocomp" {
				t.Fatal("the key is in the installer's bytes as they are: the test would not prove the payload is opened")
			}
			off := payloadOffset(t, b, c.magic)
			want := fmt.Sprintf("/opt/vendor/installer.run!@%d!/conf/aws.ini", off)
			r := scanBytes(t, Options{}, "/opt/vendor/installer.run", b)
			if r.err != nil || !r.foundAWS(t, want) {
				t.Errorf("err %v, want %s in %+v", r.err, want, r.found)
			}
		})
	}
}

// payloadOffset is where makeself put the payload: the first line start followed by magic (or
// a tar header), found here independently of the scanner.
func payloadOffset(t *testing.T, b []byte, magic string) int {
	t.Helper()
	if magic == "" {
		for i := 0; i+1+512 <= len(b); i++ {
			if b[i] == '\n' && string(b[i+1+257:i+1+262]) == "ustar" {
				return i + 1
			}
		}
		t.Fatal("no tar after the script")
	}
	i := bytes.Index(b, []byte("\n"+magic))
	if i < 0 {
		t.Fatal("no payload after the script")
	}
	return i + 1
}

// The script itself is the file's own bytes: a key in it FAILs under the file's name; what
// follows the archive is searched too.
func TestSelfExtractorScriptAndPayload(t *testing.T) {
	script := "#!/bin/sh\n# " + awsKeys + "tail -n +6 \"$0\" | tar xz\nexit 0\n"
	payload := gzipBytes(fmtTar(t, map[string][]byte{"etc/app.ini": []byte(awsKeys)}))
	b := append([]byte(script), payload...)
	r := scanBytes(t, Options{}, "/usr/local/bin/install.sh", b)
	if r.err != nil || !r.foundAWS(t, "/usr/local/bin/install.sh") ||
		!r.foundAWS(t, fmt.Sprintf("/usr/local/bin/install.sh!@%d!/etc/app.ini", len(script))) {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	// the payload's bytes only count from a line start: the same gzip stream in the middle of
	// a line is not a payload (and its key is not in plain bytes)
	mid := append([]byte("#!/bin/sh\nexit 0\nDATA:"), payload...)
	r = scanBytes(t, Options{}, "/usr/local/bin/mid.sh", mid)
	if r.outcome == scan.Opened {
		t.Errorf("a stream in mid-line opened: %+v", r.found)
	}
	// a corrupt stream after the script: the gzip magic at a line start but nothing that
	// decodes is not a payload; the file is searched as the script it is
	bad := append([]byte("#!/bin/sh\n"+awsKeys), append([]byte{0x1f, 0x8b, 0x08, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, bytes.Repeat([]byte{0xff}, 64)...)...)
	r = scanBytes(t, Options{}, "/usr/local/bin/bad.sh", bad)
	if r.err != nil || !r.foundAWS(t, "/usr/local/bin/bad.sh") {
		t.Errorf("bad: err %v, found %+v", r.err, r.found)
	}
}

// A payload whose stream breaks after its start is not seen: ERROR with the path, never PASS.
func TestSelfExtractorTruncatedPayload(t *testing.T) {
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i*7919>>3) ^ byte(i>>11)
	}
	payload := gzipBytes(fmtTar(t, map[string][]byte{"etc/app.ini": []byte(awsKeys), "blob": big}))
	b := append([]byte("#!/bin/sh\nexit 0\n"), payload[:len(payload)/2]...)
	r := scanBytes(t, Options{}, "/opt/x.run", b)
	if r.err == nil || !strings.Contains(r.err.Error(), "/opt/x.run!@17") {
		t.Errorf("truncated: err %v, found %+v", r.err, r.found)
	}
}

// Negatives: a shell script with a here-doc of hex (a payload written as text) is a script; one
// with a NUL before the magic is not a script prefix.
func TestSelfExtractorNegatives(t *testing.T) {
	payload := gzipBytes(fmtTar(t, map[string][]byte{"a": []byte("harmless\n")}))
	hexdoc := "#!/bin/sh\nxxd -r -p > /tmp/a.tgz <<'EOF'\n" + fmt.Sprintf("%x", payload) + "\nEOF\n"
	r := scanBytes(t, Options{}, "/usr/local/bin/hexdoc.sh", []byte(hexdoc))
	if r.err != nil || len(r.found) != 0 || r.outcome == scan.Opened {
		t.Errorf("hexdoc: err %v outcome %v found %+v", r.err, r.outcome, r.found)
	}
	// "ustar" where a tar header has it, in a line of text: no valid checksum, not a tar
	fake := "#!/bin/sh\necho '" + strings.Repeat("x", 257-len("echo '")) + "ustar" + strings.Repeat("y", 300) + "'\n" + awsKeys
	r = scanBytes(t, Options{}, "/usr/local/bin/fake.sh", []byte(fake))
	if r.err != nil || r.outcome == scan.Opened || !r.foundAWS(t, "/usr/local/bin/fake.sh") {
		t.Errorf("fake tar: err %v outcome %v found %+v", r.err, r.outcome, r.found)
	}
	withNUL := append([]byte("#!/bin/sh\n\x00\n"), payload...)
	if _, _, ok := selfExtractorPayload(withNUL, bytes.NewReader(withNUL), int64(len(withNUL))); ok {
		t.Error("a prefix with a NUL byte taken for a script")
	}
	plain := append([]byte("#!/bin/sh\n"), payload...)
	if off, k, ok := selfExtractorPayload(plain, bytes.NewReader(plain), int64(len(plain))); !ok || off != 10 || k != gzipStream {
		t.Errorf("script + tar.gz: %d %v %v", off, k, ok)
	}
	// past maxScriptPrefix the payload is not looked for
	long := append([]byte("#!/bin/sh\n"+strings.Repeat("# padding line\n", (256<<10)/15+1)), payload...)
	if _, _, ok := selfExtractorPayload(long[:sniffBytes], bytes.NewReader(long), int64(len(long))); ok {
		t.Error("a payload past maxScriptPrefix found")
	}
	within := append([]byte("#!/bin/sh\n"+strings.Repeat("# padding line\n", (256<<10)/15-2)), payload...)
	if _, _, ok := selfExtractorPayload(within[:sniffBytes], bytes.NewReader(within), int64(len(within))); !ok {
		t.Error("a payload within maxScriptPrefix not found")
	}
}

// issue #24 (FMT 3): pzstd writes a skippable frame before each zstd frame; the frames after it
// are read.
func TestPzstdSkippableFrames(t *testing.T) {
	needTool(t, "pzstd")
	dir := t.TempDir()
	src := filepath.Join(dir, "creds")
	os.WriteFile(src, []byte(strings.Repeat("# comment line\n", 2000)+awsKeys), 0o644)
	if b, err := exec.Command("pzstd", "-q", "-p", "2", src, "-o", src+".zst").CombinedOutput(); err != nil {
		t.Fatalf("pzstd: %v %s", err, b)
	}
	b, _ := os.ReadFile(src + ".zst")
	if !zstdSkippableStart(b) {
		t.Fatalf("pzstd output starts %x, not a skippable frame", b[:8])
	}
	r := scanBytes(t, Options{}, "/var/backups/creds.zst", b)
	if r.err != nil || !r.foundAWS(t, "/var/backups/creds.zst!/creds") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	// a tar through pzstd
	tarPath := filepath.Join(dir, "etc.tar")
	os.WriteFile(tarPath, fmtTar(t, map[string][]byte{"etc/aws/credentials": []byte(awsKeys)}), 0o644)
	if b, err := exec.Command("pzstd", "-q", tarPath, "-o", tarPath+".zst").CombinedOutput(); err != nil {
		t.Fatalf("pzstd: %v %s", err, b)
	}
	b, _ = os.ReadFile(tarPath + ".zst")
	r = scanBytes(t, Options{}, "/var/backups/etc.tar.zst", b)
	if r.err != nil || !r.foundAWS(t, "/var/backups/etc.tar.zst!/etc/aws/credentials") {
		t.Errorf("tar: err %v, found %+v", r.err, r.found)
	}
	// a skippable frame followed by something that is not a frame is not zstd
	if zstdSkippableStart([]byte("\x50\x2a\x4d\x18\x04\x00\x00\x00abcdPLAIN")) {
		t.Error("a skippable frame before plain text taken for zstd")
	}
	if !zstdSkippableStart([]byte("\x5f\x2a\x4d\x18\x00\x00\x00\x00\x28\xb5\x2f\xfd")) {
		t.Error("magic 0x184D2A5F not recognised")
	}
}

// issue #24 (FMT 4): a cramfs image (mkfs.cramfs) is opened: a file of one block, one of many
// blocks with a hole, in nested directories, FAIL as IMAGE!/PATH; a symbolic link is not a file.
func TestCramfsIsOpened(t *testing.T) {
	needTool(t, "mkfs.cramfs")
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "etc", "app", "conf.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "aws"), []byte(awsKeys), 0o644)
	big := make([]byte, 5*cramfsPage)
	for i := range big {
		big[i] = "abcdefghij\n"[i*7%11]
	}
	copy(big[3*cramfsPage+100:], awsKeys)
	clear(big[cramfsPage : 2*cramfsPage]) // a block of zeros: a hole
	os.WriteFile(filepath.Join(root, "etc", "app", "conf.d", "big.conf"), big, 0o644)
	os.Symlink("aws", filepath.Join(root, "etc", "link"))
	img := filepath.Join(dir, "rootfs.cramfs")
	if b, err := exec.Command("mkfs.cramfs", "-z", root, img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.cramfs: %v %s", err, b)
	}
	b, _ := os.ReadFile(img)
	if bytes.Contains(b, []byte(awsKeyID)) {
		t.Fatal("the key is in the image as it is")
	}
	r := scanBytes(t, Options{}, "/opt/fw/rootfs.cramfs", b)
	if r.err != nil || !r.foundAWS(t, "/opt/fw/rootfs.cramfs!/etc/aws") || !r.foundAWS(t, "/opt/fw/rootfs.cramfs!/etc/app/conf.d/big.conf") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	for _, f := range r.found {
		if strings.HasSuffix(f.Path, "!/etc/link") {
			t.Errorf("a symbolic link searched as a file: %s", f.Path)
		}
	}
	// a block that does not decompress is not seen, named with the file and the block: every
	// zlib header's check bits broken
	hdr := -1
	for _, h := range [][]byte{{0x78, 0x9c}, {0x78, 0xda}, {0x78, 0x5e}, {0x78, 0x01}} {
		if bytes.Contains(b, h) {
			hdr = int(h[1])
		}
	}
	if hdr < 0 {
		t.Fatal("no zlib block in the image")
	}
	broken := bytes.ReplaceAll(b, []byte{0x78, byte(hdr)}, []byte{0x78, byte(hdr) ^ 1})
	r = scanBytes(t, Options{}, "/opt/fw/broken.cramfs", broken)
	if r.err == nil || !strings.Contains(r.err.Error(), "/opt/fw/broken.cramfs!/etc/") || !strings.Contains(r.err.Error(), "block 0") {
		t.Errorf("broken: err %v", r.err)
	}
	// extended block pointers are not read: unseen with the reason
	ext := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(ext[8:], binary.LittleEndian.Uint32(ext[8:])|cramfsExtBlocks)
	r = scanBytes(t, Options{}, "/opt/fw/ext.cramfs", ext)
	if r.err == nil || !strings.Contains(r.err.Error(), "extended block pointers") {
		t.Errorf("ext: err %v", r.err)
	}
	// at 512, after a boot sector; the magic without the signature is not cramfs
	shifted := append(make([]byte, 512), b...)
	if !cramfsSuperblock(shifted) {
		t.Error("cramfs at 512 not recognised")
	}
	brokenSig := append([]byte(nil), b[:64]...)
	copy(brokenSig[16:], "Compressed ROMFZ")
	if cramfsSuperblock(brokenSig) {
		t.Error("the magic without the signature taken for cramfs")
	}
}

// fmtTar is a tar of the files, in name order.
func fmtTar(t testing.TB, files map[string][]byte) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		w.Write(files[n])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzCramfs opens images mutated from mkfs.cramfs's through the scanner: never a panic, and
// what is not read is named.
func FuzzCramfs(f *testing.F) {
	if _, err := exec.LookPath("mkfs.cramfs"); err == nil {
		dir := f.TempDir()
		os.MkdirAll(filepath.Join(dir, "root", "d"), 0o755)
		os.WriteFile(filepath.Join(dir, "root", "d", "f"), bytes.Repeat([]byte("text\n"), 2000), 0o644)
		os.Symlink("d/f", filepath.Join(dir, "root", "l"))
		img := filepath.Join(dir, "x.cramfs")
		if err := exec.Command("mkfs.cramfs", filepath.Join(dir, "root"), img).Run(); err == nil {
			b, _ := os.ReadFile(img)
			f.Add(b)
		}
	}
	proto, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !cramfsSuperblock(b) {
			return
		}
		scanWith(t, proto, "/opt/fw/fuzz.cramfs", b)
	})
}

// FuzzSelfExtractor: a script followed by anything is recognised or not, and opened through
// the scanner, never a panic.
func FuzzSelfExtractor(f *testing.F) {
	f.Add(append([]byte("#!/bin/sh\nexit 0\n"), gzipBytes(fmtTar(f, map[string][]byte{"a": []byte("x\n")}))...))
	f.Add([]byte("#!/bin/sh\n\x28\xb5\x2f\xfd\x04\x00\x00\x00"))
	proto, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		off, _, ok := selfExtractorPayload(b[:min(len(b), sniffBytes)], bytes.NewReader(b), int64(len(b)))
		if !ok {
			return
		}
		if off <= 0 || off >= int64(len(b)) || b[off-1] != '\n' {
			t.Fatalf("payload at %d of %d", off, len(b))
		}
		scanWith(t, proto, "/opt/x.run", b)
	})
}

// cramfsIno is an inode as cramfs_fs.h lays it out (name length and offset in 4-byte units).
func cramfsIno(mode uint16, size int, name string, off int) []byte {
	for len(name)%4 != 0 {
		name += "\x00"
	}
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b, uint32(mode))
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	binary.LittleEndian.PutUint32(b[8:], uint32(len(name)/4)|uint32(off/4)<<6)
	return append(b, name...)
}

// handCramfs is an image: the superblock, the root directory (at 128) with the given entries,
// and data laid at the offsets the entries give.
func handCramfs(rootEntries []byte, data map[int][]byte) []byte {
	img := make([]byte, 8192)
	binary.LittleEndian.PutUint32(img, 0x28cd3d45)
	binary.LittleEndian.PutUint32(img[8:], 3)
	copy(img[16:], "Compressed ROMFS")
	copy(img[64:], cramfsIno(0o040755, len(rootEntries), "", 128)[:12])
	copy(img[128:], rootEntries)
	for off, d := range data {
		copy(img[off:], d)
	}
	return img
}

// Blocks that decompress to another size than the inode's, a directory loop and a symbolic
// link are read as the kernel would (an error, named; a loop named; a link not a file).
func TestCramfsHandBuilt(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, 9)
	zw.Write([]byte(awsKeys))
	zw.Close()
	block := func(at int) []byte {
		p := make([]byte, 4)
		binary.LittleEndian.PutUint32(p, uint32(at+4+z.Len()))
		return append(p, z.Bytes()...)
	}
	ok := handCramfs(cramfsIno(0o100644, len(awsKeys), "aws", 1024), map[int][]byte{1024: block(1024)})
	r := scanBytes(t, Options{}, "/fw/ok.cramfs", ok)
	if r.err != nil || !r.foundAWS(t, "/fw/ok.cramfs!/aws") {
		t.Errorf("ok: err %v, found %+v", r.err, r.found)
	}
	short := handCramfs(cramfsIno(0o100644, len(awsKeys)-10, "aws", 1024), map[int][]byte{1024: block(1024)})
	r = scanBytes(t, Options{}, "/fw/short.cramfs", short)
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("/fw/short.cramfs!/aws: block 0 decompresses to %d bytes, not %d", len(awsKeys), len(awsKeys)-10)) {
		t.Errorf("short: err %v", r.err)
	}
	link := handCramfs(cramfsIno(0o120777, len(awsKeys), "link", 1024), map[int][]byte{1024: block(1024)})
	r = scanBytes(t, Options{}, "/fw/link.cramfs", link)
	if r.err != nil || len(r.found) != 0 {
		t.Errorf("link: err %v, found %+v", r.err, r.found)
	}
	loopEntry := cramfsIno(0o040755, 0, "up", 128)
	binary.LittleEndian.PutUint32(loopEntry[4:], uint32(len(loopEntry)))
	loop := handCramfs(loopEntry, nil)
	r = scanBytes(t, Options{}, "/fw/loop.cramfs", loop)
	if r.err == nil || !strings.Contains(r.err.Error(), "/fw/loop.cramfs!/up: directory at offset 128 listed twice") {
		t.Errorf("loop: err %v", r.err)
	}
}

// Directories nested cramfsMaxDepth deep are read; one more is named.
func TestCramfsDepth(t *testing.T) {
	for _, n := range []int{64, 65} {
		data := map[int][]byte{}
		for k := 0; k < n; k++ {
			if k < n-1 {
				data[1024+16*k] = cramfsIno(0o040755, 16, "d", 1024+16*(k+1))
			}
		}
		img := handCramfs(cramfsIno(0o040755, 16, "d", 1024), data)
		// the last directory is empty (size 0)
		binary.LittleEndian.PutUint32(img[1024+16*(n-2)+4:], 0)
		r := scanBytes(t, Options{}, "/fw/deep.cramfs", img)
		if (r.err != nil) != (n == 65) || n == 65 && !strings.Contains(r.err.Error(), "nested more than 64 deep") {
			t.Errorf("%d deep: err %v", n, r.err)
		}
	}
}
