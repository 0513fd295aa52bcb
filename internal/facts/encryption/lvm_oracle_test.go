package encryption

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
)

// A PV that pvcreate, vgcreate and lvcreate made, with a LUKS2 header that cryptsetup made in
// one LV: ProbeLVM finds it there, and reads the other LV as plain.
func TestProbeLVMOracleLVMTools(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(file, make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	luks := realLUKS2(t, 2<<20, "oracle")
	l := lvmtest.NewTools(t, file)
	l.Run("pvcreate", "-q", l.Dev)
	l.Run("vgcreate", "-q", "-s", "1M", "vgo", l.Dev)
	l.Run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-L", "3M", "-n", "root", "vgo")
	l.Run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-L", "2M", "-n", "crypt", "vgo")
	at := l.LVStart("vgo/crypt", 1<<20)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[at:], luks[:32<<10])
	lvs, probs := ProbeLVM(bytes.NewReader(b), int64(len(b)))
	if len(probs) != 0 || len(lvs) != 2 || lvs[0].Name != "root" || lvs[0].Header.Kind != "" ||
		lvs[1].Name != "crypt" || lvs[1].Header.Kind != LUKS2 || lvs[1].Header.Label != "oracle" || lvs[1].At != at {
		t.Errorf("LVs %+v, problems %q; want root plain and crypt LUKS2 at %#x", lvs, problemsText(probs), at)
	}
}
