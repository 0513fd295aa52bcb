package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// One pass gives the credential and malware findings, the SBOM, the integrity baseline and the
// SARIF report; each says what it should about the dirty image.
func TestContentScanArtifacts(t *testing.T) {
	dir := t.TempDir()
	img := testfixture.Path(t, "dirty.qcow2")
	cfg := plan.Choices{Profiles: []string{"azure-linux"}, SBOM: filepath.Join(dir, "sbom.cdx.json"),
		Content: plan.ContentChoices{ClamdAddress: testfixture.DirtyClamd(t).Address, Manifest: filepath.Join(dir, "manifest.json")},
		Waivers: []plan.Waiver{{Rule: "firewall-disabled", Reason: "the appliance filters its own port"}}}
	var progressed int64
	progress := func(done, total int64) {
		if done > total {
			t.Errorf("progress %d of %d", done, total)
		}
		progressed = total
	}
	r, err := CheckWithProgress(img, plan.MustNew(cfg), progress)
	if err != nil {
		t.Fatal(err)
	}
	if r.Content == nil || r.Content.Files == 0 || progressed != r.Content.Bytes {
		t.Fatalf("content info %+v, progress total %d", r.Content, progressed)
	}
	find := func(id string) report.Finding {
		for _, f := range r.Findings {
			if f.Rule == id {
				return f
			}
		}
		t.Fatalf("no finding %s", id)
		return report.Finding{}
	}
	if f := find("no-malware"); f.Status != rules.Fail || len(f.Evidence) != 1 || f.Evidence[0].Path != "/usr/local/bin/xmrig-helper" ||
		!strings.Contains(f.Evidence[0].Detail, "Marketplace.Test.Planted") {
		t.Errorf("no-malware: %+v", f)
	}
	creds := find("no-hardcoded-credentials")
	var paths []string
	for _, e := range creds.Evidence {
		paths = append(paths, e.Path)
		if strings.Contains(e.Detail, "Sup3rS3cretPassw0rd") || strings.Contains(e.Detail, "LTAI5tQk8hWkMbUe3y9xZp2N") {
			t.Errorf("a secret is printed: %s", e.Detail)
		}
	}
	if creds.Status != rules.Fail || !strings.Contains(strings.Join(paths, " "), "/opt/app/settings.ini") ||
		!strings.Contains(strings.Join(paths, " "), "/home/tester/.ssh/id_ed25519") {
		t.Errorf("no-hardcoded-credentials: %s %v", creds.Status, paths)
	}

	// the SBOM lists what the package database lists, with package URLs
	var bom struct {
		BOMFormat, SpecVersion string
		Metadata               struct {
			Component struct{ Name, Version string }
		}
		Components []struct{ Name, Version, PURL string }
	}
	b, err := os.ReadFile(cfg.SBOM)
	if err != nil || json.Unmarshal(b, &bom) != nil {
		t.Fatalf("SBOM: %v", err)
	}
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	inv, err := im.Packages()
	if err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || bom.Metadata.Component.Name != "debian" ||
		len(bom.Components) != len(inv.Packages) || len(bom.Components) == 0 ||
		!strings.HasPrefix(bom.Components[0].PURL, "pkg:deb/debian/"+bom.Components[0].Name+"@") {
		t.Errorf("SBOM: %+v (inventory %d packages)", bom, len(inv.Packages))
	}

	// the baseline holds every file with the digest of its content in the image
	var m struct {
		Files []struct {
			Path, Mode, SHA256 string
			Size               int64
		}
	}
	if b, err := os.ReadFile(cfg.Content.Manifest); err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if int64(len(m.Files)) != r.Content.Files {
		t.Errorf("manifest has %d files, the pass saw %d", len(m.Files), r.Content.Files)
	}
	for _, f := range m.Files {
		if f.Path != "/usr/local/bin/xmrig-helper" {
			continue
		}
		sum := sha256.Sum256([]byte(testfixture.PlantedMalware))
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(testfixture.PlantedMalware)) || !strings.HasPrefix(f.Mode, "-rw") {
			t.Errorf("manifest entry %+v", f)
		}
	}

	// SARIF: a result per non-passing finding, located in the image; the waiver as a suppression
	var buf bytes.Buffer
	if err := r.WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID    string
				Level     string
				Locations []struct {
					PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
				}
				Suppressions []struct{ Kind, Justification string }
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
		t.Fatalf("SARIF: %v %s", err, buf.String()[:200])
	}
	run := sarif.Runs[0]
	if len(run.Tool.Driver.Rules) != len(r.Findings) {
		t.Errorf("SARIF has %d rules, the report %d findings", len(run.Tool.Driver.Rules), len(r.Findings))
	}
	seen := map[string]bool{}
	for _, res := range run.Results {
		seen[res.RuleID] = true
		if res.RuleID == "no-malware" && (res.Level != "error" || len(res.Locations) != 1 || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "usr/local/bin/xmrig-helper") {
			t.Errorf("SARIF no-malware result: %+v", res)
		}
		if res.RuleID == "firewall-disabled" && (len(res.Suppressions) != 1 || res.Suppressions[0].Justification != "the appliance filters its own port") {
			t.Errorf("SARIF waived result: %+v", res)
		}
	}
	for _, f := range r.Findings {
		if f.Status != rules.Pass && f.Status != rules.NotApplicable && !seen[f.Rule] {
			t.Errorf("SARIF lacks a result for %s (%s)", f.Rule, f.Status)
		}
	}
}

