package distro

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The differential of lsb-release-minimal's naming: generated os-release files read by the
// machine's own lsb_release (Debian 12's lsb-release 12.0, the program the branch models),
// pointed at each file by its LSB_OS_RELEASE, against MinimalID and orNA on the same values.
func TestMinimalAgainstLSBRelease(t *testing.T) {
	bin, err := exec.LookPath("lsb_release")
	if err != nil {
		t.Skipf("no lsb_release to compare with (apt-get install lsb-release): %v", err)
	}
	script, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range minimalMarks {
		if !bytes.HasPrefix(script, []byte("#!/bin/sh")) || !bytes.Contains(script, m) {
			t.Skipf("%s is not lsb-release-minimal", bin)
		}
	}
	ids := []string{"debian", "ubuntu", "rocky", "almalinux", "centos", "Debian", "opensuse-leap", "x", "", "éx", "1abc", "arch"}
	names := []string{"Debian GNU/Linux", "Ubuntu", "Rocky Linux", "AlmaLinux", "CentOS Stream", "DEBIAN", "ubuntu", "x", "X", "", "Arch", "ÉX", "éx"}
	versions := []string{"12", "24.04", "9.5", "", "13"}
	r := rand.New(rand.NewPCG(26, 2))
	file := filepath.Join(t.TempDir(), "os-release")
	// the boundaries first: ASCII-only case, NAME "x" taken for unset, equal but for case
	fixed := [][2]string{{"éx", "ÉX"}, {"x", "x"}, {"debian", "DEBIAN"}, {"ubuntu", "Ubuntu"}, {"", ""}, {"arch", "Arch Linux"}}
	for i := range 150 + len(fixed) {
		var b strings.Builder
		id, name, version := ids[r.IntN(len(ids))], names[r.IntN(len(names))], versions[r.IntN(len(versions))]
		hasName := r.IntN(5) > 0
		if i < len(fixed) {
			id, name, hasName = fixed[i][0], fixed[i][1], true
		}
		b.WriteString("ID=\"" + id + "\"\n")
		if hasName {
			b.WriteString("NAME=\"" + name + "\"\n")
		} else {
			name = "x" // unset: MinimalID's "taken for unset"
		}
		if version != "" || r.IntN(2) == 0 {
			b.WriteString("VERSION_ID=\"" + version + "\"\n")
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		run := func(flag string) string {
			cmd := exec.Command(bin, flag)
			cmd.Env = append(os.Environ(), "LSB_OS_RELEASE="+file)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("lsb_release %s on %q: %v", flag, b.String(), err)
			}
			return strings.TrimRight(string(out), "\n")
		}
		if got, want := MinimalID(id, name), run("-si"); got != want {
			t.Errorf("case %d %q: -si ours %q, lsb_release %q", i, b.String(), got, want)
		}
		if got, want := orNA(version), run("-sr"); got != want {
			t.Errorf("case %d %q: -sr ours %q, lsb_release %q", i, b.String(), got, want)
		}
	}
}
