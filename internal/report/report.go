// Package report holds the result of a check and writes it as a table, JSON or JUnit XML.
package report

import (
	"encoding/json"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Report is the complete, documented output of one check. Its JSON form is stable: fields are
// only ever added.
type Report struct {
	Tool      string         `json:"tool"`
	Version   string         `json:"version"`
	Image     ImageInfo      `json:"image"`
	Profiles  []string       `json:"profiles"`
	FailOn    string         `json:"fail_on"`
	Compliant bool           `json:"compliant"`
	Summary   map[string]int `json:"summary"`
	Findings  []Finding      `json:"findings"`
	Content   *ContentInfo   `json:"content_scan,omitempty"`
	Notes     []string       `json:"notes,omitempty"`
}

// ContentInfo summarises the streaming pass over every file, when it ran.
type ContentInfo struct {
	Filesystems int     `json:"filesystems"`
	Files       int64   `json:"files"`
	Bytes       int64   `json:"bytes"`
	BytesRead   int64   `json:"bytes_read"`
	Seconds     float64 `json:"seconds"`
	Errors      int     `json:"unreadable_files"`
	Summary     string  `json:"summary"`
	// Ledger is what the pass did with every file, per filesystem and scanner: searched,
	// opened as a container, skipped with the reason, unseen with the reason.
	Ledger *scan.Ledger `json:"ledger,omitempty"`
}

// ContentFrom summarises a finished content pass for the report.
func ContentFrom(st *scan.Stats) *ContentInfo {
	return &ContentInfo{Filesystems: st.Filesystems, Files: st.Files, Bytes: st.Bytes, BytesRead: st.BytesRead,
		Seconds: st.Duration.Seconds(), Errors: len(st.Errors), Summary: st.Summary(), Ledger: st.Ledger}
}

// LedgerLines is the ledger's totals, one line per scanner, for the text reports.
func (c *ContentInfo) LedgerLines() []string {
	if c == nil || c.Ledger == nil {
		return nil
	}
	var out []string
	for _, n := range c.Ledger.Scanners() {
		out = append(out, c.Ledger.Totals(n).Line())
	}
	return out
}

// ImageInfo describes the inspected artifact.
type ImageInfo struct {
	Path           string          `json:"path"`
	Format         string          `json:"format"`
	Variant        string          `json:"variant,omitempty"`
	VirtualSize    int64           `json:"virtual_size"`
	FileSize       int64           `json:"file_size"`
	PartitionTable string          `json:"partition_table"`
	Partitions     []PartitionInfo `json:"partitions"`
	Root           string          `json:"root,omitempty"`
	Mounts         []MountInfo     `json:"mounts,omitempty"`
	OS             string          `json:"os,omitempty"`
	// OSName and OSVersion are os-release's NAME and VERSION_ID; Kernel is the newest kernel in
	// /boot (the one a default boot configuration starts).
	OSName       string `json:"os_name,omitempty"`
	OSVersion    string `json:"os_version,omitempty"`
	Kernel       string `json:"kernel,omitempty"`
	ReadRequests int64  `json:"read_requests"`
	BytesRead    int64  `json:"bytes_read"`
	// Blob is set when the image was read from Azure Storage by URL.
	Blob *BlobInfo `json:"blob,omitempty"`
}

// BlobInfo counts the HTTP range requests made to read a blob.
type BlobInfo struct {
	URL      string `json:"url"` // without its SAS token
	Requests int64  `json:"requests"`
	Retries  int64  `json:"retries"`
	Bytes    int64  `json:"bytes"`
}

// PartitionInfo is one partition as detected.
type PartitionInfo struct {
	Number int    `json:"number"`
	Start  int64  `json:"start"`
	Size   int64  `json:"size"`
	Type   string `json:"type,omitempty"`
	Kind   string `json:"kind"`
	UUID   string `json:"fs_uuid,omitempty"`
	Label  string `json:"fs_label,omitempty"`
}

// MountInfo is a filesystem mounted from fstab.
type MountInfo struct {
	Path      string `json:"path"`
	Partition int    `json:"partition"`
	Spec      string `json:"spec"`
}

// Finding is one rule's outcome.
type Finding struct {
	Rule          string          `json:"rule"`
	Title         string          `json:"title"`
	Status        rules.Status    `json:"status"`
	Severity      rules.Severity  `json:"severity"`
	Blocking      bool            `json:"blocking"` // this finding fails the build
	Profiles      []string        `json:"profiles"`
	Source        string          `json:"source"`
	Certification *rules.CertTest `json:"certification,omitempty"`
	// PredictedCertification is the result the certification test would give (Passed, Warning,
	// Failed): it may differ from Status, which is this plugin's verdict (stricter by policy
	// in places, and a waiver does not change what the certification sees).
	PredictedCertification string           `json:"predicted_certification,omitempty"`
	Message                string           `json:"message"`
	Actual                 string           `json:"actual,omitempty"`
	Required               string           `json:"required,omitempty"`
	Evidence               []rules.Evidence `json:"evidence"`
	Fix                    string           `json:"fix,omitempty"`
	Waiver                 *plan.Waiver     `json:"waiver,omitempty"`
	// Checks are the selected profiles' checks of the rule: each marketplace's own ID and name
	// for it and how much it counts there.
	Checks []MarketCheck `json:"checks,omitempty"`
}

// MarketCheck is one profile's check of a rule.
type MarketCheck struct {
	Profile string `json:"profile"`
	Level   string `json:"level"` // required or advisory
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Source  string `json:"source,omitempty"`
	Running bool   `json:"running_machine,omitempty"` // the marketplace checks it on a running machine
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Blocking returns the findings that fail the build.
func (r *Report) Blocking() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Blocking {
			out = append(out, f)
		}
	}
	return out
}
