package secrets

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// awsKeys is the live-looking AWS key pair each case of issue 24 plants once.
const (
	awsKeyID  = "AKIAQ3XL7RJ5Z2WVNB4K"
	awsSecret = "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"
	awsKeys   = "[default]\naws_access_key_id = " + awsKeyID + "\naws_secret_access_key = " + awsSecret + "\n"
)

// result is what the scanner made of one file of an image.
type result struct {
	found   []Finding
	err     error // End's: what was not seen
	outcome scan.Outcome
}

// scanBytes streams content to a fresh scanner the way the pass does (random access in
// f.Data, a 64 KiB first read, then 1 MiB reads).
func scanBytes(t testing.TB, opts Options, p string, content []byte) result {
	t.Helper()
	if opts.FingerprintKey == nil {
		opts.FingerprintKey = []byte("test")
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return scanWith(t, s, p, content)
}

// scanWith is scanBytes with a scanner made before (building the detector takes time): the
// result has the findings of this file only.
func scanWith(t testing.TB, proto *Scanner, p string, content []byte) result {
	t.Helper()
	s := &Scanner{opts: proto.opts, det: proto.det, strict: proto.strict, allowFP: proto.allowFP}
	w, _ := s.NewWorker()
	f := &scan.File{Path: p, Location: p, Size: int64(len(content)), Data: bytes.NewReader(content)}
	k, err := w.Begin(f)
	if err != nil || k == nil {
		t.Fatalf("Begin: %v, sink %v", err, k)
	}
	for off, n := 0, 64<<10; off < len(content); off, n = off+n, 1<<20 {
		if err := k.Write(content[off:min(len(content), off+n)]); err != nil {
			if errors.Is(err, scan.ErrEnough) {
				break
			}
			t.Fatal(err)
		}
	}
	err = k.End()
	return result{found: s.Findings(), err: err, outcome: k.(scan.Accounted).Outcome()}
}

// foundAWS says whether the AWS key ID was found at path p, and that no finding prints it.
func (r result) foundAWS(t testing.TB, p string) bool {
	t.Helper()
	ok := false
	for _, f := range r.found {
		if strings.Contains(f.Excerpt, awsKeyID) || strings.Contains(f.Excerpt, awsSecret) {
			t.Errorf("%s: the excerpt prints the secret: %q", f.Path, f.Excerpt)
		}
		if f.Path == p && f.Rule == "aws-access-token" {
			ok = true
		}
	}
	return ok
}

func encodeUTF16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// encodeUTF32 is s in UTF-32, little- or big-endian.
func encodeUTF32(s string, big bool) []byte {
	var b []byte
	for _, r := range s {
		u := uint32(r)
		if big {
			b = append(b, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
	}
	return b
}

// Each case of issue 24 that walked around the credential rule, built the way the issue writes
// it: the key is found, named by its path (ARCHIVE!/MEMBER inside containers).
func TestIssue24Cases(t *testing.T) {
	launcher := []byte("#!/bin/sh\n# Spring Boot executable jar\nexec java -jar \"$0\" \"$@\"\nexit 0\n")
	creds := map[string][]byte{"etc/creds.ini": []byte(awsKeys)}
	microcode := cpioBytes(map[string][]byte{"kernel/x86/microcode/GenuineIntel.bin": bytes.Repeat([]byte{0, 1, 2, 0xff}, 4096)}, false)
	cases := []struct {
		name, path string
		content    []byte
		want       string // the finding's path
		outcome    scan.Outcome
	}{
		{"1 zero run before the key", "/opt/app/notes.txt",
			append(append([]byte("ok\n"), make([]byte, 70000)...), awsKeys...), "/opt/app/notes.txt", scan.Searched},
		{"2 leading NULs", "/opt/app/creds", append([]byte("\x00\x00"), awsKeys...), "/opt/app/creds", scan.Searched},
		{"2 NUL in a later read", "/opt/app/log",
			append(append([]byte(strings.Repeat("a harmless line of text\n", 5000)), 0), awsKeys...), "/opt/app/log", scan.Searched},
		{"2 ELF binary", "/usr/local/bin/tool",
			append(append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0x48, 0x89, 0xe5, 0, 0xc3}, 3000)...), append([]byte(awsKeys), 0, 0, 0x90)...), "/usr/local/bin/tool", scan.Searched},
		{"3 UTF-16LE without BOM, non-ASCII first", "/opt/app/settings.txt",
			encodeUTF16LE("é€ réglages\r\n" + strings.ReplaceAll(awsKeys, "\n", "\r\n")), "/opt/app/settings.txt", scan.Searched},
		{"3 UTF-16LE inside binary", "/opt/app/app.exe",
			append(append([]byte("MZ\x90\x00\x03\x00"), make([]byte, 300)...), encodeUTF16LE("\x00"+awsKeys)...), "/opt/app/app.exe", scan.Searched},
		{"M7 UTF-32LE with a byte-order mark", "/opt/app/u32.txt", encodeUTF32("\ufeff"+awsKeys, false), "/opt/app/u32.txt", scan.Searched},
		{"M7 UTF-32BE with a byte-order mark", "/opt/app/u32be.txt", encodeUTF32("\ufeff"+awsKeys, true), "/opt/app/u32be.txt", scan.Searched},
		{"M7 UTF-32LE without one, non-ASCII first", "/opt/app/u32-nobom.txt", encodeUTF32("é€ réglages\n"+awsKeys, false), "/opt/app/u32-nobom.txt", scan.Searched},
		{"M7 UTF-32BE without one", "/opt/app/u32be-nobom.txt", encodeUTF32(awsKeys, true), "/opt/app/u32be-nobom.txt", scan.Searched},
		{"4 zip behind a launcher script", "/opt/app/app.jar",
			append(launcher, zipBytes(t, "BOOT-INF/classes/application.properties", []byte(awsKeys), 0)...), "/opt/app/app.jar!/BOOT-INF/classes/application.properties", scan.Opened},
		{"4 bytes before a zip", "/opt/app/sfx.bin",
			append(append([]byte("#!/bin/sh\n"), []byte(awsKeys)...), zipBytes(t, "readme.txt", []byte("hello\n"), 0)...), "/opt/app/sfx.bin", scan.Opened},
		{"5 tar contiguous file", "/opt/app/backup.tar", tarBytes(t, "etc/creds.ini", []byte(awsKeys), '7'), "/opt/app/backup.tar!/etc/creds.ini", scan.Opened},
		{"5 zip symlink entry", "/opt/app/links.zip", zipBytes(t, "creds.ini", []byte(awsKeys), 0o120777), "/opt/app/links.zip!/creds.ini", scan.Opened},
		{"5 zip FIFO entry", "/opt/app/fifo.zip", zipBytes(t, "creds.ini", []byte(awsKeys), 0o010644), "/opt/app/fifo.zip!/creds.ini", scan.Opened},
		{"6 tar.bz2", "/root/backup.tar.bz2", bzip2Bytes(t, tarBytes(t, "etc/creds.ini", []byte(awsKeys), '0')), "/root/backup.tar.bz2!/etc/creds.ini", scan.Opened},
		{"7 initramfs: microcode cpio, then zstd cpio", "/boot/initrd.img-6.1.0-18-amd64",
			append(append([]byte{}, microcode...), zstdBytes(t, cpioBytes(creds, false))...), "/boot/initrd.img-6.1.0-18-amd64!/etc/creds.ini", scan.Opened},
		{"7 initramfs: several gzip members", "/boot/initrd.img-gz",
			append(gzipBytes(cpioBytes(map[string][]byte{"init": []byte("#!/bin/sh\n")}, false)), gzipBytes(cpioBytes(creds, false))...), "/boot/initrd.img-gz!/etc/creds.ini", scan.Opened},
		{"7 initramfs: odc cpio in xz", "/boot/initrd-odc", xzBytes(t, cpioBytes(creds, true)), "/boot/initrd-odc!/etc/creds.ini", scan.Opened},
		{"7 initramfs: lz4", "/boot/initrd-lz4", lz4Bytes(t, cpioBytes(creds, false)), "/boot/initrd-lz4!/etc/creds.ini", scan.Opened},
		{".deb", "/var/cache/apt/archives/app.deb",
			arBytes([][2]string{{"debian-binary", "2.0\n"}, {"control.tar.gz", string(gzipBytes(tarBytes(t, "control", []byte("Package: app\n"), '0')))}, {"data.tar.xz", string(xzBytes(t, tarBytes(t, "./etc/creds.ini", []byte(awsKeys), '0')))}}),
			"/var/cache/apt/archives/app.deb!/data.tar.xz!/etc/creds.ini", scan.Opened},
		{"rpm scriptlet in the header, inside binary", "/root/post.rpm", rpmWithHeader("%post\ncat > /root/.aws/credentials <<EOF\n"+awsKeys+"EOF\n", gzipBytes(cpioBytes(nil, false))), "/root/post.rpm!/<rpm header>", scan.Opened},
		{"rpm payload", "/root/app.rpm", rpmBytes(gzipBytes(cpioBytes(map[string][]byte{"./etc/creds.ini": []byte(awsKeys)}, false))), "/root/app.rpm!/etc/creds.ini", scan.Opened},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(t, Options{}, tc.path, tc.content)
			if r.err != nil {
				t.Errorf("End: %v", r.err)
			}
			if !r.foundAWS(t, tc.want) {
				t.Errorf("no aws-access-token at %s; found %+v", tc.want, r.found)
			}
			if r.outcome != tc.outcome {
				t.Errorf("outcome %v, want %v", r.outcome, tc.outcome)
			}
			// a finding in the strings of binary bytes has no line; text keeps its lines
			for _, f := range r.found {
				binary := strings.HasPrefix(tc.name, "1 ") || strings.HasPrefix(tc.name, "2 ") || strings.HasSuffix(tc.name, "inside binary")
				if binary != (f.Line == 0) || binary != strings.HasSuffix(f.Description, "(in binary data)") {
					t.Errorf("line %d, description %q", f.Line, f.Description)
				}
			}
		})
	}
}

