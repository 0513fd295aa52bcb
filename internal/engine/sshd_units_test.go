package engine

import (
	"maps"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Every sshd that boot starts is judged, not only ssh.service's: a second service running sshd
// with -o PasswordAuthentication=yes, and the per-connection sshd of a socket-activated
// ssh.socket (Accept=yes, ssh@.service). Both passed ssh-password-auth-disabled before (found
// by an outside review, verified with systemctl --root and sshd -T). A trailing comment after a
// value (sshd 8.7 and later drop it) no longer fails the rule.
func TestEverySshdBootStartsIsJudged(t *testing.T) {
	var aws testfixture.MarketplaceFixture
	for _, f := range testfixture.MarketplaceFixtures(t) {
		if f.Profile == "aws" {
			aws = f
		}
	}
	cases := []struct {
		name   string
		change testfixture.Change
		want   rules.Status
		path   string
	}{
		{"the clean image", nil, rules.Pass, ""},
		{"a second sshd service", testfixture.Change{
			"/etc/systemd/system/sshd-alt.service":                         "[Service]\nExecStart=/usr/sbin/sshd -D -p 2222 -o PasswordAuthentication=yes\n[Install]\nWantedBy=multi-user.target\n",
			"/etc/systemd/system/multi-user.target.wants/sshd-alt.service": "-> ../sshd-alt.service",
		}, rules.Fail, "/etc/systemd/system/sshd-alt.service"},
		{"a socket-activated sshd", testfixture.Change{
			"/etc/systemd/system/ssh.socket":                      "[Socket]\nListenStream=22\nAccept=yes\n[Install]\nWantedBy=sockets.target\n",
			"/etc/systemd/system/sockets.target.wants/ssh.socket": "-> ../ssh.socket",
			"/etc/systemd/system/ssh@.service":                    "[Service]\nExecStart=-/usr/sbin/sshd -i -o PasswordAuthentication=yes\nStandardInput=socket\n",
		}, rules.Fail, "/etc/systemd/system/ssh@.service"},
		{"a comment after the value", testfixture.Change{
			"/etc/ssh/sshd_config.d/00-marketplace-harden.conf": strings.ReplaceAll(testfixture.SSHAuthDropIn("prohibit-password"), "PasswordAuthentication no", "PasswordAuthentication no # hardened"),
		}, rules.Pass, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := aws
			f.Clean = maps.Clone(aws.Clean)
			maps.Copy(f.Clean, c.change)
			r := mustCheck(t, f.CleanDisk(t), plan.Choices{Profiles: []string{"aws"}, Vulnerabilities: plan.VulnChoices{DB: testfixture.OSVRecords(t, testfixture.MarketplaceOSVRecords()...)}})
			got := finding(t, r, "ssh-password-auth-disabled")
			if got.Status != c.want {
				t.Fatalf("%s: %s", got.Status, got.Message)
			}
			if c.path != "" && !strings.Contains(got.Message+evidenceText(got.Evidence), c.path) {
				t.Errorf("the finding does not name %s: %s %+v", c.path, got.Message, got.Evidence)
			}
		})
	}
}

func evidenceText(ev []rules.Evidence) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(e.Path + " " + e.Detail + "\n")
	}
	return b.String()
}
