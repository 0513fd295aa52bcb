package secrets

import (
	"archive/tar"
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func brotliOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, 9)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Brotli has no magic number: a file or member named *.br (a web server's precompressed
// assets) is decoded and searched as FILE.br!/FILE, made by the brotli tool where it is
// installed and by the library's encoder (what follows the stream makes the decoder refuse it:
// the file's bytes are then searched too); a .br that is not brotli is searched as its bytes,
// with nothing unseen, so a key written in it plainly is found there and random bytes are no
// error.
func TestBrotliByName(t *testing.T) {
	plain := []byte("// bundle\n" + awsKeys)
	streams := map[string][]byte{"library": brotliOf(t, plain)}
	if _, err := exec.LookPath("brotli"); err == nil {
		dir := t.TempDir()
		src := filepath.Join(dir, "app.js")
		if err := os.WriteFile(src, plain, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("brotli", "-q", "11", "-k", src).CombinedOutput(); err != nil {
			t.Fatalf("brotli: %v %s", err, b)
		}
		b, err := os.ReadFile(src + ".br")
		if err != nil {
			t.Fatal(err)
		}
		streams["brotli tool"] = b
	} else {
		t.Log("the brotli tool is not installed: the library's encoder only")
	}
	for how, br := range streams {
		if bytes.Contains(br, []byte(awsKeyID)) {
			t.Fatalf("%s: the key is in the compressed bytes", how)
		}
		if r := scanBytes(t, Options{}, "/srv/www/app.js.br", br); r.err != nil || !r.foundAWS(t, "/srv/www/app.js.br!/app.js") {
			t.Errorf("%s: a .br file: err %v, found %+v", how, r.err, r.found)
		}
		if r := scanBytes(t, Options{}, "/srv/www/app.js.BR", br); r.err != nil || !r.foundAWS(t, "/srv/www/app.js.BR!/app.js") {
			t.Errorf("%s: a .BR file: err %v, found %+v", how, r.err, r.found)
		}
		// the same bytes under another name are not taken for brotli: searched as they are
		if r := scanBytes(t, Options{}, "/srv/www/app.js.bin", br); r.err != nil || r.foundAWS(t, "/srv/www/app.js.bin") {
			t.Errorf("%s: not named .br: err %v, found %+v", how, r.err, r.found)
		}
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		tw.WriteHeader(&tar.Header{Name: "www/app.js.br", Mode: 0o644, Size: int64(len(br)), Typeflag: tar.TypeReg})
		tw.Write(br)
		tw.Close()
		if r := scanBytes(t, Options{}, "/backup/site.tar", tb.Bytes()); r.err != nil || !r.foundAWS(t, "/backup/site.tar!/www/app.js.br!/app.js") {
			t.Errorf("%s: a .br member: err %v, found %+v", how, r.err, r.found)
		}
	}
	// what follows a brotli stream in the file (its reader may have read past it) is searched
	// as the file's bytes
	tail := append(brotliOf(t, []byte("nothing here\n")), []byte("\n"+awsKeys)...)
	if r := scanBytes(t, Options{}, "/srv/www/page.html.br", tail); r.err != nil || !r.foundAWS(t, "/srv/www/page.html.br") {
		t.Errorf("a key after the brotli stream: err %v, found %+v", r.err, r.found)
	}
	if r := scanBytes(t, Options{}, "/srv/notes.br", plain); r.err != nil || !r.foundAWS(t, "/srv/notes.br") {
		t.Errorf("a .br file of plain text: err %v, found %+v", r.err, r.found)
	}
	noise := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	if r := scanBytes(t, Options{}, "/srv/noise.br", noise); r.err != nil || len(r.found) != 0 {
		t.Errorf("a .br file of random bytes: err %v, found %+v", r.err, r.found)
	}
	if !strings.HasSuffix(byName("x.tar.br").String(), "brotli") || byName("x.brr") != notContainer {
		t.Error("byName")
	}
}
