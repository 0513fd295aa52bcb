// Package network is the first NIC's network plan (eth0, the name Azure's first NIC gets), read
// as each stack that could bring it up reads its configuration: netplan (its YAML merged from
// /etc, /run and /lib/netplan as netplan merges it), systemd-networkd (.network files, the first
// in lexical order whose [Match] takes eth0), ifupdown (/etc/network/interfaces with source and
// source-directory), RHEL's ifcfg-eth0 (shell variables as initscripts and NetworkManager's
// ifcfg-rh plugin read them) and NetworkManager's no-auto-default. What pins a MAC address in
// those configurations is recorded with the file and line. A file that could not be read, or
// that its stack would refuse, is a problem: what depended on it is unknown.
package network

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Eth0 is the interface name the plan is for.
const Eth0 = "eth0"

// Pin is a setting that matches or sets a MAC address.
type Pin struct {
	Stack   string // "udev", "netplan", "ifcfg", "NetworkManager", "systemd-networkd", "ifupdown"
	Path    string
	Line    int
	Setting string // its line as written, trimmed
}

// Plan is one configuration that applies to eth0 (or would, but for a MAC match) and whether it
// brings it up by DHCP at boot.
type Plan struct {
	Stack  string // "ifupdown", "netplan", "systemd-networkd", "ifcfg"
	Path   string
	Line   int
	DHCP   bool   // DHCPv4 on
	AtBoot bool   // brought up at boot (ifupdown auto/allow-hotplug, ifcfg ONBOOT)
	Pins   []Pin  // MAC matches or settings of this configuration: it does not take Azure's NIC
	Note   string // why it does not apply, when it does not
	// ID and Renderer are a netplan device's id and the renderer netplan generates its
	// configuration for ("networkd" or "NetworkManager"); NetplanFile names that file.
	ID, Renderer string
}

// Facts is the first NIC's network plan.
type Facts struct {
	Ifupdown []Plan // iface eth0 inet dhcp stanzas
	// Netplan are the ethernets entries that take eth0 by id, name or driver, in the order of the
	// files netplan generates for them, up to the one systemd-networkd applies (after those that
	// take it only by a MAC address); NetplanOthers those after it, which it does not apply.
	Netplan       []Plan
	NetplanOthers []Plan
	// Networkd is the .network file systemd-networkd applies to eth0, after those that take it
	// only by a MAC address (which Azure's NIC will not have); NetworkdOthers the files with
	// DHCPv4 on that do not apply to it.
	Networkd       []Plan
	NetworkdOthers []Plan
	Ifcfg          *Plan // /etc/sysconfig/network-scripts/ifcfg-eth0
	// NoAutoDefault is where NetworkManager's [main] no-auto-default takes eth0 (every device,
	// "*", or a spec that matches eth0 on a new VM: see nm_devspec.go), Path "" when it does not;
	// NoAutoDefaultUndecided is where its list holds a spec whose match on eth0 is not known
	// offline (the NIC's driver), and nothing in it decides.
	NoAutoDefault          Pin
	NoAutoDefaultUndecided Pin
	Pins                   []Pin // every MAC pin found in the configurations read
	// ReadPast are the errors the stack itself reads past, each of which ends the reading of one
	// sourced ifupdown file only: what ifup makes of the rest is known, so they are not Problems
	// (the rules show them as notes, with the file and line).
	ReadPast []*InterfacesError
	Problems problems.List
	// ByNeed is Problems by the reader that met them: a rule errs only on the readers it needs.
	ByNeed map[Need]problems.List
}

// Need is one reader of the fact: what a judgement can depend on.
type Need string

// The readers. NeedIfcfg is ifcfg-eth0's plan; NeedOtherPins the files read only for their MAC
// pins (udev's persistent-net rules, every ifcfg file, NetworkManager's keyfiles, .link files).
const (
	NeedIfupdown       Need = "ifupdown"
	NeedNetplan        Need = "netplan"
	NeedNetworkd       Need = "systemd-networkd"
	NeedIfcfg          Need = "ifcfg"
	NeedNetworkManager Need = "NetworkManager" // NetworkManager.conf and conf.d: no-auto-default
	NeedOtherPins      Need = "pins"
)

// PinNeeds are the readers every MAC pin comes from (Pins).
var PinNeeds = []Need{NeedIfupdown, NeedNetplan, NeedNetworkd, NeedIfcfg, NeedOtherPins}

// Err joins every problem.
func (f *Facts) Err() error { return f.Problems.Err() }

