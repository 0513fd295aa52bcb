package harden

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/packer"
	sshcomm "github.com/hashicorp/packer-plugin-sdk/sdk-internals/communicator/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// realSSH starts the system's OpenSSH server and returns the SDK's SSH communicator connected to
// it: the same path Packer uses for a guest.
func realSSH(t *testing.T) packer.Communicator {
	t.Helper()
	srv := testfixture.SSHServer(t)
	comm, err := sshcomm.New(srv.Addr, &sshcomm.Config{
		Connection: func() (net.Conn, error) { return net.Dial("tcp", srv.Addr) },
		SSHConfig: &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(srv.Signer)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second},
		HandshakeTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return comm
}

func newUI() (*packer.BasicUi, *bytes.Buffer) {
	var out bytes.Buffer
	return &packer.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out}, &out
}

// The guest is a tree on this machine; the script reaches it through MP_ROOT, so execute_command
// is where the test says where the guest's / is (and that it is root already).
func prepare(t *testing.T, root string, extra map[string]interface{}) *Provisioner {
	raw := map[string]interface{}{
		"profile":         "azure",
		"skip_steps":      []string{"patch"},
		"keep_paths":      []string{"/tmp/keep-me"},
		"remove_users":    []string{"tester"},
		"execute_command": "env MP_ROOT=" + root + " MP_CLEANUP=1 sh '{{.Path}}'",
	}
	for k, v := range extra {
		raw[k] = v
	}
	var p Provisioner
	if err := p.Prepare(raw); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestProvisionOverSSH(t *testing.T) {
	comm := realSSH(t)
	root := testfixture.DirtyTree(t)
	results := filepath.Join(t.TempDir(), "results.json")
	// a private remote folder: other packages' tests run scripts in /tmp at the same time
	remote := t.TempDir()
	// the old spelling of the profile still works, and says what to write instead
	p := prepare(t, root, map[string]interface{}{"results_file": results, "remote_folder": remote, "profile": "azure"})
	ui, out := newUI()
	if err := p.Provision(context.Background(), ui, comm, nil); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	for _, want := range []string{`deprecated: profile "azure" is the old spelling: write "azure-linux"`, "marketplace-harden: profile azure-linux, linux guest", "==> ssh-keepalive", "[history] removed /root/.bash_history", "kernel-cmdline", "done, nothing to change"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("UI output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "MP|") {
		t.Error("protocol lines leaked into the UI")
	}
	var res struct {
		Finished bool
		Changes  int
		Steps    []struct{ Step, Status string }
	}
	b, _ := os.ReadFile(results)
	if err := json.Unmarshal(b, &res); err != nil || !res.Finished || res.Changes < 20 || len(res.Steps) < 10 {
		t.Fatalf("results file: %v %s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/ssh/sshd_config")); err != nil || !strings.HasPrefix(string(b), "ClientAliveInterval 180\n") {
		t.Errorf("sshd_config: %q %v", b, err)
	}
	for p, want := range testfixture.Sentinels {
		if got, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(got) != want {
			t.Errorf("sentinel %s changed", p)
		}
	}
	// the private directory on the guest is gone
	if m, _ := filepath.Glob(filepath.Join(remote, "marketplace-harden.*")); len(m) > 0 {
		t.Errorf("script directories left on the guest: %v", m)
	}
	// a second run changes nothing
	ui2, out2 := newUI()
	if err := p.Provision(context.Background(), ui2, comm, nil); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(results)
	json.Unmarshal(b, &res)
	if res.Changes != 0 {
		t.Errorf("second run made %d changes:\n%s", res.Changes, out2)
	}
}

func TestFailingStepFailsTheBuildUnlessContinue(t *testing.T) {
	comm := realSSH(t)
	root := testfixture.DirtyTree(t)
	os.Remove(filepath.Join(root, "var/lib/dpkg/status")) // no agent package, and none can be installed offline
	p := prepare(t, root, map[string]interface{}{"steps": []string{"azure-agent", "history"}})
	ui, out := newUI()
	err := p.Provision(context.Background(), ui, comm, nil)
	if err == nil || !strings.Contains(err.Error(), "azure-agent") {
		t.Fatalf("want a failure naming azure-agent, got %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "root/.bash_history")); err != nil {
		t.Error("on_error=abort: the steps after the failure must not run")
	}
	p = prepare(t, root, map[string]interface{}{"steps": []string{"azure-agent", "history"}, "on_error": "continue"})
	if err := p.Provision(context.Background(), ui, comm, nil); err != nil {
		t.Fatalf("on_error=continue: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "root/.bash_history")); !os.IsNotExist(err) {
		t.Error("on_error=continue: the history step did not run")
	}
}

func TestPrepareRejectsBadSettings(t *testing.T) {
	for name, raw := range map[string]map[string]interface{}{
		"profile":       {"profile": "gcp"},
		"step":          {"steps": []string{"nope"}},
		"on_error":      {"on_error": "ignore"},
		"clean /etc":    {"clean_paths": []string{"/etc"}},
		"remove root":   {"remove_users": []string{"root"}},
		"deprovision":   {"steps": []string{"deprovision"}},
		"relative keep": {"keep_paths": []string{"tmp"}},
		"profile vs os": {"profile": "azure-linux", "os": "windows"},
	} {
		var p Provisioner
		if err := p.Prepare(raw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A Windows profile makes the guest Windows, azure-linux Linux; otherwise the connection decides
// at run time (`alibaba` is also the old spelling for any guest).
func TestProfileSetsTheGuestOS(t *testing.T) {
	for profile, want := range map[string]string{"azure-windows": "windows", "alibaba-windows": "windows", "azure-linux": "linux", "alibaba": "", "": ""} {
		var p Provisioner
		if err := p.Prepare(map[string]interface{}{"profile": profile}); err != nil {
			t.Fatalf("%s: %v", profile, err)
		}
		if p.config.OS != want {
			t.Errorf("profile %q: os %q, want %q", profile, p.config.OS, want)
		}
	}
}

// A real Debian 12 root (debootstrap) left the way a build leaves it, hardened over SSH with the
// azure profile: afterwards both check profiles pass on it, its application data is intact, and a
// second run changes nothing. (The root has no boot loader, so kernel-cmdline can only warn that
// no generated boot configuration exists; it has no network configuration either.)
func TestProvisionDebianGuest(t *testing.T) {
	comm := realSSH(t)
	root := testfixture.GuestRoot(t)
	results := filepath.Join(t.TempDir(), "results.json")
	raw := map[string]interface{}{
		"profile":         "azure",
		"skip_steps":      []string{"patch"},
		"remove_users":    []string{"tester"},
		"results_file":    results,
		"execute_command": "env MP_ROOT=" + root + " MP_CLEANUP=1 sh '{{.Path}}'",
	}
	var p Provisioner
	if err := p.Prepare(raw); err != nil {
		t.Fatal(err)
	}
	ui, out := newUI()
	if err := p.Provision(context.Background(), ui, comm, nil); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "opt/app/data.txt")); err != nil || string(b) != "application data\n" {
		t.Errorf("application data changed: %q %v", b, err)
	}
	img := testfixture.Filesystem(t, "ext4", root, "1G")
	r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux", "alibaba"}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		// the bare debootstrap root configures no network (scripts/make-guest-image.sh adds
		// systemd-networkd's DHCP for the bootable guest), and the harden does not invent one
		// nor a boot loader; and it is built for Azure (testfixture.NotBuiltForAlibaba)
		ok := f.Status == rules.Pass || f.Status == rules.NotApplicable ||
			testfixture.NotBuiltForAlibaba[f.Rule] == string(f.Status) ||
			f.Rule == "grub-boots-by-uuid" && f.Status == rules.Fail ||
			f.Rule == "kernel-cmdline" && f.Status == rules.Warn ||
			f.Rule == "first-nic-dhcp" && f.Status == rules.Fail
		if !ok {
			t.Errorf("after hardening the Debian guest, %s is %s: %s %+v", f.Rule, f.Status, f.Message, f.Evidence)
		}
	}
	ui2, out2 := newUI()
	if err := p.Provision(context.Background(), ui2, comm, nil); err != nil {
		t.Fatal(err)
	}
	var res struct{ Changes int }
	b, _ := os.ReadFile(results)
	json.Unmarshal(b, &res)
	if res.Changes != 0 {
		t.Errorf("second run made %d changes:\n%s", res.Changes, out2)
	}
}