// Case 10b: an ext4 filesystem image stored as a file (made by mke2fs -d) is opened and its
// files are searched as IMAGE!/PATH; as a partitioned disk too.
func TestFilesystemImageInAFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "home", "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "home", "app", "credentials"), []byte(awsKeys), 0o600)
	for _, typ := range []string{"ext4", "xfs"} {
		img, err := os.ReadFile(testfixture.Filesystem(t, typ, dir, "300M"))
		if err != nil {
			t.Fatal(err)
		}
		r := scanBytes(t, Options{}, "/var/backups/"+typ+".img", img)
		if r.err != nil || r.outcome != scan.Opened || !r.foundAWS(t, "/var/backups/"+typ+".img!/home/app/credentials") {
			t.Errorf("%s: err %v, outcome %v, found %+v", typ, r.err, r.outcome, r.found)
		}
	}
}

// What is recognised but not opened is named, with its reason, by End's error: never a silent
// pass.
func TestUnopenedContainersAreUnseen(t *testing.T) {
	encrypted := zipBytes(t, "creds.ini", []byte(awsKeys), 0)
	encrypted[6] |= 1 // the local header's flags
	// and the central directory's
	i := bytes.LastIndex(encrypted, []byte("PK\x01\x02"))
	encrypted[i+8] |= 1
	deep := []byte(awsKeys)
	for range 4 {
		deep = zipBytes(t, "level.zip", deep, 0)
	}
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"7z", append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), make([]byte, 100)...), "a 7z archive, which this checker does not open"},
		{"rar", append([]byte("Rar!\x1a\x07\x01\x00"), make([]byte, 100)...), "a rar archive"},
		{"7z in a tar", tarBytes(t, "x.7z", append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), make([]byte, 100)...), '0'), "/f!/x.7z: a 7z archive"},
		{"encrypted zip entry", encrypted, "/f!/creds.ini: encrypted, not opened"},
		{"nested too deep", deep, "nested more than 3 archives deep"},
		{"corrupt gzip", gzipBytes([]byte(strings.Repeat(awsKeys, 100)))[:60], "/f: gzip"},
		{"qcow2 that does not open", append([]byte("QFI\xfb\x00\x00\x00\x03"), make([]byte, 1000)...), "/f:"},
		{"truncated cpio", cpioBytes(map[string][]byte{"etc/creds.ini": []byte(awsKeys)}, false)[:150], "cpio: offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(t, Options{}, "/f", tc.content)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("End: %v, want an error saying %q", r.err, tc.want)
			}
		})
	}
}

