package report

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// MSCertReport mirrors the shape of the Azure Marketplace certification self-test output, so a
// publisher can hold it next to a Partner Center report line by line. Rules that correspond to a
// certification test are in TestResults under the test's ID and case name; the plugin's other
// checks (which certification does not run, but the guidance asks for) are in AdditionalChecks.
type MSCertReport struct {
	SchemaVersion    int            `json:"SchemaVersion"`
	Tool             string         `json:"Tool"`
	Image            string         `json:"Image"`
	OSName           string         `json:"OSName,omitempty"`
	Result           string         `json:"Result"` // Passed, Warning or Failed: the worst test result
	TestResults      []MSCertResult `json:"TestResults"`
	AdditionalChecks []MSCertResult `json:"AdditionalChecks"`
}

// MSCertResult is one test in the certification report's terms.
type MSCertResult struct {
	TestID        string `json:"TestID"`
	TestCaseName  string `json:"TestCaseName"`
	Description   string `json:"Description"`
	Result        string `json:"Result"` // Passed, Warning, Failed, NotApplicable
	ActualValue   string `json:"ActualValue"`
	RequiredValue string `json:"RequiredValue"`
	Rule          string `json:"Rule"` // the marketplace-check rule behind it
	Waiver        string `json:"Waiver,omitempty"`
}

func mscertResult(f Finding) string {
	switch f.Status {
	case rules.Pass:
		return "Passed"
	case rules.Warn:
		return "Warning"
	case rules.NotApplicable:
		return "NotApplicable"
	case rules.Waived:
		// the certification run knows nothing of waivers: it would report the failure
		if f.Certification != nil {
			return f.Certification.Level
		}
		return "Failed"
	}
	if f.Certification != nil {
		return f.Certification.Level
	}
	return "Failed"
}

// MSCert converts the report for the azure-linux findings.
func (r *Report) MSCert() *MSCertReport {
	out := &MSCertReport{SchemaVersion: 1, Tool: r.Tool + " " + r.Version, Image: r.Image.Path, OSName: r.Image.OS,
		Result: "Passed", TestResults: []MSCertResult{}, AdditionalChecks: []MSCertResult{}}
	rank := map[string]int{"Passed": 0, "NotApplicable": 0, "Warning": 1, "Failed": 2}
	for _, f := range r.Findings {
		if !slices.Contains(f.Profiles, "azure-linux") {
			continue
		}
		res := MSCertResult{TestID: f.Rule, TestCaseName: f.Title, Description: f.Message, Result: mscertResult(f),
			ActualValue: f.Actual, RequiredValue: f.Required, Rule: f.Rule}
		if res.ActualValue == "" {
			res.ActualValue = evidenceSummary(f)
		}
		if f.Waiver != nil {
			res.Waiver = f.Waiver.Reason
		}
		if f.Certification != nil {
			res.TestCaseName = f.Certification.Name
			res.TestID = f.Certification.ID
			if res.TestID == "" {
				res.TestID = f.Certification.Name
			}
			out.TestResults = append(out.TestResults, res)
			if rank[res.Result] > rank[out.Result] {
				out.Result = res.Result
			}
			continue
		}
		out.AdditionalChecks = append(out.AdditionalChecks, res)
	}
	return out
}

func evidenceSummary(f Finding) string {
	var parts []string
	for i, e := range f.Evidence {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		s := e.Path
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// WriteMSCert writes the certification-shaped JSON report.
func (r *Report) WriteMSCert(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.MSCert())
}
