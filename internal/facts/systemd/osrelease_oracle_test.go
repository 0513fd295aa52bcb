package systemd

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StrVersCmp orders versions as systemd 252's `systemd-analyze compare-versions` does, over
// generated pairs (fixed seed) and systemd's own examples.
func TestStrVersCmpAgreesWithSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	if err := exec.Command(analyze, "compare-versions", "1", "2").Run(); err == nil {
		t.Skip("systemd-analyze has no compare-versions")
	}
	rng := rand.New(rand.NewSource(252))
	pieces := []string{"0", "1", "2", "9", "10", "01", "123", "a", "b", "z", "A", "rc", "~", "-", "^", ".", "_", "+", ":"}
	gen := func() string {
		var b strings.Builder
		for range 1 + rng.Intn(5) {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		return b.String()
	}
	pairs := [][2]string{
		{"122.1", "123~rc1-1"}, {"123~rc1-1", "123"}, {"123", "123-a"}, {"123-a", "123-a.1"}, {"123-a.1", "123-1"},
		{"123-1", "123-1.1"}, {"123-1.1", "123^post1"}, {"123^post1", "123.a-1"}, {"123.a-1", "123.1-1"},
		{"123.1-1", "123a-1"}, {"123a-1", "124-1"}, {"00123", "123"}, {"123_a", "123a"}, {"1.2", "1.10"},
		{"", "1"}, {"1", ""}, {"", ""}, {"", "*"}, {"", "~"}, {"_", "a"}, {"a", "a"}, {"abc", "abcde"}, {"12", "1a"},
	}
	for range 1500 {
		pairs = append(pairs, [2]string{gen(), gen()})
	}
	// one shell reads the pairs: one systemd-analyze per pair, its output line kept
	var in strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\x1f%s\n", p[0], p[1])
	}
	cmd := exec.Command("sh", "-c", `IFS=$(printf '\037'); while read -r a b; do "$0" compare-versions -- "$a" "$b" 2>&1 | tail -n 1; done`, analyze)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(pairs) {
		t.Fatalf("%d answers for %d pairs", len(lines), len(pairs))
	}
	for i, p := range pairs {
		var want int
		switch {
		case strings.Contains(lines[i], " < "):
			want = -1
		case strings.Contains(lines[i], " > "):
			want = 1
		case strings.Contains(lines[i], " == "):
			want = 0
		default:
			t.Fatalf("%q %q: %s", p[0], p[1], lines[i])
		}
		got := StrVersCmp(p[0], p[1])
		if got > 0 {
			got = 1
		} else if got < 0 {
			got = -1
		}
		if got != want {
			t.Errorf("StrVersCmp(%q, %q) = %d, systemd-analyze: %s", p[0], p[1], got, lines[i])
		}
	}
	t.Logf("%d pairs compared", len(pairs))
}

