package pkgdb

import (
	"testing"

	"errors"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"io/fs"
	"path"
	"strings"
	"time"
)

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"0.9.8o-4squeeze14", "1.0", -1},
		{"3.0.14-1~deb12u2", "1.0", 1},
		{"2.9.0.4", "2.2.10", 1},
		{"2.2.9", "2.2.10", -1},
		{"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0a", "1.0", 1},
		{"1.0-1", "1.0-2", -1},
		{"2.6", "2.6.9", -1},
		{"3.11.2-1+b1", "2.6", 1},
	}
	for _, c := range cases {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareVersions(c.b, c.a); got != -c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
	if u := Upstream("1:9.2p1-2+deb12u3"); u != "9.2p1" {
		t.Errorf("Upstream = %q", u)
	}
}

func TestParseDpkgStatus(t *testing.T) {
	in := "Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n continued: line\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n\nPackage: c\r\nStatus: install ok installed\r\nVersion: 3\r\nArchitecture: amd64\r\n"
	got, _ := ParseDpkgStatus([]byte(in))
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "c" || got[1].Version != "3" || got[1].Arch != "amd64" {
		t.Errorf("%+v", got)
	}
}

func TestParseApk(t *testing.T) {
	got := ParseApkInstalled([]byte("C:Q1abc\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:libssl3\nV:3.1.4-r5\no:openssl\n"))
	if len(got) != 2 || got[1].Name != "libssl3" || got[1].Version != "3.1.4-r5" || got[1].SourceName() != "openssl" || got[1].SourceVer() != "3.1.4-r5" {
		t.Errorf("%+v", got)
	}
}

func TestDpkgSource(t *testing.T) {
	in := "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.15-1~deb12u1\n\n" +
		"Package: libgcc-s1\nStatus: install ok installed\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14+b1\n\n" +
		"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\n"
	got, _ := ParseDpkgStatus([]byte(in))
	want := [][2]string{{"openssl", "3.0.15-1~deb12u1"}, {"gcc-12", "12.2.0-14"}, {"bash", "5.2.15-2+b7"}}
	for i, p := range got {
		if p.SourceName() != want[i][0] || p.SourceVer() != want[i][1] {
			t.Errorf("%s: source %q %q, want %v", p.Name, p.SourceName(), p.SourceVer(), want[i])
		}
	}
}

func TestFind(t *testing.T) {
	inv := &Inventory{Packages: []Package{{Name: "libssl3", Version: "3.0"}, {Name: "libssl1.1", Version: "1.1.1"}, {Name: "openssh-server"}}}
	if n := len(inv.Find("libssl*")); n != 2 {
		t.Errorf("prefix match found %d", n)
	}
	best, _ := Newest(inv.Find("libssl*"))
	if best.Name != "libssl3" {
		t.Errorf("newest %s", best.Name)
	}
}

func TestParseRPMDB(t *testing.T) {
	db := testfixture.RPMDB(t, "openssl-libs:1:3.0.7:27.el9:openssl", "python3:0:3.9.18:3.el9", "WALinuxAgent:0:2.9.1.1:1.el9")
	pkgs, err := ParseRPMDB("rpmdb.sqlite", db, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := &Inventory{Packages: pkgs}
	ssl, ok := Newest(inv.Find("openssl-libs"))
	if !ok || ssl.Version != "1:3.0.7-27.el9" || ssl.Arch != "x86_64" {
		t.Errorf("openssl-libs: %+v", ssl)
	}
	if ssl.SourceName() != "openssl" || ssl.SourceVer() != "1:3.0.7-27.el9" || ssl.SourceVersion != "" {
		t.Errorf("openssl-libs' source: %q %q", ssl.SourceName(), ssl.SourceVer())
	}
	if py, _ := Newest(inv.Find("python3")); py.Source != "python3" || py.SourceVer() != "3.9.18-3.el9" {
		t.Errorf("python3's source: %+v", py)
	}
	if len(inv.Find("WALinuxAgent")) != 1 || len(pkgs) != 3 {
		t.Errorf("packages: %+v", pkgs)
	}
	if _, err := ParseRPMDB("rpmdb.sqlite", db[:4096], nil); err == nil {
		t.Error("a truncated rpm database parsed")
	}
}

// fakeFS is an image tree in memory; unreadable names fail to read.
type fakeFS struct {
	files      map[string]string
	unreadable map[string]bool
}

func (f fakeFS) ReadFile(name string, limit int64) ([]byte, error) {
	if f.unreadable[name] {
		return nil, errors.New("damaged block")
	}
	if s, ok := f.files[name]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func (f fakeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for n := range f.files {
		if dir, base := path.Split(n); strings.TrimSuffix(dir, "/") == name {
			out = append(out, fs.FileInfoToDirEntry(fakeInfo(base)))
		}
	}
	if out == nil {
		return nil, fs.ErrNotExist
	}
	return out, nil
}

type fakeInfo string

func (i fakeInfo) Name() string       { return string(i) }
func (i fakeInfo) Size() int64        { return 0 }
func (i fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return false }
func (i fakeInfo) Sys() any           { return nil }

// TestDistrolessStatusD: the packages of status.d count, and one that cannot be read is an
// error (its packages would otherwise be silently unknown).
func TestDistrolessStatusD(t *testing.T) {
	f := fakeFS{files: map[string]string{
		"var/lib/dpkg/status":           "",
		"var/lib/dpkg/status.d/libc6":   "Package: libc6\nVersion: 2.36-9\nSource: glibc\n",
		"var/lib/dpkg/status.d/openssl": "Package: libssl3\nVersion: 3.0.15-1\nSource: openssl\n",
	}}
	inv, err := Read(f)
	if err != nil || len(inv.Packages) != 2 || inv.Packages[0].SourceName() != "glibc" {
		t.Fatalf("%+v %v", inv, err)
	}
	f.unreadable = map[string]bool{"var/lib/dpkg/status.d/openssl": true}
	if _, err := Read(f); err == nil || !strings.Contains(err.Error(), "status.d/openssl") {
		t.Fatalf("an unreadable status.d file: %v", err)
	}
}
