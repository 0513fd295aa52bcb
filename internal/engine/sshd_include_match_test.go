package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 25: "Match User deploy / Include deploy.conf" with ClientAliveInterval 180 in deploy.conf
// sets it for deploy's connections only (sshd -T prints 0): the rule fails with the global value
// unset, and names the Match line. (internal/sysconf's TestExpandSSHDAgreesWithSshdT holds the
// expansion to the system's sshd -T on generated configurations.)
func TestSshdIncludeInsideMatchIsNotGlobal(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	main := "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nMatch User deploy\n  Include /etc/ssh/deploy.conf\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/ssh/sshd_config": main,
		"/etc/ssh/deploy.conf": "ClientAliveInterval 180\n",
	}), cfg)
	f := finding(t, r, "ssh-client-alive-interval")
	if f.Status != rules.Fail || r.Compliant || f.Actual != "ClientAliveInterval not set" {
		t.Fatalf("ClientAliveInterval included under Match User deploy: %s (%s): %s", f.Status, f.Actual, f.Message)
	}
	named := false
	for _, e := range f.Evidence {
		if e.Path == "/etc/ssh/deploy.conf" && strings.Contains(e.Detail, "inside Match User deploy") {
			named = true
		}
	}
	if !named {
		t.Errorf("the evidence does not say the value sits under Match User deploy: %+v", f.Evidence)
	}

	// the same file included before the Match is global; a "Match all" block applies to every
	// connection and wins over a later global line (sshd -T prints it)
	for name, c := range map[string]testfixture.Change{
		"included before the Match": {
			"/etc/ssh/sshd_config": "Include /etc/ssh/deploy.conf\nMatch User deploy\n  MaxAuthTries 3\n",
			"/etc/ssh/deploy.conf": "ClientAliveInterval 180\n",
		},
		"Match all": {
			"/etc/ssh/sshd_config": "Match User deploy\n  Include /etc/ssh/deploy.conf\nMatch all\n  ClientAliveInterval 180\n",
			"/etc/ssh/deploy.conf": "ClientAliveInterval 30\n",
		},
	} {
		f := finding(t, mustCheck(t, testfixture.Variant(t, c), cfg), "ssh-client-alive-interval")
		if f.Status != rules.Pass {
			t.Errorf("%s: %s (%s): %s", name, f.Status, f.Actual, f.Message)
		}
	}
}
