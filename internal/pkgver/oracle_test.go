package pkgver

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// randomVersion builds a version from the pieces the orders treat specially: runs of digits
// (with leading zeros), letters, "~", "^", ".", "+", "_", "-", an epoch.
func randomVersion(r *rand.Rand, pieces []string, epoch bool) string {
	var b strings.Builder
	if epoch && r.Intn(4) == 0 {
		fmt.Fprintf(&b, "%d:", r.Intn(3))
	}
	b.WriteString(strconv.Itoa(r.Intn(12)))
	for n := r.Intn(6); n > 0; n-- {
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	return b.String()
}

// pairs makes n version pairs, half of them near each other (one mutated from the other), so
// that equal prefixes and single-token differences are common.
func pairs(seed int64, n int, gen func(*rand.Rand) string, mutate func(*rand.Rand, string) string) [][2]string {
	r := rand.New(rand.NewSource(seed))
	out := make([][2]string, 0, n)
	for len(out) < n {
		a := gen(r)
		b := gen(r)
		if r.Intn(2) == 0 {
			b = mutate(r, a)
		}
		out = append(out, [2]string{a, b})
	}
	return out
}

func mutateWith(pieces []string) func(*rand.Rand, string) string {
	return func(r *rand.Rand, s string) string {
		switch r.Intn(4) {
		case 0:
			return s + pieces[r.Intn(len(pieces))]
		case 1:
			if len(s) > 1 {
				return s[:len(s)-1]
			}
		case 2:
			i := r.Intn(len(s))
			p := pieces[r.Intn(len(pieces))]
			return s[:i] + p + s[i:]
		}
		if i := strings.IndexAny(s, "0123456789"); i >= 0 {
			return s[:i] + "0" + s[i:]
		}
		return s
	}
}

var debPieces = []string{"0", "00", "1", "2", "9", "10", "01", "a", "b", "z", "A", "Z", "~", "~~", "~rc1", "+", "+b1", ".", ".0", "-", "-1", "-0", "+deb12u1", "~bpo12+1", "ubuntu1", ".1"}

// randomDebian is a version dpkg accepts.
func randomDebian(r *rand.Rand) string {
	for {
		v := randomVersion(r, debPieces, true)
		if validDebian(v) == nil {
			return v
		}
	}
}

func mutateDebian(r *rand.Rand, s string) string {
	m := mutateWith(debPieces)
	for k := 0; k < 20; k++ {
		if v := m(r, s); validDebian(v) == nil {
			return v
		}
	}
	return s
}

// TestDebianAgreesWithApt compares Debian with apt's own version comparison (python3-apt's
// apt_pkg.version_compare, the same code as dpkg's) on generated versions, and a sample with
// dpkg --compare-versions itself.
func TestDebianAgreesWithApt(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import apt_pkg").Run() != nil {
		t.Skip("python3-apt is not installed (scripts/deps.sh test installs it)")
	}
	ps := pairs(27, 4000, randomDebian, mutateDebian)
	var in bytes.Buffer
	for _, p := range ps {
		fmt.Fprintf(&in, "%s %s\n", p[0], p[1])
	}
	cmd := exec.Command(py, "-c", `import sys, apt_pkg
apt_pkg.init()
for line in sys.stdin:
    a, b = line.split()
    c = apt_pkg.version_compare(a, b)
    print((c > 0) - (c < 0))`)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("apt_pkg: %v", err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(ps) {
		t.Fatalf("apt_pkg answered %d of %d", len(want), len(ps))
	}
	bad := 0
	for i, p := range ps {
		if got := strconv.Itoa(Debian(p[0], p[1])); got != want[i] {
			bad++
			if bad <= 10 {
				t.Errorf("Debian(%q, %q) = %s, apt says %s", p[0], p[1], got, want[i])
			}
		}
	}
	// dpkg itself on a sample (one process per comparison)
	if _, err := exec.LookPath("dpkg"); err == nil {
		for _, p := range ps[:60] {
			op := map[int]string{-1: "lt", 0: "eq", 1: "gt"}[Debian(p[0], p[1])]
			if err := exec.Command("dpkg", "--compare-versions", p[0], op, p[1]).Run(); err != nil {
				t.Errorf("dpkg --compare-versions %s %s %s is false", p[0], op, p[1])
			}
		}
	}
}

var rpmPieces = []string{"0", "00", "1", "2", "9", "10", "01", "a", "b", "z", "A", "Z", "~", "~~", "^", "^1", "~rc1", ".", "..", "_", "+", "-", "-1", ".el9", ".el9_3", "git", "p1", "%"}

func randomRPM(r *rand.Rand) string { return randomVersion(r, rpmPieces, true) }

// TestRPMAgreesWithRpm compares RPM with rpm's own comparison (rpm 4.18's Lua rpm.vercmp,
// which parses epoch, version and release as rpmverCmp does) on generated versions.
func TestRPMAgreesWithRpm(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm is not installed (scripts/deps.sh test installs it)")
	}
	ps := pairs(28, 4000, randomRPM, mutateWith(rpmPieces))
	dir := t.TempDir()
	var lua bytes.Buffer
	lua.WriteString("local p = {\n")
	for _, p := range ps {
		fmt.Fprintf(&lua, "%q, %q,\n", p[0], p[1])
	}
	// rpm's print collects into the macro's expansion without newlines: a space separates
	lua.WriteString("}\nfor i = 1, #p, 2 do local c = rpm.vercmp(p[i], p[i+1]); if c > 0 then print('1 ') elseif c < 0 then print('-1 ') else print('0 ') end end\n")
	script := filepath.Join(dir, "cmp.lua")
	if err := os.WriteFile(script, lua.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpm", "--eval", "%{lua: dofile('"+script+"')}").Output()
	if err != nil {
		t.Fatalf("rpm: %v", err)
	}
	want := strings.Fields(string(out))
	if len(want) != len(ps) {
		t.Fatalf("rpm answered %d of %d", len(want), len(ps))
	}
	bad := 0
	for i, p := range ps {
		if got := strconv.Itoa(RPM(p[0], p[1])); got != want[i] {
			bad++
			if bad <= 10 {
				t.Errorf("RPM(%q, %q) = %s, rpm says %s", p[0], p[1], got, want[i])
			}
		}
	}
}

// TestAlpineAgreesWithApkTestSuite runs apk-tools' own version test cases
// (testdata/apk-version.data: test/version.data of alpinelinux/apk-tools at commit
// 4cd9fda13d16414287a31a944451f793a462880f, tag v2.14.6; Debian ships no apk to run).
func TestAlpineAgreesWithApkTestSuite(t *testing.T) {
	f, err := os.Open("testdata/apk-version.data")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) != 3 {
			continue
		}
		want := map[string]int{"<": -1, "=": 0, ">": 1}[fs[1]]
		if got := Alpine(fs[0], fs[2]); got != want {
			t.Errorf("Alpine(%q, %q) = %d, apk's test suite says %s", fs[0], fs[2], got, fs[1])
		}
		if got := Alpine(fs[2], fs[0]); got != -want {
			t.Errorf("Alpine(%q, %q) = %d, want %d", fs[2], fs[0], got, -want)
		}
		n++
	}
	if n < 500 {
		t.Fatalf("only %d cases read", n)
	}
}
