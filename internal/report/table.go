package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

var statusLabel = map[rules.Status]string{
	rules.Pass: "PASS", rules.Fail: "FAIL", rules.Warn: "WARN", rules.NotApplicable: "N/A",
	rules.Error: "ERROR", rules.Waived: "WAIVED",
}

// WriteTable writes the human-readable report: one line per rule, then the evidence of
// everything that is not a pass, then the verdict.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	im := r.Image
	fmt.Fprintf(&b, "Image:    %s\n", im.Path)
	format := im.Format
	if im.Variant != "" {
		format += " (" + im.Variant + ")"
	}
	fmt.Fprintf(&b, "Format:   %s, %d MiB virtual, %s partition table\n", format, im.VirtualSize>>20, im.PartitionTable)
	for _, p := range im.Partitions {
		fmt.Fprintf(&b, "          partition %d: %s, %d MiB", p.Number, p.Kind, p.Size>>20)
		if p.Label != "" {
			fmt.Fprintf(&b, ", label %q", p.Label)
		}
		b.WriteString("\n")
	}
	if im.Root != "" {
		fmt.Fprintf(&b, "Root:     %s", im.Root)
		for _, m := range im.Mounts {
			fmt.Fprintf(&b, "; %s on partition %d", m.Path, m.Partition)
		}
		b.WriteString("\n")
	}
	if im.OS != "" {
		fmt.Fprintf(&b, "OS:       %s\n", im.OS)
	}
	fmt.Fprintf(&b, "Profiles: %s (fail on %s and above)\n\n", strings.Join(r.Profiles, ", "), r.FailOn)
	idw, tw := len("RULE"), len("TITLE")
	for _, f := range r.Findings {
		idw = max(idw, len(f.Rule))
		tw = max(tw, min(len(f.Title), 70))
	}
	fmt.Fprintf(&b, "%-6s  %-8s  %-*s  %s\n", "STATUS", "SEVERITY", idw, "RULE", "TITLE")
	for _, f := range r.Findings {
		title := f.Title
		if len(title) > 70 {
			title = title[:67] + "..."
		}
		fmt.Fprintf(&b, "%-6s  %-8s  %-*s  %s\n", statusLabel[f.Status], f.Severity, idw, f.Rule, title)
	}
	for _, f := range r.Findings {
		if f.Status == rules.Pass || f.Status == rules.NotApplicable {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s: %s\n", statusLabel[f.Status], f.Rule, f.Message)
		if f.Certification != nil {
			fmt.Fprintf(&b, "  certification: %s (%s)\n", strings.TrimSpace(f.Certification.ID+" "+f.Certification.Name), f.Certification.Level)
		}
		for _, c := range f.Checks {
			if c.ID == "" && c.Name == "" {
				continue
			}
			name := strings.TrimSpace(c.ID + " " + c.Name)
			if c.ID != "" && c.Name != "" {
				name = c.ID + " (" + c.Name + ")"
			}
			fmt.Fprintf(&b, "  %s check: %s, %s\n", c.Profile, name, c.Level)
		}
		for i, e := range f.Evidence {
			if i == maxTableEvidence && len(f.Evidence) > maxTableEvidence+1 {
				fmt.Fprintf(&b, "  - ... and %d more (every one is in the JSON, SARIF and JUnit reports)\n", len(f.Evidence)-i)
				break
			}
			loc := e.Path
			if e.Line > 0 {
				loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
			}
			switch {
			case loc != "" && e.Detail != "":
				fmt.Fprintf(&b, "  - %s: %s\n", loc, e.Detail)
			default:
				fmt.Fprintf(&b, "  - %s%s\n", loc, e.Detail)
			}
		}
		if f.Waiver != nil {
			fmt.Fprintf(&b, "  waived: %s\n", f.Waiver.Reason)
		} else if f.Fix != "" && f.Status != rules.Error {
			fmt.Fprintf(&b, "  fix: %s\n", f.Fix)
		}
	}
	if c := r.Content; c != nil {
		fmt.Fprintf(&b, "\ncontent scan: %s\n", c.Summary)
		for _, l := range c.LedgerLines() {
			fmt.Fprintf(&b, "  ledger: %s\n", l)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d passed, %d failed, %d warnings, %d waived, %d errors, %d not applicable\n",
		r.Summary[string(rules.Pass)], r.Summary[string(rules.Fail)], r.Summary[string(rules.Warn)],
		r.Summary[string(rules.Waived)], r.Summary[string(rules.Error)], r.Summary[string(rules.NotApplicable)])
	if r.Compliant {
		b.WriteString("Verdict: COMPLIANT\n")
	} else {
		var ids []string
		for _, f := range r.Blocking() {
			ids = append(ids, f.Rule)
		}
		fmt.Fprintf(&b, "Verdict: NOT COMPLIANT (%s)\n", strings.Join(ids, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxTableEvidence is how many evidence lines the terminal table shows per finding; the file
// reports carry them all.
const maxTableEvidence = 20
