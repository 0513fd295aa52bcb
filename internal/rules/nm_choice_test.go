package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// nmKeyfile is a NetworkManager profile for nmImage: its content and the mode its inode gets.
type nmKeyfile struct {
	body string
	mode int // e.g. 0o600, which NetworkManager requires
}

// nmImage is the compliant tree without its netplan file, with NetworkManager enabled and the
// keyfiles given written with their mode and owned by root (debugfs sets the inodes, whatever
// the user running the test), as a real ext4 image.
func nmImage(t *testing.T, keyfiles map[string]nmKeyfile) string {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "root")
	if b, err := exec.Command("cp", "-a", filepath.Join(testfixture.Dir(t), "trees", "clean"), tree).CombinedOutput(); err != nil {
		t.Fatalf("copying the compliant tree: %v\n%s", err, b)
	}
	write := func(p, body string) {
		full := filepath.Join(tree, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(tree, "etc", "netplan", "50-cloud-init.yaml")); err != nil {
		t.Fatal(err)
	}
	write("/lib/systemd/system/NetworkManager.service", "[Unit]\nDescription=Network Manager\n\n[Service]\nExecStart=/usr/sbin/NetworkManager --no-daemon\n\n[Install]\nWantedBy=multi-user.target\n")
	wants := filepath.Join(tree, "etc", "systemd", "system", "multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/NetworkManager.service", filepath.Join(wants, "NetworkManager.service")); err != nil {
		t.Fatal(err)
	}
	for p, k := range keyfiles {
		write(p, k.body)
	}
	img := filepath.Join(t.TempDir(), "nm.raw")
	var sif []string
	for p, k := range keyfiles {
		sif = append(sif, fmt.Sprintf("sif %s mode 0%o", p, 0o100000|k.mode), "sif "+p+" uid 0", "sif "+p+" gid 0")
	}
	env := append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	for _, c := range [][]string{
		{"mke2fs", "-q", "-F", "-t", "ext4", "-d", tree, img, "64M"},
		{"debugfs", "-w", "-f", "-", img},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Env = env
		if c[0] == "debugfs" {
			cmd.Stdin = strings.NewReader(strings.Join(sif, "\n") + "\n")
		}
		if b, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(b), "not found") {
			t.Fatalf("%s: %v\n%s", c[0], err, b)
		}
	}
	return img
}

const nmDir = "/etc/NetworkManager/system-connections/"

func nmProfile(uuid, iface, ipv4 string, connection ...string) string {
	s := "[connection]\nid=" + uuid[:8] + "\nuuid=" + uuid + "\ntype=ethernet\n"
	if iface != "" {
		s += "interface-name=" + iface + "\n"
	}
	for _, c := range connection {
		s += c + "\n"
	}
	return s + "\n[ipv4]\n" + ipv4 + "\n"
}

const (
	nmStatic = "method=manual\naddress1=10.0.0.5/24,10.0.0.1"
	nmDHCP   = "method=auto"
	nmUUID1  = "11111111-1111-4111-8111-111111111111"
	nmUUID2  = "22222222-2222-4222-8222-222222222222"
)

// first-nic-dhcp on NetworkManager: the profile it activates on eth0 decides; only without a
// profile for eth0 does the automatic wired connection (DHCP) pass.
func TestFirstNICByNetworkManagerProfile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		keyfiles map[string]nmKeyfile
		status   rules.Status
		evidence string
	}{
		{"no profile: the automatic wired connection", nil, rules.Pass, "automatic wired connection"},
		{"a static profile for eth0", map[string]nmKeyfile{nmDir + "eth0.nmconnection": {nmProfile(nmUUID1, "eth0", nmStatic), 0o600}},
			rules.Fail, "eth0.nmconnection"},
		{"a DHCP profile for eth0", map[string]nmKeyfile{nmDir + "eth0.nmconnection": {nmProfile(nmUUID1, "eth0", nmDHCP), 0o600}},
			rules.Pass, "brings eth0 up by DHCP"},
		{"a static profile for ens3 only", map[string]nmKeyfile{nmDir + "ens3.nmconnection": {nmProfile(nmUUID1, "ens3", nmStatic), 0o600}},
			rules.Pass, "automatic wired connection"},
		{"static at priority 10 over DHCP at 0", map[string]nmKeyfile{
			nmDir + "static.nmconnection": {nmProfile(nmUUID2, "eth0", nmStatic, "autoconnect-priority=10"), 0o600},
			nmDir + "dhcp.nmconnection":   {nmProfile(nmUUID1, "eth0", nmDHCP), 0o600},
		}, rules.Fail, "static.nmconnection"},
		{"DHCP at priority 10 over static at 0", map[string]nmKeyfile{
			nmDir + "static.nmconnection": {nmProfile(nmUUID1, "eth0", nmStatic), 0o600},
			nmDir + "dhcp.nmconnection":   {nmProfile(nmUUID2, "eth0", nmDHCP, "autoconnect-priority=10"), 0o600},
		}, rules.Pass, "dhcp.nmconnection"},
		{"a static profile NetworkManager refuses (0644)", map[string]nmKeyfile{nmDir + "eth0.nmconnection": {nmProfile(nmUUID1, "eth0", nmStatic), 0o644}},
			rules.Pass, "permissions are insecure"},
		{"autoconnect=false for eth0: nothing comes up", map[string]nmKeyfile{nmDir + "eth0.nmconnection": {nmProfile(nmUUID1, "eth0", nmDHCP, "autoconnect=false"), 0o600}},
			rules.Fail, "autoconnect=false"},
		{"a port of a bond", map[string]nmKeyfile{nmDir + "eth0.nmconnection": {"[connection]\nid=p\ntype=ethernet\ninterface-name=eth0\nmaster=bond0\nslave-type=bond\n", 0o600}},
			rules.Fail, "as a port of"},
		{"a profile over the size bound", map[string]nmKeyfile{nmDir + "big.nmconnection": {"[connection]\n" + strings.Repeat("#x\n", 400<<10), 0o600}},
			rules.Error, "big.nmconnection"},
		{"matched by driver: not decided offline", map[string]nmKeyfile{nmDir + "hv.nmconnection": {nmProfile(nmUUID1, "", nmStatic) + "[match]\ndriver=hv_netvsc\n", 0o600}},
			rules.Error, "not decided offline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, nmImage(t, tc.keyfiles), "first-nic-dhcp", tc.status, tc.evidence)
		})
	}
}

