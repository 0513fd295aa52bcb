package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// An os-release the reader refuses (a line over its 64 KiB bound) is not an unknown release:
// the rules that judge the release ERROR naming the file, they do not pass or skip it.
func TestOSReleaseRefusedMakesTheReleaseRulesError(t *testing.T) {
	long := "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nHOME_URL=\"" + strings.Repeat("x", 70<<10) + "\"\n"
	img := testfixture.Variant(t, testfixture.Change{"/etc/os-release": long, "/usr/lib/os-release": long})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{azureLinux}, Vulnerabilities: plan.VulnChoices{DB: testfixture.OSVRecords(t, testfixture.MarketplaceOSVRecords()...)}})
	for _, id := range []string{"supported-release", "distro-image-config", "security-updates-installed"} {
		f := finding(t, r, id)
		if f.Status != rules.Error || !strings.Contains(f.Message, "os-release") {
			t.Errorf("%s: %s: %s", id, f.Status, f.Message)
		}
	}
	if r.Compliant {
		t.Error("an image whose release could not be read is compliant")
	}
}
