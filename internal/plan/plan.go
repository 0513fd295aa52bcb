// Package plan turns what a user chose (in an HCL template or on the command line) into the one
// immutable plan a check runs: the resolved rules, the severity that fails, the waivers, the
// content scanners with their parsed addresses, and the report files. New is the only place
// where defaults are applied and choices are validated; both entry points call it when they are
// configured, so that a typo fails in seconds, before any build or image read.
package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/clamd"
)

// Defaults applied by New.
const (
	DefaultProfile = profile.AzureLinux
	DefaultFailOn  = "low"
	// DefaultClamdMaxStreamMB is clamd's own default StreamMaxLength.
	DefaultClamdMaxStreamMB = clamd.DefaultMaxStream >> 20
)

// Choices are what a user chose; zero values take the defaults.
type Choices struct {
	Profiles []string // default azure-linux
	FailOn   string   // the lowest severity that fails (default low)
	Waivers  []report.Waiver
	Options  rules.Options
	Content  ContentChoices
	Reports  Reports
	// SBOM, when set, is where the CycloneDX SBOM of the installed packages is written.
	SBOM string
	// Blob tunes range reads when the image is a URL.
	Blob blob.Options
}

// ContentChoices configure the streaming pass over every file.
type ContentChoices struct {
	Off                      bool // content_scan = false: rules that need file contents are not applicable
	SecretsAllowPaths        []string
	SecretsAllowFingerprints []string
	ClamdAddress             string
	ClamdMaxStreamMB         int           // default 25
	ClamdTimeout             time.Duration // each exchange with clamd (default clamd.DefaultTimeout)
	// Manifest, when set, is where the file-integrity baseline is written (it makes the pass run).
	Manifest string
}

// Reports are the report files to write; empty paths are not written. Formats names formats
// to write into Dir (default ".") under their default names where no path is set.
type Reports struct {
	JSON, JUnit, MSCert, SARIF string
	Formats                    []string
	Dir                        string
}

// Plan is a validated, resolved check configuration. It is never changed after New; ForImage
// returns a new one.
type Plan struct {
	profiles []string
	rules    []*rules.Rule
	failOn   rules.Severity
	waivers  []report.Waiver
	options  rules.Options
	// contentOff: content_scan = false
	contentOff bool
	content    scan.Config
	reports    Reports
	sbom       string
	blob       blob.Options
}

