package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	rhel8   = "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.9\"\n"
	rhel65  = "NAME=\"Red Hat Enterprise Linux Server\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"6.5\"\n"
	alma9   = "NAME=\"AlmaLinux\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n"
	fedora  = "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\n"
	sles15  = "NAME=\"SLES\"\nID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"15.5\"\n"
	mariner = "NAME=\"Common Base Linux Mariner\"\nID=mariner\nVERSION_ID=\"2.0.20240123\"\n"
	azl3    = "NAME=\"Microsoft Azure Linux\"\nID=azurelinux\nVERSION_ID=\"3.0\"\n"

	sysconfigNetwork = "NETWORKING=yes\nHOSTNAME=localhost.localdomain\n"
	ifcfgEth0        = "DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=dhcp\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\n"
)

// ruleResult runs one rule on an image file and returns its result and its evidence, one
// "path detail" line each.
func ruleResult(t *testing.T, image, id string) (rules.Result, string) {
	t.Helper()
	img, err := inspect.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, ok := rules.ByID(id)
	if !ok {
		t.Fatalf("no rule %s", id)
	}
	res := r.Run(&rules.Context{Image: img})
	var ev []string
	for _, e := range res.Evidence {
		ev = append(ev, e.Path+" "+e.Detail)
	}
	return res, strings.Join(ev, "\n")
}

// wantRule checks one rule's status on an image, and that its message or evidence mentions text.
func wantRule(t *testing.T, image, id string, status rules.Status, mention string) {
	t.Helper()
	res, ev := ruleResult(t, image, id)
	if res.Status != status || !strings.Contains(res.Message+"\n"+ev, mention) {
		t.Errorf("%s: %s; evidence %q; want %s mentioning %q", res.Status, res.Message, ev, status, mention)
	}
}

// withPackage is the compliant tree's dpkg database with one more package installed.
func withPackage(t *testing.T, name string) string { return withPackageVersion(t, name, "1.0-1") }

// withPackageVersion is withPackage at a given version.
func withPackageVersion(t *testing.T, name, version string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "var", "lib", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\nPackage: " + name + "\nStatus: install ok installed\nArchitecture: all\nVersion: " + version + "\n"
}

