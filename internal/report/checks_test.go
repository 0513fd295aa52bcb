package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// A finding judged by two marketplaces names each one's check, in the table, the JSON and SARIF.
func TestMarketplaceChecksInReports(t *testing.T) {
	r := &Report{Profiles: []string{"azure-linux", "alibaba"}, Findings: []Finding{{
		Rule: "first-nic-dhcp", Title: "t", Status: rules.Fail, Severity: rules.Critical, Message: "m",
		Evidence: []rules.Evidence{},
		Checks: []MarketCheck{
			{Profile: "azure-linux", Level: "required"},
			{Profile: "alibaba", Level: "required", ID: "GUESTOS.Dhcp", Name: "DHCP configuration"},
		},
	}}}
	var table, js, sarif bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "  alibaba check: GUESTOS.Dhcp (DHCP configuration), required\n") {
		t.Errorf("table does not name Alibaba's check:\n%s", table.String())
	}
	if strings.Contains(table.String(), "azure-linux check:") {
		t.Errorf("table names a check the profile gives no name:\n%s", table.String())
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Checks []MarketCheck `json:"checks"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Findings) != 1 || len(doc.Findings[0].Checks) != 2 || doc.Findings[0].Checks[1].ID != "GUESTOS.Dhcp" {
		t.Errorf("JSON checks: %+v %v", doc, err)
	}
	if err := r.WriteSARIF(&sarif); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"marketplace_checks"`) || !strings.Contains(sarif.String(), `"GUESTOS.Dhcp"`) {
		t.Errorf("SARIF rule properties lack the checks:\n%s", sarif.String())
	}
}
