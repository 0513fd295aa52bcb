package network

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

func readTree(t *testing.T, files map[string]string) *Facts {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Read(systemd.FromDir(root))
}

func dhcpPlans(ps []Plan) int {
	n := 0
	for _, p := range ps {
		if p.DHCP && len(p.Pins) == 0 {
			n++
		}
	}
	return n
}

// The cases the regular expressions got wrong, read as netplan reads them.
func TestNetplan(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       int
	}{
		{"block style", "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n", 1},
		{"flow style", "{network: {ethernets: {eth0: {dhcp4: true}}}}\n", 1},
		{"a comment holding dhcp4: true", "network:\n  ethernets:\n    eth0:\n      # dhcp4: true\n      dhcp4: false\n", 0},
		{"dhcp4: yes under another interface", "network:\n  ethernets:\n    eth0:\n      addresses: [10.0.0.4/24]\n    ens3:\n      dhcp4: yes\n", 0},
		{"match en* does not take eth0", "network:\n  ethernets:\n    eth0:\n      match: {name: \"en*\"}\n      dhcp4: true\n", 0},
		{"match e* takes eth0", "network:\n  ethernets:\n    any:\n      match: {name: \"e*\"}\n      dhcp4: true\n", 1},
		{"the Hyper-V driver", "network:\n  ethernets:\n    azure:\n      match: {driver: hv_netvsc}\n      set-name: eth0\n      dhcp4: y\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := readTree(t, map[string]string{"etc/netplan/50.yaml": tc.yaml})
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			if got := dhcpPlans(f.Netplan); got != tc.want {
				t.Errorf("eth0 by DHCP: %d, want %d (%+v)", got, tc.want, f.Netplan)
			}
		})
	}
}

// Files merge in lexical order of basename; /etc shadows /lib; a YAML error is a problem.
func TestNetplanMergeAndRefusal(t *testing.T) {
	f := readTree(t, map[string]string{
		"lib/netplan/10.yaml": "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n",
		"etc/netplan/10.yaml": "network:\n  ethernets:\n    eth0:\n      dhcp4: false\n",
	})
	if dhcpPlans(f.Netplan) != 0 {
		t.Errorf("/etc/netplan/10.yaml shadows /lib's: %+v", f.Netplan)
	}
	f = readTree(t, map[string]string{
		"etc/netplan/10.yaml": "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n",
		"etc/netplan/90.yaml": "network:\n  ethernets:\n    eth0:\n      dhcp4: false\n",
	})
	if dhcpPlans(f.Netplan) != 0 {
		t.Errorf("90.yaml's dhcp4: false wins: %+v", f.Netplan)
	}
	f = readTree(t, map[string]string{"etc/netplan/50.yaml": "network:\n  ethernets: [\n"})
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "/etc/netplan/50.yaml") {
		t.Errorf("a YAML error: %v", err)
	}
	f = readTree(t, map[string]string{"etc/netplan/50.yaml": "network:\n  ethernets:\n    eth0:\n      match: {macaddress: \"00:15:5d:00:00:01\"}\n      dhcp4: true\n"})
	if len(f.Netplan) != 1 || len(f.Netplan[0].Pins) != 1 || f.Netplan[0].Pins[0].Line != 4 {
		t.Errorf("a MAC match: %+v", f.Netplan)
	}
}

func TestNetworkd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int
	}{
		{"Name=eth0", map[string]string{"etc/systemd/network/10.network": "[Match]\nName=eth0\n[Network]\nDHCP=yes\n"}, 1},
		{"Name=!eth0", map[string]string{"etc/systemd/network/10.network": "[Match]\nName=!eth0\n[Network]\nDHCP=yes\n"}, 0},
		{"Name=en* eth*", map[string]string{"etc/systemd/network/10.network": "[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n"}, 1},
		{"DHCP outside [Network]", map[string]string{"etc/systemd/network/10.network": "[Match]\nName=eth0\n[Link]\nDHCP=yes\n"}, 0},
		{"DHCP=ipv6", map[string]string{"etc/systemd/network/10.network": "[Match]\nName=eth0\n[Network]\nDHCP=ipv6\n"}, 0},
		{"an empty [Match] is ignored", map[string]string{"etc/systemd/network/10.network": "[Match]\n[Network]\nDHCP=yes\n"}, 0},
		{"the first matching file wins", map[string]string{
			"etc/systemd/network/05-static.network": "[Match]\nName=eth*\n[Network]\nAddress=10.0.0.4/24\n",
			"etc/systemd/network/10-dhcp.network":   "[Match]\nName=eth0\n[Network]\nDHCP=yes\n"}, 0},
		{"/etc masks /usr/lib", map[string]string{
			"usr/lib/systemd/network/10.network": "[Match]\nName=eth0\n[Network]\nDHCP=yes\n",
			"etc/systemd/network/10.network":     ""}, 0},
		{"a MAC match does not win", map[string]string{
			"etc/systemd/network/05-mac.network": "[Match]\nMACAddress=00:15:5d:00:00:01\n[Network]\nDHCP=yes\n",
			"etc/systemd/network/10.network":     "[Match]\nName=eth0\n[Network]\nDHCP=yes\n"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := readTree(t, tc.files)
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			if got := dhcpPlans(f.Networkd); got != tc.want {
				t.Errorf("eth0 by DHCP: %d, want %d (%+v)", got, tc.want, f.Networkd)
			}
		})
	}
}