// Microsoft's distribution-specific cases, each a compliant image and one change that flips it.
func TestDistributionSpecificCases(t *testing.T) {
	rhelOK := testfixture.Change{"/etc/os-release": rhel8, "/etc/sysconfig/network": sysconfigNetwork,
		"/etc/sysconfig/network-scripts/ifcfg-eth0": ifcfgEth0}
	with := func(base testfixture.Change, more testfixture.Change) testfixture.Change {
		out := testfixture.Change{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range more {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"Debian: not applicable", testfixture.Change{}, rules.NotApplicable, "debian 12"},
		{"RHEL 8 as Microsoft's guide prepares it", rhelOK, rules.Pass, "NETWORKING=yes"},
		{"RHEL rebuild, lower-case networking=yes", with(rhelOK, testfixture.Change{"/etc/os-release": alma9, "/etc/sysconfig/network": "networking=yes\n"}), rules.Pass, "ifcfg-eth0"},
		{"RHEL 8 without /etc/sysconfig/network", with(rhelOK, testfixture.Change{"/etc/sysconfig/network": testfixture.Remove}), rules.Fail, "/etc/sysconfig/network is missing"},
		{"RHEL 8 with networking off", with(rhelOK, testfixture.Change{"/etc/sysconfig/network": "NETWORKING=no\n"}), rules.Fail, "lacks NETWORKING=yes"},
		{"RHEL 8, ifcfg-eth0 by static address", with(rhelOK, testfixture.Change{"/etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=10.0.0.4\n"}),
			rules.Fail, "lacks BOOTPROTO=dhcp"},
		{"RHEL 8 without ifcfg-eth0 nor cloud-init", with(rhelOK, testfixture.Change{"/etc/sysconfig/network-scripts/ifcfg-eth0": testfixture.Remove}), rules.Fail, "ifcfg-eth0 is missing"},
		{"RHEL 8 without ifcfg-eth0, cloud-init writes it", with(rhelOK, testfixture.Change{"/etc/sysconfig/network-scripts/ifcfg-eth0": testfixture.Remove,
			"/var/lib/dpkg/status": withPackage(t, "cloud-init")}), rules.Warn, "cloud-init may write it"},
		{"RHEL 6.5 with NetworkManager and no http_caching", with(rhelOK, testfixture.Change{"/etc/os-release": rhel65, "/etc/yum.conf": "[main]\n",
			"/var/lib/dpkg/status": withPackage(t, "NetworkManager")}), rules.Fail, "NetworkManager is installed"},
		{"RHEL 6.5 with http_caching=packages", with(rhelOK, testfixture.Change{"/etc/os-release": rhel65, "/etc/yum.conf": "[main]\nhttp_caching=packages\n"}), rules.Pass, "http_caching=packages"},
		{"Fedora 40 with cloud-init's profile", testfixture.Change{"/etc/os-release": fedora,
			"/etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection": "[connection]\nid=cloud-init eth0\n"}, rules.Pass, "cloud-init-eth0"},
		{"Fedora 40 without a profile", testfixture.Change{"/etc/os-release": fedora}, rules.Warn, "no NetworkManager profile for eth0"},
		{"SLES 15 as Microsoft's guide prepares it", testfixture.Change{"/etc/os-release": sles15,
			"/etc/sysconfig/network/dhcp": "DHCLIENT_SET_HOSTNAME=\"no\"\n"}, rules.Pass, "DHCLIENT_SET_HOSTNAME"},
		{"SLES 15 whose DHCP client renames the VM", testfixture.Change{"/etc/os-release": sles15,
			"/etc/sysconfig/network/dhcp": "DHCLIENT_SET_HOSTNAME=\"yes\"\n"}, rules.Fail, `lacks DHCLIENT_SET_HOSTNAME="no"`},
		{"CBL-Mariner 2", testfixture.Change{"/etc/os-release": mariner, "/etc/systemd/networkd.conf": "[Network]\n",
			"/etc/dhcp/dhclient.conf": "send host-name = gethostname();\n"}, rules.Pass, "host-name"},
		{"CBL-Mariner 2 without networkd.conf", testfixture.Change{"/etc/os-release": mariner,
			"/etc/dhcp/dhclient.conf": "send host-name = gethostname();\n"}, rules.Fail, "/etc/systemd/networkd.conf is missing"},
		{"Azure Linux 3 without its dhcpcd host name", testfixture.Change{"/etc/os-release": azl3, "/etc/systemd/networkd.conf": "[Network]\n",
			"/etc/dhcpcd.conf": "hostname\n"}, rules.Fail, "lacks option host_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), "distro-image-config", tc.status, tc.evidence)
		})
	}
}

// Self-tests 50 (Security threats: GHOST) and 52 (SACK): what an old image and a current one get.
func TestSecurityThreatAndSACKCases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		rule     string
		status   rules.Status
		evidence string
	}{
		{"current glibc", testfixture.Change{"/var/lib/dpkg/status": withPackageVersion(t, "libc6", "2.36-9+deb12u7")}, "glibc-ghost", rules.Pass, "2.36"},
		{"glibc before the GHOST fix", testfixture.Change{"/var/lib/dpkg/status": withPackageVersion(t, "libc6", "2.13-38+deb7u6")}, "glibc-ghost", rules.Warn, "predates 2.18"},
		{"no glibc package", testfixture.Change{}, "glibc-ghost", rules.NotApplicable, "no glibc"},
		{"current kernel", testfixture.Change{}, "kernel-sack-patched", rules.Pass, "later than the fix"},
		{"Debian stretch kernel with the fix", testfixture.Change{"/boot/vmlinuz-6.1.0-28-cloud-amd64": testfixture.Remove, "/boot/config-6.1.0-28-cloud-amd64": testfixture.Remove, "/boot/vmlinuz-4.9.0-9-amd64": "kernel",
			"/var/lib/dpkg/status": withPackageVersion(t, "linux-image-4.9.0-9-amd64", "4.9.168-1+deb9u3")}, "kernel-sack-patched", rules.Pass, "4.9.168-1+deb9u3"},
		{"Debian stretch kernel before it", testfixture.Change{"/boot/vmlinuz-6.1.0-28-cloud-amd64": testfixture.Remove, "/boot/config-6.1.0-28-cloud-amd64": testfixture.Remove, "/boot/vmlinuz-4.9.0-9-amd64": "kernel",
			"/var/lib/dpkg/status": withPackageVersion(t, "linux-image-4.9.0-9-amd64", "4.9.168-1+deb9u2")}, "kernel-sack-patched", rules.Fail, "below the approved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), tc.rule, tc.status, tc.evidence)
		})
	}
}

