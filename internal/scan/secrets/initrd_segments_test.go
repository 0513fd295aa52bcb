package secrets

import (
	"bytes"
	"os/exec"
	"slices"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
)

// Issue #26 (R3 cases 41, 41d): an initramfs of an early cpio, a zstd cpio and then a further
// segment (a gzip cpio, an uncompressed cpio, another zstd cpio), as the kernel accepts it. The
// zstd decoder must stop at its frames, the key in the last segment is found, nothing is
// reported unseen, and the listing handed on is initrd.List's, the last segment's names with it.
func TestInitramfsSegmentsAfterZstd(t *testing.T) {
	needTool(t, "zstd")
	needTool(t, "cpio")
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	early, main := initramfsParts(t, "zstd -q -c", initrdFiles)
	tail := cpioBytes(map[string][]byte{"etc/aws-credentials": []byte(awsKeys)}, false)
	compress := func(tool ...string) []byte {
		c := exec.Command(tool[0], tool[1:]...)
		c.Stdin = bytes.NewReader(tail)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%v: %v", tool, err)
		}
		return out
	}
	for _, c := range []struct {
		name    string
		b       []byte
		formats []string
	}{
		{"then gzip (case 41)", cat(early, main, compress("gzip", "-n", "-c")), []string{"none", "zstd", "gzip"}},
		{"then uncompressed (case 41d)", cat(early, main, tail), []string{"none", "zstd", "none"}},
		{"then zero padding and zstd", cat(early, main, make([]byte, 1000), compress("zstd", "-q", "-c")), []string{"none", "zstd", "zstd"}},
		{"then xz", cat(early, main, compress("xz", "-c", "--check=crc32")), []string{"none", "zstd", "xz"}},
		{"xz, then uncompressed", cat(early, compress("xz", "-c"), make([]byte, 4), cpioBytes(initrdFilesBytes(), false)), []string{"none", "xz", "none"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, r := listingOf(t, s, "/boot/initrd.img", c.b)
			if r.err != nil || !r.foundAWS(t, "/boot/initrd.img!/etc/aws-credentials") {
				t.Fatalf("err %v, found %+v", r.err, r.found)
			}
			if !checkShared(t, s, c.b) {
				t.Fatal("no listing handed on")
			}
			if !slices.Contains(l.Names, "etc/aws-credentials") || !slices.Contains(l.Names, "init") || !slices.Equal(l.Formats, c.formats) {
				t.Errorf("listing %q %v, want the names of every segment and formats %v", l.Names, l.Formats, c.formats)
			}
		})
	}
	// two gzip members, each a whole cpio: List reads each as an archive of its own; the listing,
	// if one is handed on, is List's
	two := cat(early, gzipBytes(cpioBytes(initrdFilesBytes(), false)), gzipBytes(tail))
	checkShared(t, s, two)
	if names, _, err := initrd.List(bytes.NewReader(two)); err != nil || !slices.Contains(names, "etc/aws-credentials") || !slices.Contains(names, "init") {
		t.Errorf("initrd.List of two gzip members: %q %v", names, err)
	}
	// a later compressed segment whose cpio has no trailer: List fails on it (the kernel's
	// archive would be incomplete), so no listing is handed on whatever the search makes of it
	noTrailer := tail[:bytes.LastIndex(tail, []byte("TRAILER!!!"))-110]
	if l, _ := listingOf(t, s, "/boot/initrd.img", cat(early, main, gzipBytes(noTrailer))); l != nil {
		t.Errorf("a listing was handed on for a segment without a cpio trailer")
	}
	// what follows the zstd stream and is no archive: searched as data, and no listing (List
	// fails on it and gives the error)
	b := cat(early, main, []byte("trailing bytes that are no archive "+awsKeys))
	l, r := listingOf(t, s, "/boot/initrd.img", b)
	if l != nil {
		t.Errorf("a listing was handed on for an initramfs List fails on")
	}
	if !r.foundAWS(t, "/boot/initrd.img!/<data after 2 container(s)>") {
		t.Errorf("the data after the archives was not searched: %+v %v", r.found, r.err)
	}
	if _, _, err := initrd.List(bytes.NewReader(b)); err == nil {
		t.Errorf("initrd.List reads trailing garbage without an error")
	}
}

func initrdFilesBytes() map[string][]byte {
	m := map[string][]byte{}
	for k, v := range initrdFiles {
		m[k] = []byte(v)
	}
	return m
}
