package rules

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// runOn judges one rule on a real image (mke2fs -d of the compliant tree with the changes).
func runOn(t *testing.T, id string, changes testfixture.Change) Result {
	t.Helper()
	r, ok := ByID(id)
	if !ok {
		t.Fatalf("no rule %s", id)
	}
	img, err := inspect.Open(testfixture.Variant(t, changes))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	return r.Run(&Context{Image: img})
}

func resultText(r Result) string {
	s := r.Message
	for _, e := range r.Evidence {
		s += "\n" + e.Path + " " + e.Detail
	}
	return s
}

type doCase struct {
	name    string
	changes testfixture.Change
	want    Status
	in      string // in the message or evidence
}

func runCases(t *testing.T, id string, cases []doCase) {
	t.Helper()
	for _, c := range cases {
		r := runOn(t, id, c.changes)
		if r.Status != c.want || !strings.Contains(resultText(r), c.in) {
			t.Errorf("%s %s: %s, want %s with %q:\n%s", id, c.name, r.Status, c.want, c.in, resultText(r))
		}
	}
}

func TestBashHistoryCleared(t *testing.T) {
	under, at := strings.Repeat("x", BashHistoryLimit-1), strings.Repeat("x", BashHistoryLimit)
	runCases(t, "bash-history-cleared", []doCase{
		{"no history", nil, Pass, "no Bash history of 200 bytes or more"},
		{"root's 199 bytes pass", testfixture.Change{"/root/.bash_history": under}, Pass, "/root/.bash_history Bash history of root, 199 bytes"},
		{"root's 200 bytes fail", testfixture.Change{"/root/.bash_history": at}, Fail, "/root/.bash_history Bash history of root, 200 bytes"},
		{"a user's home under /home", testfixture.Change{"/home/alice/.bash_history": at}, Fail, "/home/alice/.bash_history"},
		// a home outside /home (the script reads /home/USER only): every login's history counts
		{"a UID 1000 home elsewhere", testfixture.Change{
			"/etc/passwd":              "root:x:0:0:root:/root:/bin/bash\nsvc:x:1000:1000::/srv/svc:/bin/bash\n",
			"/srv/svc/.bash_history":   at,
			"/srv/svc/.bash_history.x": "ignored"}, Fail, "/srv/svc/.bash_history Bash history of svc, 200 bytes"},
		{"a link to /dev/null is no history", testfixture.Change{"/root/.bash_history": "-> /dev/null"}, Pass, "no Bash history"},
		{"a link to a big file counts", testfixture.Change{"/root/.bash_history": "-> /root/old", "/root/old": at}, Fail, "200 bytes"},
		{"unreadable homes fail closed", testfixture.Change{"/home": "not a directory"}, Error, "home"},
	})
}

func TestDOAgentRemoved(t *testing.T) {
	runCases(t, "do-agent-removed", []doCase{
		{"absent", nil, Pass, "no /opt/digitalocean"},
		{"left by the build", testfixture.Change{"/opt/digitalocean/droplet-agent/bin/droplet-agent": "elf"}, Fail, "directory holding droplet-agent"},
		{"a link to a directory", testfixture.Change{"/opt/digitalocean": "-> /srv/do", "/srv/do/x": "x"}, Fail, "/opt/digitalocean"},
		{"a file of that name is no directory", testfixture.Change{"/opt/digitalocean": "x"}, Pass, "no /opt/digitalocean"},
	})
}

func TestNoSSHDirFiles(t *testing.T) {
	runCases(t, "no-ssh-dir-files", []doCase{
		{"none", nil, Pass, "no other files"},
		{"the keys are no-ssh-keys'", testfixture.Change{"/root/.ssh/authorized_keys": "ssh-ed25519 AAAA", "/root/.ssh/known_hosts": "h", "/root/.ssh/id_rsa": ""}, Pass, "no other files"},
		{"a client config", testfixture.Change{"/root/.ssh/config": "Host *\n"}, Fail, "/root/.ssh/config file in the .ssh directory of root"},
		{"a user's hidden rc", testfixture.Change{"/home/bob/.ssh/.rc": "x"}, Fail, "/home/bob/.ssh/.rc"},
		{"unreadable homes fail closed", testfixture.Change{"/home": "not a directory"}, Error, "home"},
	})
}

