package sysconf

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The keys compared with sshd -T, and sshd's defaults for them. ClientAliveInterval is the one
// the rules read; the others are Match-capable keys that make a disagreement more visible.
var oracleKeys = map[string]string{
	"clientaliveinterval":    "0",
	"clientalivecountmax":    "3",
	"maxauthtries":           "6",
	"passwordauthentication": "yes",
}

// The connection sshd -T -C evaluates Match against, and the criteria the generator writes.
const oracleConn = "user=deploy,host=x,addr=1.2.3.4"

var oracleMatches = []string{"User deploy", "User other", "Address 1.2.3.4", "Address 9.9.9.9", "all", "All", "User deploy Address 1.2.3.4", "User deploy Address 9.9.9.9"}

// matchesOracleConn evaluates a joined Match context against oracleConn: every criterion must hold.
func matchesOracleConn(t *testing.T, m string) bool {
	f := strings.Fields(m)
	for i := 0; i < len(f); i++ {
		switch strings.ToLower(f[i]) {
		case "all":
		case "user":
			i++
			if f[i] != "deploy" {
				return false
			}
		case "address":
			i++
			if f[i] != "1.2.3.4" {
				return false
			}
		default:
			t.Fatalf("criterion %q in %q", f[i], m)
		}
	}
	return true
}

// effectiveFor is what sshd uses for key on oracleConn: the first value in a Match block the
// connection matches, else the first global one.
func effectiveFor(t *testing.T, ds []SSHDirective, key string) (SSHDirective, bool) {
	for _, d := range ds {
		if d.Key == key && d.Match != "" && matchesOracleConn(t, d.Match) {
			return d, true
		}
	}
	for _, d := range ds {
		if d.Key == key && d.Match == "" {
			return d, true
		}
	}
	return SSHDirective{}, false
}

// genSSHDConfigs writes a main file, included files (each may include only later ones, so
// there is no loop) and a drop-in directory included by glob, in dir; it returns the main file.
func genSSHDConfigs(rng *rand.Rand, dir string) (string, error) {
	inc := filepath.Join(dir, "inc")
	drop := filepath.Join(dir, "sshd_config.d")
	for _, d := range []string{inc, drop} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	nInc := rng.IntN(5)
	incFile := func(i int) string { return filepath.Join(inc, fmt.Sprintf("f%d.conf", i)) }
	// files in reading order of their index: main is -1, then inc files 0..nInc-1
	body := func(self int, dropIn bool) string {
		var b strings.Builder
		for range rng.IntN(8) {
			indent := []string{"", "  ", "\t"}[rng.IntN(3)]
			sep := []string{" ", "=", " = ", "\t"}[rng.IntN(4)]
			switch r := rng.IntN(12); {
			case r < 5:
				switch rng.IntN(4) {
				case 0:
					fmt.Fprintf(&b, "%sClientAliveInterval%s%s\n", indent, sep, genSSHDTime(rng, true))
				case 1:
					fmt.Fprintf(&b, "%sClientAliveCountMax%s%d\n", indent, sep, 1+rng.IntN(9))
				case 2:
					fmt.Fprintf(&b, "%sMaxAuthTries%s%d\n", indent, sep, 1+rng.IntN(9))
				case 3:
					fmt.Fprintf(&b, "%sPasswordAuthentication%s%s\n", indent, sep, []string{"yes", "no"}[rng.IntN(2)])
				}
			case r < 8:
				fmt.Fprintf(&b, "Match %s\n", oracleMatches[rng.IntN(len(oracleMatches))])
			case r < 9:
				b.WriteString("# a comment\n\n")
			default:
				if dropIn {
					continue // drop-ins include nothing: no loop through the glob
				}
				var pats []string
				for range 1 + rng.IntN(2) {
					switch k := rng.IntN(4); {
					case k == 0:
						pats = append(pats, filepath.Join(drop, "*.conf"))
					case k == 1:
						pats = append(pats, filepath.Join(inc, "missing.conf"))
					case self+1 < nInc:
						pats = append(pats, incFile(self+1+rng.IntN(nInc-self-1)))
					}
				}
				if len(pats) > 0 {
					fmt.Fprintf(&b, "%sInclude %s\n", indent, strings.Join(pats, " "))
				}
			}
		}
		return b.String()
	}
	// drop-ins are read by the main file's glob and by any inc file's: they include nothing
	for i := range rng.IntN(4) {
		if err := os.WriteFile(filepath.Join(drop, fmt.Sprintf("%02d-x.conf", 10*(3-i))), []byte(body(nInc, true)), 0o644); err != nil {
			return "", err
		}
	}
	for i := range nInc {
		if err := os.WriteFile(incFile(i), []byte(body(i, false)), 0o644); err != nil {
			return "", err
		}
	}
	main := filepath.Join(dir, "sshd_config")
	return main, os.WriteFile(main, []byte(body(-1, false)), 0o644)
}

// sshdT runs sshd -T on a config (with -C conn when conn is not empty) and returns its keys.
func sshdT(sshd, hostKey, config, conn string) (map[string]string, error) {
	args := []string{"-T", "-f", config, "-h", hostKey}
	if conn != "" {
		args = append(args, "-C", conn)
	}
	out, err := exec.Command(sshd, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("sshd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			got[k] = v
		}
	}
	return got, nil
}

