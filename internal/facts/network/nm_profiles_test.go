package network

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// nmFile is one file of a profile test tree: its content, mode and owner.
type nmFile struct {
	body string
	mode os.FileMode
	uid  int
	link string // a symbolic link to this instead
	age  time.Duration
}

// keyfile is a profile NetworkManager accepts: 0600, owned by root.
func keyfile(body string) nmFile { return nmFile{body: body, mode: 0o600} }

func nmTree(t *testing.T, files map[string]nmFile) *NMChoice {
	t.Helper()
	root := t.TempDir()
	now := time.Now()
	for p, f := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.link != "" {
			if err := os.Symlink(f.link, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(full, f.uid, 0); err != nil {
			t.Fatal(err)
		}
		m := now.Add(-f.age)
		if err := os.Chtimes(full, m, m); err != nil {
			t.Fatal(err)
		}
	}
	return ReadNMChoice(systemd.FromDir(root))
}

const (
	etcNM = "etc/NetworkManager/system-connections/"
	runNM = "run/NetworkManager/system-connections/"
	libNM = "usr/lib/NetworkManager/system-connections/"
	uuidA = "11111111-1111-4111-8111-111111111111"
	uuidB = "22222222-2222-4222-8222-222222222222"
)

func profile(uuid, iface, method string, more ...string) string {
	s := "[connection]\nid=p-" + method + "\ntype=ethernet\n"
	if uuid != "" {
		s += "uuid=" + uuid + "\n"
	}
	if iface != "" {
		s += "interface-name=" + iface + "\n"
	}
	var ipv4 []string
	for _, m := range more {
		if g, kv, ok := strings.Cut(m, ":"); ok && g == "connection" {
			s += kv + "\n"
		} else {
			ipv4 = append(ipv4, m)
		}
	}
	if method == "" {
		return s
	}
	s += "\n[ipv4]\nmethod=" + method + "\n"
	if method == "manual" {
		s += "address1=10.0.0.5/24,10.0.0.1\n"
	}
	return s + strings.Join(ipv4, "\n") + "\n"
}

func chosen(c *NMChoice) string {
	switch {
	case c.Err() != nil:
		return "error: " + c.Err().Error()
	case c.Undecided != nil:
		return "undecided " + c.Undecided.Path
	case c.Profile != nil && c.DHCP:
		return "dhcp " + c.Profile.Path
	case c.Profile != nil:
		return "static " + c.Profile.Path
	case c.Blocker != nil:
		return "blocked " + c.Blocker.Path
	case c.Auto:
		return "auto"
	}
	return "?"
}

// Which profile NetworkManager activates on eth0, as 1.42 orders them.
func TestNMChoice(t *testing.T) {
	p := func(n string) string { return "/" + etcNM + n }
	for _, tc := range []struct {
		name  string
		files map[string]nmFile
		want  string
	}{
		{"no profile: the automatic connection", nil, "auto"},
		{"a static eth0 profile", map[string]nmFile{etcNM + "eth0.nmconnection": keyfile(profile(uuidA, "eth0", "manual"))}, "static " + p("eth0.nmconnection")},
		{"a DHCP eth0 profile", map[string]nmFile{etcNM + "eth0.nmconnection": keyfile(profile(uuidA, "eth0", "auto"))}, "dhcp " + p("eth0.nmconnection")},
		{"no [ipv4]: auto", map[string]nmFile{etcNM + "eth0.nmconnection": keyfile(profile(uuidA, "", ""))}, "dhcp " + p("eth0.nmconnection")},
		{"static for ens3 only", map[string]nmFile{etcNM + "ens3.nmconnection": keyfile(profile(uuidA, "ens3", "manual"))}, "auto"},
		{"static at priority 10 beats DHCP at 0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "manual", "connection:autoconnect-priority=10")),
		}, "static " + p("b.nmconnection")},
		{"DHCP at priority 10 beats static at 0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "manual")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "auto", "connection:autoconnect-priority=10")),
		}, "dhcp " + p("b.nmconnection")},
		{"a negative priority goes after 0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual", "connection:autoconnect-priority=-5")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "", "auto")),
		}, "dhcp " + p("b.nmconnection")},
		{"priority out of range is the default 0: the smaller UUID wins", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "manual", "connection:autoconnect-priority=1000")),
		}, "dhcp " + p("a.nmconnection")},
		{"priority in hexadecimal, as strtoll reads it", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "manual", "connection:autoconnect-priority=0x10")),
		}, "static " + p("b.nmconnection")},
		{"equal priority: the smaller UUID", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidB, "eth0", "auto")),
			etcNM + "b.nmconnection": keyfile(profile(uuidA, "eth0", "manual")),
		}, "static " + p("b.nmconnection")},
		{"equal priority: the more recent timestamp beats the UUID", map[string]nmFile{
			etcNM + "a.nmconnection":            keyfile(profile(uuidA, "eth0", "manual")),
			etcNM + "b.nmconnection":            keyfile(profile(uuidB, "eth0", "auto")),
			"var/lib/NetworkManager/timestamps": {body: "[timestamps]\n" + uuidA + "=1700000000\n" + uuidB + "=1700000500\n", mode: 0o600},
		}, "dhcp " + p("b.nmconnection")},
		{"a timestamp beats none", map[string]nmFile{
			etcNM + "a.nmconnection":            keyfile(profile(uuidA, "eth0", "manual")),
			etcNM + "b.nmconnection":            keyfile(profile(uuidB, "eth0", "auto")),
			"var/lib/NetworkManager/timestamps": {body: "[timestamps]\n" + uuidB + "=5\n", mode: 0o600},
		}, "dhcp " + p("b.nmconnection")},
		{"priority beats timestamp", map[string]nmFile{
			etcNM + "a.nmconnection":            keyfile(profile(uuidA, "eth0", "manual", "connection:autoconnect-priority=1")),
			etcNM + "b.nmconnection":            keyfile(profile(uuidB, "eth0", "auto")),
			"var/lib/NetworkManager/timestamps": {body: "[timestamps]\n" + uuidB + "=1700000500\n", mode: 0o600},
		}, "static " + p("a.nmconnection")},
		{"connection.timestamp in the keyfile is not the database", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "manual", "connection:timestamp=1700000500")),
		}, "dhcp " + p("a.nmconnection")},
		{"autoconnect=false is passed over", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "manual", "connection:autoconnect=false", "connection:autoconnect-priority=50")),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "auto")),
		}, "dhcp " + p("b.nmconnection")},
		{"autoconnect=false alone keeps the automatic connection away", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "auto", "connection:autoconnect=false")),
		}, "blocked " + p("a.nmconnection")},
		{"autoconnect=maybe is the default (true)", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "manual", "connection:autoconnect=maybe")),
		}, "static " + p("a.nmconnection")},
		{"match.interface-name en* does not take eth0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[match]\ninterface-name=en*\n"),
		}, "auto"},
		{"match.interface-name en*;eth* takes eth0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[match]\ninterface-name=en*;eth*;\n"),
		}, "static " + p("a.nmconnection")},
		{"match.interface-name !eth0 refuses it", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[match]\ninterface-name=e*;!eth0\n"),
		}, "auto"},
		{"match.interface-name !ens3 alone takes eth0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[match]\ninterface-name=!ens3\n"),
		}, "static " + p("a.nmconnection")},
		{"match.driver is not known offline", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[match]\ndriver=hv_netvsc\n"),
		}, "undecided " + p("a.nmconnection")},
		{"match.driver below a sure DHCP profile does not matter", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual", "connection:autoconnect-priority=-1") + "[match]\ndriver=hv_netvsc\n"),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "auto")),
		}, "dhcp " + p("b.nmconnection")},
		{"match.driver above a sure profile decides in its place", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual", "connection:autoconnect-priority=5") + "[match]\ndriver=hv_netvsc\n"),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "auto")),
		}, "undecided " + p("a.nmconnection")},
		{"match.driver with autoconnect=false does not decide", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual", "connection:autoconnect=false") + "[match]\ndriver=hv_netvsc\n"),
			etcNM + "b.nmconnection": keyfile(profile(uuidB, "eth0", "auto", "connection:autoconnect=false")),
		}, "blocked " + p("b.nmconnection")},
		{"an invalid escape keeps the default interface-name (none)", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "ens3\\q", "manual")),
		}, "static " + p("a.nmconnection")},
		{"a MAC pins another NIC", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile(profile(uuidA, "", "manual") + "[ethernet]\nmac-address=52:54:00:12:34:56\n"),
		}, "auto"},
		{"a port of a bond takes eth0, no DHCP", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=port\ntype=ethernet\ninterface-name=eth0\nmaster=bond0\nslave-type=bond\n"),
		}, "static " + p("a.nmconnection")},
		{"wifi is not for eth0", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=w\ntype=wifi\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"group/other permissions: refused", map[string]nmFile{
			etcNM + "eth0.nmconnection": {body: profile(uuidA, "eth0", "manual"), mode: 0o644},
		}, "auto"},
		{"not owned by root: refused", map[string]nmFile{
			etcNM + "eth0.nmconnection": {body: profile(uuidA, "eth0", "manual"), mode: 0o600, uid: 1000},
		}, "auto"},
		{"/etc needs no extension", map[string]nmFile{etcNM + "eth0": keyfile(profile(uuidA, "eth0", "manual"))}, "static " + p("eth0")},
		{"a backup in /etc is ignored", map[string]nmFile{etcNM + "eth0.nmconnection~": keyfile(profile(uuidA, "eth0", "manual"))}, "auto"},
		{"a mkstemp name in /etc is ignored", map[string]nmFile{etcNM + "eth0.nmconnection.Ab12Cd": keyfile(profile(uuidA, "eth0", "manual"))}, "auto"},
		{"/run needs .nmconnection", map[string]nmFile{runNM + "eth0": keyfile(profile(uuidA, "eth0", "manual"))}, "auto"},
		{"/run is read", map[string]nmFile{runNM + "eth0.nmconnection": keyfile(profile(uuidA, "eth0", "manual"))}, "static /" + runNM + "eth0.nmconnection"},
		{"/usr/lib is read", map[string]nmFile{libNM + "eth0.nmconnection": keyfile(profile(uuidA, "eth0", "manual"))}, "static /" + libNM + "eth0.nmconnection"},
		{"/run shadows /etc by UUID", map[string]nmFile{
			etcNM + "x.nmconnection": keyfile(profile(uuidA, "eth0", "manual")),
			runNM + "y.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
		}, "dhcp /" + runNM + "y.nmconnection"},
		{"/etc shadows /usr/lib by UUID", map[string]nmFile{
			etcNM + "x.nmconnection": keyfile(profile(uuidA, "eth0", "auto")),
			libNM + "y.nmconnection": keyfile(profile(uuidA, "eth0", "manual")),
		}, "dhcp " + p("x.nmconnection")},
		{"different UUIDs in /run and /etc both count", map[string]nmFile{
			etcNM + "x.nmconnection": keyfile(profile(uuidA, "eth0", "manual", "connection:autoconnect-priority=5")),
			runNM + "x.nmconnection": keyfile(profile(uuidB, "eth0", "auto")),
		}, "static " + p("x.nmconnection")},
		{"without a UUID, a /run file shadows /etc's of the same name", map[string]nmFile{
			etcNM + "x.nmconnection": keyfile(profile("", "eth0", "auto", "connection:autoconnect-priority=5")),
			runNM + "x.nmconnection": keyfile(profile("", "eth0", "manual")),
		}, "static /" + runNM + "x.nmconnection"},
		{"without a UUID, files of other names are two profiles", map[string]nmFile{
			etcNM + "x.nmconnection": keyfile(profile("", "eth0", "auto", "connection:autoconnect-priority=5")),
			runNM + "y.nmconnection": keyfile(profile("", "eth0", "manual")),
		}, "dhcp " + p("x.nmconnection")},
		{"ipv4.method=disabled is not DHCP", map[string]nmFile{etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "disabled"))}, "static " + p("a.nmconnection")},
		{"ipv4.method=link-local is not DHCP", map[string]nmFile{etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "link-local"))}, "static " + p("a.nmconnection")},
		{"ipv4.method=shared is not DHCP", map[string]nmFile{etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "shared"))}, "static " + p("a.nmconnection")},
		{"an unknown ipv4.method: refused", map[string]nmFile{etcNM + "a.nmconnection": keyfile(profile(uuidA, "eth0", "dhcp"))}, "auto"},
		{"same UUID in one directory: the newer file", map[string]nmFile{
			etcNM + "a.nmconnection": {body: profile(uuidA, "eth0", "auto"), mode: 0o600, age: time.Hour},
			etcNM + "b.nmconnection": {body: profile(uuidA, "eth0", "manual"), mode: 0o600, age: 2 * time.Hour},
		}, "dhcp " + p("a.nmconnection")},
		{"a tombstone deletes the profile", map[string]nmFile{
			libNM + "x.nmconnection":  keyfile(profile(uuidA, "eth0", "manual")),
			etcNM + uuidA + ".nmmeta": {link: "/dev/null"},
		}, "auto"},
		{"a tombstone not to /dev/null does not", map[string]nmFile{
			libNM + "x.nmconnection":  keyfile(profile(uuidA, "eth0", "manual")),
			etcNM + uuidA + ".nmmeta": {link: "/elsewhere"},
		}, "static /" + libNM + "x.nmconnection"},
		{"a bad group header: the file is skipped", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"junk after a group header: the file is skipped", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection] x\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"blanks after a group header are fine", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection] \t\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "static " + p("a.nmconnection")},
		{"a key name with a bracket: the file is skipped", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid]=x\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"a localized key is another key", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid[de_DE]=x\ntype=ethernet\n[ipv4]\nmethod[de]=auto\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "static " + p("a.nmconnection")},
		{"a key given twice keeps its last value", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\ntype=ethernet\n[ipv4]\nmethod=auto\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "static " + p("a.nmconnection")},
		{"a key before any group: the file is skipped", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("id=x\n[connection]\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"manual without an address: refused", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\n"),
		}, "auto"},
		{"[ipv4] without a method: refused", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=x\ntype=ethernet\n[ipv4]\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"type from the [ethernet] group", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=x\n[ethernet]\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "static " + p("a.nmconnection")},
		{"interface-name escaped as GKeyFile reads it", map[string]nmFile{
			etcNM + "a.nmconnection": keyfile("[connection]\nid=x\ntype=802-3-ethernet\ninterface-name=eth\\s0\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24\n"),
		}, "auto"},
		{"a keyfile path= elsewhere", map[string]nmFile{
			"etc/NetworkManager/conf.d/90.conf": {body: "[keyfile]\npath=/var/nm\n", mode: 0o644},
			etcNM + "eth0.nmconnection":         keyfile(profile(uuidA, "eth0", "manual")),
			"var/nm/eth0.nmconnection":          keyfile(profile(uuidB, "eth0", "auto")),
		}, "dhcp /var/nm/eth0.nmconnection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := nmTree(t, tc.files)
			if got := chosen(c); got != tc.want {
				t.Errorf("%s, want %s; %s; skipped %+v", got, tc.want, c.Why, c.Skipped)
			}
		})
	}
}

