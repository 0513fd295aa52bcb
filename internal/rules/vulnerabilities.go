package rules

import "github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"

// Vulnerabilities is what the engine found out about the image's security updates before the
// rules ran: the advisories fact, or why there is none.
type Vulnerabilities struct {
	// Off: vulnerability_scan = false; the rule is not evaluated, and says so.
	Off bool
	// Err: no data fresh enough and no way to refresh it, no package database, a release
	// without an advisory ecosystem. The rule errors with it (it names the options).
	Err error
	// Result is the match; Data's source and date are in every report.
	Result *advisories.Result
	// FailOn is vulnerability_fail_on: fixable advisories whose severity is known and below it
	// only warn. Unknown (the default) fails on any.
	FailOn advisories.Level
	// Database is the package database the installed versions were read from.
	Database string
}
