package advisories

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

// Finding is one advisory that affects one installed source package.
type Finding struct {
	Advisory string   `json:"advisory"`          // DSA-5532-1, USN-6986-1, ALSA-2024:1234…
	Aliases  []string `json:"aliases,omitempty"` // the CVEs (and other IDs) it covers
	Source   string   `json:"source"`            // the source package the advisory names
	Packages []string `json:"packages"`          // the installed packages built from it
	// Installed is the source package's installed version; Fixed the version that fixes it,
	// "" when the distribution has no fix yet.
	Installed string `json:"installed"`
	Fixed     string `json:"fixed,omitempty"`
	Severity  Level  `json:"severity"`
	// SeverityFrom says where the severity was read ("CVSS:3.1 base 7.5"); empty when unknown.
	SeverityFrom string `json:"severity_from,omitempty"`
}

// Data says what the verdict rests on.
type Data struct {
	Source string    `json:"source"` // a path or URL (redacted)
	Date   time.Time `json:"date"`   // when the data was made: the download's Last-Modified, or the file's time
	// NewestRecord is the latest "modified" of the records read.
	NewestRecord time.Time `json:"newest_record"`
	Records      int       `json:"records"` // the release's records kept
}

// Result is the fact: what the release's advisories say of the installed packages.
type Result struct {
	Release string `json:"release"` // "Debian:12"
	Data    Data   `json:"data"`
	// Fixable: affected, and the distribution has a fix that is not installed; Unfixed:
	// affected with no fix yet (counted, not failed).
	Fixable []Finding `json:"fixable"`
	Unfixed []Finding `json:"unfixed"`
	// Unevaluated are the records that could not be placed against an installed version (a
	// version the order refuses): the verdict cannot rest on them.
	Unevaluated []string `json:"unevaluated,omitempty"`
	Sources     int      `json:"sources"` // source packages installed
}

// Match evaluates every record of the release that names an installed source package (or,
// for the databases that name binary packages, an installed package) against the installed
// version, with the release's version order.
func Match(inv *pkgdb.Inventory, rel Release, db *osv.DB) *Result {
	type source struct {
		name, version string
		packages      []string
		versions      []string // each package's own version, beside packages
	}
	bySource := map[string]*source{}
	var order []string
	for _, p := range inv.Packages {
		key := p.SourceName() + "\x00" + p.SourceVer()
		s := bySource[key]
		if s == nil {
			s = &source{name: p.SourceName(), version: p.SourceVer()}
			bySource[key] = s
			order = append(order, key)
		}
		s.packages = append(s.packages, p.Name)
		s.versions = append(s.versions, p.Version)
	}
	sort.Strings(order)
	res := &Result{Release: rel.Name, Sources: len(order)}
	seen := map[string]bool{}
	for _, key := range order {
		s := bySource[key]
		// records that name the source package, then those that name a binary package
		type cand struct {
			name, version string
		}
		cands := []cand{{s.name, s.version}}
		for i, b := range s.packages {
			if b != s.name {
				cands = append(cands, cand{b, s.versions[i]})
			}
		}
		for _, c := range cands {
			for _, r := range db.For(c.name) {
				id := r.ID + "\x00" + s.name
				if seen[id] {
					continue
				}
				for _, a := range r.Affected {
					if a.Package.Name != c.name || !rel.Filter.Ecosystem(a.Package.Ecosystem) {
						continue
					}
					v, err := a.Evaluate(c.version, rel.Scheme)
					if err != nil {
						res.Unevaluated = append(res.Unevaluated, fmt.Sprintf("%s (%s %s): %v", r.ID, c.name, c.version, err))
						seen[id] = true
						break
					}
					if !v.Affected {
						continue
					}
					seen[id] = true
					lvl, from := Severity(r, a)
					f := Finding{Advisory: r.ID, Aliases: aliases(r), Source: c.name, Packages: s.packages,
						Installed: c.version, Fixed: v.Fixed, Severity: lvl, SeverityFrom: from}
					if v.Fixed != "" {
						res.Fixable = append(res.Fixable, f)
					} else {
						res.Unfixed = append(res.Unfixed, f)
					}
					break
				}
			}
		}
	}
	return res
}

// aliases: the CVE IDs a record covers, from aliases and (Ubuntu, Debian) upstream.
func aliases(r *osv.Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range append(append([]string(nil), r.Aliases...), r.Upstream...) {
		for _, pre := range []string{"UBUNTU-", "DEBIAN-"} {
			a = strings.TrimPrefix(a, pre)
		}
		if a != r.ID && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Below reports whether a finding's severity is known and below the threshold (vulnerability_fail_on):
// an unknown severity is never below (it cannot be shown to be).
func (f Finding) Below(threshold Level) bool {
	return f.Severity != Unknown && f.Severity < threshold
}
