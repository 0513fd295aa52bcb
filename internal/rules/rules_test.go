package rules_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// contextFor is what the check gives the rules: the image and the streaming pass's findings.
func contextFor(t *testing.T, img *inspect.Image) *rules.Context {
	t.Helper()
	p := plan.MustNew(plan.Choices{Profiles: []string{"azure-linux", "alibaba"}})
	content, err := engine.ScanContent(context.Background(), img, p, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &rules.Context{Image: img, Content: content, Vulnerabilities: engine.LoadVulnerabilities(context.Background(), img, p)}
}

const cleanSSHD = "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n"

// Each case changes one thing in the compliant tree; exactly the named rule must leave "pass",
// with the given status and an evidence line containing the given text; nothing else may.
var variants = []struct {
	name     string
	change   testfixture.Change
	rule     string
	status   rules.Status
	evidence string
}{
	{"keep-alive of 30 in a drop-in", testfixture.Change{
		"/etc/ssh/sshd_config":                 cleanSSHD,
		"/etc/ssh/sshd_config.d/50-cloud.conf": "ClientAliveInterval 30\n"},
		"ssh-client-alive-interval", rules.Warn, "50-cloud.conf"},
	{"keep-alive of 0", testfixture.Change{"/etc/ssh/sshd_config": "ClientAliveInterval 0\n"},
		"ssh-client-alive-interval", rules.Fail, "ClientAliveInterval 0"},
	{"drop-in overrides the main file", testfixture.Change{
		"/etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 180\n",
		"/etc/ssh/sshd_config.d/10-x.conf": "ClientAliveInterval 60\n"},
		"ssh-client-alive-interval", rules.Warn, "ClientAliveInterval 60"},
	{"keep-alive of 120", testfixture.Change{"/etc/ssh/sshd_config": "ClientAliveInterval 120\n"},
		"ssh-client-alive-interval", rules.Warn, "ClientAliveInterval 120"},
	{"keep-alive of 600", testfixture.Change{"/etc/ssh/sshd_config": "ClientAliveInterval=600\n"},
		"ssh-client-alive-interval", rules.Fail, "ClientAliveInterval 600"},
	{"keep-alive missing", testfixture.Change{"/etc/ssh/sshd_config": cleanSSHD},
		"ssh-client-alive-interval", rules.Fail, "no global ClientAliveInterval"},
	{"keep-alive only inside Match", testfixture.Change{"/etc/ssh/sshd_config": cleanSSHD + "Match User admin\n  ClientAliveInterval 180\n"},
		"ssh-client-alive-interval", rules.Fail, "inside Match"},
	{"swap in fstab", testfixture.Change{"/etc/fstab": "UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a / xfs defaults 0 1\n" +
		"UUID=0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b /boot ext2 defaults 0 2\nUUID=1A2B-3C4D /boot/efi vfat umask=0077 0 1\n/swapfile none swap sw 0 0\n"},
		"no-swap", rules.Fail, "swap entry for /swapfile"},
	{"cloud-init creates swap", testfixture.Change{"/etc/cloud/cloud.cfg.d/90-swap.cfg": "swap:\n  filename: /swap.img\n  size: 2G\n"},
		"no-swap", rules.Fail, "cloud-init swap"},
	{"swap unit enabled", testfixture.Change{"/etc/systemd/system/swap.target.wants/swapfile.swap": "-> /etc/systemd/system/swapfile.swap"},
		"no-swap", rules.Fail, "swapfile.swap"},
	{"agent service not enabled", testfixture.Change{"/etc/systemd/system/multi-user.target.wants/walinuxagent.service": testfixture.Remove},
		"azure-agent", rules.Fail, "not enabled for boot"},
	{"agent auto-update off", testfixture.Change{"/etc/waagent.conf": "AutoUpdate.Enabled=n\n"},
		"agent-auto-update", rules.Fail, "AutoUpdate.Enabled=n"},
	{"bash history with content", testfixture.Change{"/root/.bash_history": "ls\n"},
		"no-shell-history", rules.Fail, "3 bytes"},
	{"stale grub.cfg", testfixture.Change{"/boot/grub/grub.cfg": "menuentry 'x' {\n\tlinux /boot/vmlinuz-" + testfixture.KernelRelease + " root=/dev/sda1 ro\n\tinitrd /boot/initrd.img-" + testfixture.KernelRelease + "\n}\n"},
		"kernel-cmdline", rules.Fail, "stale"},
	{"defaults lack the parameters", testfixture.Change{"/etc/default/grub": "GRUB_CMDLINE_LINUX=\"quiet\"\n"},
		"kernel-cmdline", rules.Warn, "GRUB_CMDLINE_LINUX"},
	{"BLS entry without the parameters", testfixture.Change{
		"/boot/grub/grub.cfg":               testfixture.Remove,
		"/boot/loader/entries/abc-6.1.conf": "title Linux\nlinux /vmlinuz\noptions root=UUID=x ro console=ttyS0\n"},
		"kernel-cmdline", rules.Warn, "missing earlyprintk=ttyS0 rootdelay=300 in"},
	{"BLS entry without the serial console", testfixture.Change{
		"/boot/grub/grub.cfg":               testfixture.Remove,
		"/boot/loader/entries/abc-6.1.conf": "title Linux\nlinux /vmlinuz\noptions root=UUID=x ro earlyprintk=ttyS0 rootdelay=300\n"},
		"kernel-cmdline", rules.Fail, "missing console=ttyS0 in"},
	{"forbidden kernel parameter", testfixture.Change{
		"/boot/grub/grub.cfg":               testfixture.Remove,
		"/boot/loader/entries/abc-6.1.conf": "title Linux\nlinux /vmlinuz\noptions root=UUID=x ro console=ttyS0 earlyprintk=ttyS0 rootdelay=300 libata.atapi_enabled=0\n"},
		"kernel-cmdline", rules.Fail, "libata.atapi_enabled=0"},
	{"forbidden and missing kernel parameters: both named", testfixture.Change{
		"/boot/grub/grub.cfg":               testfixture.Remove,
		"/boot/loader/entries/abc-6.1.conf": "title Linux\nlinux /vmlinuz\noptions root=UUID=x ro console=ttyS0 libata.atapi_enabled=0\n"},
		"kernel-cmdline", rules.Fail, "forbidden kernel parameter(s) (libata.atapi_enabled=0); 1 of 1 boot entries lack earlyprintk=ttyS0 rootdelay=300"},
	{"old OpenSSL without its command: both named", testfixture.Change{
		"/var/lib/dpkg/status": "Package: openssl\nStatus: install ok installed\nVersion: 0.9.8o-4\n\n" +
			"Package: python3\nStatus: install ok installed\nVersion: 3.11.2-1+b1\n\nPackage: python3-pyasn1\nStatus: install ok installed\nVersion: 0.4.8-3\n\n" +
			"Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\n\nPackage: waagent\nStatus: install ok installed\nVersion: 2.9.0.4-2\n\n",
		"/usr/bin/openssl": testfixture.Remove},
		"openssl-version", rules.Fail, "OpenSSL 0.9.8o-4 is older than 1.0; openssl 0.9.8o-4 is installed as a library, but the openssl command is not"},
	{"sudo asks for root's password", testfixture.Change{"/etc/sudoers": "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
		"/etc/sudoers.d/90-build": "Defaults:%sudo targetpw\n"},
		"sudo-no-targetpw", rules.Fail, "Defaults:%sudo targetpw"},
	{"kernel without CIFS", testfixture.Change{"/boot/config-6.1.0-28-cloud-amd64": "CONFIG_WATCHDOG=y\n# CONFIG_CIFS is not set\nCONFIG_HYPERV=m\nCONFIG_HYPERV_STORAGE=m\nCONFIG_HYPERV_NET=m\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n"},
		"kernel-essential-config", rules.Fail, "CONFIG_CIFS"},
	{"kernel configuration missing", testfixture.Change{"/boot/config-6.1.0-28-cloud-amd64": testfixture.Remove},
		"kernel-essential-config", rules.Warn, "missing"},
	{"udev persistent-net generator", testfixture.Change{"/lib/udev/rules.d/75-persistent-net-generator.rules": "ACTION==\"add\", SUBSYSTEM==\"net\", IMPORT{program}=\"write_net_rules\"\n"},
		"no-mac-pinned-network", rules.Fail, "persistent-net generator"},
	{"OpenSSL library without the openssl command", testfixture.Change{"/usr/bin/openssl": testfixture.Remove},
		"openssl-version", rules.Fail, "/usr/bin/openssl"},
	{"firewall started by SysV init", testfixture.Change{"/etc/init.d/iptables": "#!/bin/sh\n", "/etc/rc2.d/S01iptables": "-> ../init.d/iptables"},
		"firewall-disabled", rules.Fail, "iptables started by SysV init"},
	{"static resolv.conf", testfixture.Change{"/etc/resolv.conf": "nameserver 192.0.2.53\n"},
		"no-resolv-conf", rules.Fail, "nameserver 192.0.2.53"},
	{"resolv.conf links to a static file", testfixture.Change{"/etc/resolv.conf": "-> resolv.conf.static", "/etc/resolv.conf.static": "nameserver 192.0.2.1\n"},
		"no-resolv-conf", rules.Fail, "resolv.conf.static"},
	{"root password", testfixture.Change{"/etc/shadow": "root:$6$salt$hash:19800:0:99999:7:::\n"},
		"locked-accounts", rules.Fail, "sha512crypt"},
	{"second UID 0", testfixture.Change{"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nadmin:x:0:0::/root:/bin/sh\n"},
		"single-uid0", rules.Fail, "admin"},
	{"ufw enabled", testfixture.Change{"/etc/ufw/ufw.conf": "ENABLED=yes\n",
		"/usr/lib/systemd/system/ufw.service":                     "[Service]\nExecStart=/lib/ufw/ufw-init start quiet\n[Install]\nWantedBy=multi-user.target\n",
		"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /usr/lib/systemd/system/ufw.service"},
		"firewall-disabled", rules.Fail, "ENABLED=yes"},
	{"MAC-pinned ifcfg", testfixture.Change{"/etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nHWADDR=00:15:5d:00:00:01\n"},
		"no-mac-pinned-network", rules.Fail, "HWADDR"},
	{"log left behind", testfixture.Change{"/var/log/cloud-init.log": "boot\n"},
		"empty-logs", rules.Fail, "cloud-init.log"},
	{"test key", testfixture.Change{"/root/.ssh/authorized_keys": "ssh-ed25519 AAAA test\n"},
		"no-ssh-keys", rules.Fail, "authorized_keys"},
	{"host key", testfixture.Change{"/etc/ssh/ssh_host_rsa_key.pub": "ssh-rsa AAAA\n"},
		"no-ssh-host-keys", rules.Fail, "host public key"},
	{"database password", testfixture.Change{"/opt/shop/config.yaml": "db:\n  password: \"hunter2hunter2\"\n"},
		"no-hardcoded-credentials", rules.Fail, "hun… (14 chars)"},
	{"machine ID baked in", testfixture.Change{"/etc/machine-id": "4f0c1e2d3b4a59687766554433221100\n"},
		"unique-machine-id", rules.Fail, "holds a machine ID (4f0c…)"},
	{"D-Bus machine ID as a file", testfixture.Change{"/etc/machine-id": "", "/var/lib/dbus/machine-id": "4f0c1e2d3b4a59687766554433221100\n"},
		"unique-machine-id", rules.Fail, "systemd copies it"},
	{"user account", testfixture.Change{"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nbuilder:x:1000:1000::/home/builder:/bin/bash\n"},
		"no-extra-users", rules.Fail, "builder"},
}

// alsoFails are the other rules a variant's one change rightly fails too.
var alsoFails = map[string][]string{
	"agent service not enabled": {"one-provisioning-agent"}, // nothing provisions the VM then
	"stale grub.cfg":            {"grub-boots-by-uuid"},     // its entry names the root as /dev/sda1
}

func TestEachTrapAloneOnACompliantImage(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.Variant(t, v.change))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			ctx := contextFor(t, img)
			all, _ := rules.ForProfiles([]string{"azure-linux", "alibaba"})
			for _, r := range all {
				res := r.Run(ctx)
				if r.ID == v.rule {
					var ev []string
					for _, e := range res.Evidence {
						ev = append(ev, fmt.Sprintf("%s:%d %s", e.Path, e.Line, e.Detail))
					}
					if res.Status != v.status {
						t.Errorf("%s is %s (%s), want %s; evidence %v", r.ID, res.Status, res.Message, v.status, ev)
					}
					if !strings.Contains(strings.Join(ev, "\n")+res.Message, v.evidence) {
						t.Errorf("%s evidence %q lacks %q", r.ID, ev, v.evidence)
					}
					continue
				}
				if want, ok := testfixture.NotBuiltForAlibaba[r.ID]; ok {
					if string(res.Status) != want {
						t.Errorf("rule %s, which the compliant tree is not built for, is %s (want %s): %s", r.ID, res.Status, want, res.Message)
					}
					continue
				}
				if res.Status != rules.Pass && res.Status != rules.NotApplicable && !slices.Contains(alsoFails[v.name], r.ID) {
					t.Errorf("unrelated rule %s is %s: %s", r.ID, res.Status, res.Message)
				}
			}
		})
	}
}

