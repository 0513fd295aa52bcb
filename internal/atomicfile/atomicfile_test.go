package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.json")
	if err := Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	// a failed write leaves the file as it was and no temporary file beside it
	if err := Write(p, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("disk full") }); err == nil {
		t.Fatal("a failed write succeeded")
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("file is %q after a failed write", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("%d entries beside the file, want 1", len(ents))
	}
}
