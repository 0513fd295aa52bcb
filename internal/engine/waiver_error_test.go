package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A waiver written for a known false positive of no-hardcoded-credentials used to turn "could
// not inspect everything" (a directory nested deeper than the walk follows, a secret below it)
// into COMPLIANT. A waiver covers a failure or a warning, never an error: the finding stays an
// error, blocks, carries no waiver, and a note says the waiver did not cover it.
func TestWaiverNeverCoversAnError(t *testing.T) {
	deep := "/srv/" + strings.Repeat("d/", 140)
	img := testfixture.Variant(t, testfixture.With(testfixture.UFW(), testfixture.Change{deep + "app.env": plantedSecrets}))
	cfg := plan.Choices{Profiles: []string{"azure-linux"}, Waivers: []plan.Waiver{
		{Rule: "no-hardcoded-credentials", Reason: "the test key in /opt/app is a public demo key"},
		{Rule: "firewall-disabled", Reason: "the appliance filters its own management port"},
	}}
	r := mustCheck(t, img, cfg)
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || !f.Blocking || f.Waiver != nil || r.Compliant {
		t.Fatalf("a waived error: %s, blocking %v, waiver %+v, compliant %v", f.Status, f.Blocking, f.Waiver, r.Compliant)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "waiver for no-hardcoded-credentials does not cover its error") {
		t.Errorf("no note says the waiver did not apply: %q", r.Notes)
	}
	// the same plan still waives a failure
	if fw := finding(t, r, "firewall-disabled"); fw.Status != rules.Waived || fw.Blocking || fw.Waiver == nil {
		t.Errorf("a waived failure: %s, blocking %v", fw.Status, fw.Blocking)
	}
	if len(r.Blocking()) != 1 || r.Blocking()[0].Rule != "no-hardcoded-credentials" {
		t.Errorf("blocking %v", r.Blocking())
	}
}

// A waiver covers a warning as it covers a failure (the kernel command line of the fixture
// below only warns).
func TestWaiverCoversAWarning(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{
		"/boot/grub/grub.cfg": "set default=0\nmenuentry 'Debian GNU/Linux' {\n" +
			"\tlinux\t/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=ttyS0 quiet splash\n" +
			"\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n",
	})
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	if f := finding(t, mustCheck(t, img, cfg), "kernel-cmdline"); f.Status != rules.Warn {
		t.Skipf("kernel-cmdline is %s on this fixture, not a warning: %s", f.Status, f.Message)
	}
	cfg.Waivers = []plan.Waiver{{Rule: "kernel-cmdline", Reason: "the serial console is configured by the platform"}}
	if f := finding(t, mustCheck(t, img, cfg), "kernel-cmdline"); f.Status != rules.Waived || f.Waiver == nil {
		t.Errorf("a waived warning: %s", f.Status)
	}
}
