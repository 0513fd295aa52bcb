package pkgdb

import "testing"

func TestDigestsCoverMergedUsrAndConffiles(t *testing.T) {
	out := map[string]string{}
	parseMD5Sums([]byte("0123456789abcdef0123456789abcdef  lib/udev/hwdb.d/20-OUI.hwdb\nshort  x\n"), out)
	parseConffiles([]byte("Package: a\nConffiles:\n /etc/a.conf fedcba9876543210fedcba9876543210\n /etc/b.conf fedcba9876543210fedcba9876543210 obsolete\nDescription: x\n /etc/not-a-conffile 0123\n"), out)
	for p, want := range map[string]string{
		"/lib/udev/hwdb.d/20-OUI.hwdb":     "0123456789abcdef0123456789abcdef",
		"/usr/lib/udev/hwdb.d/20-OUI.hwdb": "0123456789abcdef0123456789abcdef",
		"/etc/a.conf":                      "fedcba9876543210fedcba9876543210",
		"/etc/b.conf":                      "fedcba9876543210fedcba9876543210",
	} {
		if out[p] != want {
			t.Errorf("%s: %q, want %q", p, out[p], want)
		}
	}
	if len(out) != 4 {
		t.Errorf("unexpected entries: %v", out)
	}
}

// Only the md5sums of an installed package vouch for files (outside review R3, case 90b: a
// PKG.md5sums of no installed package made any file it names "unchanged"); a Multi-Arch: same
// package's file is PKG:ARCH.md5sums; without a status file nothing is vouched for.
func TestDigestsOfInstalledPackagesOnly(t *testing.T) {
	const sum = "0123456789abcdef0123456789abcdef"
	status := "Package: login\nStatus: install ok installed\nArchitecture: amd64\n\n" +
		"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nConffiles:\n /etc/gone.conf " + sum + "\n"
	fsys := fakeFS{files: map[string]string{
		"var/lib/dpkg/status":                   status,
		"var/lib/dpkg/info/login.md5sums":       sum + "  usr/bin/login\n",
		"var/lib/dpkg/info/libc6:amd64.md5sums": sum + "  usr/lib/x86_64-linux-gnu/libc.so.6\n",
		"var/lib/dpkg/info/gone.md5sums":        sum + "  usr/bin/gone\n",
		"var/lib/dpkg/info/anything.md5sums":    sum + "  root/.aws/credentials\n",
	}}
	got := DpkgDigests(fsys)
	for _, p := range []string{"/usr/bin/login", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/gone.conf"} {
		if got[p] != sum {
			t.Errorf("%s not vouched for: %v", p, got)
		}
	}
	for _, p := range []string{"/root/.aws/credentials", "/usr/bin/gone"} {
		if _, ok := got[p]; ok {
			t.Errorf("%s vouched for by the md5sums of a package that is not installed", p)
		}
	}
	delete(fsys.files, "var/lib/dpkg/status")
	if got := DpkgDigests(fsys); len(got) != 0 {
		t.Errorf("without a status file: %v", got)
	}
}
