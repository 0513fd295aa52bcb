package clamd_test

import (
	"context"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/clamd"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A planted file is found by a real clamd, by path and signature name; every other file is sent
// and comes back clean; files over the stream limit are listed, not sent.
func TestRealClamdFindsThePlantedFile(t *testing.T) {
	planted := []byte("marketplace-check test payload: this content is the signature\n")
	srv := testfixture.ClamdServer(t, map[string][]byte{"Marketplace.Test.Planted": planted})
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{
		"/opt/app/bin/helper":  string(planted),
		"/opt/app/bin/clean":   "#!/bin/sh\necho clean\n",
		"/opt/app/large.bin":   strings.Repeat("x", 3<<20),
		"/srv/data/readme.txt": "nothing to see\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	s, err := clamd.New(srv.Address, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Version(), "ClamAV") {
		t.Errorf("version: %q", s.Version())
	}
	st, err := scan.Run(context.Background(), img, scan.Options{Workers: 2}, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Errors) > 0 {
		t.Fatalf("scan errors: %v", st.Errors)
	}
	d := s.Detections()
	if len(d) != 1 || d[0].Path != "/opt/app/bin/helper" || d[0].Signature != "Marketplace.Test.Planted.UNOFFICIAL" && d[0].Signature != "Marketplace.Test.Planted" {
		t.Fatalf("detections: %+v", d)
	}
	scanned, oversized := s.Counts()
	if scanned != st.Files-1 || len(oversized) != 1 || oversized[0] != "/opt/app/large.bin" {
		t.Errorf("scanned %d of %d files, oversized %v", scanned, st.Files, oversized)
	}
}

func TestUnreachableClamdIsAClearError(t *testing.T) {
	_, err := clamd.New("unix:///nonexistent/clamd.sock", 0)
	if err == nil || !strings.Contains(err.Error(), "clamd is unreachable at unix /nonexistent/clamd.sock") {
		t.Fatalf("error: %v", err)
	}
	if _, err := clamd.New("clamd", 0); err == nil || !strings.Contains(err.Error(), "want unix://") {
		t.Fatalf("bad address: %v", err)
	}
}
