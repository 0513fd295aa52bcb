package sshd

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

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

var oracleKeys = map[string]string{"clientaliveinterval": "0", "maxauthtries": "6", "passwordauthentication": "yes"}

const oracleConn = "user=deploy,host=x,addr=1.2.3.4"

// genOption is one sshd option as a unit or /etc/default/ssh writes it.
func genOption(rng *rand.Rand) (key, val string) {
	switch rng.IntN(3) {
	case 0:
		return "ClientAliveInterval", []string{"0", "180", "3m", "120", "1m30s", "240"}[rng.IntN(6)]
	case 1:
		return "MaxAuthTries", fmt.Sprint(1 + rng.IntN(9))
	}
	return "PasswordAuthentication", []string{"yes", "no"}[rng.IntN(2)]
}

// genDirectives writes configuration lines: global values, Match blocks (all, or a user).
func genDirectives(rng *rand.Rand, b *strings.Builder) {
	for range rng.IntN(6) {
		switch rng.IntN(5) {
		case 0:
			fmt.Fprintf(b, "Match %s\n", []string{"all", "User deploy", "User other"}[rng.IntN(3)])
		default:
			k, v := genOption(rng)
			fmt.Fprintf(b, "%s %s\n", k, v)
		}
	}
}

// genCommandOptions writes -o options as a command line does, in the forms sshd's getopt takes.
func genCommandOptions(rng *rand.Rand) []string {
	var out []string
	for range rng.IntN(3) {
		k, v := genOption(rng)
		switch rng.IntN(3) {
		case 0:
			out = append(out, "-o", k+"="+v)
		case 1:
			out = append(out, "-o"+k+"="+v)
		default:
			out = append(out, "-o", `"`+k+" "+v+`"`)
		}
	}
	return out
}

