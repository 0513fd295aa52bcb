package pkgdb

import "testing"

func FuzzDatabases(f *testing.F) {
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1:2.3-4\n\nP:x\nV:1\n"), "1.0~a", "1:1")
	f.Fuzz(func(t *testing.T, data []byte, a, b string) {
		ParseDpkgStatus(data)
		ParseApkInstalled(data)
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Errorf("CompareVersions(%q, %q) is not antisymmetric", a, b)
		}
	})
}
