package check

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/sbom"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/clamd"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/integrity"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
)

// NeedsContent reports whether the configuration makes the streaming pass run: a selected rule
// reads file contents, or a baseline manifest is asked for, and content scanning is on.
func (c *Config) NeedsContent() bool {
	if c.Content.Off {
		return false
	}
	if c.Content.Manifest != "" {
		return true
	}
	rs, _ := rules.ForProfiles(c.Profiles)
	return slices.ContainsFunc(rs, func(r *rules.Rule) bool { return r.NeedsContent })
}

// ScanContent runs the one streaming pass over every file with the scanners the configuration
// asks for, and writes the integrity manifest. It returns nil when no pass is needed. An
// unreachable clamd is an error: a malware scan that was asked for must not silently not run.
func ScanContent(ctx context.Context, img *inspect.Image, cfg Config) (*rules.Content, error) {
	if !cfg.NeedsContent() {
		return nil, nil
	}
	rs, _ := rules.ForProfiles(cfg.Profiles)
	wants := func(id string) bool { return slices.ContainsFunc(rs, func(r *rules.Rule) bool { return r.ID == id }) }
	var scanners []scan.Scanner
	content := &rules.Content{}

	var sec *secrets.Scanner
	if wants("no-hardcoded-credentials") {
		allow := secrets.DefaultAllowPaths
		if cfg.Content.SecretsAllowPaths != nil {
			allow = append(slices.Clone(secrets.DefaultAllowPaths), cfg.Content.SecretsAllowPaths...)
		}
		var vendor map[string]string
		if img.Root != nil {
			vendor = pkgdb.DpkgDigests(img.Root)
		}
		var err error
		sec, err = secrets.New(secrets.Options{AllowPaths: allow, AllowFingerprints: cfg.Content.SecretsAllowFingerprints, Vendor: vendor})
		if err != nil {
			return nil, err
		}
		scanners = append(scanners, sec)
	}
	var av *clamd.Scanner
	if cfg.Content.ClamdAddress != "" && wants("no-malware") {
		var err error
		if av, err = clamd.NewWithTimeout(cfg.Content.ClamdAddress, cfg.Content.ClamdMaxStream, cfg.Content.ClamdTimeout); err != nil {
			return nil, err
		}
		scanners = append(scanners, av)
	}
	var base *integrity.Scanner
	if cfg.Content.Manifest != "" {
		base = integrity.New()
		scanners = append(scanners, base)
	}
	if len(scanners) == 0 {
		return content, nil
	}
	st, err := scan.Run(ctx, img, scan.Options{Progress: cfg.Content.Progress}, scanners...)
	if err != nil {
		return nil, fmt.Errorf("content scan: %w", err)
	}
	content.Stats = st
	if sec != nil {
		content.SecretsRan = true
		content.Secrets = sec.Findings()
		content.SecretsSearched, content.SecretsVendor, content.SecretsBinary = sec.Counts()
		content.SecretsArchives = sec.Archives()
		content.SecretRules = sec.RuleCount()
	}
	if av != nil {
		content.MalwareRan = true
		content.Malware = av.Detections()
		content.ClamdVersion = av.Version()
		content.ClamdScanned, content.ClamdOversized = av.Counts()
	}
	if base != nil {
		m := base.Manifest(img.Source, time.Now())
		if n, ex := st.Missed(base.Name()); n > 0 {
			m.Complete, m.Unread, m.UnreadCount = false, ex, n
		}
		if err := writeFile(cfg.Content.Manifest, m.Write); err != nil {
			return nil, err
		}
	}
	return content, nil
}

// WriteSBOM writes the CycloneDX SBOM of the image's installed packages.
func WriteSBOM(img *inspect.Image, path string) error {
	inv, err := img.Packages()
	if err != nil && err != pkgdb.ErrNoDatabase {
		return fmt.Errorf("reading the package database for the SBOM: %w", err)
	}
	rel := img.OSRelease()
	osInfo := sbom.OS{ID: rel.ID, VersionID: rel.VersionID, Name: rel.PrettyName}
	b := sbom.Build(inv, osInfo, img.Source, "packer-plugin-marketplace", version.PluginVersion.FormattedVersion(), time.Now())
	return writeFile(path, b.Write)
}

// writeFile creates path (and its directory) and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
