package network

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// oracleCases is the number of generated trees a differential test compares: def, or
// NETWORK_ORACLE_CASES (make fuzz's longer run).
func oracleCases(t *testing.T, def int) int {
	if v := os.Getenv("NETWORK_ORACLE_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("NETWORK_ORACLE_CASES=%q", v)
		}
		return n
	}
	return def
}

// writeTree writes files (in-image path without the leading "/" → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// ifupdownPieces are the lines a generated interfaces file is made of: stanzas, classes,
// comments, continuations, misplaced options and methods ifup refuses.
var ifupdownPieces = []string{
	"auto lo eth0", "auto eth0", "allow-hotplug eth0", "allow-auto eth0", "allow-ovs eth0", "auto eth1",
	"#auto eth0", "# iface eth0 inet dhcp", "",
	"iface lo inet loopback",
	"iface eth0 inet dhcp", "iface eth0 inet dhcp\n    hwaddress 00:15:5d:00:00:01", "iface\teth0\tinet\tdhcp",
	"iface eth0 \\\n  inet dhcp", "iface eth0 inet static\n    address 10.0.0.4/24\n    gateway 10.0.0.1",
	"iface eth0 inet manual", "iface eth0 inet6 dhcp", "iface eth0 inet6 auto", "iface eth1 inet dhcp",
	"iface eth0 inet DHCP", "iface eth0 inet bogus", "iface eth0 ine dhcp", "iface eth0 inet",
	"    hwaddress 00:15:5d:00:00:02", "iface eth0 inet dhcp extra", "\v", "\f iface\veth0 inet dhcp",
}

// ifupdownSources are the source lines of the main file (relative to /etc/network).
var ifupdownSources = []string{
	"source interfaces.d/*", "source-directory interfaces.d", "source sub/*.cfg", "source-directory sub",
	"source ./interfaces.d/eth0", "source nothing/*",
}

// ifupdownNames are the names of the sourced files: run-parts' rule excludes some from
// source-directory, a leading dot hides one from a glob.
var ifupdownNames = []string{"eth0", "50-cloud", "a.cfg", "b_c", ".hidden", "x~", "c.cfg"}

func genIfupdown(r *rand.Rand) map[string]string {
	lines := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(ifupdownPieces[r.IntN(len(ifupdownPieces))])
			b.WriteString("\n")
		}
		return b.String()
	}
	files := map[string]string{}
	var main strings.Builder
	for range 1 + r.IntN(4) {
		if r.IntN(3) == 0 {
			main.WriteString(ifupdownSources[r.IntN(len(ifupdownSources))] + "\n")
		} else {
			main.WriteString(lines(1))
		}
	}
	files["etc/network/interfaces"] = main.String()
	if r.IntN(8) == 0 {
		files["etc/network/interfaces.d/subdir/eth0"] = "iface eth0 inet dhcp\n" // a directory a glob matches
	}
	for range r.IntN(4) {
		dir := []string{"etc/network/interfaces.d/", "etc/network/sub/"}[r.IntN(2)]
		body := lines(1 + r.IntN(3))
		if r.IntN(5) == 0 {
			body = "source ../sub/*.cfg\n" + body // relative to the sourcing file's directory
		}
		files[dir+ifupdownNames[r.IntN(len(ifupdownNames))]] = body
	}
	return files
}

// ifupdownAnswer is what ifupdown itself says of a tree.
type ifupdownAnswer struct {
	refused      bool
	dhcp, atBoot bool
}

func askIfupdown(t *testing.T, bin, root string) ifupdownAnswer {
	t.Helper()
	file := filepath.Join(root, "etc/network/interfaces")
	run := func(name string, args ...string) (stdout, stderr string) {
		var o, e bytes.Buffer
		cmd := exec.Command(filepath.Join(bin, name), append([]string{"--interfaces=" + file}, args...)...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = &o, &e
		_ = cmd.Run() // the answer is in the output: --list fails on an auto interface without a stanza
		return o.String(), e.String()
	}
	var a ifupdownAnswer
	auto, errs := run("ifquery", "--list")
	if strings.Contains(errs, "couldn't read interfaces file") {
		return ifupdownAnswer{refused: true}
	}
	hot, _ := run("ifquery", "--list", "--allow=hotplug")
	a.atBoot = slices.Contains(strings.Fields(auto), Eth0) || slices.Contains(strings.Fields(hot), Eth0)
	out, verbose := run("ifup", "-n", "-v", "--no-scripts", "--state-dir="+t.TempDir(), Eth0)
	// inet dhcp's command with no DHCP client installed, which -v prints (to stderr) as it would run it
	a.dhcp = strings.Contains(out+verbose, "No DHCP client software found!")
	return a
}

// TestIfupdownOracle compares the ifupdown reading with ifupdown 0.8.41's own (ifquery --list for
// the auto and hotplug classes, ifup -n for eth0's inet method) on generated trees.
func TestIfupdownOracle(t *testing.T) {
	bin := os.Getenv("IFUPDOWN_SBIN")
	if bin == "" {
		bin = filepath.Join(testfixture.RepoRoot(), ".tools", "ifupdown", "sbin")
	}
	if _, err := os.Stat(filepath.Join(bin, "ifup")); err != nil {
		t.Skipf("no ifupdown to compare with (scripts/get-tools.sh ifupdown, or set IFUPDOWN_SBIN): %v", err)
	}
	r := rand.New(rand.NewPCG(26, 1))
	n := oracleCases(t, 200)
	var refused, dhcp int
	for i := range n {
		files := genIfupdown(r)
		root := t.TempDir()
		writeTree(t, root, files)
		want := askIfupdown(t, bin, root)
		f := Read(systemd.FromDir(root))
		got := ifupdownAnswer{refused: len(f.ByNeed[NeedIfupdown]) > 0}
		if !got.refused {
			got.dhcp = len(f.Ifupdown) > 0
			for _, p := range f.Ifupdown {
				got.atBoot = got.atBoot || p.AtBoot
			}
			if !got.dhcp {
				got.atBoot = want.atBoot // compared only for a DHCP plan, the only one the fact records
			}
		}
		if want.refused {
			refused++
		} else if want.dhcp {
			dhcp++
		}
		if got != want {
			t.Errorf("case %d: ifupdown says %+v, the fact %+v (problems %v)\n%s", i, want, got, f.ByNeed[NeedIfupdown], dumpTree(files))
		}
	}
	t.Logf("%d generated trees: %d refused by ifup, %d bring eth0 up by DHCP", n, refused, dhcp)
	if refused == 0 || dhcp == 0 {
		t.Errorf("the generator made %d refused and %d DHCP trees: it no longer covers both", refused, dhcp)
	}
}

func dumpTree(files map[string]string) string {
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, p := range names {
		fmt.Fprintf(&b, "--- /%s\n%s", p, files[p])
	}
	return b.String()
}