// A package's container that still has its recorded digest is skipped (Outcome Skipped); a
// changed one is opened and searched.
func TestVendorContainerByDigest(t *testing.T) {
	jar := zipBytes(t, "application.properties", []byte(awsKeys), 0)
	sum := md5Hex(jar)
	r := scanBytes(t, Options{Vendor: map[string]string{"/usr/share/java/app.jar": sum}}, "/usr/share/java/app.jar", jar)
	if r.err != nil || len(r.found) != 0 || r.outcome != scan.Skipped {
		t.Errorf("unchanged: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	r = scanBytes(t, Options{Vendor: map[string]string{"/usr/share/java/app.jar": md5Hex([]byte("the packaged jar"))}}, "/usr/share/java/app.jar", jar)
	if r.err != nil || r.outcome != scan.Opened || !r.foundAWS(t, "/usr/share/java/app.jar!/application.properties") {
		t.Errorf("changed: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	// a changed package file recognised only by its end (a launcher script, then a zip) is opened
	sfx := append([]byte("#!/bin/sh\nexec java -jar \"$0\"\n"), zipBytes(t, "application.properties", []byte(awsKeys), 0)...)
	r = scanBytes(t, Options{Vendor: map[string]string{"/usr/bin/app": md5Hex([]byte("the packaged launcher"))}}, "/usr/bin/app", sfx)
	if r.err != nil || r.outcome != scan.Opened || !r.foundAWS(t, "/usr/bin/app!/application.properties") {
		t.Errorf("changed launcher: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	if r := scanBytes(t, Options{Vendor: map[string]string{"/usr/bin/app": md5Hex(sfx)}}, "/usr/bin/app", sfx); r.outcome != scan.Skipped || len(r.found) != 0 {
		t.Errorf("unchanged launcher: found %+v, outcome %v", r.found, r.outcome)
	}
	// a member that is byte for byte an unchanged distribution file is skipped by its digest
	// (a package in apt's cache); one that differs is searched; allow paths never match members
	shipped := []byte("# completion\n" + awsKeys)
	vendor := map[string]string{"/usr/share/app/completion": md5Hex(shipped), "/usr/share/doc/app/README": md5Hex([]byte("readme"))}
	deb := arBytes([][2]string{{"debian-binary", "2.0\n"}, {"data.tar.xz", string(xzBytes(t, tarBytes(t, "./usr/share/app/completion", shipped, '0')))}})
	if r := scanBytes(t, Options{Vendor: vendor}, "/var/cache/apt/archives/app.deb", deb); r.err != nil || len(r.found) != 0 {
		t.Errorf("unchanged package member: err %v, found %+v", r.err, r.found)
	}
	changed := arBytes([][2]string{{"debian-binary", "2.0\n"}, {"data.tar.xz", string(xzBytes(t, tarBytes(t, "./usr/share/app/completion", append(shipped, '\n'), '0')))}})
	if r := scanBytes(t, Options{Vendor: vendor}, "/var/cache/apt/archives/app.deb", changed); !r.foundAWS(t, "/var/cache/apt/archives/app.deb!/data.tar.xz!/usr/share/app/completion") {
		t.Errorf("changed package member: err %v, found %+v", r.err, r.found)
	}
	// a compressed member (a man page) identical to the installed one is not opened either
	page := gzipBytes([]byte("URL: http://user:Passw0rdPassw0rd@example.com/\n"))
	vendor["/usr/share/man/man1/app.1.gz"] = md5Hex(page)
	deb = arBytes([][2]string{{"debian-binary", "2.0\n"}, {"data.tar.xz", string(xzBytes(t, tarBytes(t, "./usr/share/man/man1/app.1.gz", page, '0')))}})
	if r := scanBytes(t, Options{Vendor: vendor}, "/var/cache/apt/archives/app.deb", deb); r.err != nil || len(r.found) != 0 {
		t.Errorf("unchanged compressed package member: err %v, found %+v", r.err, r.found)
	}
	backup := tarBytes(t, "usr/share/doc/app/README", []byte(awsKeys), '0')
	if r := scanBytes(t, Options{Vendor: vendor, AllowPaths: DefaultAllowPaths}, "/root/backup.tar", backup); !r.foundAWS(t, "/root/backup.tar!/usr/share/doc/app/README") {
		t.Errorf("a member under an allowed path's name: err %v, found %+v", r.err, r.found)
	}
	// a changed binary is searched; an unchanged one is skipped
	bin := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00"), awsKeys...)
	if r := scanBytes(t, Options{Vendor: map[string]string{"/usr/bin/x": md5Hex(bin)}}, "/usr/bin/x", bin); len(r.found) != 0 || r.outcome != scan.Skipped {
		t.Errorf("unchanged binary: found %+v, outcome %v", r.found, r.outcome)
	}
	if r := scanBytes(t, Options{Vendor: map[string]string{"/usr/bin/x": md5Hex([]byte("x"))}}, "/usr/bin/x", bin); !r.foundAWS(t, "/usr/bin/x") || r.outcome != scan.Searched {
		t.Errorf("changed binary: found %+v, outcome %v", r.found, r.outcome)
	}
}

// Strings: runs shorter than minRun are dropped, longer ones kept whole, each run its own line;
// zero runs of any length never end the search.
func TestStringsOfBinary(t *testing.T) {
	e := newExtractor()
	var in []byte
	in = append(in, "short\x00"...)                   // 5: dropped
	in = append(in, "exactly8\x01"...)                // 8: kept
	in = append(in, make([]byte, 1<<20)...)           // a zero run
	in = append(in, "line one\nline two\x01"...)      // the line end stays inside the run
	in = append(in, encodeUTF16LE("wide run")...)     // UTF-16LE, even offset
	in = append(in, 0, 0, 0)                          // odd: the next UTF-16 starts at an odd offset
	in = append(in, encodeUTF16LE("odd wide run")...) //
	in = append(in, "\x00seven7\x00tail-end"...)      // 6 dropped, then 8 at the end of the stream
	var out []byte
	for _, cut := range [][2]int{{0, 3}, {3, 100}, {100, len(in) - 5}, {len(in) - 5, len(in)}} {
		out = e.feed(out, in[cut[0]:cut[1]])
	}
	out = e.close(out)
	want := "exactly8\nline one\nline two\nwide run\nodd wide run\ntail-end\n"
	if string(out) != want {
		t.Errorf("strings:\n%q\nwant\n%q", out, want)
	}
}

// Property: a key planted in a random stack of containers (random format order, one to three
// deep, random padding, NULs and zero runs around it) is always found; never "no finding and
// nothing unseen".
func TestRandomContainerStacks(t *testing.T) {
	rng := rand.New(rand.NewSource(24))
	type layer struct {
		name string
		wrap func(inner []byte, member string) []byte
	}
	layers := []layer{
		{"zip", func(b []byte, m string) []byte { return zipBytes(t, m, b, 0) }},
		{"prefixed-zip", func(b []byte, m string) []byte {
			return append([]byte("#!/bin/sh\nexec java -jar \"$0\"\n"), zipBytes(t, m, b, 0)...)
		}},
		{"tar", func(b []byte, m string) []byte { return tarBytes(t, m, b, "07"[rng.Intn(2)]) }},
		{"cpio", func(b []byte, m string) []byte { return cpioBytes(map[string][]byte{m: b}, rng.Intn(2) == 0) }},
		{"ar", func(b []byte, m string) []byte {
			return arBytes([][2]string{{"debian-binary", "2.0\n"}, {m, string(b)}})
		}},
		{"gzip", func(b []byte, _ string) []byte { return gzipBytes(b) }},
		{"bzip2", func(b []byte, _ string) []byte { return bzip2Bytes(t, b) }},
		{"xz", func(b []byte, _ string) []byte { return xzBytes(t, b) }},
		{"zstd", func(b []byte, _ string) []byte { return zstdBytes(t, b) }},
		{"lz4", func(b []byte, _ string) []byte { return lz4Bytes(t, b) }},
		{"initramfs", func(b []byte, m string) []byte {
			return append(append(cpioBytes(map[string][]byte{"early": {0, 1}}, false), make([]byte, 512*rng.Intn(3))...), gzipBytes(cpioBytes(map[string][]byte{m: b}, false))...)
		}},
		{"rpm", func(b []byte, m string) []byte { return rpmBytes(gzipBytes(cpioBytes(map[string][]byte{m: b}, false))) }},
	}
	junk := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		for i := range b { // mostly binary, some NULs
			if rng.Intn(4) == 0 {
				b[i] = 0
			}
		}
		return b
	}
	proto, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	n := 300
	if testing.Short() {
		n = 60
	}
	for i := range n {
		content := append(append(junk(rng.Intn(3000)), make([]byte, rng.Intn(70000))...), '\n')
		content = append(append(content, awsKeys...), junk(rng.Intn(3000))...)
		depth := 1 + rng.Intn(3)
		var stack []string
		for d := range depth {
			l := layers[rng.Intn(len(layers))]
			stack = append(stack, l.name)
			content = l.wrap(content, "dir/member"+string(rune('a'+d)))
		}
		r := scanWith(t, proto, "/data/blob", content)
		found := false
		for _, f := range r.found {
			found = found || f.Rule == "aws-access-token"
		}
		if !found && r.err == nil {
			t.Fatalf("case %d (%v): no finding and nothing unseen", i, stack)
		}
		if !found {
			t.Errorf("case %d (%v): not found: %v", i, stack, r.err)
		}
	}
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// A binary whose end only looks like a zip's (an end-of-central-directory signature whose
// directory is not where it says) is searched as bytes, not reported as a broken zip.
func TestFakeZipEndIsSearchedAsBytes(t *testing.T) {
	fake := append([]byte("\x7fELF\x02\x01\x01\x00\n"+awsKeys), "PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x2e\x00\x00\x00\x10\x00\x00\x00\x00\x00"...)
	r := scanBytes(t, Options{}, "/usr/local/bin/x", fake)
	if r.err != nil || r.outcome != scan.Searched || !r.foundAWS(t, "/usr/local/bin/x") {
		t.Errorf("err %v, outcome %v, found %+v", r.err, r.outcome, r.found)
	}
	// the same record pointing at a real central directory header is a zip
	if _, ok := zipLocate(bytes.NewReader(zipBytes(t, "a", []byte("b"), 0)), int64(len(zipBytes(t, "a", []byte("b"), 0)))); !ok {
		t.Error("a real zip is not located")
	}
}

// UTF-16 is recognised from the pattern of the whole first read: at least half the code units
// ASCII characters, none zero; a file taken for UTF-16 whose later bytes are ASCII text goes to
// its strings there, so that an ASCII key after UTF-16 text is found.
func TestUTF16Recognition(t *testing.T) {
	half := encodeUTF16LE(strings.Repeat("a€", 20)) // 20 of 40 units ASCII
	less := encodeUTF16LE(strings.Repeat("a€", 19) + "€€")
	if detectUTF16(half) != utf16LE || detectUTF16(less) != notUTF16 {
		t.Errorf("half ASCII: %v, less: %v", detectUTF16(half), detectUTF16(less))
	}
	if detectUTF16(append(encodeUTF16LE(strings.Repeat("text", 20)), 0, 0)) != notUTF16 {
		t.Error("a code unit zero is not UTF-16 text")
	}
	mixed := append(encodeUTF16LE("\ufeffsettings\r\n"+strings.Repeat("name = value\r\n", 6000)), awsKeys...)
	if r := scanBytes(t, Options{}, "/opt/app/mixed.txt", mixed); !r.foundAWS(t, "/opt/app/mixed.txt") {
		t.Errorf("ASCII key after UTF-16 text: found %+v", r.found)
	}
}

// A stream compressed more than maxArchiveDepth times over is not seen.
func TestCompressedTooManyTimes(t *testing.T) {
	b := []byte(awsKeys)
	for range 3 {
		b = gzipBytes(b)
	}
	if r := scanBytes(t, Options{}, "/x.gz", b); r.err != nil || !r.foundAWS(t, "/x.gz!/x") {
		t.Errorf("3 times: err %v, found %+v", r.err, r.found)
	}
	if r := scanBytes(t, Options{}, "/x.gz", gzipBytes(b)); r.err == nil || !strings.Contains(r.err.Error(), "compressed more than 3 times") {
		t.Errorf("4 times: err %v", r.err)
	}
}

// A virtual machine's disk stored as a file, in every container format the checker reads, is
// opened with the checker's readers and its files searched as IMAGE!/PATH (every partition of
// the fixture is read: its third is an LVM physical volume, whose LV is read too); a partition
// in it that the checker does not read is not seen: the same disk with the PV's label checksum
// broken (LVM ignores the label, and the partition holds no filesystem).
func TestDiskImageInAFile(t *testing.T) {
	for _, suffix := range []string{".raw", ".qcow2", "-compressed.qcow2", ".vmdk", "-stream.vmdk", "-dynamic.vhd", ".vhdx"} {
		b, err := os.ReadFile(testfixture.Path(t, "dirty"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		found := func(r result, name string) bool {
			for _, f := range r.found {
				if f.Path == name+"!/opt/app/settings.ini" && f.Rule == "password-assignment" {
					return true
				}
			}
			return false
		}
		name := "/var/lib/libvirt/images/vm" + suffix
		r := scanBytes(t, Options{}, name, b)
		if r.err != nil || r.outcome != scan.Opened || !found(r, name) {
			t.Errorf("%s: err %v, outcome %v, found %+v", suffix, r.err, r.outcome, r.found)
		}
		if suffix != ".raw" {
			continue
		}
		const label = 217<<20 + 512 + 40 // partition 3 at 217 MiB, its PV label in sector 1
		if string(b[217<<20+512:217<<20+520]) != "LABELONE" {
			t.Fatal("dirty.raw's partition 3 holds no LVM label")
		}
		b[label] ^= 1
		r = scanBytes(t, Options{}, name, b)
		if r.err == nil || !strings.Contains(r.err.Error(), name+"!/partition 3:/: lvm2-pv") || r.outcome != scan.Opened || !found(r, name) {
			t.Errorf("%s, label broken: err %v, outcome %v, found %+v", suffix, r.err, r.outcome, r.found)
		}
	}
}

// A qcow2 stored as a file that holds an internal snapshot (qemu-img snapshot -c): the disk the
// snapshot keeps is not the one presented and is not read, so it is named as not seen; without
// the snapshot the same file is seen whole.
func TestDiskImageInAFileWithASnapshot(t *testing.T) {
	needTool(t, "qemu-img")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tree", "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "tree", "etc", "hostname"), []byte("vm\n"), 0o644)
	raw, q := filepath.Join(dir, "fs.raw"), filepath.Join(dir, "vm.qcow2")
	for _, args := range [][]string{{"mke2fs", "-q", "-F", "-t", "ext4", "-d", filepath.Join(dir, "tree"), raw, "8M"},
		{"qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q}} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	b, _ := os.ReadFile(q)
	if r := scanBytes(t, Options{}, "/srv/vm.qcow2", b); r.err != nil || r.outcome != scan.Opened {
		t.Fatalf("no snapshot: err %v, outcome %v", r.err, r.outcome)
	}
	if out, err := exec.Command("qemu-img", "snapshot", "-c", "before-cleanup", q).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img snapshot: %v %s", err, out)
	}
	b, _ = os.ReadFile(q)
	r := scanBytes(t, Options{}, "/srv/vm.qcow2", b)
	if r.err == nil || !strings.Contains(r.err.Error(), `/srv/vm.qcow2!/[qcow2 internal snapshot "1" "before-cleanup"]`) {
		t.Errorf("snapshot: err %v", r.err)
	}
}

// The bytes of a zip that no entry's data holds (its comment, an entry's extra field) are
// searched as the file's own.
func TestZipOutsideItsEntries(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.CreateHeader(&zip.FileHeader{Name: "readme.txt", Method: zip.Deflate, Extra: append([]byte{0xfe, 0xca, byte(len(awsKeys)), 0}, awsKeys...)})
	f.Write([]byte("hello\n"))
	w.SetComment("\n" + awsKeys)
	w.Close()
	r := scanBytes(t, Options{}, "/opt/app/a.zip", b.Bytes())
	n := 0
	for _, f := range r.found {
		if f.Path == "/opt/app/a.zip" && f.Rule == "aws-access-token" {
			n++
		}
	}
	if r.err != nil || n == 0 {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
}

// A package in apt's cache whose SHA-256 is the one apt's package index lists is skipped; a
// changed one is opened. The index names it PACKAGE_VERSION_ARCH.deb, the epoch's colon %3a.
func TestPackageArchiveByDigest(t *testing.T) {
	deb := arBytes([][2]string{{"debian-binary", "2.0\n"}, {"data.tar.xz", string(xzBytes(t, tarBytes(t, "./etc/creds.ini", []byte(awsKeys), '0')))}})
	sum := sha256.Sum256(deb)
	index := "Package: login\nVersion: 1:4.13+dfsg1-1\nArchitecture: amd64\nFilename: pool/main/s/shadow/login_4.13+dfsg1-1_amd64.deb\nSHA256: " +
		hex.EncodeToString(sum[:]) + "\n\nPackage: other\nVersion: 1\nArchitecture: all\nSHA256: short\n"
	got := map[string]string{}
	parsePackages(strings.NewReader(index), nil, got)
	p := "/var/cache/apt/archives/login_1%3a4.13+dfsg1-1_amd64.deb"
	if got[p] != hex.EncodeToString(sum[:]) || len(got) != 2 {
		t.Fatalf("index: %v", got)
	}
	// only what is in the cache is kept
	cachedOnly := map[string]string{}
	parsePackages(strings.NewReader(index), map[string]bool{"login_1%3a4.13+dfsg1-1_amd64.deb": true}, cachedOnly)
	if cachedOnly[p] != got[p] || len(cachedOnly) != 1 {
		t.Fatalf("index, the cached archive only: %v", cachedOnly)
	}
	if r := scanBytes(t, Options{PackageArchives: got}, p, deb); r.err != nil || len(r.found) != 0 || r.outcome != scan.Skipped {
		t.Errorf("unchanged package: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	changed := append([]byte{}, deb...)
	changed[8+16] = '1' // the first member's mtime
	if r := scanBytes(t, Options{PackageArchives: got}, p, changed); r.err != nil || r.outcome != scan.Opened || !r.foundAWS(t, p+"!/data.tar.xz!/etc/creds.ini") {
		t.Errorf("changed package: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
}

// A file larger than its filesystem (a 1 TiB size field over a few blocks: sparse, or corrupt)
// is searched the way the pass reads it: its written blocks as bytes, its holes told
// (scan.HoleSink), never read. A key after a terabyte of holes is found in seconds; a hole at
// the start, and one in a text or UTF-16 file, is zeros (it ends a run, and a text file goes to
// its strings).
func TestSparseFileSearchedByItsExtents(t *testing.T) {
	const block = 4096
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	// parts: a string is written, a number is a hole of that many bytes
	run := func(opts Options, parts ...any) result {
		t.Helper()
		sc := &Scanner{opts: opts, det: s.det, strict: s.strict, allowFP: s.allowFP}
		var size int64
		for _, p := range parts {
			switch p := p.(type) {
			case string:
				size += int64(len(p))
			case int64:
				size += p
			}
		}
		w, _ := sc.NewWorker()
		f := &scan.File{Path: "/opt/app/sparse", Location: "/opt/app/sparse", Size: size}
		k, err := w.Begin(f)
		if err != nil || k == nil {
			t.Fatalf("Begin: %v", err)
		}
		h, ok := k.(scan.HoleSink)
		if !ok {
			t.Fatal("the credential sink is not a scan.HoleSink")
		}
		for _, p := range parts {
			switch p := p.(type) {
			case string:
				err = k.Write([]byte(p))
			case int64:
				err = h.Hole(p)
			}
			if err != nil {
				t.Fatalf("%T: %v", p, err)
			}
		}
		r := result{err: k.End(), found: sc.Findings(), outcome: k.(scan.Accounted).Outcome()}
		return r
	}
	head := "ok\n" + strings.Repeat("x", block-3)
	start := time.Now()
	if r := run(Options{}, head, int64(1<<40-2*block), awsKeys); r.err != nil || !r.foundAWS(t, "/opt/app/sparse") || r.outcome != scan.Searched {
		t.Errorf("1 TiB hole: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 1 TiB hole took %s", d)
	}
	if r := run(Options{}, int64(1<<40), "\n"+awsKeys); !r.foundAWS(t, "/opt/app/sparse") {
		t.Errorf("a hole first: found %+v", r.found)
	}
	u16 := func(s string) string {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return string(b)
	}
	if r := run(Options{}, u16("é setting=1\r\n"), int64(8<<20), u16(awsKeys)); !r.foundAWS(t, "/opt/app/sparse") {
		t.Errorf("UTF-16 with a hole: found %+v", r.found)
	}
	// a package's file with a hole: the zeros are hashed, and it is proven unchanged by its
	// digest; a hole too large to hash gives the digest up and the file is searched
	digest := func(hole int64) Options {
		sum := md5.New()
		sum.Write([]byte(head))
		sum.Write(make([]byte, hole))
		sum.Write([]byte("tail\n" + awsKeys))
		return Options{Vendor: map[string]string{"/opt/app/sparse": hex.EncodeToString(sum.Sum(nil))}}
	}
	body := []any{head, int64(2 << 20), "tail\n" + awsKeys}
	vendor := digest(2 << 20)
	r := run(vendor, body...)
	if r.err != nil || len(r.found) != 0 || r.outcome != scan.Skipped {
		t.Errorf("unchanged package file with a hole: err %v, found %+v, outcome %v", r.err, r.found, r.outcome)
	}
	body[1] = int64(2<<20 + 1)
	if r := run(vendor, body...); !r.foundAWS(t, "/opt/app/sparse") || r.outcome != scan.Searched {
		t.Errorf("changed package file with a hole: found %+v, outcome %v", r.found, r.outcome)
	}
	body[1] = int64(maxHoleHash + 1)
	if r := run(digest(maxHoleHash+1), body...); !r.foundAWS(t, "/opt/app/sparse") || r.outcome != scan.Searched {
		t.Errorf("package file with a hole too large to hash: found %+v, outcome %v", r.found, r.outcome)
	}
}

// Through the pass: a 1 TiB sparse file on ext4 with a key after 600 GiB of holes is found in
// seconds, its holes told, not read; an unchanged package file says in the ledger why it was
// skipped.
func TestSparseFileThroughThePass(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "opt", "app", "sparse.dat")
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(full)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("head\n"), 0)
	f.WriteAt([]byte(awsKeys), 600<<30)
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("no 1 TiB sparse file here: %v", err)
	}
	f.Close()
	os.WriteFile(filepath.Join(dir, "opt", "app", "vendor.txt"), []byte(awsKeys), 0o644)
	img := testfixture.Filesystem(t, "ext4", dir, "16M", "-b", "4096")
	disk, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	sum := md5.Sum([]byte(awsKeys))
	s, err := New(Options{FingerprintKey: []byte("test"), Vendor: map[string]string{"partition 0:/opt/app/vendor.txt": hex.EncodeToString(sum[:])}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	st, err := scan.Run(ctx, disk, scan.Options{}, s)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the pass took %s: the holes were read", d)
	}
	if err != nil || len(st.Errors) > 0 {
		t.Fatalf("%v %v", err, st.Errors)
	}
	r := result{found: s.Findings()}
	if !r.foundAWS(t, "partition 0:/opt/app/sparse.dat") || len(r.found) != 2 {
		t.Errorf("found %+v", r.found)
	}
	tot := st.Ledger.Totals(s.Name())
	if tot.Unseen != 0 || len(tot.Skipped) != 1 || tot.Skipped[0].Files != 1 ||
		tot.Skipped[0].Reason != "unchanged distribution file (package digest)" {
		t.Errorf("ledger %+v", tot)
	}
}

// The default allow paths decline only what package managers and depmod generate, each file
// named in the ledger by the pattern that declined it and who set it; a key dropped among the
// certificates or the documentation, or in a package's maintainer script, is searched (the
// files a package installed unchanged are skipped by their digest, not by their directory).
func TestDefaultAllowPathsAreNarrowAndNamed(t *testing.T) {
	s, err := New(Options{AllowPaths: append(slices.Clone(DefaultAllowPaths), "/opt/vendor/"), FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/ssl/certs/server.pem", "/usr/share/ca-certificates/local/ca.crt", "/usr/share/doc/app/README",
		"/usr/share/man/man1/app.1", "/var/lib/dpkg/info/app.postinst", "/var/lib/dpkg/info/app.config", "/var/lib/dpkg/info.list"} {
		if r := scanWith(t, s, p, []byte(awsKeys)); !r.foundAWS(t, p) {
			t.Errorf("%s: not searched: %+v", p, r.found)
		}
	}
	for p, want := range map[string]string{
		"/etc/ssh/ssh_host_ed25519_key":    "an allowed path: /etc/ssh/ssh_host_ed25519_key (a default of the checker: no-ssh-host-keys reports it)",
		"/opt/vendor/demo/credentials.ini": "an allowed path: /opt/vendor/ (secrets_allow_paths)",
	} {
		w, _ := s.NewWorker()
		k, err := w.Begin(&scan.File{Path: p, Location: p, Size: 10, Data: bytes.NewReader([]byte("0123456789"))})
		if err != nil || k != nil {
			t.Errorf("%s: Begin %v, %v: want declined", p, k, err)
			continue
		}
		if got := w.(scan.Decliner).Declined(); got != want {
			t.Errorf("%s: declined as %q, want %q", p, got, want)
		}
		// the next file begun is not declined: the reason is the last Begin's
		if k, _ := w.Begin(&scan.File{Path: "/etc/app.ini", Location: "/etc/app.ini", Size: 1, Data: bytes.NewReader([]byte("x"))}); k == nil || w.(scan.Decliner).Declined() != "" {
			t.Errorf("after %s: /etc/app.ini declined as %q", p, w.(scan.Decliner).Declined())
		}
	}
	// what package managers generate (outside review R3, cases 80-85) is searched with the
	// rules that name a credential by its shape: the key pair is found, the generic words of a
	// package index are not findings
	generic := "Package: app\nDescription: api_key = a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8 token_secret = Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1\npassword = hunter2hunter2\n"
	for _, p := range []string{"/var/lib/dpkg/info/app.list", "/var/lib/dpkg/status", "/var/lib/apt/lists/x_Packages",
		"/var/lib/apt/lists/anything", "/var/lib/dpkg/info/app.templates", "/var/lib/rpm/rpmdb.sqlite", "/lib/modules/6.1.0/modules.alias",
		"/var/cache/debconf/templates.dat"} {
		if r := scanWith(t, s, p, []byte(awsKeys)); !r.foundAWS(t, p) {
			t.Errorf("%s: the key pair is not found: %+v", p, r.found)
		}
		if r := scanWith(t, s, p, []byte(generic)); len(r.found) != 0 {
			t.Errorf("%s: generic findings in generated data: %+v", p, r.found)
		}
	}
	// the same generic words elsewhere are findings: the strict rules are for those paths only
	if r := scanWith(t, s, "/opt/app/app.conf", []byte(generic)); len(r.found) == 0 {
		t.Error("the generic words are no findings in an application's file either: the test proves nothing")
	}
}

// Passwords under the names applications give them (outside review R1): a prefixed environment
// variable (POSTGRES_PASSWORD in a compose file, MYSQL_PWD), a camelCase key, a dotted one, and
// a dotenv file with a suffix (.env.production); and settings that name a password without
// holding one are not findings.
func TestPasswordKeysAsApplicationsName(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, content, rule string }{
		{"/opt/app/docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: Pg5ecretValue9\n", "password-assignment"},
		{"/opt/app/docker-compose.yml", "services:\n  db:\n    environment:\n      - MYSQL_ROOT_PASSWORD=My5qlRootPw\n", "password-assignment"},
		{"/opt/app/.env.production", "DATABASE_PASSWORD=Pr0dDbPassw0rd\n", "password-assignment"},
		{"/opt/app/config.json", "{\"dbPassword\": \"J5onCamelPw1\"}\n", "password-assignment"},
		{"/opt/app/application.properties", "spring.datasource.password=Spr1ngDsPw\n", "password-assignment"},
		{"/opt/app/run.sh", "export MYSQL_PWD=Sh3llMysqlPw\n", "passwd-assignment"},
	} {
		r := scanWith(t, s, c.path, []byte(c.content))
		ok := false
		for _, f := range r.found {
			ok = ok || f.Rule == c.rule
		}
		if !ok {
			t.Errorf("%s %q: want %s, found %+v", c.path, c.content, c.rule, r.found)
		}
	}
	for _, c := range []struct{ path, content string }{
		{"/etc/ssh/sshd_config", "PasswordAuthentication no\nPermitEmptyPasswords no\n"},
		{"/opt/app/app.ini", "password_file = /run/secrets/db\nmin_password_length = 12\nrequire_password = true\n"},
		{"/etc/profile.d/x.sh", "OLDPWD=/root\n"},
		{"/opt/app/.envrc.sample", "DATABASE_PASSWORD=Pr0dDbPassw0rd\n"}, // not a configuration file by its name
	} {
		if r := scanWith(t, s, c.path, []byte(c.content)); len(r.found) != 0 {
			t.Errorf("%s %q: found %+v", c.path, c.content, r.found)
		}
	}
}

// Outside review R3: a password that starts with "$" is a value, not a variable reference
// (131); a copy of a host key under another name is searched, only the names ssh-keygen -A
// writes are allowed (81).
func TestDollarPasswordsAndHostKeyCopies(t *testing.T) {
	s, err := New(Options{AllowPaths: DefaultAllowPaths, FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	found := func(p, content, rule string) bool {
		for _, f := range scanWith(t, s, p, []byte(content)).found {
			if f.Rule == rule {
				return true
			}
		}
		return false
	}
	if !found("/opt/app/app.ini", "password = $Kq8!vR2#pLm9xZ\n", "password-assignment") {
		t.Error("a password starting with $ was taken for a variable")
	}
	for _, ref := range []string{"$DB_PASSWORD", "${DB_PASSWORD}", "$(cat /run/secrets/db)", "\"$DB_PASS\"", "$ENV::PASSWORD"} {
		if found("/opt/app/app.ini", "password = "+ref+"\n", "password-assignment") {
			t.Errorf("%s is a reference, not a password", ref)
		}
	}
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDk4n3t1v0Q8d4sQ1m4nVh6sX0d9k3q4Yc2m3lS3m5o9QAAAJg0k2Qx\n-----END OPENSSH PRIVATE KEY-----\n"
	w, _ := s.NewWorker()
	if k, _ := w.Begin(&scan.File{Path: "/etc/ssh/ssh_host_ed25519_key", Location: "/etc/ssh/ssh_host_ed25519_key", Size: int64(len(key)), Data: bytes.NewReader([]byte(key))}); k != nil {
		t.Error("the host key itself is searched (no-ssh-host-keys reports it)")
	}
	if !found("/etc/ssh/ssh_host_ed25519_key.aws-backup", key, "private-key") {
		t.Error("a copy of a host key under another name is not searched")
	}
}

// Outside review R3 (45, 151, 50): an AWS key ID packed among other strings, as a Go or Rust
// binary's constants and an SQLite row store them, is found; one with word boundaries is found
// once, by gitleaks' rule.
func TestPackedAWSKeyID(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 200)...)
	rules := func(p string, content []byte) map[string]int {
		n := map[string]int{}
		for _, f := range scanWith(t, s, p, content).found {
			n[f.Rule]++
		}
		return n
	}
	for name, c := range map[string][]byte{
		"go constants":  append(append(elf, "runtime.goexitsync.Mutexhttps://s3.amazonaws.com"+awsKeyID+awsSecret+"application/json"...), 0, 0),
		"an sqlite row": append([]byte("SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20"), append(make([]byte, 90), "\x05\x07\x17\x1b\x1bdevops"+awsKeyID+awsSecret...)...),
	} {
		if n := rules("/usr/local/bin/tool", c); n[awsPackedRule] != 1 {
			t.Errorf("%s: %v", name, n)
		}
	}
	if n := rules("/opt/app/creds.ini", []byte(awsKeys)); n["aws-access-token"] != 1 || n[awsPackedRule] != 0 {
		t.Errorf("a key with word boundaries: %v", n)
	}
	// one character more or less is no key ID
	for _, id := range []string{awsKeyID + "Q", awsKeyID[:19]} {
		if n := rules("/usr/local/bin/tool", append(append(elf, "xx"+id+"yy"...), 0)); n[awsPackedRule] != 0 {
			t.Errorf("%q: %v", id, n)
		}
	}
}
