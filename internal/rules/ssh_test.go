package rules_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// root's authorized_keys is read as sshd reads it: the redirect written in a plain key's
// comment, a redirect that still forwards ports, and a redirect followed by a shell let someone
// in (FAIL); the cloud-init line passes; a line over 64 KiB is an ERROR naming the file.
func TestAuthorizedKeysReadAsSshdReadsThem(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q"
	const redirect = `command="echo 'Please login as the user \"azureuser\" rather than the user \"root\".';echo;sleep 10;exit 142"`
	for _, c := range []struct {
		name, keys string
		want       rules.Status
		message    string
	}{
		{"cloud-init's redirect", "no-port-forwarding,no-agent-forwarding,no-X11-forwarding," + redirect + " " + key + " c\n", rules.Pass, ""},
		{"the redirect in a comment", key + " " + redirect + "\n", rules.Fail, "/root/.ssh/authorized_keys"},
		{"a redirect that forwards ports", redirect + " " + key + "\n", rules.Fail, "/root/.ssh/authorized_keys"},
		{"a redirect then a shell", "restrict," + strings.Replace(redirect, `exit 142"`, `exec bash -i"`, 1) + " " + key + "\n", rules.Fail, "/root/.ssh/authorized_keys"},
		{"a line over 64 KiB", "restrict," + redirect + " " + key + " " + strings.Repeat("c", 70<<10) + "\n", rules.Error, "/root/.ssh/authorized_keys: line 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := testfixture.Variant(t, testfixture.Change{"/root/.ssh/authorized_keys": c.keys})
			r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.Rule != "no-ssh-keys" {
					continue
				}
				text := f.Message
				for _, e := range f.Evidence {
					text += " " + e.Path
				}
				if f.Status != c.want || !strings.Contains(text, c.message) {
					t.Errorf("%s: %s", f.Status, text)
				}
				return
			}
			t.Fatal("no no-ssh-keys finding")
		})
	}
}
