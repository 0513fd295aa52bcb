package network

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// NetplanDirs are netplan's configuration directories, most specific first: a file in /run
// shadows one of the same name in /etc, which shadows one in /lib (netplan generate; compared by
// TestNetplanOracle).
var NetplanDirs = []string{"/run/netplan", "/etc/netplan", "/lib/netplan"}

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

// netplanKinds are what a key's value must be (netplan 0.106 parse.c: the handlers' node types;
// a key not in the table is "unknown key", and netplan refuses the file).
type netplanKinds map[string]sysconf.YKind

// yScalar stands for any scalar (netplan reads every scalar as its text).
const yScalar = sysconf.YKind(-1)

func linkKeys(extra netplanKinds) netplanKinds {
	k := netplanKinds{
		"accept-ra": yScalar, "activation-mode": yScalar, "addresses": sysconf.YSeq, "critical": yScalar,
		"dhcp-identifier": yScalar, "dhcp4": yScalar, "dhcp4-overrides": sysconf.YMap, "dhcp6": yScalar,
		"dhcp6-overrides": sysconf.YMap, "gateway4": yScalar, "gateway6": yScalar, "ignore-carrier": yScalar,
		"ipv6-address-generation": yScalar, "ipv6-address-token": yScalar, "ipv6-mtu": yScalar,
		"ipv6-privacy": yScalar, "link-local": sysconf.YSeq, "macaddress": yScalar, "mtu": yScalar,
		"nameservers": sysconf.YMap, "neigh-suppress": yScalar, "optional": yScalar,
		"optional-addresses": sysconf.YSeq, "renderer": yScalar, "routes": sysconf.YSeq,
		"routing-policy": sysconf.YSeq, "networkmanager": sysconf.YMap, "openvswitch": sysconf.YMap,
	}
	for key, kind := range extra {
		k[key] = kind
	}
	return k
}

// netplanEntryKeys are the keys of an entry of each device section netplan 0.106 knows (probed
// with its generate: every other key is "unknown key"); the sections not listed are not checked
// key by key (they never take eth0).
var netplanEntryKeys = map[string]netplanKinds{
	"ethernets": linkKeys(netplanKinds{
		"match": sysconf.YMap, "set-name": yScalar, "wakeonlan": yScalar, "wakeonwlan": sysconf.YSeq,
		"emit-lldp": yScalar, "receive-checksum-offload": yScalar, "transmit-checksum-offload": yScalar,
		"tcp-segmentation-offload": yScalar, "tcp6-segmentation-offload": yScalar,
		"generic-segmentation-offload": yScalar, "generic-receive-offload": yScalar,
		"large-receive-offload": yScalar, "auth": sysconf.YMap, "link": yScalar,
		"virtual-function-count": yScalar, "embedded-switch-mode": yScalar,
		"delay-virtual-functions-rebind": yScalar, "infiniband-mode": yScalar,
	}),
	"bridges": linkKeys(netplanKinds{"interfaces": sysconf.YSeq, "parameters": sysconf.YMap}),
}

// netplanSections are the keys of network: (netplan 0.106 network_handlers); the device
// sections hold a mapping of ids.
var netplanSections = map[string]bool{
	"ethernets": true, "wifis": true, "bridges": true, "bonds": true, "vlans": true, "tunnels": true,
	"vrfs": true, "modems": true, "nm-devices": true,
}

// netplanMatchKeys are the keys of match: (handle_match).
var netplanMatchKeys = map[string]bool{"name": true, "macaddress": true, "driver": true}

// netplanRenderers are the renderers netplan 0.106 accepts (parse_renderer).
var netplanRenderers = map[string]bool{"networkd": true, "NetworkManager": true}

// scalarText is a scalar as netplan reads it: its text.
func scalarText(v *sysconf.YValue) string {
	if v == nil {
		return ""
	}
	if v.Kind == sysconf.YBool || v.Kind == sysconf.YNull || v.Kind == sysconf.YInt || v.Kind == sysconf.YFloat {
		if v.Str != "" || v.Kind == sysconf.YNull {
			return v.Str
		}
	}
	return v.String()
}

