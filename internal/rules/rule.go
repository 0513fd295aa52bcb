// Package rules is the catalogue of marketplace rules and the engine that evaluates them.
// A rule is data (ID, title, profiles, severity, source, rationale, fix, certification test)
// plus one pure function over the inspected image.
package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Status is the outcome of one rule.
type Status string

const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Warn          Status = "warn"           // passes certification but something is worth fixing
	NotApplicable Status = "not-applicable" // the rule does not apply to this image
	Error         Status = "error"          // the rule could not be evaluated
	Waived        Status = "waived"         // failed, but a waiver with a reason covers it
)

// Severity orders how bad a failure is; fail_on compares against it.
type Severity int

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames, ", "))
}

// Evidence points at what made a rule pass or fail. Secrets are never in Detail.
type Evidence struct {
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Result is what a rule's check returns.
type Result struct {
	Status   Status
	Message  string
	Evidence []Evidence
	// Actual and Required mirror the certification report's ActualValue / RequiredValue.
	Actual   string
	Required string
	// Predicted is the result Microsoft's test would give (Passed, Warning, Failed) when it
	// differs from what Status implies: a rule may be stricter than the test, by policy.
	Predicted string
}

// Predict is the certification result a rule's outcome predicts for its test: Passed, Warning,
// Failed, NotApplicable, or Unknown when the rule could not be evaluated; empty when the rule
// predicts no certification test. A failure predicts the test's level unless the check said
// the test itself would give another result (Result.Predicted).
func Predict(cert *CertTest, res Result) string {
	switch {
	case cert == nil:
		return ""
	case res.Status == Error:
		return "Unknown"
	case res.Predicted != "":
		return res.Predicted
	case res.Status == Pass:
		return "Passed"
	case res.Status == Warn:
		return "Warning"
	case res.Status == NotApplicable:
		return "NotApplicable"
	}
	return cert.Level
}

// CertTest names the Microsoft certification test a rule predicts.
type CertTest struct {
	ID         string `json:"id,omitempty"`           // Partner Center's ID, e.g. 200.3.3.1, where one is public
	SelfTestID string `json:"self_test_id,omitempty"` // the self-test API's TestID, "39" to "52"
	Name       string `json:"name"`                   // the test case name in the self-test report
	Level      string `json:"level"`                  // Failed or Warning: how the run reports a violation
	LISA       string `json:"lisa,omitempty"`         // the LISA AzureImageStandard case that checks it
}

// Rule is one entry of the catalogue.
type Rule struct {
	ID        string
	Title     string
	Severity  Severity
	Source    string // the public documents the rule comes from (see SourceDocuments)
	Rationale string
	Fix       string
	Cert      *CertTest
	// Needs are the kinds of content the rule reads from Context.Content (the streaming pass
	// over every file); the pass runs the scanners registered for them.
	Needs []scan.Kind
	Check func(*Context) Result
}

// NeedsContent reports whether the rule reads file contents.
func (r *Rule) NeedsContent() bool { return len(r.Needs) > 0 }

// Options tune rules that depend on the publisher's intent.
type Options struct {
	AllowedUsers []string // accounts (UID >= 1000) that the image is meant to ship
	CleanPaths   []string // business data and cache paths that must be empty (Alibaba Cloud image best practices)
}

// Context is what a check sees: the image, the options and, when the pass ran, what the
// streaming pass over every file found.
type Context struct {
	Image   *inspect.Image
	Options Options
	Content *Content
	// Vulnerabilities is the advisories fact the engine loaded (nil: not loaded, and the rule
	// that needs it errors).
	Vulnerabilities *Vulnerabilities
}

var catalogue []*Rule

func register(r *Rule) *Rule {
	for _, o := range catalogue {
		if o.ID == r.ID {
			panic("rules: duplicate rule ID " + r.ID)
		}
	}
	catalogue = append(catalogue, r)
	return r
}

// All returns every rule, sorted by ID.
func All() []*Rule {
	out := append([]*Rule(nil), catalogue...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ByID finds a rule.
func ByID(id string) (*Rule, bool) {
	for _, r := range catalogue {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// Profiles lists the known profile names, in their listing order (internal/profile).
func Profiles() []string { return profile.Names() }

// Profiles lists the profiles that judge the rule (the profile data names it), in their
// listing order.
func (r *Rule) Profiles() []string {
	var out []string
	for _, p := range profile.All() {
		if _, ok := p.Check(r.ID); ok {
			out = append(out, p.Name)
		}
	}
	return out
}

// ForProfiles returns the rules in any of the profiles, sorted by ID. An unknown profile is an
// error, and so is a profile naming a rule the catalogue does not have: the profile would
// silently judge less than it says.
func ForProfiles(profiles []string) ([]*Rule, error) {
	want := map[string]bool{}
	for _, name := range profiles {
		p, ok := profile.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(Profiles(), ", "))
		}
		if len(p.Checks) == 0 {
			return nil, fmt.Errorf("profile %q judges no rule", name)
		}
		for _, c := range p.Checks {
			if _, ok := ByID(c.Rule); !ok {
				return nil, fmt.Errorf("profile %q names rule %q, which the catalogue does not have", name, c.Rule)
			}
			want[c.Rule] = true
		}
	}
	var out []*Rule
	for _, r := range All() {
		if want[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// ChecksOf are the selected profiles' checks of a rule, in the profiles' order, each with the
// profile's name.
func ChecksOf(rule string, profiles []string) []ProfileCheck {
	var out []ProfileCheck
	for _, name := range profiles {
		if p, ok := profile.Lookup(name); ok {
			if c, ok := p.Check(rule); ok {
				out = append(out, ProfileCheck{Profile: p.Name, Check: c})
			}
		}
	}
	return out
}

// ProfileCheck is a profile's check of a rule, with the profile's name.
type ProfileCheck struct {
	Profile string
	profile.Check
}

// Advisory reports whether every one of the checks is advisory: a violation then warns.
// No checks at all is not advisory.
func Advisory(checks []ProfileCheck) bool {
	for _, c := range checks {
		if c.Level != profile.Advisory {
			return false
		}
	}
	return len(checks) > 0
}

// Run evaluates one rule, turning a panic in a check into an error result so that one bad
// rule cannot take the whole report down.
func (r *Rule) Run(ctx *Context) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Status: Error, Message: fmt.Sprintf("internal error in rule %s: %v", r.ID, p)}
		}
	}()
	return r.Check(ctx)
}

func pass(msg string, ev ...Evidence) Result { return Result{Status: Pass, Message: msg, Evidence: ev} }
func fail(msg string, ev ...Evidence) Result { return Result{Status: Fail, Message: msg, Evidence: ev} }
func warn(msg string, ev ...Evidence) Result { return Result{Status: Warn, Message: msg, Evidence: ev} }
func na(msg string) Result                   { return Result{Status: NotApplicable, Message: msg} }

// errResult: an error's text may quote the image (a path, a line it could not parse): quoted.
func errResult(err error) Result { return Result{Status: Error, Message: Quote(err.Error())} }

// listing caps long evidence lists and says how many more there were.
func listing(ev []Evidence, max int) []Evidence {
	if len(ev) <= max {
		return ev
	}
	more := len(ev) - max
	return append(ev[:max:max], Evidence{Detail: fmt.Sprintf("... and %d more", more)})
}

// SelfTestIDLess orders self-test IDs numerically, part by part: "9" < "39", "1.1.4" < "1.1.10".
func SelfTestIDLess(a, b string) bool {
	x, y := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		m, _ := strconv.Atoi(x[i])
		n, _ := strconv.Atoi(y[i])
		if m != n {
			return m < n
		}
	}
	return len(x) < len(y)
}

// Quote is how a value taken from the image (a configuration line, a command line, a setting's
// value, a device name) enters a message, Actual or evidence: with every credential the
// redaction recognises replaced (internal/redact, the detectors of the credential rule's
// reports). The rule knows which part of its sentence is image content; quoting only that
// part keeps its own words intact, which a redaction of the finished sentence cannot (after
// "password" it would take the next word for one).
func Quote(s string) string { return redact.Text(s) }

// Quotef is fmt.Sprintf whose arguments are image content: each string, error or Stringer
// argument is quoted (see Quote) before it is formatted; the format is the rule's own text.
func Quotef(format string, args ...any) string {
	q := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			q[i] = Quote(v)
		case error:
			q[i] = Quote(v.Error())
		case fmt.Stringer:
			q[i] = Quote(v.String())
		default:
			q[i] = a
		}
	}
	return fmt.Sprintf(format, q...)
}
