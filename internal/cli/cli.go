// Package cli is the standalone command built into the plugin binary:
//
//	packer-plugin-marketplace check [flags] IMAGE...
//	packer-plugin-marketplace rules [--profile NAME]
//
// It shares every step with the post-processor through internal/check.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/check"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// Exit statuses of `check`.
const (
	ExitCompliant  = 0
	ExitViolations = 1
	ExitCannot     = 2
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

const checkUsage = `usage: packer-plugin-marketplace check [flags] IMAGE...

Checks disk images (raw, qcow2, VHD, VHDX, VMDK) offline against marketplace rule profiles.
Exit status: 0 compliant, 1 rule violations, 2 an image could not be inspected.

flags:
`

// Check runs the check command and returns the exit status.
func Check(args []string, stdout, stderr io.Writer) int {
	// an image argument may be a SAS URL, an error may quote it: nothing printed holds a secret
	stderr = redact.Writer(stderr)
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var profiles, waivers, allowed, clean, allowPaths, allowFPs listFlag
	fs.Var(&profiles, "profile", "rule profile (repeatable): "+strings.Join(rules.Profiles(), ", ")+" (default azure-linux)")
	jsonPath := fs.String("json", "", "write the JSON report to `PATH`")
	junitPath := fs.String("junit", "", "write the JUnit XML report to `PATH`")
	mscertPath := fs.String("mscert", "", "write the certification-shaped JSON report (azure-linux) to `PATH`")
	sarifPath := fs.String("sarif", "", "write the SARIF 2.1.0 report to `PATH`")
	sbomPath := fs.String("sbom", "", "write a CycloneDX SBOM of the installed packages to `PATH`")
	manifestPath := fs.String("integrity-manifest", "", "write a file-integrity baseline (path, size, mode, SHA-256 of every file) to `PATH`")
	noContent := fs.Bool("no-content-scan", false, "do not read file contents: no credential or malware scan")
	clamdAddr := fs.String("clamd", "", "scan every file with the clamd at `ADDRESS` (unix:///run/clamav/clamd.ctl, tcp://host:3310)")
	clamdMax := fs.Int("clamd-max-stream-mb", 25, "clamd's StreamMaxLength in `MiB`; larger files are not scanned, which makes no-malware an error")
	fs.Var(&allowPaths, "secrets-allow-path", "an in-image path glob or directory/ not searched for credentials (repeatable)")
	fs.Var(&allowFPs, "secrets-allow-fingerprint", "a reported credential fingerprint that is not a secret (repeatable)")
	progress := fs.Bool("progress", false, "print the content scan's progress to stderr")
	format := fs.String("format", "table", "what to print: table, json, mscert or sarif")
	failOn := fs.String("fail-on", "low", "lowest `SEVERITY` that fails: info, low, medium, high, critical")
	fs.Var(&waivers, "waive", "waive a rule: `RULE=REASON` (repeatable; the reason is required)")
	fs.Var(&allowed, "allowed-user", "an account (Linux UID >= 1000, or an enabled Windows local account) the image is meant to ship (repeatable)")
	fs.Var(&clean, "clean-path", "a path that must be empty (repeatable; alibaba clean-paths rule)")
	quiet := fs.Bool("quiet", false, "print only the verdict line (with --format table)")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkUsage)
		fs.PrintDefaults()
	}
	images, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitCompliant
		}
		return ExitCannot
	}
	if len(images) == 0 {
		fmt.Fprintln(stderr, "check: no image given")
		fs.Usage()
		return ExitCannot
	}
	switch *format {
	case "table", "json", "mscert", "sarif":
	default:
		fmt.Fprintf(stderr, "check: --format %q: want table, json, mscert or sarif\n", *format)
		return ExitCannot
	}
	cfg := check.Config{Profiles: profiles, Options: rules.Options{AllowedUsers: allowed, CleanPaths: clean},
		Content: check.ContentOptions{Off: *noContent, SecretsAllowPaths: allowPaths, SecretsAllowFingerprints: allowFPs,
			ClamdAddress: *clamdAddr, ClamdMaxStream: int64(*clamdMax) << 20}}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []string{"azure-linux"}
	}
	sev, err := rules.ParseSeverity(*failOn)
	if err != nil {
		fmt.Fprintln(stderr, "check: --fail-on:", err)
		return ExitCannot
	}
	cfg.FailOn = sev
	for _, w := range waivers {
		rule, reason, _ := strings.Cut(w, "=")
		cfg.Waivers = append(cfg.Waivers, report.Waiver{Rule: strings.TrimSpace(rule), Reason: strings.TrimSpace(reason)})
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "check:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return ExitCannot
	}
	status := ExitCompliant
	for _, img := range images {
		cfg.SBOM = perImage(*sbomPath, img, len(images))
		cfg.Content.Manifest = perImage(*manifestPath, img, len(images))
		if *progress {
			cfg.Content.Progress = progressPrinter(stderr, img)
		}
		r, err := check.File(img, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "check:", err)
			status = ExitCannot
			continue
		}
		switch {
		case *format == "json":
			r.WriteJSON(stdout)
		case *format == "mscert":
			r.WriteMSCert(stdout)
		case *format == "sarif":
			r.WriteSARIF(stdout)
		case *quiet:
			verdict := "COMPLIANT"
			if !r.Compliant {
				verdict = fmt.Sprintf("NOT COMPLIANT (%d blocking)", len(r.Blocking()))
			}
			fmt.Fprintf(stdout, "%s: %s\n", redact.Text(img), verdict)
		default:
			r.WriteTable(stdout)
			fmt.Fprintln(stdout)
		}
		out := check.Outputs{JSON: perImage(*jsonPath, img, len(images)), JUnit: perImage(*junitPath, img, len(images)),
			MSCert: perImage(*mscertPath, img, len(images)), SARIF: perImage(*sarifPath, img, len(images))}
		if err := check.Write(r, out); err != nil {
			fmt.Fprintln(stderr, "check:", err)
			status = ExitCannot
			continue
		}
		for _, f := range r.Findings {
			if f.Status == rules.Error {
				fmt.Fprintf(stderr, "check: %s: rule %s could not be evaluated: %s\n", img, f.Rule, f.Message)
				status = ExitCannot
			}
		}
		if !r.Compliant && status == ExitCompliant {
			status = ExitViolations
		}
	}
	return status
}

