package pkgdb

import "github.com/marketready/packer-plugin-marketplace/internal/pkgver"

// CompareVersions orders two package versions the way dpkg does (pkgver.Debian: epoch,
// upstream, revision; "~" sorts before anything). It is also a sound order for rpm and apk
// versions at the thresholds the rules use. It returns -1, 0 or 1.
func CompareVersions(a, b string) int { return pkgver.Debian(a, b) }

// Upstream strips the epoch and the distribution revision: "1:9.2p1-2+deb12u3" → "9.2p1".
func Upstream(v string) string {
	_, u, _ := pkgver.SplitDebian(v)
	return u
}
