package network

import (
	"strings"
	"testing"
)

// The disagreements TestIfupdownOracle found with ifupdown 0.8.41, kept as cases that run
// without it.
func TestIfupdownAsIfupReads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		refused  bool // a problem: ifup refuses the configuration
		dhcp     int
		readPast int
	}{
		{"an unknown method is refused", map[string]string{"etc/network/interfaces": "auto eth0\niface eth0 inet DHCP\n"}, true, 0, 0},
		{"an unknown family is refused", map[string]string{"etc/network/interfaces": "iface eth0 ine dhcp\n"}, true, 0, 0},
		{"a sourced file's error ends that file only", map[string]string{
			"etc/network/interfaces":        "auto eth0\nsource interfaces.d/*\niface eth1 inet dhcp\n",
			"etc/network/interfaces.d/eth0": "iface eth0 inet dhcp\niface eth0 inet bogus\niface eth0 inet6 dhcp\n",
		}, false, 1, 1},
		{"a glob does not match a dot file", map[string]string{
			"etc/network/interfaces":           "auto eth0\nsource interfaces.d/*\n",
			"etc/network/interfaces.d/.hidden": "iface eth0 inet dhcp\n",
		}, false, 0, 0},
		{"a glob matching a directory", map[string]string{
			"etc/network/interfaces":             "auto eth0\nsource interfaces.d/*\n",
			"etc/network/interfaces.d/sub/x":     "iface eth0 inet bogus\n",
			"etc/network/interfaces.d/eth0-dhcp": "iface eth0 inet dhcp\n",
		}, false, 1, 1},
		// a.cfg is not reread, dhcp.cfg is read from interfaces and from a.cfg (as ifup does)
		{"a cycle of sources", map[string]string{
			"etc/network/interfaces":   "source sub/*.cfg\n",
			"etc/network/sub/a.cfg":    "source ../sub/*.cfg\nallow-hotplug eth0\n",
			"etc/network/sub/dhcp.cfg": "iface eth0 inet dhcp\n",
		}, false, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := readTree(t, tc.files)
			if got := f.ErrOf(NeedIfupdown) != nil; got != tc.refused {
				t.Fatalf("refused %v, want %v: %v", got, tc.refused, f.ErrOf(NeedIfupdown))
			}
			if len(f.Ifupdown) != tc.dhcp || len(f.ReadPast) != tc.readPast {
				t.Errorf("%d DHCP plans, %d read past; want %d, %d: %+v %v", len(f.Ifupdown), len(f.ReadPast), tc.dhcp, tc.readPast, f.Ifupdown, f.ReadPast)
			}
			for _, p := range f.Ifupdown {
				if !p.AtBoot {
					t.Errorf("not at boot: %+v", p)
				}
			}
		})
	}
}

