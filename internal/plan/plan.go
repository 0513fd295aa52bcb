// Package plan turns what a user chose (in an HCL template or on the command line) into the one
// immutable plan a check runs: the resolved rules, the severity that fails, the waivers, the
// content scanners with their parsed addresses, and the report files. New is the only place
// where defaults are applied and choices are validated; both entry points call it when they are
// configured, so that a typo fails in seconds, before any build or image read.
package plan

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
	"github.com/marketready/packer-plugin-marketplace/internal/osvdata"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
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

// Waiver is a publisher's documented decision to accept a failing rule: the rule's ID and why.
// A waiver turns a failure or a warning of that rule into "waived"; it never covers an error.
type Waiver struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Choices are what a user chose; zero values take the defaults.
type Choices struct {
	Profiles []string // default azure-linux
	FailOn   string   // the lowest severity that fails (default low)
	Waivers  []Waiver
	Options  rules.Options
	Content  ContentChoices
	Reports  Reports
	// SBOM, when set, is where the CycloneDX SBOM of the installed packages is written.
	SBOM string
	// Blob tunes range reads when the image is a URL.
	Blob blob.Options
	// Vulnerabilities configure security-updates-installed.
	Vulnerabilities VulnChoices
	// Flags names the output options in errors by their command-line flags (--json) instead
	// of their HCL names (json_report).
	Flags bool
}

// ContentChoices configure the streaming pass over every file.
type ContentChoices struct {
	Off                      bool // content_scan = false: rules that need file contents are not applicable
	SecretsAllowPaths        []string
	SecretsAllowFingerprints []string
	// FingerprintKey keys the credential fingerprints (fingerprint_key, --fingerprint-key-env);
	// FingerprintKeyFrom says where it was given, for the report ("fingerprint_key in the
	// template"), never the key. Empty: the environment or the per-user key file.
	FingerprintKey, FingerprintKeyFrom string
	ClamdAddress                       string
	ClamdMaxStreamMB                   int           // default 25
	ClamdTimeout                       time.Duration // each exchange with clamd (default clamd.DefaultTimeout)
	// Manifest, when set, is where the file-integrity baseline is written (it makes the pass run).
	Manifest string
}

// VulnChoices configure the advisories the security-updates-installed rule judges with.
type VulnChoices struct {
	Off bool // vulnerability_scan = false: the rule says "not evaluated: turned off"
	// DB is vulnerability_db: a local OSV dump (all.zip), a directory of OSV records, or an
	// https URL of a dump. Empty: $MARKETPLACE_VULNERABILITY_DB, else OSV's public bucket.
	DB     string
	MaxAge time.Duration // vulnerability_db_max_age (default 24h)
	FailOn string        // vulnerability_fail_on: low, medium, high, critical (default: any)
	// CacheDir holds downloaded dumps (default $XDG_CACHE_HOME/packer-plugin-marketplace/osv).
	CacheDir string
}

// Vulns is the resolved VulnChoices.
type Vulns struct {
	Off      bool
	DB       string
	MaxAge   time.Duration
	FailOn   advisories.Level
	CacheDir string
}

// VulnerabilityDBEnv names the environment variable that gives vulnerability_db when the
// configuration does not.
const VulnerabilityDBEnv = "MARKETPLACE_VULNERABILITY_DB"

// Reports are the report files to write; empty paths are not written. Formats names formats
// to write into Dir (default ".") under their default names where no path is set.
type Reports struct {
	JSON, JUnit, MSCert, SARIF string
	// AlibabaDetection is the report shaped like Alibaba Cloud's image check results
	// (DescribeImages' DetectionOptions).
	AlibabaDetection string
	Formats          []string
	Dir              string
}

// Plan is a validated, resolved check configuration. It is never changed after New; ForImage
// returns a new one.
type Plan struct {
	profiles []string
	// auto: no profile was given; the engine takes the profile of the image's guest OS (ForGuest)
	auto    bool
	rules   []*rules.Rule
	failOn  rules.Severity
	waivers []Waiver
	options rules.Options
	// contentOff: content_scan = false
	contentOff bool
	content    scan.Config
	// allowFPs are secrets_allow_fingerprints, applied by the engine to the credential
	// findings (so that it can say which matched nothing); keyFrom is where the key was given
	allowFPs []string
	keyFrom  string
	reports  Reports
	sbom     string
	blob     blob.Options
	vulns    Vulns
	// names are the options that named each output file, by outputKinds key
	names map[string]string
}