// parseInterleaved lets flags come before, between and after the image arguments
// ("--" ends flag parsing).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// perImage gives each image its own report file when several are checked:
// report.json → report-IMAGE.json.
func perImage(path, img string, n int) string {
	if path == "" || n == 1 {
		return path
	}
	ext := filepath.Ext(path)
	base := filepath.Base(img)
	return strings.TrimSuffix(path, ext) + "-" + strings.TrimSuffix(base, filepath.Ext(base)) + ext
}

// Rules prints the rule catalogue (optionally one profile's).
func Rules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var profiles listFlag
	fs.Var(&profiles, "profile", "only this profile's rules (repeatable)")
	markdown := fs.Bool("markdown", false, "print the rule reference (docs/rules.md) instead of a list")
	certification := fs.Bool("certification", false, "print the certification mapping (docs/certification.md)")
	lisaRun := fs.String("lisa-run", "", "with --certification: include the LISA run `make lisa` recorded in `FILE` (docs/lisa-run.json)")
	if err := fs.Parse(args); err != nil {
		return ExitCannot
	}
	if *markdown {
		fmt.Fprint(stdout, rules.Markdown())
		return ExitCompliant
	}
	if *certification {
		var run *rules.LISARun
		if *lisaRun != "" {
			b, err := os.ReadFile(*lisaRun)
			if err == nil {
				run = &rules.LISARun{}
				err = json.Unmarshal(b, run)
			}
			if err != nil {
				fmt.Fprintln(stderr, "rules:", err)
				return ExitCannot
			}
		}
		fmt.Fprint(stdout, rules.CertificationMarkdown(run))
		return ExitCompliant
	}
	rs := rules.All()
	if len(profiles) > 0 {
		var err error
		if rs, err = rules.ForProfiles(profiles); err != nil {
			fmt.Fprintln(stderr, "rules:", err)
			return ExitCannot
		}
	}
	for _, r := range rs {
		fmt.Fprintf(stdout, "%-26s %-8s %-24s %s\n", r.ID, r.Severity, strings.Join(r.Profiles, ","), r.Title)
	}
	return ExitCompliant
}

// progressPrinter prints the content scan's progress as a percentage, at most once per percent.
func progressPrinter(w io.Writer, img string) func(done, total int64) {
	var mu sync.Mutex
	last := -1
	return func(done, total int64) {
		if total <= 0 {
			return
		}
		pct := int(done * 100 / total)
		mu.Lock()
		defer mu.Unlock()
		if pct != last {
			last = pct
			fmt.Fprintf(w, "\r%s: content scan %3d%% (%d of %d MiB)", filepath.Base(img), pct, done>>20, total>>20)
			if pct == 100 {
				fmt.Fprintln(w)
			}
		}
	}
}
