package rules

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/firewall"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/network"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/resolvconf"
)

var _ = register(&Rule{
	ID:        "no-resolv-conf",
	Title:     "/etc/resolv.conf is absent or a link into /run",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Linux: remove /etc/resolv.conf)",
	Rationale: "A static resolv.conf pins the build network's DNS servers into every VM. The link is followed as the kernel follows it (every link on the way, /var/run -> /run too, up to 40): it passes when it ends under /run or /var/run, which boot writes. A static file fails, with what glibc's resolver reads from it as evidence (each nameserver it accepts, the line that sets the search list), read as glibc 2.36 reads it.",
	Fix:       "Remove /etc/resolv.conf (or leave the distribution's symlink to /run/...); marketplace-harden's `network` step does this.",
	Check: linux(func(c *Context) Result {
		// the resolvconf fact (internal/facts/resolvconf): the path as the kernel follows it,
		// the file as glibc's resolver reads it
		f := resolvconf.Of(c.Image)
		const p = resolvconf.Path
		link := Evidence{Path: p, Detail: "-> " + Quote(f.Target)}
		switch {
		case f.Kind == resolvconf.Unknown, f.Kind == resolvconf.Link && (f.Target == "" || f.Resolved == ""):
			return errResult(f.Err()) // the path, the link or where it ends could not be read
		case f.Kind == resolvconf.Absent:
			return pass(p + " is absent")
		case f.Kind == resolvconf.Link && f.Loops:
			return fail(p+" is a loop of symbolic links: the resolver reads no file, and nothing written at run time reaches it", link)
		case f.Kind == resolvconf.Link && !f.Static:
			if f.Resolved != f.Target {
				link.Detail += ", ending at " + Quote(f.Resolved)
			}
			return pass(p+" links to "+Quote(f.Target)+", written at run time", link)
		case f.Kind == resolvconf.Other:
			return fail(p+" is neither a file nor a link: the resolver reads nothing and nothing can replace it at run time", Evidence{Path: p, Detail: "not a regular file"})
		}
		// a static file: the verdict is decided; what glibc would read from it is the evidence
		var ev []Evidence
		msg := p + " is a static file"
		if f.Kind == resolvconf.Link {
			msg = p + " links to a static file"
			link.Detail += ", ending at " + Quote(f.Resolved)
			if f.Read == "" {
				link.Detail += " (no file there in the image to read)"
			}
			ev = append(ev, link)
		}
		ev = append(ev, resolvConfEvidence(f)...)
		if len(ev) == 0 {
			ev = []Evidence{{Path: p, Detail: fmt.Sprintf("regular file, %d bytes, no nameserver, search or domain line glibc reads", f.Size)}}
		}
		r := fail(msg, listing(ev, 12)...)
		if err := f.Err(); err != nil {
			r.Message += fmt.Sprintf(" (not all of it read, so possibly more: %v)", err)
		}
		return r
	}),
})

// resolvConfEvidence is what the resolver takes from the file: the name servers it accepts
// (noting those past the MAXNS it queries) and the line that sets the search list.
func resolvConfEvidence(f *resolvconf.Facts) []Evidence {
	if f.Conf == nil {
		return nil
	}
	var ev []Evidence
	for i, s := range f.Conf.Servers {
		d := Quote(s.Text)
		if i >= resolvconf.MaxNS {
			d += fmt.Sprintf(" (kept, not queried: the resolver asks the first %d)", resolvconf.MaxNS)
		}
		ev = append(ev, Evidence{Path: f.Read, Line: s.Line, Detail: d})
	}
	if s := f.Conf.SearchFrom; s != nil {
		d := Quote(s.Text)
		if list := strings.Join(f.Conf.Search, " "); list != strings.Join(strings.Fields(s.Text)[1:], " ") {
			d += " (search list " + Quote(list) + ")" // a domain line's first word only
		}
		ev = append(ev, Evidence{Path: f.Read, Line: s.Line, Detail: d})
	}
	return ev
}

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
		notes := readPastNotes(nf)
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d MAC-pinned network setting(s)", len(ev)), append(listing(ev, 20), notes...)...)
			if unread != nil {
				r.Message += fmt.Sprintf(" (and not read, so possibly more: %v)", unread)
			}
			return r
		}
		if unread != nil {
			return errResult(unread)
		}
		return pass("no MAC-pinned network configuration", notes...)
	}),
})

