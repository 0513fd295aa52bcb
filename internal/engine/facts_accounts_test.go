package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// the compliant fixture's /etc/passwd (scripts/make-fixtures.sh), four lines
const fixturePasswd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n_chrony:x:101:102:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin\n"

// hasEvidence reports whether a finding names path at line (0: any line) with detail in it.
func hasEvidence(f report.Finding, path string, line int, detail string) bool {
	for _, e := range f.Evidence {
		if e.Path == path && (line == 0 || e.Line == line) && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// Issue 26, accounts as glibc reads them: "toor::0:0" (four fields: UID 0, an empty password,
// /bin/sh) and "bad1:x: 0:0::..." (strtoul skips the blank: UID 0) are root under another name.
// internal/sysconf's TestPasswdMatchesGlibc holds the reader to the system's glibc.
func TestFactsAccountsAsGlibcReadsThem(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/passwd": fixturePasswd + "toor::0:0\nbad1:x: 0:0::/root:/bin/bash\n",
	}), cfg)
	if r.Compliant {
		t.Fatal("an image with two extra UID 0 accounts is compliant")
	}
	f := finding(t, r, "single-uid0")
	if f.Status != rules.Fail || !hasEvidence(f, "/etc/passwd", 5, "toor has UID 0") || !hasEvidence(f, "/etc/passwd", 6, "bad1 has UID 0") {
		t.Errorf("single-uid0: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	f = finding(t, r, "locked-accounts")
	if f.Status != rules.Fail || !hasEvidence(f, "/etc/passwd", 5, "toor has an empty password") {
		t.Errorf("locked-accounts: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}

// A UID 998 account with a login shell is a login like a human one: its authorized_keys and
// history are looked at; and the key files the effective sshd configuration names
// (AuthorizedKeysFile /etc/ssh/keys/%u) are read for every account.
func TestFactsSystemAccountHomeAndAuthorizedKeysFile(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/passwd":                       fixturePasswd + "svc:x:998:998::/var/lib/svc:/bin/bash\n",
		"/var/lib/svc/.ssh/authorized_keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q svc\n",
		"/var/lib/svc/.bash_history":        "curl http://build.internal/\n",
	}), cfg)
	if f := finding(t, r, "no-ssh-keys"); f.Status != rules.Fail || !hasEvidence(f, "/var/lib/svc/.ssh/authorized_keys", 0, "svc") {
		t.Errorf("no-ssh-keys: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	if f := finding(t, r, "no-shell-history"); f.Status != rules.Fail || !hasEvidence(f, "/var/lib/svc/.bash_history", 0, "svc") {
		t.Errorf("no-shell-history: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}

	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/ssh/sshd_config": "AuthorizedKeysFile /etc/ssh/keys/%u .ssh/authorized_keys\nClientAliveInterval 180\nPermitRootLogin no\nPasswordAuthentication no\n",
		"/etc/ssh/keys/root":   "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q build\n",
	}), cfg)
	if f := finding(t, r, "no-ssh-keys"); f.Status != rules.Fail || r.Compliant ||
		!hasEvidence(f, "/etc/ssh/keys/root", 0, "AuthorizedKeysFile") || !hasEvidence(f, "/etc/ssh/keys/root", 0, "/etc/ssh/sshd_config:1") {
		t.Errorf("no-ssh-keys with AuthorizedKeysFile /etc/ssh/keys/%%u: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}

// A passwd line over the reader's bound is not cut into pieces and judged: the account rules
// error, naming the file and the line.
func TestFactsPasswdLineOverBoundErrors(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	long := "evil:x:0:0:" + strings.Repeat("g", 70<<10) + ":/root:/bin/bash\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{"/etc/passwd": fixturePasswd + long}), cfg)
	for _, id := range []string{"single-uid0", "locked-accounts"} {
		f := finding(t, r, id)
		if f.Status != rules.Error || !strings.Contains(f.Message, "/etc/passwd") || !strings.Contains(f.Message, "line 5") {
			t.Errorf("%s: %s: %s", id, f.Status, f.Message)
		}
	}
	if r.Compliant {
		t.Error("compliant with /etc/passwd unread")
	}
}
