//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,Waiver

// Package check is the marketplace-check post-processor: it opens the disk image the builder
// produced, offline, evaluates the marketplace rule profiles and fails the build when a rule is
// violated and not waived.
package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// Waiver accepts a failing rule for a documented reason. A waived finding has status `waived`
// and does not fail the build. A waiver covers a `fail` or a `warn`, never an `error`: a rule
// that could not be evaluated (something it needed could not be read) fails the build, waived
// or not, and the report notes that the waiver did not cover it. There is no option to waive an
// error. A waiver for an unknown rule, a waiver without a reason (or whose reason has no letter
// or digit: spaces, punctuation and zero-width characters alone) or two waivers for one rule
// are configuration errors.
type Waiver struct {
	// The rule ID to waive, e.g. `firewall-disabled`.
	Rule string `mapstructure:"rule" required:"true"`
	// Why the image ships this way. Required, with at least one letter or digit; it is printed
	// in every report.
	Reason string `mapstructure:"reason" required:"true"`
}

// Config is the post-processor's configuration.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The rule profile to check: `azure-linux`, `azure-windows`, `alibaba`, `alibaba-windows`,
	// `aws`, `aws-windows`, `digitalocean` or `oracle`, the names `marketplace-harden` takes. Default: the Azure profile of the guest OS found in the
	// image (`azure-linux` for Linux, `azure-windows` for Windows), said in the UI and the report
	// notes. A profile for the other OS than the image's fails the build once, naming the profile
	// to use. A misspelled name fails `packer validate` with the closest names suggested.
	Profile string `mapstructure:"profile"`
	// Several profiles at once, e.g. `["azure-linux", "alibaba"]`; combined with `profile`. A
	// rule in several profiles is evaluated once.
	Profiles []string `mapstructure:"profiles"`
	// Check this disk image file instead of the one found in the build artifact. Use it when the
	// builder leaves several files, or none (cloud builders that keep the image remotely).
	Image string `mapstructure:"image"`
	// Check the VHD at this URL instead of the artifact's: a SAS URL (what a Marketplace offer is
	// submitted with), or a blob URL that Azure's default credential chain can read
	// (environment, workload identity, managed identity, `az login`). The blob is read with HTTP
	// range requests, never downloaded.
	VHDURL string `mapstructure:"vhd_url"`
	// The lowest severity that fails the build: `info`, `low` (default), `medium`, `high` or
	// `critical`. Findings below it are still reported. A rule that could not be evaluated
	// (status `error`) always fails the build: it proves nothing.
	FailOn string `mapstructure:"fail_on"`
	// Write the JSON report to this path (parent directories are created). This and every other
	// output path (`junit_report`, `mscert_report`, `sarif_report`, `alibaba_detection_report`, `report_dir`, `sbom`,
	// `integrity_manifest`) is checked by `packer validate`: it must not be the image checked
	// or another output, and a file must be creatable there. Each is written to a temporary
	// file beside it and renamed into place.
	JSONReport string `mapstructure:"json_report"`
	// Write a JUnit XML report to this path: one test suite per profile, one test case per rule,
	// failures for blocking findings. CI systems show it next to unit tests.
	JUnitReport string `mapstructure:"junit_report"`
	// Write the `azure-linux` findings as a JSON report with the fields of the Azure
	// certification self-test API's documented response (`TestResult`, `Tests` with the
	// self-test's `TestID`s 39 to 52, `TestCaseName`, `Description`, `Result`, `ActualValue`,
	// `RequiredValue`), plus one `MarketplaceCheck` section with the rule and LISA case behind each
	// test and the plugin's other checks, to this path. With the `azure-windows` profile alone it
	// writes the Windows tests the documented response shows (`1.1.4` OS Architecture, `1.1.6`
	// Failover Cluster; `1.1.5` User account dependency is decided at run time and listed as
	// such). `Result` is the predicted certification result, which can differ from the rule's
	// status (see `predicted_certification` under Reports).
	MSCertReport string `mapstructure:"mscert_report"`
	// Write the `alibaba` findings as a JSON report shaped like the results of Alibaba Cloud's
	// image check (DescribeImages' `DetectionOptions`, after CreateImage or ImportImage with
	// `DetectionStrategy=Standard`): `Status`, `Items` holding `Item`, a list of `Name`
	// (`Nvme`, `BootMode`, ...), `RiskCode`, `RiskLevel` (`High` or `Medium`, only on an item at
	// risk) and `Value`, plus one `MarketplaceCheck` section with the rules behind each item and
	// the profile's other rules, to this path.
	AlibabaDetectionReport string `mapstructure:"alibaba_detection_report"`
	// Report formats to write into `report_dir` without naming each path: `json`
	// (`marketplace-check.json`), `junit` (`marketplace-check-junit.xml`), `mscert`
	// (`marketplace-check-mscert.json`), `sarif` (`marketplace-check.sarif`),
	// `alibaba-detection` (`marketplace-check-alibaba-detection.json`). An explicit
	// `json_report`, `junit_report`, `mscert_report`, `sarif_report` or
	// `alibaba_detection_report` path wins.
	ReportFormats []string `mapstructure:"report_formats"`
	// The directory for `report_formats`; default the current directory.
	ReportDir string `mapstructure:"report_dir"`
	// Accept a failing rule for a documented reason (a block, repeatable): `rule` and `reason`,
	// both required; see the waive block below.
	Waivers []Waiver `mapstructure:"waive"`
	// Accounts with UID >= 1000 that the image is meant to ship (rule `no-extra-users` of the
	// `alibaba` profile), or Windows local accounts it ships enabled (rule
	// `windows-accounts-locked` of `azure-windows`).
	AllowedUsers []string `mapstructure:"allowed_users"`
	// In-image paths of business data and application caches that must be empty or absent (rule
	// `clean-paths` of the `alibaba` profile; not applicable when unset).
	CleanPaths []string `mapstructure:"clean_paths"`
	// Write a SARIF 2.1.0 report to this path, for code-scanning UIs (GitHub code scanning, Azure
	// DevOps, GitLab): every rule as a driver rule, every finding that did not pass as a result
	// located at its in-image path and line, waivers as external suppressions with their reason.
	SARIFReport string `mapstructure:"sarif_report"`
	// Read the contents of every regular file of every filesystem in the image for the rules
	// that need them, `no-hardcoded-credentials` and `no-malware`. Default `true`. With `false`
	// those rules are `not-applicable` and only metadata and configuration files are read.
	ContentScan *bool `mapstructure:"content_scan"`
	// In-image paths not searched for credentials: `path.Match` globs such as
	// `/opt/app/test/*.pem`, or directories ending in `/`. The report's ledger counts the files
	// each pattern declined. The checker's own defaults are narrower: SSH host keys (which
	// `no-ssh-host-keys` reports) are not searched, and what package managers and snapd
	// generate (apt's, rpm's and apk's databases and indexes, dpkg's file lists, digests and
	// status, kernel module indexes, store assertions) is searched with the rules that name a
	// credential by its shape only, without the generic ones; documentation, certificates and
	// maintainer scripts are searched, except the files a package installed unchanged.
	SecretsAllowPaths []string `mapstructure:"secrets_allow_paths"`
	// Fingerprints of reported values that are not secrets (a test fixture, a public demo key).
	// Each credential finding shows its fingerprint: an HMAC-SHA256 of the rule and the value
	// under a fingerprint key, so that a report's reader cannot confirm a guessed password
	// without the key. The key is `fingerprint_key`, else `MARKETPLACE_FINGERPRINT_KEY` from the
	// environment (set either from a CI secret so that fingerprints are the same on every
	// runner), else a random key created once in your configuration directory
	// (`~/.config/packer-plugin-marketplace/fingerprint.key`). An entry that matched no credential
	// is named in the report notes (a fingerprint from a report made under another key never does).
	SecretsAllowFingerprints []string `mapstructure:"secrets_allow_fingerprints"`
	// The key the credential fingerprints are computed with (sensitive: set it from a variable
	// marked `sensitive = true`, e.g. from a CI secret; Packer's logs hide it). With it,
	// fingerprints are the same on every machine that builds the template, so that one copied
	// from a report into `secrets_allow_fingerprints` keeps matching. Default
	// `MARKETPLACE_FINGERPRINT_KEY` from the environment, else the per-user key file. The report
	// notes say where the key came from (never the key), and an allow-listed fingerprint that
	// matched nothing is named there.
	FingerprintKey string `mapstructure:"fingerprint_key"`
	// A running ClamAV daemon to stream every file to (`INSTREAM`, one connection per scan
	// worker): `unix:///run/clamav/clamd.ctl`, `tcp://127.0.0.1:3310`, a socket path or
	// `host:port`. Without it `no-malware` is not applicable. A malformed address fails
	// `packer validate`, naming this option: a TCP address needs a host and a port from 1 to 65535
	// (`tcp://localhost` has none), a socket an absolute path of at most 107 bytes. An address that
	// does not answer fails the build with a message naming it.
	ClamdAddress string `mapstructure:"clamd_address"`
	// clamd's `StreamMaxLength` in MiB (default 25, clamd's own default). Larger files are not
	// sent, and `no-malware` is then an **error** listing them: a file clamd did not scan proves
	// nothing. A Linux image's initrd is often larger than 25 MiB: raise clamd's
	// `StreamMaxLength` and this option together (for example to 512).
	ClamdMaxStreamMB int `mapstructure:"clamd_max_stream_mb"`
	// Write a CycloneDX 1.5 JSON SBOM of the installed packages (dpkg, rpm, apk, read offline)
	// with package URLs (`pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=amd64&distro=debian-12`)
	// to this path, for any vulnerability scanner (Trivy, Grype, Dependency-Track).
	SBOM string `mapstructure:"sbom"`
	// Write a file-integrity baseline to this path: JSON with the path, size, mode, owner and
	// SHA-256 of every regular file, for drift monitoring on deployed machines. `complete` is
	// false when the pass could not read everything, and `unread` names what it left out; a file
	// without a digest says why (`not_hashed`).
	IntegrityManifest string `mapstructure:"integrity_manifest"`
	// Judge `security-updates-installed`: every installed package's source package against
	// the distribution's advisories for the image's release (OSV data). Default `true`. With
	// `false` the rule is `not-applicable` and says "not evaluated: turned off".
	VulnerabilityScan *bool `mapstructure:"vulnerability_scan"`
	// The OSV data to judge with: a local dump (an ecosystem's `all.zip` as OSV publishes it),
	// a directory of OSV JSON records, or an `https://` URL of a dump (plain `http` only to a
	// loopback address). Default `MARKETPLACE_VULNERABILITY_DB` from the environment, else the
	// release's dump from OSV's public bucket
	// (`https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip`), downloaded into
	// `$XDG_CACHE_HOME/packer-plugin-marketplace/osv/` and reused while fresh (conditional
	// requests, a deadline, retries). No data fresh enough and no way to refresh it makes the
	// rule an **error** naming this option.
	VulnerabilityDB string `mapstructure:"vulnerability_db"`
	// The oldest vulnerability data accepted, as a duration (`"24h"`, the default; `"72h"`).
	// A download is dated by the server's `Last-Modified`, a local file by its modification
	// time.
	VulnerabilityDBMaxAge time.Duration `mapstructure:"vulnerability_db_max_age"`
	// Fail `security-updates-installed` only on advisories of this severity or above: `low`,
	// `medium`, `high` or `critical` (from the record's CVSS v3 vector or the distribution's own
	// scale). Below it a fixable advisory warns; an advisory whose severity is unknown always
	// fails. Default: any fixable advisory fails.
	VulnerabilityFailOn string `mapstructure:"vulnerability_fail_on"`

	ctx interpolate.Context
}

