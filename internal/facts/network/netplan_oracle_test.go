package network

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// netplanTool finds netplan's generate and its library (scripts/get-tools.sh netplan, or
// NETPLAN_ROOT for another unpacked netplan.io + libnetplan0).
func netplanTool(t *testing.T) (generate, libdir string) {
	t.Helper()
	root := os.Getenv("NETPLAN_ROOT")
	if root == "" {
		root = filepath.Join(testfixture.RepoRoot(), ".tools", "netplan")
	}
	generate = filepath.Join(root, "usr", "libexec", "netplan", "generate")
	libs, _ := filepath.Glob(filepath.Join(root, "usr", "lib", "*", "libnetplan.so.*"))
	if _, err := os.Stat(generate); err != nil || len(libs) == 0 {
		t.Skipf("no netplan to compare with (scripts/get-tools.sh netplan, or set NETPLAN_ROOT): %v", err)
	}
	return generate, filepath.Dir(libs[0])
}

// netplanValues are the values a generated device entry's keys take: netplan's booleans and
// what it refuses as one, matches by name glob, driver and MAC address.
var netplanValues = map[string][]string{
	"dhcp4": {"yes", "true", "on", "y", "no", "false", "off", "n", "True", "NO", `"true"`, "maybe", "1", "0", "~", "[true]"},
	"match": {`{name: eth0}`, `{name: "e*"}`, `{name: "en*"}`, `{name: "eth[0-9]"}`, `{name: "eth[!0]"}`,
		`{driver: hv_netvsc}`, `{driver: e1000}`, `{driver: [e1000, hv_netvsc]}`, `{driver: "hv_*"}`,
		`{macaddress: "00:15:5d:00:00:01"}`, `{name: eth0, macaddress: "00:15:5d:00:00:01"}`, `{}`,
		`{name: eth0, driver: hv_netvsc}`, `{name: "*", driver: e1000}`, `[eth0]`, `{colour: blue}`},
	"set-name":   {"eth0", "lan0"},
	"macaddress": {`"00:15:5d:00:00:02"`},
	"addresses":  {"[10.0.0.4/24]"},
	"dhcp6":      {"yes", "no"},
	"optional":   {"true"},
	"hostname":   {"vm"}, // not a key of an ethernets entry: netplan refuses the file
	"renderer":   {"networkd", "NetworkManager"},
}

var netplanKeys = []string{"dhcp4", "dhcp4", "dhcp4", "match", "match", "set-name", "macaddress", "addresses", "dhcp6", "optional", "hostname", "renderer"}

var netplanIDs = []string{"eth0", "any", "azure", "lan", "eth0-x", "eth0", "eth0"}

// netplanRefused are the values above netplan refuses (in any file: it then generates nothing).
var netplanRefused = map[string]bool{"maybe": true, "1": true, "0": true, "~": true, "[true]": true,
	"[eth0]": true, "{colour: blue}": true, "vm": true, "bogus": true, "3": true}

// netplanDoc is one generated file: block or flow style; with spoil, now and then one netplan
// refuses.
func netplanDoc(r *rand.Rand, spoil bool) string {
	pick := func(vs []string) string {
		for {
			if v := vs[r.IntN(len(vs))]; spoil || !netplanRefused[v] {
				return v
			}
		}
	}
	c := r.IntN(40)
	if !spoil && c < 4 {
		c = 4
	}
	switch c {
	case 0:
		return "network:\n  ethernets: [\n" // a YAML error
	case 1:
		return "network: 5\n"
	case 2:
		return "foo: 1\nnetwork: {}\n"
	case 3:
		return "network:\n  ethernets:\n    eth0:\n\tdhcp4: true\n" // a tab indents
	case 4:
		return ""
	}
	type kv struct{ k, v string }
	var top []kv
	if r.IntN(3) == 0 {
		top = append(top, kv{"version", pick([]string{"2", "2", "2", "3"})})
	}
	if r.IntN(6) == 0 {
		top = append(top, kv{"renderer", pick([]string{"networkd", "NetworkManager", "NetworkManager", "bogus"})})
	}
	type dev struct {
		id    string
		props []kv
	}
	var devs []dev
	for range r.IntN(3) + 1 {
		d := dev{id: netplanIDs[r.IntN(len(netplanIDs))]}
		seen := map[string]bool{}
		for range r.IntN(4) {
			k := netplanKeys[r.IntN(len(netplanKeys))]
			if seen[k] {
				continue
			}
			seen[k] = true
			if k == "hostname" && !spoil {
				continue
			}
			d.props = append(d.props, kv{k, pick(netplanValues[k])})
		}
		if !spoil && seen["set-name"] && !seen["match"] {
			d.props = append(d.props, kv{"match", pick(netplanValues["match"])}) // set-name needs one
		}
		if !seen["dhcp4"] && r.IntN(2) == 0 {
			d.props = append(d.props, kv{"dhcp4", pick(netplanValues["dhcp4"])})
		}
		if slices.ContainsFunc(devs, func(o dev) bool { return o.id == d.id }) {
			continue // one id once a file (the merge across files is the test's)
		}
		devs = append(devs, d)
	}
	section := "ethernets"
	if r.IntN(12) == 0 {
		section = "bridges"
	}
	var b strings.Builder
	if r.IntN(3) == 0 { // flow style
		b.WriteString("{network: {")
		for _, e := range top {
			fmt.Fprintf(&b, "%s: %s, ", e.k, e.v)
		}
		fmt.Fprintf(&b, "%s: {", section)
		for i, d := range devs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: {", d.id)
			for j, p := range d.props {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s: %s", p.k, p.v)
			}
			b.WriteString("}")
		}
		b.WriteString("}}}\n")
		return b.String()
	}
	b.WriteString("network:\n")
	for _, e := range top {
		fmt.Fprintf(&b, "  %s: %s\n", e.k, e.v)
	}
	fmt.Fprintf(&b, "  %s:\n", section)
	for _, d := range devs {
		if len(d.props) == 0 {
			fmt.Fprintf(&b, "    %s: {}\n", d.id)
			continue
		}
		fmt.Fprintf(&b, "    %s:\n", d.id)
		for _, p := range d.props {
			if r.IntN(8) == 0 {
				fmt.Fprintf(&b, "      # %s: %s\n", p.k, p.v)
			}
			fmt.Fprintf(&b, "      %s: %s\n", p.k, p.v)
		}
	}
	return b.String()
}

