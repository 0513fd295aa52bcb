package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/osvdata"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/sbom"
)

// vulnRule is the rule that judges the advisories fact.
const vulnRule = "security-updates-installed"

// LoadVulnerabilities builds the advisories fact of a Linux image when the plan has the rule
// that judges it: the release's OSV records (from vulnerability_db, $MARKETPLACE_VULNERABILITY_DB
// or OSV's bucket through the cache) matched against the installed packages. What stops it (no
// package database, no ecosystem for the release, no fresh data) is the fact's error, which the
// rule reports; nil when the plan has no such rule.
func LoadVulnerabilities(ctx context.Context, img *inspect.Image, p *plan.Plan) *rules.Vulnerabilities {
	if !p.HasRule(vulnRule) || img.Root == nil {
		return nil
	}
	o := p.Vulnerabilities()
	v := &rules.Vulnerabilities{Off: o.Off, FailOn: o.FailOn}
	if o.Off {
		return v
	}
	inv, err := img.Packages()
	if err != nil {
		v.Err = fmt.Errorf("the installed packages: %w", err)
		return v
	}
	v.Database = inv.Path
	osr := img.OSRelease()
	if osr.Err != nil {
		v.Err = osr.Err
		return v
	}
	rel, err := advisories.ReleaseOf(osr.ID, osr.VersionID)
	if err != nil {
		v.Err = err
		return v
	}
	installed := map[string]bool{}
	for _, pkg := range inv.Packages {
		installed[pkg.Name], installed[pkg.SourceName()] = true, true
	}
	f := rel.Filter
	f.Package = func(name string) bool { return installed[name] }
	loc := o.DB
	if loc == "" {
		loc = os.Getenv(plan.VulnerabilityDBEnv)
	}
	l, err := osvdata.Load(ctx, rel.Dump, f, osvdata.Options{Location: loc, DefaultURL: advisories.BucketURL,
		MaxAge: o.MaxAge, CacheDir: o.CacheDir})
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(err, context.Cause(ctx))
		}
		v.Err = err
		return v
	}
	res := advisories.Match(inv, rel, l.DB)
	res.Data = advisories.Data{Source: l.Source, Date: l.Date, NewestRecord: l.DB.Newest, Records: l.DB.Kept}
	v.Result = res
	return v
}

// sbomAdvisories are the SBOM's vulnerabilities: the advisories found, fixable or not.
func sbomAdvisories(v *rules.Vulnerabilities) []sbom.Advisory {
	if v == nil || v.Result == nil {
		return nil
	}
	var out []sbom.Advisory
	for _, f := range append(append([]advisories.Finding(nil), v.Result.Fixable...), v.Result.Unfixed...) {
		out = append(out, sbom.Advisory{ID: f.Advisory, Source: f.Source, Installed: f.Installed, Fixed: f.Fixed,
			Severity: f.Severity.String(), SeverityFrom: f.SeverityFrom, Aliases: f.Aliases, Packages: f.Packages, Database: v.Result.Data.Source})
	}
	return out
}
