package encryption

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// The commands that open a dm-crypt volume, and the device each names.
func TestOpenCommand(t *testing.T) {
	for _, c := range []struct {
		cmd    string
		opens  bool
		device string
	}{
		{"/usr/sbin/cryptsetup open /srv/vault.img vault", true, "/srv/vault.img"},
		{"/usr/sbin/cryptsetup --type luks2 --key-file /etc/k open /srv/vault.img vault", true, "/srv/vault.img"},
		{"/usr/sbin/cryptsetup open --type=plain -d /etc/k /srv/v.img v", true, "/srv/v.img"},
		{"/sbin/cryptsetup luksOpen /dev/sdb1 data", true, "/dev/sdb1"},
		{"/sbin/cryptsetup create data /srv/plain.img", true, "/srv/plain.img"},
		{"/sbin/cryptsetup -q open", true, ""},
		{"/sbin/cryptsetup luksFormat /srv/vault.img", false, ""},
		{"/sbin/cryptsetup luksDump /srv/vault.img", false, ""},
		{"/lib/systemd/systemd-cryptsetup attach vault /srv/vault.img none luks", true, "/srv/vault.img"},
		{"/lib/systemd/systemd-cryptsetup detach vault", false, ""},
		{"/usr/bin/echo cryptsetup open /srv/vault.img vault", false, ""},
	} {
		cmds, err := sysconf.SplitExec(c.cmd)
		if err != nil || len(cmds) != 1 {
			t.Fatalf("%q: %v", c.cmd, err)
		}
		dev, ok := openCommand(cmds[0])
		if ok != c.opens || dev != c.device {
			t.Errorf("%q: opens %v %q, want %v %q", c.cmd, ok, dev, c.opens, c.device)
		}
	}
}
