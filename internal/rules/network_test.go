package rules_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
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
