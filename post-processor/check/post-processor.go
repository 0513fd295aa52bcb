//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,Waiver

// Package check is the marketplace-check post-processor: it opens the disk image the builder
// produced, offline, evaluates the marketplace rule profiles and fails the build when a rule is
// violated and not waived.
package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	engine "github.com/marketready/packer-plugin-marketplace/internal/check"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// Waiver accepts a failing rule for a documented reason.
type Waiver struct {
	// The rule ID to waive, e.g. `firewall-disabled`.
	Rule string `mapstructure:"rule" required:"true"`
	// Why the image ships this way. Required; it is printed in every report.
	Reason string `mapstructure:"reason" required:"true"`
}

// Config is the post-processor's configuration.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The rule profile to check: `azure-linux` (default), `alibaba`, `azure-windows` or
	// `alibaba-windows`.
	Profile string `mapstructure:"profile"`
	// Several profiles at once; combined with `profile`.
	Profiles []string `mapstructure:"profiles"`
	// Check this disk image instead of the one found in the build artifact.
	Image string `mapstructure:"image"`
	// Check the VHD at this URL (a SAS URL, or a blob URL the default Azure credential can
	// read) instead of the artifact's, with range requests.
	VHDURL string `mapstructure:"vhd_url"`
	// The lowest severity that fails the build: `info`, `low` (default), `medium`, `high`, `critical`.
	FailOn string `mapstructure:"fail_on"`
	// Write the JSON report to this path.
	JSONReport string `mapstructure:"json_report"`
	// Write the JUnit XML report to this path.
	JUnitReport string `mapstructure:"junit_report"`
	// Write the certification-shaped JSON report (the self-test's TestID, TestCaseName, Result,
	// ActualValue, RequiredValue; the Linux tests 39 to 52, or the Windows tests 1.1.4 to 1.1.6 for
	// the azure-windows profile) to this path.
	MSCertReport string `mapstructure:"mscert_report"`
	// Report formats to write into `report_dir` when no explicit path is set: `json`, `junit`,
	// `mscert`.
	ReportFormats []string `mapstructure:"report_formats"`
	// Directory for `report_formats`; default the current directory.
	ReportDir string `mapstructure:"report_dir"`
	// Waive a failing rule; repeat the block for several rules.
	Waivers []Waiver `mapstructure:"waive"`
	// Accounts with UID >= 1000 that the image is meant to ship (alibaba `no-extra-users`), or
	// Windows local accounts it ships enabled (azure-windows `windows-accounts-locked`).
	AllowedUsers []string `mapstructure:"allowed_users"`
	// Paths of business data and caches that must be empty (alibaba `clean-paths`).
	CleanPaths []string `mapstructure:"clean_paths"`
	// Write the SARIF 2.1.0 report (for code-scanning UIs) to this path.
	SARIFReport string `mapstructure:"sarif_report"`
	// Read every file of the image for the rules that need contents (`no-hardcoded-credentials`,
	// `no-malware`); default true. With false those rules are not applicable.
	ContentScan *bool `mapstructure:"content_scan"`
	// In-image paths not searched for credentials: globs (`/opt/app/test/*.pem`) or directories
	// ending in `/`. Added to the defaults (SSH host keys, documentation, package databases).
	SecretsAllowPaths []string `mapstructure:"secrets_allow_paths"`
	// Fingerprints of reported values that are not secrets (shown with each finding).
	SecretsAllowFingerprints []string `mapstructure:"secrets_allow_fingerprints"`
	// A running clamd to scan every file for malware: `unix:///run/clamav/clamd.ctl`,
	// `tcp://host:3310`, a socket path or `host:port`. Without it `no-malware` is not applicable.
	ClamdAddress string `mapstructure:"clamd_address"`
	// clamd's StreamMaxLength in MiB (default 25): larger files are not sent, and no-malware is
	// then an error listing them (raise clamd's StreamMaxLength and this together).
	ClamdMaxStreamMB int `mapstructure:"clamd_max_stream_mb"`
	// Write a CycloneDX 1.5 SBOM of the installed packages (dpkg, rpm, apk) to this path.
	SBOM string `mapstructure:"sbom"`
	// Write a file-integrity baseline (path, size, mode, owner, SHA-256 of every file) as JSON
	// to this path.
	IntegrityManifest string `mapstructure:"integrity_manifest"`

	ctx      interpolate.Context
	settings engine.Config
	outputs  engine.Outputs
}

// PostProcessor implements packersdk.PostProcessor.
type PostProcessor struct {
	config Config
}

