// Package cli is the standalone command built into the plugin binary:
//
//	packer-plugin-marketplace check [flags] IMAGE...
//	packer-plugin-marketplace rules [--profile NAME]
//	packer-plugin-marketplace harden [flags]
//	packer-plugin-marketplace help [COMMAND]
//
// It shares every step with the post-processor through internal/engine.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/osvdata"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
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

// progressEvery is how often a progress line is printed when stderr is not a terminal (tests
// shorten it).
var progressEvery = engine.ProgressEvery

// Check runs the check command and returns the exit status. SIGINT and SIGTERM cancel the
// check: its reads, content pass and blob requests stop, and it exits 2.
func Check(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the first signal cancels the check; a second one ends the process at once
	}()
	return CheckContext(ctx, args, stdout, stderr)
}

// CheckContext is Check under ctx: when ctx ends, the check in progress stops, no further
// image is checked, and the status is 2.
func CheckContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	terminal := isTerminal(stderr)
	// an image argument may be a SAS URL, an error may quote it: nothing printed holds a secret
	stderr = redact.Writer(stderr)
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c checkFlags
	c.define(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsage)
		fs.PrintDefaults()
	}
	if helpOnStdout(fs, args, stdout) {
		return ExitCompliant
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
	case "table", "json", "mscert", "sarif", "alibaba-detection":
	default:
		fmt.Fprintf(stderr, "check: --format %q: want table, json, mscert, sarif or alibaba-detection\n", c.format)
		return ExitCannot
	}
	if c.keyEnv != "" && os.Getenv(c.keyEnv) == "" {
		fmt.Fprintf(stderr, "check: --fingerprint-key-env %s: $%s is not set or empty\n", c.keyEnv, c.keyEnv)
		return ExitCannot
	}
	p, err := plan.New(c.choices())
	if err != nil {
		fmt.Fprintln(stderr, "check:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return ExitCannot
	}
	// no report may overwrite an image or another report, also across images (a/disk.raw and
	// b/disk.raw both write r-disk.json): refused before anything is read
	plans := make([]*plan.Plan, len(images))
	var errs []error
	for i, img := range images {
		plans[i] = p.ForImage(img, len(images))
		errs = append(errs, plans[i].CheckInputs(images...))
	}
	errs = append(errs, plan.CheckDistinct(plans...))
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, "check:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return ExitCannot
	}
	status := ExitCompliant
	for i, img := range images {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "check: %s: not checked: %v\n", redact.Text(img), context.Cause(ctx))
			status = ExitCannot
			continue
		}
		status = max(status, c.checkOne(ctx, img, plans[i], terminal, stdout, stderr))
	}
	return status
}

