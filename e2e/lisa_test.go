//go:build lisa

package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// notRunHere are the cases scripts/lisa-run.sh leaves out, and why.
var notRunHere = map[string]string{
	"verify_os_update":                "not run here: it upgrades the guest from the mirror and reboots it; its result is the mirror's",
	"verify_repository_installed":     "not run here: it judges the mirror's answer to a package index refresh",
	"verify_boot_error_fail_warnings": "not run here: it reads the kernel log, flaky under TCG emulation",
}

// decidedHere are the cases LISA runs on the Debian guest: each must pass.
var decidedHere = map[string]bool{"verify_default_targetpw": true, "verify_grub": true, "verify_serial_console_is_enabled": true,
	"verify_bash_history_is_empty": true, "verify_client_active_interval": true, "verify_no_pre_exist_users": true,
	"verify_essential_kernel_modules": true, "verify_python_version": true, "verify_openssl_version": true,
	"verify_azure_64bit_os": true, "verify_omi_version": true, "verify_no_swap_on_osdisk": true}

// lisaOnly are the cases LISA declares for the azure and qemu platforms only, run in the second
// pass with the ready platform registered as qemu.
var lisaOnly = map[string]bool{"verify_python_version": true, "verify_openssl_version": true, "verify_azure_64bit_os": true,
	"verify_omi_version": true, "verify_no_swap_on_osdisk": true}

// TestLISAAgreement is `make lisa`: it hardens the guest as `make testacc` does, runs Microsoft's
// AzureImageStandard suite (LISA) against a booted copy (scripts/lisa-run.sh), and compares
// each case LISA decides with the certification result our rules predict on the same disk. The
// hardened guest must pass every case LISA runs, and every case must agree. With LISA_RECORD=1
// it writes docs/lisa-run.json, which docs/certification.md renders.
func TestLISAAgreement(t *testing.T) {
	src, deps := os.Getenv("LISA_SRC"), os.Getenv("LISA_DEPS")
	disk, reportPath := os.Getenv("LISA_DISK"), os.Getenv("LISA_REPORT")
	if disk == "" {
		out, prefix, err := qemuBuild(t, "marketplace")
		if err != nil {
			t.Fatalf("hardening the guest: %v\n%s", err, out)
		}
		disk, reportPath = filepath.Join(prefix, "disk.qcow2"), filepath.Join(prefix+"-reports", "marketplace-check.json")
	}
	var ours struct {
		Compliant bool
		Findings  []struct {
			Rule, Status           string
			PredictedCertification string `json:"predicted_certification"`
		}
	}
	b, err := os.ReadFile(reportPath)
	if err != nil || json.Unmarshal(b, &ours) != nil {
		t.Fatalf("our report %s: %v", reportPath, err)
	}
	if !ours.Compliant {
		t.Fatalf("the hardened guest is not compliant in our own check: %s", reportPath)
	}
	status, predicted := map[string]string{}, map[string]string{}
	for _, f := range ours.Findings {
		status[f.Rule] = f.Status
		predicted[f.Rule] = f.PredictedCertification
		if predicted[f.Rule] == "" {
			predicted[f.Rule] = map[string]string{"pass": "Passed", "warn": "Warning", "fail": "Failed", "not-applicable": "NotApplicable"}[f.Status]
		}
	}

	out := filepath.Join(t.TempDir(), "lisa")
	if dir := os.Getenv("LISA_OUT"); dir != "" {
		out = dir
	}
	start := time.Now()
	cmd := exec.Command(filepath.Join(testfixture.RepoRoot(), "scripts", "lisa-run.sh"), disk, out)
	cmd.Env = append(os.Environ(), "LISA_SRC="+src, "LISA_DEPS="+deps)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/lisa-run.sh: %v", err)
	}
	results := map[string]junitCase{}
	platform := map[string]string{}
	for _, run := range []string{"ready", "qemu"} {
		cases, err := readJUnit(filepath.Join(out, run+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if run == "ready" && lisaOnly[c.Name] {
				continue // declared for azure and qemu: the qemu pass has its result
			}
			results[c.Name], platform[c.Name] = c, run
		}
	}

	guest, _ := os.ReadFile(filepath.Join(out, "guest.txt"))
	record := rules.LISARun{Date: time.Now().UTC().Format("2006-01-02"), Guest: guestLine(string(guest)),
		Image: "the guest of `make testacc`, hardened by marketplace-harden", Seconds: int(time.Since(start).Seconds()),
		Sources: lisaSources(t, src, deps)}
	for _, c := range rules.LISACases() {
		var preds []string
		ruleStatus := map[string]string{}
		for _, id := range c.Rules {
			preds = append(preds, predicted[id])
			ruleStatus[id] = status[id]
		}
		run := rules.LISACaseRun{Name: c.Name, Predicted: rules.CasePrediction(preds), Rules: ruleStatus}
		if len(c.Rules) == 0 {
			run.Predicted = "-"
		}
		if r, ok := results[c.Name]; ok {
			run.LISA, run.Message, run.Platform = r.Result, r.Message, platform[c.Name]
		} else if why, ok := notRunHere[c.Name]; ok {
			run.LISA = why
		} else if c.AppliesTo == "Azure" {
			run.LISA = "not run: LISA declares it for the azure platform only"
		} else {
			run.LISA = "not run: LISA did not select it here"
		}
		if decidedHere[c.Name] && run.LISA != "PASSED" {
			t.Errorf("%s: LISA says %q on the hardened guest, want PASSED", c.Name, run.LISA)
		}
		run.Agree = rules.Agreement(run.LISA, run.Predicted)
		if run.LISA == "FAILED" {
			t.Errorf("LISA fails the hardened guest on %s: %s", c.Name, run.Message)
		}
		if run.Agree == "no" {
			t.Errorf("%s: LISA says %s, our rules %v predict %s", c.Name, run.LISA, ruleStatus, run.Predicted)
		}
		t.Logf("%-38s LISA %-8s ours %-13s agree %s %s", c.Name, run.LISA, run.Predicted, run.Agree, oneLineMsg(run.Message))
		record.Cases = append(record.Cases, run)
	}
	if os.Getenv("LISA_RECORD") != "" {
		b, _ := json.MarshalIndent(record, "", "  ")
		p := filepath.Join(testfixture.RepoRoot(), "docs", "lisa-run.json")
		if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded the run in %s", p)
	}
}

