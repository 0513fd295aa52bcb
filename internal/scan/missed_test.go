package scan_test

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// What no scanner saw (a directory the walk could not enter: Scanner "") is missed by every
// scanner, and counted and named for each; what one scanner could not handle is missed by that
// scanner only.
func TestMissedNamesWhatEachScannerDidNotSee(t *testing.T) {
	st := &scan.Stats{
		Unseen: map[string]int64{"": 1, "secrets": 1},
		Errors: []scan.FileError{
			{Path: "/srv/unreadable", Error: "directory not read"},
			{Path: "/opt/a.7z", Scanner: "secrets", Error: "7z is not opened"},
		},
	}
	n, ex := st.Missed("secrets")
	if n != 2 || len(ex) != 2 {
		t.Fatalf("secrets missed %d %v; want both paths", n, ex)
	}
	n, ex = st.Missed("clamd")
	if n != 1 || len(ex) != 1 || ex[0].Path != "/srv/unreadable" {
		t.Fatalf("clamd missed %d %v; want only the directory no scanner saw", n, ex)
	}
}
