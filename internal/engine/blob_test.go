package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A fixed VHD uploaded to Azurite as a page blob gets the verdict of the local file, rule by
// rule, read with range requests (a fraction of the file), also through a proxy that fails,
// cuts off and delays requests.
func TestBlobVerdictMatchesTheLocalFile(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	proxy := testfixture.NewFaultProxy(t, az.Endpoint)
	cfg := plan.Choices{Profiles: bothProfiles, Blob: blob.Options{RetryDelay: time.Millisecond}}
	for _, name := range []string{"clean-fixed.vhd", "dirty-fixed.vhd"} {
		local := testfixture.Path(t, name)
		want := mustCheck(t, local, cfg)
		url := az.UploadPageBlob(t, "vhds", name, local)
		for via, u := range map[string]string{"direct": url, "faulty proxy": proxy.Via(t, url)} {
			got := mustCheck(t, u, cfg)
			if got.Compliant != want.Compliant {
				t.Errorf("%s %s: compliant %v, local %v", name, via, got.Compliant, want.Compliant)
			}
			ws := statuses(want)
			for id, st := range statuses(got) {
				if ws[id] != st {
					t.Errorf("%s %s: rule %s is %s, locally %s", name, via, id, st, ws[id])
				}
			}
			b := got.Image.Blob
			if b == nil || b.Requests == 0 || strings.Contains(b.URL, "sig=") || b.Bytes >= got.Image.FileSize {
				t.Errorf("%s %s: blob info %+v (file %d bytes)", name, via, b, got.Image.FileSize)
			}
		}
	}
	if proxy.Faults.Load() == 0 {
		t.Error("the proxy injected no faults")
	}
}

// The full check (with the content scan) of a VHD behind a proxy that cuts or silences every
// second response after 64 KiB used to stall forever; it now ends in seconds with the verdict
// of the local file.
func TestBlobCheckSurvivesStallsAndResets(t *testing.T) {
	az := testfixture.AzuriteServer(t)
	local := testfixture.Path(t, "dirty-fixed.vhd")
	cfg := plan.Choices{Profiles: []string{"azure-linux"}, Blob: blob.Options{RetryDelay: 10 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}}
	want := statuses(mustCheck(t, local, cfg))
	url := az.UploadPageBlob(t, "vhds", "stall.vhd", local)
	for _, reset := range []bool{true, false} {
		proxy := testfixture.NewStallingProxy(t, az.Endpoint, reset)
		start := time.Now()
		got := mustCheck(t, proxy.Via(t, url), cfg)
		for id, st := range statuses(got) {
			if want[id] != st {
				t.Errorf("reset %v: rule %s is %s, locally %s", reset, id, st, want[id])
			}
		}
		if d := time.Since(start); d > 90*time.Second || proxy.Cuts.Load() == 0 {
			t.Errorf("reset %v: the check took %s, %d responses cut", reset, d, proxy.Cuts.Load())
		}
		t.Logf("reset %v: %s, %d responses cut, %+v", reset, time.Since(start).Round(time.Millisecond), proxy.Cuts.Load(), got.Image.Blob)
	}
}
