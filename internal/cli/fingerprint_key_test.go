package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

var fingerprintRe = regexp.MustCompile(`; fingerprint ([0-9a-f]{16}) \(keyed with ([^)]*\)?)\)`)

// checkFingerprints checks the dirty image (credentials in /opt/app/settings.ini and an SSH
// private key) as JSON, returning the fingerprints of no-hardcoded-credentials and the notes.
func checkFingerprints(t *testing.T, args ...string) (fps []string, keyedWith string, notes []string) {
	t.Helper()
	code, out, errs := run(append(args, "--format", "json", testfixture.Path(t, "dirty.raw"))...)
	var r struct {
		Findings []struct {
			Rule     string
			Evidence []struct{ Detail string }
		}
		Notes []string
	}
	if code != ExitViolations || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("%q: %d %s", args, code, errs)
	}
	for _, f := range r.Findings {
		if f.Rule != "no-hardcoded-credentials" {
			continue
		}
		for _, e := range f.Evidence {
			m := fingerprintRe.FindStringSubmatch(e.Detail)
			if m == nil {
				t.Fatalf("evidence without a keyed fingerprint: %q", e.Detail)
			}
			fps, keyedWith = append(fps, m[1]), m[2]
		}
	}
	return fps, keyedWith, r.Notes
}

// A fingerprint says how it was keyed (where the key came from, never the key); an allow-listed
// fingerprint hides its finding; one that matched nothing is named in the notes; a
// --fingerprint-key-env naming an unset variable is refused.
func TestFingerprintKeyAndAllowList(t *testing.T) {
	const key = "ci-secret-fingerprint-key-0123456789"
	t.Setenv("MY_FP_KEY", key)
	fps, keyed, notes := checkFingerprints(t, "--fingerprint-key-env", "MY_FP_KEY")
	if len(fps) < 2 || keyed != "the key from $MY_FP_KEY (--fingerprint-key-env)" {
		t.Fatalf("fingerprints %q keyed with %q", fps, keyed)
	}
	all := strings.Join(notes, "\n")
	if !strings.Contains(all, "credential fingerprints are keyed with the key from $MY_FP_KEY") || strings.Contains(all, key) {
		t.Errorf("notes: %q", notes)
	}
	const stale = "0123456789abcdef"
	fps2, _, notes := checkFingerprints(t, "--fingerprint-key-env", "MY_FP_KEY", "--secrets-allow-fingerprint", fps[0],
		"--secrets-allow-fingerprint", stale)
	if len(fps2) != len(fps)-1 || strings.Contains(strings.Join(fps2, " "), fps[0]) {
		t.Errorf("allowed %s: still %q", fps[0], fps2)
	}
	all = strings.Join(notes, "\n")
	if !strings.Contains(all, "secrets_allow_fingerprints: "+stale+" matched no credential") || strings.Contains(all, fps[0]+" matched") {
		t.Errorf("notes: %q", notes)
	}
	// without the flag: the environment's default variable, then the per-user file
	t.Setenv("MARKETPLACE_FINGERPRINT_KEY", key)
	if _, keyed, _ := checkFingerprints(t); keyed != "the key from $MARKETPLACE_FINGERPRINT_KEY" {
		t.Errorf("default: keyed with %q", keyed)
	}
	if code, _, errs := run("--fingerprint-key-env", "NOT_SET_ANYWHERE", testfixture.Path(t, "dirty.raw")); code != ExitCannot ||
		!strings.Contains(errs, "$NOT_SET_ANYWHERE is not set") {
		t.Errorf("unset variable: %d %q", code, errs)
	}
	if code, _, errs := run("--secrets-allow-fingerprint", "Sup3rS3cret", testfixture.Path(t, "dirty.raw")); code != ExitCannot ||
		!strings.Contains(errs, "is not a fingerprint") {
		t.Errorf("not a fingerprint: %d %q", code, errs)
	}
}

// The key given keys the fingerprints: two keys, two fingerprints of one credential, so that a
// template's fingerprint_key makes them the same on every machine.
func TestFingerprintKeyKeysTheFingerprints(t *testing.T) {
	t.Setenv("KEY_A", "key-a-0123456789abcdef")
	t.Setenv("KEY_B", "key-b-0123456789abcdef")
	a, _, _ := checkFingerprints(t, "--fingerprint-key-env", "KEY_A")
	b, _, _ := checkFingerprints(t, "--fingerprint-key-env", "KEY_B")
	if strings.Join(a, " ") == strings.Join(b, " ") {
		t.Fatalf("two keys gave the same fingerprints %q: the key given does not key them", a)
	}
	a2, _, _ := checkFingerprints(t, "--fingerprint-key-env", "KEY_A")
	if strings.Join(a, " ") != strings.Join(a2, " ") {
		t.Errorf("one key, two fingerprints: %q %q", a, a2)
	}
}