// PostProcessor implements packer.PostProcessor.
type PostProcessor struct {
	config Config
	// plan is the check, resolved and validated when the post-processor is configured.
	plan *plan.Plan
}

// ConfigSpec implements packer.PostProcessor.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "marketplace-check",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
	}, raws...)
	if err != nil {
		return err
	}
	if p.config.FingerprintKey != "" {
		packer.LogSecretFilter.Set(p.config.FingerprintKey)
	}
	pl, err := plan.New(p.config.Choices())
	if err == nil && p.config.Image != "" {
		err = pl.CheckInputs(p.config.Image)
	}
	if err != nil {
		return fmt.Errorf("marketplace-check: %w", err)
	}
	p.plan = pl
	return nil
}

// progressEvery is how often a progress line is said when Packer shows no progress bar (tests
// shorten it).
var progressEvery = engine.ProgressEvery

// haveTerminal reports whether Packer draws its progress bar: as Packer does, whether a
// terminal can be opened (without one, in CI, Packer's bar is a no-op).
var haveTerminal = func() bool {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Choices are what the HCL configuration asks of the check's plan.
func (c *Config) Choices() plan.Choices {
	ch := plan.Choices{Profiles: c.Profiles, FailOn: c.FailOn, SBOM: c.SBOM,
		Options: rules.Options{AllowedUsers: c.AllowedUsers, CleanPaths: c.CleanPaths},
		Content: plan.ContentChoices{Off: c.ContentScan != nil && !*c.ContentScan, SecretsAllowPaths: c.SecretsAllowPaths,
			SecretsAllowFingerprints: c.SecretsAllowFingerprints, ClamdAddress: c.ClamdAddress,
			ClamdMaxStreamMB: c.ClamdMaxStreamMB, Manifest: c.IntegrityManifest},
		Reports: plan.Reports{JSON: c.JSONReport, JUnit: c.JUnitReport, MSCert: c.MSCertReport, SARIF: c.SARIFReport,
			AlibabaDetection: c.AlibabaDetectionReport, Formats: c.ReportFormats, Dir: c.ReportDir},
		Vulnerabilities: plan.VulnChoices{Off: c.VulnerabilityScan != nil && !*c.VulnerabilityScan, DB: c.VulnerabilityDB,
			MaxAge: c.VulnerabilityDBMaxAge, FailOn: c.VulnerabilityFailOn}}
	if c.FingerprintKey != "" {
		ch.Content.FingerprintKey, ch.Content.FingerprintKeyFrom = c.FingerprintKey, "fingerprint_key in the template"
	}
	if c.Profile != "" {
		ch.Profiles = append([]string{c.Profile}, c.Profiles...)
	}
	for _, w := range c.Waivers {
		ch.Waivers = append(ch.Waivers, plan.Waiver{Rule: w.Rule, Reason: w.Reason})
	}
	return ch
}

// PostProcess checks the artifact's disk image. The artifact is passed on unchanged and kept.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packer.Ui, artifact packer.Artifact) (_ packer.Artifact, _, _ bool, err error) {
	// the artifact's URL holds a SAS token, errors and messages may quote it or the image
	bare := ui // Packer's progress bar needs the UI itself; it is given the redacted name only
	ui = redactingUi{ui}
	defer func() { err = redact.Error(err) }()
	path, err := p.diskImage(ui, artifact)
	if err != nil {
		return artifact, true, true, err
	}
	// Packer prefixes every line with the post-processor's name: the lines do not repeat it
	if p.plan.ProfileGiven() {
		ui.Say(fmt.Sprintf("checking %s against %s", blob.Redact(path), strings.Join(p.plan.Profiles(), ", ")))
	} else {
		ui.Say(fmt.Sprintf("checking %s against the Azure profile of the guest OS it holds (azure-linux or azure-windows: no profile given)", blob.Redact(path)))
	}
	var progress func(done, total int64)
	endProgress := func() {}
	if p.plan.NeedsContent() {
		ui.Say("reading every file of the image (content scan)")
		if haveTerminal() {
			bar := newProgressBar(bare, shortName(path), ui.Say)
			defer bar.Close()
			progress, endProgress = bar.Set, func() { bar.Close() }
		} else {
			// a CI log: a line every 10 s, whether bytes move or not
			l := &engine.ProgressLog{Print: ui.Say, Name: shortName(path), Every: progressEvery}
			defer l.Stop()
			progress, endProgress = l.Set, l.Stop
		}
	}
	// what the outputs were before, so that a file left by an earlier build is not taken for
	// one this check wrote
	before := map[string]os.FileInfo{}
	for _, o := range p.plan.Outputs() {
		if st, err := os.Stat(o.Path); err == nil {
			before[o.Path] = st
		}
	}
	r, err := engine.CheckContext(ctx, path, p.plan, progress)
	endProgress() // the last progress line before the verdict
	if err != nil {
		return artifact, true, true, fmt.Errorf("marketplace-check: %w", err)
	}
	if !p.plan.ProfileGiven() {
		ui.Say(fmt.Sprintf("checked against %s, the profile for the guest OS found (%s)", strings.Join(r.Profiles, ", "), orUnknown(r.Image.OS)))
	}
	var table strings.Builder
	r.WriteTable(&table)
	// the engine redacted every value the report quotes from the image where it entered the
	// report; a second pass over the finished sentences would eat the rules' own words, so only
	// URL credentials (which no rule prose contains) are hidden again
	bare.Message(redact.URLs(table.String()))
	out := p.plan.Reports()
	if err := engine.WriteReports(r, out); err != nil {
		return artifact, true, true, fmt.Errorf("marketplace-check: %w", err)
	}
	for _, o := range p.plan.Outputs() {
		// said only of a file that is there, and new
		if !rewritten(before[o.Path], o.Path) {
			return artifact, true, true, fmt.Errorf("marketplace-check: %s %s was not written", o.Option, o.Path)
		}
		ui.Say("written " + o.Path)
	}
	if !r.Compliant {
		return artifact, true, true, fmt.Errorf("marketplace-check: %s is not marketplace-ready: %s", shortName(path), BlockingSummary(r))
	}
	if b := r.Image.Blob; b != nil {
		ui.Say(fmt.Sprintf("read %d bytes of the %d-byte blob in %d range requests (%d retried)", b.Bytes, r.Image.FileSize, b.Requests, b.Retries))
	}
	ui.Say(shortName(path) + " is compliant")
	if artifact == nil {
		return nil, true, true, nil
	}
	verdict := fmt.Sprintf("%s checked by marketplace-check: compliant with %s", shortName(path), strings.Join(r.Profiles, ", "))
	if o := p.plan.Outputs(); len(o) > 0 {
		var paths []string
		for _, f := range o {
			paths = append(paths, f.Path)
		}
		verdict += "; reports: " + strings.Join(paths, ", ")
	}
	return checkedArtifact{artifact, redact.Text(verdict)}, true, true, nil
}