// New validates the choices and resolves them into a plan; every mistake is reported at once.
func New(c Choices) (*Plan, error) {
	var errs []error
	p := &Plan{sbom: c.SBOM, blob: c.Blob,
		options: rules.Options{AllowedUsers: slices.Clone(c.Options.AllowedUsers), CleanPaths: slices.Clone(c.Options.CleanPaths)}}
	p.profiles = slices.Clone(c.Profiles)
	if len(p.profiles) == 0 {
		p.profiles, p.auto = []string{DefaultProfile}, true
	}
	var unknown bool
	for _, name := range p.profiles {
		if !slices.Contains(rules.Profiles(), name) {
			unknown = true
			errs = append(errs, fmt.Errorf("unknown profile %q%s (known: %s)", name, profile.DidYouMean(name, rules.Profiles()), strings.Join(rules.Profiles(), ", ")))
		}
	}
	if !unknown {
		rs, err := rules.ForProfiles(p.profiles)
		if err != nil {
			errs = append(errs, err)
		}
		p.rules = rs
	}
	var err error
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
			errs = append(errs, fmt.Errorf("waiver for unknown rule %q%s: `packer-plugin-marketplace rules` lists the rule IDs", w.Rule, profile.DidYouMean(w.Rule, ruleIDs())))
		}
		if w.Reason == "" {
			errs = append(errs, fmt.Errorf("waiver for rule %q has no reason: every waiver must say why", w.Rule))
		} else if !visible(w.Reason) {
			errs = append(errs, fmt.Errorf("waiver for rule %q: the reason %+q has no visible letters or digits: every waiver must say why", w.Rule, w.Reason))
		}
		if seen[w.Rule] {
			errs = append(errs, fmt.Errorf("rule %q is waived twice", w.Rule))
		}
		seen[w.Rule] = true
		p.waivers = append(p.waivers, w)
	}
	cc := c.Content
	p.contentOff = cc.Off
	p.content = scan.Config{SecretsAllowPaths: slices.Clone(cc.SecretsAllowPaths), Manifest: cc.Manifest}
	for _, fp := range cc.SecretsAllowFingerprints {
		fp = strings.ToLower(strings.TrimSpace(fp))
		if !isFingerprint(fp) {
			errs = append(errs, fmt.Errorf("%s: %q is not a fingerprint: a report shows each credential's as 16 hex digits",
				map[bool]string{false: "secrets_allow_fingerprints", true: "--secrets-allow-fingerprint"}[c.Flags], fp))
		}
		p.allowFPs = append(p.allowFPs, fp)
	}
	if cc.FingerprintKey != "" {
		p.content.FingerprintKey = []byte(cc.FingerprintKey)
		p.keyFrom = cc.FingerprintKeyFrom
		if p.keyFrom == "" {
			p.keyFrom = "the configuration"
		}
	}
	if cc.ClamdMaxStreamMB < 0 {
		errs = append(errs, fmt.Errorf("clamd_max_stream_mb must be positive, not %d", cc.ClamdMaxStreamMB))
	}
	if cc.ClamdAddress != "" {
		a, err := clamd.ParseAddress(cc.ClamdAddress)
		if err == nil {
			err = checkClamdAddress(cc.ClamdAddress, a)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", map[bool]string{false: "clamd_address", true: "--clamd"}[c.Flags], err))
		}
		mb := cc.ClamdMaxStreamMB
		if mb == 0 {
			mb = DefaultClamdMaxStreamMB
		}
		p.content.Clamd = &scan.ClamdConfig{Network: a.Network, Address: a.Addr, MaxStream: int64(mb) << 20, Timeout: cc.ClamdTimeout}
	}
	if cc.Off && cc.Manifest != "" {
		errs = append(errs, fmt.Errorf("%s needs the content scan, which %s turns off: the baseline would not be written",
			optionName("manifest", c.Flags), map[bool]string{false: "content_scan = false", true: "--no-content-scan"}[c.Flags]))
	}
	errs = append(errs, p.resolveVulns(c.Vulnerabilities, c.Flags)...)
	var defaulted []string
	if p.reports, defaulted, err = resolveReports(c.Reports); err != nil {
		errs = append(errs, fmt.Errorf("report_formats: %w", err))
	}
	p.names = map[string]string{}
	for _, k := range outputKinds {
		p.names[k.key] = optionName(k.key, c.Flags)
	}
	for _, f := range defaulted {
		p.names[f] = fmt.Sprintf("report_dir (report_formats %q)", f)
	}
	if err == nil {
		errs = append(errs, checkOutputs(p.Outputs())...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// resolveVulns validates the vulnerability options: a URL must be https (or loopback), the
// maximum age positive, the threshold a severity.
func (p *Plan) resolveVulns(v VulnChoices, flags bool) []error {
	name := func(hcl, flag string) string {
		if flags {
			return flag
		}
		return hcl
	}
	var errs []error
	p.vulns = Vulns{Off: v.Off, DB: strings.TrimSpace(v.DB), MaxAge: v.MaxAge, CacheDir: v.CacheDir}
	if p.vulns.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("%s must be positive, not %s", name("vulnerability_db_max_age", "--vulnerability-db-max-age"), v.MaxAge))
	}
	if p.vulns.MaxAge == 0 {
		p.vulns.MaxAge = osvdata.DefaultMaxAge
	}
	if v.FailOn != "" {
		l, err := advisories.ParseLevel(v.FailOn)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name("vulnerability_fail_on", "--vulnerability-fail-on"), err))
		}
		p.vulns.FailOn = l
	}
	if osvdata.IsURL(p.vulns.DB) {
		if err := osvdata.CheckURL(p.vulns.DB); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name("vulnerability_db", "--vulnerability-db"), err))
		}
	} else if strings.Contains(p.vulns.DB, "://") {
		errs = append(errs, fmt.Errorf("%s %q: want a path or an https URL", name("vulnerability_db", "--vulnerability-db"), blob.Redact(p.vulns.DB)))
	}
	return errs
}

