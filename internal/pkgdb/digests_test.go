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
