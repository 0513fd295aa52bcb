package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

// sackFixed are the kernels the certification FAQ approves against the TCP SACK panic
// (CVE-2019-11477, -11478, -11479): "Update the kernel with an approved version", by
// distribution. Keyed by the upstream base the distribution's kernel carries; a kernel of the
// same base is approved at or above the listed release.
// Source: learn.microsoft.com/azure/marketplace/azure-vm-certification-faq, "SACK vulnerability
// patch verification".
var sackFixed = map[string][]string{
	"2.6.32":  {"754.15.3"},                                                             // RHEL, CentOS, Oracle RHCK 6.10
	"2.6.39":  {"400.312.2"},                                                            // Oracle UEK2
	"3.0.101": {"108.95.2"},                                                             // SLES 11 SP4
	"3.8.13":  {"118.35.2"},                                                             // Oracle UEK3
	"3.10.0":  {"327.79.2", "514.66.2", "693.50.3", "862.34.2", "957.21.3", "1062.1.1"}, // RHEL, CentOS 7.2 to 7.7
	"3.12.74": {"60.64.115.1"},                                                          // SLES 12 SP1 for SAP
	"3.16.68": {"2"},                                                                    // Debian jessie
	"4.1.12":  {"124.28.3"},                                                             // Oracle UEK4
	"4.4.0":   {"151"},                                                                  // Ubuntu 14.04
	"4.4.121": {"92.114.1"},                                                             // SLES 12 SP2 for SAP
	"4.4.180": {"4.31.1", "94.97.1"},                                                    // SLES 12 SP3
	"4.9.168": {"1+deb9u3"},                                                             // Debian stretch
	"4.12.14": {"5.30.1", "6.15.2", "95.19.1"},                                          // SLES 12 SP4, 15, 15 SP1
	"4.14.35": {"1902.2.0"},                                                             // Oracle UEK5
	"4.15.0":  {"1049"},                                                                 // Ubuntu 16.04, 14.04 (azure)
	"4.18.0":  {"80.4.2", "147", "1023"},                                                // RHEL 8.0, 8.1; Ubuntu 18.04 (azure)
	"4.19.37": {"5"},                                                                    // Debian buster
	"5.0.0":   {"1010"},                                                                 // Ubuntu 18.04, 19.04 (azure)
	"5.3.0":   {"1004"},                                                                 // Ubuntu 19.04
}

// sackUpstream are the upstream stable releases carrying the fix (the kernel.org announcements
// of 2019-06-17); 5.2 and later have it from the start.
var sackUpstream = map[string]int{"4.4": 182, "4.9": 182, "4.14": 127, "4.19": 52, "5.1": 11}

// releaseCompare orders two kernel releases: by their leading numeric components first
// ("80.el8" < "80.4.2", as rpm orders them), then as package versions ("1+deb9u2" < "1+deb9u3").
func releaseCompare(a, b string) int {
	numeric := func(r string) string {
		var out []string
		for _, f := range strings.Split(strings.SplitN(r, "-", 2)[0], ".") {
			if _, err := strconv.Atoi(f); err != nil {
				break
			}
			out = append(out, f)
		}
		return strings.Join(out, ".")
	}
	if c := pkgdb.CompareVersions(numeric(a), numeric(b)); c != 0 {
		return c
	}
	return pkgdb.CompareVersions(a, b)
}

// sackVerdict decides one kernel version ("4.15.0-1049-azure", "3.10.0-957.21.3.el7.x86_64",
// "4.9.168-1+deb9u3"): pass, fail (an approved series below its approved release) or warn
// (nothing says whether it carries the backport).
func sackVerdict(kernel string) (Status, string) {
	base, release, _ := strings.Cut(kernel, "-")
	nums := strings.Split(base, ".")
	if len(nums) < 2 {
		return Warn, "the kernel version " + kernel + " cannot be read"
	}
	major, err1 := strconv.Atoi(nums[0])
	minor, err2 := strconv.Atoi(nums[1])
	if err1 != nil || err2 != nil {
		return Warn, "the kernel version " + kernel + " cannot be read"
	}
	if major > 5 || major == 5 && minor >= 2 {
		return Pass, fmt.Sprintf("kernel %s is later than the fix (5.2 and later carry it)", kernel)
	}
	if fixed, ok := sackUpstream[nums[0]+"."+nums[1]]; ok && len(nums) > 2 {
		if patch, err := strconv.Atoi(nums[2]); err == nil && patch >= fixed {
			return Pass, fmt.Sprintf("kernel %s carries the upstream fix (%s.%d)", kernel, nums[0]+"."+nums[1], fixed)
		}
	}
	approved, ok := sackFixed[base]
	if !ok {
		return Warn, fmt.Sprintf("kernel %s predates the fix and is not in the certification FAQ's table: whether it carries the backport cannot be told offline", kernel)
	}
	// the approved release of the same line (its first number), else the table's range
	first := func(r string) string { return r[:len(r)-len(strings.TrimLeft(r, "0123456789"))] } // its leading number
	lowest, highest := approved[0], approved[0]
	for _, a := range approved {
		if first(a) == first(release) {
			if releaseCompare(release, a) >= 0 {
				return Pass, fmt.Sprintf("kernel %s is at or above the approved %s-%s", kernel, base, a)
			}
			return Fail, fmt.Sprintf("kernel %s is below the approved %s-%s", kernel, base, a)
		}
		if releaseCompare(a, lowest) < 0 {
			lowest = a
		}
		if releaseCompare(a, highest) > 0 {
			highest = a
		}
	}
	switch {
	case releaseCompare(release, highest) > 0:
		return Pass, fmt.Sprintf("kernel %s is later than every approved %s release", kernel, base)
	case releaseCompare(release, lowest) < 0:
		return Fail, fmt.Sprintf("kernel %s is older than every approved %s release (%s)", kernel, base, lowest)
	}
	return Warn, fmt.Sprintf("kernel %s is between approved %s releases: whether it carries the backport cannot be told offline", kernel, base)
}

