package advisories

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
)

// Level is a severity on one scale for every source: low < medium < high < critical, and
// unknown (0) when the record says nothing the check can read.
type Level int

const (
	Unknown Level = iota
	Low
	Medium
	High
	Critical
)

var levelNames = []string{"unknown", "low", "medium", "high", "critical"}

func (l Level) String() string { return levelNames[l] }

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ParseLevel reads a level name (vulnerability_fail_on).
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames[1:] {
		if strings.EqualFold(s, n) {
			return Level(i + 1), nil
		}
	}
	return Unknown, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", s)
}

// distroLevel maps the distributions' own words: Ubuntu's priorities, Red Hat's and its
// rebuilds' impacts, Debian's urgencies.
func distroLevel(s string) Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "negligible", "unimportant", "low", "low*", "low**":
		return Low
	case "medium", "moderate", "medium*", "medium**":
		return Medium
	case "high", "important", "high*", "high**":
		return High
	case "critical", "emergency":
		return Critical
	}
	return Unknown
}

// Severity is the highest level a record gives for the affected entry, and where it came
// from ("Ubuntu priority", "CVSS:3.1 base 7.5"…).
func Severity(r *osv.Record, a osv.Affected) (Level, string) {
	best, from := Unknown, ""
	take := func(l Level, f string) {
		if l > best {
			best, from = l, f
		}
	}
	for _, s := range append(append([]osv.Severity(nil), r.Severity...), a.Severity...) {
		l, f := scored(s)
		take(l, f)
	}
	// the databases' own fields: {"severity": "Important"} (AlmaLinux, Rocky), Debian's
	// {"urgency": "high"}, Ubuntu's cves_map with per-CVE severities
	for _, raw := range []json.RawMessage{r.DatabaseSpecific, a.DatabaseSpecific, a.EcosystemSpecific} {
		var m struct {
			Severity json.RawMessage `json:"severity"`
			Urgency  string          `json:"urgency"`
			CVEsMap  struct {
				CVEs []struct {
					Severity []osv.Severity `json:"severity"`
				} `json:"cves"`
			} `json:"cves_map"`
		}
		if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
			continue
		}
		var word string
		if json.Unmarshal(m.Severity, &word) == nil && word != "" {
			take(distroLevel(word), "the database's severity "+word)
		}
		if m.Urgency != "" {
			take(distroLevel(m.Urgency), "urgency "+m.Urgency)
		}
		for _, c := range m.CVEsMap.CVEs {
			for _, s := range c.Severity {
				l, f := scored(s)
				take(l, f)
			}
		}
	}
	return best, from
}

func scored(s osv.Severity) (Level, string) {
	switch s.Type {
	case "CVSS_V3":
		score, err := CVSS3(s.Score)
		if err != nil {
			return Unknown, ""
		}
		return cvssLevel(score), fmt.Sprintf("%s base %.1f", strings.SplitN(s.Score, "/", 2)[0], score)
	case "Ubuntu":
		return distroLevel(s.Score), "Ubuntu priority " + s.Score
	}
	return Unknown, ""
}

// cvssLevel is CVSS's qualitative rating (v3.1 specification, table 14).
func cvssLevel(score float64) Level {
	switch {
	case score >= 9.0:
		return Critical
	case score >= 7.0:
		return High
	case score >= 4.0:
		return Medium
	case score > 0:
		return Low
	}
	return Unknown
}

// CVSS3 computes the base score of a CVSS v3.0/v3.1 vector with the specification's formulas
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" → 9.8).
func CVSS3(vector string) (float64, error) {
	parts := strings.Split(vector, "/")
	if len(parts) < 9 || !strings.HasPrefix(parts[0], "CVSS:3.") {
		return 0, fmt.Errorf("not a CVSS v3 vector: %q", vector)
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: metric %q", vector, p)
		}
		m[k] = v
	}
	weight := func(metric string, w map[string]float64) (float64, error) {
		x, ok := w[m[metric]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: %s:%s", vector, metric, m[metric])
		}
		return x, nil
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, fmt.Errorf("CVSS vector %q: S:%s", vector, m["S"])
	}
	av, err1 := weight("AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2})
	ac, err2 := weight("AC", map[string]float64{"L": 0.77, "H": 0.44})
	prw := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		prw = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	pr, err3 := weight("PR", prw)
	ui, err4 := weight("UI", map[string]float64{"N": 0.85, "R": 0.62})
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	c, err5 := weight("C", cia)
	i, err6 := weight("I", cia)
	a, err7 := weight("A", cia)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			return 0, err
		}
	}
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, nil
	}
	expl := 8.22 * av * ac * pr * ui
	if changed {
		return roundup(math.Min(1.08*(impact+expl), 10)), nil
	}
	return roundup(math.Min(impact+expl, 10)), nil
}

// roundup is CVSS v3.1's Roundup (appendix A): the smallest number of one decimal place not
// below x, computed on integers so that floating-point error does not round 4.0 up to 4.1.
func roundup(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}
