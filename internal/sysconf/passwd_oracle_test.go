package sysconf

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// passwdOracle is run by python3 (the system's glibc through its pwd module): for every root
// given, a forked child chroots into it and lists getpwent(3)'s accounts as JSON, one line per
// root. The root's nsswitch.conf says "passwd: files", so glibc's own files module reads the
// generated /etc/passwd.
const passwdOracle = `
import json, os, pwd, sys
for root in sys.argv[1:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.chroot(root)
        os.chdir("/")
        out = [[p.pw_name, p.pw_passwd, p.pw_uid, p.pw_gid, p.pw_gecos, p.pw_dir, p.pw_shell] for p in pwd.getpwall()]
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        data += b
    os.waitpid(pid, 0)
    sys.stdout.write(data.decode() + "\n")
`

// passwdOracleFiles and passwdOracleLines size the generated corpus: files × lines cases.
const (
	passwdOracleFiles = 120
	passwdOracleLines = 25
)

// genPasswdLine writes one passwd line mutated the ways glibc's files parser is lenient or
// strict about: blanks and signs before numbers, leading zeros, numbers past 2^32, missing and
// extra fields, leading blanks, comments, CR, NUL, empty names and fields.
func genPasswdLine(r *rand.Rand, i int) string {
	num := func() string {
		nums := []string{"0", "1", "998", "1000", "65534", "4294967295", "4294967296", "-1", "-0", "+0",
			"-18446744073709551615", "18446744073709551616", "99999999999999999999999", "00", "007", "0x10", "", "x", "1e3"}
		n := nums[r.IntN(len(nums))]
		switch r.IntN(6) {
		case 0:
			n = " " + n
		case 1:
			n = "\t" + n
		case 2:
			n = n + " "
		case 3:
			n = "\v\f" + n
		}
		return n
	}
	name := fmt.Sprintf("u%d", i)
	if r.IntN(25) == 0 {
		name = ""
	}
	passwds := []string{"x", "", "*", "!", "$6$s$h", "abcdefghijklm"}
	fields := []string{name, passwds[r.IntN(len(passwds))], num(), num(), "G,,,", "/home/" + name, "/bin/bash"}
	if r.IntN(3) == 0 { // the common case stays common
		fields[2], fields[3] = fmt.Sprint(r.IntN(70000)), fmt.Sprint(r.IntN(70000))
	}
	switch r.IntN(8) {
	case 0:
		fields = fields[:2+r.IntN(5)] // 2..6 fields: missing trailing fields
	case 1:
		fields = append(fields, "extra", "more") // colons in the shell
	case 2:
		fields[6] = ""
	case 3:
		fields[5] = ""
	}
	l := strings.Join(fields, ":")
	switch r.IntN(14) {
	case 0:
		l = "  " + l
	case 1:
		l = "\t" + l
	case 2:
		l = "#" + l
	case 3:
		l = " #" + l
	case 4:
		l += "\r"
	case 5:
		l += "\x00junk:x:0:0"
	case 6:
		l = "\x00" + l
	case 7:
		l = ""
	case 8:
		l = "\r"
	}
	return l
}

// TestPasswdMatchesGlibc compares ParsePasswd with the real glibc on generated /etc/passwd
// files: every account glibc returns, in order, with name, password field, UID, GID, home and
// shell, must be ours, and no other.
func TestPasswdMatchesGlibc(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	r := rand.New(rand.NewPCG(26, 1))
	tmp := t.TempDir()
	var roots []string
	var files [][]byte
	for f := 0; f < passwdOracleFiles; f++ {
		var b strings.Builder
		b.WriteString("root:x:0:0:root:/root:/bin/bash\n")
		for i := 0; i < passwdOracleLines; i++ {
			b.WriteString(genPasswdLine(r, f*100+i))
			b.WriteByte('\n')
		}
		data := []byte(b.String())
		if r.IntN(4) == 0 {
			data = data[:len(data)-1] // no final newline
		}
		root := filepath.Join(tmp, fmt.Sprint(f))
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/passwd"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/nsswitch.conf"), []byte("passwd: files\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
		files = append(files, data)
	}
	out, err := exec.Command(py, append([]string{"-c", passwdOracle}, roots...)...).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	res := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(res) != len(roots) {
		t.Fatalf("%d answers for %d roots", len(res), len(roots))
	}
	cases := 0
	for f, line := range res {
		var glibc [][]any
		if err := json.Unmarshal([]byte(line), &glibc); err != nil {
			t.Fatalf("root %d: %v", f, err)
		}
		ours, err := ParsePasswd(files[f])
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ours {
			got = append(got, fmt.Sprintf("%q %q %d %d %q %q %q", e.Name, e.Password, e.UID, e.GID, e.Gecos, e.Home, e.Shell))
		}
		var want []string
		for _, g := range glibc {
			// Python's pwd shows (uid_t)-1 as -1
			id := func(v any) int { return int(uint32(int64(v.(float64)))) }
			want = append(want, fmt.Sprintf("%q %q %d %d %q %q %q", g[0], g[1], id(g[2]), id(g[3]), g[4], g[5], g[6]))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("root %d (%q):\nours:\n%s\nglibc:\n%s", f, files[f], strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		cases += passwdOracleLines + 1
	}
	t.Logf("%d generated passwd lines in %d files agree with glibc", cases, len(files))
}
