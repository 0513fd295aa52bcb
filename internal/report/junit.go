package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test suite per profile and one test case per rule, so CI systems show
// marketplace rules next to unit tests. Only blocking findings are failures; warnings and
// waived findings pass with their message in system-out.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "marketplace-check " + r.Image.Path}
	for _, prof := range r.Profiles {
		s := junitSuite{Name: prof}
		// the content ledger's totals, one property per scanner
		if lines := r.Content.LedgerLines(); len(lines) > 0 {
			s.Properties = &junitProperties{}
			for _, l := range lines {
				name, _, _ := strings.Cut(l, ":")
				s.Properties.Property = append(s.Properties.Property, junitProperty{Name: "content.ledger." + name, Value: l})
			}
		}
		for _, f := range r.Findings {
			if !slices.Contains(f.Profiles, prof) {
				continue
			}
			c := junitCase{Name: f.Rule + ": " + f.Title, Classname: "marketplace." + prof}
			body := evidenceText(f)
			switch {
			case f.Status == rules.NotApplicable:
				c.Skipped = &junitMessage{Message: f.Message}
				s.Skipped++
			case f.Blocking && f.Status == rules.Error:
				c.Error = &junitMessage{Message: f.Message, Type: f.Severity.String(), Body: body}
				s.Errors++
			case f.Blocking:
				c.Failure = &junitMessage{Message: f.Message, Type: f.Severity.String(), Body: body}
				s.Failures++
			default:
				c.SystemOut = strings.TrimSpace(string(f.Status) + ": " + f.Message + "\n" + body)
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func evidenceText(f Finding) string {
	var b strings.Builder
	for _, e := range f.Evidence {
		if e.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s\n", e.Path, e.Line, e.Detail)
		} else {
			fmt.Fprintf(&b, "%s: %s\n", e.Path, e.Detail)
		}
	}
	if f.Waiver != nil {
		fmt.Fprintf(&b, "waived: %s\n", f.Waiver.Reason)
	} else if f.Fix != "" {
		fmt.Fprintf(&b, "fix: %s\n", f.Fix)
	}
	return b.String()
}
