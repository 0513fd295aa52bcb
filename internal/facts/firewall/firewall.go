// Package firewall finds the host firewalls of an offline image as the booting system starts
// them, and decides from what they load whether they filter anything: the firewall services
// systemd starts (reached from default.target as internal/facts/systemd's Boot follows it:
// .wants/ and .requires/ directories of every unit directory, Wants=/Requires=/BindsTo=...,
// masks honoured; the unit file found; its Condition*=/Assert*= evaluated, an undecided one
// named in Undecided), and any other started service whose ExecStartPre=/ExecStart=/
// ExecStartPost= runs nft -f, iptables-restore, ip6tables-restore, ufw enable or firewall-cmd;
// ufw's own switch (ENABLED=yes in /etc/ufw/ufw.conf, else /etc/default/ufw, which ufw's boot
// script obeys); SysV start links (systemd.SysVStart), which systemd runs only when no native
// unit of that name exists; OpenRC runlevel links when OpenRC, not systemd, boots; and
// up/pre-up/post-up lines of the interfaces ifupdown brings up. The rules files they load
// are read (nftables.go: nft's language, minimally; iptables.go: iptables-save's format): a
// missing one fails the load (no firewall), a ruleset that only accepts filters nothing. Both
// the rule that wants no firewall (Azure) and the one that wants one (DigitalOcean) judge
// these signals.
package firewall

