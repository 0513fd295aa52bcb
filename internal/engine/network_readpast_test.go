package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 26, ifupdown's ReadPast end to end: an error in a sourced file ends ifup's reading of
// that file and ifup goes on. The verdicts are ifup's (a hwaddress after the error is not
// configuration, so nothing is pinned; eth0's stanza in another file still brings it up), and
// the report shows the error as a note naming the file and line.
func TestIfupdownReadPastIsShown(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	base := testfixture.Change{
		"/etc/netplan/50-cloud-init.yaml": testfixture.Remove,
		"/etc/network/interfaces":         "auto lo\niface lo inet loopback\nsource interfaces.d/*\n",
		"/etc/network/interfaces.d/eth0":  "auto eth0\niface eth0 inet dhcp\n",
	}
	for _, tc := range []struct {
		name   string
		vendor string
		mac    rules.Status
		note   bool
	}{
		{"an error ifup reads past hides the hwaddress after it", "iface eth1 inet bogus\n    hwaddress 00:15:5d:00:00:09\n", rules.Pass, true},
		{"without the error the hwaddress is read", "iface eth1 inet dhcp\n    hwaddress 00:15:5d:00:00:09\n", rules.Fail, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCheck(t, testfixture.Variant(t, testfixture.With(base, testfixture.Change{"/etc/network/interfaces.d/vendor": tc.vendor})), cfg)
			mac := finding(t, r, "no-mac-pinned-network")
			if mac.Status != tc.mac {
				t.Errorf("no-mac-pinned-network %s, want %s: %s %+v", mac.Status, tc.mac, mac.Message, mac.Evidence)
			}
			if got := hasEvidence(mac, "/etc/network/interfaces.d/vendor", 1, `note: ifup reads past this and ignores the rest of the file: iface eth1: unknown inet method "bogus"`); got != tc.note {
				t.Errorf("no-mac-pinned-network: the note shown %v, want %v: %+v", got, tc.note, mac.Evidence)
			}
			if f := finding(t, r, "first-nic-dhcp"); f.Status != rules.Pass {
				t.Errorf("first-nic-dhcp %s: %s %+v", f.Status, f.Message, f.Evidence)
			} else if got := hasEvidence(f, "/etc/network/interfaces.d/vendor", 1, "note: ifup reads past this"); got != tc.note {
				t.Errorf("first-nic-dhcp: the note shown %v, want %v: %+v", got, tc.note, f.Evidence)
			}
			assertNoNoteWithoutError(t, r, tc.note)
		})
	}
}

// assertNoNoteWithoutError: no finding carries an ifup note when nothing was read past.
func assertNoNoteWithoutError(t *testing.T, r *report.Report, want bool) {
	t.Helper()
	if want {
		return
	}
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if strings.Contains(e.Detail, "ifup reads past") {
				t.Errorf("%s: a note with nothing read past: %+v", f.Rule, e)
			}
		}
	}
}
