package rules

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

// distroFamily is how Microsoft's suite groups distributions for its distribution-specific
// cases: LISA's Fedora class covers Fedora, RHEL and its rebuilds (CentOS, Oracle, AlmaLinux,
// Rocky), Suse covers SLES and openSUSE, CBLMariner covers CBL-Mariner and Azure Linux.
type distroFamily int

const (
	otherDistro distroFamily = iota
	rhelFamily
	fedoraItself
	suseFamily
	marinerFamily
)

func familyOf(o inspect.OSRelease) distroFamily {
	ids := append([]string{o.ID}, strings.Fields(o.IDLike)...)
	for _, id := range ids {
		switch strings.ToLower(strings.Trim(id, `"`)) {
		case "fedora":
			if strings.EqualFold(o.ID, "fedora") {
				return fedoraItself
			}
			return rhelFamily
		case "rhel", "centos", "ol", "almalinux", "rocky":
			return rhelFamily
		case "sles", "sled", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "suse":
			return suseFamily
		case "mariner", "azurelinux":
			return marinerFamily
		}
	}
	return otherDistro
}

// versionBelow says whether a VERSION_ID ("8.9", "15-SP5", "39") is lower than major.minor, as
// the suite compares them; an unreadable version is not below anything.
func versionBelow(versionID string, major, minor int) bool {
	f := strings.FieldsFunc(versionID, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) == 0 {
		return false
	}
	ma, _ := strconv.Atoi(f[0])
	mi := 0
	if len(f) > 1 {
		mi, _ = strconv.Atoi(f[1])
	}
	return ma < major || ma == major && mi < minor
}

// distroFinding is one thing the distribution-specific cases look at.
type distroFinding struct {
	status Status
	ev     Evidence
	msg    string
}