// With content_scan = false nothing but metadata is read and the content rules say why.
func TestContentScanOff(t *testing.T) {
	r := mustCheck(t, testfixture.Path(t, "dirty.raw"), plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Off: true}})
	if r.Content != nil || statuses(r)["no-hardcoded-credentials"] != rules.NotApplicable {
		t.Errorf("content %+v, credentials %s", r.Content, statuses(r)["no-hardcoded-credentials"])
	}
}

// An unreachable clamd is an error, not a silently skipped malware scan.
func TestUnreachableClamdFailsTheCheck(t *testing.T) {
	_, err := checkFile(testfixture.Path(t, "dirty.raw"), plan.Choices{Profiles: []string{"azure-linux"},
		Content: plan.ContentChoices{ClamdAddress: "unix://" + filepath.Join(t.TempDir(), "none.sock")}})
	if err == nil || !strings.Contains(err.Error(), "clamd is unreachable") {
		t.Fatalf("err = %v", err)
	}
}

// On a Windows image the same pass scans the NTFS volume: clamd finds the planted file by its
// C: path, and a hive captured unflushed is noted.
func TestWindowsContentScanAndUnflushedHive(t *testing.T) {
	img := testfixture.WindowsImage(t, winimage.Options{UnflushedSoftware: true, Format: "vpc", Files: map[string][]byte{
		"Users/Public/Downloads/invoice.exe": []byte(testfixture.PlantedMalware),
	}})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-windows"}, Content: plan.ContentChoices{ClamdAddress: testfixture.DirtyClamd(t).Address}})
	var malware *report.Finding
	for i, f := range r.Findings {
		if f.Rule == "no-malware" {
			malware = &r.Findings[i]
		}
	}
	if malware == nil || malware.Status != "fail" || len(malware.Evidence) != 1 || malware.Evidence[0].Path != "C:/Users/Public/Downloads/invoice.exe" {
		t.Fatalf("no-malware: %+v", malware)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "SOFTWARE was not flushed") }) {
		t.Errorf("notes lack the unflushed hive: %q", r.Notes)
	}
	if !strings.Contains(r.Image.OS, "Windows Server 2022 Datacenter") || !strings.Contains(r.Image.Root, "Windows volume") {
		t.Errorf("image info: %+v", r.Image)
	}
	// SARIF locates Windows findings from the volume's root like Linux ones
	var sarif bytes.Buffer
	if err := r.WriteSARIF(&sarif); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"uri": "Users/Public/Downloads/invoice.exe"`) {
		t.Errorf("SARIF lacks the malware's location:\n%s", sarif.String())
	}
}

// Every credential found is in the JSON, SARIF and JUnit reports; only the terminal table
// summarises (and says where the rest is).
func TestEveryFindingIsInTheFileReports(t *testing.T) {
	const n = 75
	change := testfixture.Change{}
	for i := 0; i < n; i++ {
		change[fmt.Sprintf("/opt/app/conf.d/site-%02d.ini", i)] = fmt.Sprintf("[database]\nhost = db%d.internal\npassword = Xq7vLp2RtZ9wKm4N%02d\n", i, i)
	}
	r := mustCheck(t, testfixture.Variant(t, change), plan.Choices{Profiles: []string{"azure-linux"}})
	var creds report.Finding
	for _, f := range r.Findings {
		if f.Rule == "no-hardcoded-credentials" {
			creds = f
		}
	}
	if creds.Status != rules.Fail || len(creds.Evidence) != n {
		t.Fatalf("no-hardcoded-credentials: %s with %d evidence lines, want %d", creds.Status, len(creds.Evidence), n)
	}
	var js, sarif, junit, table bytes.Buffer
	for _, w := range []func() error{
		func() error { return r.WriteJSON(&js) }, func() error { return r.WriteSARIF(&sarif) },
		func() error { return r.WriteJUnit(&junit) }, func() error { return r.WriteTable(&table) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	for name, out := range map[string]string{"JSON": js.String(), "SARIF": sarif.String(), "JUnit": junit.String()} {
		for i := 0; i < n; i++ {
			if !strings.Contains(out, fmt.Sprintf("opt/app/conf.d/site-%02d.ini", i)) {
				t.Errorf("%s lacks finding %d", name, i)
				break
			}
		}
		if strings.Contains(out, "Xq7vLp2RtZ9wKm4N") {
			t.Errorf("%s prints a secret", name)
		}
	}
	if !strings.Contains(table.String(), fmt.Sprintf("... and %d more (every one is in the JSON, SARIF and JUnit reports)", n-20)) {
		t.Errorf("the table does not summarise:\n%s", table.String())
	}
}
