package systemd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
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
}

// A unit as systemd loads it: the most specific directory's file, drop-ins from every directory
// (a name in /etc hides the same name in /usr/lib), type-wide and prefix drop-ins, in name order,
// an empty assignment resetting a list, an alias's drop-ins, EnvironmentFile= over Environment=.
func TestLoadUnit(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"/usr/lib/systemd/system/ssh.service":                "[Service]\nEnvironment=A=1 \"B=x y\"\nEnvironmentFile=-/etc/default/ssh\nExecStart=/usr/sbin/sshd -D\n",
		"/lib/systemd/system/ssh.service":                    "[Service]\nExecStart=/not/this\n",
		"/usr/lib/systemd/system/ssh.service.d/10-a.conf":    "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -o A=1\n",
		"/etc/systemd/system/ssh.service.d/10-a.conf":        "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -o A=2\n",
		"/usr/lib/systemd/system/service.d/05-all.conf":      "[Service]\nEnvironment=C=3\n",
		"/etc/systemd/system/sshd.service.d/20-alias.conf":   "[Service]\nEnvironment=D=4\n",
		"/etc/systemd/system/sshd.service":                   "-> /usr/lib/systemd/system/ssh.service",
		"/etc/default/ssh":                                   "A=from-file\n",
		"/usr/lib/systemd/system/a-b.service":                "[Service]\nExecStart=/bin/true\n",
		"/usr/lib/systemd/system/a-.service.d/x.conf":        "[Unit]\nWants=x.swap\n",
		"/etc/systemd/system/masked.service":                 "-> /dev/null",
		"/usr/lib/systemd/system/masked.service":             "[Service]\nExecStart=/bin/true\n",
		"/usr/lib/systemd/system/ssh.service.d/30-gone.conf": "[Service]\nExecStart=/bin/false\n",
		"/etc/systemd/system/ssh.service.d/30-gone.conf":     "-> /dev/null",
	})
	src := FromDir(root)
	u, err := LoadUnit(src, "ssh.service")
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/usr/lib/systemd/system/ssh.service" {
		t.Errorf("path %s", u.Path)
	}
	starts := u.Values("Service", "ExecStart")
	if len(starts) != 1 || starts[0].Value != "/usr/sbin/sshd -D -o A=2" || starts[0].File != "/etc/systemd/system/ssh.service.d/10-a.conf" {
		t.Errorf("ExecStart %+v (drop-ins %v)", starts, u.DropIns)
	}
	env, err := LoadEnvironment(src, u)
	if err != nil {
		t.Fatal(err)
	}
	if env.Vars["A"] != "from-file" || env.Vars["B"] != "x y" || env.Vars["C"] != "3" || env.Origin["A"].File != "/etc/default/ssh" {
		t.Errorf("environment %v %v", env.Vars, env.Origin)
	}
	alias, err := LoadUnit(src, "sshd.service")
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := LoadEnvironment(src, alias); e.Vars["D"] != "4" {
		t.Errorf("an alias's drop-ins: %v (drop-ins %v)", e.Vars, alias.DropIns)
	}
	if u, _ := LoadUnit(src, "a-b.service"); len(u.Values("Unit", "Wants")) != 1 {
		t.Errorf("prefix drop-in a-.service.d: %+v", u.Settings)
	}
	if u, _ := LoadUnit(src, "masked.service"); !u.Masked || u.Found() {
		t.Errorf("masked: %+v", u)
	}
	links, err := WantedLinks(src)
	if err != nil || len(links) != 0 {
		t.Errorf("links %v %v", links, err)
	}
}