func isScalar(v *sysconf.YValue) bool {
	return v == nil || (v.Kind != sysconf.YSeq && v.Kind != sysconf.YMap)
}

// netplanID is assert_valid_id: printable, no blank; and no glob characters in an id.
func netplanID(id string) bool {
	if id == "" || strings.ContainsAny(id, "*[]?") {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// strtol is strtol(3)'s value of s in base 10 (0 when no digits lead; saturated far past 2).
func strtol(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		if n < 1<<40 {
			n = n*10 + int64(c-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}

// macRE is handle_generic_mac's pattern.
var macRE = regexp.MustCompile(`^[[:xdigit:]]{2}(:[[:xdigit:]]{2}){5}$`)

// checkNetplan is what netplan's parser refuses in one file (it then generates nothing): the
// error names the line.
func checkNetplan(doc *sysconf.YValue) error {
	bad := func(v *sysconf.YValue, format string, a ...any) error {
		line := 0
		if v != nil {
			line = v.Line
		}
		return fmt.Errorf("line %d: netplan would refuse it: %s", line, fmt.Sprintf(format, a...))
	}
	for i, k := range doc.Keys {
		if k.String() != "network" {
			return bad(k, "unknown key %q", k.String())
		}
		nw := doc.Vals[i]
		if nw.Kind == sysconf.YNull {
			continue
		}
		if nw.Kind != sysconf.YMap {
			return bad(nw, "network is not a mapping")
		}
		for j, sk := range nw.Keys {
			key, v := sk.String(), nw.Vals[j]
			switch {
			case key == "version":
				// strtol of the text: 2 and "2.5" pass, anything else is "Only version 2"
				if t := scalarText(v); !isScalar(v) || strtol(t) != 2 {
					return bad(v, "version %q: only version 2 is supported", t)
				}
			case key == "renderer":
				if !isScalar(v) || !netplanRenderers[scalarText(v)] {
					return bad(v, "unknown renderer %q", scalarText(v))
				}
			case key == "openvswitch":
				if v.Kind != sysconf.YMap {
					return bad(v, "network: openvswitch is not a mapping")
				}
			case netplanSections[key]:
				if v.Kind != sysconf.YMap {
					return bad(v, "network: %s is not a mapping", key)
				}
				if err := checkNetplanSection(key, v, bad); err != nil {
					return err
				}
			default:
				return bad(sk, "unknown key %q in network", key)
			}
		}
	}
	return nil
}

func checkNetplanSection(section string, devs *sysconf.YValue, bad func(*sysconf.YValue, string, ...any) error) error {
	for i, k := range devs.Keys {
		id, e := k.String(), devs.Vals[i]
		if !isScalar(k) || !netplanID(id) {
			return bad(k, "%s: invalid or globbing definition id %q", section, id)
		}
		if id == "renderer" {
			if !isScalar(e) || !netplanRenderers[scalarText(e)] {
				return bad(e, "unknown renderer %q", scalarText(e))
			}
			continue
		}
		if e.Kind != sysconf.YMap {
			return bad(e, "%s: %s is not a mapping", section, id)
		}
		keys := netplanEntryKeys[section]
		if keys == nil {
			continue
		}
		for j, pk := range e.Keys {
			key, v := pk.String(), e.Vals[j]
			kind, ok := keys[key]
			if !ok {
				return bad(pk, "%s: unknown key %q", id, key)
			}
			if kind == yScalar && !isScalar(v) {
				return bad(v, "%s: %s is not a scalar", id, key)
			}
			if kind != yScalar && v.Kind != kind {
				return bad(v, "%s: %s is not a %s", id, key, kind)
			}
			switch key {
			case "dhcp4", "dhcp6", "critical", "optional", "wakeonlan", "emit-lldp", "ipv6-privacy":
				if _, ok := netplanBool(v); !ok {
					return bad(v, "%s: %s: invalid boolean value %q", id, key, scalarText(v))
				}
			case "macaddress":
				if !macRE.MatchString(scalarText(v)) {
					return bad(v, "%s: invalid MAC address %q", id, scalarText(v))
				}
			case "renderer":
				if !netplanRenderers[scalarText(v)] {
					return bad(v, "unknown renderer %q", scalarText(v))
				}
			case "match":
				for m, mk := range v.Keys {
					mv := v.Vals[m]
					switch {
					case !netplanMatchKeys[mk.String()]:
						return bad(mk, "%s: match: unknown key %q", id, mk.String())
					case mk.String() == "driver" && mv.Kind == sysconf.YSeq:
						for _, it := range mv.Items {
							if !isScalar(it) {
								return bad(it, "%s: match: driver: a list of scalars expected", id)
							}
						}
					case !isScalar(mv):
						return bad(mv, "%s: match: %s is not a scalar", id, mk.String())
					case mk.String() == "macaddress" && !macRE.MatchString(scalarText(mv)):
						return bad(mv, "%s: invalid MAC address %q", id, scalarText(mv))
					}
				}
			}
		}
	}
	return nil
}

// netplanBool is netplan's boolean (parse.c handle_generic_bool): true/on/yes/y, false/off/no/n,
// case-insensitive, of the scalar's text; ok false for anything else (netplan refuses the file).
func netplanBool(v *sysconf.YValue) (val, ok bool) {
	if !isScalar(v) || v == nil {
		return false, false
	}
	switch strings.ToLower(scalarText(v)) {
	case "true", "on", "yes", "y":
		return true, true
	case "false", "off", "no", "n":
		return false, true
	}
	return false, false
}

// netplanFileDone is what netplan checks of the devices a file defined once it has read the file
// (merged with those before it): a device defined again in another section ("changes device
// type"), set-name without match; a device left without a match is matched by its id's name
// from then on, whatever match a later file adds (named).
func netplanFileDone(root *node, doc *sysconf.YValue, kinds map[string]string, named map[string]bool) error {
	nw := doc.Get("network")
	if nw == nil || nw.Kind != sysconf.YMap {
		return nil
	}
	for i, sk := range nw.Keys {
		section, devs := sk.String(), nw.Vals[i]
		if !netplanSections[section] || devs.Kind != sysconf.YMap {
			continue
		}
		for j, k := range devs.Keys {
			id := k.String()
			if id == "renderer" {
				continue
			}
			if was, ok := kinds[id]; ok && was != section {
				return fmt.Errorf("line %d: netplan would refuse it: updated definition %q changes device type (%s, then %s)", k.Line, id, was, section)
			}
			kinds[id] = section
			if section != "ethernets" {
				continue
			}
			e := root.get("network").get(section).get(id)
			if e.get("match") == nil {
				if s := e.get("set-name"); s != nil {
					return fmt.Errorf("line %d: netplan would refuse it: %s: set-name requires match", devs.Vals[j].Line, id)
				}
				named[id] = true
			}
		}
	}
	return nil
}

// NetplanFile is the file netplan generates for a plan's device: systemd-networkd's
// 10-netplan-ID.network, NetworkManager's netplan-ID.nmconnection. Its name orders the plans
// that take eth0: systemd-networkd applies the first in lexical order.
func NetplanFile(p Plan) string {
	if p.Renderer == "NetworkManager" {
		return "netplan-" + p.ID + ".nmconnection"
	}
	return "10-netplan-" + p.ID + ".network"
}

func (f *Facts) readNetplan(src systemd.Source) {
	files, err := layered(src, NetplanDirs, "*.yaml")
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	var root *node
	text := map[string][]byte{}
	kinds := map[string]string{} // device id → its section, across files
	named := map[string]bool{}   // ids netplan matches by name (Name=id) for good
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
		if err := checkNetplan(v); err != nil {
			f.problem("%s: %w", p, err)
			continue
		}
		text[p] = data
		root = merge(root, v, p)
		if err := netplanFileDone(root, v, kinds, named); err != nil {
			f.problem("%s: %w", p, err)
		}
	}
	nw := root.get("network")
	if nw == nil || nw.kids == nil {
		return
	}
	global := "networkd"
	if r := nw.get("renderer"); r != nil {
		global = scalarText(r.v)
	}
	pin := func(n *node) Pin {
		return Pin{Stack: "netplan", Path: n.file, Line: n.line(), Setting: lineAt(text[n.file], n.line())}
	}
	var plans []Plan
	for _, section := range nw.keys {
		devs := nw.kids[section]
		if !netplanSections[section] || devs.kids == nil {
			continue
		}
		renderer := global
		if r := devs.get("renderer"); r != nil {
			renderer = scalarText(r.v)
		}
		for _, id := range devs.keys {
			e := devs.kids[id]
			if id == "renderer" || e.kids == nil {
				continue
			}
			plan := Plan{Stack: "netplan", Path: e.file, Line: e.line(), AtBoot: true, ID: id, Renderer: renderer}
			if r := e.get("renderer"); r != nil {
				plan.Renderer = scalarText(r.v)
			}
			if m := e.get("macaddress"); m != nil {
				plan.Pins = append(plan.Pins, pin(m))
			}
			// a virtual device named eth0 (a bridge) gets a .network file matching eth0 by name
			eth0 := (section == "ethernets" || section == "bridges") && id == Eth0
			m := e.get("match")
			if m != nil && section == "ethernets" {
				// the generated [Match]: Name= the set-name, else match's name, else the id when
				// a file left the device without a match; Driver=; PermanentMACAddress=
				setName := e.get("set-name")
				eth0 = len(m.keys) > 0 || named[id] || setName != nil
				switch n := m.get("name"); {
				case setName != nil:
					eth0 = eth0 && scalarText(setName.v) == Eth0
				case n != nil:
					eth0 = eth0 && nameGlob(scalarText(n.v), Eth0)
				case named[id]:
					eth0 = eth0 && id == Eth0
				}
				// NetworkManager's keyfile of a renamed device holds only interface-name= the new
				// name: the match is the .link file's, which renames it
				nmRenamed := plan.Renderer == "NetworkManager" && setName != nil
				if d := m.get("driver"); d != nil && !nmRenamed {
					if plan.Renderer == "NetworkManager" {
						f.problem("%s: line %d: netplan would refuse it: %s: NetworkManager definitions do not support matching by driver", d.file, d.line(), id)
						eth0 = false
					}
					any := false
					for _, v := range scalars(d.v) {
						any = any || nameGlob(v, HyperVDriver)
					}
					eth0 = eth0 && any
				}
				if c := m.get("macaddress"); c != nil && nmRenamed {
					f.Pins = append(f.Pins, pin(c)) // the .link file's match
				} else if c != nil {
					plan.Pins = append(plan.Pins, pin(c))
				}
			} else if c := m.get("macaddress"); c != nil {
				plan.Pins = append(plan.Pins, pin(c)) // a wifi's match, say
			}
			f.Pins = append(f.Pins, plan.Pins...)
			if !eth0 {
				continue
			}
			if d := e.get("dhcp4"); d != nil {
				val, _ := netplanBool(d.v) // checked with its file
				plan.DHCP, plan.Path, plan.Line = val, d.file, d.line()
			}
			if len(plan.Pins) > 0 {
				plan.Note = "matched by a MAC address that a new VM's NIC will not have"
			}
			plans = append(plans, plan)
		}
	}
	// systemd-networkd applies the first file in lexical order that takes eth0; one pinned to a
	// MAC address does not take Azure's NIC, and every file after the first that does is not
	// applied
	slices.SortStableFunc(plans, func(a, b Plan) int { return strings.Compare(NetplanFile(a), NetplanFile(b)) })
	won := false
	for _, p := range plans {
		if won {
			p.Note = "not applied: " + NetplanFile(p) + " comes after the file that configures eth0"
			f.NetplanOthers = append(f.NetplanOthers, p)
			continue
		}
		won = len(p.Pins) == 0
		f.Netplan = append(f.Netplan, p)
	}
}