var _ = register(&Rule{
	ID:       "distro-image-config",
	Title:    "The distribution's network, DHCP and yum files are as Microsoft's suite reads them (RHEL family, SUSE, CBL-Mariner)",
	Severity: High,
	Source: "LISA AzureImageStandard verify_network_manager_not_installed, verify_network_file_configuration, verify_ifcfg_eth0, " +
		"verify_dhcp_file_configuration, verify_yum_conf; Microsoft's RHEL and SLES preparation guides (learn.microsoft.com/azure/virtual-machines/linux/redhat-create-upload-vhd, suse-create-upload-vhd)",
	Rationale: "Microsoft's suite fails, per distribution: a RHEL-family image without /etc/sysconfig/network saying NETWORKING=yes, or whose " +
		"ifcfg-eth0 lacks DEVICE=eth0, BOOTPROTO=dhcp or ONBOOT=yes (before Fedora 39's NetworkManager profiles); NetworkManager on RHEL before 7; " +
		"a SUSE image whose /etc/sysconfig/network/dhcp lacks DHCLIENT_SET_HOSTNAME=\"no\" (the DHCP client would rename the VM); CBL-Mariner " +
		"without its networkd.conf or its DHCP client's host-name setting; yum without http_caching=packages before RHEL 6.6. A file cloud-init " +
		"writes at first boot (ifcfg-eth0, a NetworkManager profile) cannot be seen offline: when cloud-init is installed its absence is a warning. " +
		"Other distributions: not applicable.",
	Fix: "RHEL family: write /etc/sysconfig/network (NETWORKING=yes) and /etc/sysconfig/network-scripts/ifcfg-eth0 (DEVICE=eth0, ONBOOT=yes, " +
		"BOOTPROTO=dhcp, TYPE=Ethernet, USERCTL=no, PEERDNS=yes, IPV6INIT=no), as Microsoft's RHEL guide shows. SUSE: set " +
		"DHCLIENT_SET_HOSTNAME=\"no\" in /etc/sysconfig/network/dhcp. CBL-Mariner: keep the distribution's networkd.conf and DHCP client configuration.",
	Check: linux(func(c *Context) Result {
		o := c.Image.OSRelease()
		if o.Err != nil {
			return errResult(o.Err)
		}
		fam := familyOf(o)
		if fam == otherDistro {
			return na(fmt.Sprintf("%s: Microsoft's distribution-specific cases cover the RHEL family, SUSE and CBL-Mariner", strings.TrimSpace(o.ID+" "+o.VersionID)))
		}
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		cloudInit := len(inv.Find("cloud-init")) > 0
		var found []distroFinding
		add := func(s Status, p, detail, msg string) {
			found = append(found, distroFinding{s, Evidence{Path: p, Detail: detail}, msg})
		}
		// contains reads a file and says which of the wanted strings it lacks; ok is false
		// when the file is absent.
		contains := func(p string, fold bool, want ...string) (lacking []string, ok bool, err error) {
			data, err := c.read(p)
			if err != nil || data == nil {
				return nil, false, err
			}
			text := string(data)
			for _, w := range want {
				if fold && !strings.Contains(strings.ToUpper(text), strings.ToUpper(w)) || !fold && !strings.Contains(text, w) {
					lacking = append(lacking, w)
				}
			}
			return lacking, true, nil
		}
		need := func(p, lisaCase string, fold, firstBoot bool, want ...string) error {
			lacking, ok, err := contains(p, fold, want...)
			switch {
			case err != nil:
				return err
			case !ok && firstBoot && cloudInit:
				add(Warn, p, "missing (cloud-init may write it at first boot)", fmt.Sprintf("%s is missing; cloud-init may write it at first boot, which cannot be seen offline (%s)", p, lisaCase))
			case !ok:
				add(Fail, p, "missing", fmt.Sprintf("%s is missing (%s)", p, lisaCase))
			case len(lacking) > 0:
				add(Fail, p, "lacks "+strings.Join(lacking, ", "), fmt.Sprintf("%s lacks %s (%s)", p, strings.Join(lacking, ", "), lisaCase))
			default:
				add(Pass, p, strings.Join(want, ", "), "")
			}
			return nil
		}
		var checks []error
		switch fam {
		case rhelFamily, fedoraItself:
			if fam == rhelFamily && versionBelow(o.VersionID, 7, 0) {
				if nm, ok := pkgdb.Newest(inv.Find("NetworkManager")); ok {
					add(Fail, inv.Path, "package "+nm.Name+" "+nm.Version, "NetworkManager is installed on a release before 7, where it conflicts with the agent (verify_network_manager_not_installed)")
				}
			}
			if fam == fedoraItself && !versionBelow(o.VersionID, 39, 0) {
				dir := "/etc/NetworkManager/system-connections"
				var have []string
				for _, n := range []string{"eth0.nmconnection", "cloud-init-eth0.nmconnection"} {
					if fi, err := c.stat(path.Join(dir, n)); err != nil {
						checks = append(checks, err)
					} else if fi != nil {
						have = append(have, path.Join(dir, n))
					}
				}
				if len(have) == 0 {
					add(Warn, dir, "no eth0 profile", "no NetworkManager profile for eth0 in "+dir+"; cloud-init writes cloud-init-eth0 at first boot, which cannot be seen offline (verify_network_file_configuration)")
				} else {
					add(Pass, have[0], "eth0 profile", "")
				}
				break
			}
			checks = append(checks,
				need("/etc/sysconfig/network", "verify_network_file_configuration", true, false, "NETWORKING=yes"),
				need("/etc/sysconfig/network-scripts/ifcfg-eth0", "verify_ifcfg_eth0", false, true, "DEVICE=eth0", "BOOTPROTO=dhcp", "ONBOOT=yes"))
			if fam == rhelFamily && versionBelow(o.VersionID, 6, 6) {
				checks = append(checks, need("/etc/yum.conf", "verify_yum_conf", false, false, "http_caching=packages"))
			}
		case suseFamily:
			checks = append(checks, need("/etc/sysconfig/network/dhcp", "verify_dhcp_file_configuration", false, false, `DHCLIENT_SET_HOSTNAME="no"`))
		case marinerFamily:
			conf := "/etc/systemd/networkd.conf"
			if !versionBelow(o.VersionID, 4, 0) {
				conf = "/usr/lib/systemd/networkd.conf"
			}
			checks = append(checks, need(conf, "verify_network_file_configuration", false, false))
			if v := o.VersionID; strings.HasPrefix(v, "3") || strings.HasPrefix(v, "4") {
				checks = append(checks, need("/etc/dhcpcd.conf", "verify_dhcp_file_configuration", false, false, "option host_name"))
			} else {
				checks = append(checks, need("/etc/dhcp/dhclient.conf", "verify_dhcp_file_configuration", false, false, "host-name"))
			}
		}
		for _, err := range checks {
			if err != nil {
				return errResult(err)
			}
		}
		worst, problems := Pass, []string{}
		var ev []Evidence
		for _, f := range found {
			ev = append(ev, f.ev)
			if f.status == Pass {
				continue
			}
			problems = append(problems, f.msg)
			if f.status == Fail || worst == Pass {
				worst = f.status
			}
		}
		name := strings.TrimSpace(o.ID + " " + o.VersionID)
		switch worst {
		case Fail:
			return fail(name+": "+strings.Join(problems, "; "), ev...)
		case Warn:
			return warn(name+": "+strings.Join(problems, "; "), ev...)
		}
		return pass(name+": the network, DHCP and yum files are as Microsoft's suite reads them", ev...)
	}),
})
