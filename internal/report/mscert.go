package report

import (
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// MSCertReport has the shape of the Azure Marketplace certification self-test API's response
// (the "Response" document of Microsoft's "Test a virtual machine image" page): the same field
// names, string TestIDs "39" to "52", TestResult Pass or Fail, Tests of {TestID, TestCaseName,
// Description, Result, ActualValue, RequiredValue}. What the self-test does not have is in one
// separate section, MarketplaceCheck: which rule and which LISA case stand behind each test,
// waivers, and this plugin's other checks. ProviderID and KernelFullVersion are left out: the
// first is Microsoft's, the second is what a running kernel says of itself.
type MSCertReport struct {
	SchemaVersion            int          `json:"SchemaVersion"`
	AppCertificationCategory string       `json:"AppCertificationCategory"`
	OSName                   string       `json:"OSName"`
	OSDistro                 string       `json:"OSDistro,omitempty"`      // Linux only, as documented
	KernelVersion            string       `json:"KernelVersion,omitempty"` // Linux only, as documented
	OSVersion                string       `json:"OSVersion"`
	CreatedDate              string       `json:"CreatedDate"`
	TestResult               string       `json:"TestResult"` // Pass, or Fail when a test failed
	APIVersion               string       `json:"APIVersion"`
	Tests                    []MSCertTest `json:"Tests"`
	// MarketplaceCheck is this plugin's: not part of the self-test's response.
	MarketplaceCheck MSCertExtra `json:"MarketplaceCheck"`
}

// MSCertTest is one test as the self-test reports it.
type MSCertTest struct {
	TestID        string `json:"TestID"`
	TestCaseName  string `json:"TestCaseName"`
	Description   string `json:"Description"`
	Result        string `json:"Result"` // Passed, Warning, Failed (NotApplicable where a rule does not apply)
	ActualValue   string `json:"ActualValue"`
	RequiredValue string `json:"RequiredValue"`
}

// MSCertExtra is what this plugin adds beside the self-test's shape.
type MSCertExtra struct {
	Tool  string `json:"Tool"`
	Image string `json:"Image"`
	// Tests says, per self-test TestID, which rule predicted it, with its message, Partner
	// Center's ID and the LISA AzureImageStandard case, and the waiver's reason if waived.
	Tests []MSCertSource `json:"Tests"`
	// NotModelled lists the self-test's tests no rule predicts.
	NotModelled []string `json:"NotModelled"`
	// AdditionalChecks are the azure-linux rules the self-test does not run.
	AdditionalChecks []MSCertResult `json:"AdditionalChecks"`
}

// MSCertSource ties a self-test TestID to the rule behind it.
type MSCertSource struct {
	TestID          string `json:"TestID"`
	Rule            string `json:"Rule"`
	Message         string `json:"Message"`
	PartnerCenterID string `json:"PartnerCenterID,omitempty"`
	LISACase        string `json:"LISACase,omitempty"`
	Waiver          string `json:"Waiver,omitempty"`
}

// MSCertResult is one of the plugin's other checks, worded like a test, with its rule.
type MSCertResult struct {
	MSCertTest
	Rule   string `json:"Rule"`
	Waiver string `json:"Waiver,omitempty"`
}

// selfTest names each test of the self-test, says in a line what it checks, and gives the
// RequiredValue in the form the self-test's documented response prints it.
var selfTest = map[string]struct{ name, description, required string }{
	"39": {"Linux Agent Version", "The Azure Linux agent is installed, at version 2.2.41 or later.", "2.2.41"},
	"40": {"Required Kernel Parameters", "The kernel boots with console=ttyS0, earlyprintk=ttyS0 and rootdelay=300.", "console=ttyS0#earlyprintk=ttyS0#rootdelay=300"},
	"41": {"Swap Partition on OS Disk", "No swap partition or swap file on the OS disk.", "swap"},
	"42": {"Root Partition on OS Disk", "One root partition on the OS disk.", "1"},
	// the self-test accepts 0.9.8; LISA, the higher authority, wants 1.0.2 or later: the rule's
	// own requirement (1.0) is printed
	"44": {"OpenSSL Version", "OpenSSL 1.0 or later (the self-test accepts 0.9.8; Microsoft's LISA suite wants 1.0.2).", ""},
	"45": {"Python Version", "Python 2.6 or later.", "2.6"},
	"46": {"Client Alive Interval", "sshd's ClientAliveInterval is 180 (30 to 235 where the application needs it).", "ClientAliveInterval 180"},
	"48": {"Bash History", "No shell history with content in the image.", "1024"},
	"49": {"OS Architecture", "A 64-bit operating system.", "x86_64,amd64"},
	"50": {"Security threats", "No operating system component with a well-known, high-profile vulnerability (GHOST in glibc before 2.18); a Warning only.", "OS impacted by GHOSTS"},
	"51": {"Auto Update", "The Azure Linux agent's auto-update is on (AutoUpdate.Enabled=y, or unset).", "Yes"},
	"52": {"SACK Vulnerability patch verification", "The kernel that boots carries the TCP SACK fix (CVE-2019-11477, CVE-2019-11478, CVE-2019-11479).", "Yes"},
}

// selfTestWindows is the same for the Windows tests the self-test's documented response shows.
var selfTestWindows = map[string]struct{ name, description, required string }{
	"1.1.4": {"OS Architecture", "A 64-bit operating system.", "OS Should be 64 bit"},
	"1.1.5": {"User account dependency", "The application does not need the administrator account.", "Logged in user should not be an administrator"},
	"1.1.6": {"Failover Cluster", "The Windows Server Failover Clustering feature is not in use.", "Failover Clustering feature is disabled"},
}

// notDecidable says why a self-test cannot be predicted from the disk.
var notDecidable = map[string]string{
	"1.1.5": "decided at run time by the account the self-test logs in with",
}

func mscertResult(f Finding) string {
	if p := f.PredictedCertification; p != "" && p != "Unknown" {
		return p
	}
	switch f.Status {
	case rules.Pass:
		return "Passed"
	case rules.Warn:
		return "Warning"
	case rules.NotApplicable:
		return "NotApplicable"
	}
	// a failure, an error, or a waived failure: the certification run knows nothing of
	// waivers and would report the test at its level
	if f.Certification != nil {
		return f.Certification.Level
	}
	return "Failed"
}

// MSCert converts the report's azure-linux findings, dated now.
func (r *Report) MSCert() *MSCertReport {
	return r.MSCertAt(time.Now())
}

// MSCertAt is MSCert with the report's CreatedDate given.
func (r *Report) MSCertAt(now time.Time) *MSCertReport {
	profile, tests := "azure-linux", selfTest
	out := &MSCertReport{SchemaVersion: 1, AppCertificationCategory: "Microsoft Single VM Certification",
		OSName: strings.TrimSpace(r.Image.OSName + " " + r.Image.OSVersion), OSDistro: r.Image.OS,
		KernelVersion: r.Image.Kernel, OSVersion: r.Image.OSVersion,
		CreatedDate: now.UTC().Format("01/02/2006 15:04:05"), TestResult: "Pass", APIVersion: "1.5", Tests: []MSCertTest{},
		MarketplaceCheck: MSCertExtra{Tool: r.Tool + " " + r.Version, Image: r.Image.Path, Tests: []MSCertSource{},
			NotModelled: []string{}, AdditionalChecks: []MSCertResult{}}}
	if slices.Contains(r.Profiles, "azure-windows") && !slices.Contains(r.Profiles, "azure-linux") {
		// the Windows tests: the documented Windows response has no OSDistro nor KernelVersion
		profile, tests = "azure-windows", selfTestWindows
		out.OSName, out.OSDistro, out.KernelVersion = r.Image.OSName, "", ""
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if !slices.Contains(f.Profiles, profile) {
			continue
		}
		actual := f.Actual
		if actual == "" {
			actual = evidenceSummary(f)
		}
		waiver := ""
		if f.Waiver != nil {
			waiver = f.Waiver.Reason
		}
		c := f.Certification
		if c == nil || c.SelfTestID == "" {
			out.MarketplaceCheck.AdditionalChecks = append(out.MarketplaceCheck.AdditionalChecks, MSCertResult{MSCertTest: MSCertTest{
				TestID: f.Rule, TestCaseName: f.Title, Description: f.Message, Result: mscertResult(f), ActualValue: actual,
				RequiredValue: f.Required}, Rule: f.Rule, Waiver: waiver})
			continue
		}
		st := tests[c.SelfTestID]
		t := MSCertTest{TestID: c.SelfTestID, TestCaseName: c.Name, Description: st.description, Result: mscertResult(f),
			ActualValue: actual, RequiredValue: st.required}
		if t.Description == "" {
			t.Description = f.Title
		}
		if t.RequiredValue == "" {
			t.RequiredValue = f.Required
		}
		out.Tests = append(out.Tests, t)
		seen[c.SelfTestID] = true
		if t.Result == "Failed" {
			out.TestResult = "Fail"
		}
		out.MarketplaceCheck.Tests = append(out.MarketplaceCheck.Tests, MSCertSource{TestID: c.SelfTestID, Rule: f.Rule,
			Message: f.Message, PartnerCenterID: c.ID, LISACase: c.LISA, Waiver: waiver})
	}
	for id, st := range tests {
		if !seen[id] {
			n := id + " " + st.name
			if why := notDecidable[id]; why != "" {
				n += ": " + why
			}
			out.MarketplaceCheck.NotModelled = append(out.MarketplaceCheck.NotModelled, n)
		}
	}
	byID := rules.SelfTestIDLess
	sort.Slice(out.Tests, func(i, j int) bool { return byID(out.Tests[i].TestID, out.Tests[j].TestID) })
	sort.Slice(out.MarketplaceCheck.Tests, func(i, j int) bool {
		return byID(out.MarketplaceCheck.Tests[i].TestID, out.MarketplaceCheck.Tests[j].TestID)
	})
	sort.Slice(out.MarketplaceCheck.NotModelled, func(i, j int) bool {
		return byID(strings.Fields(out.MarketplaceCheck.NotModelled[i])[0], strings.Fields(out.MarketplaceCheck.NotModelled[j])[0])
	})
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

// WriteMSCert writes the self-test-shaped JSON report.
func (r *Report) WriteMSCert(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.MSCert())
}