import (
	"fmt"
	"path"
	"slices"
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
var SysVNames = []string{"ufw", "firewalld", "iptables", "netfilter-persistent", "ferm", "shorewall", "shorewall6", "arno-iptables-firewall"}

// Kind is what a signal is.
type Kind int

const (
	// Service is a firewall unit systemd starts at boot: a firewall's own unit, or any unit
	// whose ExecStart*= loads rules (nft -f, iptables-restore, ufw enable, firewall-cmd).
	Service Kind = iota
	// SysV is a SysV start link systemd's generator (or SysV init) runs.
	SysV
	// Switch is ufw.conf's ENABLED=yes.
	Switch
	// OpenRC is a runlevel link OpenRC starts.
	OpenRC
	// Ifupdown is an up/pre-up/post-up line of an interface ifupdown brings up at boot.
	Ifupdown
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
	// ufw.conf says ENABLED=yes) and what it loads exists. A signal that does not start is
	// configuration only (a ufw switched on whose service is not started, a ufw service whose
	// switch is off, an nftables.service whose /etc/nftables.conf does not exist).
	Starts bool
	// Filters says (for a signal that starts) that what it loads drops or rejects something;
	// false when the ruleset accepts everything (Debian's default /etc/nftables.conf) or loads
	// nothing. Rules is where that was decided (file and line), "" when the firewall's own
	// configuration is not read (ufw, firewalld, ferm, shorewall: counted as filtering).
	Filters bool
	Rules   string
	// Undecided is the condition (text, file:line and why) the service's start rests on that
	// cannot be decided offline: it starts unless that condition fails on the VM.
	Undecided string
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

// Filtering are the signals of firewalls that load rules at boot that drop or reject
// something, decided offline (undecided says whether to include those whose start rests on
// an undecided condition).
func (f *Facts) Filtering(undecided bool) []Signal {
	var out []Signal
	for _, s := range f.Signals {
		if s.Starts && s.Filters && (undecided || s.Undecided == "") {
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

// Units are the firewalls' own services: requirements.FirewallUnits (what the firewall step
// disables) and the other firewall packages' units (Debian's ferm, shorewall, shorewall6 and
// arno-iptables-firewall packages).
var Units = append(append([]string(nil), requirements.FirewallUnits...),
	"ferm.service", "shorewall.service", "shorewall6.service", "arno-iptables-firewall.service")

// ReadBoot reads the facts from a source and the units its boot starts (read from the same
// source). What boot starts not being known is a problem: no firewall is then "not started".
func ReadBoot(src systemd.Source, boot *systemd.Boot) *Facts {
	f := &Facts{}
	if err := f.read(src, boot); err != nil {
		f.Problems = append(f.Problems, err)
	}
	return f
}

// describe adds what a load leaves to a signal: the unit fails before it loads anything, or
// the ruleset filters (where), or it accepts everything.
func describe(s *Signal, ul unitLoad) {
	switch {
	case ul.fails != "":
		s.Starts = false
		s.Detail += "; " + ul.fails + ", so it loads no rules"
	case ul.ruleset.Path == "":
		s.Filters = true
		s.Detail += "; " + ul.ruleset.Why
	default:
		s.Filters = ul.ruleset.Filters
		s.Rules = ul.ruleset.Path
		if ul.ruleset.Line > 0 {
			s.Rules = fmt.Sprintf("%s:%d", ul.ruleset.Path, ul.ruleset.Line)
		}
		s.Detail += "; " + s.Rules + ": " + ul.ruleset.Why
	}
}

func (f *Facts) read(src systemd.Source, boot *systemd.Boot) error {
	if err := boot.Err(); err != nil {
		return fmt.Errorf("units started at boot: %w", err)
	}
	hasSystemd := false
	for _, p := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		fi, err := src.Lstat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
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
			return fmt.Errorf("%s: %w", p, err)
		}
		if data == nil {
			continue
		}
		vars, err := sysconf.ReadShellVars(data)
		if err != nil {
			return fmt.Errorf("%s %w", p, err)
		}
		if s, ok := sysconf.Last(vars, "ENABLED"); ok {
			ufwOn, ufwLine, ufwFile = s.Value == "yes" || s.Value == "YES", s.Line, p
		}
	}
	var ufwSignals []int // indexes of ufw service signals, whose Starts waits for the switch
	// the firewalls' own services, then every other service boot starts whose commands load
	// rules (a custom firewall.service running iptables-restore)
	names := append([]string(nil), Units...)
	for _, n := range boot.Names() {
		if strings.HasSuffix(n, ".service") && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for i, name := range names {
		own := i < len(Units)
		st, ok := boot.Has(name)
		if !ok || !st.Found {
			continue // not reached from the default target, masked, or without a unit file
		}
		u, err := systemd.LoadInstance(src, name)
		if err != nil {
			return err
		}
		if !u.Found() {
			continue
		}
		ul, err := loadOfUnit(src, u)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if !own && ul.loaders == 0 {
			continue // a unit that loads no firewall rules
		}
		fw := strings.TrimSuffix(name, ".service")
		if !own {
			fw = ul.firewall
		}
		where := st.Path
		if where == "" {
			where = u.Path
		}
		s := Signal{Firewall: fw, Kind: Service, Unit: name, Path: where, Line: st.Line, Detail: fmt.Sprintf("%s started at boot (%s, unit %s)", name, st.How, u.Path), Starts: true}
		if ul.loaders == 0 {
			// a firewall's own unit whose commands this reader does not know: counted by its name
			s.Filters = true
			s.Detail += "; what its ExecStart= loads is not read: counted as filtering"
		} else {
			describe(&s, ul)
		}
		if err := conditions(&s, boot, name); err != nil {
			return err
		}
		if fw == "ufw" && own {
			ufwSignals = append(ufwSignals, len(f.Signals))
		}
		f.Signals = append(f.Signals, s)
	}
	// SysV start links, which systemd-sysv-generator runs only without a native unit
	for _, n := range SysVNames {
		l, err := systemd.SysVStart(src, n)
		if err != nil {
			return err
		}
		if l == "" {
			continue
		}
		s := Signal{Firewall: n, Kind: SysV, Path: l, Detail: n + " started by SysV init (" + path.Base(l) + ")", Starts: true, Filters: true}
		if n == "netfilter-persistent" {
			// the same netfilter-persistent (and plugins) as its unit runs
			r, err := loader{n, loadPersistent, "", "netfilter-persistent start"}.load(src)
			if err != nil {
				return err
			}
			describe(&s, unitLoad{ruleset: r})
		} else {
			s.Detail += "; what its script loads is not read: counted as filtering"
		}
		if n == "ufw" {
			ufwSignals = append(ufwSignals, len(f.Signals))
		}
		f.Signals = append(f.Signals, s)
	}
	if !hasSystemd {
		idx, err := f.readOpenRC(src)
		if err != nil {
			return err
		}
		ufwSignals = append(ufwSignals, idx...)
	}
	if err := f.readIfupdown(src); err != nil {
		return err
	}
	ufwStarted, ufwUndecided := false, ""
	for _, i := range ufwSignals {
		s := &f.Signals[i]
		if !ufwOn && s.Starts {
			s.Starts = false
			s.Detail += "; ufw.conf does not say ENABLED=yes, so its boot script loads no rules"
		}
		if s.Starts && (!ufwStarted || ufwUndecided != "" && s.Undecided == "") {
			ufwUndecided = s.Undecided
		}
		ufwStarted = ufwStarted || s.Starts
	}
	if ufwOn {
		s := Signal{Firewall: "ufw", Kind: Switch, Path: ufwFile, Line: ufwLine, Detail: "ENABLED=yes", Starts: ufwStarted, Filters: ufwStarted, Undecided: ufwUndecided}
		if !ufwStarted {
			s.Detail += " (ufw's service is not started at boot)"
		}
		f.Signals = append(f.Signals, s)
	}
	return nil
}

// conditions applies the unit's Condition*=/Assert*= as systemd tests them when the job runs:
// one failing on the image skips the unit, and the firewall loads no rules; one not decided
// offline leaves it starting, named in Undecided (a verdict resting on it is not decided).
func conditions(s *Signal, boot *systemd.Boot, name string) error {
	_, run := boot.Runs(name)
	switch {
	case run.Err != nil:
		return fmt.Errorf("%s: %w", name, run.Err)
	case run.Runs == systemd.False:
		s.Starts = false
		s.Detail += "; " + run.Why + ", so it loads no rules"
	case run.Runs == systemd.Unknown:
		s.Detail += "; " + run.Why
		if s.Starts {
			s.Undecided = run.Why
		}
	}
	return nil
}
