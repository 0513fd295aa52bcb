package network

import (
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// NetworkdDirs are systemd-networkd's .network directories, most specific first.
var NetworkdDirs = []string{"/etc/systemd/network", "/run/systemd/network", "/usr/lib/systemd/network", "/lib/systemd/network"}

// networkdTest is systemd's net_condition_test_strv (v252 src/shared/net-condition.c): no
// patterns match; a "!" pattern that matches refuses; with a positive pattern one must match.
func networkdTest(patterns []string, s string) bool {
	match, positive := false, false
	for _, p := range patterns {
		invert := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if !invert {
			positive = true
		}
		if nameGlob(p, s) {
			if invert {
				return false
			}
			match = true
		}
	}
	return !positive || match
}

// matchList appends a Name=/Driver= value as config_parse_match_ifnames does: a leading "!"
// inverts every word of the line; an empty value resets the list.
func matchList(list []string, value string) []string {
	if value == "" {
		return nil
	}
	invert := strings.HasPrefix(value, "!")
	for _, w := range strings.Fields(strings.TrimPrefix(value, "!")) {
		if invert {
			w = "!" + w
		}
		list = append(list, w)
	}
	return list
}

// networkdDHCP4 is [Network] DHCP= (v252 config_parse_dhcp): a boolean (parse_boolean's
// 1/yes/y/true/t/on) or ipv4/ipv6/both; whether it turns DHCPv4 on.
func networkdDHCP4(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on", "ipv4", "both":
		return true
	}
	return false
}

func (f *Facts) readNetworkd(src systemd.Source) {
	files, err := layered(src, NetworkdDirs, "*.network")
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	won := false // a file without a MAC match took eth0: later files do not apply
	for _, p := range files {
		if masked(src, p) {
			continue
		}
		data, ok := f.read(src, p)
		if !ok || len(data) == 0 {
			continue // an empty file masks the name
		}
		settings, err := sysconf.ParseUnit(data)
		if err != nil {
			f.problem("%s %w", p, err)
			continue
		}
		var names, drivers, types []string
		criteria, other := 0, ""
		plan := Plan{Stack: "systemd-networkd", Path: p, AtBoot: true}
		for _, s := range settings {
			switch {
			case s.Section == "Match" && s.Key == "Name":
				names, criteria = matchList(names, s.Value), criteria+1
			case s.Section == "Match" && s.Key == "Driver":
				drivers, criteria = matchList(drivers, s.Value), criteria+1
			case s.Section == "Match" && s.Key == "Type":
				types, criteria = matchList(types, s.Value), criteria+1
			case s.Section == "Match" && (s.Key == "MACAddress" || s.Key == "PermanentMACAddress"):
				criteria++
				if s.Value != "" {
					plan.Pins = append(plan.Pins, Pin{Stack: "systemd-networkd", Path: p, Line: s.Line, Setting: lineAt(data, s.Line)})
				}
			case s.Section == "Match":
				criteria++
				if other == "" {
					other = s.Key + "="
				}
			case s.Section == "Link" && s.Key == "MACAddress" && s.Value != "":
				plan.Pins = append(plan.Pins, Pin{Stack: "systemd-networkd", Path: p, Line: s.Line, Setting: lineAt(data, s.Line)})
			case s.Section == "Network" && s.Key == "DHCP":
				plan.DHCP, plan.Line = networkdDHCP4(s.Value), s.Line
			}
		}
		f.Pins = append(f.Pins, plan.Pins...)
		if criteria == 0 {
			continue // v252 ignores a file with an empty [Match]
		}
		if won || !networkdTest(names, Eth0) || !networkdTest(drivers, HyperVDriver) || !networkdTest(types, "ether") {
			if plan.DHCP { // the first matching file wins: a later one does not apply
				f.NetworkdOthers = append(f.NetworkdOthers, plan)
			}
			continue
		}
		switch {
		case other != "":
			plan.Note = "matched by " + other + ", which is not known to take eth0"
		case len(plan.Pins) > 0:
			plan.Note = "matched by a MAC address that a new VM's NIC will not have"
		}
		if other != "" {
			if plan.DHCP {
				f.NetworkdOthers = append(f.NetworkdOthers, plan)
			}
			continue
		}
		won = len(plan.Pins) == 0
		f.Networkd = append(f.Networkd, plan)
	}
}
