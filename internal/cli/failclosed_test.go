package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const plantedSecrets = "AWS_ACCESS_KEY_ID=AKIAZ4QK7W2N5XR3TY6P\npassword = Sup3rS3cretPassw0rd\n"

// Issue 25.1: a waiver for the credential rule does not turn "could not inspect everything"
// into COMPLIANT: the rule stays an error and the check exits 2.
func TestWaiverDoesNotHideAnError(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/srv/" + strings.Repeat("d/", 140) + "app.env": plantedSecrets})
	code, out, errs := run("--waive", "no-hardcoded-credentials=a known false positive in /opt/app", img)
	if code != ExitCannot || !strings.Contains(out, "NOT COMPLIANT") || !strings.Contains(errs, "rule no-hardcoded-credentials could not be evaluated") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "does not cover its error") {
		t.Errorf("the output does not say the waiver did not apply:\n%s", out)
	}
}

// Issue 25.2: a reason of invisible characters or punctuation alone is refused before any
// image is read, naming the waiver.
func TestInvisibleReasonRefused(t *testing.T) {
	img := testfixture.Path(t, "clean.raw")
	for _, reason := range []string{"\u200b", "\u200b\u2060", "...", " - "} {
		code, out, errs := run("--waive", "no-hardcoded-credentials="+reason, img)
		if code != ExitCannot || out != "" || !strings.Contains(errs, `"no-hardcoded-credentials"`) ||
			!strings.Contains(errs, "no visible letters or digits") && !strings.Contains(errs, "has no reason") {
			t.Errorf("reason %+q: exit %d\n%s%s", reason, code, out, errs)
		}
	}
}

// Issue 25.3: `check --json disk.raw disk.raw` used to truncate the image to the JSON report;
// two reports at one path kept only one. Both are refused before anything is read or written,
// naming the flags, also through a symlink and a symlinked directory; across images too.
func TestReportPathsRefused(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.raw")
	orig, err := os.ReadFile(testfixture.Path(t, "clean.raw"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(img, orig, 0o644)
	os.Symlink(img, filepath.Join(dir, "disk-link.raw"))
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	os.Symlink(dir, filepath.Join(dir, "out", "up"))
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "x.raw"), orig, 0o644)
	os.WriteFile(filepath.Join(dir, "b", "x.raw"), orig, 0o644)
	r := filepath.Join(dir, "r.json")
	cases := map[string]struct {
		args []string
		want []string
	}{
		"json is the image":         {[]string{"--json", img, img}, []string{"--json", "destroy the image"}},
		"sbom is the image":         {[]string{img, "--sbom", img}, []string{"--sbom", "destroy the image"}},
		"through a symlink":         {[]string{"--sarif", filepath.Join(dir, "disk-link.raw"), img}, []string{"--sarif", "destroy the image"}},
		"through a symlinked dir":   {[]string{"--junit", filepath.Join(dir, "out", "up", "disk.raw"), img}, []string{"--junit", "destroy the image"}},
		"two reports, one path":     {[]string{"--json", r, "--sarif", r, img}, []string{"--sarif", "--json", "overwrite the other"}},
		"not yet there, via a link": {[]string{"--json", r, "--mscert", filepath.Join(dir, "out", "up", "r.json"), img}, []string{"--mscert", "--json"}},
		"manifest over a report":    {[]string{"--json", r, "--integrity-manifest", r, img}, []string{"--integrity-manifest", "--json"}},
		"cannot be created":         {[]string{"--json", "/proc/nope/m.json", img}, []string{"--json", "/proc/nope/m.json", "cannot create a file in /proc"}},
		"per image, one name":       {[]string{"--json", r, filepath.Join(dir, "a", "x.raw"), filepath.Join(dir, "b", "x.raw")}, []string{"r-x.json", "overwrite the other"}},
	}
	for name, c := range cases {
		start := time.Now()
		code, out, errs := run(c.args...)
		if code != ExitCannot || strings.Contains(out, "Verdict") {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: %q does not say %q", name, errs, w)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: refused after %s (the image was read?)", name, d)
		}
	}
	if b, _ := os.ReadFile(img); !bytes.Equal(b, orig) {
		t.Fatal("the image changed")
	}
	if _, err := os.Stat(r); err == nil {
		t.Error("a refused check wrote a report")
	}
	// distinct paths are written, each whole, and nothing else is left in the directory
	sarif := filepath.Join(dir, "r.sarif")
	if code, _, errs := run("--quiet", "--json", r, "--sarif", sarif, img); code != ExitCompliant {
		t.Fatalf("distinct reports: exit %d %s", code, errs)
	}
	for _, f := range []string{r, sarif} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// Issue 25.8: a server that ignores Range (200 from byte 0) or answers another range is an
