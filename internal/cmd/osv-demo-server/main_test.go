package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
)

// TestDumpIsWhatOSVServes: the demo's dump is a zip the checker reads, with the demo's advisory.
func TestDumpIsWhatOSVServes(t *testing.T) {
	data, err := dump(filepath.Join("..", "..", "..", "testdata", "osv"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := osv.ReadZip("all.zip", bytes.NewReader(data), int64(len(data)), osv.Filter{Ecosystems: []string{"Debian:12"}})
	if err != nil || len(db.For("openssl")) != 1 {
		t.Fatalf("%+v %v", db, err)
	}
	if _, err := dump(t.TempDir()); err == nil {
		t.Error("an empty directory made a dump")
	}
}
