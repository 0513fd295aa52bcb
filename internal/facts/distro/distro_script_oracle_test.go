package distro

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// The differential of the whole branch order: DigitalOcean's own getDistro (the function of
// scripts/99-img-check.sh at the pinned commit, taken from DO_SRC, a checkout of
// digitalocean/marketplace-partners, as scripts/do-img-check.sh takes it; never copied into the
// repository) run by bash chrooted into generated trees, with this machine's lsb-release-minimal
// in the trees that have an lsb_release, against Read on the same trees.

const (
	scriptCommit = "65b85d4c7af1ad3341313e859c0ee439a4b1c195"
	scriptBlob   = "907dbaaeb146b6f60415f9bcabd3803ca123e3d8" // git's object ID of scripts/99-img-check.sh at scriptCommit
)

// getDistroFunction reads the pinned script from DO_SRC and returns its getDistro function.
func getDistroFunction(t *testing.T) string {
	t.Helper()
	src := os.Getenv("DO_SRC")
	if src == "" {
		t.Skip("DO_SRC is not set: a checkout of github.com/digitalocean/marketplace-partners holding commit 65b85d4")
	}
	script, err := exec.Command("git", "-C", src, "show", scriptCommit+":scripts/99-img-check.sh").Output()
	if err != nil {
		t.Fatalf("DO_SRC=%s: git show %s:scripts/99-img-check.sh: %v", src, scriptCommit, err)
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(script))
	h.Write(script)
	if got := hex.EncodeToString(h.Sum(nil)); got != scriptBlob {
		t.Fatalf("scripts/99-img-check.sh is %s, not the pinned %s", got, scriptBlob)
	}
	start := bytes.Index(script, []byte("function getDistro {"))
	end := bytes.Index(script[max(start, 0):], []byte("\n}\n"))
	if start < 0 || end < 0 {
		t.Fatal("no getDistro function in the pinned script")
	}
	return string(script[start : start+end+3])
}

