package cli

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// A Windows image checked without a profile is checked against azure-windows, and the table
// says so; with the Linux profile it is refused once, naming the profile to use, instead of an
// error row per rule.
func TestWindowsImageProfile(t *testing.T) {
	img := testfixture.WindowsImage(t, winimage.Options{Dirty: true, Format: "vpc"})
	code, out, errs := run("--no-content-scan", img)
	if code != ExitViolations || !strings.Contains(out, "Profiles: azure-windows") ||
		!strings.Contains(out, "no profile given: checked against azure-windows") || strings.Contains(out, "no Linux root filesystem") {
		t.Errorf("no profile: %d\n%s%s", code, out, errs)
	}
	code, out, errs = run("--no-content-scan", "--profile", "azure-linux", img)
	if code != ExitCannot || out != "" || strings.Count(errs, "\n") != 1 ||
		!strings.Contains(errs, "profile azure-linux is for linux guests") || !strings.Contains(errs, "--profile azure-windows") {
		t.Errorf("azure-linux on Windows: %d\nstdout %q\nstderr %q", code, out, errs)
	}
	code, _, errs = run("--no-content-scan", "--profile", "alibaba", img)
	if code != ExitCannot || !strings.Contains(errs, "--profile alibaba-windows") {
		t.Errorf("alibaba on Windows: %d %q", code, errs)
	}
	// a Linux image with a Windows profile, and without a profile
	clean := testfixture.Path(t, "clean.vmdk")
	if code, _, errs := run("--profile", "azure-windows", clean); code != ExitCannot || !strings.Contains(errs, "--profile azure-linux") {
		t.Errorf("azure-windows on Linux: %d %q", code, errs)
	}
	if code, out, errs := run(clean); code != ExitCompliant || !strings.Contains(out, "Profiles: azure-linux") || !strings.Contains(out, "checked against azure-linux") {
		t.Errorf("Linux, no profile: %d\n%s%s", code, out, errs)
	}
}