// New validates the choices and resolves them into a plan; every mistake is reported at once.
func New(c Choices) (*Plan, error) {
	var errs []error
	p := &Plan{sbom: c.SBOM, blob: c.Blob,
		options: rules.Options{AllowedUsers: slices.Clone(c.Options.AllowedUsers), CleanPaths: slices.Clone(c.Options.CleanPaths)}}
	p.profiles = slices.Clone(c.Profiles)
	if len(p.profiles) == 0 {
		p.profiles = []string{DefaultProfile}
	}
	rs, err := rules.ForProfiles(p.profiles)
	if err != nil {
		errs = append(errs, err)
	}
	p.rules = rs
	failOn := c.FailOn
	if failOn == "" {
		failOn = DefaultFailOn
	}
	if p.failOn, err = rules.ParseSeverity(failOn); err != nil {
		errs = append(errs, fmt.Errorf("fail_on: %w", err))
	}
	seen := map[string]bool{}
	for _, w := range c.Waivers {
		w.Rule, w.Reason = strings.TrimSpace(w.Rule), strings.TrimSpace(w.Reason)
		if _, ok := rules.ByID(w.Rule); !ok {
			errs = append(errs, fmt.Errorf("waiver for unknown rule %q", w.Rule))
		}
		if w.Reason == "" {
			errs = append(errs, fmt.Errorf("waiver for rule %q has no reason: every waiver must say why", w.Rule))
		}
		if seen[w.Rule] {
			errs = append(errs, fmt.Errorf("rule %q is waived twice", w.Rule))
		}
		seen[w.Rule] = true
		p.waivers = append(p.waivers, w)
	}
	cc := c.Content
	p.contentOff = cc.Off
	p.content = scan.Config{SecretsAllowPaths: slices.Clone(cc.SecretsAllowPaths),
		SecretsAllowFingerprints: slices.Clone(cc.SecretsAllowFingerprints), Manifest: cc.Manifest}
	if cc.ClamdMaxStreamMB < 0 {
		errs = append(errs, fmt.Errorf("clamd_max_stream_mb must be positive, not %d", cc.ClamdMaxStreamMB))
	}
	if cc.ClamdAddress != "" {
		a, err := clamd.ParseAddress(cc.ClamdAddress)
		if err != nil {
			errs = append(errs, fmt.Errorf("clamd_address: %w", err))
		}
		mb := cc.ClamdMaxStreamMB
		if mb == 0 {
			mb = DefaultClamdMaxStreamMB
		}
		p.content.Clamd = &scan.ClamdConfig{Network: a.Network, Address: a.Addr, MaxStream: int64(mb) << 20, Timeout: cc.ClamdTimeout}
	}
	if p.reports, err = resolveReports(c.Reports); err != nil {
		errs = append(errs, fmt.Errorf("report_formats: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// MustNew is New for choices fixed in code (tests, examples); it panics on an error.
func MustNew(c Choices) *Plan {
	p, err := New(c)
	if err != nil {
		panic(err)
	}
	return p
}

// reportFormat is one report format: its name in report_formats, its default file name, and
// the Reports field holding its path.
type reportFormat struct {
	name, file string
	path       func(*Reports) *string
}

var reportFormats = []reportFormat{
	{"json", "marketplace-check.json", func(r *Reports) *string { return &r.JSON }},
	{"junit", "marketplace-check-junit.xml", func(r *Reports) *string { return &r.JUnit }},
	{"mscert", "marketplace-check-mscert.json", func(r *Reports) *string { return &r.MSCert }},
	{"sarif", "marketplace-check.sarif", func(r *Reports) *string { return &r.SARIF }},
}

// ReportFormats names the formats report_formats accepts.
func ReportFormats() []string {
	var names []string
	for _, f := range reportFormats {
		names = append(names, f.name)
	}
	return names
}

// resolveReports fills in default paths in Dir for the named formats where no path is set:
// marketplace-check.json, marketplace-check-junit.xml, marketplace-check-mscert.json,
// marketplace-check.sarif.
func resolveReports(r Reports) (Reports, error) {
	dir := r.Dir
	if dir == "" {
		dir = "."
	}
	for _, name := range r.Formats {
		i := slices.IndexFunc(reportFormats, func(f reportFormat) bool { return f.name == name })
		if i < 0 {
			return r, fmt.Errorf("unknown report format %q (known: %s)", name, strings.Join(ReportFormats(), ", "))
		}
		if path := reportFormats[i].path(&r); *path == "" {
			*path = filepath.Join(dir, reportFormats[i].file)
		}
	}
	r.Formats = nil
	return r, nil
}

// Profiles are the resolved profile names, in the order given.
func (p *Plan) Profiles() []string { return slices.Clone(p.profiles) }

// Rules are the profiles' rules, sorted by ID.
func (p *Plan) Rules() []*rules.Rule { return slices.Clone(p.rules) }

// HasRule reports whether the rule with this ID is evaluated.
func (p *Plan) HasRule(id string) bool {
	return slices.ContainsFunc(p.rules, func(r *rules.Rule) bool { return r.ID == id })
}

// FailOn is the lowest severity whose failure blocks.
func (p *Plan) FailOn() rules.Severity { return p.failOn }

// Waivers are the waivers, validated, in the order given.
func (p *Plan) Waivers() []report.Waiver { return slices.Clone(p.waivers) }

// Waiver returns the waiver of a rule.
func (p *Plan) Waiver(rule string) (report.Waiver, bool) {
	i := slices.IndexFunc(p.waivers, func(w report.Waiver) bool { return w.Rule == rule })
	if i < 0 {
		return report.Waiver{}, false
	}
	return p.waivers[i], true
}

// Options are the rules' options (a copy).
func (p *Plan) Options() rules.Options {
	return rules.Options{AllowedUsers: slices.Clone(p.options.AllowedUsers), CleanPaths: slices.Clone(p.options.CleanPaths)}
}

// Content is what the content scanners are asked to do (a copy).
func (p *Plan) Content() scan.Config {
	c := p.content
	c.SecretsAllowPaths, c.SecretsAllowFingerprints = slices.Clone(c.SecretsAllowPaths), slices.Clone(c.SecretsAllowFingerprints)
	if c.Clamd != nil {
		cl := *c.Clamd
		c.Clamd = &cl
	}
	return c
}

// ContentOff reports content_scan = false: the rules that need file contents are not applicable.
func (p *Plan) ContentOff() bool { return p.contentOff }

// ContentKinds are the kinds of content the pass must provide: those the rules need, and the
// integrity baseline when a manifest is asked for; none when content scanning is off.
func (p *Plan) ContentKinds() []scan.Kind {
	if p.contentOff {
		return nil
	}
	var kinds []scan.Kind
	for _, r := range p.rules {
		for _, k := range r.Needs {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if p.content.Manifest != "" {
		kinds = append(kinds, scan.Integrity)
	}
	return kinds
}

// Reports are the report files to write, with report_formats resolved to paths.
func (p *Plan) Reports() Reports { return p.reports }

// SBOM is where the SBOM is written ("" for none).
func (p *Plan) SBOM() string { return p.sbom }

// Blob tunes range reads of a blob.
func (p *Plan) Blob() blob.Options { return p.blob }

// NeedsContent reports whether the streaming pass runs: content scanning is on, and a rule
// reads file contents or a baseline manifest is asked for.
func (p *Plan) NeedsContent() bool { return len(p.ContentKinds()) > 0 }

// ForImage is the plan for one of n images checked together: with n > 1 every file written
// (reports, SBOM, manifest) gets the image's name, report.json → report-IMAGE.json.
func (p *Plan) ForImage(image string, n int) *Plan {
	if n <= 1 {
		return p
	}
	q := *p
	each := func(path string) string {
		if path == "" {
			return ""
		}
		ext := filepath.Ext(path)
		base := filepath.Base(image)
		return strings.TrimSuffix(path, ext) + "-" + strings.TrimSuffix(base, filepath.Ext(base)) + ext
	}
	for _, f := range reportFormats {
		path := f.path(&q.reports)
		*path = each(*path)
	}
	q.sbom = each(p.sbom)
	q.content.Manifest = each(p.content.Manifest)
	return &q
}
