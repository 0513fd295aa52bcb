package rules

import (
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/network"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/firewall"
)

var _ = register(&Rule{
	ID:        "no-resolv-conf",
	Title:     "/etc/resolv.conf is absent or a link into /run",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Linux: remove /etc/resolv.conf)",
	Rationale: "A static resolv.conf pins the build network's DNS servers into every VM.",
	Fix:       "Remove /etc/resolv.conf (or leave the distribution's symlink to /run/...); marketplace-harden's `network` step does this.",
	Check: linux(func(c *Context) Result {
		fi, err := c.lstat("/etc/resolv.conf")
		if err != nil {
			return errResult(err)
		}
		if fi == nil {
			return pass("/etc/resolv.conf is absent")
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := c.Image.Root.ReadLink("etc/resolv.conf")
			if err != nil {
				return errResult(err)
			}
			abs := target
			if !strings.HasPrefix(abs, "/") {
				abs = path.Join("/etc", target)
			}
			if strings.HasPrefix(abs, "/run/") || strings.HasPrefix(abs, "/var/run/") {
				return pass("/etc/resolv.conf links to "+Quote(target)+", written at run time", Evidence{Path: "/etc/resolv.conf", Detail: "-> " + Quote(target)})
			}
			return fail("/etc/resolv.conf links to a static file", Evidence{Path: "/etc/resolv.conf", Detail: "-> " + Quote(target)})
		}
		var ev []Evidence
		data, err := c.read("/etc/resolv.conf")
		if err != nil {
			return errResult(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && (f[0] == "nameserver" || f[0] == "search" || f[0] == "domain") {
				ev = append(ev, Evidence{Path: "/etc/resolv.conf", Line: i + 1, Detail: Quote(strings.Join(f, " "))})
			}
		}
		if len(ev) == 0 {
			ev = []Evidence{{Path: "/etc/resolv.conf", Detail: fmt.Sprintf("regular file, %d bytes", fi.Size())}}
		}
		return fail("/etc/resolv.conf is a static file", listing(ev, 10)...)
	}),
})

var _ = register(&Rule{
	ID:        "no-mac-pinned-network",
	Title:     "No network configuration pinned to the build machine's MAC address",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: remove custom network configuration); LISA AzureImageStandard verify_udev_rules_moved (no 75-persistent-net-generator.rules, no 70-persistent-net.rules)",
	Rationale: "Configuration matched on the build VM's MAC address does not apply to new VMs, which then boot without network. udev's persistent-net generator writes such rules at first boot; Microsoft's suite fails both files (it checks Fedora, CoreOS and Mariner; the generator pins MACs on any distribution).",
	Fix:       "Remove 70-persistent-net.rules, 75-persistent-net-generator.rules and MAC matches from netplan, ifcfg, NetworkManager and systemd-networkd files (marketplace-harden `network` removes the first and the MAC matches).",
	Check: linux(func(c *Context) Result {
		// the generator, unless /etc masks it (a link to /dev/null or an empty file, the usual way)
		var generators []Evidence
		for _, d := range []string{"/etc/udev/rules.d", "/lib/udev/rules.d", "/usr/lib/udev/rules.d", "/usr/lib64/udev/rules.d"} {
			p := d + "/75-persistent-net-generator.rules"
			fi, err := c.lstat(p)
			if err != nil {
				return errResult(err)
			}
			if fi == nil {
				continue
			}
			if fi.Mode()&fs.ModeSymlink != 0 || fi.Size() == 0 {
				if d == "/etc/udev/rules.d" {
					break // masked
				}
				continue
			}
			generators = append(generators, Evidence{Path: p, Detail: "udev's persistent-net generator: it pins the first boot's MAC addresses"})
			break // the first one found is the one udev uses
		}
		// MAC matches and settings in every stack's configuration, read as the stack reads it
		// (only the readers pins come from: a broken NetworkManager.conf is first-nic-dhcp's)
		nf := network.Of(c.Image)
		unread := nf.ErrOf(network.PinNeeds...)
		var ev []Evidence
		for _, p := range nf.Pins {
			ev = append(ev, Evidence{Path: p.Path, Line: p.Line, Detail: Quote(p.Setting)})
		}
		ev = append(ev, generators...)
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d MAC-pinned network setting(s)", len(ev)), listing(ev, 20)...)
			if unread != nil {
				r.Message += fmt.Sprintf(" (and not read, so possibly more: %v)", unread)
			}
			return r
		}
		if unread != nil {
			return errResult(unread)
		}
		return pass("no MAC-pinned network configuration")
	}),
})

var _ = register(&Rule{
	ID:        "firewall-disabled",
	Title:     "No host firewall enabled at boot (unless the application needs it)",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Linux: firewall rules disabled unless the application depends on them)",
	Rationale: "Azure network security groups filter traffic; a host firewall in the image blocks customers' own NSG rules and the platform's probes in ways they cannot see. A firewall service counts when boot starts it: reached from default.target through any .wants/.requires directory (vendor ones too, such as nftables' sysinit.target.wants) or another started unit's Wants=/Requires=/BindsTo=, and not masked; ufw.conf ENABLED=yes and SysV start links count too. It reads the same firewall fact as firewall-enabled, so one of the two always passes. Waive this rule with a reason for appliances that need it.",
	Fix:       "Disable ufw / firewalld / nftables / iptables persistence (marketplace-harden `firewall`), or waive the rule: waive { rule = \"firewall-disabled\" reason = \"...\" }.",
	Check: linux(func(c *Context) Result {
		// the firewall fact (internal/facts/firewall, on facts/systemd's Boot) that
		// firewall-enabled judges too: any sign that a firewall is switched on fails here
		f := firewall.Of(c.Image)
		if err := f.Err(); err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, s := range f.Signals {
			d := s.Detail
			switch s.Kind {
			case firewall.Service:
				d = s.Unit + " enabled at boot"
			case firewall.SysV:
				d = s.Firewall + " started by SysV init"
			case firewall.Switch:
				d = "ENABLED=yes"
			}
			ev = append(ev, Evidence{Path: s.Path, Line: s.Line, Detail: d})
		}
		if len(ev) > 0 {
			return fail("a host firewall is enabled", ev...)
		}
		return pass("no firewall service enabled at boot")
	}),
})
