package secrets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #26 (R3 case 32): zip 3.0 reading from stdin ("zip - -") does not know the size
// beforehand, so it writes zip64 records (and, to a pipe, data descriptors); to a file, zip64 end records
// although every value fits the plain end record: the central directory then ends at the zip64
// record, 76 bytes before the end record. Such a zip is valid (unzip and Go's archive/zip read
// it) and its entry must be searched, not reported as a zip with no end of central directory.
// Written to a pipe, zip writes no zip64 end records: that one must be read too.
func TestZipWrittenFromStdin(t *testing.T) {
	needTool(t, "zip")
	for _, toFile := range []bool{true, false} {
		cmd := exec.Command("zip", "-q", "-", "-")
		cmd.Stdin = strings.NewReader(awsKeys)
		var out bytes.Buffer
		outPath := filepath.Join(t.TempDir(), "out.zip")
		if toFile {
			f, err := os.Create(outPath)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = f
			err = cmd.Run()
			f.Close()
			if err != nil {
				t.Fatalf("zip: %v", err)
			}
		} else {
			cmd.Stdout = &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("zip: %v", err)
			}
		}
		z := out.Bytes()
		if toFile {
			z, _ = os.ReadFile(outPath)
			if !bytes.Contains(z, []byte("PK\x06\x06")) {
				t.Fatalf("zip wrote no zip64 end record to a file: the case is not the reviewer's")
			}
		}
		if !toFile && !bytes.Contains(z, []byte("PK\x07\x08")) {
			t.Fatalf("zip wrote no data descriptor to a pipe")
		}
		if _, ok := zipLocate(bytes.NewReader(z), int64(len(z))); !ok {
			t.Errorf("zipLocate finds no zip in zip's own output (to a file: %v)", toFile)
		}
		r := scanBytes(t, Options{}, "/srv/creds.zip", z)
		if r.err != nil || !r.foundAWS(t, "/srv/creds.zip!/-") {
			t.Errorf("to a file %v: err %v, found %+v", toFile, r.err, r.found)
		}
	}
}
