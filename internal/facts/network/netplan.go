package network

import (
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// NetplanDirs are netplan's configuration directories, most specific first: a file in /etc
// shadows one of the same name in /run or /lib (netplan generate).
var NetplanDirs = []string{"/etc/netplan", "/run/netplan", "/lib/netplan"}

// node is a netplan YAML value merged from several files, each leaf with the file it came from.
type node struct {
	v    *sysconf.YValue
	file string
	keys []string
	kids map[string]*node
}

// merge merges v (from file) into n as netplan merges its files: mappings key by key, anything
// else replaced by the later file's value.
func merge(n *node, v *sysconf.YValue, file string) *node {
	if v == nil || v.Kind != sysconf.YMap {
		return &node{v: v, file: file}
	}
	if n == nil || n.kids == nil {
		n = &node{v: v, file: file, kids: map[string]*node{}}
	}
	for i, k := range v.Keys {
		key := k.String()
		if _, ok := n.kids[key]; !ok {
			n.keys = append(n.keys, key)
		}
		n.kids[key] = merge(n.kids[key], v.Vals[i], file)
	}
	return n
}

// line is the line of the node's value (0 when it has none).
func (n *node) line() int {
	if n == nil || n.v == nil {
		return 0
	}
	return n.v.Line
}

func (n *node) get(key string) *node {
	if n == nil || n.kids == nil {
		return nil
	}
	return n.kids[key]
}

// netplanBool is netplan's boolean (parse.c handle_generic_bool): true/on/yes/y, false/off/no/n,
// case-insensitive; ok false for anything else (netplan refuses the file).
func netplanBool(v *sysconf.YValue) (val, ok bool) {
	if v == nil {
		return false, false
	}
	if v.Kind == sysconf.YBool {
		return v.Bool, true
	}
	if v.Kind != sysconf.YStr {
		return false, false
	}
	switch strings.ToLower(v.Str) {
	case "true", "on", "yes", "y":
		return true, true
	case "false", "off", "no", "n":
		return false, true
	}
	return false, false
}

// scalars is a netplan match value: a string or (newer netplan, driver) a list of strings.
func scalars(v *sysconf.YValue) []string {
	if v == nil {
		return nil
	}
	if v.Kind == sysconf.YSeq {
		var out []string
		for _, it := range v.Items {
			out = append(out, it.String())
		}
		return out
	}
	return []string{v.String()}
}

// HyperVDriver is the driver of Azure's NIC.
const HyperVDriver = "hv_netvsc"

// netplanSkip are the keys of network: that are not device sections.
var netplanSkip = map[string]bool{"version": true, "renderer": true}

func (f *Facts) readNetplan(src systemd.Source) {
	files, err := layered(src, NetplanDirs, "*.yaml")
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	var root *node
	text := map[string][]byte{}
	for _, p := range files {
		if masked(src, p) {
			continue
		}
		data, ok := f.read(src, p)
		if !ok {
			continue
		}
		v, err := sysconf.LoadYAML(data)
		if err != nil {
			f.problem("%s: netplan would refuse it: %w", p, err)
			continue
		}
		if v == nil {
			continue
		}
		if v.Kind != sysconf.YMap {
			f.problem("%s: netplan would refuse it: the document is %s, not a mapping", p, v.Kind)
			continue
		}
		text[p] = data
		root = merge(root, v, p)
	}
	nw := root.get("network")
	if nw == nil {
		return
	}
	if nw.kids == nil {
		if nw.v != nil && nw.v.Kind != sysconf.YNull {
			f.problem("%s: line %d: netplan would refuse it: network is not a mapping", nw.file, nw.line())
		}
		return
	}
	pin := func(n *node) Pin {
		return Pin{Stack: "netplan", Path: n.file, Line: n.line(), Setting: lineAt(text[n.file], n.line())}
	}
	for _, section := range nw.keys {
		devs := nw.kids[section]
		if netplanSkip[section] || devs.v == nil || devs.v.Kind == sysconf.YNull {
			continue
		}
		if devs.kids == nil {
			f.problem("%s: line %d: netplan would refuse it: network: %s is not a mapping", devs.file, devs.line(), section)
			continue
		}
		for _, id := range devs.keys {
			e := devs.kids[id]
			if e.kids == nil {
				continue
			}
			plan := Plan{Stack: "netplan", Path: e.file, Line: e.line(), AtBoot: true}
			if m := e.get("macaddress"); m != nil {
				plan.Pins = append(plan.Pins, pin(m))
			}
			eth0 := section == "ethernets" && id == Eth0
			if m := e.get("match"); m != nil {
				if m.kids == nil {
					f.problem("%s: line %d: netplan would refuse it: %s: match is not a mapping", m.file, m.line(), id)
					continue
				}
				eth0 = section == "ethernets" && len(m.keys) > 0
				for _, k := range m.keys {
					c := m.kids[k]
					switch k {
					case "name":
						eth0 = eth0 && nameGlob(c.v.String(), Eth0)
					case "driver":
						any := false
						for _, d := range scalars(c.v) {
							any = any || nameGlob(d, HyperVDriver)
						}
						eth0 = eth0 && any
					case "macaddress", "permanentmacaddress":
						plan.Pins = append(plan.Pins, pin(c))
					default:
						eth0 = false // a criterion this reading does not evaluate: not known to take eth0
					}
				}
			}
			f.Pins = append(f.Pins, plan.Pins...)
			if !eth0 {
				continue
			}
			if d := e.get("dhcp4"); d != nil {
				val, ok := netplanBool(d.v)
				if !ok {
					f.problem("%s: line %d: netplan would refuse it: %s: dhcp4: %q is not a boolean", d.file, d.line(), id, d.v.String())
					continue
				}
				plan.DHCP, plan.Path, plan.Line = val, d.file, d.line()
			}
			if len(plan.Pins) > 0 {
				plan.Note = "matched by a MAC address that Azure's NIC will not have"
			}
			f.Netplan = append(f.Netplan, plan)
		}
	}
}
