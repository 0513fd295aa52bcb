package sshd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// The connections sshd -T -C evaluates Match against: root and two other users, from two
// addresses.
var accessConns = []struct{ user, addr string }{
	{"root", "1.2.3.4"}, {"root", "9.9.9.9"}, {"deploy", "1.2.3.4"}, {"other", "9.9.9.9"},
}

// Match criteria the generator writes: users by name, by pattern, negated, addresses, all.
var accessMatches = []string{
	"User root", "User deploy", "User r*", "User *,!root", "User !deploy,*", "User ro?t,admin",
	"Address 1.2.3.4", "Address 9.9.9.9", "all", "All", "User deploy Address 1.2.3.4", "User root Address 9.9.9.9",
}

// genAccessLine writes one of the judged keywords (or the ChallengeResponseAuthentication alias)
// with a value sshd takes, in the spellings it takes; invalid makes a value it refuses.
func genAccessLine(rng *rand.Rand, invalid bool) (string, bool) {
	sep := []string{" ", "=", " = ", "\t"}[rng.IntN(4)]
	yn := []string{"yes", "no", "YES", "No"}
	switch rng.IntN(4) {
	case 0:
		return "PasswordAuthentication" + sep + yn[rng.IntN(len(yn))], false
	case 1:
		return "KbdInteractiveAuthentication" + sep + yn[rng.IntN(len(yn))], false
	case 2:
		return "ChallengeResponseAuthentication" + sep + yn[rng.IntN(len(yn))], false
	}
	v := []string{"yes", "no", "prohibit-password", "without-password", "forced-commands-only", "No"}[rng.IntN(6)]
	if invalid {
		v = []string{"true", "maybe", "0"}[rng.IntN(3)]
	}
	return "PermitRootLogin" + sep + v, invalid
}

// trailingComment is, now and then, a comment after a line's words, which sshd (8.7 and later)
// drops, or a '#' glued to the last word, which it keeps.
func trailingComment(rng *rand.Rand) string {
	switch rng.IntN(8) {
	case 0:
		return " # hardened"
	case 1:
		return "\t#x"
	case 2:
		return "#glued"
	}
	return ""
}

func genAccessBody(rng *rand.Rand, b *strings.Builder, invalid *bool) {
	for range rng.IntN(8) {
		switch r := rng.IntN(10); {
		case r < 3:
			// a comment after the criteria (a '#' glued to a criterion is a bad criterion to sshd)
			fmt.Fprintf(b, "Match %s%s\n", accessMatches[rng.IntN(len(accessMatches))], strings.TrimSuffix(trailingComment(rng), "#glued"))
		case r == 3:
			b.WriteString("# comment\n\n")
		default:
			line, bad := genAccessLine(rng, rng.IntN(12) == 0)
			*invalid = *invalid || bad
			fmt.Fprintf(b, "%s%s%s\n", []string{"", "  ", "\t"}[rng.IntN(3)], line, trailingComment(rng))
		}
	}
}

// genAccessTree writes /etc/ssh/sshd_config (sometimes including a drop-in directory first or
// last) and up to three drop-ins; it reports whether a value sshd refuses was written (in a
// drop-in that is not included, sshd never reads it).
func genAccessTree(rng *rand.Rand, root string) (bool, error) {
	invalid := false
	files := map[string]string{}
	var main strings.Builder
	head := rng.IntN(3)
	if head == 0 {
		main.WriteString("Include /etc/ssh/sshd_config.d/*.conf\n")
	}
	genAccessBody(rng, &main, &invalid)
	if head == 1 {
		main.WriteString("Include /etc/ssh/sshd_config.d/*.conf\n") // possibly inside a Match block
	}
	files["/etc/ssh/sshd_config"] = main.String()
	for i := range rng.IntN(4) {
		var b strings.Builder
		genAccessBody(rng, &b, &invalid)
		files[fmt.Sprintf("/etc/ssh/sshd_config.d/%d0-x.conf", i)] = b.String()
	}
	for p, body := range files {
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(h, []byte(body), 0o644); err != nil {
			return false, err
		}
	}
	return invalid, nil
}

// accessTrials is how many generated trees TestEffectiveAccessAgreesWithSshdT compares.
const accessTrials = 200

