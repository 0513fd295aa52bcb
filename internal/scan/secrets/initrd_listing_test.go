package secrets

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
)

// listingOf searches content as the file p of an image and returns the initramfs listing the
// search handed on (nil for none) and the search's result.
func listingOf(t testing.TB, proto *Scanner, p string, content []byte) (*initrd.Shared, result) {
	t.Helper()
	var got *initrd.Shared
	calls := 0
	s := &Scanner{opts: proto.opts, det: proto.det, strict: proto.strict, allowFP: proto.allowFP}
	s.opts.Initramfs = func(path string, l *initrd.Shared) {
		calls++
		if path != p {
			t.Errorf("listing handed on for %q, the file is %q", path, p)
		}
		got = l
	}
	r := scanWith(t, s, p, content)
	if calls > 1 {
		t.Errorf("%s: %d listings handed on for one file", p, calls)
	}
	return got, r
}

// checkShared fails when a listing the search handed on is not initrd.List's of the same bytes
// (names, formats, no error), or does not carry their size and digest. It says whether there
// was one.
func checkShared(t testing.TB, proto *Scanner, content []byte) bool {
	t.Helper()
	l, _ := listingOf(t, proto, "/boot/initrd.img", content)
	if l == nil {
		return false
	}
	names, formats, err := initrd.List(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("the search handed on a listing (%d names, %v) of a file initrd.List fails on: %v", len(l.Names), l.Formats, err)
	}
	if l.Err != nil || !reflect.DeepEqual(l.Names, names) || !reflect.DeepEqual(l.Formats, formats) {
		t.Fatalf("the search's listing differs from initrd.List's:\n got %q %v %v\nwant %q %v", l.Names, l.Formats, l.Err, names, formats)
	}
	same := l.List(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil })
	if !reflect.DeepEqual(same.Names, names) || l.Size != int64(len(content)) {
		t.Fatalf("the shared listing does not stand for its own bytes")
	}
	return true
}

// initramfs makes a real initramfs as initramfs-tools does, with the cpio and compression
// tools: an uncompressed early cpio (microcode), then the main cpio through compress (a shell
// command, "" for none).
func initramfs(t testing.TB, compress string, files map[string]string) []byte {
	t.Helper()
	early, main := initramfsParts(t, compress, files)
	return cat(early, main)
}