// checkedArtifact is the artifact a check passes on: the input artifact itself for every
// post-processor after it (its builder ID, ID, files, state; destroying it destroys the input),
// told apart only in Packer's list of artifacts, which names the input once and this one by
// the check's verdict (returning the input itself listed it twice, word for word).
type checkedArtifact struct {
	packer.Artifact
	verdict string
}

func (a checkedArtifact) String() string { return a.verdict }

// BlockingSummary says what blocks a report: the rules violated (failed at or above fail_on)
// and, apart, the rules that could not be evaluated, e.g. "2 rule(s) violated: a, b; 1 rule(s)
// could not be evaluated: c".
func BlockingSummary(r *report.Report) string {
	var failed, errored []string
	for _, f := range r.Blocking() {
		if f.Status == rules.Error {
			errored = append(errored, f.Rule)
		} else {
			failed = append(failed, f.Rule)
		}
	}
	var parts []string
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("%d rule(s) violated: %s", len(failed), strings.Join(failed, ", ")))
	}
	if len(errored) > 0 {
		parts = append(parts, fmt.Sprintf("%d rule(s) could not be evaluated: %s", len(errored), strings.Join(errored, ", ")))
	}
	return strings.Join(parts, "; ")
}

func orUnknown(s string) string {
	if s == "" {
		return "not identified"
	}
	return s
}

