package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The network fact's problems are per reader: a .link file that cannot be read makes
// no-mac-pinned-network ERROR (a pin may be in it) and leaves first-nic-dhcp, which never reads
// it, to pass; a broken NetworkManager.conf matters to neither while NetworkManager is not
// enabled; a netplan file netplan refuses makes both ERROR when nothing else brings eth0 up.
func TestNetworkProblemsPerRule(t *testing.T) {
	long := "# " + strings.Repeat("x", 70<<10) + "\n"
	for _, c := range []struct {
		name       string
		change     testfixture.Change
		mac, dhcp  rules.Status
		macMessage string
	}{
		{"a .link file over the bound", testfixture.Change{"/etc/systemd/network/10-a.link": long}, rules.Error, rules.Pass, "/etc/systemd/network/10-a.link"},
		{"NetworkManager.conf over the bound, NetworkManager not enabled", testfixture.Change{"/etc/NetworkManager/NetworkManager.conf": long}, rules.Pass, rules.Pass, ""},
		{"ifupdown's file over the bound, netplan brings eth0 up", testfixture.Change{"/etc/network/interfaces": long}, rules.Error, rules.Pass, "/etc/network/interfaces"},
		{"netplan refuses its file", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": "network: [\n"}, rules.Error, rules.Error, "/etc/netplan/50-cloud-init.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := engine.Check(testfixture.Variant(t, c.change), plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]rules.Status{}
			for _, f := range r.Findings {
				got[f.Rule] = f.Status
				if f.Rule == "no-mac-pinned-network" && !strings.Contains(f.Message, c.macMessage) {
					t.Errorf("no-mac-pinned-network: %s", f.Message)
				}
			}
			if got["no-mac-pinned-network"] != c.mac || got["first-nic-dhcp"] != c.dhcp {
				t.Errorf("no-mac-pinned-network %s, first-nic-dhcp %s; want %s, %s", got["no-mac-pinned-network"], got["first-nic-dhcp"], c.mac, c.dhcp)
			}
		})
	}
}

// no-resolv-conf judges the resolvconf fact: the link followed as the kernel follows it, a
// static file failed with what glibc's resolver takes from it.
func TestNoResolvConf(t *testing.T) {
	long := "nameserver 192.0.2.7\n# " + strings.Repeat("x", 20<<10) + "\n"
	for _, c := range []struct {
		name   string
		change testfixture.Change
		want   rules.Status
		in     []string
	}{
		{"systemd-resolved's stub (the fixture)", nil, rules.Pass, []string{"written at run time"}},
		{"absent", testfixture.Change{"/etc/resolv.conf": testfixture.Remove}, rules.Pass, []string{"absent"}},
		{"through /var/run, a link to /run", testfixture.Change{"/etc/resolv.conf": "-> /var/run/resolvconf/resolv.conf", "/var/run": "-> /run"}, rules.Pass, []string{"ending at /run/resolvconf/resolv.conf"}},
		{"a chain that ends in a static file", testfixture.Change{"/etc/resolv.conf": "-> /etc/alt", "/etc/alt": "-> resolv.static", "/etc/resolv.static": "nameserver 192.0.2.1\n"},
			rules.Fail, []string{"links to a static file", "ending at /etc/resolv.static", "/etc/resolv.static:1 nameserver 192.0.2.1"}},
		{"a static file: what glibc takes from it", testfixture.Change{"/etc/resolv.conf": "nameserver 192.0.2.1\nnameserver bogus\n nameserver 192.0.2.9\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\nsearch a b\n"},
			rules.Fail, []string{"is a static file", ":1 nameserver 192.0.2.1", ":4 nameserver 192.0.2.2", ":6 nameserver 192.0.2.4 (kept, not queried", ":7 search a b"}},
		{"a domain line: its first word is the search list", testfixture.Change{"/etc/resolv.conf": "search x y\ndomain corp.example z\n"}, rules.Fail, []string{":2 domain corp.example z (search list corp.example)"}},
		{"a static file glibc takes nothing from", testfixture.Change{"/etc/resolv.conf": "# generated\nnameserver\t\n"}, rules.Fail, []string{"no nameserver, search or domain line glibc reads"}},
		{"a line over the bound: still a static file, said so", testfixture.Change{"/etc/resolv.conf": long}, rules.Fail, []string{"not all of it read", "line 2", ":1 nameserver 192.0.2.7"}},
		{"a loop", testfixture.Change{"/etc/resolv.conf": "-> /etc/resolv.conf"}, rules.Fail, []string{"loop"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := judgeRule(t, "no-resolv-conf", c.change)
			text := f.Message
			for _, e := range f.Evidence {
				text += fmt.Sprintf("\n%s:%d %s", e.Path, e.Line, e.Detail)
			}
			if f.Status != c.want {
				t.Errorf("%s, want %s:\n%s", f.Status, c.want, text)
			}
			for _, s := range c.in {
				if !strings.Contains(text, s) {
					t.Errorf("no %q in:\n%s", s, text)
				}
			}
		})
	}
}

// judgeRule runs one rule on the compliant image with the changes.
func judgeRule(t *testing.T, id string, change testfixture.Change) rules.Result {
	t.Helper()
	r, ok := rules.ByID(id)
	if !ok {
		t.Fatalf("no rule %s", id)
	}
	img, err := inspect.Open(testfixture.Variant(t, change))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	return r.Run(&rules.Context{Image: img})
}
