package firewall

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// tree writes files (a value "-> X" is a symlink to X) under a new root.
func tree(t *testing.T, files map[string]string) systemd.Source {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
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
	return systemd.FromDir(root)
}

const unit = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"

func TestSignals(t *testing.T) {
	for _, c := range []struct {
		name     string
		files    map[string]string
		signals  int
		starting []string
	}{
		{"nothing", map[string]string{"/usr/lib/systemd/systemd": ""}, 0, nil},
		{"ufw on and started", map[string]string{
			"/usr/lib/systemd/systemd":                                "",
			"/lib/systemd/system/ufw.service":                         unit,
			"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service",
			UFWConf: "ENABLED=yes\n"}, 2, []string{"ufw", "ufw"}},
		{"ufw started, switch off", map[string]string{
			"/usr/lib/systemd/systemd":                                "",
			"/lib/systemd/system/ufw.service":                         unit,
			"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service",
			UFWConf: "ENABLED=no\n"}, 1, nil},
		{"ufw switch on, service not started", map[string]string{
			"/usr/lib/systemd/systemd":        "",
			"/lib/systemd/system/ufw.service": unit,
			UFWConf:                           "ENABLED=yes\n"}, 1, nil},
		{"firewalld wanted from a vendor directory", map[string]string{
			"/usr/lib/systemd/systemd":                                          "",
			"/usr/lib/systemd/system/firewalld.service":                         unit,
			"/usr/lib/systemd/system/multi-user.target.wants/firewalld.service": "-> ../firewalld.service"}, 1, []string{"firewalld"}},
		{"nftables enabled but masked", map[string]string{
			"/usr/lib/systemd/systemd":                                  "",
			"/lib/systemd/system/nftables.service":                      unit,
			"/etc/systemd/system/nftables.service":                      "-> /dev/null",
			"/etc/systemd/system/sysinit.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service"}, 0, nil},
		{"link to a missing unit", map[string]string{
			"/usr/lib/systemd/systemd":                                     "",
			"/etc/systemd/system/multi-user.target.wants/iptables.service": "-> /usr/lib/systemd/system/iptables.service"}, 0, nil},
		{"nftables linked from a target boot never reaches", map[string]string{
			"/usr/lib/systemd/systemd":                               "",
			"/lib/systemd/system/nftables.service":                   unit,
			"/etc/systemd/system/halt.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service"}, 0, nil},
		{"nftables required by a started unit", map[string]string{
			"/usr/lib/systemd/system/systemd":                         "",
			"/lib/systemd/system/nftables.service":                    unit,
			"/lib/systemd/system/app.service":                         "[Unit]\nRequires=nftables.service\n[Service]\nExecStart=/bin/true\n",
			"/etc/systemd/system/multi-user.target.wants/app.service": "-> /lib/systemd/system/app.service"}, 1, []string{"nftables"}},
		{"SysV script without systemd", map[string]string{
			"/etc/init.d/netfilter-persistent":   "#!/bin/sh\n",
			"/etc/rc2.d/S01netfilter-persistent": "-> ../init.d/netfilter-persistent"}, 1, []string{"netfilter-persistent"}},
		{"SysV link shadowed by a native unit", map[string]string{
			"/usr/lib/systemd/systemd":                         "",
			"/lib/systemd/system/netfilter-persistent.service": unit,
			"/etc/rc3.d/S01netfilter-persistent":               "-> ../init.d/netfilter-persistent"}, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Read(tree(t, c.files))
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			var starting []string
			for _, s := range f.Starting() {
				starting = append(starting, s.Firewall)
			}
			if len(f.Signals) != c.signals || strings.Join(starting, ",") != strings.Join(c.starting, ",") {
				t.Errorf("signals %+v; starting %v, want %d signals, starting %v", f.Signals, starting, c.signals, c.starting)
			}
		})
	}
}

// An unreadable ufw.conf is a problem, never "no firewall".
func TestUnreadableIsAProblem(t *testing.T) {
	src := tree(t, map[string]string{"/usr/lib/systemd/systemd": ""})
	read := src.ReadFile
	src.ReadFile = func(p string) ([]byte, error) {
		if p == UFWConf {
			return nil, os.ErrPermission
		}
		return read(p)
	}
	if f := Read(src); f.Err() == nil || !strings.Contains(f.Err().Error(), UFWConf) {
		t.Errorf("problems %v", f.Err())
	}
}

// What boot starts not being known is a problem, never "no firewall".
func TestUnreadableBootIsAProblem(t *testing.T) {
	src := tree(t, map[string]string{"/usr/lib/systemd/systemd": ""})
	readDir := src.ReadDir
	src.ReadDir = func(p string) ([]fs.DirEntry, error) {
		if p == "/etc/systemd/system/multi-user.target.wants" {
			return nil, os.ErrPermission
		}
		return readDir(p)
	}
	if f := Read(src); f.Err() == nil || !strings.Contains(f.Err().Error(), "multi-user.target.wants") || len(f.Signals) != 0 {
		t.Errorf("problems %v, signals %+v", f.Err(), f.Signals)
	}
}

