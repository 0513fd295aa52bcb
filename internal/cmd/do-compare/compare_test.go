package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/cli"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// oursOn runs `check --profile digitalocean --format json` in process on an image, judging
// security updates with the test advisory the oracle's apt archive mirrors.
func oursOn(t *testing.T, img, osvDir string) Ours {
	t.Helper()
	var out, errb bytes.Buffer
	cli.Check([]string{"--profile", "digitalocean", "--format", "json", "--vulnerability-db", osvDir, img}, &out, &errb)
	o, err := ReadOurs(out.Bytes())
	if err != nil {
		t.Fatalf("%s: %v\n%s", img, err, errb.String())
	}
	return o
}

// TestPageMatchesOurVerdicts: docs/digitalocean.md, which `make digitalocean` wrote from a run
// of DigitalOcean's script, is what Page makes of the script's recorded verdicts and of our
// verdicts now, byte for byte. A rule whose verdict on a fixture changed fails here, and so does
// a new difference from the script that no reason explains (Page refuses it). No checkout of
// DigitalOcean's repository is needed: the page records the script's verdicts.
func TestPageMatchesOurVerdicts(t *testing.T) {
	p := filepath.Join(testfixture.RepoRoot(), "docs", "digitalocean.md")
	committed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	run, err := ReadRecord(string(committed))
	if err != nil {
		t.Fatal(err)
	}
	images, osvDir := oracleImages(t)
	ours := map[string]Ours{}
	for name, img := range images {
		ours[name] = oursOn(t, img, osvDir)
	}
	page, err := Page(run, ours)
	if err != nil {
		t.Fatalf("our verdicts no longer match the recorded run of DigitalOcean's script:\n%v", err)
	}
	if page != string(committed) {
		t.Errorf("%s is stale: run `make digitalocean DO_SRC=<checkout>` (or, for a change of wording only, regenerate it); first difference at byte %d", p, firstDiff(page, string(committed)))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// oracleImages are the images the comparison judges, by their names in Images, and the
// vulnerability data to judge them with (the test advisories the oracle's apt archive mirrors).
// `make digitalocean` gets the same images from TestWriteOracleImages (-tags digitalocean).
func oracleImages(t testing.TB) (map[string]string, string) {
	t.Helper()
	images := map[string]string{
		"clean":         testfixture.Path(t, "clean.raw"),
		"dirty":         testfixture.Path(t, "dirty.raw"),
		"script-quirks": testfixture.Variant(t, testfixture.DigitalOceanScriptQuirks),
	}
	for _, f := range testfixture.MarketplaceFixtures(t) {
		if f.Profile == "digitalocean" {
			images["digitalocean-clean"], images["digitalocean-dirty"] = f.CleanDisk(t), f.DirtyDisk(t)
		}
	}
	for _, im := range Images {
		if images[im.Name] == "" {
			t.Fatalf("no %s image", im.Name)
		}
	}
	return images, testfixture.OSVRecords(t, testfixture.MarketplaceOSVRecords()...)
}

// a transcript as the script prints it: colours, sections, file contents after a verdict
func transcript(lines ...string) string {
	return "\x1b[1mDistribution:\x1b[0m Debian\n" + strings.Join(lines, "\n") + "\nScan Complete.\n"
}

func TestParseTranscript(t *testing.T) {
	base := []string{
		"\x1b[32m[PASS]\x1b[0m Supported Operating System Detected: Debian GNU/Linux",
		"\x1b[32m[PASS]\x1b[0m Supported Release Detected: 12",
		"\x1b[41m[FAIL]\x1b[0m No valid verison of cloud-init was found.",
		"\x1b[93m[WARN]\x1b[0m No firewall is configured. Ensure iptables is installed and configured",
		"\x1b[32m[PASS]\x1b[0m There are no pending security updates for this image.",
		"\x1b[93m[WARN]\x1b[0m un-cleared log file, /var/log/x.log found; Contents:",
		"[FAIL] pasted content that looks like a verdict line is still a line",
	}
	_, err := ParseTranscript(transcript(base...))
	if err == nil || !strings.Contains(err.Error(), "no known check") {
		t.Fatalf("an unknown verdict line: %v", err)
	}
	base = base[:len(base)-1]
	users := []string{
		"Checking all user-created accounts...",
		"\x1b[41m[FAIL]\x1b[0m User tester has a password set on their account.",
		"\x1b[32m[ OK ]\x1b[0m User tester has no SSH keys present",
		"\x1b[32m[PASS]\x1b[0m tester's Bash History appears to have been cleared",
		"Checking the root account...",
		"\x1b[32m[PASS]\x1b[0m User root has no password set.",
		"\x1b[93m[WARN]\x1b[0m User root has a file in their .ssh directory at /root/.ssh/config",
		"\x1b[41m[FAIL]\x1b[0m root's Bash History should be cleared",
		"\x1b[32m[PASS]\x1b[0m DigitalOcean Monitoring agent was not found",
	}
	v, err := ParseTranscript(transcript(append(append([]string{}, base...), users...)...))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"os": "pass", "release": "pass", "cloud-init": "fail", "firewall": "warn", "updates": "pass", "logs": "warn",
		"users-password": "fail", "root-password": "pass", "authorized-keys": "pass", "private-key": "pass", "known-hosts": "pass",
		"ssh-other": "warn", "bash-history": "fail", "agent": "pass"}
	for k, s := range want {
		if v[k].Status != s {
			t.Errorf("%s: %+v, want %s", k, v[k], s)
		}
	}
	if len(v) != len(Checks) {
		t.Errorf("%d verdicts for %d checks", len(v), len(Checks))
	}
	// a check that only reports problems and printed none passes, silently; one that always
	// reports and did not is an error
	v, err = ParseTranscript(transcript(append(append([]string{}, base[:5]...), users...)...))
	if err != nil || !v["logs"].Silent || v["logs"].Status != "pass" {
		t.Errorf("no log line: %+v %v", v["logs"], err)
	}
	if _, err := ParseTranscript(transcript(append(append([]string{}, base[1:]...), users...)...)); err == nil || !strings.Contains(err.Error(), "Supported Operating System") {
		t.Errorf("no OS verdict: %v", err)
	}
	if _, err := ParseTranscript(strings.TrimSuffix(transcript(base...), "Scan Complete.\n")); err == nil || !strings.Contains(err.Error(), "summary") {
		t.Errorf("a run that stopped: %v", err)
	}
	// a password verdict must be placed: root's or a user's
	if _, err := ParseTranscript(transcript(append(append([]string{}, base...), "[PASS] User x has no password set.")...)); err == nil {
		t.Error("a password verdict outside the sections was placed")
	}
}

func TestRowsRefuseWhatIsNotExplained(t *testing.T) {
	all := func(status string) map[string]Verdict {
		m := map[string]Verdict{}
		for _, c := range Checks {
			m[c.Key] = Verdict{Status: status}
		}
		return m
	}
	ours := func(status string) Ours {
		o := Ours{}
		for _, c := range Checks {
			for _, r := range c.Rules {
				o[r] = status
			}
		}
		return o
	}
	var run Run
	each := func(o Ours) map[string]Ours {
		m := map[string]Ours{}
		for _, im := range Images {
			m[im.Name] = ours("pass")
		}
		m["clean"] = o
		return m
	}
	for _, im := range Images {
		run.Images = append(run.Images, ImageRun{im.Name, all("pass")})
	}
	// everything agrees, but the documented reasons then describe differences that are gone
	_, err := Rows(run, each(ours("pass")))
	if err == nil || !strings.Contains(err.Error(), "now agrees with the script, but a difference is documented") {
		t.Errorf("stale reasons: %v", err)
	}
	o := ours("pass")
	o["do-agent-removed"] = "fail"
	_, err = Rows(run, each(o))
	if err == nil || !strings.Contains(err.Error(), "clean, DigitalOcean directory detected: the script says pass, do-agent-removed says fail, and no reason is documented") {
		t.Errorf("an unexplained difference: %v", err)
	}
	delete(o, "do-agent-removed")
	_, err = Rows(run, each(o))
	if err == nil || !strings.Contains(err.Error(), "no finding of do-agent-removed") {
		t.Errorf("a rule missing from our report: %v", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	if _, err := ReadRecord("no record"); err == nil {
		t.Error("a page with no record was read")
	}
	if _, err := ReadRecord(recordStart + `{"commit": "0000", "images": []}` + recordEnd); err == nil || !strings.Contains(err.Error(), "not "+ScriptCommit) {
		t.Errorf("another commit: %v", err)
	}
	if _, err := ReadRecord(recordStart + `{"commit": "` + ScriptCommit + `", "images": [{"name": "clean", "verdicts": {"nosuch": {"status": "pass"}}}]}` + recordEnd); err == nil {
		t.Error("an unknown check was read")
	}
}

// TestExtract: the tree the script runs in is the image's as the readers see it: the XFS root
// with /boot (ext2) and the ESP (vfat) mounted from fstab, links and modes kept.
func TestExtract(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "root")
	if _, err := extract(testfixture.Path(t, "clean.raw"), dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "etc", "os-release")); err != nil || !strings.Contains(string(b), `VERSION_ID="12"`) {
		t.Errorf("os-release: %v %q", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "boot", "grub", "grub.cfg")); err != nil {
		t.Errorf("/boot is not mounted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "boot", "efi", "EFI", "debian", "grub.cfg")); err != nil {
		t.Errorf("the ESP is not mounted: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin")); err != nil || l != "usr/bin" {
		t.Errorf("/bin: %q %v", l, err)
	}
	// the ext4 root of the dirty image keeps /tmp's sticky bit (the clean image's XFS was made
	// from a prototype file, which has none)
	dirty := filepath.Join(t.TempDir(), "dirty")
	if _, err := extract(testfixture.Path(t, "dirty.raw"), dirty); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dirty, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/tmp: %v %v", fi.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dirty, "root", ".bash_history")); err != nil || !bytes.Contains(b, []byte("build-dep-40")) {
		t.Errorf("root's history: %v", err)
	}
	if _, err := extract(filepath.Join(t.TempDir(), "none.raw"), dir); err == nil {
		t.Error("a missing image was extracted")
	}
}

// FuzzParseTranscript: the script's output holds the image's own files (it prints the logs and
// keys it finds); no output makes the parser panic, and what it accepts has a verdict for every
// check, each pass, warn or fail.
func FuzzParseTranscript(f *testing.F) {
	f.Add(transcript("[PASS] Supported Operating System Detected: Debian", "[PASS] Supported Release Detected: 12",
		"[PASS] Cloud-init is installed.", "[WARN] No firewall is configured.", "[PASS] There are no pending security updates for this image.",
		"Checking the root account...", "[PASS] User root has no password set.", "[PASS] The Root User's Bash History is not present",
		"[PASS] DigitalOcean Monitoring agent was not found"))
	f.Add(transcript("\x1b[41m[FAIL]\x1b[0m x is not a supported Operating System"))
	f.Add("[FAIL]  \n[ OK ] \x1b[\nScan Complete")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ParseTranscript(text)
		if err != nil {
			return
		}
		if len(v) != len(Checks) {
			t.Fatalf("%d verdicts for %d checks", len(v), len(Checks))
		}
		for k, x := range v {
			if _, ok := rank[x.Status]; !ok {
				t.Fatalf("%s: status %q", k, x.Status)
			}
		}
	})
}

// FuzzReadRecord: a page's record is read or refused, never a panic.
func FuzzReadRecord(f *testing.F) {
	f.Add(recordStart + `{"commit": "` + ScriptCommit + `", "images": [{"name": "clean", "verdicts": {"os": {"status": "pass"}}}]}` + recordEnd)
	f.Add(recordStart + "{" + recordEnd)
	f.Fuzz(func(t *testing.T, page string) {
		run, err := ReadRecord(page)
		if err == nil && run.Commit != ScriptCommit {
			t.Fatalf("commit %q accepted", run.Commit)
		}
	})
}
