package rules_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	accessRootUUID = "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a"
	accessLUKSUUID = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	accessKernel   = "/boot/vmlinuz-6.1.0-28-cloud-amd64"
	// the compliant tree's sshd_config with KbdInteractiveAuthentication no, as Debian ships it
	accessSSHD = "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nClientAliveInterval 180\n"
	// a GRUB configuration that boots the root's own /boot (the variants have no /boot partition)
	accessGrub = "set default=0\nmenuentry 'Debian GNU/Linux' {\n\tlinux\t/boot/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=ttyS0 %s\n\tinitrd\t/boot/initrd.img-6.1.0-28-cloud-amd64\n}\n"
	// the sshd unit Debian ships, with what a test adds to its command line
	accessUnit = "[Service]\nExecStart=/usr/sbin/sshd -D %s\n"
)

// bzImage is the start of an x86 kernel: the setup header with boot protocol version 2.15 and
// the given load flags (bit 0: XLF_KERNEL_64).
func bzImage(xloadflags uint16) string {
	b := make([]byte, 0x400)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], 0x020f)
	binary.LittleEndian.PutUint16(b[0x236:], xloadflags)
	return string(b)
}

// goELF is a real ELF file of Go's test data (another architecture's program).
func goELF(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "debug", "elf", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// accessBase is the compliant tree as an AWS or Oracle image has it: Debian's sshd_config and a
// real x86-64 kernel header, booted from the root's /boot.
func accessBase() testfixture.Change {
	return testfixture.Change{"/etc/ssh/sshd_config": accessSSHD, accessKernel: bzImage(1), "/boot/grub/grub.cfg": fmt.Sprintf(accessGrub, "")}
}

type accessCase struct {
	name     string
	change   testfixture.Change
	status   rules.Status
	evidence string // in the message or an evidence line
}

func runAccess(t *testing.T, rule string, cases []accessCase) {
	t.Helper()
	r, ok := rules.ByID(rule)
	if !ok {
		t.Fatalf("no rule %s", rule)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskVariant(t, testfixture.With(accessBase(), c.change), accessRootUUID))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			checkAccess(t, r, img, c)
		})
	}
}

func checkAccess(t *testing.T, r *rules.Rule, img *inspect.Image, c accessCase) {
	t.Helper()
	res := r.Run(&rules.Context{Image: img})
	var ev []string
	for _, e := range res.Evidence {
		ev = append(ev, fmt.Sprintf("%s:%d %s", e.Path, e.Line, e.Detail))
	}
	all := res.Message + "\n" + strings.Join(ev, "\n")
	if res.Status != c.status || !strings.Contains(all, c.evidence) {
		t.Errorf("%s is %s, want %s with %q:\n%s", r.ID, res.Status, c.status, c.evidence, all)
	}
}

