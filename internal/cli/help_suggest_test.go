package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A misspelled rule in a waiver or a misspelled profile is answered with the closest names and
// where to find them all.
func TestMisspellingsSuggested(t *testing.T) {
	clean := testfixture.Path(t, "clean.raw")
	code, out, errs := run("--waive", "firewal-disabled=the appliance filters its port", clean)
	if code != ExitCannot || out != "" || !strings.Contains(errs, `waiver for unknown rule "firewal-disabled" (did you mean "firewall-disabled"?)`) ||
		!strings.Contains(errs, "packer-plugin-marketplace rules") {
		t.Errorf("rule: %d %q", code, errs)
	}
	if code, _, errs := run("--profile", "azure-windos", clean); code != ExitCannot || !strings.Contains(errs, `unknown profile "azure-windos" (did you mean "azure-windows"?)`) {
		t.Errorf("profile: %d %q", code, errs)
	}
	var o, e bytes.Buffer
	if code := Rules([]string{"--profile", "alibab"}, &o, &e); code != ExitCannot || !strings.Contains(e.String(), `did you mean "alibaba"?`) {
		t.Errorf("rules: %d %q", code, e.String())
	}
	o.Reset()
	e.Reset()
	if code := Harden([]string{"--profile", "azure-lnux", "--print-script"}, &o, &e); code != ExitCannot || !strings.Contains(e.String(), `did you mean "azure-linux"?`) {
		t.Errorf("harden: %d %q", code, e.String())
	}
}