var _ = register(&Rule{
	ID:        "firewall-disabled",
	Title:     "No host firewall enabled at boot (unless the application needs it)",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Linux: firewall rules disabled unless the application depends on them)",
	Rationale: "Azure network security groups filter traffic; a host firewall in the image blocks customers' own NSG rules and the platform's probes (the agent, SSH) in ways they cannot see. A firewall counts when boot starts it and what it loads filters. Started: a firewall's service (ufw, firewalld, nftables, iptables, ip6tables, netfilter-persistent, iptables-persistent, ferm, shorewall, shorewall6, arno-iptables-firewall) or any other service whose ExecStartPre=/ExecStart=/ExecStartPost= runs nft -f, iptables-restore, ip6tables-restore, ufw enable or firewall-cmd (directly or in sh -c), reached from default.target through any .wants/.requires directory (vendor ones too, such as nftables' sysinit.target.wants) or another started unit's Wants=/Requires=/BindsTo=, found and not masked; SysV start links; under OpenRC (no systemd in the image, openrc present), a link in /etc/runlevels/sysinit, boot or default to an existing /etc/init.d script of iptables, ip6tables, nftables, ufw, firewalld or awall; and an up/pre-up/post-up line running iptables-restore or nft -f in the stanza of an auto or allow-hotplug interface of /etc/network/interfaces. ufw counts only when both its service starts and its switch is on (ENABLED=yes or YES in ufw.conf, else in /etc/default/ufw, as ufw's boot script reads them): Ubuntu's ufw.service with ENABLED=no loads nothing and is listed, not failed. Filters: the rules file a service loads is read (nft -f FILE, /etc/nftables.conf for nftables.service, with its includes; iptables-save files for iptables-restore, netfilter-persistent's /etc/iptables/rules.v4 and rules.v6, RHEL's /etc/sysconfig/iptables and ip6tables, OpenRC's rules-save): a chain with policy drop or a rule that drops, rejects or queues filters; a ruleset of accepting chains only (Debian's default /etc/nftables.conf) accepts everything and passes, listed; a rules file that does not exist makes the service fail, loading nothing. ufw's, firewalld's, ferm's and shorewall's own configurations are not read: they count as filtering. A service whose Condition*= or Assert*= fails on the image is skipped by systemd and counts as not started; one whose condition cannot be decided offline (the hypervisor, a mount on the VM) is an error naming the condition when only such services would fail the rule. A rules file over 1 MiB, a line over 64 KiB, includes nested over 16 deep, or a file that could not be read is an error naming it. It judges the same firewall fact as firewall-enabled. Waive this rule with a reason for appliances that need it.",
	Fix:       "Disable ufw / firewalld / nftables / iptables persistence (marketplace-harden `firewall`), or load a ruleset that accepts everything, or waive the rule: waive { rule = \"firewall-disabled\" reason = \"...\" }.",
	Check: linux(func(c *Context) Result {
		// the firewall fact (internal/facts/firewall, on facts/systemd's Boot) that
		// firewall-enabled judges too: a firewall that starts and loads rules that filter
		// fails here
		f := firewall.Of(c.Image)
		if err := f.Err(); err != nil {
			return errResult(err)
		}
		// only what loads filtering rules counts: a ufw.service whose ufw.conf says
		// ENABLED=no, an nftables.service without its file, or a ruleset that accepts
		// everything filters nothing (Azure's concern is a firewall blocking its agent and
		// SSH); one whose start rests on an undecided condition decides nothing
		var ev, undecided, inert []Evidence
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
			switch {
			case !s.Starts || !s.Filters:
				inert = append(inert, Evidence{Path: s.Path, Line: s.Line, Detail: Quote(s.Detail)})
			case s.Undecided != "":
				undecided = append(undecided, Evidence{Path: s.Path, Line: s.Line, Detail: Quote(s.Detail)})
			default:
				if s.Rules != "" {
					d += "; loads " + Quote(s.Rules)
				}
				ev = append(ev, Evidence{Path: s.Path, Line: s.Line, Detail: d})
			}
		}
		switch {
		case len(ev) > 0:
			return fail("a host firewall is enabled", append(append(ev, undecided...), inert...)...)
		case len(undecided) > 0:
			// a required rule failing on a guess would be wrong, and passing on one too
			return Result{Status: Error, Message: "a host firewall starts at boot unless a condition not decided offline fails on the VM: " + undecided[0].Detail,
				Evidence: append(undecided, inert...)}
		case len(inert) > 0:
			return pass("no host firewall filters at boot (configuration only, or rules that accept everything)", inert...)
		}
		return pass("no firewall service enabled at boot")
	}),
})

// readPastNotes are the errors ifup itself reads past (each ends the reading of one sourced
// file, and ifup goes on): they decide nothing, since what ifup makes of the rest is known, but
// what comes after one in its file is not configuration, whatever it says.
func readPastNotes(nf *network.Facts) []Evidence {
	var ev []Evidence
	for _, e := range nf.ReadPast {
		d := "note: ifup reads past this and ignores the rest of the file: "
		if e.Line == 0 {
			d = "note: ifup reads past this file: "
		}
		ev = append(ev, Evidence{Path: e.File, Line: e.Line, Detail: d + Quote(e.Msg)})
	}
	return listing(ev, 10)
}