// ConfigSpec implements packersdk.PostProcessor.
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
	s, err := p.config.Settings()
	if err != nil {
		return err
	}
	p.config.settings = s
	p.config.outputs = engine.Outputs{JSON: p.config.JSONReport, JUnit: p.config.JUnitReport, MSCert: p.config.MSCertReport, SARIF: p.config.SARIFReport}
	if err := p.config.outputs.ForFormats(p.config.ReportDir, p.config.ReportFormats); err != nil {
		return fmt.Errorf("marketplace-check: report_formats: %w", err)
	}
	return nil
}

// Settings turns the HCL configuration into the engine's, validating it.
func (c *Config) Settings() (engine.Config, error) {
	var errs []error
	s := engine.Config{Options: rules.Options{AllowedUsers: c.AllowedUsers, CleanPaths: c.CleanPaths}, SBOM: c.SBOM,
		Content: engine.ContentOptions{Off: c.ContentScan != nil && !*c.ContentScan, SecretsAllowPaths: c.SecretsAllowPaths,
			SecretsAllowFingerprints: c.SecretsAllowFingerprints, ClamdAddress: c.ClamdAddress,
			ClamdMaxStream: int64(c.ClamdMaxStreamMB) << 20, Manifest: c.IntegrityManifest}}
	if c.ClamdMaxStreamMB < 0 {
		errs = append(errs, fmt.Errorf("clamd_max_stream_mb must be positive"))
	}
	if c.Profile != "" {
		s.Profiles = append(s.Profiles, c.Profile)
	}
	s.Profiles = append(s.Profiles, c.Profiles...)
	if len(s.Profiles) == 0 {
		s.Profiles = []string{"azure-linux"}
	}
	if c.FailOn == "" {
		c.FailOn = "low"
	}
	sev, err := rules.ParseSeverity(c.FailOn)
	if err != nil {
		errs = append(errs, fmt.Errorf("fail_on: %w", err))
	}
	s.FailOn = sev
	for _, w := range c.Waivers {
		s.Waivers = append(s.Waivers, report.Waiver{Rule: w.Rule, Reason: w.Reason})
	}
	if err := s.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("marketplace-check: %w", errors.Join(errs...))
	}
	return s, nil
}

// PostProcess checks the artifact's disk image. The artifact is passed on unchanged and kept.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, artifact packersdk.Artifact) (_ packersdk.Artifact, _, _ bool, err error) {
	// the artifact's URL holds a SAS token, errors and messages may quote it or the image
	bare := ui // Packer's progress bar needs the UI itself; it is given the redacted name only
	ui = redactingUi{ui}
	defer func() { err = redact.Error(err) }()
	path, err := p.diskImage(ui, artifact)
	if err != nil {
		return artifact, true, true, err
	}
	ui.Say(fmt.Sprintf("marketplace-check: checking %s against %s", blob.Redact(path), strings.Join(p.config.settings.Profiles, ", ")))
	settings := p.config.settings
	if settings.NeedsContent() {
		ui.Say("marketplace-check: reading every file of the image (content scan)")
		bar := newProgressBar(bare, shortName(path))
		defer bar.Close()
		settings.Content.Progress = bar.Set
	}
	r, err := engine.File(path, settings)
	if err != nil {
		return artifact, true, true, fmt.Errorf("marketplace-check: %w", err)
	}
	var table strings.Builder
	r.WriteTable(&table)
	ui.Message(table.String())
	out := p.config.outputs
	if err := engine.Write(r, out); err != nil {
		return artifact, true, true, fmt.Errorf("marketplace-check: %w", err)
	}
	for _, f := range []string{out.JSON, out.JUnit, out.MSCert, out.SARIF, p.config.SBOM, p.config.IntegrityManifest} {
		if f != "" {
			ui.Say("marketplace-check: written " + f)
		}
	}
	if !r.Compliant {
		var ids []string
		for _, f := range r.Blocking() {
			ids = append(ids, f.Rule)
		}
		return artifact, true, true, fmt.Errorf("marketplace-check: %s is not marketplace-ready: %d rule(s) violated: %s",
			shortName(path), len(ids), strings.Join(ids, ", "))
	}
	if b := r.Image.Blob; b != nil {
		ui.Say(fmt.Sprintf("marketplace-check: read %d bytes of the %d-byte blob in %d range requests (%d retried)", b.Bytes, r.Image.FileSize, b.Requests, b.Retries))
	}
	ui.Say("marketplace-check: " + shortName(path) + " is compliant")
	return artifact, true, true, nil
}

// redactingUi hides credentials in everything said to Packer's UI.
type redactingUi struct{ packersdk.Ui }

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
func azureVHD(artifact packersdk.Artifact) (string, error) {
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
func (p *PostProcessor) diskImage(ui packersdk.Ui, artifact packersdk.Artifact) (string, error) {
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
		ui.Message(fmt.Sprintf("marketplace-check: the artifact has %d disk images; checking the first (the OS disk): %s", len(disks), disks[0]))
	}
	return disks[0], nil
}