func TestIfupdown(t *testing.T) {
	f := readTree(t, map[string]string{
		"etc/network/interfaces":            "source interfaces.d/*\n",
		"etc/network/interfaces.d/eth0":     "iface eth0 inet dhcp\n",
		"etc/network/interfaces.d/auto":     "allow-hotplug eth0\n",
		"etc/network/interfaces.d/.ignored": "not read by source-directory, nor by the glob\n",
	})
	if err := f.Err(); err != nil {
		t.Errorf("source interfaces.d/* read .ignored, which glob(3) does not match (ifup 0.8.41): %v", err)
	}
	f = readTree(t, map[string]string{
		"etc/network/interfaces":        "source interfaces.d/*\n",
		"etc/network/interfaces.d/eth0": "iface eth0 inet dhcp\n",
		"etc/network/interfaces.d/auto": "allow-hotplug eth0\n",
	})
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	if len(f.Ifupdown) != 1 || !f.Ifupdown[0].AtBoot || f.Ifupdown[0].Path != "/etc/network/interfaces.d/eth0" {
		t.Errorf("source interfaces.d/*: %+v", f.Ifupdown)
	}
	f = readTree(t, map[string]string{"etc/network/interfaces": "auto eth0\niface eth0 inet dhcp\n  hwaddress ether 00:15:5d:00:00:01\n"})
	if len(f.Ifupdown) != 1 || len(f.Ifupdown[0].Pins) != 1 || f.Ifupdown[0].Pins[0].Line != 3 {
		t.Errorf("hwaddress: %+v", f.Ifupdown)
	}
	f = readTree(t, map[string]string{"etc/network/interfaces": "iface eth0 inet dhcp\n"})
	if len(f.Ifupdown) != 1 || f.Ifupdown[0].AtBoot {
		t.Errorf("no auto: %+v", f.Ifupdown)
	}
	// a mapping's lines are not options outside a stanza; another allow- class is not boot
	f = readTree(t, map[string]string{"etc/network/interfaces": "mapping eth0\n  script /usr/local/sbin/map\n  map eth0\nallow-ovs eth0\niface eth0 inet dhcp\n"})
	if err := f.Err(); err != nil || len(f.Ifupdown) != 1 || f.Ifupdown[0].AtBoot {
		t.Errorf("mapping, allow-ovs: %v %+v", err, f.Ifupdown)
	}
	// source-directory reads run-parts names only
	f = readTree(t, map[string]string{
		"etc/network/interfaces":             "auto eth0\nsource-directory interfaces.d\n",
		"etc/network/interfaces.d/eth0.bak":  "iface eth0 inet dhcp\n",
		"etc/network/interfaces.d/eth0-dhcp": "iface eth0 inet static\n  address 10.0.0.4/24\n",
	})
	if err := f.Err(); err != nil || len(f.Ifupdown) != 0 {
		t.Errorf("source-directory read eth0.bak: %v %+v", err, f.Ifupdown)
	}
	// more files sourced than the bound
	many := map[string]string{"etc/network/interfaces": "source d/*\n"}
	for i := 0; i < maxIfupdownFiles; i++ {
		many[fmt.Sprintf("etc/network/d/f%d", i)] = "auto eth0\n"
	}
	if err := readTree(t, many).Err(); err == nil || !strings.Contains(err.Error(), "files sourced") {
		t.Errorf("%d files sourced: %v", maxIfupdownFiles+1, err)
	}
	// a chain of sources deeper than the bound
	chain := map[string]string{"etc/network/interfaces": "source n0\n"}
	for i := 0; i <= maxIfupdownDepth; i++ {
		chain[fmt.Sprintf("etc/network/n%d", i)] = fmt.Sprintf("source n%d\n", i+1)
	}
	if err := readTree(t, chain).Err(); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Errorf("a chain of %d sources: %v", maxIfupdownDepth+1, err)
	}
	// a line over the bound: a problem, not a cut
	f = readTree(t, map[string]string{"etc/network/interfaces": "auto eth0\n#" + strings.Repeat("x", maxIfupdownLine) + "\n"})
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "/etc/network/interfaces") {
		t.Errorf("long: %v", err)
	}
	// a file that sources itself: ifup rereads it until the path is too long, adding nothing
	f = readTree(t, map[string]string{"etc/network/interfaces": "source interfaces\nauto eth0\niface eth0 inet dhcp\n"})
	if err := f.Err(); err != nil || len(f.ReadPast) != 1 || len(f.Ifupdown) != 1 || !f.Ifupdown[0].AtBoot {
		t.Errorf("self: %v %v %+v", err, f.ReadPast, f.Ifupdown)
	}
}