// ErrOf joins the problems of the readers named, nil when they read everything.
func (f *Facts) ErrOf(needs ...Need) error {
	var l problems.List
	for _, n := range needs {
		l = append(l, f.ByNeed[n]...)
	}
	return l.Err()
}

// Of returns the image's network facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/network", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// Read reads the facts from a source.
func Read(src systemd.Source) *Facts {
	f := &Facts{ByNeed: map[Need]problems.List{}}
	for _, r := range []struct {
		need Need
		read func(systemd.Source)
	}{
		{NeedIfupdown, f.readIfupdown}, {NeedNetplan, f.readNetplan}, {NeedNetworkd, f.readNetworkd},
		{NeedIfcfg, f.readIfcfg}, {NeedNetworkManager, f.readNetworkManager}, {NeedOtherPins, f.readOtherPins},
	} {
		n := len(f.Problems)
		r.read(src)
		if len(f.Problems) > n {
			f.ByNeed[r.need] = slices.Clone(f.Problems[n:])
		}
	}
	slices.SortStableFunc(f.Pins, func(a, b Pin) int { return pinOrder[a.Stack] - pinOrder[b.Stack] })
	return f
}

// pinOrder is the order MAC pins are reported in.
var pinOrder = map[string]int{"udev": 0, "netplan": 1, "ifcfg": 2, "NetworkManager": 3, "systemd-networkd": 4, "ifupdown": 5}

// lineAt is line n (1-based) of data, trimmed.
func lineAt(data []byte, n int) string {
	for i, l := range strings.SplitN(string(data), "\n", n+1) {
		if i == n-1 {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func (f *Facts) problem(format string, a ...any) {
	f.Problems = append(f.Problems, fmt.Errorf(format, a...))
}

// layered lists the files of dirs (most specific first) matching pattern, by basename in lexical
// order, a name in an earlier directory shadowing the same name in later ones
// (systemd.Source.Shadowed). Masking (an empty file, a link to /dev/null) is the callers'.
func layered(src systemd.Source, dirs []string, pattern string) ([]string, error) {
	globs := make([]string, len(dirs))
	for i, d := range dirs {
		globs[i] = d + "/" + pattern
	}
	return src.Shadowed(globs...)
}

// masked says whether p is a link to /dev/null.
func masked(src systemd.Source, p string) bool {
	t, err := src.ReadLink(p)
	return err == nil && t == "/dev/null"
}

// nameGlob says whether an fnmatch(3) pattern (no flags) matches name (fnmatch's "[!...]" is
// Go's "[^...]"; an interface name holds no '/').
func nameGlob(pattern, name string) bool {
	ok, err := path.Match(strings.ReplaceAll(pattern, "[!", "[^"), name)
	return err == nil && ok
}

// read reads a file that may be absent (nil, nil); an unreadable one is a problem.
func (f *Facts) read(src systemd.Source, p string) ([]byte, bool) {
	data, err := src.ReadFile(p)
	if err != nil {
		f.problem("%s: %w", p, err)
		return nil, false
	}
	return data, true
}

// ifcfgTrue is initscripts' and ifcfg-rh's svParseBoolean: yes/true/t/y/1, no/false/f/n/0, else
// the default.
func ifcfgBool(v string, def bool) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "t", "y", "1":
		return true
	case "no", "false", "f", "n", "0":
		return false
	}
	return def
}

const ifcfgPath = "/etc/sysconfig/network-scripts/ifcfg-eth0"

func (f *Facts) readIfcfg(src systemd.Source) {
	data, ok := f.read(src, ifcfgPath)
	if !ok || data == nil {
		return
	}
	vars, err := sysconf.ReadShellVars(data)
	if err != nil {
		f.problem("%s %w", ifcfgPath, err)
		return
	}
	p := &Plan{Stack: "ifcfg", Path: ifcfgPath, AtBoot: true}
	if s, ok := sysconf.Last(vars, "BOOTPROTO"); ok {
		p.Line = s.Line
		p.DHCP = strings.EqualFold(s.Value, "dhcp")
	}
	if s, ok := sysconf.Last(vars, "ONBOOT"); ok {
		p.AtBoot = ifcfgBool(s.Value, true)
	}
	for _, k := range []string{"HWADDR", "MACADDR"} {
		if s, ok := sysconf.Last(vars, k); ok && s.Value != "" {
			p.Pins = append(p.Pins, Pin{Stack: "ifcfg", Path: ifcfgPath, Line: s.Line, Setting: lineAt(data, s.Line)})
		}
	}
	f.Ifcfg = p
}
