package secrets

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xorrisoImage builds an ISO 9660 image of dir with xorriso, its arguments after -outdev and
// before -map (e.g. "-rockridge", "off", "-joliet", "on"); after, those after "--map--".
func xorrisoImage(t *testing.T, dir string, opts ...string) []byte {
	t.Helper()
	needTool(t, "xorriso")
	out := filepath.Join(t.TempDir(), "image.iso")
	var after []string
	for i, o := range opts {
		if o == "--map--" {
			opts, after = opts[:i], opts[i+1:]
			break
		}
	}
	args := append([]string{"-report_about", "FAILURE", "-outdev", out, "-volid", "cidata"}, opts...)
	args = append(append(args, "-map", dir, "/"), after...)
	if b, err := exec.Command("xorriso", args...).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issue #24 (FMT 2): a cloud-init NoCloud seed is an ISO 9660 image labelled cidata: a key in
// its user-data FAILs as SEED!/user-data, with Rock Ridge names, Joliet names and plain ISO
// 9660 names.
func TestISOSeedIsOpened(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "meta-data"), []byte("instance-id: iid-local01\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\nwrite_files:\n- path: /root/.aws/credentials\n  content: |\n    "+strings.ReplaceAll(awsKeys, "\n", "\n    ")+"\n"), 0o644)
	deep := filepath.Join(dir, "a", "b", "c", "d", "e", "f", "g", "h", "i")
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "deep.ini"), []byte(awsKeys), 0o644)
	os.Symlink("user-data", filepath.Join(dir, "link"))
	for _, c := range []struct {
		name string
		opts []string
		user string
		deep string
	}{
		{"rockridge", nil, "user-data", "a/b/c/d/e/f/g/h/i/deep.ini"},
		{"joliet", []string{"-rockridge", "off", "-joliet", "on"}, "user-data", "a/b/c/d/e/f/g/h/i/deep.ini"},
		{"plain", []string{"-rockridge", "off"}, "USER_DATA", "A/B/C/D/E/F/G/H/I/DEEP.INI"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := xorrisoImage(t, dir, c.opts...)
			r := scanBytes(t, Options{}, "/var/lib/cloud/seed.iso", b)
			if r.err != nil || !r.foundAWS(t, "/var/lib/cloud/seed.iso!/"+c.user) || !r.foundAWS(t, "/var/lib/cloud/seed.iso!/"+c.deep) {
				t.Errorf("err %v, found %+v", r.err, r.found)
			}
			for _, f := range r.found {
				if strings.HasSuffix(f.Path, "!/link") {
					t.Errorf("a symbolic link searched as a file: %s", f.Path)
				}
			}
		})
	}
}

// A large file is read through every extent; a file past the image's end, a zisofs file and a
// broken directory are unseen, never passed.
func TestISOUnseenParts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "big.txt"), []byte(strings.Repeat("filler line of text\n", 20000)+awsKeys), 0o644)
	b := xorrisoImage(t, dir)
	r := scanBytes(t, Options{}, "/srv/big.iso", b)
	if r.err != nil || !r.foundAWS(t, "/srv/big.iso!/big.txt") {
		t.Errorf("big: err %v, found %+v", r.err, r.found)
	}
	// cut the image inside the file: the file's extent lies outside it
	at := strings.Index(string(b), "filler line")
	if at < 0 {
		t.Fatal("the file's bytes are not in the image")
	}
	cut := b[:at+4096]
	r = scanBytes(t, Options{}, "/srv/cut.iso", cut)
	if r.err == nil || !strings.Contains(r.err.Error(), "/srv/cut.iso!/big.txt: extent outside the image") {
		t.Errorf("cut: err %v, found %+v", r.err, r.found)
	}
	// zisofs (xorriso's filter): not decoded, unseen with the reason
	zdir := t.TempDir()
	os.WriteFile(filepath.Join(zdir, "packed.txt"), []byte(strings.Repeat("compressible text\n", 4000)+awsKeys), 0o644)
	z := xorrisoImage(t, zdir, "-zisofs", "level=9", "--map--", "-set_filter_r", "--zisofs", "/packed.txt", "--")
	r = scanBytes(t, Options{}, "/srv/z.iso", z)
	if r.err == nil || !strings.Contains(r.err.Error(), "/srv/z.iso!/packed.txt: zisofs-compressed") {
		t.Errorf("zisofs: err %v, found %+v", r.err, r.found)
	}
}

// A hybrid image keeps a partition after the ISO volume: those bytes are searched too.
func TestISOTailAfterVolume(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README"), []byte("nothing here\n"), 0o644)
	b := xorrisoImage(t, dir)
	b = append(b, []byte("\n"+awsKeys)...)
	r := scanBytes(t, Options{}, "/srv/hybrid.iso", b)
	found := false
	for _, f := range r.found {
		found = found || strings.HasPrefix(f.Path, "/srv/hybrid.iso!/<after the ISO 9660 volume")
	}
	if r.err != nil || !found {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
}

// An ISO inside an archive is recognised from its member's bytes (sector 16 is past the first
// 4096 bytes a stream shows), and a directory record that does not parse is unseen.
func TestISOInsideTarAndBrokenDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a-first"), []byte("x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\n"+awsKeys), 0o644)
	b := xorrisoImage(t, dir)
	r := scanBytes(t, Options{}, "/var/backups/seeds.tar", fmtTar(t, map[string][]byte{"seed.iso": b}))
	if r.err != nil || !r.foundAWS(t, "/var/backups/seeds.tar!/seed.iso!/user-data") {
		t.Errorf("in tar: err %v, found %+v", r.err, r.found)
	}
	// the root directory's third record ("a-first", after "." and "..") made shorter than a
	// record's fixed part
	root := int(binary.LittleEndian.Uint32(b[16*2048+156+2:])) * 2048
	third := root + int(b[root]) + int(b[root+int(b[root])])
	broken := append([]byte(nil), b...)
	broken[third] = 20
	r = scanBytes(t, Options{}, "/srv/broken.iso", broken)
	want := fmt.Sprintf("/srv/broken.iso!/: directory not read whole: /srv/broken.iso: malformed directory record at offset %d", third)
	if r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Errorf("broken: err %v, want %q", r.err, want)
	}
}
