// Package firewall finds the host firewalls of an offline image as the booting system starts
// them: the firewall services systemd starts (linked from a .wants/ or .requires/ directory of
// any unit directory, the unit file found and not masked, as internal/facts/systemd finds it),
// ufw's own switch (/etc/ufw/ufw.conf ENABLED=yes, which ufw's boot script obeys), and SysV
// start links (/etc/rc[235].d/S??NAME), which systemd runs only when no native unit of that
// name exists. Both the rule that wants no firewall (Azure) and the one that wants one
// (DigitalOcean) judge these signals.
package firewall

import (
	"fmt"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// UFWConf is ufw's configuration file.
const UFWConf = "/etc/ufw/ufw.conf"

// SysVNames are the init scripts that load firewall rules at boot.
var SysVNames = []string{"ufw", "firewalld", "iptables", "netfilter-persistent"}

// Signal is one sign of a host firewall.
type Signal struct {
	Firewall string // ufw, firewalld, nftables, iptables, netfilter-persistent, ...
	Path     string // the link, the file or the setting's file
	Line     int
	Detail   string
	// Starts says the firewall loads its rules at boot: its service is started (and, for ufw,
	// ufw.conf says ENABLED=yes). A signal that does not start is configuration only (a ufw
	// switched on whose service is not started, a ufw service whose switch is off).
	Starts bool
}

// Facts are the firewall signals of an image and what could not be read.
type Facts struct {
	Signals  []Signal
	Problems problems.List
}

// Err joins the problems: what depended on them is unknown.
func (f *Facts) Err() error { return f.Problems.Err() }

// Starting are the signals of firewalls that load their rules at boot.
func (f *Facts) Starting() []Signal {
	var out []Signal
	for _, s := range f.Signals {
		if s.Starts {
			out = append(out, s)
		}
	}
	return out
}

// Of returns the image's firewall facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/firewall", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// Read reads the facts from a source.
func Read(src systemd.Source) *Facts {
	f := &Facts{}
	links, err := systemd.WantedLinks(src)
	if err != nil {
		f.Problems = append(f.Problems, err)
		return f
	}
	hasSystemd := false
	for _, p := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		fi, err := src.Lstat(p)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
			return f
		}
		hasSystemd = hasSystemd || fi != nil
	}
	// ufw's switch
	ufwOn, ufwLine := false, 0
	data, err := src.ReadFile(UFWConf)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", UFWConf, err))
		return f
	}
	if data != nil {
		vars, err := sysconf.ReadShellVars(data)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s %w", UFWConf, err))
			return f
		}
		if s, ok := sysconf.Last(vars, "ENABLED"); ok && strings.EqualFold(s.Value, "yes") {
			ufwOn, ufwLine = true, s.Line
		}
	}
	ufwStarted := false
	var ufwSignals []int // indexes of ufw service signals, whose Starts waits for the switch
	// services systemd starts
	for _, name := range requirements.FirewallUnits {
		ls := links[name]
		if len(ls) == 0 {
			continue
		}
		u, err := systemd.LoadUnit(src, name)
		if err != nil {
			f.Problems = append(f.Problems, err)
			return f
		}
		if !u.Found() {
			continue // masked, or the links dangle: systemd starts nothing
		}
		fw := strings.TrimSuffix(name, ".service")
		s := Signal{Firewall: fw, Path: ls[0], Detail: fmt.Sprintf("%s started at boot (%s, unit %s)", name, ls[0], u.Path), Starts: true}
		if fw == "ufw" {
			ufwStarted = true
			ufwSignals = append(ufwSignals, len(f.Signals))
		}
		f.Signals = append(f.Signals, s)
	}
	// SysV start links, which systemd-sysv-generator runs only without a native unit
	for _, n := range SysVNames {
		if hasSystemd {
			native := false
			for _, d := range systemd.UnitDirs {
				fi, err := src.Lstat(d + "/" + n + ".service")
				if err != nil {
					f.Problems = append(f.Problems, fmt.Errorf("%s/%s.service: %w", d, n, err))
					return f
				}
				native = native || fi != nil
			}
			if native {
				continue
			}
		}
		for _, lvl := range []string{"2", "3", "5"} {
			m, err := src.Glob("/etc/rc" + lvl + ".d/S??" + n)
			if err != nil {
				f.Problems = append(f.Problems, err)
				return f
			}
			if len(m) > 0 {
				if n == "ufw" {
					ufwStarted = true
					ufwSignals = append(ufwSignals, len(f.Signals))
				}
				f.Signals = append(f.Signals, Signal{Firewall: n, Path: m[0], Detail: n + " started by SysV init (" + path.Base(m[0]) + ")", Starts: true})
				break
			}
		}
	}
	for _, i := range ufwSignals {
		if !ufwOn {
			f.Signals[i].Starts = false
			f.Signals[i].Detail += "; ufw.conf does not say ENABLED=yes, so its boot script loads no rules"
		}
	}
	if ufwOn {
		s := Signal{Firewall: "ufw", Path: UFWConf, Line: ufwLine, Detail: "ENABLED=yes", Starts: ufwStarted}
		if !ufwStarted {
			s.Detail += " (ufw's service is not started at boot)"
		}
		f.Signals = append(f.Signals, s)
	}
	return f
}
