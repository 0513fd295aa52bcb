package engine

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 26, the first NIC's plan as netplan reads it: the old regular expressions passed a plan
// with an eth0 key and a "dhcp4: true" under another interface (ens3), and failed one in
// flow style that netplan reads as eth0 by DHCP.
func TestFactsNetworkAsNetplanReadsIt(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/netplan/50-cloud-init.yaml": "network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [10.0.0.4/24]\n    ens3:\n      dhcp4: true\n",
	}), cfg)
	if f := finding(t, r, "first-nic-dhcp"); f.Status != rules.Fail {
		t.Errorf("dhcp4 under ens3 only: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/netplan/50-cloud-init.yaml": "{network: {version: 2, ethernets: {eth0: {dhcp4: true}}}}\n",
	}), cfg)
	if f := finding(t, r, "first-nic-dhcp"); f.Status != rules.Pass || !hasEvidence(f, "/etc/netplan/50-cloud-init.yaml", 0, "netplan: eth0 by DHCP") {
		t.Errorf("flow style: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/netplan/50-cloud-init.yaml": "network:\n  ethernets: [\n",
	}), cfg)
	if f := finding(t, r, "first-nic-dhcp"); f.Status != rules.Error {
		t.Errorf("a plan netplan refuses: %s: %s", f.Status, f.Message)
	}
}

// ifupdown reads /etc/network/interfaces and what it sources: the old reading took every file in
// interfaces.d as read, so a stanza there that nothing sources passed; sourced, it passes.
func TestFactsNetworkAsIfupdownReadsIt(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	stanza := "auto eth0\niface eth0 inet dhcp\n"
	for _, tc := range []struct {
		name       string
		interfaces string
		status     rules.Status
	}{
		{"interfaces.d not sourced", "auto lo\niface lo inet loopback\n", rules.Fail},
		{"source interfaces.d/*", "auto lo\niface lo inet loopback\nsource interfaces.d/*\n", rules.Pass},
	} {
		r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
			"/etc/netplan/50-cloud-init.yaml": testfixture.Remove,
			"/etc/network/interfaces":         tc.interfaces,
			"/etc/network/interfaces.d/eth0":  stanza,
		}), cfg)
		f := finding(t, r, "first-nic-dhcp")
		if f.Status != tc.status || tc.status == rules.Pass && !hasEvidence(f, "/etc/network/interfaces.d/eth0", 2, "ifupdown: eth0 by DHCP at boot") {
			t.Errorf("%s: %s: %s %+v", tc.name, f.Status, f.Message, f.Evidence)
		}
	}
}

// A MAC pin is a setting, not text: "macaddress:" in a netplan comment pinned nothing, but the
// old line pattern failed the image; a keyfile's mac-address= (blanks around "=") still pins it.
func TestFactsNetworkMACPinsAsTheStacksReadThem(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/netplan/50-cloud-init.yaml": "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true # no macaddress: match, on purpose\n",
	}), cfg)
	if f := finding(t, r, "no-mac-pinned-network"); f.Status != rules.Pass {
		t.Errorf("a comment: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/NetworkManager/system-connections/eth0.nmconnection": "[connection]\nid=eth0\ntype=ethernet\n\n[ethernet]\n  mac-address = 00:15:5D:00:00:01\n",
	}), cfg)
	if f := finding(t, r, "no-mac-pinned-network"); f.Status != rules.Fail || !hasEvidence(f, "/etc/NetworkManager/system-connections/eth0.nmconnection", 6, "mac-address") {
		t.Errorf("a keyfile: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}
