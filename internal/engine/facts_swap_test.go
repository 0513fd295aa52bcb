package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 26, fstab and swap as libmount and systemd read them: "/swap#1 none swap sw 0 0" is a
// swap line (a '#' inside a field is not a comment), and a .swap unit linked from a vendor
// directory's swap.target.wants/ is started at boot. internal/sysconf's
// TestFstabMatchesLibmount holds the fstab reader to findmnt.
func TestFactsSwapAsLibmountAndSystemdReadIt(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	const fstab = "# /etc/fstab\nUUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 defaults 0 1\n/swap#1 none swap sw 0 0\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{"/etc/fstab": fstab, "/swap#1": "not really swap\n"}), cfg)
	f := finding(t, r, "no-swap")
	if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, "/etc/fstab", 3, "/swap#1") {
		t.Errorf("fstab /swap#1: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}

	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system", "/etc/systemd/system"} {
		link := dir + "/swap.target.wants/swapfile.swap"
		r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
			"/usr/lib/systemd/system/swapfile.swap": "[Swap]\nWhat=/swapfile\n",
			link:                                    "-> ../swapfile.swap",
		}), cfg)
		f := finding(t, r, "no-swap")
		if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, link, 0, "swapfile.swap") {
			t.Errorf("%s: %s: %s %+v", link, f.Status, f.Message, f.Evidence)
		}
	}
}

// An fstab line over the reader's bound is not cut and judged: no-swap errors, naming the
// file and the line.
func TestFactsFstabLineOverBoundErrors(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	long := "/swapfile none swap sw" + strings.Repeat(",pri=1", 12<<10) + " 0 0\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/fstab": "UUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 defaults 0 1\n" + long,
	}), cfg)
	f := finding(t, r, "no-swap")
	if f.Status != rules.Error || !strings.Contains(f.Message, "/etc/fstab") || !strings.Contains(f.Message, "line 2") || r.Compliant {
		t.Errorf("no-swap: %s: %s", f.Status, f.Message)
	}
}

