package firewall

import (
	"fmt"
	"strings"
	"testing"
)

// The readers' bounds, each at its edge: the largest input taken reads, one more is an error
// naming the file (and line).
func TestRulesBounds(t *testing.T) {
	pad := func(n int) string { return "#" + strings.Repeat("x", n-1) }
	full := strings.Repeat(pad(1023)+"\n", maxRulesFile/1024) // maxRulesFile bytes in lines of 1 KiB
	for _, c := range []struct {
		name  string
		files map[string]string
		read  func(t *testing.T, files map[string]string) (Ruleset, error)
		err   string // "" reads
	}{
		{"a file of the largest size", map[string]string{"/r": full}, nft, ""},
		{"a byte larger", map[string]string{"/r": full + "\n"}, nft, "/r: larger than 1048576 bytes"},
		{"an iptables file of the largest size", map[string]string{"/r": full}, ipt, ""},
		{"an iptables file a byte larger", map[string]string{"/r": full + "\n"}, ipt, "/r: larger than 1048576 bytes"},
		{"a line of the largest length", map[string]string{"/r": pad(maxRulesLine) + "\n"}, nft, ""},
		{"a byte longer", map[string]string{"/r": "\n" + pad(maxRulesLine+1) + "\n"}, nft, "/r:2: line longer than 65536 bytes"},
		{"an iptables line of the largest length", map[string]string{"/r": pad(maxRulesLine) + "\n"}, ipt, ""},
		{"an iptables line a byte longer", map[string]string{"/r": "*filter\n" + pad(maxRulesLine+1) + "\n"}, ipt, "/r:2: line longer"},
		{"includes 16 deep", chain(maxRulesDepth), nft, ""},
		{"17 deep", chain(maxRulesDepth + 1), nft, "/i17: included more than 16 deep"},
		{"256 files", many(maxRulesFiles - 1), nft, ""},
		{"257 files", many(maxRulesFiles), nft, "more than 256 files included"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.read(t, c.files)
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Errorf("error %v, want %q", err, c.err)
			}
		})
	}
}

func nft(t *testing.T, files map[string]string) (Ruleset, error) {
	return ReadNftables(tree(t, files), "/r")
}

func ipt(t *testing.T, files map[string]string) (Ruleset, error) {
	return ReadIptablesSave(tree(t, files), "/r")
}

// chain is /r including /i1, which includes /i2, ... down to /iN.
func chain(n int) map[string]string {
	files := map[string]string{"/r": "include \"/i1\"\n"}
	for i := 1; i <= n; i++ {
		files[fmt.Sprintf("/i%d", i)] = fmt.Sprintf("include \"/i%d\"\n", i+1)
	}
	files[fmt.Sprintf("/i%d", n)] = "flush ruleset\n"
	return files
}

// many is /r including n files by a glob.
func many(n int) map[string]string {
	files := map[string]string{"/r": "include \"/d/*.nft\"\n"}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("/d/%03d.nft", i)] = "\n"
	}
	return files
}

// What filters and what does not, as nft and iptables-restore load it.
func TestRulesets(t *testing.T) {
	for _, c := range []struct {
		name    string
		read    func(t *testing.T, files map[string]string) (Ruleset, error)
		body    string
		filters bool
		where   string // Path:Line of the deciding thing, or the file
	}{
		{"a verdict map that drops", nft, "table inet f {\n chain i {\n  type filter hook input priority 0;\n  tcp dport vmap {\n   22 : accept,\n   23 : drop\n  }\n }\n}\n", true, "/r:4"},
		{"a jump to a chain that only accepts", nft, "table inet f {\n chain i { type filter hook input priority 0; jump j; }\n chain j { accept; }\n}\n", false, "/r:0"},
		{"a reject in a regular chain", nft, "table inet f {\n chain i { type filter hook input priority 0; jump j; }\n chain j { reject with icmpx type admin-prohibited; }\n}\n", true, "/r:3"},
		{"a rule that queues to user space", nft, "table inet f {\n chain i { type filter hook input priority 0; }\n}\nadd rule inet f i queue num 1\n", true, "/r:4"},
		{"add rule at the top, family omitted", nft, "add table filter\nadd chain filter input { type filter hook input priority 0; }\nadd rule filter input ip saddr 10.0.0.0/8 drop\n", true, "/r:3"},
		{"delete table removes what it held", nft, "table ip t { chain c { type filter hook input priority 0; policy drop; } }\ndelete table ip t\n", false, "/r:0"},
		{"flush chain keeps its policy", nft, "table ip t { chain c { type filter hook input priority 0; policy drop; drop; } }\nflush chain ip t c\n", true, "/r:1"},
		{"a set's elements are not rules", nft, "table inet f {\n set drop_list { type ipv4_addr; elements = { 10.0.0.1 } }\n chain i { type filter hook input priority 0; ip saddr @drop_list accept; }\n}\n", false, "/r:0"},
		{"a continued line", nft, "table inet f {\n chain i {\n  tcp dport 23 \\\n  drop\n }\n}\n", true, "/r:3"},
		{"a comment that is a verdict word", nft, "table inet f { chain i { type filter hook input priority 0; tcp dport 22 accept comment \"drop\"; } }\n", false, "/r:0"},
		{"a } without a {", nft, "flush ruleset\n}\n", false, "error"},
		{"an undefined policy variable", nft, "table inet f { chain i { type filter hook input priority 0; policy $p; } }\n", false, "error"},
		{"iptables: a comment naming a target", ipt, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"-j DROP\" -j ACCEPT\nCOMMIT\n", false, "/r:0"},
		{"iptables: a goto REJECT in the raw table", ipt, "*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-I INPUT 1 -g REJECT\nCOMMIT\n", true, "/r:6"},
		{"iptables: a user chain's '-' policy", ipt, "*filter\n:INPUT ACCEPT [0:0]\n:mine - [0:0]\n-A INPUT -j mine\n-A mine -j LOG\nCOMMIT\n", false, "/r:0"},
		{"iptables: a table opened before the last is committed", ipt, "*filter\n:INPUT DROP [0:0]\n*nat\nCOMMIT\n", false, "error"},
		{"iptables: an unterminated quote", ipt, "*filter\n-A INPUT -m comment --comment \"x -j DROP\nCOMMIT\n", false, "error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.read(t, map[string]string{"/r": c.body})
			if c.where == "error" {
				if err == nil || !strings.Contains(err.Error(), "/r:") {
					t.Errorf("error %v, ruleset %+v; want an error naming /r and the line", err, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Filters != c.filters || fmt.Sprintf("%s:%d", r.Path, r.Line) != c.where || r.Missing {
				t.Errorf("ruleset %+v, want filters %v at %s", r, c.filters, c.where)
			}
		})
	}
}
