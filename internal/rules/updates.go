package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
)

var _ = register(&Rule{
	ID:       "security-updates-installed",
	Title:    "Every security fix the distribution has published is installed",
	Severity: High,
	Source: "Azure Marketplace image security recommendations (Linux: install all the latest security patches for the distribution); " +
		"Alibaba Cloud image best practices (no vulnerabilities that have a fix); the distributions' advisories as OSV publishes them " +
		"(Debian DSA/DLA, Ubuntu USN, Alpine secdb, Red Hat and its rebuilds)",
	Rationale: "A marketplace image is deployed as it is: a package behind on a security fix ships the vulnerability to every customer, " +
		"and the marketplaces' own scans reject it.",
	Fix: "Upgrade the packages during the build (marketplace-harden's `updates` step, or `apt-get upgrade`/`dnf upgrade`/`apk upgrade`) " +
		"and rebuild; an advisory you cannot take yet can be waived with a reason.",
	Check: linux(func(c *Context) Result {
		v := c.Vulnerabilities
		switch {
		case v == nil:
			return Result{Status: Error, Message: "the vulnerability data was not loaded: nothing shows the packages are up to date"}
		case v.Off:
			return na("not evaluated: turned off (vulnerability_scan = false, --no-vulnerability-scan)")
		case v.Err != nil:
			return errResult(v.Err)
		}
		return judgeAdvisories(v)
	}),
})

func judgeAdvisories(v *Vulnerabilities) Result {
	r := v.Result
	data := fmt.Sprintf("OSV data for %s: %s, made %s (%d records for the release)", r.Release, r.Data.Source,
		r.Data.Date.UTC().Format(time.RFC3339), r.Data.Records)
	res := Result{Required: "every advisory with a fix installed"}
	var ev []Evidence
	if len(r.Unevaluated) > 0 {
		for _, u := range r.Unevaluated {
			ev = append(ev, Evidence{Path: v.Database, Detail: Quote(u)})
		}
		res.Status = Error
		res.Message = Quotef("%d advisory record(s) could not be placed against the installed versions; %s", len(r.Unevaluated), data)
		res.Evidence = listing(ev, 50)
		return res
	}
	var failing, below []advisories.Finding
	for _, f := range r.Fixable {
		if v.FailOn != advisories.Unknown && f.Below(v.FailOn) {
			below = append(below, f)
		} else {
			failing = append(failing, f)
		}
	}
	for _, f := range append(append([]advisories.Finding(nil), failing...), below...) {
		ev = append(ev, Evidence{Path: v.Database, Detail: describe(f)})
	}
	unfixed := ""
	if n := len(r.Unfixed); n > 0 {
		unfixed = fmt.Sprintf("; %d with no fix published yet (counted, not failed)", n)
		ev = append(ev, Evidence{Path: v.Database, Detail: "no fix yet: " + ids(r.Unfixed, 20)})
	}
	res.Evidence = listing(ev, 60)
	res.Actual = advisoryCount(len(r.Fixable)) + " with a fix not installed"
	switch {
	case len(failing) > 0:
		res.Status = Fail
		res.Message = fmt.Sprintf("%s a fix the image does not have (%s)%s; %s", advisoriesHave(len(failing)), ids(failing, 8), unfixed, data)
	case len(below) > 0:
		res.Status = Warn
		res.Message = fmt.Sprintf("%s below vulnerability_fail_on (%s): a fix not installed (%s)%s; %s", advisoryCount(len(below)), v.FailOn, ids(below, 8), unfixed, data)
	default:
		res.Status = Pass
		res.Message = fmt.Sprintf("every fix published for the %d installed source packages is installed%s; %s", r.Sources, unfixed, data)
	}
	return res
}

// advisories_ is "1 advisory", "2 advisories".
func advisoryCount(n int) string {
	if n == 1 {
		return "1 advisory"
	}
	return fmt.Sprintf("%d advisories", n)
}

// advisoriesHave is "1 advisory has", "2 advisories have".
func advisoriesHave(n int) string {
	if n == 1 {
		return "1 advisory has"
	}
	return fmt.Sprintf("%d advisories have", n)
}

// describe is one finding: the source package, its installed version, the fix, the advisory,
// its CVEs and severity.
func describe(f advisories.Finding) string {
	sev := f.Severity.String()
	if f.SeverityFrom != "" {
		sev += " (" + f.SeverityFrom + ")"
	}
	cves := ""
	if len(f.Aliases) > 0 {
		shown := f.Aliases
		if len(shown) > 6 {
			shown = append(shown[:6:6], fmt.Sprintf("+%d", len(f.Aliases)-6))
		}
		cves = " " + strings.Join(shown, " ")
	}
	return Quotef("%s: source %s %s, fixed in %s (installed: %s); severity %s", f.Advisory+cves, f.Source, f.Installed, f.Fixed,
		strings.Join(f.Packages, ", "), sev)
}

func ids(fs []advisories.Finding, max int) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Advisory+" "+f.Source)
	}
	sort.Strings(out)
	if len(out) > max {
		out = append(out[:max:max], fmt.Sprintf("and %d more", len(out)-max))
	}
	return Quote(strings.Join(out, ", "))
}
