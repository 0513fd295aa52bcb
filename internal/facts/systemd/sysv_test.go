package systemd

import (
	"os"
	"path/filepath"
	"testing"
)

// A SysV start link starts its script at boot unless systemd is there and a native unit of the
// same name is on the unit search path (systemd-sysv-generator then skips the script).
func TestSysVStart(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"no link", nil, ""},
		{"a link, no systemd", []string{"etc/init.d/iptables", "etc/rc2.d/S01iptables"}, "/etc/rc2.d/S01iptables"},
		{"a link at runlevel 5 only", []string{"etc/init.d/iptables", "etc/rc5.d/S20iptables"}, "/etc/rc5.d/S20iptables"},
		{"a link at runlevel 4 only (multi-user.target)", []string{"etc/init.d/iptables", "etc/rc4.d/S20iptables"}, "/etc/rc4.d/S20iptables"},
		{"a stop link", []string{"etc/init.d/iptables", "etc/rc2.d/K01iptables"}, ""},
		{"a link whose script is gone", []string{"etc/rc2.d/S01iptables"}, ""},
		{"a link without two digits", []string{"etc/init.d/iptables", "etc/rc2.d/Sx1iptables"}, ""},
		{"a link under systemd", []string{"usr/lib/systemd/systemd", "etc/init.d/iptables", "etc/rc3.d/S01iptables"}, "/etc/rc3.d/S01iptables"},
		{"a native unit under systemd", []string{"usr/lib/systemd/systemd", "etc/init.d/iptables", "etc/rc3.d/S01iptables", "usr/lib/systemd/system/iptables.service"}, ""},
		{"a native unit without systemd", []string{"etc/init.d/iptables", "etc/rc3.d/S01iptables", "usr/lib/systemd/system/iptables.service"}, "/etc/rc3.d/S01iptables"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range c.files {
				p := filepath.Join(root, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			got, err := SysVStart(FromDir(root), "iptables")
			if err != nil || got != c.want {
				t.Errorf("SysVStart = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
