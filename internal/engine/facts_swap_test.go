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
