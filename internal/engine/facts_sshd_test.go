package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const factsSSHDBase = "PermitRootLogin no\nPasswordAuthentication no\n"

// Issue 26, sshd values as sshd reads them: "ClientAliveInterval 3m" is 180 seconds (sshd -T
// prints 180) and passes; "2m" is 120 and warns; "3x" is refused by sshd and fails.
// internal/sysconf's TestSSHDTimeAgreesWithSshdT holds the time parser to sshd -T.
func TestFactsSSHDTimeValues(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	for value, want := range map[string]rules.Status{"3m": rules.Pass, "2m60s": rules.Pass, "2m": rules.Warn, "3x": rules.Fail, "1h": rules.Fail} {
		r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
			"/etc/ssh/sshd_config": factsSSHDBase + "ClientAliveInterval " + value + "\n",
		}), cfg)
		f := finding(t, r, "ssh-client-alive-interval")
		if f.Status != want || !hasEvidence(f, "/etc/ssh/sshd_config", 3, value) {
			t.Errorf("ClientAliveInterval %s: %s, want %s: %s %+v", value, f.Status, want, f.Message, f.Evidence)
		}
	}
}

// An sshd_config line over the reader's bound is not cut into two lines: the rule errors,
// naming the file and the line.
func TestFactsSSHDLineOverBoundErrors(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	long := "Banner /etc/issue" + strings.Repeat(" ", 70<<10) + "ClientAliveInterval 180\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/ssh/sshd_config": factsSSHDBase + "ClientAliveInterval 180\n" + long,
	}), cfg)
	f := finding(t, r, "ssh-client-alive-interval")
	if f.Status != rules.Error || !strings.Contains(f.Message, "/etc/ssh/sshd_config") || !strings.Contains(f.Message, "line 4") || r.Compliant {
		t.Errorf("ssh-client-alive-interval: %s: %s", f.Status, f.Message)
	}
}

// Issue 26, sshd's command line: "-o ClientAliveInterval=0" in the unit's ExecStart, in a
// drop-in that resets ExecStart, and in /etc/default/ssh's SSHD_OPTS (EnvironmentFile=) wins
// over sshd_config's 180, as sshd -T shows; the rule fails naming the file and line that holds it.
func TestFactsSSHDCommandLine(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	const unit = "[Unit]\nDescription=OpenBSD Secure Shell server\n\n[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStartPre=/usr/sbin/sshd -t\n"
	for _, tc := range []struct {
		name   string
		change testfixture.Change
		path   string
		line   int
	}{
		{"ExecStart", testfixture.Change{"/usr/lib/systemd/system/ssh.service": unit + "ExecStart=/usr/sbin/sshd -D -o ClientAliveInterval=0 $SSHD_OPTS\n"},
			"/usr/lib/systemd/system/ssh.service", 7},
		{"a drop-in resetting ExecStart", testfixture.Change{
			"/usr/lib/systemd/system/ssh.service":             unit + "ExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n",
			"/etc/systemd/system/ssh.service.d/override.conf": "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -oClientAliveInterval=0\n",
		}, "/etc/systemd/system/ssh.service.d/override.conf", 3},
		{"SSHD_OPTS", testfixture.Change{
			"/usr/lib/systemd/system/ssh.service": unit + "ExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n",
			"/etc/default/ssh":                    "# Options to pass to sshd\nSSHD_OPTS=\"-o ClientAliveInterval=0\"\n",
		}, "/etc/default/ssh", 2},
	} {
		r := mustCheck(t, testfixture.Variant(t, tc.change), cfg)
		f := finding(t, r, "ssh-client-alive-interval")
		if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, tc.path, tc.line, "sshd's command line") {
			t.Errorf("%s: %s: %s %+v", tc.name, f.Status, f.Message, f.Evidence)
		}
	}
	// a unit that passes nothing: sshd_config's 180 stands
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/usr/lib/systemd/system/ssh.service": unit + "ExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n",
		"/etc/default/ssh":                    "SSHD_OPTS=\n",
	}), cfg)
	if f := finding(t, r, "ssh-client-alive-interval"); f.Status != rules.Pass {
		t.Errorf("no options: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}
