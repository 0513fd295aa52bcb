package engine

import (
	"context"
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/atomicfile"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/sbom"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	_ "github.com/marketready/packer-plugin-marketplace/internal/scan/scanners" // registers every content scanner
	"github.com/marketready/packer-plugin-marketplace/internal/version"
)

// ScanContent runs the one streaming pass over every file with the scanners registered for the
// kinds of content the plan needs (its rules' needs, and the integrity baseline when asked for),
// with opts (workers, progress), and writes what the scanners make (the baseline). It returns nil
// when no pass is needed. A scanner that cannot start (an unreachable clamd) is an error: a scan
// that was asked for must not silently not run.
func ScanContent(ctx context.Context, img *inspect.Image, p *plan.Plan, opts scan.Options) (*rules.Content, error) {
	kinds := p.ContentKinds()
	if len(kinds) == 0 {
		return nil, nil
	}
	var scanners []scan.Scanner
	for _, k := range kinds {
		src, ok := scan.SourceOf(k)
		if !ok {
			return nil, fmt.Errorf("content scan: no scanner provides %q", k)
		}
		s, err := src.New(img, p.Content())
		if err != nil {
			return nil, err
		}
		if s != nil {
			scanners = append(scanners, s)
			if k.SearchesXattrs() {
				opts.Xattrs = append(opts.Xattrs, s.Name())
			}
		}
	}
	content := &rules.Content{Results: map[scan.Kind]*scan.Result{}}
	if len(scanners) == 0 {
		return content, nil
	}
	st, err := scan.Run(ctx, img, opts, scanners...)
	if err != nil {
		return nil, fmt.Errorf("content scan: %w", err)
	}
	content.Stats = st
	for _, s := range scanners {
		if r, ok := s.(scan.Reporter); ok {
			res := r.Result()
			content.Results[res.Kind] = &res
		}
		if a, ok := s.(scan.Artifact); ok {
			if err := atomicfile.Write(a.Artifact(img, st)); err != nil {
				return nil, err
			}
		}
	}
	return content, nil
}

// WriteSBOM writes the CycloneDX SBOM of the image's installed packages.
func WriteSBOM(img *inspect.Image, path string, advisories ...sbom.Advisory) error {
	inv, err := img.Packages()
	if err != nil && err != pkgdb.ErrNoDatabase {
		return fmt.Errorf("reading the package database for the SBOM: %w", err)
	}
	rel := img.OSRelease()
	osInfo := sbom.OS{ID: rel.ID, VersionID: rel.VersionID, Name: rel.PrettyName}
	b := sbom.Build(inv, osInfo, img.Source, "packer-plugin-marketplace", version.PluginVersion.FormattedVersion(), time.Now())
	b.AddVulnerabilities(advisories)
	return atomicfile.Write(path, b.Write)
}