// rewritten reports whether path is a regular file that is not the one before (nil when there
// was none): another file, or the same one changed.
func rewritten(before os.FileInfo, path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return before == nil || !os.SameFile(before, st) || !st.ModTime().Equal(before.ModTime()) || st.Size() != before.Size()
}

// redactingUi hides credentials in everything said to Packer's UI.
type redactingUi struct{ packer.Ui }

func (u redactingUi) Say(s string)     { u.Ui.Say(redact.Text(s)) }
func (u redactingUi) Message(s string) { u.Ui.Message(redact.Text(s)) }
func (u redactingUi) Error(s string)   { u.Ui.Error(redact.Text(s)) }

// shortName names an image in messages: a file's base name, a blob's name without its SAS.
func shortName(path string) string {
	if blob.IsURL(path) {
		return filepath.Base(strings.SplitN(path, "?", 2)[0])
	}
	return filepath.Base(path)
}

// azureARM is the azure-arm builder's artifact ID.
const azureARM = "Azure.ResourceManagement.VMImage"

var sasLine = regexp.MustCompile(`(?m)^OSDiskUriReadOnlySas: (https?://\S+)`)

// azureVHD finds the OS disk VHD of an azure-arm artifact: its read-only SAS URL, else its URI
// (read with the default Azure credential). A managed image or gallery version without a VHD
// is an error that says how to get one.
func azureVHD(artifact packer.Artifact) (string, error) {
	if m := sasLine.FindStringSubmatch(artifact.String()); m != nil {
		return m[1], nil
	}
	if id := artifact.Id(); strings.HasPrefix(id, "https://") && strings.HasSuffix(strings.ToLower(id), ".vhd") {
		return id, nil
	}
	return "", fmt.Errorf("marketplace-check: the azure-arm artifact %s is a managed image or gallery image version with no VHD to read; "+
		"capture a VHD (set storage_account, capture_container_name and capture_name_prefix in the azure-arm source, the VHD a "+
		"Marketplace offer references), or set vhd_url to a SAS URL of the OS disk", artifact.Id())
}

