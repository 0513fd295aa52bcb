package testfixture

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSH is a running OpenSSH server on loopback that lets root in with a fresh key.
type SSH struct {
	Addr    string
	Host    string
	Port    string
	KeyFile string // the client's private key, OpenSSH PEM
	Signer  ssh.Signer
}

// SSHServer starts the system's sshd (Debian openssh-server) for the test's lifetime. It needs
// root, as the guest's root login is what it stands in for.
func SSHServer(t testing.TB) *SSH {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatalf("%s not found: apt-get install openssh-server (make deps does)", sshd)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the sshd test server logs in as root and needs root")
	}
	dir := t.TempDir()
	key := func(name string) ssh.Signer {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600)
		s, _ := ssh.NewSignerFromKey(priv)
		return s
	}
	key("host_key")
	client := key("client_key")
	os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(client.PublicKey()), 0o600)
	port := fmt.Sprint(freeLoopbackPort(t))
	addr := "127.0.0.1:" + port
	cfg := fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile %s/sshd.pid
Subsystem sftp internal-sftp
`, port, dir, dir, dir)
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600)
	os.MkdirAll("/run/sshd", 0o755)
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second // session children may hold the log pipe open
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	if err := waitListening("tcp", addr, 5*time.Second); err != nil {
		t.Fatalf("sshd did not start: %v\n%s", err, logs.String())
	}
	return &SSH{Addr: addr, Host: "127.0.0.1", Port: port, KeyFile: filepath.Join(dir, "client_key"), Signer: client}
}
