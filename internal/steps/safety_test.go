package steps_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Under MP_ROOT, nothing outside the root is touched: not through a home that is a symlink to
// a host directory, not through a passwd home full of "..", not through a symlinked clean path.
func TestOfflineScriptNeverLeavesTheRoot(t *testing.T) {
	root := testfixture.DirtyTree(t)
	host := filepath.Join(t.TempDir(), "host")
	for _, f := range []string{".bash_history", ".ssh/authorized_keys", ".ssh/id_rsa", "cache/data.bin", ".python_history"} {
		p := filepath.Join(host, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("host file, not the image's\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := treeDigest(t, host)
	// /home/evil is a symlink to the host directory; account escape's home climbs out with ".."
	if err := os.Symlink(host, filepath.Join(root, "home/evil")); err != nil {
		t.Fatal(err)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	climb := strings.Repeat("/..", 12) + host
	passwd = append(passwd, []byte("escape:x:1500:1500::"+climb+":/bin/sh\nlinked:x:1501:1501::/home/evil:/bin/sh\n")...)
	os.WriteFile(filepath.Join(root, "etc/passwd"), passwd, 0o644)
	// the clean path's parent is a symlink out of the root too
	os.RemoveAll(filepath.Join(root, "opt/app"))
	os.MkdirAll(filepath.Join(root, "opt"), 0o755)
	if err := os.Symlink(host, filepath.Join(root, "opt/app")); err != nil {
		t.Fatal(err)
	}
	o := options()
	o.CleanPaths = []string{"/opt/app/cache"}
	runScript(t, root, o)
	if after := treeDigest(t, host); after != before {
		t.Errorf("the script changed files outside MP_ROOT:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// remove_users with a keep_paths entry inside the user's home deletes the account but keeps the
// kept file (userdel -r would have removed the whole home).
func TestKeepPathsInsideARemovedUsersHome(t *testing.T) {
	root := testfixture.DirtyTree(t)
	keep := filepath.Join(root, "home/tester/app/keep.conf")
	os.MkdirAll(filepath.Dir(keep), 0o755)
	os.WriteFile(keep, []byte("kept\n"), 0o644)
	o := options()
	o.KeepPaths = append(o.KeepPaths, "/home/tester/app/keep.conf")
	runScript(t, root, o)
	if b, err := os.ReadFile(keep); err != nil || string(b) != "kept\n" {
		t.Errorf("keep_paths entry in a removed user's home: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "home/tester/.bash_history")); !os.IsNotExist(err) {
		t.Errorf("the rest of the removed user's home is still there: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/passwd")); strings.Contains(string(b), "\ntester:") {
		t.Error("the account is still in /etc/passwd")
	}
}

// A piped script (... | sudo sh) writes its scratch files to a private temporary directory that
// it removes, never to the caller's working directory.
func TestPipedScriptWritesNothingBesideTheCaller(t *testing.T) {
	root := testfixture.DirtyTree(t)
	script, err := steps.Render(options())
	if err != nil {
		t.Fatal(err)
	}
	cwd, tmp := t.TempDir(), t.TempDir()
	cmd := exec.Command("sh")
	cmd.Dir = cwd
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "MP_ROOT="+root, "TMPDIR="+tmp, "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("piped script: %v\n%s", err, out)
	}
	for _, d := range []string{cwd, tmp} {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			t.Errorf("the piped script left %d file(s) in %s: %v", len(ents), d, ents[0].Name())
		}
	}
}

// The ssh-keepalive step validates the edited configuration with sshd -t on a live system. With
// no host keys (the ssh-keys step removes them) that used to fail, so a second run aborted. It
// runs here against a private /etc/ssh (a bind mount in a mount namespace), twice.
func TestKeepaliveValidatesWithoutHostKeys(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare (util-linux) is needed")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatal("sshd (openssh-server) is needed")
	}
	etc := t.TempDir()
	if err := os.WriteFile(filepath.Join(etc, "sshd_config"), []byte("PasswordAuthentication no\nKbdInteractiveAuthentication no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := steps.Render(steps.Options{Steps: []string{"ssh-keepalive"}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "harden.sh")
	os.WriteFile(p, []byte(script), 0o700)
	for run := 1; run <= 2; run++ {
		cmd := exec.Command("unshare", "-m", "sh", "-c", `mount --bind "$1" /etc/ssh && mkdir -p /run/sshd && exec sh "$2"`, "_", etc, p)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		out, err := cmd.CombinedOutput()
		c := steps.NewCollector()
		for _, l := range strings.Split(string(out), "\n") {
			c.Line(l)
		}
		if err != nil || !c.Finished || len(c.Failed()) > 0 {
			t.Fatalf("run %d: %v, failed %+v\n%s", run, err, c.Failed(), out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(etc, "sshd_config"))
	if !strings.HasPrefix(string(b), "ClientAliveInterval 180\n") {
		t.Errorf("sshd_config:\n%s", b)
	}
	if ents, _ := os.ReadDir(etc); len(ents) != 1 {
		t.Errorf("/etc/ssh holds %d files after the runs, want sshd_config alone", len(ents))
	}
}

// Under MP_ROOT, a file of the tree hard-linked to a file outside it (a log, a configuration
// file) is never truncated or written in place: that would change the outside file too. Its
// name is unlinked and recreated, the step's result says so, and the outside file keeps its
// bytes.
func TestOfflineScriptNeverWritesThroughAHardLink(t *testing.T) {
	root := testfixture.DirtyTree(t)
	host := filepath.Join(filepath.Dir(root), "host")
	os.MkdirAll(host, 0o755)
	type linked struct{ inside, outside, content string }
	links := []linked{
		{"var/log/app.log", "app.log", "host log line 1\nhost log line 2\n"},       // logs: truncated
		{"etc/machine-id", "machine-id", "0123456789abcdef0123456789abcdef\n"},     // machine-id: truncated
		{"etc/waagent.conf", "waagent.conf", "AutoUpdate.Enabled=n\nHost.Own=1\n"}, // agent: edited
	}
	for _, l := range links {
		out := filepath.Join(host, l.outside)
		if err := os.WriteFile(out, []byte(l.content), 0o640); err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(root, l.inside)
		os.Remove(in)
		os.MkdirAll(filepath.Dir(in), 0o755)
		if err := os.Link(out, in); err != nil {
			t.Skipf("hard links between %s and %s: %v", host, root, err)
		}
	}
	c := runScript(t, root, options())
	for _, l := range links {
		if b, err := os.ReadFile(filepath.Join(host, l.outside)); err != nil || string(b) != l.content {
			t.Errorf("the outside file linked as /%s was changed: %q %v", l.inside, b, err)
		}
		in := filepath.Join(root, l.inside)
		fi, err := os.Stat(in)
		if err != nil {
			t.Fatalf("/%s: %v", l.inside, err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink != 1 {
			t.Errorf("/%s still has %d links", l.inside, st.Nlink)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("/%s: mode %v, want the old file's 0640", l.inside, fi.Mode().Perm())
		}
		said := false
		for _, r := range c.Results {
			for _, ch := range r.Changes {
				if strings.Contains(ch, "/"+l.inside) && strings.Contains(ch, "unlinking and recreating") && strings.Contains(ch, "2 hard links") {
					said = true
				}
			}
		}
		if !said {
			t.Errorf("no step result says /%s was unlinked and recreated: %+v", l.inside, c.Results)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "var/log/app.log")); len(b) != 0 {
		t.Errorf("the tree's /var/log/app.log was not emptied: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/waagent.conf")); !strings.Contains(string(b), "AutoUpdate.Enabled=y") {
		t.Errorf("the tree's /etc/waagent.conf was not edited: %q", b)
	}
	// and nothing was left beside them
	for _, d := range []string{"var/log", "etc"} {
		ents, _ := os.ReadDir(filepath.Join(root, d))
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".mp-new.") {
				t.Errorf("a temporary file was left: /%s/%s", d, e.Name())
			}
		}
	}
}