// diskImage picks the disk image to check: the `image` or `vhd_url` option, else the first file
// of the artifact that is a disk image by content, else the VHD of an azure-arm artifact.
func (p *PostProcessor) diskImage(ui packer.Ui, artifact packer.Artifact) (string, error) {
	if p.config.VHDURL != "" {
		return p.config.VHDURL, nil
	}
	if p.config.Image != "" {
		if _, err := os.Stat(p.config.Image); err != nil {
			return "", fmt.Errorf("marketplace-check: image: %w", err)
		}
		return p.config.Image, nil
	}
	var files []string
	if artifact != nil {
		files = artifact.Files()
	}
	var disks []string
	for _, f := range files {
		if image.LooksLikeDisk(f) {
			disks = append(disks, f)
		}
	}
	if len(disks) == 0 && artifact != nil && artifact.BuilderId() == azureARM {
		return azureVHD(artifact)
	}
	if len(disks) == 0 {
		builder := "(none)"
		if artifact != nil {
			builder = artifact.BuilderId()
		}
		return "", fmt.Errorf("marketplace-check: the artifact of builder %s has no local disk image among its %d file(s) %v; "+
			"set `image` to the disk to check (builders that keep the image in the cloud leave nothing to read locally)",
			builder, len(files), files)
	}
	if len(disks) > 1 {
		ui.Message(fmt.Sprintf("the artifact has %d disk images; checking the first (the OS disk): %s", len(disks), disks[0]))
	}
	return disks[0], nil
}
