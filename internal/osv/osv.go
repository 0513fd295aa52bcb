// Package osv reads vulnerability records in the OSV schema (https://ossf.github.io/osv-schema/,
// version 1.x) as OSV publishes them: one JSON record per file, in a directory or in an
// ecosystem's all.zip dump, and evaluates a record against an installed version with the
// schema's own algorithm and the ecosystem's version order.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
)

// MaxRecordBytes bounds one record; a larger one is an error, not read.
const MaxRecordBytes = 32 << 20

// Record is one OSV entry (the fields the check uses; the rest is ignored).
type Record struct {
	SchemaVersion string     `json:"schema_version"`
	ID            string     `json:"id"`
	Modified      time.Time  `json:"modified"`
	Published     *time.Time `json:"published,omitempty"`
	Withdrawn     *time.Time `json:"withdrawn,omitempty"`
	Aliases       []string   `json:"aliases,omitempty"`
	Upstream      []string   `json:"upstream,omitempty"`
	Related       []string   `json:"related,omitempty"`
	Summary       string     `json:"summary,omitempty"`
	Severity      []Severity `json:"severity,omitempty"`
	Affected      []Affected `json:"affected"`
	// DatabaseSpecific holds the database's own fields (Debian's "urgency", Ubuntu's CVE
	// priorities), kept raw for severity.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a scored severity: a CVSS vector, or a distribution's own scale ("Ubuntu":
// "medium").
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one package of one ecosystem that the record affects.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names the package as its ecosystem does.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range is a timeline of events over versions of one type: ECOSYSTEM (the ecosystem's order),
// SEMVER, or GIT (commits, which an installed package cannot be placed on).
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one status change: exactly one of its fields is set.
type Event struct {
	Introduced   string
	Fixed        string
	LastAffected string
	Limit        string
}

// UnmarshalJSON enforces the schema's rule that an event has exactly one kind.
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	n := 0
	for k, v := range m {
		switch k {
		case "introduced":
			e.Introduced = v
		case "fixed":
			e.Fixed = v
		case "last_affected":
			e.LastAffected = v
		case "limit":
			e.Limit = v
		default:
			continue
		}
		if v == "" {
			return fmt.Errorf("event %q has an empty version", k)
		}
		n++
	}
	if n != 1 {
		return fmt.Errorf("an event must have exactly one of introduced, fixed, last_affected, limit; this one has %d", n)
	}
	return nil
}

// MarshalJSON writes the event's one field.
func (e Event) MarshalJSON() ([]byte, error) {
	k, v := e.kind()
	return json.Marshal(map[string]string{k: v})
}

func (e Event) kind() (string, string) {
	switch {
	case e.Introduced != "":
		return "introduced", e.Introduced
	case e.Fixed != "":
		return "fixed", e.Fixed
	case e.LastAffected != "":
		return "last_affected", e.LastAffected
	}
	return "limit", e.Limit
}

// Error is a record that could not be read: the file (or ARCHIVE!MEMBER) and the byte offset.
type Error struct {
	Name   string
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.Name, e.Offset, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// Parse reads one record; name is where it came from, for errors.
func Parse(name string, data []byte) (*Record, error) {
	if len(data) > MaxRecordBytes {
		return nil, &Error{Name: name, Offset: MaxRecordBytes, Err: fmt.Errorf("record larger than %d bytes", MaxRecordBytes)}
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
		}
		return nil, &Error{Name: name, Offset: off, Err: err}
	}
	if r.ID == "" {
		return nil, &Error{Name: name, Err: errors.New("record has no id")}
	}
	return &r, nil
}

// Ecosystem is an OSV ecosystem string split into its base ("Debian", "Ubuntu", "Alpine",
// "Red Hat"…) and what follows the first colon (the release: "12", "22.04:LTS", "v3.18",
// "enterprise_linux:9::baseos").
type Ecosystem struct {
	Base, Release string
}

// ParseEcosystem splits "Debian:12".
func ParseEcosystem(s string) Ecosystem {
	b, r, _ := strings.Cut(s, ":")
	return Ecosystem{Base: b, Release: r}
}

func (e Ecosystem) String() string {
	if e.Release == "" {
		return e.Base
	}
	return e.Base + ":" + e.Release
}

// Scheme is the version order of an ecosystem's packages, false for one this package does not
// know (its records cannot be evaluated).
func (e Ecosystem) Scheme() (pkgver.Scheme, bool) {
	switch e.Base {
	case "Debian", "Ubuntu":
		return pkgver.SchemeDebian, true
	case "Alpine":
		return pkgver.SchemeAlpine, true
	case "Red Hat", "Rocky Linux", "AlmaLinux", "SUSE", "openSUSE", "Mariner", "Azure Linux", "openEuler":
		return pkgver.SchemeRPM, true
	}
	return "", false
}
