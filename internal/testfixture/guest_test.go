package testfixture_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The bootable guest of the end-to-end builds is what make-guest-image.sh promises: a qcow2 disk
// whose root (found by fstab UUID) carries the kernel QEMU boots, the build user, the network
// configuration, and the leftovers the end-to-end tests expect the check to find.
func TestGuestImage(t *testing.T) {
	dir := testfixture.GuestImage(t)
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || !strings.Contains(string(cmdline), "root=UUID=") || !strings.Contains(string(cmdline), "console=ttyS0") {
		t.Fatalf("cmdline: %v %q", err, cmdline)
	}
	for _, f := range []string{"vmlinuz", "initrd.img"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 1<<20 {
			t.Errorf("%s: %v", f, err)
		}
	}
	img, err := inspect.Open(filepath.Join(dir, "guest.qcow2"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Disk.Format != "qcow2" || img.Root == nil {
		t.Fatalf("format %s, root %v, notes %v", img.Disk.Format, img.Root, img.Notes)
	}
	for path, want := range map[string]string{
		"etc/fstab":                           "/swapfile none swap",
		"etc/sudoers.d/packer":                "packer ALL=(ALL) NOPASSWD: ALL",
		"etc/systemd/network/10-dhcp.network": "DHCP=ipv4",
		"etc/resolv.conf":                     "nameserver 10.0.2.3",
		"root/.bash_history":                  "apt-get install",
		"etc/os-release":                      "bookworm",
		"etc/systemd/system/multi-user.target.wants/systemd-networkd.service": "",
	} {
		b, err := img.ReadFile(path)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v (want %q)", path, err, want)
		}
	}
	if _, err := img.ReadFile("etc/systemd/system/multi-user.target.wants/walinuxagent.service"); err == nil {
		t.Error("the Azure agent's service is enabled in the dirty guest")
	}
}
