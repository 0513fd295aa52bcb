package pkgdb

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func FuzzDatabases(f *testing.F) {
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1:2.3-4\n\nP:x\nV:1\n"), "1.0~a", "1:1")
	f.Add([]byte("d41d8cd98f00b204e9800998ecf8427e  lib/udev/hwdb.d/20-OUI.hwdb\nConffiles:\n /etc/a.conf 0123456789abcdef0123456789abcdef\n"), "1", "2")
	f.Fuzz(func(t *testing.T, data []byte, a, b string) {
		ParseDpkgStatus(data)
		ParseApkInstalled(data)
		digests := map[string]string{}
		parseMD5Sums(data, digests)
		parseConffiles(data, digests)
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Errorf("CompareVersions(%q, %q) is not antisymmetric", a, b)
		}
	})
}

// FuzzRPMDB feeds arbitrary bytes to the rpm database reader (SQLite, NDB, Berkeley DB): it must
// return an error, never panic or hang.
func FuzzRPMDB(f *testing.F) {
	f.Add(testfixture.RPMDB(f, "openssl-libs:1:3.0.7:27.el9"))
	f.Add([]byte("SQLite format 3\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseRPMDB("rpmdb.sqlite", data, nil)
		ParseRPMDB("Packages", data, nil)
	})
}