// Where a rule is stricter than Microsoft's test by policy, the finding fails and still predicts
// the result the test would give; where it is not, a failure predicts the test's level.
func TestPredictedCertification(t *testing.T) {
	big := strings.Repeat("apt-get install -y something-long\n", 40)
	for _, tc := range []struct {
		name      string
		change    testfixture.Change
		rule      string
		predicted string
	}{
		{"shell history over 1 KiB", testfixture.Change{"/root/.bash_history": big}, "no-shell-history", "Failed"},
		{"shell history under 1 KiB", testfixture.Change{"/root/.bash_history": "ls\n"}, "no-shell-history", "Passed"},
		{"REPL history only", testfixture.Change{"/root/.python_history": big}, "no-shell-history", "Passed"},
		{"authorized_keys", testfixture.Change{"/root/.ssh/authorized_keys": "ssh-ed25519 AAAA test\n"}, "no-ssh-keys", "Failed"},
		{"known_hosts only", testfixture.Change{"/root/.ssh/known_hosts": "host ssh-ed25519 AAAA\n"}, "no-ssh-keys", "Passed"},
		{"password hash", testfixture.Change{"/etc/shadow": "root:$6$salt$hash:19800:0:99999:7:::\n"}, "locked-accounts", "Failed"},
		{"empty password field", testfixture.Change{"/etc/shadow": "root::19800:0:99999:7:::\n"}, "locked-accounts", "Passed"},
		{"targetpw in /etc/sudoers", testfixture.Change{"/etc/sudoers": "Defaults targetpw\n"}, "sudo-no-targetpw", "Failed"},
		{"targetpw in an included file", testfixture.Change{"/etc/sudoers": "@includedir /etc/sudoers.d\n",
			"/etc/sudoers.d/90-build": "Defaults targetpw\n"}, "sudo-no-targetpw", "Passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := ruleResult(t, testfixture.Variant(t, tc.change), tc.rule)
			r, _ := rules.ByID(tc.rule)
			if res.Status != rules.Fail {
				t.Fatalf("%s is %s (%s), want fail: our verdict stays strict", tc.rule, res.Status, res.Message)
			}
			if got := rules.Predict(r.Cert, res); got != tc.predicted {
				t.Errorf("%s predicts %s, want %s (%s)", tc.rule, got, tc.predicted, res.Message)
			}
		})
	}
}

// rootdelay=300 is left out, rightly, where initramfs-tools would sleep it at every boot: our
// verdict passes, the prediction is the self-test's Warning; elsewhere its absence warns.
func TestRootdelayWhereInitramfsToolsSleepsIt(t *testing.T) {
	grub := "menuentry 'Debian' {\n\tlinux /boot/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=x ro console=ttyS0 earlyprintk=ttyS0\n}\n"
	defaults := "GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0\"\n"
	for _, tc := range []struct {
		name      string
		change    testfixture.Change
		status    rules.Status
		predicted string
	}{
		{"initramfs-tools", testfixture.Change{"/boot/grub/grub.cfg": grub, "/etc/default/grub": defaults,
			"/usr/share/initramfs-tools/init": "#!/bin/sh\n"}, rules.Pass, "Warning"},
		{"dracut", testfixture.Change{"/boot/grub/grub.cfg": grub, "/etc/default/grub": defaults,
			"/etc/dracut.conf": "\n"}, rules.Warn, "Warning"},
		{"initramfs-tools, serial console missing too", testfixture.Change{"/boot/grub/grub.cfg": strings.ReplaceAll(grub, "console=ttyS0 ", ""),
			"/etc/default/grub": defaults, "/usr/share/initramfs-tools/init": "#!/bin/sh\n"}, rules.Fail, "Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := ruleResult(t, testfixture.Variant(t, tc.change), "kernel-cmdline")
			r, _ := rules.ByID("kernel-cmdline")
			if res.Status != tc.status || rules.Predict(r.Cert, res) != tc.predicted {
				t.Errorf("%s predicting %s (%s), want %s predicting %s", res.Status, rules.Predict(r.Cert, res), res.Message, tc.status, tc.predicted)
			}
		})
	}
}

