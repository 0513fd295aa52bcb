package cloudinit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func writeTree(t *testing.T, c testfixture.Change) systemd.Source {
	t.Helper()
	root := t.TempDir()
	for p, v := range c {
		if v == testfixture.Remove {
			continue
		}
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(v, "-> "); ok {
			err = os.Symlink(target, h)
		} else {
			err = os.WriteFile(h, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return systemd.FromDir(root)
}

func TestEnablement(t *testing.T) {
	debian := testfixture.CloudInit()
	boot := []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "root=UUID=x ro console=ttyS0"}}
	for _, c := range []struct {
		name      string
		change    testfixture.Change
		cmdlines  []Cmdline
		installed bool
		enabled   bool
		why       string
	}{
		{"Debian's package", debian, boot, true, true, "cloud-init.service started at boot"},
		{"not installed", testfixture.With(debian, testfixture.Change{"/usr/bin/cloud-init": testfixture.Remove}), boot, false, false, "not installed"},
		{"cloud-init.disabled", testfixture.With(debian, testfixture.Change{DisabledFile: ""}), boot, true, false, DisabledFile},
		{"kernel command line disables", debian, []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "ro cloud-init=disabled quiet"}}, true, false, "cloud-init=disabled"},
		{"the last cloud-init= wins", debian, []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "cloud-init=disabled cloud-init=enabled"}}, true, true, ""},
		{"command line enables over the file", testfixture.With(debian, testfixture.Change{DisabledFile: ""}), []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "cloud-init=enabled"}}, true, true, "which wins"},
		{"one booted entry of two disables", debian, append(boot[:1:1], Cmdline{Where: "/boot/loader/entries/b.conf", Line: 2, Value: "cloud-init=disabled"}), true, false, "b.conf"},
		{"a stage masked", testfixture.With(debian, testfixture.Change{"/etc/systemd/system/cloud-config.service": "-> /dev/null"}), boot, true, false, "cloud-config.service is masked"},
		{"a stage not enabled", testfixture.With(debian, testfixture.Change{"/etc/systemd/system/cloud-init.target.wants/cloud-final.service": testfixture.Remove}), boot, true, false, "cloud-final.service is not enabled"},
		{"no generator", testfixture.With(debian, testfixture.Change{"/lib/systemd/system-generators/cloud-init-generator": testfixture.Remove}), boot, true, false, "nothing starts cloud-init.target"},
		{"no generator, target linked", testfixture.With(debian, testfixture.Change{
			"/lib/systemd/system-generators/cloud-init-generator":           testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-init.target": "-> /lib/systemd/system/cloud-init.target"}), boot, true, true, ""},
		{"generator masked", testfixture.With(debian, testfixture.Change{"/etc/systemd/system-generators/cloud-init-generator": "-> /dev/null"}), boot, true, false, "generator is masked"},
		{"target masked", testfixture.With(debian, testfixture.Change{"/etc/systemd/system/cloud-init.target": "-> /dev/null"}), boot, true, false, "cloud-init.target is masked"},
		{"24.3 unit names", testfixture.With(debian, testfixture.Change{
			"/lib/systemd/system/cloud-init.service":                                 testfixture.Remove,
			"/etc/systemd/system/cloud-init.target.wants/cloud-init.service":         testfixture.Remove,
			"/lib/systemd/system/cloud-init-network.service":                         cloudInitTestUnit,
			"/etc/systemd/system/cloud-init.target.wants/cloud-init-network.service": "-> /lib/systemd/system/cloud-init-network.service"}), boot, true, true, "cloud-init-network.service"},
		{"old release wanted by multi-user.target", testfixture.With(debian, testfixture.Change{
			"/lib/systemd/system-generators/cloud-init-generator":                  testfixture.Remove,
			"/etc/systemd/system/cloud-init.target.wants/cloud-init.service":       testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-init.service":       "-> /lib/systemd/system/cloud-init.service",
			"/etc/systemd/system/cloud-init.target.wants/cloud-init-local.service": testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-init-local.service": "-> /lib/systemd/system/cloud-init-local.service",
			"/etc/systemd/system/cloud-init.target.wants/cloud-config.service":     testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-config.service":     "-> /lib/systemd/system/cloud-config.service",
			"/etc/systemd/system/cloud-init.target.wants/cloud-final.service":      testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-final.service":      "-> /lib/systemd/system/cloud-final.service"}), boot, true, true, ""},
		{"a stage linked from a target boot never reaches", testfixture.With(debian, testfixture.Change{
			"/etc/systemd/system/cloud-init.target.wants/cloud-final.service": testfixture.Remove,
			"/etc/systemd/system/halt.target.wants/cloud-final.service":       "-> /lib/systemd/system/cloud-final.service"}), boot, true, false, "cloud-final.service is not enabled (not reached from the default target"},
		{"no generator, a stage wanted by a started unit", testfixture.With(debian, testfixture.Change{
			"/lib/systemd/system-generators/cloud-init-generator":             testfixture.Remove,
			"/etc/systemd/system/multi-user.target.wants/cloud-init.target":   "-> /lib/systemd/system/cloud-init.target",
			"/etc/systemd/system/cloud-init.target.wants/cloud-final.service": testfixture.Remove,
			"/lib/systemd/system/app.service":                                 "[Unit]\nWants=cloud-final.service\n[Service]\nExecStart=/bin/true\n",
			"/etc/systemd/system/multi-user.target.wants/app.service":         "-> /lib/systemd/system/app.service"}), boot, true, true, "/lib/systemd/system/app.service cloud-final.service started at boot (Wants= of app.service)"},
		{"SysV init", testfixture.Change{"/usr/bin/cloud-init": "", "/etc/rc2.d/S01cloud-init-local": "", "/etc/rc2.d/S02cloud-init": "", "/etc/rc2.d/S03cloud-config": "", "/etc/rc2.d/S04cloud-final": ""}, boot, true, true, "S04cloud-final"},
		{"SysV init, a stage missing", testfixture.Change{"/usr/bin/cloud-init": "", "/etc/rc2.d/S01cloud-init-local": "", "/etc/rc2.d/S02cloud-init": "", "/etc/rc2.d/S03cloud-config": ""}, boot, true, false, "cloud-final is started in no runlevel"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ReadEnablement(writeTree(t, c.change), c.cmdlines)
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			var why []string
			for _, w := range e.Why {
				why = append(why, w.Path+" "+w.Detail)
			}
			if e.Installed != c.installed || e.Enabled != c.enabled || !strings.Contains(strings.Join(why, "\n"), c.why) {
				t.Errorf("installed %v, enabled %v; want %v, %v and a reason with %q:\n%s", e.Installed, e.Enabled, c.installed, c.enabled, c.why, strings.Join(why, "\n"))
			}
		})
	}
}

const cloudInitTestUnit = "[Service]\nExecStart=/usr/bin/cloud-init init\n[Install]\nWantedBy=cloud-init.target\n"

func TestCmdlineSetting(t *testing.T) {
	for in, want := range map[string]string{"": "", "ro quiet": "", "cloud-init=disabled": "disabled", "cloud-init=disabled x cloud-init=enabled": "enabled", "xcloud-init=disabled": ""} {
		if got := CmdlineSetting(in); got != want {
			t.Errorf("CmdlineSetting(%q) = %q, want %q", in, got, want)
		}
	}
}
