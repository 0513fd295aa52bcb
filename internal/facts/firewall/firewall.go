// Package firewall finds the host firewalls of an offline image as the booting system starts
// them: the firewall services systemd starts (reached from default.target as
// internal/facts/systemd's Boot follows it: .wants/ and .requires/ directories of every unit
// directory, Wants=/Requires=/BindsTo=..., masks honoured; the unit file found),
// ufw's own switch (ENABLED=yes in /etc/ufw/ufw.conf, else /etc/default/ufw, which ufw's boot
// script obeys), and SysV start links (systemd.SysVStart), which systemd runs only when no
// native unit of that name exists. Both the rule that wants no firewall (Azure) and the one that wants one
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

// UFWDefaults is the file ufw's boot script sources before ufw.conf.
const UFWDefaults = "/etc/default/ufw"

// SysVNames are the init scripts that load firewall rules at boot.
var SysVNames = []string{"ufw", "firewalld", "iptables", "netfilter-persistent"}

// Kind is what a signal is.
type Kind int

const (
	// Service is a firewall unit systemd starts at boot.
	Service Kind = iota
	// SysV is a SysV start link systemd's generator (or SysV init) runs.
	SysV
	// Switch is ufw.conf's ENABLED=yes.
	Switch
)

// Signal is one sign of a host firewall.
type Signal struct {
	Firewall string // ufw, firewalld, nftables, iptables, netfilter-persistent, ...
	Kind     Kind
	Unit     string // the unit's name, for a Service
	Path     string // the link, the unit file with the dependency (Line), or the setting's file
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
	return img.Memo("facts/firewall", func() any { return ReadBoot(systemd.FromImage(img), systemd.BootOf(img)) }).(*Facts)
}

// Read reads the facts from a source, boot's units read from it too.
func Read(src systemd.Source) *Facts { return ReadBoot(src, systemd.ReadBoot(src)) }

// ReadBoot reads the facts from a source and the units its boot starts (read from the same
// source). What boot starts not being known is a problem: no firewall is then "not started".
func ReadBoot(src systemd.Source, boot *systemd.Boot) *Facts {
	f := &Facts{}
	if err := boot.Err(); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("units started at boot: %w", err))
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
	// ufw's switch: ufw-init sources ufw.conf, and ufw-init-functions then sources
	// /etc/default/ufw and ufw.conf again, so ENABLED is ufw.conf's, else /etc/default/ufw's;
	// ufw_start loads rules only when it is "yes" or "YES" (ufw 0.36.2 src/ufw-init,
	// src/ufw-init-functions ufw_start)
	ufwOn, ufwLine, ufwFile := false, 0, UFWConf
	for _, p := range []string{UFWDefaults, UFWConf} {
		data, err := src.ReadFile(p)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
			return f
		}
		if data == nil {
			continue
		}
		vars, err := sysconf.ReadShellVars(data)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s %w", p, err))
			return f
		}
		if s, ok := sysconf.Last(vars, "ENABLED"); ok {
			ufwOn, ufwLine, ufwFile = s.Value == "yes" || s.Value == "YES", s.Line, p
		}
	}
	ufwStarted := false
	var ufwSignals []int // indexes of ufw service signals, whose Starts waits for the switch
	// services systemd starts
	for _, name := range requirements.FirewallUnits {
		st, ok := boot.Has(name)
		if !ok || !st.Found {
			continue // not reached from the default target, masked, or without a unit file
		}
		u, err := systemd.LoadUnit(src, name)
		if err != nil {
			f.Problems = append(f.Problems, err)
			return f
		}
		if !u.Found() {
			continue
		}
		fw := strings.TrimSuffix(name, ".service")
		where := st.Path
		if where == "" {
			where = u.Path
		}
		s := Signal{Firewall: fw, Kind: Service, Unit: name, Path: where, Line: st.Line, Detail: fmt.Sprintf("%s started at boot (%s, unit %s)", name, st.How, u.Path), Starts: true}
		// its Condition*=/Assert*= as systemd tests them when the job runs: one failing on
		// the image skips the unit, and the firewall loads no rules; one not decided offline
		// leaves it counted as starting, the detail naming it
		_, run := boot.Runs(name)
		switch {
		case run.Err != nil:
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", name, run.Err))
			return f
		case run.Runs == systemd.False:
			s.Starts = false
			s.Detail += "; " + run.Why + ", so it loads no rules"
		case run.Runs == systemd.Unknown:
			s.Detail += "; " + run.Why
		}
		if fw == "ufw" {
			ufwStarted = ufwStarted || s.Starts
			ufwSignals = append(ufwSignals, len(f.Signals))
		}
		f.Signals = append(f.Signals, s)
	}
	// SysV start links, which systemd-sysv-generator runs only without a native unit
	for _, n := range SysVNames {
		l, err := systemd.SysVStart(src, n)
		if err != nil {
			f.Problems = append(f.Problems, err)
			return f
		}
		if l != "" {
			if n == "ufw" {
				ufwStarted = true
				ufwSignals = append(ufwSignals, len(f.Signals))
			}
			f.Signals = append(f.Signals, Signal{Firewall: n, Kind: SysV, Path: l, Detail: n + " started by SysV init (" + path.Base(l) + ")", Starts: true})
		}
	}
	for _, i := range ufwSignals {
		if !ufwOn && f.Signals[i].Starts {
			f.Signals[i].Starts = false
			f.Signals[i].Detail += "; ufw.conf does not say ENABLED=yes, so its boot script loads no rules"
		}
	}
	if ufwOn {
		s := Signal{Firewall: "ufw", Kind: Switch, Path: ufwFile, Line: ufwLine, Detail: "ENABLED=yes", Starts: ufwStarted}
		if !ufwStarted {
			s.Detail += " (ufw's service is not started at boot)"
		}
		f.Signals = append(f.Signals, s)
	}
	return f
}