func TestIfcfgAndNetworkManager(t *testing.T) {
	f := readTree(t, map[string]string{"etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nBOOTPROTO=\"dhcp\"\n"})
	if p := f.Ifcfg; p == nil || !p.DHCP || !p.AtBoot || len(p.Pins) != 0 {
		t.Errorf("quoted BOOTPROTO, ONBOOT absent (default yes): %+v", p)
	}
	f = readTree(t, map[string]string{"etc/sysconfig/network-scripts/ifcfg-eth0": "BOOTPROTO=dhcp\nONBOOT=no\nHWADDR='00:15:5d:00:00:01'\n"})
	if p := f.Ifcfg; p == nil || p.AtBoot || len(p.Pins) != 1 {
		t.Errorf("ONBOOT=no, HWADDR: %+v", p)
	}
	f = readTree(t, map[string]string{"etc/sysconfig/network-scripts/ifcfg-eth0": "BOOTPROTO=dhcp\nONBOOT=maybe\n"})
	if p := f.Ifcfg; p == nil || !p.AtBoot {
		t.Errorf("ONBOOT=maybe (only no stops it): %+v", p)
	}
	f = readTree(t, map[string]string{
		"etc/NetworkManager/NetworkManager.conf":  "[main]\n# no-auto-default=*\nplugins=ifupdown\n",
		"etc/NetworkManager/conf.d/90-other.conf": "[device]\nno-auto-default=*\n",
	})
	if f.NoAutoDefault.Path != "" {
		t.Errorf("a comment and another group: %+v", f.NoAutoDefault)
	}
	f = readTree(t, map[string]string{"etc/NetworkManager/conf.d/10.conf": "[main]\nno-auto-default=eth1,*\n"})
	if f.NoAutoDefault.Line != 2 {
		t.Errorf("no-auto-default=eth1,*: %+v", f.NoAutoDefault)
	}
}

// Every MAC pin, in the order the rule reports them, with its line; comments are not pins.
func TestPins(t *testing.T) {
	f := readTree(t, map[string]string{
		"etc/network/interfaces":                   "auto eth0\niface eth0 inet dhcp\n  hwaddress ether 00:15:5d:00:00:06\n",
		"etc/systemd/network/10.link":              "[Match]\n# MACAddress=00:15:5d:00:00:00\nPermanentMACAddress=00:15:5d:00:00:05\n",
		"etc/NetworkManager/system-connections/a":  "[ethernet]\nmac-address=00:15:5D:00:00:04\ncloned-mac-address=\n",
		"etc/sysconfig/network/ifcfg-eth1":         "# HWADDR=00:15:5d:00:00:00\nHWADDR=\"00:15:5d:00:00:03\"\n",
		"etc/netplan/50.yaml":                      "network:\n  wifis: {wlan0: {match: {macaddress: \"00:15:5d:00:00:02\"}}}\n",
		"etc/udev/rules.d/70-persistent-net.rules": "# ATTR{address}==\"00:15:5d:00:00:00\"\nSUBSYSTEM==\"net\", ATTR{address}==\"00:15:5d:00:00:01\", NAME=\"eth0\"\n",
		"etc/udev/rules.d/71-persistent-net.rules": "SUBSYSTEM==\"net\", ATTR{address}=\"00:15:5d:00:00:09\"\n",
	})
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range f.Pins {
		got = append(got, fmt.Sprintf("%s:%d", p.Path, p.Line))
	}
	want := []string{"/etc/udev/rules.d/70-persistent-net.rules:2", "/etc/netplan/50.yaml:2", "/etc/sysconfig/network/ifcfg-eth1:2",
		"/etc/NetworkManager/system-connections/a:2", "/etc/systemd/network/10.link:3", "/etc/network/interfaces:3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pins:\n got %v\nwant %v", got, want)
	}
}