func TestSSHPasswordAuthDisabled(t *testing.T) {
	runAccess(t, "ssh-password-auth-disabled", []accessCase{
		{"both no", nil, rules.Pass, "/etc/ssh/sshd_config:4 KbdInteractiveAuthentication no"},
		{"KbdInteractiveAuthentication by default", testfixture.Change{"/etc/ssh/sshd_config": "PasswordAuthentication no\n"}, rules.Fail, "compiled-in default yes"},
		{"PasswordAuthentication yes in a drop-in read first", testfixture.Change{"/etc/ssh/sshd_config.d/50-cloud.conf": "PasswordAuthentication yes\n"}, rules.Fail, "50-cloud.conf:1 PasswordAuthentication yes"},
		{"the alias ChallengeResponseAuthentication", testfixture.Change{"/etc/ssh/sshd_config": "ChallengeResponseAuthentication yes\n" + accessSSHD}, rules.Fail, "challengeresponseauthentication yes (read as KbdInteractiveAuthentication)"},
		{"a Match block turns passwords on", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match Address 10.0.0.0/8\n  PasswordAuthentication yes\n"}, rules.Fail, "/etc/ssh/sshd_config:7 PasswordAuthentication yes inside Match Address 10.0.0.0/8"},
		{"Match all after the global no", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match all\n  PasswordAuthentication yes\n"}, rules.Fail, "inside Match all"},
		{"Match block that says no", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match User deploy\n  PasswordAuthentication no\n"}, rules.Pass, "inside Match User deploy"},
		{"-o on sshd's command line", testfixture.Change{"/lib/systemd/system/ssh.service": fmt.Sprintf(accessUnit, "-o PasswordAuthentication=yes")}, rules.Fail, "-o on sshd's command line"},
		{"a value sshd refuses", testfixture.Change{"/etc/ssh/sshd_config": "PasswordAuthentication off\n" + accessSSHD}, rules.Fail, "refuses the configuration"},
		{"an -o option sshd refuses is an error", testfixture.Change{"/lib/systemd/system/ssh.service": fmt.Sprintf(accessUnit, "-o PasswordAuthentication")}, rules.Error, "sshd refuses -o"},
		{"no sshd_config", testfixture.Change{"/etc/ssh/sshd_config": testfixture.Remove}, rules.Fail, "missing"},
		{"no SSH server", testfixture.Change{"/usr/sbin/sshd": testfixture.Remove, "/var/lib/dpkg/status": "Package: base-files\nStatus: install ok installed\nVersion: 12.4\nArchitecture: amd64\n"}, rules.NotApplicable, "no SSH server"},
	})
}

func TestSSHRootPasswordLoginDisabled(t *testing.T) {
	runAccess(t, "ssh-root-password-login-disabled", []accessCase{
		{"PermitRootLogin no", nil, rules.Pass, "/etc/ssh/sshd_config:2 PermitRootLogin no"},
		{"PermitRootLogin yes", testfixture.Change{"/etc/ssh/sshd_config": "PermitRootLogin yes\n" + accessSSHD}, rules.Fail, "/etc/ssh/sshd_config:1 PermitRootLogin yes"},
		{"the default of the installed OpenSSH", testfixture.Change{"/etc/ssh/sshd_config": "PasswordAuthentication no\n"}, rules.Pass, "compiled-in default prohibit-password of OpenSSH"},
		{"without-password", testfixture.Change{"/etc/ssh/sshd_config": "PermitRootLogin without-password\n"}, rules.Pass, "PermitRootLogin without-password"},
		{"a Match block that cannot select root", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match User deploy,admin\n  PermitRootLogin yes\n"}, rules.Pass, "PermitRootLogin no"},
		{"a Match block that selects root by pattern", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match User r*\n  PermitRootLogin yes\n"}, rules.Fail, "/etc/ssh/sshd_config:7 PermitRootLogin yes inside Match User r*"},
		{"an unreadable drop-in directory is an error", testfixture.Change{"/lib/systemd/system/ssh.service": fmt.Sprintf(accessUnit, "-o PermitRootLogin")}, rules.Error, "sshd refuses -o"},
	})
}

func TestSSHRootLoginDisabled(t *testing.T) {
	restricted := `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \"opc\" rather than the user \"root\".';echo;sleep 10;exit 142" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq opc` + "\n"
	permit := func(v string) testfixture.Change {
		return testfixture.Change{"/etc/ssh/sshd_config": "PermitRootLogin " + v + "\nPasswordAuthentication no\n"}
	}
	runAccess(t, "ssh-root-login-disabled", []accessCase{
		{"PermitRootLogin no", nil, rules.Pass, "root cannot log in over SSH"},
		{"prohibit-password is not no", permit("prohibit-password"), rules.Fail, "PermitRootLogin prohibit-password"},
		{"the default is not no", testfixture.Change{"/etc/ssh/sshd_config": "PasswordAuthentication no\n"}, rules.Fail, "compiled-in default prohibit-password"},
		{"a Match block selecting root undoes no", testfixture.Change{"/etc/ssh/sshd_config": accessSSHD + "Match User root Address 10.0.0.1\n  PermitRootLogin prohibit-password\n"}, rules.Fail, "inside Match User root Address 10.0.0.1"},
		{"root's shell is nologin", testfixture.With(permit("yes"), testfixture.Change{"/etc/passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n"}), rules.Pass, "root's login shell is /usr/sbin/nologin"},
		{"root's keys restricted", testfixture.With(permit("yes"), testfixture.Change{"/root/.ssh/authorized_keys": restricted}), rules.Pass, "every one of root's 1 key(s)"},
		{"one of root's keys usable", testfixture.With(permit("yes"), testfixture.Change{"/root/.ssh/authorized_keys": restricted + "no-port-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq build\n"}), rules.Fail, "has a key without"},
		{"cloud-init writes root's restricted keys at launch", testfixture.With(permit("yes"), testfixture.CloudInit()), rules.Pass, "disable_root is on (its default)"},
		{"cloud-init with disable_root false", testfixture.With(permit("yes"), testfixture.CloudInit(), testfixture.Change{"/etc/cloud/cloud.cfg": "disable_root: false\n"}), rules.Fail, "/etc/cloud/cloud.cfg:1 cloud-init's disable_root is false"},
		{"cloud-init installed, not enabled", testfixture.With(permit("yes"), testfixture.CloudInit(), testfixture.Change{"/etc/cloud/cloud-init.disabled": ""}), rules.Fail, "cloud-init (which writes one at launch) is not enabled"},
		{"sshd unreadable and no other condition", testfixture.Change{"/lib/systemd/system/ssh.service": fmt.Sprintf(accessUnit, "-o PermitRootLogin")}, rules.Error, "sshd refuses -o"},
		{"no SSH server", testfixture.Change{"/usr/sbin/sshd": testfixture.Remove, "/var/lib/dpkg/status": "Package: base-files\nStatus: install ok installed\nVersion: 12.4\nArchitecture: amd64\n"}, rules.NotApplicable, "no SSH server installed"},
		{"sshd unreadable but root's shell is nologin", testfixture.Change{"/lib/systemd/system/ssh.service": fmt.Sprintf(accessUnit, "-o PermitRootLogin"), "/etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\n"}, rules.Pass, "/sbin/nologin"},
	})
}

func TestCloudInitEnabled(t *testing.T) {
	ci := testfixture.CloudInit()
	runAccess(t, "cloud-init-enabled", []accessCase{
		{"not installed", nil, rules.Fail, "cloud-init is not installed"},
		{"Debian's package", ci, rules.Pass, "/etc/systemd/system/cloud-init.target.wants/cloud-init.service:0 cloud-init.service started at boot"},
		{"cloud-init.disabled", testfixture.With(ci, testfixture.Change{"/etc/cloud/cloud-init.disabled": ""}), rules.Fail, "/etc/cloud/cloud-init.disabled"},
		{"the booted kernel command line disables it", testfixture.With(ci, testfixture.Change{"/boot/grub/grub.cfg": fmt.Sprintf(accessGrub, "cloud-init=disabled")}), rules.Fail, "/boot/grub/grub.cfg:3 the kernel command line says cloud-init=disabled"},
		{"the command line enables it over the file", testfixture.With(ci, testfixture.Change{"/etc/cloud/cloud-init.disabled": "", "/boot/grub/grub.cfg": fmt.Sprintf(accessGrub, "cloud-init=enabled")}), rules.Pass, "which wins"},
		{"a stage masked", testfixture.With(ci, testfixture.Change{"/etc/systemd/system/cloud-final.service": "-> /dev/null"}), rules.Fail, "cloud-final.service is masked"},
		{"the generator missing", testfixture.With(ci, testfixture.Change{"/lib/systemd/system-generators/cloud-init-generator": testfixture.Remove}), rules.Fail, "nothing starts cloud-init.target"},
		{"an unreadable boot configuration is an error", testfixture.With(ci, testfixture.Change{"/boot/grub/grub.cfg": "menuentry 'x' {\n" + strings.Repeat("x", 9<<20) + "\n}\n"}), rules.Error, "grub.cfg"},
	})
}

func TestFirewallEnabled(t *testing.T) {
	ufw := testfixture.Change{
		"/usr/lib/systemd/system/ufw.service":                     "[Service]\nExecStart=/lib/ufw/ufw-init start\n[Install]\nWantedBy=multi-user.target\n",
		"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /usr/lib/systemd/system/ufw.service",
		"/etc/ufw/ufw.conf":                                       "ENABLED=yes\nLOGLEVEL=low\n",
	}
	runAccess(t, "firewall-enabled", []accessCase{
		{"none", nil, rules.Fail, "no host firewall loads its rules at boot"},
		{"ufw enabled and started", ufw, rules.Pass, "/etc/ufw/ufw.conf:1 ENABLED=yes"},
		{"ufw started, switched off", testfixture.With(ufw, testfixture.Change{"/etc/ufw/ufw.conf": "ENABLED=no\n"}), rules.Fail, "ufw.conf does not say ENABLED=yes"},
		{"ufw switched on, not started", testfixture.With(ufw, testfixture.Change{"/etc/systemd/system/multi-user.target.wants/ufw.service": testfixture.Remove}), rules.Fail, "ufw's service is not started at boot"},
		{"nftables", testfixture.Change{"/etc/nftables.conf": nftDrop, "/lib/systemd/system/nftables.service": "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n", "/etc/systemd/system/sysinit.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service"}, rules.Pass, "nftables.service started at boot"},
		{"an unreadable ufw.conf is an error", testfixture.Change{"/etc/ufw/ufw.conf": strings.Repeat("#", 9<<20)}, rules.Error, "/etc/ufw/ufw.conf"},
	})
}

func TestNoEncryptedVolumes(t *testing.T) {
	r, _ := rules.ByID("no-encrypted-volumes")
	for _, c := range []struct {
		accessCase
		data []byte
		more map[int64][]byte
	}{
		{accessCase{"plain", nil, rules.Pass, "no LUKS or BitLocker header on 2 partition(s)"}, nil, nil},
		{accessCase{"LUKS1", nil, rules.Fail, "LUKS1 volume (partition 2, header at offset 0x4100000), UUID " + accessLUKSUUID}, testfixture.LUKS1Header(accessLUKSUUID), nil},
		{accessCase{"LUKS2", nil, rules.Fail, "LUKS2 volume (partition 2, header at offset 0x4100000)"}, testfixture.LUKS2Header(accessLUKSUUID, "data", 0), map[int64][]byte{0x4000: testfixture.LUKS2Header(accessLUKSUUID, "data", 0x4000)}},
		{accessCase{"LUKS2 with the primary wiped", nil, rules.Fail, "header at offset 0x4104000"}, nil, map[int64][]byte{0x4000: testfixture.LUKS2Header(accessLUKSUUID, "data", 0x4000)}},
		{accessCase{"BitLocker", nil, rules.Fail, "BitLocker volume (partition 2"}, testfixture.BitLockerBootSector(), nil},
		{accessCase{"crypttab", testfixture.Change{"/etc/crypttab": "# comment\ndata UUID=" + accessLUKSUUID + " /etc/keys/data luks\n"}, rules.Fail, "/etc/crypttab:2 crypttab opens data"}, nil, nil},
		{accessCase{"LUKS on the kernel command line", testfixture.Change{"/boot/grub/grub.cfg": fmt.Sprintf(accessGrub, "rd.luks.uuid="+accessLUKSUUID)}, rules.Fail, "/boot/grub/grub.cfg:3 the kernel command line opens a LUKS volume at boot"}, nil, nil},
		{accessCase{"an overlong crypttab line is an error", testfixture.Change{"/etc/crypttab": strings.Repeat("x", 5000) + "\n"}, rules.Error, "/etc/crypttab: line 1"}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskWithData(t, testfixture.With(accessBase(), c.change), accessRootUUID, c.data, c.more))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			checkAccess(t, r, img, c.accessCase)
		})
	}
}

func TestSupportedArchitecture(t *testing.T) {
	arm := goELF(t, "go-relocation-test-gcc482-aarch64.obj")
	arm64Kernel := make([]byte, 0x100)
	copy(arm64Kernel, "MZ")
	copy(arm64Kernel[0x38:], "ARM\x64")
	runAccess(t, "supported-architecture", []accessCase{
		{"x86-64", nil, rules.Pass, "/bin/sh:0 /usr/bin/dash (via /bin/sh): ELF ELFCLASS64 x86_64"},
		{"the kernel's header names it", nil, rules.Pass, accessKernel + ":0 kernel 6.1.0-28-cloud-amd64: x86_64 (x86 boot protocol 2.15, XLF_KERNEL_64)"},
		{"arm64 throughout", testfixture.Change{"/usr/bin/dash": arm, accessKernel: string(arm64Kernel)}, rules.Pass, "userland and kernel are aarch64"},
		{"an arm64 userland on an x86 kernel", testfixture.Change{"/usr/bin/dash": arm}, rules.Fail, "different architectures: x86_64, aarch64"},
		{"a 32-bit kernel", testfixture.Change{accessKernel: bzImage(0)}, rules.Fail, "i386"},
		{"a RISC-V userland", testfixture.Change{"/usr/bin/dash": goELF(t, "gcc-riscv64-linux-exec")}, rules.Fail, "riscv64"},
		{"an i386 userland fails whatever the kernel", testfixture.Change{"/usr/bin/dash": goELF(t, "gcc-386-freebsd-exec"), accessKernel: "not a kernel"}, rules.Fail, "kernel not judged"},
		{"a kernel of no known format is an error", testfixture.Change{accessKernel: strings.Repeat("\xb3\x8c", 4096)}, rules.Error, "no kernel header recognised"},
		{"no kernel is an error", testfixture.Change{accessKernel: testfixture.Remove}, rules.Error, "kernel"},
		{"no ELF userland is an error", testfixture.Change{"/usr/bin/dash": "#!/bin/busybox sh\n", "/usr/sbin/sshd": "x"}, rules.Error, "no ELF program"},
	})
}

// firewall-disabled and firewall-enabled judge one fact (internal/facts/firewall on
// facts/systemd's Boot), so on every image exactly one of them passes. Before, a firewall linked
// from a target boot never reaches (halt.target.wants) passed both: firewall-disabled followed
// the boot, firewall-enabled counted any .wants link.
func TestFirewallRulesAgree(t *testing.T) {
	const nft = "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n"
	const ufwUnit = "[Service]\nExecStart=/lib/ufw/ufw-init start quiet\n[Install]\nWantedBy=multi-user.target\n"
	disabled, _ := rules.ByID("firewall-disabled")
	enabled, _ := rules.ByID("firewall-enabled")
	for _, c := range []struct {
		name    string
		change  testfixture.Change
		started bool
		detail  string
	}{
		{"none", nil, false, "no firewall service enabled at boot"},
		{"nftables linked from a target boot never reaches", testfixture.Change{"/lib/systemd/system/nftables.service": nft,
			"/etc/systemd/system/halt.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service"}, false, "no firewall service enabled at boot"},
		{"nftables pulled in by Wants= of a started unit", testfixture.Change{"/etc/nftables.conf": nftDrop, "/lib/systemd/system/nftables.service": nft,
			"/lib/systemd/system/app.service":                         "[Unit]\nWants=nftables.service\n[Service]\nExecStart=/bin/true\n",
			"/etc/systemd/system/multi-user.target.wants/app.service": "-> /lib/systemd/system/app.service"}, true, "/lib/systemd/system/app.service:2 nftables.service enabled at boot"},
		{"nftables linked from multi-user.target.wants", testfixture.Change{"/etc/nftables.conf": nftDrop, "/lib/systemd/system/nftables.service": nft,
			"/etc/systemd/system/multi-user.target.wants/nftables.service": "-> /lib/systemd/system/nftables.service"}, true, "/etc/systemd/system/multi-user.target.wants/nftables.service:0 nftables.service enabled at boot"},
		// ufw's boot script loads nothing unless ufw.conf says ENABLED=yes, and ENABLED=yes loads
		// nothing unless the service starts (Ubuntu's images ship the first: ufw.service enabled,
		// ENABLED=no)
		{"ufw.service started, ENABLED=no", testfixture.Change{"/lib/systemd/system/ufw.service": ufwUnit, "/etc/ufw/ufw.conf": "ENABLED=no\n",
			"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service"}, false, "ufw.conf does not say ENABLED=yes"},
		{"ENABLED=yes, ufw.service not started", testfixture.Change{"/lib/systemd/system/ufw.service": ufwUnit, "/etc/ufw/ufw.conf": "ENABLED=yes\n"}, false, "ufw's service is not started at boot"},
		{"ENABLED=Yes, which ufw-init does not take for yes", testfixture.Change{"/lib/systemd/system/ufw.service": ufwUnit, "/etc/ufw/ufw.conf": "ENABLED=Yes\n",
			"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service"}, false, "ufw.conf does not say ENABLED=yes"},
		{"ENABLED=yes in /etc/default/ufw, none in ufw.conf", testfixture.Change{"/lib/systemd/system/ufw.service": ufwUnit, "/etc/ufw/ufw.conf": "LOGLEVEL=low\n", "/etc/default/ufw": "ENABLED=yes\n",
			"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /lib/systemd/system/ufw.service"}, true, "ufw.service enabled at boot"},
		{"iptables started from rc4.d", testfixture.Change{"/etc/init.d/iptables": "#!/bin/sh\n", "/etc/rc4.d/S01iptables": "-> ../init.d/iptables"}, true, "iptables started by SysV init"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskVariant(t, testfixture.With(accessBase(), c.change), accessRootUUID))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			wantD, wantE := rules.Pass, rules.Fail
			if c.started {
				wantD, wantE = rules.Fail, rules.Pass
			}
			checkAccess(t, disabled, img, accessCase{c.name, c.change, wantD, c.detail})
			checkAccess(t, enabled, img, accessCase{c.name, c.change, wantE, ""})
		})
	}
}

// nftDrop is an nftables ruleset that filters: an input chain that drops what no rule accepts
// (nftables.service loads /etc/nftables.conf; a missing file, or chains that only accept, load
// no firewall).
const nftDrop = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n"