// displayName names an image in progress lines: a file's base name, a blob's without its SAS.
func displayName(img string) string {
	if blob.IsURL(img) {
		img, _, _ = strings.Cut(img, "?")
	}
	return filepath.Base(img)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// checkFlags are the check command's flags.
type checkFlags struct {
	profiles, waivers, allowed, clean, allowPaths, allowFPs                   listFlag
	jsonPath, junitPath, mscertPath, sarifPath, sbomPath, manifestPath, clamd string
	alibabaPath                                                               string
	format, failOn, keyEnv                                                    string
	clamdMaxMB                                                                int
	noContent, progress, quiet                                                bool
	vulnDB, vulnFailOn                                                        string
	vulnMaxAge                                                                time.Duration
	noVulns                                                                   bool
}

func (c *checkFlags) define(fs *flag.FlagSet) {
	fs.Var(&c.profiles, "profile", "rule profile (repeatable): "+strings.Join(rules.Profiles(), ", ")+" (default: the Azure profile of the image's guest OS, azure-linux or azure-windows)")
	fs.StringVar(&c.jsonPath, "json", "", "write the JSON report to `PATH`")
	fs.StringVar(&c.junitPath, "junit", "", "write the JUnit XML report to `PATH`")
	fs.StringVar(&c.mscertPath, "mscert", "", "write the certification-shaped JSON report (azure-linux) to `PATH`")
	fs.StringVar(&c.sarifPath, "sarif", "", "write the SARIF 2.1.0 report to `PATH`")
	fs.StringVar(&c.alibabaPath, "alibaba-detection", "", "write the report shaped like Alibaba Cloud's image check results (DescribeImages DetectionOptions; alibaba) to `PATH`")
	fs.StringVar(&c.sbomPath, "sbom", "", "write a CycloneDX SBOM of the installed packages to `PATH`")
	fs.StringVar(&c.manifestPath, "integrity-manifest", "", "write a file-integrity baseline (path, size, mode, SHA-256 of every file) to `PATH`")
	fs.BoolVar(&c.noContent, "no-content-scan", false, "do not read file contents: no credential or malware scan")
	fs.StringVar(&c.clamd, "clamd", "", "scan every file with the clamd at `ADDRESS` (unix:///run/clamav/clamd.ctl, tcp://host:3310)")
	fs.IntVar(&c.clamdMaxMB, "clamd-max-stream-mb", plan.DefaultClamdMaxStreamMB, "clamd's StreamMaxLength in `MiB`; larger files are not scanned, which makes no-malware an error")
	fs.Var(&c.allowPaths, "secrets-allow-path", "an in-image path glob or directory/ not searched for credentials (repeatable)")
	fs.Var(&c.allowFPs, "secrets-allow-fingerprint", "a reported credential fingerprint that is not a secret (repeatable)")
	fs.StringVar(&c.keyEnv, "fingerprint-key-env", "", "key credential fingerprints with the value of the environment variable `NAME` (default $"+secrets.FingerprintKeyEnv+", else a per-user key file), so that fingerprints from another machine's report match")
	fs.BoolVar(&c.progress, "progress", false, "show the content scan's progress on stderr: a live line on a terminal; elsewhere a line every 10 s is printed anyway, and this adds the last one")
	fs.StringVar(&c.format, "format", "table", "what to print: table, json, mscert, sarif or alibaba-detection")
	fs.StringVar(&c.failOn, "fail-on", plan.DefaultFailOn, "lowest `SEVERITY` that fails: info, low, medium, high, critical")
	fs.Var(&c.waivers, "waive", "waive a rule: `RULE=REASON` (repeatable; the reason is required)")
	fs.Var(&c.allowed, "allowed-user", "an account (Linux UID >= 1000, or an enabled Windows local account) the image is meant to ship (repeatable)")
	fs.Var(&c.clean, "clean-path", "a path that must be empty (repeatable; alibaba clean-paths rule)")
	fs.BoolVar(&c.quiet, "quiet", false, "print only the verdict line (with --format table), and no progress lines")
	fs.StringVar(&c.vulnDB, "vulnerability-db", "", "the OSV data security-updates-installed judges with: an all.zip dump, a directory of OSV records, or an https `URL` of a dump (default $"+plan.VulnerabilityDBEnv+", else the release's dump from OSV's public bucket, cached)")
	fs.DurationVar(&c.vulnMaxAge, "vulnerability-db-max-age", osvdata.DefaultMaxAge, "the oldest vulnerability data accepted (`DURATION`); older data that cannot be refreshed makes the rule an error")
	fs.BoolVar(&c.noVulns, "no-vulnerability-scan", false, "do not judge security updates: security-updates-installed says \"not evaluated: turned off\"")
	fs.StringVar(&c.vulnFailOn, "vulnerability-fail-on", "", "fail security-updates-installed only on advisories of this `SEVERITY` or above (low, medium, high, critical; unknown severities always fail); default any")
}

// choices are what the flags ask of the plan.
func (c *checkFlags) choices() plan.Choices {
	ch := plan.Choices{Profiles: c.profiles, FailOn: c.failOn, SBOM: c.sbomPath, Flags: true,
		Options: rules.Options{AllowedUsers: c.allowed, CleanPaths: c.clean},
		Content: plan.ContentChoices{Off: c.noContent, SecretsAllowPaths: c.allowPaths, SecretsAllowFingerprints: c.allowFPs,
			ClamdAddress: c.clamd, ClamdMaxStreamMB: c.clamdMaxMB, Manifest: c.manifestPath},
		Reports:         plan.Reports{JSON: c.jsonPath, JUnit: c.junitPath, MSCert: c.mscertPath, SARIF: c.sarifPath, AlibabaDetection: c.alibabaPath},
		Vulnerabilities: plan.VulnChoices{Off: c.noVulns, DB: c.vulnDB, MaxAge: c.vulnMaxAge, FailOn: c.vulnFailOn}}
	if c.keyEnv != "" {
		ch.Content.FingerprintKey, ch.Content.FingerprintKeyFrom = os.Getenv(c.keyEnv), "$"+c.keyEnv+" (--fingerprint-key-env)"
	}
	for _, w := range c.waivers {
		rule, reason, _ := strings.Cut(w, "=")
		ch.Waivers = append(ch.Waivers, plan.Waiver{Rule: rule, Reason: reason})
	}
	return ch
}

// checkOne checks one image, prints its verdict and writes its reports; it returns the image's
// exit status.
func (c *checkFlags) checkOne(ctx context.Context, img string, p *plan.Plan, terminal bool, stdout, stderr io.Writer) int {
	var progress func(done, total int64)
	endProgress := func() {}
	switch {
	case terminal && c.progress:
		bar := &progressBar{w: stderr, name: displayName(img)}
		progress, endProgress = bar.set, bar.stop
	case !terminal && (c.progress || !c.quiet):
		// a log (CI) gets a line every 10 s of a long pass, whether bytes move or not
		l := &engine.ProgressLog{Print: func(s string) { fmt.Fprintln(stderr, s) }, Name: displayName(img),
			Every: progressEvery, Final: c.progress}
		progress, endProgress = l.Set, l.Stop
	}
	r, err := engine.CheckContext(ctx, img, p, progress)
	endProgress() // the last progress line before the verdict
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
	case c.format == "alibaba-detection":
		r.WriteAlibabaDetection(stdout)
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
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: packer-plugin-marketplace rules [--profile NAME]... [--markdown | --certification [--lisa-run FILE]]\n\nLists the rules: ID, severity, profiles, title; with --profile, under each rule the profile's level for it and the marketplace's own check ID and name.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if helpOnStdout(fs, args, stdout) {
		return ExitCompliant
	}
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
		for _, name := range profiles {
			if !slices.Contains(rules.Profiles(), name) {
				fmt.Fprintf(stderr, "rules: unknown profile %q%s (known: %s)\n", name, profile.DidYouMean(name, rules.Profiles()), strings.Join(rules.Profiles(), ", "))
				return ExitCannot
			}
		}
		var err error
		if rs, err = rules.ForProfiles(profiles); err != nil {
			fmt.Fprintln(stderr, "rules:", err)
			return ExitCannot
		}
	}
	for _, r := range rs {
		fmt.Fprintf(stdout, "%-35s %-8s %-24s %s\n", r.ID, r.Severity, strings.Join(r.Profiles(), ","), r.Title)
		// With --profile, each selected marketplace's own name for the check and its level.
		for _, c := range rules.ChecksOf(r.ID, profiles) {
			if c.ID == "" && c.Name == "" && c.Level == profile.Required && !c.Running {
				continue
			}
			fmt.Fprintf(stdout, "    %s: %s", c.Profile, c.Level)
			if c.ID != "" {
				fmt.Fprintf(stdout, ", %s", c.ID)
			}
			if c.Name != "" {
				fmt.Fprintf(stdout, " %q", c.Name)
			}
			if c.Running {
				fmt.Fprint(stdout, " (the marketplace checks a running machine; decided here from the disk)")
			}
			fmt.Fprintln(stdout)
		}
	}
	return ExitCompliant
}

// barRedraw is how often the live progress line on a terminal is redrawn while bytes move.
const barRedraw = 100 * time.Millisecond

// progressBar is the content scan's progress as one line redrawn in place on a terminal:
// whenever bytes moved and barRedraw passed, so that it never stands still while the pass
// reads (a percent of a large image can take minutes).
type progressBar struct {
	w    io.Writer
	name string

	mu          sync.Mutex
	start, last time.Time
	done, total int64
	drawn       bool
}

func (b *progressBar) set(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	if done <= b.done && b.drawn {
		return
	}
	b.done, b.total = max(b.done, done), total
	if b.drawn && now.Sub(b.last) < barRedraw && done < total {
		return
	}
	b.last, b.drawn = now, true
	fmt.Fprintf(b.w, "\r\x1b[K%s", engine.FormatProgress(b.name, b.done, b.total, now.Sub(b.start)))
}

func (b *progressBar) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintf(b.w, "\r\x1b[K%s\n", engine.FormatProgress(b.name, b.done, b.total, time.Since(b.start)))
	}
}
