package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// The names the content pass gives what it walks keep SARIF locations: an extended attribute
// "PATH [xattr NAME]" is located at its file, the attribute named in the location's message; a
// file a mount point hides, "partition N:/path", is relative to its partition.
func TestSARIFLocationsOfAttributesAndHiddenFiles(t *testing.T) {
	r := &Report{Findings: []Finding{{
		Rule: "no-hardcoded-credentials", Status: rules.Fail, Severity: rules.Critical, Message: "m",
		Evidence: []rules.Evidence{
			{Path: "/opt/app/app.conf [xattr user.token]", Line: 1, Detail: "AWS key"},
			{Path: "partition 1:/boot/creds.ini", Line: 2, Detail: "password"},
			{Path: "partition 3:/x [xattr trusted.k]"},
		},
	}}}
	var buf bytes.Buffer
	if err := r.WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"IMAGEROOT opt/app/app.conf: extended attribute user.token: AWS key",
		"PARTITION1 boot/creds.ini: password",
		"PARTITION3 x: extended attribute trusted.k",
	}
	locs := doc.Runs[0].Results[0].Locations
	if len(locs) != len(want) {
		t.Fatalf("%d locations: %s", len(locs), buf.String())
	}
	for i, l := range locs {
		got := l.PhysicalLocation.ArtifactLocation.URIBaseID + " " + l.PhysicalLocation.ArtifactLocation.URI + ": " + l.Message.Text
		if got != want[i] {
			t.Errorf("location %d: %q, want %q", i, got, want[i])
		}
	}
}

// The table's ledger line says, per scanner, what was searched, opened, skipped (with the
// reason) and unseen; JSON carries the whole ledger under content_scan.ledger.
func TestLedgerInTableAndJSON(t *testing.T) {
	l := &scan.Ledger{Filesystems: []*scan.FilesystemLedger{
		{Name: "partition 1 (ext4, the root filesystem)", Partition: 1, MountedAt: "/", Files: 3, Scanners: []*scan.ScannerTally{{
			Scanner: "secrets", Searched: scan.Count{Files: 2, Bytes: 3 << 20}, Opened: scan.Count{Files: 1, Bytes: 10},
			Skipped: []scan.ReasonCount{{Reason: "unchanged distribution file", Count: scan.Count{Files: 4, Bytes: 40}}},
		}}},
		{Name: "partition 2 (luks)", Partition: 2, Unread: "encrypted", Scanners: []*scan.ScannerTally{{
			Scanner: "secrets", Unseen: 1, Examples: []scan.FileError{{Path: "partition 2:/", Error: "encrypted"}},
		}}},
	}}
	r := &Report{Summary: map[string]int{}, Content: &ContentInfo{Summary: "3 files", Ledger: l}}
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	line := "ledger: secrets: 2 files searched (3.0 MiB), 1 opened as containers, skipped: 4 unchanged distribution file, 1 unseen"
	if !strings.Contains(tb.String(), line) {
		t.Errorf("table:\n%s\nwant %q", tb.String(), line)
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"ledger": {`, `"unread": "encrypted"`, `"reason": "unchanged distribution file"`, `"mounted_at": "/"`} {
		if !strings.Contains(js.String(), s) {
			t.Errorf("JSON lacks %s", s)
		}
	}
}