// error naming the blob without its SAS and the range, never a verdict; an http:// SAS URL is
// refused before any request.
func TestRemoteReadsVerified(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	url := az.UploadPageBlob(t, "vhds", "verify.vhd", testfixture.Path(t, "clean-fixed.vhd"))
	for name, proxy := range map[string]*testfixture.FaultProxy{
		"ignores Range": testfixture.NewRangeIgnoringProxy(t, az.Endpoint),
		"another range": testfixture.NewWrongRangeProxy(t, az.Endpoint),
	} {
		code, out, errs := run("--no-content-scan", proxy.Via(t, url))
		if code != ExitCannot || strings.Contains(out, "COMPLIANT") || !strings.Contains(errs, "verify.vhd") ||
			!strings.Contains(errs, "reading bytes 0-") || strings.Contains(errs+out, "sig=") || proxy.Faults.Load() == 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
	}
	if code, out, errs := run("--no-content-scan", url); code != ExitCompliant {
		t.Errorf("direct: exit %d\n%s%s", code, out, errs)
	}
	start := time.Now()
	code, out, errs := run("http://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIGNATURE")
	if code != ExitCannot || !strings.Contains(errs, "clear text") || strings.Contains(out+errs, "SECRETSIGNATURE") || time.Since(start) > 5*time.Second {
		t.Errorf("http SAS URL: exit %d after %s\n%s%s", code, time.Since(start), out, errs)
	}
}

// Issue 25.7: cancelling the command (SIGINT, SIGTERM cancel its context) stops a blob check
// stalled in a silent response at once: exit 2 with the cancellation, no verdict.
func TestCancelStopsTheCommand(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	url := az.UploadPageBlob(t, "vhds", "cancel.vhd", testfixture.Path(t, "clean-fixed.vhd"))
	proxy := testfixture.NewStallingProxy(t, az.Endpoint, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for proxy.Cuts.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb bytes.Buffer
	start := time.Now()
	code := CheckContext(ctx, []string{proxy.Via(t, url), testfixture.Path(t, "clean.raw")}, &out, &errb)
	if code != ExitCannot || !strings.Contains(errb.String(), "context canceled") || strings.Contains(out.String(), "COMPLIANT") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "clean.raw: not checked") {
		t.Errorf("the second image was checked after the cancellation:\n%s", errb.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
}

// SIGTERM (as SIGINT) reaches the check: the command stalled on a blob returns exit 2 at once.
func TestSignalStopsTheCommand(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	url := az.UploadPageBlob(t, "vhds", "signal.vhd", testfixture.Path(t, "clean-fixed.vhd"))
	proxy := testfixture.NewStallingProxy(t, az.Endpoint, false)
	go func() {
		for proxy.Cuts.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		// the check is under way, so its handler is installed: the signal cancels it
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	start := time.Now()
	code, out, errs := run(proxy.Via(t, url))
	if code != ExitCannot || !strings.Contains(errs, "terminated signal received") || strings.Contains(out, "COMPLIANT") || time.Since(start) > 30*time.Second {
		t.Errorf("exit %d after %s\n%s%s", code, time.Since(start), out, errs)
	}
}