func genNetplan(r *rand.Rand) map[string]string {
	files := map[string]string{}
	names := []string{"01-netcfg.yaml", "50-cloud-init.yaml", "90-azure.yaml", "50-cloud-init.yaml", "99.yml"}
	spoil := r.IntN(3) == 0
	for range 1 + r.IntN(3) {
		dir := NetplanDirs[r.IntN(len(NetplanDirs))]
		files[strings.TrimPrefix(dir, "/")+"/"+names[r.IntN(len(names))]] = netplanDoc(r, spoil)
	}
	return files
}

// netplanAnswer is what netplan makes of a tree for eth0.
type netplanAnswer struct {
	refused bool
	dhcp    bool
	file    string // the generated file that configures eth0 (basename), "" when none does
}

// askNetplan runs netplan generate --root-dir on root and reads what it wrote for eth0: the
// .network files as systemd-networkd applies them (this package's reading of v252's rules,
// proven on its own), the NetworkManager keyfiles by interface-name.
func askNetplan(t *testing.T, generate, libdir, root string) (netplanAnswer, string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(generate, "--root-dir", root)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libdir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
		return netplanAnswer{refused: true}, out.String()
	}
	var a netplanAnswer
	nf := Read(systemd.FromDir(root))
	for _, p := range nf.Networkd {
		if len(p.Pins) == 0 {
			a.dhcp, a.file = p.DHCP, path.Base(p.Path)
			break
		}
	}
	keyfiles, _ := filepath.Glob(filepath.Join(root, "run", "NetworkManager", "system-connections", "*.nmconnection"))
	slices.Sort(keyfiles)
	for _, kf := range keyfiles {
		if a.file != "" {
			break
		}
		data, err := os.ReadFile(kf)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := ParseINI(kf, data)
		if err != nil {
			t.Fatal(err)
		}
		takes, pinned, dhcp := false, false, false
		for _, s := range sets {
			switch {
			case s.Group == "connection" && s.Key == "interface-name", s.Group == "match" && s.Key == "interface-name":
				for _, g := range strings.Split(s.Value, ";") { // a list, ';'-separated
					takes = takes || g != "" && nameGlob(g, Eth0)
				}
			case s.Group == "ethernet" && (s.Key == "mac-address" || s.Key == "cloned-mac-address"):
				pinned = true
			case s.Group == "ipv4" && s.Key == "method":
				dhcp = s.Value == "auto"
			}
		}
		if takes && !pinned {
			a.dhcp, a.file = dhcp, filepath.Base(kf)
		}
	}
	return a, out.String()
}

// TestNetplanOracle compares the netplan reading with netplan 0.106's own generate on
// generated trees: files in /etc, /run and /lib/netplan (shadowing by name, lexical order,
// merging), match by name, driver and MAC address, set-name, block and flow style, netplan's
// booleans, renderer NetworkManager, and what netplan refuses (then the fact has a problem).
func TestNetplanOracle(t *testing.T) {
	generate, libdir := netplanTool(t)
	r := rand.New(rand.NewPCG(26, 2))
	n := oracleCases(t, 300)
	var refused, dhcp int
	for i := range n {
		files := genNetplan(r)
		root := t.TempDir()
		writeTree(t, root, files)
		want, log := askNetplan(t, generate, libdir, root)
		f := Read(systemd.FromDir(root))
		got := netplanAnswer{refused: len(f.ByNeed[NeedNetplan]) > 0}
		if !got.refused {
			for _, p := range f.Netplan {
				if len(p.Pins) == 0 {
					got.dhcp, got.file = p.DHCP, NetplanFile(p)
					break
				}
			}
		}
		if want.refused {
			refused++
		} else if want.dhcp {
			dhcp++
		}
		if got != want {
			t.Errorf("case %d: netplan says %+v, the fact %+v (problems %v)\nnetplan: %s\n%s", i, want, got, f.ByNeed[NeedNetplan], log, dumpTree(files))
		}
	}
	t.Logf("%d generated trees: %d refused by netplan, %d bring eth0 up by DHCP", n, refused, dhcp)
	if refused == 0 || dhcp == 0 {
		t.Errorf("the generator made %d refused and %d DHCP trees: it no longer covers both", refused, dhcp)
	}
}
