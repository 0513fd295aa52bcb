package steps_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/check"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// dirtyTree copies the compliant tree and breaks it the ways a build leaves a guest.
func dirtyTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "root")
	if b, err := exec.Command("cp", "-a", filepath.Join(testfixture.Dir(t), "trees", "clean"), root).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	files := map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\ntester:x:1001:1001::/home/tester:/bin/bash\nkeeper:x:1002:1002::/home/keeper:/bin/bash\n",
		"etc/shadow":  "root:$6$salt$abcdefgh:19800:0:99999:7:::\nsshd:*:19800::::::\ntester:$y$j9T$x$y:19800::::::\nkeeper::19800::::::\n",
		"etc/group":   "root:x:0:\ntester:x:1001:\nkeeper:x:1002:\n",
		"etc/gshadow": "root:*::\ntester:!::\nkeeper:!::\n",
		"root/.bash_history":                   "sudo cat /etc/shadow\n",
		"root/.ssh/authorized_keys":            "ssh-ed25519 AAAA build\n",
		"home/tester/.ssh/id_ed25519":          "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n",
		"home/tester/.python_history":          "import os\n",
		"home/keeper/.lesshst":                 "",
		"etc/ssh/sshd_config":                  "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nMatch User backup\n  ClientAliveInterval 30\n",
		"etc/ssh/sshd_config.d/10-x.conf":      "ClientAliveInterval 60\n",
		"etc/ssh/ssh_host_ed25519_key":         "key\n",
		"etc/default/grub":                     "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=tty1 quiet\"\n",
		"boot/grub/grub.cfg":                   "menuentry 'Debian' {\n\tlinux\t/vmlinuz root=UUID=x ro console=tty1 quiet\n}\n",
		"etc/waagent.conf":                     "AutoUpdate.Enabled=n\nResourceDisk.EnableSwap=y\n",
		"etc/fstab":                            "UUID=x / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n",
		"swapfile":                             "swap",
		"etc/ufw/ufw.conf":                     "ENABLED=yes\nLOGLEVEL=low\n",
		"usr/lib/systemd/system/ufw.service":   "[Unit]\nDescription=ufw\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
		"etc/resolv.conf":                      "nameserver 192.0.2.53\n",
		"etc/udev/rules.d/70-persistent-net.rules": "SUBSYSTEM==\"net\", ATTR{address}==\"00:15:5d:00:00:01\", NAME=\"eth0\"\n",
		"etc/netplan/60-static.yaml":           "network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n        macaddress: \"00:15:5d:00:00:01\"\n      dhcp4: true\n",
		"etc/machine-id":                       "0123456789abcdef0123456789abcdef\n",
		"var/log/syslog":                       "build log\n",
		"var/log/syslog.1":                     "old\n",
		"var/log/apt/history.log.1.gz":         "gz",
		"tmp/build.tar":                        "x",
		"tmp/keep-me":                          "kept by keep_paths",
		"var/tmp/cache":                        "x",
		"opt/app/cache/blob":                   "cache",
		// sentinels: outside every documented set, they must come out byte for byte
		"opt/app/data.db":             "customer data",
		"etc/myapp.conf":              "setting=1\n",
		"root/notes.txt":              "notes",
		"home/keeper/work/report.txt": "report",
		"srv/www/index.html":          "<h1>hi</h1>",
		"var/lib/app/state":           "state",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.Remove(full)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// homes belong to their users, as useradd leaves them (userdel -r checks)
	for home, id := range map[string]int{"home/tester": 1001, "home/keeper": 1002} {
		filepath.Walk(filepath.Join(root, home), func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, id, id) })
	}
	os.Remove(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/walinuxagent.service"))
	os.Symlink("/usr/lib/systemd/system/ufw.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ufw.service"))
	return root
}

