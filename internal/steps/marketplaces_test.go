package steps_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// marketOptions are options() for another Linux profile.
func marketOptions(name string) steps.Options {
	o := options()
	o.ProfileName = name
	return o
}

// plantMarketplaceProblems adds to a DirtyTree what the new marketplaces' steps act on: weaker
// sshd settings in the main file, in a drop-in and in a Match block; credential files; a hash
// in /etc/passwd and a locked hash in /etc/shadow; DigitalOcean's agent directory.
func plantMarketplaceProblems(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{
		"etc/ssh/sshd_config": "PasswordAuthentication yes\nPermitRootLogin yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n" +
			"Match User backup\n  PasswordAuthentication=yes\n  PermitRootLogin no\nMatch Address 10.0.0.0/8\n  PermitRootLogin prohibit-password\n  KbdInteractiveAuthentication yes\n",
		"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
		"etc/ssh/sshd_config.d/60-cloudimg.conf":   "ChallengeResponseAuthentication \"yes\"\nClientAliveInterval 120\n",
		"root/.aws/credentials":                    "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
		"home/keeper/.netrc":                       "machine example.invalid login a password b\n",
		"home/keeper/.git-credentials":             "https://a:b@example.invalid\n",
		"home/keeper/.aws/config":                  "[default]\nregion = us-east-1\n",
		"opt/digitalocean/bin/do-agent":            "agent",
		"etc/shadow": "root:!$6$salt$abcdefgh:19800:0:99999:7:::\nsshd:*:19800::::::\ntester:$y$j9T$x$y:19800::::::\nkeeper::19800::::::\n" +
			"locked:!!:19800::::::\n",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pw, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	pw = append(pw, []byte("legacy:$1$abc$def:1003:1003::/home/legacy:/bin/sh\n+nisuser::::::\n")...)
	os.WriteFile(filepath.Join(root, "etc/passwd"), pw, 0o644)
}

// installCloudInit puts cloud-init into the tree as Debian's package leaves it (a build for
// these marketplaces starts from a cloud image that has it) and the build's instance data.
func installCloudInit(t *testing.T, root string) {
	t.Helper()
	files, exec := testfixture.MarketplaceCloudInit()
	files["/var/lib/cloud/instances/i-0123456789abcdef0/user-data.txt"] = "#cloud-config\n"
	files["/var/lib/cloud/instance"] = "-> /var/lib/cloud/instances/i-0123456789abcdef0"
	for p, c := range files {
		full := filepath.Join(root, strings.TrimPrefix(p, "/"))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.Remove(full)
		var err error
		if target, ok := strings.CutPrefix(c, "-> "); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range exec {
		os.Chmod(filepath.Join(root, strings.TrimPrefix(p, "/")), 0o755)
	}
	st := filepath.Join(root, "var/lib/dpkg/status")
	b, _ := os.ReadFile(st)
	b = append(b, []byte("Package: cloud-init\nStatus: install ok installed\nArchitecture: all\nVersion: 22.4.2-1+deb12u1\n\n")...)
	os.WriteFile(st, b, 0o644)
}

func readTree(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return string(b)
}

// Each new Linux profile's script hardens a build's tree the way its marketplace asks, keeps
// every byte outside its documented set, and changes nothing the second time.
func TestMarketplaceScriptsHardenATree(t *testing.T) {
	for _, name := range []string{profile.AWS, profile.DigitalOcean, profile.Oracle} {
		t.Run(name, func(t *testing.T) {
			root := testfixture.DirtyTree(t)
			plantMarketplaceProblems(t, root)
			installCloudInit(t, root)
			// the compliant tree's kernel is random bytes; supported-architecture reads its header
			if err := os.WriteFile(filepath.Join(root, "boot/vmlinuz-6.1.0-28-cloud-amd64"), testfixture.KernelHeader(), 0o644); err != nil {
				t.Fatal(err)
			}
			first := runScript(t, root, marketOptions(name))
			t.Logf("first run:\n%s", first.Summary())
			for p, want := range testfixture.Sentinels {
				if got := readTree(t, root, p); got != want {
					t.Errorf("sentinel %s changed: %q", p, got)
				}
			}
			if got := readTree(t, root, "home/keeper/.aws/config"); got != "[default]\nregion = us-east-1\n" {
				t.Errorf("~/.aws/config is not a credential file, yet it changed: %q", got)
			}
			for _, gone := range []string{"root/.aws/credentials", "home/keeper/.netrc", "home/keeper/.git-credentials", "root/.ssh/authorized_keys", "root/.bash_history", "etc/ssh/ssh_host_ed25519_key"} {
				if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
					t.Errorf("/%s is still there (%v)", gone, err)
				}
			}
			if _, err := os.Lstat(filepath.Join(root, "opt/digitalocean")); os.IsNotExist(err) != (name == profile.DigitalOcean) {
				t.Errorf("/opt/digitalocean: removed=%v on %s (only DigitalOcean's profile removes it)", os.IsNotExist(err), name)
			}
			// no hash is left, locked or not; compat lines are NIS's
			wantShadow := "root:!:19800:0:99999:7:::\nsshd:*:19800::::::\nkeeper:!:19800::::::\nlocked:!!:19800::::::\n"
			if got := readTree(t, root, "etc/shadow"); got != wantShadow {
				t.Errorf("/etc/shadow:\n%s\nwant:\n%s", got, wantShadow)
			}
			if got := readTree(t, root, "etc/passwd"); strings.Contains(got, "$1$") || !strings.Contains(got, "legacy:*:1003:") || !strings.Contains(got, "+nisuser::::::") {
				t.Errorf("/etc/passwd: %q", got)
			}
			drop := "etc/ssh/sshd_config.d/00-marketplace-harden.conf"
			main := readTree(t, root, "etc/ssh/sshd_config")
			if name == profile.DigitalOcean {
				// DigitalOcean's droplets log in as root, with the password DigitalOcean mails
				// when no key is given: its profile leaves sshd alone
				if _, err := os.Stat(filepath.Join(root, drop)); !os.IsNotExist(err) || !strings.HasPrefix(main, "PasswordAuthentication yes\n") {
					t.Errorf("digitalocean changed sshd: drop-in %v, sshd_config %q", err, main)
				}
			} else {
				rootLogin := map[string]string{profile.AWS: "prohibit-password", profile.Oracle: "no"}[name]
				if got := readTree(t, root, drop); got != testfixture.SSHAuthDropIn(rootLogin) || !strings.Contains(got, "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nChallengeResponseAuthentication no\nPermitRootLogin "+rootLogin+"\n") {
					t.Errorf("drop-in:\n%s", got)
				}
				wantMain := "Include /etc/ssh/sshd_config.d/*.conf\n" +
					"# marketplace-harden (ssh-auth): PasswordAuthentication yes\n# marketplace-harden (ssh-auth): PermitRootLogin yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n" +
					"Match User backup\n# marketplace-harden (ssh-auth):   PasswordAuthentication=yes\n  PermitRootLogin no\nMatch Address 10.0.0.0/8\n"
				if name == profile.Oracle {
					wantMain += "# marketplace-harden (ssh-auth):   PermitRootLogin prohibit-password\n"
				} else {
					wantMain += "  PermitRootLogin prohibit-password\n"
				}
				wantMain += "# marketplace-harden (ssh-auth):   KbdInteractiveAuthentication yes\n"
				if main != wantMain {
					t.Errorf("sshd_config:\n%s\nwant:\n%s", main, wantMain)
				}
				if got := readTree(t, root, "etc/ssh/sshd_config.d/60-cloudimg.conf"); got != "# marketplace-harden (ssh-auth): ChallengeResponseAuthentication \"yes\"\nClientAliveInterval 120\n" {
					t.Errorf("60-cloudimg.conf: %q", got)
				}
			}
			second := runScript(t, root, marketOptions(name))
			for _, r := range second.Results {
				if len(r.Changes) > 0 {
					t.Errorf("second run, %s changed: %v", r.Step, r.Changes)
				}
			}
			// the hardened tree passes the profile's checks
			img := testfixture.Filesystem(t, "ext4", root, "96M")
			pl, err := plan.New(plan.Choices{Profiles: []string{name}, Options: rules.Options{AllowedUsers: []string{"keeper"}}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := engine.Check(img, pl)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				if f.Status == rules.Fail || f.Status == rules.Error {
					t.Errorf("after hardening for %s, %s is %s: %s %+v", name, f.Rule, f.Status, f.Message, f.Evidence)
				}
			}
		})
	}
}

func TestMarketplaceDryRunsChangeNothing(t *testing.T) {
	for _, name := range []string{profile.AWS, profile.DigitalOcean, profile.Oracle} {
		t.Run(name, func(t *testing.T) {
			root := testfixture.DirtyTree(t)
			plantMarketplaceProblems(t, root)
			// no drop-in directory yet: the dry run says it would create it, and does not
			os.RemoveAll(filepath.Join(root, "etc/ssh/sshd_config.d"))
			before := treeDigest(t, root)
			o := marketOptions(name)
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
		})
	}
}

// Under MP_ROOT the new steps never reach outside the root: credential files behind a home
// that is a symlink to a host directory, an sshd drop-in directory that is one.
func TestMarketplaceScriptsNeverLeaveTheRoot(t *testing.T) {
	for _, name := range []string{profile.AWS, profile.DigitalOcean, profile.Oracle} {
		t.Run(name, func(t *testing.T) {
			root := testfixture.DirtyTree(t)
			host := filepath.Join(t.TempDir(), "host")
			for _, f := range []string{".aws/credentials", ".netrc", ".git-credentials", "sshd.d/50-x.conf", "opt/keep"} {
				p := filepath.Join(host, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte("PasswordAuthentication yes\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := treeDigest(t, host)
			if err := os.Symlink(host, filepath.Join(root, "home/evil")); err != nil {
				t.Fatal(err)
			}
			os.RemoveAll(filepath.Join(root, "etc/ssh/sshd_config.d"))
			if err := os.Symlink(filepath.Join(host, "sshd.d"), filepath.Join(root, "etc/ssh/sshd_config.d")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(host, "opt"), filepath.Join(root, "opt/digitalocean")); err != nil {
				t.Fatal(err)
			}
			passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
			passwd = append(passwd, []byte("linked:x:1501:1501::/home/evil:/bin/sh\nescape:x:1502:1502::"+strings.Repeat("/..", 12)+host+":/bin/sh\n")...)
			os.WriteFile(filepath.Join(root, "etc/passwd"), passwd, 0o644)
			runScriptAllowingFailures(t, root, marketOptions(name))
			if after := treeDigest(t, host); after != before {
				t.Errorf("the script changed files outside MP_ROOT:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// On a running system the ssh-auth step's result is what sshd itself resolves, for the global
// settings and for a connection a Match block selects; a second run changes nothing; a
// configuration sshd rejects is restored byte for byte. It runs against a private /etc/ssh (a
// bind mount in a mount namespace).
func TestSSHAuthOnARunningSystem(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare (util-linux) is needed")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatal("sshd (openssh-server) is needed")
	}
	run := func(t *testing.T, etc, profileName string, extra ...string) (*steps.Collector, string, error) {
		script, err := steps.Render(steps.Options{ProfileName: profileName, Steps: []string{"ssh-auth"}, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "harden.sh")
		os.WriteFile(p, []byte(script), 0o700)
		cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", `mount --bind "$1" /etc/ssh && mkdir -p /run/sshd && sh "$2" && shift 2 && exec "$@"`, "_", etc, p}, extra...)...)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		out, err := cmd.CombinedOutput()
		c := steps.NewCollector()
		for _, l := range strings.Split(string(out), "\n") {
			c.Line(l)
		}
		return c, string(out), err
	}
	const weak = "PasswordAuthentication yes\nKbdInteractiveAuthentication yes\nPermitRootLogin yes\nMatch User backup\n  PasswordAuthentication yes\n  PermitRootLogin yes\n"
	for _, tc := range []struct{ profile, rootLogin string }{{profile.AWS, "without-password"}, {profile.Oracle, "no"}} {
		t.Run(tc.profile, func(t *testing.T) {
			etc := t.TempDir()
			os.WriteFile(filepath.Join(etc, "sshd_config"), []byte(weak), 0o644)
			hostKey := filepath.Join(t.TempDir(), "hk")
			if b, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen: %v %s", err, b)
			}
			for i := 1; i <= 2; i++ {
				// after the step, sshd resolves the settings for root and for the Match's user
				c, out, err := run(t, etc, tc.profile, "sh", "-c", `sshd -T -f /etc/ssh/sshd_config -h "$1" && echo == && sshd -T -f /etc/ssh/sshd_config -h "$1" -C user=backup,host=h,addr=10.1.1.1`, "_", hostKey)
				if err != nil || !c.Finished || len(c.Failed()) > 0 {
					t.Fatalf("run %d: %v, failed %+v\n%s", i, err, c.Failed(), out)
				}
				if i == 2 && c.Changed() != 0 {
					t.Errorf("second run changed %d things", c.Changed())
				}
				global, match, _ := strings.Cut(strings.ToLower(out), "\n==\n")
				for _, eff := range []string{global, match} {
					for _, want := range []string{"passwordauthentication no", "kbdinteractiveauthentication no"} {
						if !slices.Contains(strings.Split(eff, "\n"), want) {
							t.Errorf("run %d: sshd -T lacks %q:\n%s", i, want, eff)
						}
					}
					lines := strings.Split(eff, "\n")
					if !slices.Contains(lines, "permitrootlogin "+tc.rootLogin) && !(tc.rootLogin == "without-password" && slices.Contains(lines, "permitrootlogin prohibit-password")) {
						t.Errorf("run %d: sshd -T does not say permitrootlogin %s", i, tc.rootLogin)
					}
				}
			}
		})
	}
	t.Run("rejected configuration is restored", func(t *testing.T) {
		etc := t.TempDir()
		bad := weak + "NoSuchKeyword yes\n"
		os.WriteFile(filepath.Join(etc, "sshd_config"), []byte(bad), 0o644)
		os.MkdirAll(filepath.Join(etc, "sshd_config.d"), 0o755)
		os.WriteFile(filepath.Join(etc, "sshd_config.d", "50-cloud-init.conf"), []byte("PasswordAuthentication yes\n"), 0o644)
		c, out, _ := run(t, etc, profile.AWS)
		if f := c.Failed(); len(f) != 1 || f[0].Step != "ssh-auth" || !strings.Contains(out, "sshd -t rejected the edited configuration; the original files are restored") {
			t.Fatalf("failed %+v\n%s", f, out)
		}
		if b, _ := os.ReadFile(filepath.Join(etc, "sshd_config")); string(b) != bad {
			t.Errorf("sshd_config not restored: %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(etc, "sshd_config.d", "50-cloud-init.conf")); string(b) != "PasswordAuthentication yes\n" {
			t.Errorf("50-cloud-init.conf not restored: %q", b)
		}
		if ents, _ := os.ReadDir(filepath.Join(etc, "sshd_config.d")); len(ents) != 1 {
			t.Errorf("the drop-in was left behind: %d files", len(ents))
		}
	})
}

// Every profile selects steps for its OS, and every marketplace a step names has a profile for
// that step's OS: the steps docs have a column for it.
func TestEveryProfileHasSteps(t *testing.T) {
	for _, p := range profile.All() {
		o := steps.Options{ProfileName: p.Name}
		if p.OS == profile.Windows {
			o.OS = steps.OSWindows
		}
		if len(selectedIDs(t, o)) < 5 {
			t.Errorf("profile %s selects %v", p.Name, selectedIDs(t, o))
		}
	}
	for os, list := range map[string][]*steps.Step{profile.Linux: steps.Linux(), profile.Windows: steps.Windows()} {
		for _, s := range list {
			for _, m := range s.Markets {
				if _, ok := profile.For(m, os); !ok {
					t.Errorf("%s step %s names marketplace %s, which has no %s profile", os, s.ID, m, os)
				}
			}
		}
	}
	md := steps.Markdown()
	for _, want := range []string{"| Step | azure-linux | alibaba | aws | digitalocean | oracle | What it does |", "| Step | azure-windows | alibaba-windows | aws-windows | What it does |",
		"| [`ssh-auth`](#ssh-auth) |  |  | yes |  | yes |", "| [`droplet-agent`](#droplet-agent) |  |  |  | yes |  |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the steps docs lack %q", want)
		}
	}
}

// Offline, DigitalOcean's agent packages cannot be purged: the droplet-agent step fails and
// says so, and leaves /opt/digitalocean (the package's files) for a run on the live system.
func TestDropletAgentNeedsARunningSystemToPurge(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Fatal("dpkg-query (dpkg) is needed")
	}
	root := testfixture.DirtyTree(t)
	st := filepath.Join(root, "var/lib/dpkg/status")
	b, _ := os.ReadFile(st)
	b = append(b, []byte("Package: droplet-agent\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2.8\n\n")...)
	os.WriteFile(st, b, 0o644)
	os.MkdirAll(filepath.Join(root, "opt/digitalocean/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "opt/digitalocean/bin/droplet-agent"), []byte("agent"), 0o755)
	o := marketOptions(profile.DigitalOcean)
	o.Steps = []string{"droplet-agent"}
	c, stderr, _, err := runScriptAllowingFailures(t, root, o)
	if f := c.Failed(); err == nil || len(f) != 1 || f[0].Step != "droplet-agent" || !strings.Contains(stderr, "droplet-agent is installed and packages cannot be removed offline") {
		t.Errorf("failed %+v, err %v, stderr %s", f, err, stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "opt/digitalocean/bin/droplet-agent")); err != nil {
		t.Errorf("/opt/digitalocean was removed while its package is installed: %v", err)
	}
}
