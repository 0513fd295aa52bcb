package testfixture

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// MarketRootUUID is the root filesystem UUID of the marketplace images (MarketplaceFixture.Disk):
// their fstab names it.
const MarketRootUUID = "5b2c8d1e-7a4f-4c3b-9e6d-1f0a2b3c4d5e"

// Planted is one problem a dirty marketplace image carries, for the rule that must flag it.
type Planted struct {
	Rule string // the rule's ID
	Path string // the in-image path its finding names (in evidence or message); "" when none
	What string // what was planted, for failure messages
}

// MarketplaceFixture is one marketplace profile's pair of images, as changes to the compliant
// tree (Variant's): Clean is what marketplace-harden's profile leaves plus what the marketplace
// wants installed (cloud-init, a firewall); Dirty, applied over Clean, plants one problem per
// check of the profile, listed in Planted. Exec are in-image files made executable.
type MarketplaceFixture struct {
	Profile string
	Clean   Change
	Dirty   Change
	Exec    []string
	Planted []Planted
	// Unplanted are checks of the profile the dirty image does not plant, with the reason.
	Unplanted map[string]string
	// BootCode: sector 0 of the clean disk holds boot code (a BIOS boot loader's first bytes);
	// the dirty disk's does not.
	BootCode bool
}

// CleanDisk builds the clean image: a whole disk (MBR, one ext4 root with MarketRootUUID).
func (f MarketplaceFixture) CleanDisk(t testing.TB) string {
	t.Helper()
	disk := marketDisk(t, f.Clean, f.Exec)
	if f.BootCode {
		writeBootCode(t, disk)
	}
	return disk
}