var requiresOS = regexp.MustCompile(`requires \[([^\]]*)\]`)
var osClass = regexp.MustCompile(`operating_system\.(\w+)`)

// skipReason shortens LISA's skip messages: an OS type mismatch becomes the distributions the
// case requires.
func skipReason(m string) string {
	if strings.Contains(m, "OS type mismatch") {
		if req := requiresOS.FindStringSubmatch(m); req != nil {
			var names []string
			for _, c := range osClass.FindAllStringSubmatch(req[1], -1) {
				names = append(names, c[1])
			}
			return "not this distribution (LISA requires " + strings.Join(names, ", ") + ")"
		}
	}
	if strings.Contains(m, "no available environment") && strings.Contains(m, "no feature") {
		return "needs platform features the booted guest does not declare (LISA wants a Hyper-V host, not a confidential VM)"
	}
	return m
}

type junitCase struct {
	Name, Result, Message string
}

// readJUnit reads the cases of LISA's JUnit notifier: PASSED, FAILED or SKIPPED, with the
// message of a failure or a skip.
func readJUnit(p string) ([]junitCase, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []junitCase
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			jc := junitCase{Name: c.Name, Result: "PASSED"}
			switch {
			case c.Failure != nil:
				jc.Result, jc.Message = "FAILED", c.Failure.Message
			case c.Error != nil:
				jc.Result, jc.Message = "FAILED", c.Error.Message
			case c.Skipped != nil:
				jc.Result, jc.Message = "SKIPPED", c.Skipped.Message
			}
			// LISA names a case "case (lisa_0_2)": the run's index follows the name
			jc.Name, _, _ = strings.Cut(jc.Name, " ")
			jc.Message = skipReason(jc.Message)
			out = append(out, jc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no test cases", p)
	}
	return out, nil
}

// lisaSources names LISA and its dependencies by repository and the commit of each checkout
// (a `git archive` export has no .git: then the commit is what LISA_COMMITS says, or unknown).
func lisaSources(t *testing.T, src, deps string) []rules.LISASource {
	repos := []struct{ name, dir, repo string }{
		{"LISA", src, "https://github.com/microsoft/lisa"},
		{"spurplus", filepath.Join(deps, "spurplus"), "https://github.com/Parquery/spurplus"},
		{"icontract", filepath.Join(deps, "icontract"), "https://github.com/Parquery/icontract"},
		{"temppathlib", filepath.Join(deps, "temppathlib"), "https://github.com/Parquery/temppathlib"},
		{"randmac", filepath.Join(deps, "randmac"), "https://github.com/joshschmelzle/randmac"},
		{"func_timeout", filepath.Join(deps, "func_timeout"), "https://github.com/kata198/func_timeout"},
		{"assertpy", filepath.Join(deps, "assertpy"), "https://github.com/assertpy/assertpy"},
	}
	given := map[string]string{}
	for _, kv := range strings.Fields(os.Getenv("LISA_COMMITS")) { // name=commit ...
		if k, v, ok := strings.Cut(kv, "="); ok {
			given[k] = v
		}
	}
	var out []rules.LISASource
	for _, r := range repos {
		commit := given[r.name]
		if b, err := exec.Command("git", "-C", r.dir, "rev-parse", "HEAD").Output(); err == nil {
			commit = strings.TrimSpace(string(b))
		}
		if commit == "" {
			commit = "unknown"
		}
		out = append(out, rules.LISASource{Name: r.name, Repository: r.repo, Commit: commit})
	}
	return out
}

func guestLine(s string) string {
	s = strings.ReplaceAll(s, "PRETTY_NAME=", "")
	s = strings.ReplaceAll(s, `"`, "")
	f := strings.Split(strings.TrimSpace(s), "\n")
	if len(f) >= 2 {
		return f[0] + ", kernel " + f[1]
	}
	return strings.TrimSpace(s)
}

func oneLineMsg(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
