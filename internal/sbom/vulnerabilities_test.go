package sbom

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

func TestAddVulnerabilities(t *testing.T) {
	inv := &pkgdb.Inventory{Manager: "dpkg", Packages: []pkgdb.Package{{Name: "libssl3", Version: "3.0.11-1", Source: "openssl"}, {Name: "openssl", Version: "3.0.11-1"}, {Name: "bash", Version: "5.2"}}}
	b := Build(inv, OS{ID: "debian", VersionID: "12"}, "disk.raw", "t", "1", time.Now())
	b.AddVulnerabilities([]Advisory{{ID: "DSA-1-1", Source: "openssl", Installed: "3.0.11-1", Fixed: "3.0.15-1", Severity: "high",
		SeverityFrom: "CVSS:3.1 base 7.5", Aliases: []string{"CVE-2026-1"}, Packages: []string{"libssl3", "openssl"}, Database: "https://x/all.zip"}})
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vulnerabilities []struct {
			ID             string                              `json:"id"`
			Ratings        []struct{ Severity, Method string } `json:"ratings"`
			Affects        []struct{ Ref string }              `json:"affects"`
			References     []struct{ ID string }               `json:"references"`
			Recommendation string                              `json:"recommendation"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vulnerabilities) != 1 {
		t.Fatalf("%s", buf.String())
	}
	v := doc.Vulnerabilities[0]
	if v.ID != "DSA-1-1" || len(v.Affects) != 2 || v.Affects[0].Ref != b.Components[0].BOMRef || v.Ratings[0].Method != "CVSSv31" ||
		v.Ratings[0].Severity != "high" || v.References[0].ID != "CVE-2026-1" || v.Recommendation == "" {
		t.Errorf("%+v", v)
	}
}
