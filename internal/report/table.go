package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

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
	fmt.Fprintf(&b, "Image:    %s\n", termSafe(im.Path))
	format := termSafe(im.Format)
	if im.Variant != "" {
		format += " (" + termSafe(im.Variant) + ")"
	}
	fmt.Fprintf(&b, "Format:   %s, %d MiB virtual, %s partition table\n", format, im.VirtualSize>>20, termSafe(im.PartitionTable))
	for _, p := range im.Partitions {
		fmt.Fprintf(&b, "          partition %d: %s, %d MiB", p.Number, termSafe(fmt.Sprint(p.Kind)), p.Size>>20)
		if p.Label != "" {
			fmt.Fprintf(&b, ", label %s", termSafe(strconv.Quote(p.Label)))
		}
		b.WriteString("\n")
	}
	if im.Root != "" {
		fmt.Fprintf(&b, "Root:     %s", termSafe(im.Root))
		for _, m := range im.Mounts {
			fmt.Fprintf(&b, "; %s on partition %d", termSafe(m.Path), m.Partition)
		}
		b.WriteString("\n")
	}
	if im.OS != "" {
		fmt.Fprintf(&b, "OS:       %s\n", termSafe(im.OS))
	}
	fmt.Fprintf(&b, "Profiles: %s (fail on %s and above)\n\n", termSafe(strings.Join(r.Profiles, ", ")), termSafe(fmt.Sprint(r.FailOn)))
	idw, tw := len("RULE"), len("TITLE")
	for _, f := range r.Findings {
		idw = max(idw, len(termSafe(f.Rule)))
		tw = max(tw, min(len(termSafe(f.Title)), 70))
	}
	fmt.Fprintf(&b, "%-6s  %-8s  %-*s  %s\n", "STATUS", "SEVERITY", idw, "RULE", "TITLE")
	for _, f := range r.Findings {
		title := termSafe(f.Title)
		if len(title) > 70 {
			cut := 67
			for cut > 0 && !utf8.RuneStart(title[cut]) {
				cut-- // never half a character
			}
			title = title[:cut] + "..."
		}
		fmt.Fprintf(&b, "%-6s  %-8s  %-*s  %s\n", statusLabel[f.Status], termSafe(fmt.Sprint(f.Severity)), idw, termSafe(f.Rule), title)
	}
	for _, f := range r.Findings {
		if f.Status == rules.Pass || f.Status == rules.NotApplicable {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s: %s\n", statusLabel[f.Status], termSafe(f.Rule), termSafe(f.Message))
		if f.Certification != nil {
			fmt.Fprintf(&b, "  certification: %s (%s)\n", termSafe(strings.TrimSpace(f.Certification.ID+" "+f.Certification.Name)), termSafe(fmt.Sprint(f.Certification.Level)))
		}
		for _, c := range f.Checks {
			if c.ID == "" && c.Name == "" {
				continue
			}
			name := strings.TrimSpace(c.ID + " " + c.Name)
			if c.ID != "" && c.Name != "" {
				name = c.ID + " (" + c.Name + ")"
			}
			fmt.Fprintf(&b, "  %s check: %s, %s\n", termSafe(c.Profile), termSafe(name), termSafe(fmt.Sprint(c.Level)))
		}
		for i, e := range f.Evidence {
			if i == maxTableEvidence && len(f.Evidence) > maxTableEvidence+1 {
				fmt.Fprintf(&b, "  - ... and %d more (every one is in the JSON, SARIF and JUnit reports)\n", len(f.Evidence)-i)
				break
			}
			loc, detail := termSafe(e.Path), termSafe(e.Detail)
			if e.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, e.Line)
			}
			switch {
			case loc != "" && detail != "":
				fmt.Fprintf(&b, "  - %s: %s\n", loc, detail)
			default:
				fmt.Fprintf(&b, "  - %s%s\n", loc, detail)
			}
		}
		if f.Waiver != nil {
			fmt.Fprintf(&b, "  waived: %s\n", termSafe(f.Waiver.Reason))
		} else if f.Fix != "" && f.Status != rules.Error {
			fmt.Fprintf(&b, "  fix: %s\n", termSafe(f.Fix))
		}
	}
	if c := r.Content; c != nil {
		fmt.Fprintf(&b, "\ncontent scan: %s\n", termSafe(c.Summary))
		for _, l := range c.LedgerLines() {
			fmt.Fprintf(&b, "  ledger: %s\n", termSafe(l))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s", termSafe(n))
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
			ids = append(ids, termSafe(f.Rule))
		}
		fmt.Fprintf(&b, "Verdict: NOT COMPLIANT (%s)\n", strings.Join(ids, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxTableEvidence is how many evidence lines the terminal table shows per finding; the file
// reports carry them all.
const maxTableEvidence = 20

// termSafe is s as a terminal shows it without being driven by it: every byte a terminal could
// take for a command or that moves the cursor is written escaped, so that a file named
// "x\x1b[2J\x1b[32mPASS\x1b[0m.conf" cannot clear the screen, colour the table or forge a line
// of it. Escaped are the C0 controls (newline and tab included: a field is one line), DEL, the
// C1 controls (U+0080..U+009F, which some terminals read as CSI and OSC), the bidirectional
// overrides and isolates that reorder what follows (U+202A..U+202E, U+2066..U+2069, the
// "Trojan Source" characters, CVE-2021-42574), and bytes that are not UTF-8 (\xNN). The JSON and
// SARIF reports carry the text as it is.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r != utf8.RuneError && unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune says whether termSafe escapes r (utf8.RuneError stands for a byte that is not UTF-8,
// and for U+FFFD itself, which is harmless: it is written as it is).
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == utf8.RuneError
}