// The root and the filesystems the boot waits for must be named by something found in the image;
// a device name of the build machine fails.
func TestBootDevicesResolve(t *testing.T) {
	const u = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	grub := func(root string) string {
		return "menuentry 'Debian' {\n\tlinux /boot/vmlinuz-6.1.0-28-cloud-amd64 root=" + root + " ro console=ttyS0 earlyprintk=ttyS0 rootdelay=300\n}\n"
	}
	good := testfixture.Change{"/boot/grub/grub.cfg": grub("UUID=" + u), "/etc/fstab": "UUID=" + u + " / ext4 defaults 0 1\nLABEL=root /srv ext4 bind 0 0\ntmpfs /tmp tmpfs defaults 0 0\n"}
	with := func(k, v string) testfixture.Change {
		out := testfixture.Change{}
		for a, b := range good {
			out[a] = b
		}
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"by UUID", good, rules.Pass, "root=: UUID=" + u + " is partition 1"},
		{"by label", with("/boot/grub/grub.cfg", grub("LABEL=root")), rules.Pass, "LABEL=root is partition 1"},
		{"the build host's loop device", with("/boot/grub/grub.cfg", grub("/dev/loop0p1")), rules.Fail, "root=: /dev/loop0p1 is a device name of the build machine"},
		{"a UUID the image lacks", with("/boot/grub/grub.cfg", grub("UUID=0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b")), rules.Fail, "matches no partition or filesystem"},
		{"fstab by device name", with("/etc/fstab", "UUID="+u+" / ext4 defaults 0 1\n/dev/sdb2 /data ext4 defaults 0 2\n"), rules.Fail, "/data: /dev/sdb2 is a device name"},
		{"fstab by device name, nofail", with("/etc/fstab", "UUID="+u+" / ext4 defaults 0 1\n/dev/sdb2 /data ext4 defaults,nofail 0 2\n"), rules.Pass, "is partition 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ev := ruleResult(t, testfixture.DiskVariant(t, tc.change, u), "boot-devices-resolve")
			if res.Status != tc.status || !strings.Contains(ev, tc.evidence) {
				t.Errorf("%s: %s; evidence %q; want %s mentioning %q in the evidence", res.Status, res.Message, ev, tc.status, tc.evidence)
			}
		})
	}
	// a bare filesystem has no disk to resolve names against
	if res, _ := ruleResult(t, testfixture.Variant(t, good), "boot-devices-resolve"); res.Status != rules.NotApplicable {
		t.Errorf("bare filesystem: %s %s", res.Status, res.Message)
	}
}

