// Package lifecycle is data: operating system releases and the day their vendor stops
// publishing security updates for them without a paid subscription, each with its source. The
// supported-release rule judges an image's release against it.
package lifecycle

import (
	"strconv"
	"strings"
	"time"
)

// Release is one release's end of security support.
type Release struct {
	// OS is the os-release ID ("debian", "ubuntu", "rhel"…) or "windows-server"; Version the
	// release as the table matches it (Debian's major version, Ubuntu's VERSION_ID, Alpine's
	// MAJOR.MINOR, a Windows Server build number).
	OS, Version string
	Name        string    // "Debian 12 (bookworm)"
	End         time.Time // the last day of security updates
	Support     string    // what ends then: "Debian LTS", "standard support", "extended support"
	Source      string    // where the date is published
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	debianLTS   = "https://wiki.debian.org/LTS"
	ubuntuCycle = "https://ubuntu.com/about/release-cycle"
	alpine      = "https://alpinelinux.org/releases/"
	rhel        = "https://access.redhat.com/support/policy/updates/errata"
	rocky       = "https://wiki.rockylinux.org/rocky/version/"
	alma        = "https://wiki.almalinux.org/release-notes/"
	amazon      = "https://aws.amazon.com/amazon-linux-2/faqs/ and https://docs.aws.amazon.com/linux/al2023/ug/release-cadence.html"
	mariner     = "https://techcommunity.microsoft.com/blog/linuxandopensourceblog/cbl-mariner-2-0-end-of-life/"
	winLife     = "https://learn.microsoft.com/lifecycle/products/"
)

// Releases is the table, by OS then version.
var Releases = []Release{
	{"debian", "9", "Debian 9 (stretch)", day("2022-06-30"), "Debian LTS", debianLTS},
	{"debian", "10", "Debian 10 (buster)", day("2024-06-30"), "Debian LTS", debianLTS},
	{"debian", "11", "Debian 11 (bullseye)", day("2026-08-31"), "Debian LTS", debianLTS},
	{"debian", "12", "Debian 12 (bookworm)", day("2028-06-30"), "Debian LTS", debianLTS},
	{"debian", "13", "Debian 13 (trixie)", day("2030-06-30"), "Debian LTS", debianLTS},
	{"ubuntu", "18.04", "Ubuntu 18.04 LTS", day("2023-05-31"), "standard support", ubuntuCycle},
	{"ubuntu", "20.04", "Ubuntu 20.04 LTS", day("2025-05-31"), "standard support", ubuntuCycle},
	{"ubuntu", "22.04", "Ubuntu 22.04 LTS", day("2027-04-30"), "standard support", ubuntuCycle},
	{"ubuntu", "24.04", "Ubuntu 24.04 LTS", day("2029-04-30"), "standard support", ubuntuCycle},
	{"ubuntu", "24.10", "Ubuntu 24.10", day("2025-07-10"), "standard support", ubuntuCycle},
	{"ubuntu", "25.04", "Ubuntu 25.04", day("2026-01-31"), "standard support", ubuntuCycle},
	{"alpine", "3.18", "Alpine 3.18", day("2025-05-09"), "security fixes", alpine},
	{"alpine", "3.19", "Alpine 3.19", day("2025-11-01"), "security fixes", alpine},
	{"alpine", "3.20", "Alpine 3.20", day("2026-04-01"), "security fixes", alpine},
	{"alpine", "3.21", "Alpine 3.21", day("2026-11-01"), "security fixes", alpine},
	{"alpine", "3.22", "Alpine 3.22", day("2027-05-01"), "security fixes", alpine},
	{"rhel", "7", "Red Hat Enterprise Linux 7", day("2024-06-30"), "maintenance support", rhel},
	{"rhel", "8", "Red Hat Enterprise Linux 8", day("2029-05-31"), "maintenance support", rhel},
	{"rhel", "9", "Red Hat Enterprise Linux 9", day("2032-05-31"), "maintenance support", rhel},
	{"rocky", "8", "Rocky Linux 8", day("2029-05-31"), "security support", rocky},
	{"rocky", "9", "Rocky Linux 9", day("2032-05-31"), "security support", rocky},
	{"almalinux", "8", "AlmaLinux 8", day("2029-03-01"), "security support", alma},
	{"almalinux", "9", "AlmaLinux 9", day("2032-05-31"), "security support", alma},
	{"amzn", "2", "Amazon Linux 2", day("2026-06-30"), "end of support", amazon},
	{"amzn", "2023", "Amazon Linux 2023", day("2029-06-30"), "end of support", amazon},
	{"mariner", "2.0", "CBL-Mariner 2.0", day("2025-07-31"), "end of life", mariner},
	{"windows-server", "9600", "Windows Server 2012 R2", day("2023-10-10"), "extended support", winLife + "windows-server-2012-r2"},
	{"windows-server", "14393", "Windows Server 2016", day("2027-01-12"), "extended support", winLife + "windows-server-2016"},
	{"windows-server", "17763", "Windows Server 2019", day("2029-01-09"), "extended support", winLife + "windows-server-2019"},
	{"windows-server", "20348", "Windows Server 2022", day("2031-10-14"), "extended support", winLife + "windows-server-2022"},
	{"windows-server", "26100", "Windows Server 2025", day("2034-11-14"), "extended support", winLife + "windows-server-2025"},
}

// key is how the table names a release: the part of VERSION_ID the vendor's support follows.
func key(id, versionID string) string {
	v := strings.TrimSpace(versionID)
	parts := strings.Split(v, ".")
	switch id {
	case "debian", "rhel", "rocky", "almalinux", "amzn":
		return parts[0]
	case "alpine":
		if len(parts) >= 2 {
			return parts[0] + "." + parts[1]
		}
	}
	return v
}

// Linux finds an os-release ID and VERSION_ID.
func Linux(id, versionID string) (Release, bool) {
	k := key(id, versionID)
	for _, r := range Releases {
		if r.OS == id && r.Version == k {
			return r, true
		}
	}
	return Release{}, false
}

// WindowsServer finds a Windows Server release by its build number.
func WindowsServer(build int) (Release, bool) {
	k := strconv.Itoa(build)
	for _, r := range Releases {
		if r.OS == "windows-server" && r.Version == k {
			return r, true
		}
	}
	return Release{}, false
}

// WarnBefore is how long before its end a release warns.
const WarnBefore = 90 * 24 * time.Hour