// writeBootCode puts what a BIOS boot sector starts with (a jump over the parameter area) at
// the start of sector 0, before the partition table sfdisk wrote at 446.
func writeBootCode(t testing.TB, disk string) {
	t.Helper()
	f, err := os.OpenFile(disk, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xeb, 0x63, 0x90}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// DirtyDisk builds the dirty image: the clean one with Dirty applied over it.
func (f MarketplaceFixture) DirtyDisk(t testing.TB) string {
	t.Helper()
	c := maps.Clone(f.Clean)
	maps.Copy(c, f.Dirty)
	return marketDisk(t, c, f.Exec)
}

// marketDisk is DiskVariant with files made executable.
func marketDisk(t testing.TB, changes Change, exec []string) string {
	t.Helper()
	tree := variantTree(t, changes)
	for _, p := range exec {
		full := filepath.Join(tree, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if _, err := os.Lstat(full); err != nil {
			continue // removed by the dirty changes
		}
		if err := os.Chmod(full, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Dir(tree)
	part, disk := filepath.Join(dir, "part.img"), filepath.Join(dir, "disk.raw")
	runAll(t, nil, [][]string{
		{"mke2fs", "-q", "-F", "-t", "ext4", "-U", MarketRootUUID, "-L", "root", "-d", tree, part, "64M"},
		{"truncate", "-s", "65M", disk},
		{"sh", "-c", "printf 'label: dos\\nstart=2048, type=83, bootable\\n' | sfdisk -q " + disk},
		{"dd", "if=" + part, "of=" + disk, "bs=1M", "seek=1", "conv=notrunc", "status=none"},
	})
	return disk
}

// The contents the fixtures share.
const (
	marketFstab = "# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=" + MarketRootUUID + " / ext4 errors=remount-ro 0 1\n"
	// the ssh-auth step's drop-in (internal/steps), for AWS and for Oracle
	sshAuthDropIn   = "# marketplace-harden (ssh-auth): read first, so these are the effective values\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nChallengeResponseAuthentication no\nPermitRootLogin "
	cloudCfg        = "# Debian's cloud.cfg, as cloud-init 22.4 ships it (abridged)\nusers:\n  - default\ndisable_root: true\nssh_pwauth: false\npreserve_hostname: false\ncloud_init_modules:\n  - migrator\n  - seed_random\n  - bootcmd\n  - write-files\n  - growpart\n  - resizefs\n  - disk_setup\n  - mounts\n  - set_hostname\n  - update_hostname\n  - update_etc_hosts\n  - ca-certs\n  - rsyslog\n  - users-groups\n  - ssh\ncloud_config_modules:\n  - locale\n  - set-passwords\n  - ntp\n  - timezone\n  - runcmd\ncloud_final_modules:\n  - scripts-per-once\n  - scripts-per-boot\n  - scripts-per-instance\n  - scripts-user\n  - ssh-authkey-fingerprints\n  - keys-to-console\n  - final-message\nsystem_info:\n  distro: debian\n  default_user:\n    name: debian\n    lock_passwd: True\n    gecos: Debian\n    groups: [adm, audio, cdrom, dialout, dip, floppy, netdev, plugdev, sudo, video]\n    sudo: [\"ALL=(ALL) NOPASSWD:ALL\"]\n    shell: /bin/bash\n"
	deployHash      = "$6$rounds=5000$fixturesalt$Q9nH2rM1x0yVwZb8c5rQm9eLr6A2o9l5a0Rr9jYcB1x3m0ZC1uJtq4lq9Q7r7hFQXkq5fJZsE8p2nYtq0mQxW."
	plantedKey      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LXJlbW92ZS1tZS1iZWZvcmUtc2hpcHBpbmc build@example.invalid\n"
	plantedHostKey  = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n"
	plantedSettings = "[database]\nhost = db.internal\npassword = Sup3rS3cretPassw0rd\n"
)

// SSHAuthDropIn is the drop-in marketplace-harden's ssh-auth step writes (in
// /etc/ssh/sshd_config.d/00-marketplace-harden.conf) for a PermitRootLogin value; the steps'
// tests hold the step to it, so the clean images carry what the provisioner leaves.
func SSHAuthDropIn(rootLogin string) string { return sshAuthDropIn + rootLogin + "\n" }

// cloudInit is cloud-init installed and enabled at boot as Debian's package leaves it (CloudInit)
// with Debian's cloud.cfg (the growpart and resizefs modules on) and growpart
// (cloud-guest-utils); the files to make executable.
func cloudInit() (Change, []string) {
	c := With(CloudInit(), Change{
		"/usr/bin/growpart":    "#!/bin/sh\n# growpart (cloud-guest-utils 0.33)\n",
		"/etc/cloud/cloud.cfg": cloudCfg,
	})
	return c, []string{"/usr/bin/cloud-init", "/usr/bin/growpart", "/lib/systemd/system-generators/cloud-init-generator"}
}

// MarketplaceCloudInit is what the marketplace images' cloud-init installs: for tests that put
// it into a tree of their own (Change values; the second list is made executable).
func MarketplaceCloudInit() (Change, []string) { return cloudInit() }

// dpkgStatus is the compliant tree's package database with each entry of replace (package name
// => its whole paragraph, "" to drop it) put in place of the package's paragraph or appended.
func dpkgStatus(t testing.TB, replace map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), "trees", "clean", "var", "lib", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	done := map[string]bool{}
	for _, para := range strings.Split(strings.TrimSpace(string(b)), "\n\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(para, "Package: "), "\n")
		if r, ok := replace[name]; ok {
			done[name] = true
			if r != "" {
				out = append(out, strings.TrimSpace(r))
			}
			continue
		}
		out = append(out, para)
	}
	names := make([]string, 0, len(replace))
	for n := range replace {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !done[n] && replace[n] != "" {
			out = append(out, strings.TrimSpace(replace[n]))
		}
	}
	return strings.Join(out, "\n\n") + "\n\n"
}

func dpkgEntry(name, version string) string {
	return "Package: " + name + "\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: " + version + "\nDescription: " + name + "\n"
}

// The dirty images' package database: openssl before the fix of testfixture.DemoOpenSSLRecord
// (3.0.11-1~deb12u2), so that security-updates-installed fails with that advisory.
const oldOpenSSL = "3.0.9-1"

// MarketplaceOSVRecords is the vulnerability data to judge the marketplace images with:
// DemoOpenSSLRecord (Debian 12) and the same advisory for the dirty images' releases (Debian 10,
// Ubuntu 24.10), so that their openssl before the fix fails security-updates-installed while
// the clean images' (Debian 12, 3.0.14) passes. Test data, not real advisories.
func MarketplaceOSVRecords() []string {
	out := []string{DemoOpenSSLRecord()}
	for i, eco := range []string{"Debian:10", "Ubuntu:24.10"} {
		out = append(out, fmt.Sprintf(`{"id": "MARKETPLACE-TEST-OPENSSL-%d", "modified": "%s", "summary": "test data, not a real advisory: openssl in %s fixed in 3.0.11-1~deb12u2",
  "affected": [{"package": {"ecosystem": %q, "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}]}`,
			i+1, time.Now().UTC().Format(time.RFC3339), eco, eco))
	}
	return out
}

// bzImage is the start of an x86-64 kernel as the boot protocol lays it out (Documentation/
// arch/x86/boot.rst): the boot sector's signature, "HdrS", protocol 2.15 and XLF_KERNEL_64. The
// compliant tree's kernel is random bytes, which say no architecture.
var bzImage = func() string {
	b := make([]byte, 4096)
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	copy(b[0x202:], "HdrS")
	b[0x206], b[0x207] = 0x0f, 0x02
	b[0x236] = 0x01
	return string(b)
}()

// KernelHeader is bzImage's bytes: a kernel whose header says x86-64, for trees of the tests'
// own (the compliant tree's kernel says no architecture).
func KernelHeader() []byte { return []byte(bzImage) }

// elf32 is a 32-bit i386 ELF header (a program of the wrong architecture).
var elf32 = "\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00\x01\x00\x00\x00" + strings.Repeat("\x00", 4096)

// AlibabaClean is the clean image for Alibaba Cloud's image check, as changes to the compliant
// tree: cloud-init with growpart and resizefs (the root grows at first boot), a kernel whose
// header says x86-64 with NVMe built in and the virtio drivers in its initramfs, and a grub.cfg
// that boots the marketplace disk's root by UUID; the disk has boot code (MarketplaceFixture
// with BootCode). The second value lists the files to make executable.
func AlibabaClean(t testing.TB) (Change, []string) {
	t.Helper()
	ci, exec := cloudInit()
	c := maps.Clone(ci)
	maps.Copy(c, Change{
		"/etc/fstab":                     marketFstab,
		"/boot/vmlinuz-" + KernelRelease: bzImage,
		"/boot/config-" + KernelRelease:  KernelConfig(t, "CONFIG_NVME_CORE=y", "CONFIG_BLK_DEV_NVME=y"),
		"/boot/initrd.img-" + KernelRelease: string(Initrd(t, KernelRelease, "zstd", map[string]string{
			"virtio_pci": "drivers/virtio", "virtio_blk": "drivers/block", "virtio_net": "drivers/net"})),
		"/boot/grub/grub.cfg": "set default=0\nmenuentry 'Debian GNU/Linux' {\n\tsearch --no-floppy --fs-uuid --set=root " + MarketRootUUID +
			"\n\tlinux\t/boot/vmlinuz-" + KernelRelease + " root=UUID=" + MarketRootUUID + " ro console=tty1 console=ttyS0\n\tinitrd\t/boot/initrd.img-" + KernelRelease + "\n}\n",
		"/var/lib/dpkg/status": dpkgStatus(t, map[string]string{"cloud-init": dpkgEntry("cloud-init", "22.4.2-1+deb12u1"), "cloud-guest-utils": dpkgEntry("cloud-guest-utils", "0.33-1")}),
	})
	return c, exec
}

// MarketplaceFixtures are the clean and dirty images of the aws, digitalocean and oracle
// profiles. Judge them with the vulnerability data of DemoOpenSSLRecord.
func MarketplaceFixtures(t testing.TB) []MarketplaceFixture {
	t.Helper()
	ci, exec := cloudInit()
	withCloudInit := func(c Change) Change {
		out := maps.Clone(ci)
		maps.Copy(out, c)
		out["/etc/fstab"] = marketFstab
		out["/boot/vmlinuz-6.1.0-28-cloud-amd64"] = bzImage
		return out
	}
	installed := map[string]string{"cloud-init": dpkgEntry("cloud-init", "22.4.2-1+deb12u1"), "cloud-guest-utils": dpkgEntry("cloud-guest-utils", "0.33-1")}
	status := func(extra map[string]string) string {
		m := maps.Clone(installed)
		maps.Copy(m, extra)
		return dpkgStatus(t, m)
	}
	oldSSL := map[string]string{"openssl": dpkgEntry("openssl", oldOpenSSL), "libssl3": dpkgEntry("libssl3", oldOpenSSL)}
	debian10 := "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\nVERSION=\"10 (buster)\"\nID=debian\n"
	return []MarketplaceFixture{
		{
			Profile: "aws",
			Exec:    exec,
			Clean: withCloudInit(Change{
				"/var/lib/dpkg/status":                              status(nil),
				"/etc/ssh/sshd_config.d/00-marketplace-harden.conf": SSHAuthDropIn("prohibit-password"),
			}),
			Dirty: Change{
				// cloud-init's drop-in with ssh_pwauth: true, and no drop-in of marketplace-harden
				"/etc/ssh/sshd_config.d/00-marketplace-harden.conf": Remove,
				"/etc/ssh/sshd_config.d/50-cloud-init.conf":         "PasswordAuthentication yes\n",
				"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\nClientAliveInterval 180\nSubsystem sftp /usr/lib/openssh/sftp-server\n" +
					"Match Address 10.0.0.0/8\n  PermitRootLogin yes\n",
				"/etc/passwd":                 "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n_chrony:x:101:102:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin\nadmin:x:1000:1000:admin:/home/admin:/bin/bash\n",
				"/etc/shadow":                 "root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\n_chrony:!:19800::::::\nadmin::19800:0:99999:7:::\n",
				"/root/.ssh/authorized_keys":  plantedKey,
				"/opt/app/settings.ini":       plantedSettings,
				"/etc/crypttab":               "# <target name> <source device> <key file> <options>\ndata UUID=2f3e4d5c-6b7a-4c8d-9e0f-1a2b3c4d5e6f none luks,discard\n",
				"/usr/bin/sh":                 elf32,
				"/etc/os-release":             debian10,
				"/var/lib/dpkg/status":        status(oldSSL),
				"/usr/local/bin/xmrig-helper": PlantedMalware,
			},
			Planted: []Planted{
				{"ssh-password-auth-disabled", "/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes in cloud-init's drop-in"},
				{"ssh-root-password-login-disabled", "/etc/ssh/sshd_config", "PermitRootLogin yes in a Match block"},
				{"locked-accounts", "/etc/shadow", "an empty password (admin)"},
				{"no-ssh-keys", "/root/.ssh/authorized_keys", "root's authorized_keys"},
				{"no-hardcoded-credentials", "/opt/app/settings.ini", "a database password"},
				{"no-encrypted-volumes", "/etc/crypttab", "a LUKS volume opened at boot"},
				{"supported-architecture", "/usr/bin/sh", "a 32-bit i386 /bin/sh"},
				{"supported-release", "/etc/os-release", "Debian 10, past its end of life"},
				{"security-updates-installed", "", "openssl " + oldOpenSSL + ", before DEMO-OPENSSL-1's fix"},
				{"no-malware", "/usr/local/bin/xmrig-helper", "the planted malware sample (clamd)"},
			},
		},
		{
			Profile: "digitalocean",
			Exec:    exec,
			Clean: withCloudInit(Change{
				"/var/lib/dpkg/status":                status(map[string]string{"ufw": dpkgEntry("ufw", "0.36.2-1")}),
				"/etc/ufw/ufw.conf":                   "# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n",
				"/usr/sbin/ufw":                       "#!/usr/bin/python3\n# ufw\n",
				"/usr/lib/systemd/system/ufw.service": "[Unit]\nDescription=Uncomplicated firewall\nBefore=network.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/lib/ufw/ufw-init start quiet\n[Install]\nWantedBy=multi-user.target\n",
				"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service",
			}),
			Dirty: Change{
				"/etc/os-release":                     "PRETTY_NAME=\"Ubuntu 24.10\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.10\"\nVERSION=\"24.10 (Oracular Oriole)\"\nID=ubuntu\nID_LIKE=debian\n",
				"/etc/cloud/cloud-init.disabled":      "",
				"/etc/ufw/ufw.conf":                   "# /etc/ufw/ufw.conf\nENABLED=no\nLOGLEVEL=low\n",
				"/var/log/auth.log":                   "Dec  3 10:00:00 build sshd[412]: Accepted publickey for root from 192.0.2.10 port 50122 ssh2\n",
				"/etc/shadow":                         "root:" + deployHash + ":19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\n_chrony:!:19800::::::\n",
				"/root/.ssh/authorized_keys":          plantedKey,
				"/root/.ssh/config":                   "Host build\n  HostName 192.0.2.10\n",
				"/root/.bash_history":                 strings.Repeat("apt-get install -y nginx\n", 10),
				"/opt/digitalocean/bin/droplet-agent": "droplet-agent",
				"/var/lib/dpkg/status":                status(map[string]string{"ufw": dpkgEntry("ufw", "0.36.2-1"), "openssl": dpkgEntry("openssl", oldOpenSSL), "libssl3": dpkgEntry("libssl3", oldOpenSSL)}),
			},
			Planted: []Planted{
				{"do-supported-version", "/etc/os-release", "Ubuntu 24.10, not in the script's list"},
				{"supported-release", "/etc/os-release", "Ubuntu 24.10, past its end of life"},
				{"cloud-init-enabled", "/etc/cloud/cloud-init.disabled", "cloud-init turned off"},
				{"firewall-enabled", "", "ufw ENABLED=no: its boot script loads no rules"},
				{"empty-logs", "/var/log/auth.log", "an un-cleared log"},
				{"locked-accounts", "/etc/shadow", "root's password hash"},
				{"no-ssh-keys", "/root/.ssh/authorized_keys", "root's authorized_keys"},
				{"no-ssh-dir-files", "/root/.ssh/config", "another file in root's .ssh"},
				{"bash-history-cleared", "/root/.bash_history", "a 250-byte Bash history"},
				{"do-agent-removed", "/opt/digitalocean", "DigitalOcean's agent directory"},
				{"security-updates-installed", "", "openssl " + oldOpenSSL + ", before DEMO-OPENSSL-1's fix"},
			},
			Unplanted: map[string]string{"do-supported-distribution": "Ubuntu is a distribution the script accepts: an unsupported one would leave do-supported-version nothing to judge"},
		},
		{
			Profile: "oracle",
			Exec:    exec,
			Clean: withCloudInit(Change{
				"/var/lib/dpkg/status":                              status(nil),
				"/etc/ssh/sshd_config.d/00-marketplace-harden.conf": SSHAuthDropIn("no"),
			}),
			Dirty: Change{
				"/etc/ssh/ssh_host_ed25519_key":                        plantedHostKey,
				"/etc/systemd/system/cloud-init.service":               "-> /dev/null",
				"/etc/passwd":                                          "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n_chrony:x:101:102:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin\nopc:x:1000:1000::/home/opc:/bin/bash\n",
				"/etc/shadow":                                          "root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\n_chrony:!:19800::::::\nopc:" + deployHash + ":19800:0:99999:7:::\n",
				"/home/opc/.ssh/authorized_keys":                       plantedKey,
				"/etc/ssh/sshd_config.d/00-marketplace-harden.conf":    Remove,
				"/etc/ssh/sshd_config":                                 "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nClientAliveInterval 180\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
				"/etc/udev/rules.d/70-persistent-net.rules":            "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"02:00:17:01:02:03\", NAME=\"ens3\"\n",
				"/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": "network: {config: disabled}\n",
				"/etc/netplan/50-cloud-init.yaml":                      "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: false\n      addresses: [10.0.0.5/24]\n      routes:\n        - to: default\n          via: 10.0.0.1\n",
			},
			Planted: []Planted{
				{"no-ssh-host-keys", "/etc/ssh/ssh_host_ed25519_key", "a host key baked in (S01)"},
				{"cloud-init-enabled", "/etc/systemd/system/cloud-init.service", "cloud-init.service masked (S08)"},
				{"no-ssh-keys", "/home/opc/.ssh/authorized_keys", "opc's authorized_keys (S10)"},
				{"ssh-root-login-disabled", "/etc/ssh/sshd_config", "PermitRootLogin prohibit-password (S14)"},
				{"locked-accounts", "/etc/shadow", "opc's password hash (S16)"},
				{"no-mac-pinned-network", "/etc/udev/rules.d/70-persistent-net.rules", "a MAC pinned to the NIC's name (G03)"},
				{"first-nic-dhcp", "", "a static address on the first NIC in netplan, cloud-init's network configuration off (G05)"},
			},
		},
	}
}

// NotBuiltForAlibaba are the rules of the alibaba profile that the compliant tree (built for
// Azure: the Azure agent provisions it, no cloud-init, no NVMe, no Alibaba agents, a small
// disk) does not meet, with the status each gives on it. Tests that judge the compliant tree
// with both profiles expect exactly these; AlibabaClean is the image built for Alibaba.
var NotBuiltForAlibaba = map[string]string{
	"cloud-init-enabled":              "fail",
	"root-grows-at-first-boot":        "fail",
	"nvme-driver-at-boot":             "fail",
	"cloud-assistant-installed":       "warn",
	"security-center-agent-installed": "warn",
	"system-disk-size":                "warn",
}
