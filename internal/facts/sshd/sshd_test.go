package sshd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// Two units that run sshd (ssh.service and a separate sshd.service): each is a configuration of
// its own; the masked one is none; a missing non-optional EnvironmentFile is a problem.
func TestEveryUnitThatRunsSshd(t *testing.T) {
	root := t.TempDir()
	for p, body := range map[string]string{
		"/etc/ssh/sshd_config":                  "ClientAliveInterval 180\n",
		"/etc/ssh/alt_config":                   "ClientAliveInterval 120\n",
		"/lib/systemd/system/ssh.service":       "[Service]\nExecStart=/usr/sbin/sshd -D -f /etc/ssh/alt_config\n",
		"/usr/lib/systemd/system/sshd.service":  "[Service]\nEnvironmentFile=/etc/sysconfig/sshd\nExecStart=/usr/sbin/sshd -D $OPTIONS\n",
		"/usr/lib/systemd/system/other.service": "[Service]\nExecStart=/usr/sbin/sshd -D -o ClientAliveInterval=0\n",
	} {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
		os.WriteFile(h, []byte(body), 0o644)
	}
	f := Read(systemd.FromDir(root))
	if len(f.Configs) != 2 || f.Configs[0].ConfigFile != "/etc/ssh/alt_config" || f.Configs[1].ConfigFile != DefaultConfig {
		t.Fatalf("%d configurations: %+v", len(f.Configs), f.Configs)
	}
	if d, ok := f.Configs[0].FirstGlobal("clientaliveinterval"); !ok || d.Value != "120" {
		t.Errorf("ssh.service -f: %+v", d)
	}
	if f.Err() == nil {
		t.Error("sshd.service's missing EnvironmentFile=/etc/sysconfig/sshd is no problem")
	}
	// masked: /etc/systemd/system/sshd.service -> /dev/null
	os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
	if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system/sshd.service")); err != nil {
		t.Fatal(err)
	}
	if f := Read(systemd.FromDir(root)); len(f.Configs) != 1 || f.Err() != nil {
		t.Errorf("masked sshd.service: %d configurations, %v", len(f.Configs), f.Err())
	}
}
