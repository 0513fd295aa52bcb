package rules_test

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// "Is X started at boot" is the enabled-services fact: the agent masked, or linked only into a
// target boot does not reach, is not started (azure-agent FAILs); a firewall pulled in by a
// vendor sysinit.target.wants link or by another unit's Wants= is (firewall-disabled FAILs).
func TestStartedAtBootIsTheFact(t *testing.T) {
	const agentLink = "/etc/systemd/system/multi-user.target.wants/walinuxagent.service"
	const nft = "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n[Install]\nWantedBy=sysinit.target\n"
	for _, c := range []struct {
		name   string
		change testfixture.Change
		rule   string
		want   rules.Status
	}{
		{"the agent as shipped", nil, "azure-agent", rules.Pass},
		{"the agent masked", testfixture.Change{"/etc/systemd/system/walinuxagent.service": "-> /dev/null"}, "azure-agent", rules.Fail},
		{"the agent linked into rescue.target only", testfixture.Change{agentLink: testfixture.Remove,
			"/etc/systemd/system/rescue.target.wants/walinuxagent.service": "-> /usr/lib/systemd/system/walinuxagent.service"}, "azure-agent", rules.Fail},
		{"the agent wanted by another started unit", testfixture.Change{agentLink: testfixture.Remove,
			"/usr/lib/systemd/system/cloud.service":                     "[Unit]\nWants=walinuxagent.service\n[Service]\nExecStart=/bin/true\n",
			"/etc/systemd/system/multi-user.target.wants/cloud.service": "-> /usr/lib/systemd/system/cloud.service"}, "azure-agent", rules.Pass},
		{"no firewall", nil, "firewall-disabled", rules.Pass},
		{"nftables from a vendor sysinit.target.wants", testfixture.Change{"/etc/nftables.conf": nftDrop, "/usr/lib/systemd/system/nftables.service": nft,
			"/usr/lib/systemd/system/sysinit.target.wants/nftables.service": "-> ../nftables.service"}, "firewall-disabled", rules.Fail},
		{"nftables wanted by a started unit", testfixture.Change{"/etc/nftables.conf": nftDrop, "/usr/lib/systemd/system/nftables.service": nft,
			"/usr/lib/systemd/system/app.service":                     "[Unit]\nRequires=nftables.service\n[Service]\nExecStart=/bin/true\n",
			"/etc/systemd/system/multi-user.target.wants/app.service": "-> /usr/lib/systemd/system/app.service"}, "firewall-disabled", rules.Fail},
		{"nftables linked but masked", testfixture.Change{"/usr/lib/systemd/system/nftables.service": nft,
			"/usr/lib/systemd/system/sysinit.target.wants/nftables.service": "-> ../nftables.service",
			"/etc/systemd/system/nftables.service":                          "-> /dev/null"}, "firewall-disabled", rules.Pass},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := engine.Check(testfixture.Variant(t, c.change), plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.Rule == c.rule {
					if f.Status != c.want {
						t.Errorf("%s: %s: %s %+v", c.rule, f.Status, f.Message, f.Evidence)
					}
					return
				}
			}
			t.Fatalf("no %s finding", c.rule)
		})
	}
}
