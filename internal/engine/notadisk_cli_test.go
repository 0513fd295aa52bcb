package engine_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/cli"
	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// randomFile writes n random bytes (no partition table, no filesystem, no container header).
func randomFile(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "random.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A file of random bytes is one clear error, exit 2, naming the file: not a disk image, and no
// rule rows (before: "raw … none partition table", 33 ERRORs and "1 passed").
func TestNotADiskImageCLI(t *testing.T) {
	img := randomFile(t, 4<<20)
	var out, errb bytes.Buffer
	status := cli.Check([]string{"--profile", "azure-linux", img}, &out, &errb)
	if status != cli.ExitCannot {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", status, cli.ExitCannot, out.String(), errb.String())
	}
	msg := errb.String()
	if !strings.Contains(msg, img) || !strings.Contains(msg, "not a disk image") {
		t.Errorf("stderr %q: want the file named and \"not a disk image\"", msg)
	}
	if strings.Count(msg, "not a disk image") != 1 {
		t.Errorf("stderr %q: want the error said once", msg)
	}
	for _, s := range []string{"ERROR", "passed", "partition table\n"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("stdout has %q, want no report:\n%s", s, out.String())
		}
	}
}

// Through the engine the same file is an InspectError wrapping an inspect.NotDiskImageError; the
// same random bytes inside a qcow2 container say which container held them.
func TestNotADiskImageEngine(t *testing.T) {
	img := randomFile(t, 4<<20)
	_, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
	var ie *engine.InspectError
	var nd *inspect.NotDiskImageError
	if !errors.As(err, &ie) || !errors.As(err, &nd) || nd.Format != "raw" || nd.Size != 4<<20 {
		t.Fatalf("random bytes: %v (%T), want an InspectError wrapping NotDiskImageError of the raw 4 MiB", err, err)
	}
	if !strings.Contains(err.Error(), img) || !strings.Contains(err.Error(), "no known container format") {
		t.Errorf("error %q: want the file named and the formats ruled out", err)
	}
	q := filepath.Join(t.TempDir(), "random.qcow2")
	if b, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", img, q).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v %s", err, b)
	}
	_, err = engine.Check(q, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
	if !errors.As(err, &nd) || nd.Format != "qcow2" || !strings.Contains(err.Error(), "qcow2 container") || !strings.Contains(err.Error(), q) {
		t.Fatalf("random qcow2: %v, want NotDiskImageError naming the qcow2 container and the file", err)
	}
}

// Real images still open: a bare filesystem (no partition table) and a partitioned disk are
// checked, not refused.
func TestBareFilesystemIsStillADiskImage(t *testing.T) {
	for name, img := range map[string]string{
		"bare ext4": testfixture.Variant(t, nil),
		"bare xfs":  testfixture.Filesystem(t, "xfs", t.TempDir(), "300M"),
		"GPT qcow2": testfixture.Path(t, "clean.qcow2"),
	} {
		var out, errb bytes.Buffer
		status := cli.Check([]string{"--profile", "azure-linux", "--no-content-scan", img}, &out, &errb)
		if status == cli.ExitCannot && strings.Contains(errb.String(), "not a disk image") || !strings.Contains(out.String(), "passed") {
			t.Errorf("%s: exit %d, want a report\nstdout:\n%s\nstderr:\n%s", name, status, out.String(), errb.String())
		}
	}
}
