package secrets_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, data := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for name, data := range files {
		w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		w.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func xzOf(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func zstdOf(t *testing.T, data []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

// scanWithStats is scanImage that returns what the pass could not read instead of failing.
func scanWithStats(t *testing.T, img string) ([]secrets.Finding, *scan.Stats) {
	t.Helper()
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	s, err := secrets.New(secrets.Options{AllowPaths: secrets.DefaultAllowPaths})
	if err != nil {
		t.Fatal(err)
	}
	st, err := scan.Run(context.Background(), im, scan.Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	return s.Findings(), st
}

// Archives are opened and their files searched, each finding named ARCHIVE!/MEMBER (nested:
// A!/B!/C) with its line in the member; binary members are skipped as binary files are.
func TestArchivesAreSearched(t *testing.T) {
	props := []byte("# application settings\ndb.user=app\ndb.password=Z1pPassw0rd\n")
	inner := zipOf(t, map[string][]byte{"secrets.properties": []byte("# nested\napi.client_secret=N3stedS3cret\n")})
	// tar.gz made by the real tar and gzip
	src := filepath.Join(t.TempDir(), "backup")
	os.MkdirAll(filepath.Join(src, "etc", "app"), 0o755)
	os.WriteFile(filepath.Join(src, "etc", "app", "db.conf"), []byte("[db]\nhost = db\npassword = T4rGzPassw0rd\n"), 0o644)
	tgz := filepath.Join(t.TempDir(), "backup.tar.gz")
	if b, err := exec.Command("tar", "-C", src, "-czf", tgz, "etc").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, b)
	}
	tgzBytes, _ := os.ReadFile(tgz)
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/lib.jar":       string(zipOf(t, map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\n"), "config.properties": props, "App.class": {0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}})),
		"/opt/app/app.war":       string(zipOf(t, map[string][]byte{"WEB-INF/lib/inner.jar": inner})),
		"/root/backup.tar.gz":    string(tgzBytes),
		"/var/log/app.log.1.gz":  string(gzipOf([]byte("started\nconnecting to postgres://app:L0gGzPassw0rd@db/app\n"))),
		"/opt/app/conf.tar.xz":   string(xzOf(t, tarOf(t, map[string][]byte{"conf/app.yaml": []byte("database:\n  password: XzT4rPassw0rd\n")}))),
		"/opt/app/notes.ini.zst": string(zstdOf(t, []byte("line one\npassword = Zst4ndardPw\n"))),
	})
	found, st := scanWithStats(t, img)
	if len(st.Errors) > 0 {
		t.Errorf("scan errors: %+v", st.Errors)
	}
	want := map[string]int{
		"/opt/app/lib.jar!/config.properties":                         3,
		"/opt/app/app.war!/WEB-INF/lib/inner.jar!/secrets.properties": 2,
		"/root/backup.tar.gz!/etc/app/db.conf":                        3,
		"/var/log/app.log.1.gz!/app.log.1":                            2,
		"/opt/app/conf.tar.xz!/conf/app.yaml":                         2,
		"/opt/app/notes.ini.zst!/notes.ini":                           2,
	}
	got := map[string]int{}
	for _, f := range found {
		got[f.Path] = f.Line
		for _, secret := range []string{"Z1pPassw0rd", "N3stedS3cret", "T4rGzPassw0rd", "L0gGzPassw0rd", "XzT4rPassw0rd", "Zst4ndardPw"} {
			if strings.Contains(f.Excerpt, secret) {
				t.Errorf("%s prints the secret", f.Path)
			}
		}
	}
	for p, line := range want {
		if got[p] != line {
			t.Errorf("%s: line %d, want %d (found %v)", p, got[p], line, got)
		}
	}
}

// A zip bomb, an archive nested too deep and a corrupt archive are not searched to the end:
// each is reported as not seen (so the credential rule cannot pass), never as clean.
func TestArchiveLimitsFailClosed(t *testing.T) {
	bomb := zipOf(t, map[string][]byte{"zeros.txt": bytes.Repeat([]byte("0"), 1<<20)})
	nested := []byte("password = D33pPassw0rd\n")
	for i := 0; i < 5; i++ {
		nested = zipOf(t, map[string][]byte{"level.zip": nested})
	}
	many := map[string][]byte{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("f%02d.txt", i)] = []byte("x")
	}
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/many.zip":   string(zipOf(t, many)),
		"/opt/app/bomb.zip":   string(bomb),
		"/opt/app/deep.zip":   string(nested),
		"/opt/app/broken.tgz": string(gzipOf(tarOf(t, map[string][]byte{"a.conf": []byte("x")}))[:40]),
	})
	defer secrets.SetArchiveUnpackLimitForTest(512 << 10)()
	defer secrets.SetArchiveMemberLimitForTest(40)()
	_, st := scanWithStats(t, img)
	unseen := map[string]string{}
	for _, e := range st.Errors {
		unseen[e.Path] = e.Error
	}
	for p, want := range map[string]string{
		"/opt/app/bomb.zip":   "more than 524288 bytes unpacked",
		"/opt/app/deep.zip":   "nested more than 3 archives deep",
		"/opt/app/broken.tgz": "unexpected EOF",
		"/opt/app/many.zip":   "lists 50 files (at most 40 are opened)",
	} {
		if !strings.Contains(unseen[p], want) {
			t.Errorf("%s: error %q, want one saying %q (all: %+v)", p, unseen[p], want, st.Errors)
		}
	}
	if n, _ := st.Missed("secrets"); n < 4 {
		t.Errorf("Missed(secrets) = %d, want the four archives", n)
	}
}
