package sshd

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// ssh.socket pulled in at boot runs ssh@.service per connection, so that sshd is judged; a
// socket whose condition fails on the image is skipped by systemd and its sshd is not; one whose
// condition cannot be read is a problem (and its sshd still judged).
func TestSocketRunsUnlessItsConditionFails(t *testing.T) {
	write := func(t *testing.T, cond string) string {
		root := t.TempDir()
		for p, body := range map[string]string{
			"/etc/ssh/sshd_config":                                  "ClientAliveInterval 180\n",
			"/lib/systemd/system/ssh.socket":                        "[Unit]\n" + cond + "[Socket]\nListenStream=22\nAccept=yes\n",
			"/lib/systemd/system/ssh@.service":                      "[Service]\nExecStart=-/usr/sbin/sshd -i -o ClientAliveInterval=7\n",
			"/etc/systemd/system/sockets.target.wants/ssh.socket":   "-> /lib/systemd/system/ssh.socket",
			"/etc/systemd/system/multi-user.target.wants/x.service": "-> /lib/systemd/system/x.service",
			"/lib/systemd/system/x.service":                         "[Service]\nExecStart=/bin/true\n",
		} {
			h := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
				t.Fatal(err)
			}
			var err error
			if target, ok := strings.CutPrefix(body, "-> "); ok {
				err = os.Symlink(target, h)
			} else {
				err = os.WriteFile(h, []byte(body), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	judged := func(f *Facts) bool {
		for _, c := range f.Configs {
			if strings.HasSuffix(c.Unit, "ssh@.service") {
				return true
			}
		}
		return false
	}
	t.Run("no condition", func(t *testing.T) {
		f := Read(systemd.FromDir(write(t, "")))
		if !judged(f) || f.Err() != nil {
			t.Errorf("ssh@.service judged %v, problems %v", judged(f), f.Err())
		}
	})
	t.Run("a condition that holds", func(t *testing.T) {
		f := Read(systemd.FromDir(write(t, "ConditionPathExists=/etc/ssh/sshd_config\n")))
		if !judged(f) || f.Err() != nil {
			t.Errorf("ssh@.service judged %v, problems %v", judged(f), f.Err())
		}
	})
	t.Run("a condition that fails", func(t *testing.T) {
		f := Read(systemd.FromDir(write(t, "ConditionPathExists=!/etc/ssh/sshd_config\n")))
		if judged(f) || f.Err() != nil {
			t.Errorf("ssh@.service judged %v, problems %v", judged(f), f.Err())
		}
	})
	t.Run("a condition not decided offline", func(t *testing.T) {
		f := Read(systemd.FromDir(write(t, "ConditionVirtualization=kvm\n")))
		if !judged(f) || f.Err() != nil {
			t.Errorf("ssh@.service judged %v, problems %v", judged(f), f.Err())
		}
	})
	t.Run("a condition that cannot be read", func(t *testing.T) {
		src := systemd.FromDir(write(t, "ConditionPathExists=/etc/secret/x\n"))
		lstat := src.Lstat
		src.Lstat = func(p string) (fs.FileInfo, error) {
			if p == "/etc/secret" {
				return nil, os.ErrPermission
			}
			return lstat(p)
		}
		f := Read(src)
		if err := f.Err(); err == nil || !strings.Contains(err.Error(), "ssh.socket") || !strings.Contains(err.Error(), "/etc/secret") {
			t.Errorf("problems %v", err)
		}
	})
}