// Issue 26, swap as systemd starts it: a unit boot starts (linked from multi-user.target.wants)
// that Wants= a .swap unit no wants directory links, a service whose ExecStart runs swapon, one
// whose sh -c runs it, and one whose script does. Each fails no-swap naming the file and line.
func TestFactsSwapThroughUnitsBootStarts(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	const wants = "/etc/systemd/system/multi-user.target.wants/"
	for _, tc := range []struct {
		name    string
		change  testfixture.Change
		path    string
		line    int
		contain string
	}{
		{"Wants= a swap unit", testfixture.Change{
			"/etc/systemd/system/swapfile.swap":      "[Swap]\nWhat=/swapfile\n",
			"/etc/systemd/system/setup-swap.service": "[Unit]\nDescription=swap\nWants=network.target swapfile.swap\n\n[Service]\nExecStart=/bin/true\n",
			wants + "setup-swap.service":             "-> ../setup-swap.service",
		}, "/etc/systemd/system/setup-swap.service", 3, "swap unit swapfile.swap"},
		{"Requires= in a drop-in", testfixture.Change{
			"/usr/lib/systemd/system/swapfile.swap":                   "[Swap]\nWhat=/swapfile\n",
			"/etc/systemd/system/walinuxagent.service.d/10-swap.conf": "[Unit]\nRequires=swapfile.swap\n",
		}, "/etc/systemd/system/walinuxagent.service.d/10-swap.conf", 2, "swap unit swapfile.swap"},
		{"ExecStart=swapon", testfixture.Change{
			"/etc/systemd/system/mkswap.service": "[Service]\nType=oneshot\nExecStart=-/sbin/swapon /swapfile\n",
			wants + "mkswap.service":             "-> ../mkswap.service",
		}, "/etc/systemd/system/mkswap.service", 3, "runs swapon"},
		{"sh -c swapon", testfixture.Change{
			"/etc/systemd/system/mkswap.service": "[Service]\nType=oneshot\nExecStartPost=/bin/sh -c \"fallocate -l 1G /swapfile && swapon /swapfile\"\n",
			wants + "mkswap.service":             "-> ../mkswap.service",
		}, "/etc/systemd/system/mkswap.service", 3, "runs swapon"},
		{"a script that runs swapon", testfixture.Change{
			"/usr/local/sbin/mkswap.sh":          "#!/bin/sh\n# make swap\nfallocate -l 1G /swapfile\nmkswap /swapfile\nswapon /swapfile\n",
			"/etc/systemd/system/mkswap.service": "[Service]\nExecStart=/usr/local/sbin/mkswap.sh\n",
			wants + "mkswap.service":             "-> ../mkswap.service",
		}, "/usr/local/sbin/mkswap.sh", 5, "runs swapon"},
	} {
		r := mustCheck(t, testfixture.Variant(t, tc.change), cfg)
		f := finding(t, r, "no-swap")
		if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, tc.path, tc.line, tc.contain) {
			t.Errorf("%s: %s: %s %+v", tc.name, f.Status, f.Message, f.Evidence)
		}
	}
	// not started at boot: a unit that wants swap but that nothing links
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		"/etc/systemd/system/swapfile.swap":      "[Swap]\nWhat=/swapfile\n",
		"/etc/systemd/system/setup-swap.service": "[Unit]\nWants=swapfile.swap\n[Service]\nExecStart=/sbin/swapon -a\n[Install]\nWantedBy=multi-user.target\n",
	}), cfg)
	if f := finding(t, r, "no-swap"); f.Status != rules.Pass {
		t.Errorf("a disabled unit: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}

// Issue 26, cloud-init's swap: as cloud-init reads it: a quoted "swap": key, a filename that
// contains "null", flow style and an alias, and the merge of cloud.cfg.d (the last file by name
// wins a key; a null filename or a size of 0 creates none).
func TestFactsSwapAsCloudInitReadsIt(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	const d = "/etc/cloud/cloud.cfg.d/"
	for _, tc := range []struct {
		name  string
		files testfixture.Change
		want  rules.Status
		path  string
		line  int
	}{
		{"quoted key", testfixture.Change{d + "90-swap.cfg": "#cloud-config\n\"swap\":\n  filename: /swapfile\n  size: 2G\n"}, rules.Fail, d + "90-swap.cfg", 2},
		{"a filename containing null", testfixture.Change{d + "90-swap.cfg": "swap:\n  filename: /swapnull.img\n  size: auto\n  maxsize: 4G\n"}, rules.Fail, d + "90-swap.cfg", 1},
		{"flow style and an alias", testfixture.Change{d + "90-swap.cfg": "base: &s {filename: /var/swap, size: 1073741824}\n'swap': *s\n"}, rules.Fail, d + "90-swap.cfg", 2},
		{"a later file wins", testfixture.Change{d + "10-a.cfg": "swap: {size: 0}\n", d + "99-b.cfg": "swap:\n  size: 1G\n"}, rules.Fail, d + "99-b.cfg", 1},
		{"a duplicate key, the last wins", testfixture.Change{d + "90-swap.cfg": "swap: {size: 0}\nswap: {size: 1G}\n"}, rules.Fail, d + "90-swap.cfg", 1},
		{"null filename", testfixture.Change{d + "90-swap.cfg": "swap:\n  filename: null\n  size: 2G\n"}, rules.Pass, "", 0},
		{"size 0 in the file that wins", testfixture.Change{d + "10-a.cfg": "swap:\n  size: 2G\n", d + "99-b.cfg": "swap: {size: 0}\n"}, rules.Pass, "", 0},
		{"a comment is not a setting", testfixture.Change{d + "90-swap.cfg": "# swap:\n#   size: 2G\nmounts: []\n"}, rules.Pass, "", 0},
	} {
		r := mustCheck(t, testfixture.Variant(t, tc.files), cfg)
		f := finding(t, r, "no-swap")
		if f.Status != tc.want || tc.want == rules.Fail && (r.Compliant || !hasEvidence(f, tc.path, tc.line, "cloud-init swap")) {
			t.Errorf("%s: %s, want %s: %s %+v", tc.name, f.Status, tc.want, f.Message, f.Evidence)
		}
	}
	// what PyYAML refuses (a tab before a token) is not guessed at: the rule errors, naming the file
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{d + "90-swap.cfg": "swap:\n\tsize: 2G\n"}), cfg)
	if f := finding(t, r, "no-swap"); f.Status != rules.Error || !strings.Contains(f.Message, d+"90-swap.cfg") || !strings.Contains(f.Message, "line 2") {
		t.Errorf("a tab: %s: %s", f.Status, f.Message)
	}
}
