package sshkeys

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshdTrials is how many generated authorized_keys files TestKeysAgreeWithSshd logs in with.
const sshdTrials = 60

// redirectCmd is cloud-init's redirect, sleeping 0 seconds instead of 10.
const redirectCmd = `echo 'Please login as the user \"azureuser\" rather than the user \"root\".';echo;sleep 0;exit 142`

// Differential against sshd itself (OpenSSH 9.2, run as root on a loopback port, reading the
// generated file as AuthorizedKeysFile): for each generated authorized_keys file (the client's
// key under options sshd takes and options it refuses, quoting, `\"`, commas, case, comments,
// blank and CRLF lines, another key, and lines this reader takes as keys where sshd does not: a
// key type name in another case, `from=` that does not match, an expired `expiry-time=`), ssh
// logs in and runs a command. The first line this reader takes for the client's key that sshd
// can only accept predicts sshd: refused when there is none, else accepted with that line's forced
// command (the command ssh sent when it has none); and a file this reader calls redirect-only
// never lets the client run its own command.
func TestKeysAgreeWithSshd(t *testing.T) {
	sshd, ssh, keygen := "/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"
	for _, p := range []string{sshd, ssh, keygen} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no %s to compare with", p)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd runs as root to log root in")
	}
	if fi, err := os.Stat("/run/sshd"); err != nil || !fi.IsDir() {
		t.Skip("no /run/sshd (sshd's privilege separation directory)")
	}
	dir := t.TempDir()
	for _, k := range []string{"host", "client", "other"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	pub := func(k string) (typ, blob string) {
		b, err := os.ReadFile(filepath.Join(dir, k+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		return f[0], f[1]
	}
	_, client := pub("client")
	_, other := pub("other")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	keys := filepath.Join(dir, "authorized_keys")
	cfg := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\nAuthorizedKeysFile %s\nStrictModes no\nUsePAM no\n"+
		"PermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel ERROR\n",
		port, filepath.Join(dir, "host"), filepath.Join(dir, "sshd.pid"), keys)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	daemon := exec.CommandContext(ctx, sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	var daemonLog bytes.Buffer
	daemon.Stderr = &daemonLog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); daemon.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if i == 50 {
			t.Fatalf("sshd did not listen: %s", daemonLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	login := func() (string, bool) {
		out, err := exec.Command(ssh, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
			"-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-i", filepath.Join(dir, "client"),
			"-p", fmt.Sprint(port), "root@127.0.0.1", "echo OWN").CombinedOutput()
		s := strings.TrimSpace(string(out))
		if strings.Contains(s, "Permission denied") {
			return "", false
		}
		if err != nil && !strings.Contains(s, "Please login") {
			t.Fatalf("ssh: %v %s\n%s", err, s, daemonLog.String())
		}
		return s, true
	}

	rng := rand.New(rand.NewPCG(26, 92))
	trials := sshdTrials
	if testing.Short() {
		trials = 12
	}
	type gen struct {
		opts string
		cmd  string // the forced command sshd runs ("" for none)
		ok   bool   // sshd takes the line as the client's key
	}
	agreed := 0
	for trial := range trials {
		var lines []string
		var model []gen // the client's lines, in order
		for range 1 + rng.IntN(5) {
			n := fmt.Sprint(rng.IntN(100))
			forced := "echo FORCED-" + n
			choices := []gen{
				{"", "", true},
				{`command="` + forced + `"`, forced, true},
				{`no-pty,COMMAND="` + forced + `"`, forced, true},
				{`restrict,command="` + forced + `"`, forced, true},
				{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="` + redirectCmd + `"`, strings.ReplaceAll(redirectCmd, `\"`, `"`), true},
				{`command="echo \"Q` + n + `\""`, `echo "Q` + n + `"`, true},
				{`pty, `, "", true},
				{`environment="A_1=x y",permitopen="localhost:22"`, "", true},
				{`command="a",command="b"`, "", false},
				{`bogus`, "", false},
				{`no-restrict`, "", false},
				{`command="unterminated`, "", false},
				{`command=unquoted`, "", false},
				{`pty;no-pty`, "", false},
				// a key to this reader, refused by sshd (the reader errs towards a key)
				{`from="10.9.9.9",command="` + forced + `"`, forced, false},
				{`expiry-time="19990101",command="` + forced + `"`, forced, false},
			}
			g := choices[rng.IntN(len(choices))]
			typ := "ssh-ed25519"
			if rng.IntN(8) == 0 {
				typ, g.ok = []string{"ED25519", "SSH-ED25519", "ssh-rsa"}[rng.IntN(3)], false
			}
			line := typ + " " + client + " c" + n
			if g.opts != "" {
				line = g.opts + " " + line
			}
			line = []string{"", " ", "\t"}[rng.IntN(3)] + line
			switch rng.IntN(6) {
			case 0:
				lines = append(lines, "# "+line)
				continue // a comment: not a line of the model
			case 1:
				line += "\r"
			}
			if rng.IntN(3) == 0 {
				lines = append(lines, "ssh-ed25519 "+other+" other")
			}
			if rng.IntN(4) == 0 {
				lines = append(lines, "")
			}
			lines = append(lines, line)
			model = append(model, g)
		}
		data := []byte(strings.Join(lines, "\n") + "\n")
		if err := os.WriteFile(keys, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Parse(keys, data)
		if err != nil {
			t.Fatal(err)
		}
		// the reader's first line for the client's key that sshd can only accept
		var predicted *Key
		conservative := map[int]bool{}
		for i := range f.Keys {
			k := f.Keys[i]
			if k.Blob != client {
				continue
			}
			if k.Type != "ssh-ed25519" || strings.Contains(k.Options.Raw, "from=") || strings.Contains(k.Options.Raw, "expiry-time=") {
				conservative[k.Line] = true
			} else if predicted == nil {
				predicted = &k
			}
		}
		out, accepted := login()
		switch {
		case predicted == nil && accepted:
			t.Errorf("trial %d: sshd let the client in (%q), the reader has no key line for it\n%s", trial, out, data)
		case predicted != nil && !accepted:
			t.Errorf("trial %d: the reader takes line %d (%q) as the client's key, sshd refused\n%s", trial, predicted.Line, predicted.Options.Raw, data)
		case predicted != nil:
			want := "OWN"
			if predicted.Options.HasCommand {
				want = strings.TrimSpace(runShellEcho(predicted.Options.Command))
			}
			if !strings.HasPrefix(out, want) {
				t.Errorf("trial %d: sshd ran %q, the reader's line %d forces %q (expected output %q)\n%s", trial, out, predicted.Line, predicted.Options.Command, want, data)
			} else {
				agreed++
			}
		default:
			agreed++
		}
		if f.RedirectOnly() && accepted && !strings.Contains(out, "Please login") {
			t.Errorf("trial %d: redirect-only by the reader, but sshd ran %q\n%s", trial, out, data)
		}
		// the model's lines sshd takes agree with the reader's keys of the client's blob
		readerOK := 0
		for _, k := range f.Keys {
			if k.Blob == client && !conservative[k.Line] {
				readerOK++
			}
		}
		modelOK := 0
		for _, g := range model {
			if g.ok {
				modelOK++
			}
		}
		if readerOK != modelOK {
			t.Errorf("trial %d: the reader takes %d of the client's lines sshd can accept, the generator made %d\n%s", trial, readerOK, modelOK, data)
		}
	}
	t.Logf("%d authorized_keys files logged in with sshd; %d agreed", trials, agreed)
}

// runShellEcho is what the forced commands the generator writes print: "echo X" prints X,
// the redirect prints its first line.
func runShellEcho(cmd string) string {
	first, _, _ := strings.Cut(cmd, ";")
	out, err := exec.Command("/bin/sh", "-c", first).Output()
	if err != nil {
		return cmd
	}
	return string(out)
}
