package resolvconf

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// tree writes files under a directory; a value "-> T" is a symbolic link to T.
func tree(t *testing.T, files map[string]string) systemd.Source {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(body, "-> "); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if body == "<dir>" {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return systemd.FromDir(root)
}

// What the path is, the links followed as the kernel follows them: relative targets from the
// link's directory, absolute ones from the image's root, directory links on the way, a chain
// that ends in an empty /run, a loop.
func TestReadKinds(t *testing.T) {
	const ns = "nameserver 192.0.2.53\n"
	for _, c := range []struct {
		name     string
		files    map[string]string
		kind     Kind
		resolved string
		static   bool
		read     string
		servers  int
	}{
		{"absent", map[string]string{"etc/hostname": "h"}, Absent, "", false, "", 0},
		{"a file", map[string]string{"etc/resolv.conf": ns}, File, "", true, Path, 1},
		{"systemd-resolved's stub, /run empty", map[string]string{"etc/resolv.conf": "-> ../run/systemd/resolve/stub-resolv.conf", "run": "<dir>"}, Link, "/run/systemd/resolve/stub-resolv.conf", false, "", 0},
		{"absolute into /run, no /run at all", map[string]string{"etc/resolv.conf": "-> /run/resolvconf/resolv.conf", "etc/hostname": "h"}, Link, "/run/resolvconf/resolv.conf", false, "", 0},
		{"through /var/run -> /run", map[string]string{"etc/resolv.conf": "-> /var/run/resolvconf/resolv.conf", "var/run": "-> ../run", "run/resolvconf": "<dir>"}, Link, "/run/resolvconf/resolv.conf", false, "", 0},
		{"a static file by a relative link", map[string]string{"etc/resolv.conf": "-> resolv.conf.static", "etc/resolv.conf.static": ns}, Link, "/etc/resolv.conf.static", true, "/etc/resolv.conf.static", 1},
		{"a chain: static, then /run", map[string]string{"etc/resolv.conf": "-> alt/resolv.conf", "etc/alt/resolv.conf": "-> /run/x/resolv.conf"}, Link, "/run/x/resolv.conf", false, "", 0},
		{"a directory link that leaves /run", map[string]string{"etc/resolv.conf": "-> /run/nm/resolv.conf", "run/nm": "-> /etc/nm", "etc/nm/resolv.conf": ns}, Link, "/etc/nm/resolv.conf", true, "/etc/nm/resolv.conf", 1},
		{"a link to a missing static file", map[string]string{"etc/resolv.conf": "-> /etc/gone"}, Link, "/etc/gone", true, "", 0},
		{"a directory", map[string]string{"etc/resolv.conf/x": "x"}, Other, "", false, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Read(tree(t, c.files))
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			servers := 0
			if f.Conf != nil {
				servers = len(f.Conf.Servers)
			}
			if f.Kind != c.kind || f.Resolved != c.resolved || f.Static != c.static || f.Read != c.read || servers != c.servers || f.Loops {
				t.Errorf("kind %d resolved %q static %v read %q servers %d loops %v; want %d %q %v %q %d", f.Kind, f.Resolved, f.Static, f.Read, servers, f.Loops, c.kind, c.resolved, c.static, c.read, c.servers)
			}
		})
	}
	t.Run("a loop", func(t *testing.T) {
		f := Read(tree(t, map[string]string{"etc/resolv.conf": "-> a", "etc/a": "-> b", "etc/b": "-> a"}))
		if f.Err() != nil || f.Kind != Link || !f.Loops {
			t.Errorf("kind %d loops %v err %v", f.Kind, f.Loops, f.Err())
		}
	})
	// 40 links are followed (the kernel's bound), the 41st is a loop; chain(n) is n links
	chain := func(n int) map[string]string {
		files := map[string]string{"etc/resolv.conf": "-> l1"}
		for i := 1; i < n; i++ {
			files["etc/l"+strconv.Itoa(i)] = "-> l" + strconv.Itoa(i+1)
		}
		files["etc/l"+strconv.Itoa(n)] = ns
		return files
	}
	if f := Read(tree(t, chain(40))); f.Loops || f.Read != "/etc/l40" {
		t.Errorf("40 links: loops %v read %q", f.Loops, f.Read)
	}
	if f := Read(tree(t, chain(41))); !f.Loops {
		t.Errorf("41 links: loops %v read %q", f.Loops, f.Read)
	}
}

