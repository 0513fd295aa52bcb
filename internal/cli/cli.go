// Package cli is the standalone command built into the plugin binary:
//
//	packer-plugin-marketplace check [flags] IMAGE...
//	packer-plugin-marketplace rules [--profile NAME]
//
// It shares every step with the post-processor through internal/engine.
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

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
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
	var c checkFlags
	c.define(fs)
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
	switch c.format {
	case "table", "json", "mscert", "sarif":
	default:
		fmt.Fprintf(stderr, "check: --format %q: want table, json, mscert or sarif\n", c.format)
		return ExitCannot
	}
	p, err := plan.New(c.choices())
	if err != nil {
		fmt.Fprintln(stderr, "check:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return ExitCannot
	}
	status := ExitCompliant
	for _, img := range images {
		status = max(status, c.checkOne(img, p.ForImage(img, len(images)), stdout, stderr))
	}
	return status
}

// checkFlags are the check command's flags.
type checkFlags struct {
	profiles, waivers, allowed, clean, allowPaths, allowFPs                   listFlag
	jsonPath, junitPath, mscertPath, sarifPath, sbomPath, manifestPath, clamd string
	format, failOn                                                            string
	clamdMaxMB                                                                int
	noContent, progress, quiet                                                bool
}

func (c *checkFlags) define(fs *flag.FlagSet) {
	fs.Var(&c.profiles, "profile", "rule profile (repeatable): "+strings.Join(rules.Profiles(), ", ")+" (default "+plan.DefaultProfile+")")
	fs.StringVar(&c.jsonPath, "json", "", "write the JSON report to `PATH`")
	fs.StringVar(&c.junitPath, "junit", "", "write the JUnit XML report to `PATH`")
	fs.StringVar(&c.mscertPath, "mscert", "", "write the certification-shaped JSON report (azure-linux) to `PATH`")
	fs.StringVar(&c.sarifPath, "sarif", "", "write the SARIF 2.1.0 report to `PATH`")
	fs.StringVar(&c.sbomPath, "sbom", "", "write a CycloneDX SBOM of the installed packages to `PATH`")
	fs.StringVar(&c.manifestPath, "integrity-manifest", "", "write a file-integrity baseline (path, size, mode, SHA-256 of every file) to `PATH`")
	fs.BoolVar(&c.noContent, "no-content-scan", false, "do not read file contents: no credential or malware scan")
	fs.StringVar(&c.clamd, "clamd", "", "scan every file with the clamd at `ADDRESS` (unix:///run/clamav/clamd.ctl, tcp://host:3310)")
	fs.IntVar(&c.clamdMaxMB, "clamd-max-stream-mb", plan.DefaultClamdMaxStreamMB, "clamd's StreamMaxLength in `MiB`; larger files are not scanned, which makes no-malware an error")
	fs.Var(&c.allowPaths, "secrets-allow-path", "an in-image path glob or directory/ not searched for credentials (repeatable)")
	fs.Var(&c.allowFPs, "secrets-allow-fingerprint", "a reported credential fingerprint that is not a secret (repeatable)")
	fs.BoolVar(&c.progress, "progress", false, "print the content scan's progress to stderr")
	fs.StringVar(&c.format, "format", "table", "what to print: table, json, mscert or sarif")
	fs.StringVar(&c.failOn, "fail-on", plan.DefaultFailOn, "lowest `SEVERITY` that fails: info, low, medium, high, critical")
	fs.Var(&c.waivers, "waive", "waive a rule: `RULE=REASON` (repeatable; the reason is required)")
	fs.Var(&c.allowed, "allowed-user", "an account (Linux UID >= 1000, or an enabled Windows local account) the image is meant to ship (repeatable)")
	fs.Var(&c.clean, "clean-path", "a path that must be empty (repeatable; alibaba clean-paths rule)")
	fs.BoolVar(&c.quiet, "quiet", false, "print only the verdict line (with --format table)")
}

// choices are what the flags ask of the plan.
func (c *checkFlags) choices() plan.Choices {
	ch := plan.Choices{Profiles: c.profiles, FailOn: c.failOn, SBOM: c.sbomPath,
		Options: rules.Options{AllowedUsers: c.allowed, CleanPaths: c.clean},
		Content: plan.ContentChoices{Off: c.noContent, SecretsAllowPaths: c.allowPaths, SecretsAllowFingerprints: c.allowFPs,
			ClamdAddress: c.clamd, ClamdMaxStreamMB: c.clamdMaxMB, Manifest: c.manifestPath},
		Reports: plan.Reports{JSON: c.jsonPath, JUnit: c.junitPath, MSCert: c.mscertPath, SARIF: c.sarifPath}}
	for _, w := range c.waivers {
		rule, reason, _ := strings.Cut(w, "=")
		ch.Waivers = append(ch.Waivers, report.Waiver{Rule: rule, Reason: reason})
	}
	return ch
}

// checkOne checks one image, prints its verdict and writes its reports; it returns the image's
// exit status.
func (c *checkFlags) checkOne(img string, p *plan.Plan, stdout, stderr io.Writer) int {
	var progress func(done, total int64)
	if c.progress {
		progress = progressPrinter(stderr, img)
	}
	r, err := engine.CheckWithProgress(img, p, progress)
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return ExitCannot
	}
	switch {
	case c.format == "json":
		r.WriteJSON(stdout)
	case c.format == "mscert":
		r.WriteMSCert(stdout)
	case c.format == "sarif":
		r.WriteSARIF(stdout)
	case c.quiet:
		verdict := "COMPLIANT"
		if !r.Compliant {
			verdict = fmt.Sprintf("NOT COMPLIANT (%d blocking)", len(r.Blocking()))
		}
		fmt.Fprintf(stdout, "%s: %s\n", redact.Text(img), verdict)
	default:
		r.WriteTable(stdout)
		fmt.Fprintln(stdout)
	}
	if err := engine.WriteReports(r, p.Reports()); err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return ExitCannot
	}
	status := ExitCompliant
	for _, f := range r.Findings {
		if f.Status == rules.Error {
			fmt.Fprintf(stderr, "check: %s: rule %s could not be evaluated: %s\n", img, f.Rule, f.Message)
			status = ExitCannot
		}
	}
	if !r.Compliant && status == ExitCompliant {
		status = ExitViolations
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