// One provisioning agent, exactly: cloud-init with the Azure datasource, or the Azure agent.
func TestOneProvisioningAgent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"the agent alone", testfixture.Change{}, rules.Pass, "the Azure agent provisions"},
		{"cloud-init, agent on auto", testfixture.Change{"/var/lib/dpkg/status": withPackage(t, "cloud-init")}, rules.Pass, "cloud-init provisions"},
		{"cloud-init, agent told to provision too", testfixture.Change{"/var/lib/dpkg/status": withPackage(t, "cloud-init"),
			"/etc/waagent.conf": "Provisioning.Agent=waagent\n"}, rules.Fail, "both cloud-init and the Azure agent"},
		{"cloud-init without the Azure datasource", testfixture.Change{"/var/lib/dpkg/status": withPackage(t, "cloud-init"),
			"/etc/cloud/cloud.cfg.d/90_dpkg.cfg": "datasource_list: [ NoCloud, ConfigDrive ]\n"}, rules.Fail, "Azure is not in datasource_list"},
		{"cloud-init with the Azure datasource, as a block list", testfixture.Change{"/var/lib/dpkg/status": withPackage(t, "cloud-init"),
			"/etc/cloud/cloud.cfg.d/90-azure.cfg": "datasource_list:\n  - Azure\n"}, rules.Pass, "datasource_list: [Azure]"},
		{"cloud-init disabled, agent on auto", testfixture.Change{"/var/lib/dpkg/status": withPackage(t, "cloud-init"),
			"/etc/cloud/cloud-init.disabled": ""}, rules.Pass, "the Azure agent provisions"},
		{"the agent leaves it to a cloud-init that is not there", testfixture.Change{"/etc/waagent.conf": "Provisioning.Agent=cloud-init\n"}, rules.Fail, "nothing will provision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), "one-provisioning-agent", tc.status, tc.evidence)
		})
	}
}

// The Hyper-V drivers must be built in or in the initramfs of the kernel that boots.
func TestHyperVDriversAtBoot(t *testing.T) {
	const k = "6.1.0-28-cloud-amd64"
	allM := "CONFIG_WATCHDOG=y\nCONFIG_CIFS=m\nCONFIG_HYPERV=m\nCONFIG_HYPERV_STORAGE=m\nCONFIG_HYPERV_NET=m\n"
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"modules in a zstd initramfs (the compliant image)", testfixture.Change{}, rules.Pass, "hv_storvsc is in the initramfs (none + zstd)"},
		{"built in, no initramfs needed", testfixture.Change{"/boot/config-" + k: "CONFIG_WATCHDOG=y\nCONFIG_CIFS=m\nCONFIG_HYPERV=y\nCONFIG_HYPERV_STORAGE=y\nCONFIG_HYPERV_NET=y\n",
			"/boot/initrd.img-" + k: testfixture.Remove}, rules.Pass, "hv_storvsc is built in"},
		{"dracut host-only on KVM: storvsc left out", testfixture.Change{"/boot/config-" + k: allM,
			"/boot/initrd.img-" + k: initrdOf(t, "xz --check=crc32", "hv_vmbus", "virtio_blk")}, rules.Fail, "hv_storvsc is a module and not in the initramfs"},
		{"netvsc from the root filesystem", testfixture.Change{"/boot/config-" + k: allM,
			"/boot/initrd.img-" + k: initrdOf(t, "gzip", "hv_vmbus", "hv_storvsc")}, rules.Pass, "hv_netvsc loads from the root filesystem"},
		{"no initramfs for the modules", testfixture.Change{"/boot/initrd.img-" + k: testfixture.Remove}, rules.Fail, "no initramfs for kernel " + k},
		{"kernel without Hyper-V storage", testfixture.Change{"/boot/config-" + k: "CONFIG_WATCHDOG=y\nCONFIG_CIFS=m\nCONFIG_HYPERV=m\nCONFIG_HYPERV_NET=m\n"},
			rules.Fail, "CONFIG_HYPERV_STORAGE is not set"},
		{"no modules directory", testfixture.Change{"/usr/lib/modules/" + k: testfixture.Remove}, rules.Fail, "has no modules directory"},
		{"an initramfs that is not one", testfixture.Change{"/boot/initrd.img-" + k: "garbage, not a cpio archive"}, rules.Error, "could not be read to its end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), "hyperv-drivers-at-boot", tc.status, tc.evidence)
		})
	}
}