// glibc's reading, line by line, as the differential cannot show it (lines, offsets, what is
// kept past MAXNS, the bound).
func TestParse(t *testing.T) {
	c, err := Parse(Path, []byte("# build network\nnameserver 192.0.2.1\nnameserver bogus\nsearch a b\n"+
		"nameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 2001:db8::53%eth0 trailing\noptions ndots:2\ndomain c.example d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 4 || len(c.Queried()) != MaxNS || c.Servers[3].Addr.String() != "2001:db8::53" || c.Servers[3].Zone != "eth0" || c.Servers[3].Line != 7 {
		t.Errorf("servers %+v", c.Servers)
	}
	if len(c.Ignored) != 1 || c.Ignored[0].Line != 3 || c.Ignored[0].Offset != int64(len("# build network\nnameserver 192.0.2.1\n")) {
		t.Errorf("ignored %+v", c.Ignored)
	}
	if strings.Join(c.Search, ",") != "c.example" || c.SearchFrom == nil || c.SearchFrom.Line != 9 || c.SearchFrom.Keyword != Domain {
		t.Errorf("search %q from %+v", c.Search, c.SearchFrom)
	}
	if len(c.Directives) != 8 {
		t.Errorf("%d directives: %+v", len(c.Directives), c.Directives)
	}
	// a line of MaxLineBytes is read, one byte more is an error naming the file, line and offset
	at := "nameserver 192.0.2.9 " + strings.Repeat("x", MaxLineBytes-len("nameserver 192.0.2.9 ")-1) + "\n"
	if c, err := Parse(Path, []byte(at)); err != nil || len(c.Servers) != 1 {
		t.Errorf("a line of %d bytes: %v", len(at), err)
	}
	over := "# first\n" + strings.Repeat("x", MaxLineBytes) + "\n"
	_, err = Parse(Path, []byte(over))
	if !byteio.IsCorrupt(err) || !strings.Contains(err.Error(), Path) || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "8") {
		t.Errorf("over the bound: %v", err)
	}
}

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4": "1.2.3.4", "10.1": "10.0.0.1", "10.1.2": "10.1.0.2", "167772161": "10.0.0.1", "0x7f.1": "127.0.0.1",
		"010.0.0.1": "8.0.0.1", "1.0xffffff": "1.255.255.255", "4294967295": "255.255.255.255", "0": "0.0.0.0",
		"4294967296": "", "1.2.3.256": "", "1.16777216": "", "08": "", "0x": "", "1.2.3.4.5": "", "1.2.3.": "", "": "", "a": "",
		"1.2.3.4 ": "",
	} {
		a, ok := InetAton(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("InetAton(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("nameserver 192.0.2.1\nsearch a b\n"))
	f.Add([]byte("domain x\x00y\nnameserver fe80::1%eth0\r\n;c\n"))
	f.Add([]byte("nameserver 0x7f.1\noptions ndots:2\nsortlist 1.2.3.4/255.0.0.0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz", data)
		if c == nil {
			t.Fatal("nil Conf")
		}
		if err != nil && !byteio.IsCorrupt(err) {
			t.Fatalf("error of another kind: %v", err)
		}
		for _, s := range c.Servers {
			if !s.Addr.IsValid() || s.Line < 1 || s.Offset < 0 || s.Offset >= int64(len(data)) {
				t.Fatalf("server %+v", s)
			}
		}
		if len(c.Queried()) > MaxNS {
			t.Fatalf("%d queried", len(c.Queried()))
		}
	})
}