// Vulnerabilities are the resolved vulnerability options.
func (p *Plan) Vulnerabilities() Vulns { return p.vulns }

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
	{"alibaba-detection", "marketplace-check-alibaba-detection.json", func(r *Reports) *string { return &r.AlibabaDetection }},
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
// marketplace-check.sarif, marketplace-check-alibaba-detection.json.
// It also returns the formats whose path it filled in.
func resolveReports(r Reports) (Reports, []string, error) {
	dir := r.Dir
	if dir == "" {
		dir = "."
	}
	var defaulted []string
	for _, name := range r.Formats {
		i := slices.IndexFunc(reportFormats, func(f reportFormat) bool { return f.name == name })
		if i < 0 {
			return r, nil, fmt.Errorf("unknown report format %q (known: %s)", name, strings.Join(ReportFormats(), ", "))
		}
		if path := reportFormats[i].path(&r); *path == "" {
			*path = filepath.Join(dir, reportFormats[i].file)
			defaulted = append(defaulted, name)
		}
	}
	r.Formats = nil
	return r, defaulted, nil
}

// Profiles are the resolved profile names, in the order given.
func (p *Plan) Profiles() []string { return slices.Clone(p.profiles) }

// ProfileGiven reports whether the choices named profiles. When they did not, the plan holds
// DefaultProfile until the image is opened, and ForGuest replaces it by the Azure profile of the
// guest OS found there.
func (p *Plan) ProfileGiven() bool { return !p.auto }

// ForGuest is the plan for an image whose guest OS is os (profile.Linux, profile.Windows, or ""
// when the image holds neither). It is the one rule by which a check's profiles depend on the
// image, applied by the engine once per image after it is opened and before anything is read:
//
//   - no profile given: the Azure profile for the guest OS (azure-linux or azure-windows),
//     with a note saying which was chosen and why; with no OS found the plan is unchanged
//     (DefaultProfile, whose rules then fail closed);
//   - profiles given: each must be for the guest OS; one that is not is an error naming the
//     profile of its marketplace for that OS (a Windows image checked with azure-linux would
//     only give an error row per rule).
func (p *Plan) ForGuest(os string) (q *Plan, note string, err error) {
	if os == "" {
		return p, "", nil
	}
	if p.auto {
		pr, _ := profile.For(profile.MarketAzure, os)
		note = fmt.Sprintf("no profile given: checked against %s, the Azure profile for the %s guest found in the image (choose another with --profile or `profile`)", pr.Name, os)
		if slices.Equal(p.profiles, []string{pr.Name}) {
			return p, note, nil
		}
		rs, err := rules.ForProfiles([]string{pr.Name})
		if err != nil {
			return nil, "", err
		}
		q := *p
		q.profiles, q.rules = []string{pr.Name}, rs
		return &q, note, nil
	}
	var wrong, use []string
	for _, name := range p.profiles {
		pr, ok := profile.Lookup(name)
		if !ok || pr.OS == os {
			continue
		}
		wrong = append(wrong, name)
		if o, ok := profile.For(pr.Marketplace, os); ok && !slices.Contains(use, o.Name) {
			use = append(use, o.Name)
		}
	}
	if len(wrong) == 0 {
		return p, "", nil
	}
	return nil, "", &ProfileMismatchError{Profiles: wrong, OS: os, Use: use}
}

// ProfileMismatchError is a check whose profiles are for another guest OS than the image's.
type ProfileMismatchError struct {
	Profiles []string // the profiles for the other OS
	OS       string   // the image's guest OS
	Use      []string // the profiles to use instead
}