func TestDOSupportedDistribution(t *testing.T) {
	osr := func(name, version string) testfixture.Change {
		return testfixture.Change{"/etc/os-release": "NAME=\"" + name + "\"\nVERSION_ID=\"" + version + "\"\n"}
	}
	runCases(t, "do-supported-distribution", []doCase{
		{"the fixture's Debian 12", nil, Pass, "Debian GNU/Linux is a distribution"},
		{"Ubuntu", osr("Ubuntu", "24.04"), Pass, "Ubuntu"},
		{"Fedora", osr("Fedora Linux", "41"), Fail, `"Fedora Linux" is not a distribution`},
		{"Ubuntu by another name", osr("Ubuntu Core", "22"), Fail, "is not a distribution"},
		{"lsb-release without os-release", testfixture.Change{"/etc/os-release": testfixture.Remove, "/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"}, Pass, "/etc/lsb-release DISTRIB_ID=Ubuntu"},
		{"nothing names it", testfixture.Change{"/etc/os-release": testfixture.Remove}, Fail, "no /etc/os-release"},
		// a line longer than the reader takes: what the script would name is unknown
		{"an os-release line over the bound fails closed", testfixture.Change{"/etc/os-release": "NAME=\"" + strings.Repeat("x", 70<<10) + "\"\n"}, Error, "/etc/os-release"},
		{"os-release that is a directory is not read", testfixture.Change{"/etc/os-release": "-> /etc", "/etc/debian_version": "12.5\n"}, Pass, "/etc/debian_version 12.5"},
		// the lsb_release branch: the command runs only when /etc/os-release is not a file; one
		// that is not Debian's lsb-release-minimal (here an executable of another kind) cannot be
		// run offline: what it prints is unknown
		{"an lsb_release that cannot be modelled fails closed", testfixture.Change{"/etc/os-release": testfixture.Remove, "/usr/bin/lsb_release": "-> dash",
			"/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"}, Error, "/usr/bin/lsb_release"},
		{"lsb_release is not run while os-release is a file", testfixture.Change{"/usr/bin/lsb_release": "-> dash"}, Pass, "/etc/os-release"},
		// bash's `type` finds a file it cannot run; the script then names nothing and fails
		{"a non-executable lsb_release: the script names nothing", testfixture.Change{"/etc/os-release": testfixture.Remove, "/usr/bin/lsb_release": "#!/bin/sh\n",
			"/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"}, Fail, "/usr/bin/lsb_release lsb_release -si, -sr: /usr/bin/lsb_release is not executable"},
		{"SuSe-release names nothing, before redhat-release", testfixture.Change{"/etc/os-release": testfixture.Remove, "/etc/SuSe-release": "SUSE Linux Enterprise Server 11\n",
			"/etc/redhat-release": "CentOS release 6.10 (Final)\n"}, Fail, `"" is not a distribution`},
	})
	runCases(t, "do-supported-version", []doCase{
		{"the fixture's Debian 12", nil, Pass, "Debian GNU/Linux 12 is a release"},
		{"Debian 13", osr("Debian GNU/Linux", "13"), Pass, "13"},
		{"Debian 14", osr("Debian GNU/Linux", "14"), Fail, `"14" is not a release`},
		{"Debian 8", osr("Debian GNU/Linux", "8"), Fail, "not a release"},
		{"Ubuntu 24.04", osr("Ubuntu", "24.04"), Pass, "24.04"},
		{"Ubuntu 24.10", osr("Ubuntu", "24.10"), Fail, "not a release"},
		{"Rocky 9.5 by its major", osr("Rocky Linux", "9.5"), Pass, "9.5"},
		{"Rocky 10.0", osr("Rocky Linux", "10.0"), Fail, "not a release"},
		{"AlmaLinux 10.8 (the script's unanchored 8.* is not followed)", osr("AlmaLinux", "10.8"), Fail, "not a release"},
		{"CentOS Stream 10", osr("CentOS Stream", "10"), Fail, "not a release"},
		{"an unsupported distribution has no supported release", osr("Arch Linux", ""), Fail, "no release of it is"},
		// the script's /etc/debian_version fallback compares the whole text: 12.5 is not 12
		{"debian_version 12.5", testfixture.Change{"/etc/os-release": testfixture.Remove, "/etc/debian_version": "12.5\n"}, Fail, `"12.5" is not a release`},
		{"redhat-release of CentOS 6", testfixture.Change{"/etc/os-release": testfixture.Remove, "/etc/redhat-release": "CentOS release 6.10 (Final)\n"}, Pass, "CentOS Linux 6"},
	})
}