// chrootBase makes a directory holding bash and the programs getDistro and lsb_release run,
// with their libraries, at the host's paths (merged /usr: /bin, /lib, /lib64 are links).
func chrootBase(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the script differential chroots: run as root")
	}
	root := t.TempDir()
	for _, l := range [][2]string{{"bin", "usr/bin"}, {"sbin", "usr/sbin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}} {
		if err := os.MkdirAll(filepath.Join(root, l[1]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l[1], filepath.Join(root, l[0])); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(p string) {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(real)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, strings.TrimPrefix(p, "/"))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, prog := range []string{"bash", "cut", "cat", "uname", "getopt", "tr", "dash"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			t.Skipf("no %s for the chroot: %v", prog, err)
		}
		copyFile("/usr/bin/" + prog)
		out, err := exec.Command("ldd", p).Output()
		if err != nil {
			t.Fatalf("ldd %s: %v", p, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			for _, f := range strings.Fields(l) {
				if strings.HasPrefix(f, "/") {
					copyFile(f)
				}
			}
		}
	}
	if err := os.Symlink("dash", filepath.Join(root, "usr/bin/sh")); err != nil {
		t.Fatal(err)
	}
	// the script redirects to /dev/null: a regular file takes the output as well as the device
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "dev", "null"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	return root
}

// variable are the files a generated tree sets; every other file of the chroot is its programs.
var variable = []string{"etc/os-release", "usr/lib/os-release", "usr/bin/lsb_release", "usr/local/bin/lsb_release", "etc/lsb-release",
	"etc/debian_version", "etc/SuSe-release", "etc/redhat-release"}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// genTree writes one generated tree's files (path → body; "-> T" a link, "<dir>" a directory,
// "" absent) into root, clearing the previous tree's.
func genTree(t *testing.T, r *rand.Rand, root string, lsb []byte) map[string]string {
	t.Helper()
	osr := func(keys ...string) string {
		var b strings.Builder
		vals := map[string][]string{
			"NAME":       {"Debian GNU/Linux", "Ubuntu", "Rocky Linux", "CentOS Stream", "Fedora Linux"},
			"ID":         {"debian", "ubuntu", "rocky", "centos", "fedora", "Ubuntu"},
			"VERSION_ID": {"12", "24.04", "9.5", "9", ""},
		}
		for _, k := range keys {
			if r.IntN(6) > 0 {
				fmt.Fprintf(&b, "%s=\"%s\"\n", k, pick(r, vals[k]...))
			}
		}
		return b.String()
	}
	files := map[string]string{
		"etc/os-release":     pick(r, "", "", "", "", osr("NAME", "VERSION_ID"), "-> ../usr/lib/os-release", "-> ../usr/lib/gone", "<dir>"),
		"usr/lib/os-release": pick(r, "", osr("ID", "NAME", "VERSION_ID")),
		"etc/lsb-release":    pick(r, "", "", "", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n", "DISTRIB_ID=\"LinuxMint\"\n"),
		"etc/debian_version": pick(r, "", "", "", "12.5\n", "bookworm/sid\n", "13\n\n"),
		"etc/SuSe-release":   pick(r, "", "", "", "SUSE Linux Enterprise Server 11 (x86_64)\n"),
		"etc/redhat-release": pick(r, "", "CentOS release 6.10 (Final)\n", "CentOS Linux release 7.9.2009 (Core)\n",
			"Red Hat Enterprise Linux release 8.9 (Ootpa)\n", "CentOS.x release 5.1\n", "CentOS  release 7\n", "CentOS release 6.10 (Final)\nsecond line\n", "CentOS"),
		"usr/bin/lsb_release":       pick(r, "", "", "", "", "", "<lsb>", "<lsb-noexec>"),
		"usr/local/bin/lsb_release": pick(r, "", "", "", "", "<lsb>"),
	}
	for _, p := range variable {
		full := filepath.Join(root, p)
		if err := os.RemoveAll(full); err != nil {
			t.Fatal(err)
		}
		body := files[p]
		if body == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch target, link := strings.CutPrefix(body, "-> "); {
		case link:
			err = os.Symlink(target, full)
		case body == "<dir>":
			err = os.Mkdir(full, 0o755)
		case body == "<lsb>":
			err = os.WriteFile(full, lsb, 0o755)
		case body == "<lsb-noexec>":
			err = os.WriteFile(full, lsb, 0o644)
		default:
			err = os.WriteFile(full, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestReadAgainstGetDistro(t *testing.T) {
	fn := getDistroFunction(t)
	bin, err := exec.LookPath("lsb_release")
	if err != nil {
		t.Skipf("no lsb_release (apt-get install lsb-release): %v", err)
	}
	lsb, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(lsb, minimalMarks[0]) {
		t.Skipf("%s is not lsb-release-minimal", bin)
	}
	root := chrootBase(t)
	r := rand.New(rand.NewPCG(26, 3))
	prog := fn + "\ngetDistro\nprintf '%s\\n%s\\n' \"$OS\" \"$VER\"\n"
	for i := range 400 {
		files := genTree(t, r, root, lsb)
		cmd := exec.Command("chroot", root, "/bin/bash", "-c", prog)
		cmd.Env = []string{"PATH=" + strings.Join(ScriptPath, ":")}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("case %d %q: getDistro: %v", i, files, err)
		}
		os, ver, _ := strings.Cut(strings.TrimSuffix(string(out), "\n"), "\n")
		f := Read(systemd.FromDir(root))
		if err := f.Err(); err != nil {
			t.Fatalf("case %d %q: %v", i, files, err)
		}
		if f.From == Uname {
			if os != "Linux" {
				t.Errorf("case %d %q: ours uname (Linux), the script %q", i, files, os)
			}
			continue
		}
		if f.Name != os || f.Version != ver {
			t.Errorf("case %d %q:\nours   %q %q (from %s)\nscript %q %q", i, files, f.Name, f.Version, f.From, os, ver)
		}
	}
}
