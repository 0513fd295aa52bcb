package report

import (
	"encoding/json"
	"io"
	"regexp"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// SARIF 2.1.0, the subset code-scanning UIs read: one run, the rules as the tool's driver
// rules, and one result per finding that did not pass (failed, warned, errored or waived, the
// waiver as an external suppression with its reason). Locations are in-image paths.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool       `json:"tool"`
	Results    []sarifResult   `json:"results"`
	Properties map[string]any  `json:"properties,omitempty"`
	Artifacts  []sarifArtifact `json:"artifacts,omitempty"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	Message          *sarifText    `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// sarifLevel maps a severity to SARIF's error / warning / note.
// partitionPath is how reports name a file of a filesystem that nothing mounts.
var partitionPath = regexp.MustCompile(`^partition (\d+):/(.*)$`)

// splitXattr parts "PATH [xattr NAME]" (an extended attribute, as the content scan names it)
// and "PATH [symlink target]" (a symbolic link's target) into the file's path, which is the
// location, and what of it holds the finding ("extended attribute NAME", "symbolic link
// target"), which the location's message gives.
func splitXattr(p string) (file, part string) {
	if i := strings.LastIndex(p, " [xattr "); i >= 0 && strings.HasSuffix(p, "]") {
		return p[:i], "extended attribute " + p[i+len(" [xattr "):len(p)-1]
	}
	if f, ok := strings.CutSuffix(p, " [symlink target]"); ok {
		return f, "symbolic link target"
	}
	return p, ""
}

func sarifLevel(s rules.Severity) string {
	switch {
	case s >= rules.High:
		return "error"
	case s == rules.Medium:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the report as SARIF 2.1.0.
func (r *Report) WriteSARIF(w io.Writer) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: r.Tool, Version: r.Version,
			InformationURI: "https://github.com/marketready/packer-plugin-marketplace/blob/main/docs/rules.md"}},
		Results:    []sarifResult{},
		Properties: map[string]any{"image": r.Image.Path, "profiles": r.Profiles, "compliant": r.Compliant},
		Artifacts:  []sarifArtifact{{Location: sarifArtifactLocation{URI: r.Image.Path}}},
	}
	if r.Content != nil && r.Content.Ledger != nil {
		// the content ledger, per filesystem and scanner, and one line per scanner
		run.Properties["contentLedger"] = r.Content.Ledger
		run.Properties["contentLedgerSummary"] = r.Content.LedgerLines()
	}
	for i, f := range r.Findings {
		rule := sarifRule{ID: f.Rule, ShortDescription: sarifText{f.Title}, FullDescription: sarifText{f.Title + " (" + f.Source + ")"},
			Help: sarifText{f.Fix}, DefaultConfiguration: sarifConfig{Level: sarifLevel(f.Severity)},
			Properties: map[string]any{"severity": f.Severity.String(), "profiles": f.Profiles}}
		if len(f.Checks) > 0 {
			rule.Properties["marketplace_checks"] = f.Checks
		}
		if f.Certification != nil {
			rule.Properties["certification"] = strings.TrimSpace(f.Certification.ID + " " + f.Certification.Name)
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
		if f.Status == rules.Pass || f.Status == rules.NotApplicable {
			continue
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{f.Message}}
		if f.Status == rules.Warn {
			res.Level = "warning"
		}
		if f.Status == rules.Error {
			res.Level = "error"
		}
		for _, e := range f.Evidence {
			// paths from the image's root: "/etc/..." on Linux, "C:/Users/..." on Windows; a file
			// of a filesystem nothing mounts, "partition N:/...", is relative to that partition
			base := "IMAGEROOT"
			p, attr := splitXattr(e.Path)
			rel, ok := strings.CutPrefix(p, "/")
			if !ok {
				rel, ok = strings.CutPrefix(p, "C:/")
			}
			if !ok {
				if m := partitionPath.FindStringSubmatch(p); m != nil {
					base, rel, ok = "PARTITION"+m[1], m[2], true
				}
			}
			if !ok {
				continue
			}
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: rel, URIBaseID: base}}}
			if e.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line}
			}
			switch {
			case attr != "" && e.Detail != "":
				loc.Message = &sarifText{attr + ": " + e.Detail}
			case attr != "":
				loc.Message = &sarifText{attr}
			case e.Detail != "":
				loc.Message = &sarifText{e.Detail}
			}
			res.Locations = append(res.Locations, loc)
		}
		if f.Waiver != nil {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: f.Waiver.Reason}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