// A file NetworkManager skips is a note naming it (with the line GKeyFile stops at); a file
// this check cannot read is a problem naming it.
func TestNMChoiceNotesAndProblems(t *testing.T) {
	c := nmTree(t, map[string]nmFile{
		etcNM + "a.nmconnection": keyfile("[connection]\nid=x\nnot a key\n"),
		etcNM + "b.nmconnection": {body: profile(uuidA, "eth0", "manual"), mode: 0o640},
	})
	if c.Err() != nil || len(c.Skipped) != 2 {
		t.Fatalf("%v %+v", c.Err(), c.Skipped)
	}
	if s := c.Skipped[0]; s.Path != "/"+etcNM+"a.nmconnection" || s.Line != 3 {
		t.Errorf("%+v", s)
	}
	if s := c.Skipped[1]; !strings.Contains(s.Why, "0640") {
		t.Errorf("%+v", s)
	}
	c = nmTree(t, map[string]nmFile{etcNM + "a.nmconnection": keyfile("[connection]\nid=my\\seth0\ntype=ethernet\n")})
	if !strings.Contains(c.Why, `"my eth0"`) || !c.DHCP {
		t.Errorf("id as GKeyFile unescapes it: %s", c.Why)
	}
	c = nmTree(t, map[string]nmFile{etcNM + "big.nmconnection": keyfile("[connection]\n" + strings.Repeat("#x\n", maxNMKeyfile/3+1))})
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "/"+etcNM+"big.nmconnection") {
		t.Errorf("over the size bound: %v", err)
	}
	c = nmTree(t, map[string]nmFile{etcNM + "long.nmconnection": keyfile("[connection]\n#" + strings.Repeat("x", maxINILine) + "\n")})
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "long.nmconnection: line 2") {
		t.Errorf("over the line bound: %v", err)
	}
	files := map[string]nmFile{}
	for i := 0; i <= maxNMProfiles; i++ {
		files[etcNM+"p"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+strconv.Itoa(i)] = keyfile("[connection]\n")
	}
	c = nmTree(t, files)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "/"+strings.TrimSuffix(etcNM, "/")) {
		t.Errorf("over the count bound: %v", err)
	}
}