var sentinels = map[string]string{
	"opt/app/data.db": "customer data", "etc/myapp.conf": "setting=1\n", "root/notes.txt": "notes",
	"home/keeper/work/report.txt": "report", "srv/www/index.html": "<h1>hi</h1>", "var/lib/app/state": "state",
	"tmp/keep-me": "kept by keep_paths",
}

func options() steps.Options {
	return steps.Options{
		Profile: "azure", SkipSteps: []string{"patch"}, Version: "test",
		KeepPaths: []string{"/tmp/keep-me"}, RemoveUsers: []string{"tester"}, CleanPaths: []string{"/opt/app/cache"},
	}
}

// runScript runs the generated script against root the way the provisioner runs it on a guest,
// with MP_ROOT pointing at the tree, and returns the parsed results.
func runScript(t *testing.T, root string, o steps.Options) *steps.Collector {
	t.Helper()
	script, err := steps.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "harden.sh")
	os.WriteFile(p, []byte(script), 0o700)
	cmd := exec.Command("sh", p)
	cmd.Env = append(os.Environ(), "MP_ROOT="+root, "MP_CLEANUP=1", "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	c := steps.NewCollector()
	var human []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if !c.Line(sc.Text()) {
			human = append(human, sc.Text())
		}
	}
	if err != nil || !c.Finished || len(c.Failed()) > 0 {
		t.Fatalf("script: %v, finished=%v, failed=%+v\nstderr:\n%s\nstdout:\n%s", err, c.Finished, c.Failed(), stderr.String(), out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the script's directory was not removed after the run")
	}
	return c
}

func TestScriptHardensATreeAndChangesNothingTheSecondTime(t *testing.T) {
	root := dirtyTree(t)
	first := runScript(t, root, options())
	t.Logf("first run:\n%s", first.Summary())
	if first.Changed() < 20 {
		t.Errorf("first run made only %d changes", first.Changed())
	}
	for p, want := range sentinels {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != want {
			t.Errorf("sentinel %s changed: %q %v", p, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "home/tester")); !os.IsNotExist(err) {
		t.Errorf("remove_users: /home/tester still there")
	}
	// The hardened tree passes both profiles, except /tmp/keep-me that keep_paths protected.
	img := testfixture.Filesystem(t, "ext4", root, "96M")
	r, err := check.File(img, check.Config{Profiles: []string{"azure-linux", "alibaba"}, Options: rules.Options{CleanPaths: []string{"/opt/app/cache"}, AllowedUsers: []string{"keeper"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		switch {
		case f.Rule == "empty-tmp":
			if f.Status != rules.Fail || len(f.Evidence) != 1 || f.Evidence[0].Path != "/tmp/keep-me" {
				t.Errorf("empty-tmp should fail on /tmp/keep-me alone: %s %+v", f.Status, f.Evidence)
			}
		case f.Status != rules.Pass && f.Status != rules.NotApplicable:
			t.Errorf("after hardening, %s is %s: %s %+v", f.Rule, f.Status, f.Message, f.Evidence)
		}
	}
	second := runScript(t, root, options())
	if n := second.Changed(); n != 0 {
		for _, r := range second.Results {
			if len(r.Changes) > 0 {
				t.Errorf("second run, %s changed: %v", r.Step, r.Changes)
			}
		}
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	root := dirtyTree(t)
	before := treeDigest(t, root)
	o := options()
	o.DryRun = true
	c := runScript(t, root, o)
	if c.Changed() < 20 {
		t.Errorf("dry run reported only %d would-be changes", c.Changed())
	}
	for _, r := range c.Results {
		for _, ch := range r.Changes {
			if !strings.HasPrefix(ch, "would ") {
				t.Errorf("%s: dry run change %q", r.Step, ch)
			}
		}
	}
	if after := treeDigest(t, root); after != before {
		t.Errorf("dry run changed the tree")
	}
}

func treeDigest(t *testing.T, root string) string {
	out, err := exec.Command("sh", "-c", "cd '"+root+"' && find . -printf '%p %s %m %l\\n' | sort && find . -type f -exec md5sum {} + | sort").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