// genTree writes an image tree: sshd_config with a drop-in directory, ssh.service in one of the
// unit directories (sometimes overridden by a drop-in resetting ExecStart), /etc/default/ssh.
func genTree(rng *rand.Rand, root string) error {
	files := map[string]string{}
	var main strings.Builder
	if rng.IntN(2) == 0 {
		main.WriteString("Include /etc/ssh/sshd_config.d/*.conf\n")
	}
	genDirectives(rng, &main)
	files["/etc/ssh/sshd_config"] = main.String()
	for i := range rng.IntN(3) {
		var b strings.Builder
		genDirectives(rng, &b)
		files[fmt.Sprintf("/etc/ssh/sshd_config.d/%d0-x.conf", i)] = b.String()
	}
	cmd := append([]string{"/usr/sbin/sshd", "-D"}, genCommandOptions(rng)...)
	switch rng.IntN(4) {
	case 0:
		cmd = append(cmd, "$SSHD_OPTS")
	case 1:
		cmd = append(cmd, "${SSHD_OPTS}") // one word: sshd takes "-o X=1" as -o with the rest
	case 2:
		cmd = append(cmd[:2], append([]string{"$SSHD_OPTS"}, cmd[2:]...)...)
	}
	dir := []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}[rng.IntN(3)]
	files[dir+"/ssh.service"] = "[Unit]\nDescription=OpenBSD Secure Shell server\n\n[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStartPre=/usr/sbin/sshd -t\nExecStart=" + strings.Join(cmd, " ") + "\nExecReload=/bin/kill -HUP $MAINPID\n"
	if rng.IntN(3) == 0 {
		files["/etc/systemd/system/ssh.service.d/override.conf"] = "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D " + strings.Join(genCommandOptions(rng), " ") + " $SSHD_OPTS\n"
	}
	if rng.IntN(4) > 0 {
		opts := genCommandOptions(rng)
		if len(opts) > 0 && opts[0] == "-o" && rng.IntN(2) == 0 {
			// unquoted: systemd keeps the blanks inside the value
			files["/etc/default/ssh"] = "# Default settings for openssh-server.\nSSHD_OPTS=" + strings.Join(opts, " ") + "\n"
		} else {
			files["/etc/default/ssh"] = "SSHD_OPTS='" + strings.Join(opts, " ") + "'\n"
		}
	}
	for p, body := range files {
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(h, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sshdT runs sshd -T with arguments and returns its keys.
func sshdT(args []string) (map[string]string, error) {
	out, err := exec.Command("/usr/sbin/sshd", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("sshd %q: %v\n%s", args, err, out)
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

// oracleTrials is how many generated trees TestEffectiveAgreesWithSshdT compares.
const oracleTrials = 150

// Differential: the effective configuration (the unit's command line with /etc/default/ssh
// expanded, -o before the file, Match blocks after) gives what the system's sshd -T prints when
// given that command line and file, globally and for a connection a Match block selects.
func TestEffectiveAgreesWithSshdT(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
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
	rng := rand.New(rand.NewPCG(26, 22))
	trials := oracleTrials
	if testing.Short() {
		trials = 30
	}
	fromCommandLine, refused := 0, 0
	for trial := range trials {
		root := filepath.Join(work, fmt.Sprint(trial))
		if err := genTree(rng, root); err != nil {
			t.Fatal(err)
		}
		f := Read(systemd.FromDir(root))
		if len(f.Configs) != 1 || f.Configs[0].Unit == "" {
			t.Fatalf("trial %d: %d configurations, unit %q", trial, len(f.Configs), f.Configs[0].Unit)
		}
		c := f.Configs[0]
		// the file as the host's sshd reads it: in-image paths under root
		hostCfg := filepath.Join(root, "host_sshd_config")
		data, _ := os.ReadFile(filepath.Join(root, c.ConfigFile))
		os.WriteFile(hostCfg, bytes.ReplaceAll(data, []byte("/etc/ssh/"), []byte(root+"/etc/ssh/")), 0o644)
		for _, conn := range []string{"", oracleConn} {
			args := append([]string{"-T", "-f", hostCfg, "-h", hostKey}, c.Args...)
			if conn != "" {
				args = append(args, "-C", conn)
			}
			// -D and the like are harmless to -T; -f given first is overridden by none of ours
			want, err := sshdT(args)
			ours := f.Err()
			if err != nil || ours != nil {
				if (err != nil) != (ours != nil) {
					t.Errorf("trial %d: ours %v; sshd -T: %v\n%s", trial, ours, err, dump(root))
				}
				refused++
				break
			}
			for key, def := range oracleKeys {
				d, ok := c.FirstGlobal(key)
				if conn != "" {
					d, ok = effectiveFor(c, key)
				}
				got := def
				if ok {
					got = strings.ToLower(d.Value)
					if key == "clientaliveinterval" {
						got = seconds(t, d.Value)
					}
					if c.FromCommandLine(d) {
						fromCommandLine++
					}
				}
				if got != want[key] {
					t.Errorf("trial %d, connection %q: %s = %s (%s:%d), sshd -T %q says %s\n%s", trial, conn, key, got, d.File, d.Line, c.Args, want[key], dump(root))
				}
			}
		}
	}
	t.Logf("%d trials, %d values from the command line, %d command lines sshd refuses", trials, fromCommandLine, refused)
	if fromCommandLine == 0 {
		t.Error("no effective value came from the command line: the generator does not test -o")
	}
}

// effectiveFor is what sshd uses on oracleConn: the first value in a Match block it matches
// (all, User deploy), else the first global one (command-line options first).
func effectiveFor(c *Config, key string) (sysconf.SSHDirective, bool) {
	for _, d := range c.Directives {
		if d.Key == key && (sysconf.MatchesAll(d.Match) || d.Match == "User deploy") {
			return d, true
		}
	}
	for _, d := range c.Directives {
		if d.Key == key && d.Match == "" {
			return d, true
		}
	}
	return sysconf.SSHDirective{}, false
}

func seconds(t *testing.T, v string) string {
	t.Helper()
	n := 0
	cur := 0
	for _, ch := range v {
		switch {
		case ch >= '0' && ch <= '9':
			cur = cur*10 + int(ch-'0')
		case ch == 's':
			n, cur = n+cur, 0
		case ch == 'm':
			n, cur = n+cur*60, 0
		default:
			t.Fatalf("time %q", v)
		}
	}
	return fmt.Sprint(n + cur)
}

func dump(root string) string {
	var b strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "==> %s\n%s", strings.TrimPrefix(p, root), data)
		}
		return nil
	})
	return b.String()
}
