package check

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden reports")

// The certification-shaped report of the compliant and the dirty image, compared as text.
func TestMSCertGolden(t *testing.T) {
	for _, name := range []string{"clean", "dirty"} {
		r := mustCheck(t, testfixture.Path(t, name+".raw"), Config{Profiles: []string{"azure-linux"}})
		m := r.MSCert()
		m.Image = filepath.Base(m.Image) // the fixture directory differs between machines
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(m)
		p := filepath.Join("testdata", "mscert-"+name+".json")
		if *update {
			os.MkdirAll("testdata", 0o755)
			os.WriteFile(p, buf.Bytes(), 0o644)
		}
		want, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(want, buf.Bytes()) {
			t.Errorf("%s differs (go test ./internal/check -run MSCert -update, then review the diff):\n%s", p, buf.String())
		}
		wantResult := map[string]string{"clean": "Passed", "dirty": "Failed"}[name]
		if m.Result != wantResult {
			t.Errorf("%s: overall %s, want %s", name, m.Result, wantResult)
		}
	}
}

// Each certification test is named and levelled as the run reports it.
func TestMSCertNamesTheTests(t *testing.T) {
	r := mustCheck(t, testfixture.Path(t, "dirty.raw"), Config{Profiles: []string{"azure-linux"}})
	got := map[string]MSCertView{}
	for _, tr := range r.MSCert().TestResults {
		got[tr.TestCaseName] = MSCertView{tr.TestID, tr.Result, tr.ActualValue}
	}
	for name, want := range map[string]MSCertView{
		"Bash History":              {ID: "200.5.1", Result: "Failed"},
		"Client Alive Interval":     {ID: "200.3.3.1", Result: "Failed", Actual: "ClientAliveInterval not set"},
		"Swap Partition on OS Disk": {ID: "200.3.3.3", Result: "Failed"},
		"Linux Agent Version":       {ID: "200.3.3.4", Result: "Failed"},
		"Required Kernel Parameters": {ID: "Required Kernel Parameters", Result: "Failed",
			Actual: "Missing Parameter: console=ttyS0 earlyprintk=ttyS0 rootdelay=300"},
		"OS Architecture": {ID: "OS Architecture", Result: "Failed", Actual: "ELFCLASS32"},
	} {
		g, ok := got[name]
		if !ok || g.ID != want.ID || g.Result != want.Result || want.Actual != "" && g.Actual != want.Actual {
			t.Errorf("%s: %+v, want %+v", name, g, want)
		}
	}
}

type MSCertView struct{ ID, Result, Actual string }
