package resolvconf

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The differential: generated resolv.conf files read by Parse and by the machine's own glibc
// (res_ninit, through testdata/res_ninit_dump.c compiled here and run chrooted into a directory
// holding the file), compared on what the resolver keeps: the name servers it queries (127.0.0.1
// when the file gives none) and the search list of _res (at most MAXDNSRCH, 6: the generated
// lists stay within it and its 256 bytes).

// oracleCases is the number of generated files compared: def, or RESOLVCONF_ORACLE_CASES.
func oracleCases(t *testing.T, def int) int {
	if v := os.Getenv("RESOLVCONF_ORACLE_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("RESOLVCONF_ORACLE_CASES=%q", v)
		}
		return n
	}
	return def
}

// glibcDump compiles the helper; it skips the test where it cannot run (not root: chroot).
func glibcDump(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the glibc differential chroots: run as root")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the glibc helper (apt-get install gcc libc6-dev): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "res_ninit_dump")
	if out, err := exec.Command(gcc, "-static", "-O1", "-o", bin, "testdata/res_ninit_dump.c").CombinedOutput(); err != nil {
		t.Fatalf("building the glibc helper: %v\n%s", err, out)
	}
	return bin
}

type glibcView struct {
	servers []netip.Addr
	search  []string
}

func runGlibc(t *testing.T, bin, root string, data []byte) glibcView {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, "etc", "resolv.conf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, root).Output()
	if err != nil {
		t.Fatalf("res_ninit_dump on %q: %v", data, err)
	}
	var v glibcView
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		switch k, val, _ := strings.Cut(l, " "); k {
		case "ns":
			a, err := netip.ParseAddr(val)
			if err != nil {
				t.Fatalf("glibc printed %q", l)
			}
			v.servers = append(v.servers, a)
		case "search":
			v.search = append(v.search, val)
		case "":
		default:
			t.Fatalf("glibc printed %q", l)
		}
	}
	return v
}

// ours is what Parse says the resolver keeps, in glibcView's terms.
func ours(c *Conf) glibcView {
	var v glibcView
	for _, s := range c.Queried() {
		v.servers = append(v.servers, s.Addr)
	}
	if len(v.servers) == 0 {
		v.servers = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	}
	v.search = c.Search[:min(len(c.Search), 6)]
	return v
}

// linePieces are what generated lines start with: the keywords, near misses, comments.
var linePieces = []string{
	"nameserver ", "nameserver\t", "nameserver  \t ", "nameserver", "Nameserver ", " nameserver ", "#nameserver ", ";nameserver ",
	"nameservers ", "search ", "search\t", "search", "domain ", "domain\t", "domain", "options ", "sortlist ", "\tsearch ",
	"nameserver\v", "nameserver\r", "",
}

// addrPieces are name server values: IPv4 in inet_aton's forms and out of them, IPv6 with and
// without zones, junk and trailing text.
var addrPieces = []string{
	"192.0.2.1", "192.0.2.53", "10.1", "10.1.2", "167772161", "0x7f.1", "0X0A.0.0.1", "010.0.0.1", "08.0.0.1", "1.2.3.256",
	"256.1.2.3", "4294967295", "4294967296", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "0x", "0x1g", "1.2.3.0x10", "1.0xffffff",
	"1.2.0xffff", "1.2.0x10000", "2001:db8::1", "fe80::1%eth0", "fe80::1%2", "::ffff:192.0.2.1", "::1.2.3.4", "::1.2.3.04",
	"2001:db8::1::2", "1:2:3:4:5:6:7:8", "1::2:3:4:5:6:7:8", "::", "2001:db8:0:0:0:0:0:1%", "gggg::1", "example.com", "",
	"192.0.2.1 # comment", "192.0.2.2\r", "192.0.2.3\t5", "+1.2.3.4", "1.2.3.-4", "１.2.3.4",
}

var namePieces = []string{"example.com", "a", "b.internal", "corp.example", "x\ry", "*", "lan", "svc.cluster.local"}

func genLine(r *rand.Rand) string {
	p := linePieces[r.IntN(len(linePieces))]
	switch strings.TrimRight(strings.TrimLeft(p, " \t#;"), " \t\v\r") {
	case "nameserver", "Nameserver", "nameservers":
		return p + addrPieces[r.IntN(len(addrPieces))]
	case "search", "domain":
		var names []string
		for range r.IntN(5) {
			names = append(names, namePieces[r.IntN(len(namePieces))])
		}
		sep := []string{" ", "\t", "  ", " \t"}[r.IntN(4)]
		return p + strings.Join(names, sep) + []string{"", " ", "\t", "\r"}[r.IntN(4)]
	case "options":
		return p + []string{"ndots:2", "rotate", "edns0 timeout:1"}[r.IntN(3)]
	case "sortlist":
		return p + "130.155.160.0/255.255.240.0 130.155.0.0"
	}
	return p + namePieces[r.IntN(len(namePieces))]
}

func genFile(r *rand.Rand) []byte {
	var b strings.Builder
	for range 1 + r.IntN(8) {
		b.WriteString(genLine(r))
		switch r.IntN(20) {
		case 0:
			b.WriteString("\x00nameserver 192.0.2.99")
		}
		b.WriteString("\n")
	}
	s := b.String()
	if r.IntN(4) == 0 {
		s = strings.TrimSuffix(s, "\n") // the last line without its newline
	}
	return []byte(s)
}

func TestParseAgainstGlibc(t *testing.T) {
	bin := glibcDump(t)
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(26, 1))
	fixed := [][]byte{
		[]byte("nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n"),
		[]byte("domain a.example b\nsearch c d\n"),
		[]byte("search c d\ndomain a.example b\n"),
		[]byte("search c d\nsearch   \n"),
		[]byte("nameserver 192.0.2.1\r\nnameserver 192.0.2.2 \r\n"),
		[]byte("nameserver\x00 192.0.2.1\nnameserver 192.0.2.2\x00junk\n"),
		[]byte(""),
	}
	n := oracleCases(t, 400)
	for i := range n + len(fixed) {
		var data []byte
		if i < len(fixed) {
			data = fixed[i]
		} else {
			data = genFile(r)
		}
		c, err := Parse("resolv.conf", data)
		if err != nil {
			t.Fatalf("case %d %q: %v", i, data, err)
		}
		got, want := ours(c), runGlibc(t, bin, root, data)
		if !slices.Equal(got.servers, want.servers) || !slices.Equal(got.search, want.search) {
			t.Errorf("case %d %q:\nours  servers %v search %q\nglibc servers %v search %q", i, data, got.servers, got.search, want.servers, want.search)
		}
	}
}
