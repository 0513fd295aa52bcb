package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// Every evidence path becomes a SARIF location: image paths relative to IMAGEROOT, Windows
// paths too, and the files of a filesystem nothing mounts (an unmounted ESP) relative to their
// partition; nothing is dropped.
func TestSARIFLocations(t *testing.T) {
	r := &Report{Findings: []Finding{{
		Rule: "kernel-cmdline", Status: rules.Fail, Severity: rules.High, Message: "m",
		Evidence: []rules.Evidence{
			{Path: "/boot/grub/grub.cfg", Line: 3, Detail: "a"},
			{Path: "C:/Windows/System32/drivers/etc/hosts", Detail: "b"},
			{Path: "partition 1:/EFI/Linux/debian.efi", Detail: "c"},
			{Path: "/opt/app/lib.jar!/config.properties", Line: 2, Detail: "d"},
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
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range doc.Runs[0].Results[0].Locations {
		got = append(got, l.PhysicalLocation.ArtifactLocation.URIBaseID+" "+l.PhysicalLocation.ArtifactLocation.URI)
	}
	want := []string{"IMAGEROOT boot/grub/grub.cfg", "IMAGEROOT Windows/System32/drivers/etc/hosts",
		"PARTITION1 EFI/Linux/debian.efi", "IMAGEROOT opt/app/lib.jar!/config.properties"}
	if len(got) != len(want) {
		t.Fatalf("locations %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("location %d: %q, want %q", i, got[i], want[i])
		}
	}
}
