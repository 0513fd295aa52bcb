package firewall

import (
	"errors"
	"fmt"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/network"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// OpenRCNames are the OpenRC services that load firewall rules (Alpine's and Gentoo's
// iptables, ip6tables and nftables packages, ufw, firewalld, Alpine's awall).
var OpenRCNames = []string{"iptables", "ip6tables", "nftables", "ufw", "firewalld", "awall"}

// openRCBinaries say OpenRC is the init system when systemd is not in the image: Alpine's
// busybox init and Gentoo's sysvinit run /sbin/openrc from /etc/inittab, and openrc-init is
// OpenRC's own /sbin/init.
var openRCBinaries = []string{"/sbin/openrc-init", "/sbin/openrc", "/usr/sbin/openrc-init", "/usr/sbin/openrc"}

// OpenRCRunlevels are the runlevels an OpenRC boot starts (sysinit, boot, then default).
var OpenRCRunlevels = []string{"sysinit", "boot", "default"}

// openRCRules is where a service's init script reads its rules: the conf.d variable and its
// default, Alpine's package (conf.d/iptables IPTABLES_SAVE, conf.d/nftables rules_file) and
// Gentoo's (IPTABLES_SAVE under /var/lib/iptables, NFTABLES_SAVE under /var/lib/nftables).
var openRCRules = map[string]struct{ key, alpine, gentoo string }{
	"iptables":  {"IPTABLES_SAVE", "/etc/iptables/rules-save", "/var/lib/iptables/rules-save"},
	"ip6tables": {"IP6TABLES_SAVE", "/etc/iptables/rules6-save", "/var/lib/ip6tables/rules-save"},
	"nftables":  {"NFTABLES_SAVE", "/etc/nftables.nft", "/var/lib/nftables/rules-save"},
}

// shellVar is a variable's last assignment in a sourced shell file ("" when none).
func shellVar(src systemd.Source, file string, keys ...string) (string, error) {
	data, err := src.ReadFile(file)
	if err != nil || data == nil {
		if err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return "", nil
	}
	vars, err := sysconf.ReadShellVars(data)
	if err != nil {
		return "", fmt.Errorf("%s %w", file, err)
	}
	v := ""
	for _, k := range keys {
		if s, ok := sysconf.Last(vars, k); ok {
			v = s.Value
		}
	}
	return v, nil
}

// readOpenRC adds the firewall services an OpenRC boot starts: a link in a runlevel it starts
// (/etc/runlevels/{sysinit,boot,default}/NAME) to an existing /etc/init.d/NAME. Their rules
// files are read: Alpine's and Gentoo's iptables and nftables scripts refuse to start without
// them (checkconfig: "create some rules first"). It returns the indexes of ufw's signals.
func (f *Facts) readOpenRC(src systemd.Source) ([]int, error) {
	init := ""
	for _, p := range openRCBinaries {
		fi, err := src.Lstat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if fi != nil {
			init = p
			break
		}
	}
	if init == "" {
		return nil, nil
	}
	alpine, err := src.Lstat("/etc/alpine-release")
	if err != nil {
		return nil, fmt.Errorf("/etc/alpine-release: %w", err)
	}
	var ufw []int
	for _, n := range OpenRCNames {
		link := ""
		for _, lvl := range OpenRCRunlevels {
			p := "/etc/runlevels/" + lvl + "/" + n
			fi, err := src.Lstat(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if fi != nil {
				link = p
				break
			}
		}
		if link == "" {
			continue
		}
		script, err := src.Lstat("/etc/init.d/" + n)
		if err != nil {
			return nil, fmt.Errorf("/etc/init.d/%s: %w", n, err)
		}
		if script == nil {
			continue // OpenRC does not start a service without its script
		}
		s := Signal{Firewall: n, Kind: OpenRC, Path: link, Detail: fmt.Sprintf("%s started by OpenRC (%s, %s)", n, link, init), Starts: true}
		if rf, ok := openRCRules[n]; ok {
			file := rf.gentoo
			if alpine != nil {
				file = rf.alpine
			}
			keys := []string{rf.key}
			if n == "nftables" {
				keys = append(keys, "rules_file")
			}
			v, err := shellVar(src, "/etc/conf.d/"+n, keys...)
			if err != nil {
				return nil, err
			}
			if v != "" {
				file = v
			}
			var r Ruleset
			if n == "nftables" {
				r, err = ReadNftables(src, file)
			} else {
				r, err = ReadIptablesSave(src, file)
			}
			if err != nil {
				return nil, err
			}
			if r.Missing {
				s.Starts = false
				s.Detail += "; " + r.Why + ": its init script refuses to start, so it loads no rules"
			} else {
				describe(&s, unitLoad{ruleset: r})
			}
		} else {
			s.Filters = true
			s.Detail += "; what its script loads is not read: counted as filtering"
		}
		if n == "ufw" {
			ufw = append(ufw, len(f.Signals))
		}
		f.Signals = append(f.Signals, s)
	}
	return ufw, nil
}

// readIfupdown adds the rules loaded by the up, pre-up and post-up lines of the interfaces
// ifupdown brings up at boot (auto, allow-auto and allow-hotplug ones: ifup -a at boot, udev's
// hotplug), as internal/facts/network reads /etc/network/interfaces and what it sources.
// A configuration ifup refuses brings nothing up, so runs no line; one that could not be read
// is a problem.
func (f *Facts) readIfupdown(src systemd.Source) error {
	ifs, errs := network.ReadInterfaces(src)
	for _, err := range errs {
		var ie *network.InterfacesError
		if errors.As(err, &ie) && !ie.OverBound {
			return nil // ifup refuses the configuration: no interface is brought up by it
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, st := range ifs.Stanzas {
		auto, ok := ifs.Auto[st.Name]
		if !ok {
			continue
		}
		for i, o := range st.Options {
			if o[0] != "pre-up" && o[0] != "up" && o[0] != "post-up" {
				continue
			}
			for _, ld := range shellLoaders(o[1]) {
				r, err := ld.load(src)
				if err != nil {
					return fmt.Errorf("%s:%d: %s: %w", st.File, st.OptLine[i], o[0], err)
				}
				s := Signal{Firewall: ld.firewall, Kind: Ifupdown, Path: st.File, Line: st.OptLine[i], Starts: true,
					Detail: fmt.Sprintf("%s %s runs when ifupdown brings %s up (%s:%d)", o[0], o[1], st.Name, auto.File, auto.Line)}
				if r.Missing {
					s.Starts = false
					s.Detail += "; " + r.Why + ", so it loads no rules"
				} else {
					describe(&s, unitLoad{ruleset: r})
				}
				f.Signals = append(f.Signals, s)
			}
		}
	}
	return nil
}