// cat is the parts one after another, in a new slice.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// initramfsParts is initramfs's early cpio and its main archive.
func initramfsParts(t testing.TB, compress string, files map[string]string) (early, main []byte) {
	t.Helper()
	earlyDir, mainDir := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(earlyDir, "kernel/x86/microcode"), 0o755)
	os.WriteFile(filepath.Join(earlyDir, "kernel/x86/microcode/GenuineIntel.bin"), []byte("\x01\x00\x00\x00microcode\x00\xff"), 0o644)
	for p, c := range files {
		os.MkdirAll(filepath.Join(mainDir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(mainDir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("usr/lib", filepath.Join(mainDir, "lib"))
	run := func(dir, script string) []byte {
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		return out
	}
	pipe := "find . | LC_ALL=C sort | cpio --quiet -o -H newc"
	if compress != "" {
		pipe += " | " + compress
	}
	return run(earlyDir, "find . | LC_ALL=C sort | cpio --quiet -o -H newc"), run(mainDir, pipe)
}

var initrdFiles = map[string]string{
	"usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/hv/hv_vmbus.ko":     "\x7fELF module hv_vmbus",
	"usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/scsi/hv_storvsc.ko": "\x7fELF module hv_storvsc",
	"etc/modprobe.d/hyperv.conf":                                             "options hv_vmbus x=1\n",
	"init":                                                                   "#!/bin/sh\nexec /sbin/init\n",
}

// The listing the search makes of an initramfs is initrd.List's, for every compression List
// reads, with and without an early cpio; and for what List would read differently (an odc
// archive, an lzma stream without the kernel's magic, a cpio cut short, a gzip member that ends inside the archive, a
// compressed stream holding no cpio, more zero padding than List skips) the search hands on
// nothing, so that List runs and makes the facts and the error.
func TestInitramfsListingIsList(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, compress string }{
		{"none", ""}, {"gzip", "gzip -c"}, {"xz", "xz -c --check=crc32"}, {"zstd", "zstd -q -c"}, {"lz4", "lz4 -l -q -c"},
		{"bzip2", "bzip2 -c"}, {"lzma", "lzma -c"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := initramfs(t, c.compress, initrdFiles)
			if !checkShared(t, s, b) {
				t.Fatalf("no listing handed on for an initramfs compressed with %q", c.compress)
			}
			// the main archive alone; after another early cpio and zero padding
			_, main := initramfsParts(t, c.compress, initrdFiles)
			if !checkShared(t, s, main) {
				t.Fatal("no listing handed on for the main archive alone")
			}
			early := cpioBytes(map[string][]byte{"kernel/x86/microcode/AuthenticAMD.bin": []byte("ucode")}, false)
			if !checkShared(t, s, cat(early, make([]byte, 4096), main)) {
				t.Fatal("no listing handed on with zero padding between the archives")
			}
		})
	}
	early, main := initramfsParts(t, "gzip -c", initrdFiles)
	gz := cat(early, main)
	mainCpio := cpioBytes(map[string][]byte{"etc/creds.ini": []byte(awsKeys), "init": []byte("#!/bin/sh\n")}, false)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"odc", cpioBytes(map[string][]byte{"init": []byte("x")}, true)},
		{"lzma with properties the kernel does not recognise", cat(early, lzmaProps(t, mainCpio))},
		{"cut short", gz[:len(gz)-40]},
		{"gzip member ends inside the cpio", cat(early, gzipBytes(mainCpio[:200]), gzipBytes(mainCpio[200:]))},
		{"no cpio in the stream", cat(early, gzipBytes([]byte("just text, "+awsKeys)))},
		{"too much padding", cat(early, make([]byte, 1<<20+8), main)},
		{"data after an early cpio", cat(early, []byte("garbage that is not an archive"))},
		{"tar in the stream", cat(early, gzipBytes(tarBytes(t, "etc/creds.ini", []byte(awsKeys), '0')))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if l, _ := listingOf(t, s, "/boot/initrd.img", c.b); l != nil {
				_, _, err := initrd.List(bytes.NewReader(c.b))
				t.Fatalf("a listing was handed on (%d names %v; initrd.List: %v)", len(l.Names), l.Formats, err)
			}
		})
	}
	// a gzip member after the whole cpio is a segment of its own, as the kernel's
	// unpack_to_rootfs reads one, and "more" is no cpio: the kernel refuses it, so does List, and
	// no listing is handed on
	two := cat(early, gzipBytes(mainCpio), gzipBytes([]byte("more")))
	if l, _ := listingOf(t, s, "/boot/initrd.img", two); l != nil {
		t.Errorf("a listing was handed on for a segment that is no cpio: %v", l.Formats)
	}
	if _, _, err := initrd.List(bytes.NewReader(two)); err == nil {
		t.Error("initrd.List took a gzip segment that is no cpio")
	}
	// the members are searched as before: the key in the compressed cpio is found
	if _, r := listingOf(t, s, "/boot/initrd.img", cat(early, gzipBytes(mainCpio))); !r.foundAWS(t, "/boot/initrd.img!/etc/creds.ini") {
		t.Errorf("the key in the initramfs is not found: %+v", r)
	}
}

// Whatever a file holds, a listing the search hands on is initrd.List's of the same bytes.
func FuzzInitramfsListing(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add(initramfs(f, "gzip -c", initrdFiles))
	f.Add(initramfs(f, "zstd -q -c", initrdFiles))
	f.Add(initramfs(f, "", initrdFiles))
	f.Add(cpioBytes(map[string][]byte{"a": []byte("b")}, false))
	s, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	old := maxArchiveUnpacked
	maxArchiveUnpacked = 4 << 20
	defer func() { maxArchiveUnpacked = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		checkShared(t, s, data)
	})
}
