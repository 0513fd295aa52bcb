//go:build digitalocean

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestWriteOracleImages writes the images the comparison judges, and their vulnerability data,
// into $DO_IMAGES (NAME.raw, osv/): scripts/do-img-check.sh runs DigitalOcean's script and the
// checker on exactly the images TestPageMatchesOurVerdicts judges.
//
//	DO_IMAGES=DIR go test -tags digitalocean -count 1 -run TestWriteOracleImages ./internal/cmd/do-compare/
func TestWriteOracleImages(t *testing.T) {
	out := os.Getenv("DO_IMAGES")
	if out == "" {
		t.Fatal("DO_IMAGES is not set: the directory to write the images into")
	}
	images, osvDir := oracleImages(t)
	for _, im := range Images {
		if b, err := exec.Command("cp", "--sparse=always", images[im.Name], filepath.Join(out, im.Name+".raw")).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", im.Name, err, b)
		}
	}
	if b, err := exec.Command("cp", "-r", osvDir, filepath.Join(out, "osv")).CombinedOutput(); err != nil {
		t.Fatalf("osv: %v %s", err, b)
	}
}