func FuzzParseUdevRules(f *testing.F) {
	for _, s := range []string{"SUBSYSTEM==\"net\", ATTR{address}==\"00:11:22:33:44:55\", NAME=\"eth0\"\n", "# c\nA==\"\\\"\"\n", "KEY=\"x\" \\\n B==\"y\"\n", "bad line\n", "K==\"unterminated\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseUdevRules("/etc/udev/rules.d/70-persistent-net.rules", data)
	})
}

func FuzzParseInterfaces(f *testing.F) {
	for _, s := range []string{"auto eth0\niface eth0 inet dhcp\n  hwaddress ether 00:11:22:33:44:55\n", "source interfaces.d/*\nsource-directory /etc/x\n", "iface eth0 inet \\\n dhcp\n", "  mtu 1500\n", "# c\nallow-hotplug eth0 eth1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ifs := &Interfaces{}
		_, _, _ = ParseInterfaces("/etc/network/interfaces", data, ifs)
	})
}

func FuzzParseINI(f *testing.F) {
	for _, s := range []string{"[main]\nno-auto-default=*\n", "[main\n", "key\n", "#x\n[a]\nb = c\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseINI("/etc/NetworkManager/NetworkManager.conf", data) })
}

// A line over a reader's bound is a problem naming the file, never a cut.
func TestLongLines(t *testing.T) {
	long := "#" + strings.Repeat("x", 64<<10) + "\n"
	for p, body := range map[string]string{
		"etc/NetworkManager/NetworkManager.conf":   "[main]\n" + long + "no-auto-default=*\n",
		"etc/udev/rules.d/70-persistent-net.rules": long + "ATTR{address}==\"00:15:5d:00:00:01\"\n",
		"etc/systemd/network/10.network":           "[Match]\nName=eth0\n" + long,
		"etc/netplan/50.yaml":                      "network:\n  ethernets: {eth0: {dhcp4: true}}\n" + strings.Repeat("#", sysconf.MaxYAMLBytes) + "\n",
	} {
		f := readTree(t, map[string]string{p: body})
		if err := f.Err(); err == nil || !strings.Contains(err.Error(), "/"+p) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// memSource is a Source over in-memory files.
func memSource(files map[string][]byte) systemd.Source {
	return systemd.Source{
		ReadLink: func(string) (string, error) { return "", fs.ErrInvalid },
		Glob: func(pattern string) ([]string, error) {
			var out []string
			for p := range files {
				if ok, _ := path.Match(pattern, p); ok {
					out = append(out, p)
				}
			}
			return out, nil
		},
		ReadFile: func(p string) ([]byte, error) { return files[p], nil },
	}
}

// The netplan reader never panics, whatever two files hold.
func FuzzReadNetplan(f *testing.F) {
	for _, s := range [][2]string{
		{"network:\n  ethernets:\n    eth0: {dhcp4: true}\n", "network: {ethernets: {eth0: {dhcp4: false, match: {name: e*}}}}\n"},
		{"network:\n", "network: [1]\n"},
		{"network: {ethernets: {eth0: {match: 1, dhcp4: maybe}}}\n", "network: {wifis: {w: {macaddress: 1}}, ethernets: null}\n"},
		{"{network: {ethernets: {eth0: {match: {driver: [hv_netvsc, x]}}}}}\n", "~\n"},
		{"network: {version: 2, renderer: NetworkManager, ethernets: {n: {match: {name: \"e*\"}, set-name: eth0}}}\n", "network: {bridges: {n: {}}, ethernets: {renderer: networkd, m: {set-name: x}}}\n"},
		{"network: {ethernets: {a: {}}}\n", "network: {version: 2.5, ethernets: {a: {match: {driver: hv_netvsc, macaddress: \"00:15:5d:00:00:01\"}, dhcp4: ~}}}\n"},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		nf := &Facts{}
		nf.readNetplan(memSource(map[string][]byte{"/etc/netplan/10.yaml": a, "/lib/netplan/20.yaml": b}))
	})
}

// Each problem is recorded under the reader that met it, so that a rule errs only on the
// readers it needs: a broken .link file is a pins problem only, a broken NetworkManager.conf a
// NetworkManager one, a broken netplan file a netplan one.
func TestProblemsByNeed(t *testing.T) {
	long := strings.Repeat("x", 70<<10)
	for _, c := range []struct {
		file, body string
		need       Need
	}{
		{"etc/systemd/network/10-a.link", "", NeedOtherPins},
		{"etc/udev/rules.d/70-persistent-net.rules", "", NeedOtherPins},
		{"etc/NetworkManager/NetworkManager.conf", "", NeedNetworkManager},
		{"etc/netplan/50.yaml", "network: [\n", NeedNetplan},
		{"etc/systemd/network/10-eth0.network", "", NeedNetworkd},
		{"etc/network/interfaces", "", NeedIfupdown},
		{"etc/sysconfig/network-scripts/ifcfg-eth0", "", NeedIfcfg},
	} {
		if c.body == "" {
			c.body = "# " + long + "\n"
		}
		f := readTree(t, map[string]string{c.file: c.body})
		if f.Err() == nil {
			t.Errorf("%s: a line over 64 KiB is no problem", c.file)
			continue
		}
		for _, n := range []Need{NeedIfupdown, NeedNetplan, NeedNetworkd, NeedIfcfg, NeedNetworkManager, NeedOtherPins} {
			err := f.ErrOf(n)
			switch {
			case n == c.need && (err == nil || !strings.Contains(err.Error(), "/"+c.file)):
				t.Errorf("%s: %s's problems %v", c.file, n, err)
			case n != c.need && err != nil && !(n == NeedOtherPins && c.need == NeedIfcfg): // every ifcfg file is read for pins
				t.Errorf("%s: also a problem of %s: %v", c.file, n, err)
			}
		}
	}
}

// A sourced file's line over this reader's bound is a problem, not an error ifup reads past:
// ifup has no bound, so what it makes of the file is unknown. An error ifup does read past is
// ReadPast, with its file and line.
func TestIfupdownSourcedOverBound(t *testing.T) {
	main := "source interfaces.d/*\n"
	f := readTree(t, map[string]string{"etc/network/interfaces": main,
		"etc/network/interfaces.d/a": "# " + strings.Repeat("x", maxIfupdownLine) + "\nauto eth0\niface eth0 inet dhcp\n"})
	if err := f.ErrOf(NeedIfupdown); err == nil || !strings.Contains(err.Error(), "/etc/network/interfaces.d/a: line 1: longer than") || len(f.ReadPast) != 0 {
		t.Errorf("over the bound: problems %v, read past %v", err, f.ReadPast)
	}
	f = readTree(t, map[string]string{"etc/network/interfaces": main,
		"etc/network/interfaces.d/a": "auto eth0\niface eth0 inet dhcp\niface eth1 inet bogus\n"})
	if err := f.ErrOf(NeedIfupdown); err != nil || len(f.ReadPast) != 1 || f.ReadPast[0].File != "/etc/network/interfaces.d/a" || f.ReadPast[0].Line != 3 || len(f.Ifupdown) != 1 {
		t.Errorf("read past: problems %v, read past %+v, plans %+v", err, f.ReadPast, f.Ifupdown)
	}
}

// NetworkManager's keyfiles outside /etc pin too, as NetworkManager loads them: a profile in
// /run (where netplan's NetworkManager renderer writes) or /usr/lib with a mac-address is a pin;
// one NetworkManager refuses (group or other may read it) or ignores (no .nmconnection name
// there) is not.
func TestPinsInNetworkManagersOtherDirectories(t *testing.T) {
	root := t.TempDir()
	const prof = "[connection]\nid=x\ntype=ethernet\n[ethernet]\nmac-address=00:15:5D:00:00:07\n"
	for p, mode := range map[string]os.FileMode{
		"run/NetworkManager/system-connections/netplan-eth0.nmconnection": 0o600,
		"usr/lib/NetworkManager/system-connections/vendor.nmconnection":   0o600,
		"usr/lib/NetworkManager/system-connections/open.nmconnection":     0o644,
		"usr/lib/NetworkManager/system-connections/old-name":              0o600,
	} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(strings.Replace(prof, "id=x", "id="+filepath.Base(p), 1)), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(full, mode)
	}
	f := Read(systemd.FromDir(root))
	var got []string
	for _, p := range f.Pins {
		got = append(got, fmt.Sprintf("%s:%d", p.Path, p.Line))
	}
	slices.Sort(got)
	want := []string{"/run/NetworkManager/system-connections/netplan-eth0.nmconnection:5", "/usr/lib/NetworkManager/system-connections/vendor.nmconnection:5"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pins:\n got %v\nwant %v", got, want)
	}
}