func TestCatalogueIsComplete(t *testing.T) {
	for _, r := range rules.All() {
		if r.ID == "" || r.Title == "" || r.Source == "" || r.Rationale == "" || r.Fix == "" || len(r.Profiles()) == 0 || r.Check == nil {
			t.Errorf("rule %q lacks metadata", r.ID)
		}
	}
	for _, p := range []string{"azure-linux", "alibaba"} {
		if rs, err := rules.ForProfiles([]string{p}); err != nil || len(rs) == 0 {
			t.Errorf("profile %s: %v", p, err)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := secrets.Redact("Sup3rS3cret"); strings.Contains(got, "Sup3") || got != "Su… (11 chars)" {
		t.Errorf("Redact = %q", got)
	}
	if got := secrets.Redact("abc"); got != "***" {
		t.Errorf("Redact(short) = %q", got)
	}
}

// A RHEL-style image: rpm database instead of dpkg, the agent service named waagent.service.
func TestRPMBasedImage(t *testing.T) {
	db := testfixture.RPMDB(t, "openssl:1:3.0.7:27.el9", "openssl-libs:1:3.0.7:27.el9", "python3:0:3.9.18:3.el9", "python3-pyasn1:0:0.4.8:6.el9",
		"WALinuxAgent:0:2.9.1.1:1.el9", "openssh-server:0:8.7p1:38.el9")
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{
		"/var/lib/dpkg/status":      testfixture.Remove,
		"/var/lib/rpm/rpmdb.sqlite": string(db),
		"/etc/systemd/system/multi-user.target.wants/walinuxagent.service": testfixture.Remove,
		"/etc/systemd/system/multi-user.target.wants/waagent.service":      "-> /usr/lib/systemd/system/waagent.service",
		"/usr/lib/systemd/system/waagent.service":                          "[Service]\nExecStart=/usr/sbin/waagent -daemon\n[Install]\nWantedBy=multi-user.target\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	inv, err := img.Packages()
	if err != nil || inv.Manager != "rpm" {
		t.Fatalf("inventory %+v, %v", inv, err)
	}
	ctx := &rules.Context{Image: img}
	for _, id := range []string{"azure-agent", "openssl-version", "python-version", "pyasn1-installed", "sshd-installed"} {
		r, _ := rules.ByID(id)
		if res := r.Run(ctx); res.Status != rules.Pass {
			t.Errorf("%s: %s %s %+v", id, res.Status, res.Message, res.Evidence)
		}
	}
}

// What a stock distribution ships is not a credential.
func TestNoCredentialFalsePositives(t *testing.T) {
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{
		"/etc/nsswitch.conf":   "passwd:         files systemd\ngroup:          files\nshadow:         files\n",
		"/etc/ssl/openssl.cnf": "# input_password = secret\n[ req ]\ninput_password = $ENV::PASS\n[insta]\nsecret = pass:insta # example server\nsecret = $insta::secret\n",
		"/etc/app/app.ini":     "; password = example-in-a-comment\npassword = ${DB_PASSWORD}\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, _ := rules.ByID("no-hardcoded-credentials")
	if res := r.Run(contextFor(t, img)); res.Status != rules.Pass {
		t.Errorf("false positives: %s %+v", res.Status, res.Evidence)
	}
}

// Images Azure accepts but a literal reading of the guidance rejected: swap on the resource disk
// through the agent, an empty history file, the keep-alive set in an Included drop-in, the
// agent's auto-update left at its default. Each alone, then all together, is COMPLIANT.
func TestImagesMicrosoftAccepts(t *testing.T) {
	accepted := map[string]testfixture.Change{
		"resource-disk swap": {"/etc/waagent.conf": "Provisioning.Agent=auto\nResourceDisk.Format=y\nResourceDisk.EnableSwap=y\nAutoUpdate.Enabled=y\n"},
		"empty history":      {"/root/.bash_history": ""},
		"keep-alive in a drop-in": {"/etc/ssh/sshd_config": cleanSSHD,
			"/etc/ssh/sshd_config.d/50-cloud.conf": "ClientAliveInterval 180\n"},
		"auto-update default": {"/etc/waagent.conf": "Provisioning.Agent=auto\nResourceDisk.Format=y\nResourceDisk.EnableSwap=n\n# AutoUpdate.Enabled=y\n"},
		"persistent-net generator masked": {"/lib/udev/rules.d/75-persistent-net-generator.rules": "IMPORT{program}=\"write_net_rules\"\n",
			"/etc/udev/rules.d/75-persistent-net-generator.rules": "-> /dev/null"},
		// under systemd a SysV rc link does not start a service that has a native unit
		"SysV link shadowed by a native unit": {"/etc/init.d/ufw": "#!/bin/sh\n", "/etc/rc2.d/S01ufw": "-> ../init.d/ufw",
			"/usr/lib/systemd/system/ufw.service": "[Service]\nExecStart=/bin/true\n", "/usr/lib/systemd/systemd": "systemd\n"},
	}
	all := testfixture.Change{}
	for _, ch := range accepted {
		for k, v := range ch {
			all[k] = v
		}
	}
	all["/etc/waagent.conf"] = "Provisioning.Agent=auto\nResourceDisk.Format=y\nResourceDisk.EnableSwap=y\n"
	accepted["all of them"] = all
	for name, ch := range accepted {
		t.Run(name, func(t *testing.T) {
			r, err := engine.Check(testfixture.Variant(t, ch), plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}}))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.Status != rules.Pass && f.Status != rules.NotApplicable {
					t.Errorf("%s is %s: %s %+v", f.Rule, f.Status, f.Message, f.Evidence)
				}
			}
			if !r.Compliant {
				t.Error("not compliant")
			}
		})
	}
}