// ConditionOSRelease= as systemd 252 tests it: generated os-release files (quoting, escapes,
// comments, continuation lines, empty and repeated keys) and generated parameters (operators,
// quoting, bad words), fixed seed, against `systemd-analyze condition` run with the generated
// file bound over the host's os-release in a private mount namespace (its --root= does not
// reach os-release in 252). Needs root and unshare; skipped otherwise.
func TestOSReleaseAgreesWithSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	target, err := filepath.EvalSymlinks("/etc/os-release")
	if err != nil {
		t.Skip("no host os-release to bind over")
	}
	probe := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(probe, []byte("ID=probe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "-m", "sh", "-c", `mount --bind "$0" "$1" && grep -q probe /etc/os-release`, probe, target).CombinedOutput(); err != nil {
		t.Skipf("cannot bind a file over %s in a mount namespace: %v %s", target, err, out)
	}
	rng := rand.New(rand.NewSource(252))
	keys := []string{"ID", "VERSION_ID", "NAME", "E", "X_1"}
	values := []string{"debian", "12", "11", "12.1", "12~rc1", "1.10", "a b", "deb*", "Debian GNU/Linux", ""}
	quote := func(v string) string {
		switch rng.Intn(9) {
		case 0:
			return "\"" + strings.ReplaceAll(v, " ", "\\ ") + "\""
		case 1:
			return "'" + v + "'"
		case 2:
			return "\"" + v + "\""
		case 3:
			return strings.ReplaceAll(v, " ", "\\ ")
		case 4:
			return v + "  "
		case 5:
			return "\"" + v + "\"x"
		case 6:
			return "\"\\$" + v + "\\q\""
		case 7:
			return v + "\\\ncont"
		}
		return v
	}
	genFile := func() string {
		var b strings.Builder
		for range 2 + rng.Intn(7) {
			switch rng.Intn(12) {
			case 0:
				b.WriteString("# comment " + keys[rng.Intn(len(keys))] + "=zzz\n")
			case 1:
				b.WriteString("#c\\\n" + keys[rng.Intn(len(keys))] + "=fromcomment\n")
			case 2:
				b.WriteString("; other comment\n")
			case 3:
				b.WriteString("no equals here\n")
			case 4:
				b.WriteString("  " + keys[rng.Intn(len(keys))] + " = " + quote(values[rng.Intn(len(values))]) + "\n")
			case 5:
				b.WriteString(keys[rng.Intn(len(keys))] + "=\n")
			default:
				b.WriteString(keys[rng.Intn(len(keys))] + "=" + quote(values[rng.Intn(len(values))]) + "\n")
			}
		}
		return b.String()
	}
	ops := []string{"=", "!=", "$=", "!$=", "<", "<=", ">", ">=", "==", "<>", "=<", "!", "~"}
	pvals := []string{"debian", "12", "11", "12.0", "12~rc1", "1.9", "deb*", "*", "?ebian", "[a-e]ebian", "[!d]*", "a b", "Debian*", "fromcomment", "cont"}
	genWord := func() string {
		k := keys[rng.Intn(len(keys))]
		switch rng.Intn(20) {
		case 0:
			k = "1BAD"
		case 1:
			k = "BA-D"
		case 2:
			k = ""
		}
		v := pvals[rng.Intn(len(pvals))]
		w := k + ops[rng.Intn(len(ops))] + v
		switch rng.Intn(10) {
		case 0:
			w = "\"" + w + "\""
		case 1:
			w = strings.ReplaceAll(w, " ", "\\ ")
		case 2:
			w = "'" + w
		case 3:
			w += "\\"
		}
		if strings.Contains(v, " ") && !strings.HasPrefix(w, "\"") && !strings.Contains(w, "\\ ") && rng.Intn(2) == 0 {
			w = k + "=\"" + v + "\""
		}
		return w
	}
	dir := t.TempDir()
	compared, decided := 0, 0
	for round := range 40 {
		data := genFile()
		f := filepath.Join(dir, fmt.Sprintf("os-release-%d", round))
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		root := condTree(t, map[string]string{"/usr/lib/os-release": data, "/etc/os-release": "-> ../usr/lib/os-release"})
		ev := NewEvaluator(FromDir(root))
		var params []string
		for range 25 {
			var ws []string
			for range 1 + rng.Intn(3) {
				ws = append(ws, genWord())
			}
			p := strings.Join(ws, " ")
			if rng.Intn(4) == 0 {
				p = "!" + p
			}
			params = append(params, p)
		}
		var in strings.Builder
		for _, p := range params {
			in.WriteString(p + "\n")
		}
		cmd := exec.Command("unshare", "-m", "sh", "-c", `mount --bind "$0" "$1" || exit 99
while IFS= read -r c; do "$2" condition "ConditionOSRelease=$c" >/dev/null 2>&1; echo $?; done`, f, target, analyze)
		cmd.Stdin = strings.NewReader(in.String())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for i := 0; sc.Scan(); i++ {
			if i >= len(params) {
				t.Fatalf("round %d: more answers than parameters", round)
			}
			holds := sc.Text() == "0"
			if !holds && sc.Text() != "1" {
				t.Fatalf("round %d %q: exit %s", round, params[i], sc.Text())
			}
			res, err := ev.Evaluate(condUnit("ConditionOSRelease=" + params[i]))
			if err != nil {
				t.Fatalf("round %d %q: %v", round, params[i], err)
			}
			compared++
			if res.Holds == Unknown {
				continue
			}
			decided++
			if (res.Holds == True) != holds {
				t.Errorf("round %d, os-release:\n%s\nConditionOSRelease=%s: evaluated %s (%s); systemd-analyze: %v", round, data, params[i], res.Holds, res, holds)
			}
		}
	}
	t.Logf("%d conditions compared, %d decided", compared, decided)
	if decided < 900 {
		t.Errorf("only %d of %d decided", decided, compared)
	}
}