// A firewall service whose condition fails on the image is skipped by systemd and loads no
// rules, the detail naming the condition and its line; one not decided offline is counted as
// starting, the detail naming it; one that could not be read is a problem.
func TestUnitConditions(t *testing.T) {
	base := map[string]string{
		"/usr/lib/systemd/systemd":                                  "",
		"/lib/systemd/system/nftables.service":                      "[Unit]\nConditionPathExists=/etc/nftables.conf\n" + unit,
		"/etc/systemd/system/sysinit.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service",
		"/lib/systemd/system/ufw.service":                           unit,
		"/etc/systemd/system/multi-user.target.wants/ufw.service":   "-> /lib/systemd/system/ufw.service",
		"/etc/systemd/system/ufw.service.d/c.conf":                  "[Unit]\nConditionVirtualization=kvm\n",
		UFWConf: "ENABLED=yes\n",
	}
	f := Read(tree(t, base))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	var nft, ufw *Signal
	for i := range f.Signals {
		switch f.Signals[i].Unit {
		case "nftables.service":
			nft = &f.Signals[i]
		case "ufw.service":
			ufw = &f.Signals[i]
		}
	}
	if nft == nil || nft.Starts || !strings.Contains(nft.Detail, "ConditionPathExists=/etc/nftables.conf (/lib/systemd/system/nftables.service:2)") {
		t.Errorf("nftables without its configuration: %+v", nft)
	}
	if ufw == nil || !ufw.Starts || !strings.Contains(ufw.Detail, "unless its condition fails") || !strings.Contains(ufw.Undecided, "ConditionVirtualization=kvm (/etc/systemd/system/ufw.service.d/c.conf:2)") {
		t.Errorf("ufw on an undecided hypervisor: %+v", ufw)
	}

	base["/etc/nftables.conf"] = "flush ruleset\n"
	base["/etc/systemd/system/ufw.service.d/c.conf"] = "[Unit]\nConditionPathExists=!/etc/ufw/off\n"
	base["/etc/ufw/off"] = ""
	f = Read(tree(t, base))
	var starting []string
	for _, s := range f.Starting() {
		starting = append(starting, s.Firewall+":"+s.Unit)
	}
	// ufw's service is skipped, so its switch does not start it either
	if err := f.Err(); err != nil || strings.Join(starting, ",") != "nftables:nftables.service" {
		t.Errorf("starting %v, problems %v, signals %+v", starting, err, f.Signals)
	}

	src := tree(t, base)
	lstat := src.Lstat
	src.Lstat = func(p string) (fs.FileInfo, error) {
		if p == "/etc/nftables.conf" {
			return nil, os.ErrPermission
		}
		return lstat(p)
	}
	if f := Read(src); f.Err() == nil || !strings.Contains(f.Err().Error(), "/etc/nftables.conf") {
		t.Errorf("an unreadable condition path: problems %v, signals %+v", f.Err(), f.Signals)
	}
}

// A unit's commands run in order: a command whose rules file is missing fails the unit (and
// what it would load is not loaded) unless its "-" prefix ignores the failure; rules an earlier
// command loaded stay loaded.
func TestUnitCommandsInOrder(t *testing.T) {
	const drop = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"
	for _, c := range []struct {
		name    string
		exec    string
		starts  bool
		filters bool
	}{
		{"the first command's file missing", "ExecStart=/sbin/iptables-restore /etc/missing\nExecStart=/sbin/iptables-restore /etc/drop\n", false, false},
		{"a missing file ignored by -", "ExecStart=-/sbin/iptables-restore /etc/missing\nExecStart=/sbin/iptables-restore /etc/drop\n", true, true},
		{"loaded before a failing command", "ExecStartPre=/sbin/iptables-restore /etc/drop\nExecStart=/sbin/ip6tables-restore /etc/missing\n", true, true},
		{"an ExecStart= reset", "ExecStart=/sbin/iptables-restore /etc/drop\nExecStart=\nExecStart=/bin/true\n", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Read(tree(t, map[string]string{
				"/usr/lib/systemd/systemd":       "",
				"/etc/drop":                      drop,
				"/etc/systemd/system/fw.service": "[Service]\nType=oneshot\n" + c.exec,
				"/etc/systemd/system/multi-user.target.wants/fw.service": "-> /etc/systemd/system/fw.service",
			}))
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			var fw *Signal
			for i := range f.Signals {
				if f.Signals[i].Unit == "fw.service" {
					fw = &f.Signals[i]
				}
			}
			switch {
			case c.name == "an ExecStart= reset":
				if fw != nil {
					t.Errorf("a unit whose commands load nothing: %+v", fw)
				}
			case fw == nil || fw.Starts != c.starts || fw.Filters != c.filters:
				t.Errorf("signal %+v, want starts %v filters %v", fw, c.starts, c.filters)
			}
		})
	}
}