// Differential with the system's sshd: for PasswordAuthentication, KbdInteractiveAuthentication
// (and its alias) and PermitRootLogin, the global value is what `sshd -T` prints, a refused value
// is refused by both, and for every connection `sshd -T -C` evaluates, the value sshd uses is
// one Effective lists (Global or a Match value; for root, only the blocks CanSelectUser admits
// for root). A wrong shadowing, alias, default or user pattern makes a value sshd uses missing.
func TestEffectiveAccessAgreesWithSshdT(t *testing.T) {
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
	version, err := exec.Command("/usr/sbin/sshd", "-V").CombinedOutput()
	if err != nil && !bytes.Contains(version, []byte("OpenSSH_")) {
		t.Fatalf("sshd -V: %v\n%s", err, version)
	}
	// "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL ..." -> "9.2p1"
	ver := strings.TrimPrefix(strings.Fields(string(version))[0], "OpenSSH_")
	ver = strings.TrimSuffix(ver, ",")
	keys := []string{PasswordAuthentication, KbdInteractiveAuthentication, PermitRootLogin}
	rng := rand.New(rand.NewPCG(28, 1))
	trials := accessTrials
	if testing.Short() {
		trials = 40
	}
	fromMatch, refused, compared := 0, 0, 0
	for trial := range trials {
		root := filepath.Join(work, fmt.Sprint(trial))
		_, err := genAccessTree(rng, root)
		if err != nil {
			t.Fatal(err)
		}
		f := Read(systemd.FromDir(root))
		if err := f.Err(); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		c := f.Configs[0]
		hostCfg := filepath.Join(root, "host_sshd_config")
		data, _ := os.ReadFile(filepath.Join(root, DefaultConfig))
		os.WriteFile(hostCfg, bytes.ReplaceAll(data, []byte("/etc/ssh/"), []byte(root+"/etc/ssh/")), 0o644)
		effs := map[string]Effective{}
		ours := 0
		for _, k := range keys {
			def, known := Default(k, ver)
			if !known {
				t.Fatalf("OpenSSH version %q not read", ver)
			}
			effs[k] = c.Effective(k, def, nil)
			ours += len(effs[k].Refused)
		}
		global, err := sshdT([]string{"-T", "-f", hostCfg, "-h", hostKey})
		if (err != nil) != (ours > 0) {
			t.Fatalf("trial %d: sshd -T: %v; lines we say sshd refuses: %d\n%s", trial, err, ours, dump(root))
		}
		if err != nil {
			refused++
			continue
		}
		for _, k := range keys {
			if got, want := effs[k].Global.Value, Normalize(global[k]); got != want {
				t.Errorf("trial %d: global %s = %s (%+v), sshd -T says %s\n%s", trial, k, got, effs[k].Global, want, dump(root))
			}
		}
		for _, conn := range accessConns {
			want, err := sshdT([]string{"-T", "-f", hostCfg, "-h", hostKey, "-C", fmt.Sprintf("user=%s,host=x,addr=%s", conn.user, conn.addr)})
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			for _, k := range keys {
				user := conn.user
				e := c.Effective(k, effs[k].Global.Value, func(m string) bool { return CanSelectUser(m, user) })
				w := Normalize(want[k])
				found := false
				for _, s := range e.Values() {
					if s.Value == w {
						found = true
						if !s.Default && s.Directive.Match != "" {
							fromMatch++
						}
						break
					}
				}
				compared++
				if !found {
					t.Errorf("trial %d, %s@%s: sshd uses %s %s, not among ours %+v\n%s", trial, conn.user, conn.addr, k, w, e.Values(), dump(root))
				}
			}
		}
	}
	t.Logf("%d trials (%d refused by sshd), %d per-connection values compared, %d of them from a Match block", trials, refused, compared, fromMatch)
	if fromMatch == 0 || refused == 0 {
		t.Errorf("the generator tests too little: %d values from Match blocks, %d refused files", fromMatch, refused)
	}
}

// CanSelectUser against hand-made cases of sshd's user patterns.
func TestCanSelectUser(t *testing.T) {
	for _, c := range []struct {
		match string
		root  bool
	}{
		{"User root", true}, {"User deploy", false}, {"User r*", true}, {"User *,!root", false},
		{"User !root,*", false}, {"User ro?t", true}, {"User ro?", false}, {"User deploy,root", true},
		{"Address 1.2.3.4", true}, {"User deploy Address 1.2.3.4", false}, {"Group wheel", true},
		{"all", true}, {"User *", true}, {"User r**t", true}, {"User *t", true}, {"User *x", false},
	} {
		if got := CanSelectUser(c.match, "root"); got != c.root {
			t.Errorf("CanSelectUser(%q, root) = %v, want %v", c.match, got, c.root)
		}
	}
}

// Default: the compiled-in PermitRootLogin changed in OpenSSH 7.0.
func TestDefaultPermitRootLogin(t *testing.T) {
	for _, c := range []struct {
		version, want string
		known         bool
	}{
		{"1:9.2p1-2+deb12u10", "prohibit-password", true}, {"8.7p1-38.el9", "prohibit-password", true},
		{"7.0p1", "prohibit-password", true}, {"1:6.9p1-1", "yes", true}, {"6.6.1p1", "yes", true},
		{"", "prohibit-password", false}, {"p1", "prohibit-password", false}, {"10", "prohibit-password", false},
	} {
		got, known := Default(PermitRootLogin, c.version)
		if got != c.want || known != c.known {
			t.Errorf("Default(PermitRootLogin, %q) = %s, %v; want %s, %v", c.version, got, known, c.want, c.known)
		}
	}
}
