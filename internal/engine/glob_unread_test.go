package engine

import (
	"os"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// corruptDirBlocks writes random-looking bytes over every block of a directory of an ext4
// image, as a bad sector or a torn write would leave it: its checksum no longer matches.
func corruptDirBlocks(t *testing.T, img, dir string) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := make([]byte, 1024) // the smallest ext4 block: the start of every directory block
	for i := range junk {
		junk[i] = byte(i*131 + 7)
	}
	for _, off := range dirBlocks(t, img, dir) {
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
}

// A corrupt sshd_config.d used to read as "no drop-ins": io/fs.Glob ignores directory read
// errors. Here the drop-in sets ClientAliveInterval 0 (it is read first, so it wins) and the
// main file's later 180 would pass; with the directory unreadable the rule is an error that
// names it, and the image is not compliant.
func TestSshdDropInDirectoryUnreadableIsAnError(t *testing.T) {
	change := testfixture.Change{
		"/etc/ssh/sshd_config":                     "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nClientAliveInterval 180\n",
		"/etc/ssh/sshd_config.d/50-cloud.conf":     "ClientAliveInterval 0\n",
		"/etc/ssh/sshd_config.d/60-unrelated.conf": "ClientAliveCountMax 3\n",
	}
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}

	// readable: the drop-in's 0 is the effective value
	img := testfixture.Variant(t, change)
	if f := finding(t, mustCheck(t, img, cfg), "ssh-client-alive-interval"); f.Status != rules.Fail || !strings.Contains(f.Actual, "ClientAliveInterval 0") {
		t.Fatalf("readable drop-ins: %s (%s): %s", f.Status, f.Actual, f.Message)
	}

	corruptDirBlocks(t, img, "/etc/ssh/sshd_config.d")
	r := mustCheck(t, img, cfg)
	f := finding(t, r, "ssh-client-alive-interval")
	if f.Status != rules.Error || r.Compliant {
		t.Fatalf("corrupt sshd_config.d: %s (compliant %v): %s", f.Status, r.Compliant, f.Message)
	}
	if !strings.Contains(f.Message, "/etc/ssh/sshd_config.d") || !strings.Contains(f.Message, "unreadable") {
		t.Errorf("the error does not name the directory it could not read: %s", f.Message)
	}
}

// The same for the units enabled at boot: a corrupt /etc/systemd/system is not "nothing
// enabled"; the rules that read the enabled units are errors naming it.
func TestGlobUnreadableUnitDirectoryIsAnError(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{})
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	corruptDirBlocks(t, img, "/etc/systemd/system")
	r := mustCheck(t, img, cfg)
	if r.Compliant {
		t.Error("an image whose /etc/systemd/system cannot be read is compliant")
	}
	named := 0
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "/etc/systemd/system") && strings.Contains(f.Message, "unreadable") {
			if f.Status != rules.Error {
				t.Errorf("%s: %s but names the unreadable directory: %s", f.Rule, f.Status, f.Message)
			}
			named++
		}
	}
	if named == 0 {
		for _, f := range r.Findings {
			t.Logf("%s %s: %s", f.Rule, f.Status, f.Message)
		}
		t.Error("no rule names the unreadable /etc/systemd/system")
	}
}