var _ = register(&Rule{
	ID:       "kernel-sack-patched",
	Title:    "The kernel that boots carries the TCP SACK fix (CVE-2019-11477, -11478, -11479)",
	Severity: High,
	Source:   "self-test 52 SACK Vulnerability patch verification; certification FAQ, \"SACK vulnerability patch verification\" (learn.microsoft.com/azure/marketplace/azure-vm-certification-faq)",
	Rationale: "The certification checks that the kernel has the SACK panic fix, against the FAQ's table of approved kernels per distribution; " +
		"an older kernel is rejected. Judged on the kernel that boots: Debian's kernel file names carry the ABI (4.9.0-9), so its package's " +
		"version (4.9.168-1+deb9u3) is what is compared. Kernels from 5.2, and upstream stable releases with the fix, pass; an older kernel " +
		"the table does not list is a warning, as the backport cannot be seen offline.",
	Fix:  "Update the kernel package to the distribution's current release and regenerate the boot configuration.",
	Cert: &CertTest{SelfTestID: "52", Name: "SACK Vulnerability patch verification", Level: "Failed"},
	Check: linux(func(c *Context) Result {
		bk, err := c.bootKernel()
		if err != nil {
			return errResult(err)
		}
		k := bk.release
		if k == "" {
			return warn("no kernel found in /boot: the SACK fix cannot be checked offline")
		}
		version, where := k, Evidence{Path: bk.from}
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		if p, ok := pkgdb.Newest(inv.Find("linux-image-" + k)); ok && inv.Manager == "dpkg" {
			// the package version without its epoch: upstream-revision, e.g. 4.9.168-1+deb9u3
			_, noEpoch, found := strings.Cut(p.Version, ":")
			if !found {
				noEpoch = p.Version
			}
			version, where = noEpoch, Evidence{Path: inv.Path, Detail: "package " + p.Name + " " + p.Version}
		}
		st, msg := sackVerdict(version)
		return Result{Status: st, Message: msg, Evidence: []Evidence{where}, Actual: k, Required: "Yes"}
	}),
})

var _ = register(&Rule{
	ID:       "glibc-ghost",
	Title:    "glibc is not a release exposed to GHOST (CVE-2015-0235)",
	Severity: Low,
	Source:   "self-test 50 Security threats (\"Identifies OS with recent high profile vulnerability that may need patching. Ignore warning if system was patched as appropriate.\", required value \"OS impacted by GHOSTS\")",
	Rationale: "The self-test's Security threats case names GHOST, the glibc gethostbyname overflow fixed upstream in glibc 2.18, and reports " +
		"a Warning to ignore when the distribution patched it. The rule warns the same way on a glibc package older than 2.18; it never fails.",
	Fix:  "Update the glibc package (libc6 on Debian and Ubuntu, glibc on RPM distributions) to the distribution's current release.",
	Cert: &CertTest{SelfTestID: "50", Name: "Security threats", Level: "Warning"},
	Check: linux(func(c *Context) Result {
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		p, ok := pkgdb.Newest(inv.Find("libc6", "glibc"))
		if !ok {
			return na("no glibc package (libc6, glibc) in " + inv.Path)
		}
		ev := Evidence{Path: inv.Path, Detail: "package " + p.Name + " " + p.Version}
		up := pkgdb.Upstream(p.Version)
		if releaseCompare(up, "2.18") < 0 {
			r := warn(fmt.Sprintf("glibc %s predates 2.18, the upstream fix for GHOST: the self-test warns unless the distribution patched it", p.Version), ev)
			r.Actual, r.Required = "glibc "+p.Version, "OS impacted by GHOSTS"
			return r
		}
		r := pass(fmt.Sprintf("glibc %s includes the GHOST fix (2.18 and later)", p.Version), ev)
		r.Actual, r.Required = "glibc "+p.Version, "OS impacted by GHOSTS"
		return r
	}),
})