// Differential: on generated configurations (Include inside and outside Match, nested
// Includes, globs, Match all, first value wins), the expansion gives the same effective values
// as the system's sshd -T, globally and for a connection that Match blocks select.
func TestExpandSSHDAgreesWithSshdT(t *testing.T) {
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("no /usr/sbin/sshd (openssh-server) to compare with")
	}
	// sshd -T insists on its privilege separation directory
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshd -T needs /run/sshd: %v", err)
	}
	work := t.TempDir()
	hostKey := filepath.Join(work, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	rng := rand.New(rand.NewPCG(25, 4))
	trials := 120
	if testing.Short() {
		trials = 30
	}
	src := SSHDSource{Read: os.ReadFile, Glob: filepath.Glob}
	for trial := range trials {
		dir := filepath.Join(work, fmt.Sprint(trial))
		main, err := genSSHDConfigs(rng, dir)
		if err != nil {
			t.Fatal(err)
		}
		ds, errs := ExpandSSHD(main, src)
		if len(errs) > 0 {
			t.Fatalf("trial %d: %v", trial, errs)
		}
		for _, conn := range []string{"", oracleConn} {
			want, err := sshdT(sshd, hostKey, main, conn)
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			for key, def := range oracleKeys {
				var d SSHDirective
				var ok bool
				if conn == "" {
					d, ok = FirstGlobal(ds, key)
				} else {
					d, ok = effectiveFor(t, ds, key)
				}
				got := def
				if ok {
					got = strings.ToLower(d.Value)
					if key == "clientaliveinterval" { // a time value: sshd -T prints seconds
						v, err := ParseSSHDTime(d.Value)
						if err != nil {
							t.Fatalf("trial %d: %s:%d: %v", trial, d.File, d.Line, err)
						}
						got = fmt.Sprint(v)
					}
				}
				if got != want[key] {
					t.Errorf("trial %d, connection %q: %s = %s (%s:%d, Match %q), sshd -T says %s\n%s", trial, conn, key, got, d.File, d.Line, d.Match, want[key], dumpConfigs(dir))
				}
			}
		}
	}
}

// dumpConfigs prints every generated file, for a failure message.
func dumpConfigs(dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "==> %s\n%s", p, data)
		}
		return nil
	})
	return b.String()
}

// genSSHDTime writes a time value in sshd's format: plain seconds, units in either case,
// combinations ("1m30s", "1h1m1"), leading zeros; unless valid, also what sshd refuses (a unit
// without a number, unknown units, blanks, signs, values past INT_MAX).
func genSSHDTime(rng *rand.Rand, valid bool) string {
	if !valid && rng.IntN(2) == 0 {
		bad := []string{"m", "1x", "1m m", "-1", "+5", "1.5m", "2147483648", "2147483647s1", "3579140w",
			"-0", "1m+5", "+0s", "1m-0", "1m-1", "--1", "+-1", "+", "1m+",
			"1ms", "0x10", "", "5 m", "1mm", "s1", "99999999999999999999", "35791395m", "596524h", "24855d", "3550w1w"}
		return bad[rng.IntN(len(bad))]
	}
	units := []string{"", "s", "S", "m", "M", "h", "H", "d", "D", "w", "W"}
	var b strings.Builder
	for range 1 + rng.IntN(3) {
		n := rng.IntN(200)
		if rng.IntN(6) == 0 {
			fmt.Fprintf(&b, "0%d", n)
		} else {
			fmt.Fprint(&b, n)
		}
		u := units[rng.IntN(len(units))]
		b.WriteString(u)
		if u == "" {
			break // a number without a unit ends the value only if last: "1 2m" would be two words
		}
	}
	return b.String()
}

// Differential: sshd's time format, value by value. ParseSSHDTime gives what sshd -T prints
// for ClientAliveInterval, and refuses exactly what sshd refuses.
func TestSSHDTimeAgreesWithSshdT(t *testing.T) {
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("no /usr/sbin/sshd (openssh-server) to compare with")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshd -T needs /run/sshd: %v", err)
	}
	work := t.TempDir()
	hostKey := filepath.Join(work, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	rng := rand.New(rand.NewPCG(26, 3))
	trials := sshdTimeTrials
	if testing.Short() {
		trials = 40
	}
	cfg := filepath.Join(work, "sshd_config")
	for range trials {
		v := genSSHDTime(rng, false)
		if err := os.WriteFile(cfg, []byte("ClientAliveInterval "+v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		want, sshdErr := sshdT(sshd, hostKey, cfg, "")
		got, err := ParseSSHDTime(v)
		switch {
		case (sshdErr != nil) != (err != nil):
			t.Errorf("ClientAliveInterval %q: ours %d, %v; sshd -T: %v", v, got, err, sshdErr)
		case err == nil && fmt.Sprint(got) != want["clientaliveinterval"]:
			t.Errorf("ClientAliveInterval %q: ours %d, sshd -T %s", v, got, want["clientaliveinterval"])
		}
	}
}

// sshdTimeTrials is how many time values TestSSHDTimeAgreesWithSshdT compares.
const sshdTimeTrials = 200
