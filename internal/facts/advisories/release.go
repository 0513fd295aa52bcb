// Package advisories is the fact of which installed packages a distribution's advisories say
// are behind on a fix: the image's release as an OSV ecosystem, its source packages matched
// against OSV records with the ecosystem's version order.
package advisories

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
)

// Release is the image's distribution release as OSV names it.
type Release struct {
	// Dump is the ecosystem whose dump holds the release's records (the directory of OSV's
	// public bucket: "Debian", "Ubuntu", "Alpine", "Rocky Linux"…).
	Dump string
	// Filter picks the release's records out of the dump ("Debian:12").
	Filter osv.Filter
	Scheme pkgver.Scheme
	// Name is how reports name it ("Debian:12").
	Name string
}

// BucketURL is where OSV publishes the dump of an ecosystem.
func BucketURL(dump string) string {
	return "https://osv-vulnerabilities.storage.googleapis.com/" + url.PathEscape(dump) + "/all.zip"
}

// ReleaseOf maps /etc/os-release's ID and VERSION_ID to the release's OSV ecosystem; an error
// says why there is none (an unknown distribution, a release without a version).
func ReleaseOf(id, versionID string) (Release, error) {
	v := strings.TrimSpace(versionID)
	major, _, _ := strings.Cut(v, ".")
	exact := func(dump, eco string, s pkgver.Scheme) Release {
		return Release{Dump: dump, Filter: osv.Filter{Ecosystems: []string{eco}}, Scheme: s, Name: eco}
	}
	if v == "" {
		return Release{}, fmt.Errorf("/etc/os-release has no VERSION_ID (ID %q): a rolling or testing release has no advisory ecosystem", id)
	}
	switch id {
	case "debian":
		return exact("Debian", "Debian:"+major, pkgver.SchemeDebian), nil
	case "ubuntu":
		eco := "Ubuntu:" + v
		if lts(v) {
			eco += ":LTS"
		}
		return exact("Ubuntu", eco, pkgver.SchemeDebian), nil
	case "alpine":
		parts := strings.SplitN(v, ".", 3)
		if len(parts) < 2 {
			return Release{}, fmt.Errorf("alpine VERSION_ID %q: want MAJOR.MINOR", v)
		}
		return exact("Alpine", "Alpine:v"+parts[0]+"."+parts[1], pkgver.SchemeAlpine), nil
	case "rocky":
		return exact("Rocky Linux", "Rocky Linux:"+major, pkgver.SchemeRPM), nil
	case "almalinux":
		return exact("AlmaLinux", "AlmaLinux:"+major, pkgver.SchemeRPM), nil
	case "mariner":
		return exact("Mariner", "Mariner:"+v, pkgver.SchemeRPM), nil
	case "azurelinux":
		return exact("Azure Linux", "Azure Linux:"+v, pkgver.SchemeRPM), nil
	case "sles", "sled":
		// "SUSE:Linux Enterprise Server 15 SP5": the service pack is VERSION_ID's minor
		maj, minor, _ := strings.Cut(v, ".")
		eco := "SUSE:Linux Enterprise Server " + maj
		if minor != "" && minor != "0" {
			eco += " SP" + minor
		}
		return exact("SUSE", eco, pkgver.SchemeRPM), nil
	case "opensuse-leap":
		return exact("openSUSE", "openSUSE:Leap "+v, pkgver.SchemeRPM), nil
	case "rhel":
		pre := "Red Hat:enterprise_linux:" + major + "::"
		return Release{Dump: "Red Hat", Filter: osv.Filter{Prefixes: []string{pre}}, Scheme: pkgver.SchemeRPM, Name: "Red Hat:enterprise_linux:" + major}, nil
	}
	return Release{}, fmt.Errorf("no OSV ecosystem is known for distribution %q %s", id, v)
}

// lts: Ubuntu's long-term releases are the April releases of even years.
func lts(v string) bool {
	y, m, ok := strings.Cut(v, ".")
	n, err := strconv.Atoi(y)
	return ok && err == nil && m == "04" && n%2 == 0
}
