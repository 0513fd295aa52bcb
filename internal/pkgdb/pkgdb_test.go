package pkgdb

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
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
	got := ParseApkInstalled([]byte("C:Q1abc\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:openssl\nV:3.1.4-r5\n"))
	if len(got) != 2 || got[1].Name != "openssl" || got[1].Version != "3.1.4-r5" {
		t.Errorf("%+v", got)
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
	db := testfixture.RPMDB(t, "openssl-libs:1:3.0.7:27.el9", "python3:0:3.9.18:3.el9", "WALinuxAgent:0:2.9.1.1:1.el9")
	pkgs, err := ParseRPMDB("rpmdb.sqlite", db, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := &Inventory{Packages: pkgs}
	ssl, ok := Newest(inv.Find("openssl-libs"))
	if !ok || ssl.Version != "1:3.0.7-27.el9" || ssl.Arch != "x86_64" {
		t.Errorf("openssl-libs: %+v", ssl)
	}
	if len(inv.Find("WALinuxAgent")) != 1 || len(pkgs) != 3 {
		t.Errorf("packages: %+v", pkgs)
	}
	if _, err := ParseRPMDB("rpmdb.sqlite", db[:4096], nil); err == nil {
		t.Error("a truncated rpm database parsed")
	}
}