// The UUID NetworkManager derives from a file name: nm_uuid_generate_from_strings_old checked
// against the vector NetworkManager's own test asserts (1.42
// src/nm-initrd-generator/tests/test-cmdline-reader.c test_ibft_ip_dev), and the keyfile seed.
func TestKeyfileUUID(t *testing.T) {
	if got := nmUUIDOld("ibft", "00:53:00:ab:00:01", "V", "666", "A", "2001:0db8:0000:0000:0000:0000:0000:0002"); got != "16d9bd1c-e2ab-31ef-9196-860078e81a23" {
		t.Errorf("nm_uuid_generate_from_strings_old: %s", got)
	}
	if keyfileUUID("/etc/NetworkManager/system-connections/eth0.nmconnection") == keyfileUUID("/etc/NetworkManager/system-connections/eth1.nmconnection") {
		t.Error("two names, one UUID")
	}
}

// GKeyFile's names: what NetworkManager ignores in each directory.
func TestNMIgnoredName(t *testing.T) {
	for _, c := range []struct {
		name    string
		needExt bool
		want    bool
	}{
		{"eth0.nmconnection", true, false}, {"eth0", true, true}, {".nmconnection", true, true}, {".eth0.nmconnection", true, true},
		{"eth0", false, false}, {"eth0~", false, true}, {"eth0.bak", false, false}, {"eth0.backup", false, true},
		{"x.pem", false, true}, {"x.DER", false, true}, {".hidden", false, true}, {uuidA + ".nmmeta", false, true},
	} {
		if got := nmIgnoredName(c.name, c.needExt); got != c.want {
			t.Errorf("%s (extension required %v): %v", c.name, c.needExt, got)
		}
	}
}

// The keyfile reader never panics, whatever a profile holds.
func FuzzReadKeyfile(f *testing.F) {
	f.Add([]byte(profile(uuidA, "eth0", "manual", "connection:autoconnect-priority=0x10") + "[match]\ninterface-name=&!e\\*;|x\n"))
	f.Add([]byte("[ethernet]\nmac-address=\\\n[ipv4]\nmethod=disabled\ndns=1.1.1.1;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		settings, err := ParseINI("/x.nmconnection", data)
		if err != nil {
			return
		}
		if p, _, why := readKeyfile("/x.nmconnection", "x.nmconnection", "/x.nmconnection", settings, iniGroups(data)); p != nil {
			compatibleWithEth0(p)
			_ = why
		}
	})
}
