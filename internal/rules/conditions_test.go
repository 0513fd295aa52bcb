package rules_test

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A firewall unit whose condition fails on the image is skipped by systemd and loads no rules
// (issue #26): ufw enabled and switched on, but a drop-in's ConditionPathExists= names a file
// the image does not have. With the file present, the same drop-in lets it start.
func TestFirewallUnitConditions(t *testing.T) {
	const dropIn = "/etc/systemd/system/ufw.service.d/c.conf"
	cond := testfixture.Change{dropIn: "[Unit]\nConditionPathExists=/etc/ufw/absent\n"}
	skipped := testfixture.Variant(t, testfixture.With(testfixture.UFW(), cond))
	wantRule(t, skipped, "firewall-disabled", rules.Pass, "")
	wantRule(t, skipped, "firewall-enabled", rules.Fail, dropIn+":2")
	wantRule(t, skipped, "firewall-enabled", rules.Fail, "ConditionPathExists=/etc/ufw/absent")

	present := testfixture.Variant(t, testfixture.With(testfixture.UFW(), cond, testfixture.Change{"/etc/ufw/absent": "x\n"}))
	wantRule(t, present, "firewall-disabled", rules.Fail, "ufw.service")
	wantRule(t, present, "firewall-enabled", rules.Pass, "ufw")
}
