package encryption

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lvmTools runs LVM's own commands on a loop device over a file: as root, with lvm2 and
// losetup installed (Debian lvm2, mount), without device-mapper (--driverloaded n: nothing is
// activated) and with a configuration of its own (LVM_SYSTEM_DIR), so that nothing of the
// machine's LVM state (backups, archives, devices file) is touched.
type lvmTools struct {
	t   *testing.T
	env []string
	dev string
}

func newLVMTools(t *testing.T, file string) *lvmTools {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("LVM's tools need root (a loop device)")
	}
	for _, c := range []string{"losetup", "pvcreate", "lvs"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed (Debian lvm2 and mount)", c)
		}
	}
	sys := t.TempDir()
	conf := "devices {\n use_devicesfile = 0\n obtain_device_list_from_udev = 0\n}\nbackup {\n backup = 0\n archive = 0\n}\n"
	if err := os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--show", "-f", file).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device: %v: %s", err, out)
	}
	l := &lvmTools{t: t, env: append(os.Environ(), "LVM_SYSTEM_DIR="+sys, "LVM_SUPPRESS_FD_WARNINGS=1"), dev: strings.TrimSpace(string(out))}
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", l.dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", l.dev, err, out)
		}
	})
	return l
}

func (l *lvmTools) run(args ...string) string {
	l.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = l.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output() // stdout only: LVM warns on stderr that activation is off
	if err != nil {
		l.t.Fatalf("%s: %v: %s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// A PV that pvcreate, vgcreate and lvcreate made, with a LUKS2 header that cryptsetup made in
// one LV: ProbeLVM finds it there, and reads the other LV as plain.
func TestProbeLVMOracleLVMTools(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(file, make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	luks := realLUKS2(t, 2<<20, "oracle")
	l := newLVMTools(t, file)
	l.run("pvcreate", "-q", l.dev)
	l.run("vgcreate", "-q", "-s", "1M", "vgo", l.dev)
	l.run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-L", "3M", "-n", "root", "vgo")
	l.run("lvcreate", "-q", "-an", "-Zn", "--driverloaded", "n", "-L", "2M", "-n", "crypt", "vgo")
	// where LVM put crypt's first extent: the PV's pe_start plus its first PE, in bytes
	fields := append(strings.Fields(l.run("pvs", "--driverloaded", "n", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", l.dev)),
		strings.Fields(l.run("lvs", "--driverloaded", "n", "--noheadings", "-o", "seg_pe_ranges", "vgo/crypt"))...)
	if len(fields) != 2 {
		t.Fatalf("pvs, lvs: %q", fields)
	}
	var peStartBytes, pe, last int64
	if _, err := fmt.Sscan(fields[0], &peStartBytes); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(fields[1][strings.LastIndexByte(fields[1], ':')+1:], "%d-%d", &pe, &last); err != nil {
		t.Fatalf("seg_pe_ranges %q: %v", fields[1], err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	at := peStartBytes + pe<<20
	copy(b[at:], luks[:32<<10])
	lvs, probs := ProbeLVM(bytes.NewReader(b), int64(len(b)))
	if len(probs) != 0 || len(lvs) != 2 || lvs[0].Name != "root" || lvs[0].Header.Kind != "" ||
		lvs[1].Name != "crypt" || lvs[1].Header.Kind != LUKS2 || lvs[1].Header.Label != "oracle" || lvs[1].At != at {
		t.Errorf("LVs %+v, problems %q; want root plain and crypt LUKS2 at %#x", lvs, problemsText(probs), at)
	}
}

// What WritePV lays out (and the tests judge) is a PV that LVM itself reads: pvs and lvs list
// its VG and logical volumes, which needs both checksums right.
func TestWritePVOracleLVMTools(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(file, pvImage(t, vgText(linearLV("root", "pv0", 0, 3)+linearLV("crypt", "pv0", 3, 2), ""), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	l := newLVMTools(t, file)
	out := l.run("lvs", "--driverloaded", "n", "--noheadings", "-o", "vg_name,lv_name,seg_pe_ranges", "--devices", l.dev)
	got := strings.Join(strings.Fields(out), " ")
	want := "vg0 crypt " + l.dev + ":3-4 vg0 root " + l.dev + ":0-2"
	if got != want {
		t.Errorf("lvs: %q, want %q", got, want)
	}
}