// eth0 must come up by DHCP at first boot, by whichever tool the image uses, not by MAC.
func TestFirstNICByDHCP(t *testing.T) {
	noPlan := testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove}
	networkd := func(network string) testfixture.Change {
		return testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove, "/etc/systemd/network/10-dhcp.network": network,
			"/etc/systemd/system/multi-user.target.wants/systemd-networkd.service": "-> /lib/systemd/system/systemd-networkd.service"}
	}
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"netplan eth0 (the compliant image)", testfixture.Change{}, rules.Pass, "netplan: eth0 by DHCP"},
		{"no network configuration (vmdb2, mkosi)", noPlan, rules.Fail, "no ifupdown, netplan"},
		{"networkd for en* and eth*", networkd("[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n"), rules.Pass, "systemd-networkd: eth0 by DHCP"},
		{"networkd for QEMU's ens3 only", networkd("[Match]\nName=ens3\n\n[Network]\nDHCP=yes\n"), rules.Fail, "not for eth0"},
		{"networkd configured but not enabled", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove,
			"/etc/systemd/network/10-dhcp.network": "[Match]\nName=eth0\n[Network]\nDHCP=yes\n"}, rules.Fail, "systemd-networkd is not enabled"},
		{"netplan by the build machine's MAC", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": "network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n        macaddress: \"52:54:00:12:34:56\"\n      dhcp4: true\n"},
			rules.Fail, "matched by a MAC address"},
		{"ifupdown", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove, "/etc/network/interfaces": "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n"},
			rules.Pass, "ifupdown: eth0 by DHCP"},
		{"cloud-init writes it", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove, "/var/lib/dpkg/status": withPackage(t, "cloud-init")},
			rules.Pass, "cloud-init writes the network configuration"},
		{"cloud-init with its network configuration disabled", testfixture.Change{"/etc/netplan/50-cloud-init.yaml": testfixture.Remove,
			"/var/lib/dpkg/status": withPackage(t, "cloud-init"), "/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": "network: {config: disabled}\n"},
			rules.Fail, "nothing brings eth0 up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), "first-nic-dhcp", tc.status, tc.evidence)
		})
	}
}

// initrdOf is an initramfs (a cpio compressed by comp) holding the kernel modules named.
func initrdOf(t *testing.T, comp string, mods ...string) string {
	const k = "6.1.0-28-cloud-amd64"
	dir := t.TempDir()
	var files []string
	for _, m := range mods {
		files = append(files, "usr/lib/modules/"+k+"/kernel/drivers/x/"+m+".ko.zst")
	}
	for _, f := range append(files, "init") {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	cmd := exec.Command("sh", "-c", "find . | cpio --quiet -o -H newc | "+comp+" -c")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// The virtio drivers (Alibaba Cloud ECS is KVM) must be built in or in the initramfs of the
// kernel that boots.
func TestVirtioDriversAtBoot(t *testing.T) {
	const k = "6.1.0-28-cloud-amd64"
	allM := "CONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n"
	for _, tc := range []struct {
		name     string
		change   testfixture.Change
		status   rules.Status
		evidence string
	}{
		{"modules in a zstd initramfs (the compliant image)", testfixture.Change{}, rules.Pass, "virtio_blk is in the initramfs (none + zstd)"},
		{"dracut host-only on Hyper-V: virtio left out", testfixture.Change{"/boot/config-" + k: allM,
			"/boot/initrd.img-" + k: initrdOf(t, "gzip", "hv_vmbus", "hv_storvsc")}, rules.Fail, "virtio_blk is a module and not in the initramfs"},
		{"built in", testfixture.Change{"/boot/config-" + k: "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_BLK=y\nCONFIG_VIRTIO_NET=y\n",
			"/boot/initrd.img-" + k: testfixture.Remove}, rules.Pass, "virtio_blk is built in"},
		{"virtio_net from the root filesystem", testfixture.Change{"/boot/config-" + k: allM,
			"/boot/initrd.img-" + k: initrdOf(t, "xz --check=crc32", "virtio_pci", "virtio_blk"),
			"/usr/lib/modules/" + k + "/kernel/drivers/net/virtio_net.ko": "ko"}, rules.Pass, "virtio_net loads from the root filesystem"},
		{"kernel without virtio_blk", testfixture.Change{"/boot/config-" + k: "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_NET=y\n"}, rules.Fail, "CONFIG_VIRTIO_BLK is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRule(t, testfixture.Variant(t, tc.change), "virtio-drivers-at-boot", tc.status, tc.evidence)
		})
	}
}