// The disagreements TestNetplanOracle found with netplan 0.106, kept as cases that run without
// it: refused is a problem naming the file; file the generated file that configures eth0.
func TestNetplanAsNetplanReads(t *testing.T) {
	const dhcp = "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		refused string // what the problem says (the file, the line), "" when netplan reads it
		dhcp    bool
		file    string
	}{
		{"/run shadows /etc", map[string]string{"etc/netplan/50.yaml": dhcp, "run/netplan/50.yaml": "network:\n  ethernets:\n    eth0:\n      dhcp4: no\n"}, "", false, "10-netplan-eth0.network"},
		{"/etc shadows /lib", map[string]string{"lib/netplan/50.yaml": "network: {ethernets: {eth0: {dhcp4: no}}}\n", "etc/netplan/50.yaml": dhcp}, "", true, "10-netplan-eth0.network"},
		{"an unknown top-level key", map[string]string{"etc/netplan/50.yaml": "foo: 1\n" + dhcp}, `/etc/netplan/50.yaml: line 1: netplan would refuse it: unknown key "foo"`, false, ""},
		{"an unknown device key", map[string]string{"etc/netplan/50.yaml": dhcp + "      hostname: vm\n"}, `/etc/netplan/50.yaml: line 5: netplan would refuse it: eth0: unknown key "hostname"`, false, ""},
		{"version 3", map[string]string{"etc/netplan/50.yaml": "network:\n  version: 3\n  ethernets: {eth0: {dhcp4: true}}\n"}, "/etc/netplan/50.yaml", false, ""},
		{"an unknown renderer", map[string]string{"etc/netplan/50.yaml": "network:\n  renderer: bogus\n  ethernets: {eth0: {dhcp4: true}}\n"}, "/etc/netplan/50.yaml", false, ""},
		{"dhcp4: 1", map[string]string{"etc/netplan/50.yaml": "network: {ethernets: {eth0: {dhcp4: 1}}}\n"}, "/etc/netplan/50.yaml", false, ""},
		{"another file's error", map[string]string{"etc/netplan/10.yaml": dhcp, "etc/netplan/90.yaml": "network: {ethernets: {lan: {dhcp6: maybe}}}\n"}, "/etc/netplan/90.yaml", false, ""},
		{"set-name before the file that adds match", map[string]string{
			"etc/netplan/10.yaml": "network: {ethernets: {nic: {set-name: eth0, dhcp4: true}}}\n",
			"etc/netplan/90.yaml": "network: {ethernets: {nic: {match: {driver: hv_netvsc}}}}\n"}, "/etc/netplan/10.yaml", false, ""},
		{"a device defined again in another section", map[string]string{
			"etc/netplan/10.yaml": dhcp, "etc/netplan/90.yaml": "network: {bridges: {eth0: {}}}\n"}, "/etc/netplan/90.yaml", false, ""},
		{"a device first defined without match stays matched by its id", map[string]string{
			"etc/netplan/10.yaml": "network: {ethernets: {azure: {}}}\n",
			"etc/netplan/90.yaml": "network: {ethernets: {azure: {match: {driver: hv_netvsc}, dhcp4: true}}}\n"}, "", false, ""},
		{"set-name eth0 whatever match's name", map[string]string{
			"etc/netplan/50.yaml": "network: {ethernets: {nic: {match: {name: \"en*\"}, set-name: eth0, dhcp4: yes}}}\n"}, "", true, "10-netplan-nic.network"},
		{"set-name renames the device matched", map[string]string{
			"etc/netplan/50.yaml": "network: {ethernets: {nic: {match: {name: eth0}, set-name: lan0, dhcp4: yes}}}\n"}, "", false, ""},
		{"the first file that takes eth0 is applied", map[string]string{
			"etc/netplan/50.yaml": "network: {ethernets: {any: {match: {name: \"e*\"}}, eth0: {dhcp4: true}}}\n"}, "", false, "10-netplan-any.network"},
		{"NetworkManager refuses a driver match", map[string]string{
			"etc/netplan/50.yaml": "network: {renderer: NetworkManager, ethernets: {nic: {match: {driver: hv_netvsc}, dhcp4: true}}}\n"}, "/etc/netplan/50.yaml", false, ""},
		{"NetworkManager names a renamed device only", map[string]string{
			"etc/netplan/50.yaml": "network: {renderer: NetworkManager, ethernets: {nic: {match: {driver: e1000, macaddress: \"00:15:5d:00:00:01\"}, set-name: eth0, dhcp4: true}}}\n"}, "", true, "netplan-nic.nmconnection"},
		{"a bridge named eth0", map[string]string{"etc/netplan/50.yaml": "network: {bridges: {eth0: {dhcp4: true}}}\n"}, "", true, "10-netplan-eth0.network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := readTree(t, tc.files)
			err := f.ErrOf(NeedNetplan)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("want a problem naming %s: %v", tc.refused, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range f.Netplan {
				if len(p.Pins) == 0 && i != len(f.Netplan)-1 {
					t.Errorf("plans after the one applied, %s: %+v", NetplanFile(p), f.Netplan)
				}
			}
			got, file := false, ""
			for _, p := range f.Netplan {
				if len(p.Pins) == 0 {
					got, file = p.DHCP, NetplanFile(p)
					break
				}
			}
			if got != tc.dhcp || file != tc.file {
				t.Errorf("eth0 by DHCP %v from %q, want %v from %q: %+v", got, file, tc.dhcp, tc.file, f.Netplan)
			}
		})
	}
}
