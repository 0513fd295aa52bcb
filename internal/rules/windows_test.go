package rules_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

func evaluateWindows(t *testing.T, path string) map[string]rules.Result {
	t.Helper()
	img, err := inspect.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	if img.Windows == nil || img.WindowsPartition.Number != 2 {
		t.Fatalf("Windows volume not found on partition 2 (notes %v)", img.Notes)
	}
	profiles := []string{"azure-windows", "alibaba-windows"}
	content, err := engine.ScanContent(context.Background(), img, plan.MustNew(plan.Choices{Profiles: profiles}), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.ForProfiles(profiles)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rules.Result{}
	for _, r := range rs {
		if r.ID == "no-malware" {
			continue // needs clamd; covered by the check package's tests
		}
		out[r.ID] = r.Run(&rules.Context{Image: img, Content: content})
	}
	return out
}

func TestWindowsCleanImagePasses(t *testing.T) {
	for _, format := range []string{"raw", "vpc"} {
		t.Run(format, func(t *testing.T) {
			res := evaluateWindows(t, testfixture.WindowsImage(t, winimage.Options{Format: format}))
			if len(res) < 15 {
				t.Fatalf("only %d Windows rules ran", len(res))
			}
			for id, r := range res {
				if r.Status != rules.Pass {
					t.Errorf("%s: %s: %s %v", id, r.Status, r.Message, r.Evidence)
				}
			}
		})
	}
}

// The dirty image breaks every Windows rule; each must fail (or warn) naming what it found.
func TestWindowsDirtyImageFailsEachRule(t *testing.T) {
	img := testfixture.WindowsImage(t, winimage.Options{Dirty: true, Files: map[string][]byte{
		"inetpub/wwwroot/web.config": []byte(`<connectionStrings><add name="db" connectionString="Server=sql01;User Id=sa;Password=Pr0dPassw0rd!2024;" /></connectionStrings>`),
	}})
	res := evaluateWindows(t, img)
	want := map[string]string{
		"windows-accounts-locked":             "admin (RID 1001) is enabled with a password",
		"windows-no-restricted-account-names": "admin (RID 1001) is enabled",
		"windows-automatic-updates":           "NoAutoUpdate=1",
		"windows-firewall":                    "build test web server",
		"windows-generalized":                 "IMAGE_STATE_COMPLETE",
		"windows-updates-current":             "Package_for_RollupFix",
		"windows-supported-roles":             "DHCP installed",
		"windows-no-failover-clustering":      "Failover-Clustering",
		"windows-no-ssh-keys":                 "C:/Users/packer/.ssh/authorized_keys",
		"windows-no-cached-credentials":       "Credentials/DFBE70A7E5CC19A398EBF1B96859CE5D",
		"windows-no-powershell-history":       "C:/Windows/System32/config/systemprofile/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt",
		"windows-temp-empty":                  "C:/Windows/Temp/packer-ps-env-vars-1.ps1",
		"windows-hosts-default":               "build-cache.internal",
		"windows-event-logs-cleared":          "Security.evtx",
		"no-hardcoded-credentials":            "C:/inetpub/wwwroot/web.config",
	}
	var ids []string
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := res[id]
		text, bad := want[id]
		if !bad {
			if r.Status != rules.Pass {
				t.Errorf("%s: %s (%s), want pass", id, r.Status, r.Message)
			}
			continue
		}
		wantStatus := rules.Fail
		if id == "windows-no-failover-clustering" {
			wantStatus = rules.Warn // the documented test fails it; Azure supports clusters now
		}
		if r.Status != wantStatus {
			t.Errorf("%s: %s (%s), want %s", id, r.Status, r.Message, wantStatus)
			continue
		}
		found := strings.Contains(r.Message, text)
		for _, e := range r.Evidence {
			found = found || strings.Contains(e.Path+" "+e.Detail, text)
		}
		if !found {
			t.Errorf("%s: evidence lacks %q: %s %v", id, text, r.Message, r.Evidence)
		}
	}
	// the secret is reported by place and kind, never in full
	for _, e := range res["no-hardcoded-credentials"].Evidence {
		if strings.Contains(e.Detail, "Pr0dPassw0rd!2024") {
			t.Errorf("secret printed in full: %s", e.Detail)
		}
	}
}

func TestWindowsRulesOnALinuxImageSayWhy(t *testing.T) {
	img, err := inspect.Open(testfixture.Path(t, "clean.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, _ := rules.ByID("windows-generalized")
	res := r.Run(&rules.Context{Image: img})
	if res.Status != rules.Error || !strings.Contains(res.Message, "no Windows system volume") {
		t.Fatalf("got %s: %s", res.Status, res.Message)
	}
}