func (e *ProfileMismatchError) Error() string {
	return fmt.Sprintf("the image holds a %s guest, but profile %s is for %s guests: check it with %s",
		e.OS, strings.Join(e.Profiles, ", "), otherOS(e.OS), quoteList(e.Use))
}

func otherOS(os string) string {
	if os == profile.Windows {
		return profile.Linux
	}
	return profile.Windows
}

// quoteList is "--profile a" or "--profile a --profile b" (`profile = "a"` in a template).
func quoteList(names []string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, "--profile "+n)
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" (profiles = [%s] in a template)", `"`+strings.Join(names, `", "`)+`"`)
}

// Rules are the profiles' rules, sorted by ID.
func (p *Plan) Rules() []*rules.Rule { return slices.Clone(p.rules) }

// HasRule reports whether the rule with this ID is evaluated.
func (p *Plan) HasRule(id string) bool {
	return slices.ContainsFunc(p.rules, func(r *rules.Rule) bool { return r.ID == id })
}

// FailOn is the lowest severity whose failure blocks.
func (p *Plan) FailOn() rules.Severity { return p.failOn }

// Waivers are the waivers, validated, in the order given.
func (p *Plan) Waivers() []Waiver { return slices.Clone(p.waivers) }

// Waiver returns the waiver of a rule.
func (p *Plan) Waiver(rule string) (Waiver, bool) {
	i := slices.IndexFunc(p.waivers, func(w Waiver) bool { return w.Rule == rule })
	if i < 0 {
		return Waiver{}, false
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
	c.SecretsAllowPaths, c.FingerprintKey = slices.Clone(c.SecretsAllowPaths), slices.Clone(c.FingerprintKey)
	if c.Clamd != nil {
		cl := *c.Clamd
		c.Clamd = &cl
	}
	return c
}

// AllowFingerprints are the credential fingerprints accepted as not secret
// (secrets_allow_fingerprints, lower-case). The scanners are not given them (Content leaves
// SecretsAllowFingerprints empty): the engine applies them to the findings, so that it can say
// which matched nothing.
func (p *Plan) AllowFingerprints() []string { return slices.Clone(p.allowFPs) }

// FingerprintKeyFrom says where the fingerprint key was given ("fingerprint_key in the
// template"), "" when the scanner takes its default (the environment or the per-user file).
func (p *Plan) FingerprintKeyFrom() string { return p.keyFrom }

// isFingerprint reports whether s is a credential fingerprint: 16 lower-case hex digits.
func isFingerprint(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
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

// maxSocketPath is the longest unix socket path the kernel connects to (sun_path holds 108
// bytes with its terminating NUL).
const maxSocketPath = 107

// checkClamdAddress validates a parsed clamd address fully, so that what packer validate
// accepts can be dialled: a TCP address is host:port with a host and a port from 1 to 65535;
// a unix socket is an absolute path of at most maxSocketPath bytes without a NUL.
func checkClamdAddress(given string, a clamd.Address) error {
	switch a.Network {
	case "tcp":
		host, port, err := net.SplitHostPort(a.Addr)
		if err != nil {
			return fmt.Errorf("clamd address %q: want tcp://host:port (e.g. tcp://127.0.0.1:3310): %v", given, err)
		}
		if host == "" || strings.ContainsAny(host, "/:?#@ ") && net.ParseIP(host) == nil {
			return fmt.Errorf("clamd address %q: no host name or IP address before the port", given)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("clamd address %q: port %q is not a number from 1 to 65535", given, port)
		}
	case "unix":
		switch {
		case !strings.HasPrefix(a.Addr, "/"):
			return fmt.Errorf("clamd address %q: the socket path %q is not absolute", given, a.Addr)
		case len(a.Addr) > maxSocketPath:
			return fmt.Errorf("clamd address %q: the socket path is %d bytes, longer than a unix socket path can be (%d)", given, len(a.Addr), maxSocketPath)
		case strings.ContainsRune(a.Addr, 0):
			return fmt.Errorf("clamd address %q: the socket path holds a NUL byte", given)
		case strings.HasSuffix(a.Addr, "/"):
			return fmt.Errorf("clamd address %q: the socket path %q names a directory", given, a.Addr)
		}
	default:
		return fmt.Errorf("clamd address %q: unknown network %q", given, a.Network)
	}
	return nil
}

// ruleIDs are the IDs of every rule.
func ruleIDs() []string {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	return ids
}

// visible reports whether a reason holds a letter or a digit: spaces, punctuation and
// zero-width or other format characters (U+200B) alone say nothing.
func visible(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