// No profile for eth0: NetworkManager's automatic wired connection takes it unless
// no-auto-default's device list matches eth0 on the new VM, as NetworkManager matches a device
// list; a spec that names the NIC's driver leaves it undecided, and the rule errs.
func TestFirstNICNoAutoDefault(t *testing.T) {
	conf := func(list string) map[string]nmKeyfile {
		return map[string]nmKeyfile{"/etc/NetworkManager/conf.d/90-cloud.conf": {"[main]\nno-auto-default=" + list + "\n", 0o644}}
	}
	for _, tc := range []struct {
		list     string
		status   rules.Status
		evidence string
	}{
		{"*", rules.Fail, "no-auto-default=* takes it"},
		{"interface-name:eth*", rules.Fail, "no-auto-default=interface-name:eth* takes it"},
		{"eth0", rules.Fail, "no-auto-default=eth0 takes it"},
		{"00:15:5d:01:02:03", rules.Pass, "automatic wired connection"},
		{"interface-name:ens*", rules.Pass, "automatic wired connection"},
		{"*,except:interface-name:eth0", rules.Pass, "automatic wired connection"},
		{"driver:hv_netvsc", rules.Error, "no-auto-default=driver:hv_netvsc takes eth0 (and so stops its automatic wired connection) is not decided offline"},
	} {
		t.Run(tc.list, func(t *testing.T) {
			wantRule(t, nmImage(t, conf(tc.list)), "first-nic-dhcp", tc.status, tc.evidence)
		})
	}
}

// no-auto-default as NetworkManager merges its configuration (outside review R4, nm09-nm11,
// nm17): "+=" appends to what earlier files set and "-=" takes out; /run's conf.d in the image
// is not there when the VM boots (a fresh tmpfs), so it shadows nothing; a file with a
// [.config] enable= condition may be skipped, so a verdict that rests on it is an error; the
// state file of deleted automatic connections joins the list.
func TestFirstNICNoAutoDefaultMerged(t *testing.T) {
	const lib, etc = "/usr/lib/NetworkManager/conf.d/", "/etc/NetworkManager/conf.d/"
	f := func(body string) nmKeyfile { return nmKeyfile{body, 0o644} }
	for _, tc := range []struct {
		name     string
		files    map[string]nmKeyfile
		status   rules.Status
		evidence string
	}{
		{"+= appends *", map[string]nmKeyfile{etc + "90.conf": f("[main]\nno-auto-default+=*\n")}, rules.Fail, "no-auto-default+=* takes it"},
		{"+= after a MAC", map[string]nmKeyfile{lib + "10.conf": f("[main]\nno-auto-default=00:15:5d:01:02:03\n"), etc + "90.conf": f("[main]\nno-auto-default+=eth0\n")},
			rules.Fail, "no-auto-default+=eth0 takes it"},
		{"-= takes * out", map[string]nmKeyfile{lib + "10.conf": f("[main]\nno-auto-default=*\n"), etc + "90.conf": f("[main]\nno-auto-default-=*\n")},
			rules.Pass, "automatic wired connection"},
		{"a later = replaces", map[string]nmKeyfile{lib + "10.conf": f("[main]\nno-auto-default=*\n"), etc + "90.conf": f("[main]\nno-auto-default=eth1\n")},
			rules.Pass, "automatic wired connection"},
		{"/run shadows nothing at boot", map[string]nmKeyfile{lib + "10-a.conf": f("[main]\nno-auto-default=*\n"), "/run/NetworkManager/conf.d/10-a.conf": f("[main]\n")},
			rules.Fail, "no-auto-default=* takes it"},
		{"/run sets nothing at boot", map[string]nmKeyfile{"/run/NetworkManager/conf.d/90.conf": f("[main]\nno-auto-default=*\n")},
			rules.Pass, "automatic wired connection"},
		{"a conditional file decides", map[string]nmKeyfile{etc + "90.conf": f("[main]\nno-auto-default=*\n"), etc + "95.conf": f("[.config]\nenable=nm-version-min:99.0\n[main]\nno-auto-default=\n")},
			rules.Error, "[.config] enable="},
		{"a conditional file that does not decide", map[string]nmKeyfile{etc + "90.conf": f("[main]\nno-auto-default=*\n"), etc + "95.conf": f("[.config]\nenable=nm-version-min:99.0\n[main]\nno-auto-default+=eth1\n")},
			rules.Fail, "takes it"},
		{"the state file", map[string]nmKeyfile{"/var/lib/NetworkManager/no-auto-default.state": f("00:15:5d:01:02:03\ninterface-name:=eth0\n")},
			rules.Fail, "no-auto-default.state"},
		{"the state file of MACs", map[string]nmKeyfile{"/var/lib/NetworkManager/no-auto-default.state": f("00:15:5d:01:02:03,\n")},
			rules.Pass, "automatic wired connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, nmImage(t, tc.files), "first-nic-dhcp", tc.status, tc.evidence)
		})
	}
}