// An account in allowed_users keeps its authorized_keys (LISA excludes the deployer), and a
// root key that only redirects the login ("Please login as the user ...") lets nobody in; any
// other key still fails.
func TestAuthorizedKeysOfAllowedUsers(t *testing.T) {
	redirect := `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \"azureuser\" rather than the user \"root\".';echo;sleep 10;exit 142" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q azureuser` + "\n"
	img := testfixture.Variant(t, testfixture.Change{
		"/etc/passwd":                          "root:x:0:0:root:/root:/bin/bash\nazureuser:x:1000:1000::/home/azureuser:/bin/bash\n",
		"/home/azureuser/.ssh/authorized_keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q azureuser\n",
		"/root/.ssh/authorized_keys":           redirect,
	})
	status := func(allowed ...string) rules.Status {
		r, err := engine.Check(img, plan.MustNew(plan.Choices{Profiles: []string{"azure-linux"}, Options: rules.Options{AllowedUsers: allowed}}))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			if f.Rule == "no-ssh-keys" {
				return f.Status
			}
		}
		return ""
	}
	if st := status("azureuser"); st != rules.Pass {
		t.Errorf("allowed user's key and a redirect-only root key: %s", st)
	}
	if st := status(); st != rules.Fail {
		t.Errorf("a key of an account not in allowed_users: %s", st)
	}
}
