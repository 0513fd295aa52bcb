package engine

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

// marketCase is one profile's pair of images and what the dirty one plants.
type marketCase struct {
	profile      string
	clean, dirty func(*testing.T) string
	planted      []testfixture.Planted
	// complete: every check of the profile is planted or listed in unplanted (the marketplace
	// fixtures); the existing images of the older profiles are a regression, not a census.
	complete  bool
	unplanted map[string]string
	// only: the dirty image plants more than the profile checks (winimage's dirty variant
	// violates every Windows rule at once): the planted problems the profile does not check are
	// left out
	only bool
}

// wantIDs are the marketplaces' own check IDs the findings must carry, from their documents:
// a cross-check of the profile data.
var wantIDs = map[string]map[string]string{
	profile.Oracle: {"no-ssh-host-keys": "S01", "cloud-init-enabled": "S08", "no-ssh-keys": "S10", "ssh-root-login-disabled": "S14",
		"locked-accounts": "S16", "no-mac-pinned-network": "G03", "first-nic-dhcp": "G05"},
	profile.Alibaba: {"boot-devices-resolve": "GUESTOS.Fstab", "virtio-drivers-at-boot": "GUESTOS.Virtio", "nvme-driver-at-boot": "GUESTOS.Nvme",
		"cloud-init-enabled": "GUESTOS.CloudInit", "root-grows-at-first-boot": "GUESTOS.OnlineResizeFS", "grub-boots-by-uuid": "GUESTOS.Grub",
		"boot-mode-consistent": "GUESTOS.BootMode", "supported-architecture": "GUESTOS.Architecture"},
}

func marketCases(t *testing.T) []marketCase {
	var out []marketCase
	for _, f := range testfixture.MarketplaceFixtures(t) {
		out = append(out, marketCase{profile: f.Profile, clean: func(t *testing.T) string { return f.CleanDisk(t) },
			dirty: func(t *testing.T) string { return f.DirtyDisk(t) }, planted: f.Planted, complete: true, unplanted: f.Unplanted})
	}
	fixture := func(name string) func(*testing.T) string {
		return func(t *testing.T) string { return testfixture.Path(t, name) }
	}
	// what scripts/make-fixtures.sh plants in dirty.raw
	common := []testfixture.Planted{
		pl("locked-accounts", "/etc/shadow", "password hashes and an empty password"),
		pl("single-uid0", "/etc/passwd", "toor with UID 0"),
		pl("no-ssh-keys", "/root/.ssh/authorized_keys", "root's authorized_keys"),
		pl("no-ssh-host-keys", "/etc/ssh/ssh_host_ed25519_key", "a host key"),
		pl("no-shell-history", "/root/.bash_history", "root's Bash history"),
		pl("empty-logs", "/var/log/syslog", "the build's syslog"),
		pl("unique-machine-id", "/etc/machine-id", "the build VM's machine ID"),
		pl("no-hardcoded-credentials", "/opt/app/settings.ini", "a password and cloud keys"),
		pl("security-updates-installed", "", "openssl 0.9.8o"),
	}
	out = append(out,
		marketCase{profile: profile.AzureLinux, clean: fixture("clean.raw"), dirty: fixture("dirty.raw"), planted: append(slices.Clone(common),
			pl("no-swap", "", "a swap partition and a swap file"),
			pl("no-resolv-conf", "/etc/resolv.conf", "a static resolv.conf"),
			pl("no-mac-pinned-network", "/etc/udev/rules.d/70-persistent-net.rules", "a persistent-net rule"),
			pl("sudo-no-targetpw", "/etc/sudoers", "Defaults targetpw"),
			pl("firewall-disabled", "", "ufw enabled"),
		)},
		marketCase{profile: profile.Alibaba, clean: alibabaClean, dirty: fixture("dirty.raw"), planted: append(slices.Clone(common),
			pl("no-extra-users", "/etc/passwd", "tester and guest"),
			pl("empty-tmp", "/tmp/build-output.txt", "the build's scratch file"),
			pl("boot-devices-resolve", "", "root=/dev/sda1 and an fstab label that names no filesystem"),
			pl("virtio-drivers-at-boot", "", "an initramfs without the virtio drivers"),
			pl("nvme-driver-at-boot", "/boot/config-4.9.0-9-amd64", "a kernel without NVMe, built in or as a module"),
			pl("cloud-init-enabled", "/usr/bin/cloud-init", "no cloud-init"),
			pl("root-grows-at-first-boot", "/usr/bin/growpart", "no cloud-init or growpart to grow the root"),
			pl("grub-boots-by-uuid", "/boot/grub/grub.cfg", "root=/dev/sda1"),
			pl("boot-mode-consistent", "", "no boot code in sector 0 and no EFI system partition"),
			pl("root-partition-last", "", "swap, LVM and data partitions after the root"),
			pl("no-swap", "", "a swap partition and a swap file"),
			pl("supported-architecture", "/bin/sh", "a 32-bit i386 /bin/sh"),
		)},
	)
	// what winimage's dirty variant plants (winimage.Build)
	windows := []testfixture.Planted{
		pl("windows-accounts-locked", "", "an enabled admin account with a password"),
		pl("windows-firewall", "", "a firewall profile off and a custom inbound rule"),
		pl("windows-automatic-updates", "", "automatic updates off"),
		pl("windows-generalized", "", "not generalized by sysprep"),
		pl("windows-updates-current", "", "an old last update"),
		pl("windows-supported-roles", "", "the DHCP role"),
		pl("windows-no-ssh-keys", "", ".ssh keys"),
		pl("windows-no-cached-credentials", "", "saved credentials"),
		pl("windows-no-powershell-history", "", "a PSReadLine history"),
		pl("windows-temp-empty", "", "temporary files"),
		pl("windows-hosts-default", "", "a HOSTS entry"),
		pl("windows-event-logs-cleared", "", "event logs with records"),
		pl("ec2-launch-agent", "", "no EC2 launch agent"),
		pl("ec2-launch-random-password", "", "no EC2 launch agent"),
	}
	winImage := func(dirty bool) func(*testing.T) string {
		return func(t *testing.T) string { return testfixture.WindowsImage(t, winimage.Options{Dirty: dirty}) }
	}
	for _, name := range []string{profile.AzureWindows, profile.AWSWindows} {
		out = append(out, marketCase{profile: name, clean: winImage(false), dirty: winImage(true), planted: windows, only: true,
			complete: name == profile.AWSWindows, unplanted: map[string]string{
				"no-hardcoded-credentials":        "winimage's dirty variant plants no credential in a file",
				"no-malware":                      "winimage's dirty variant plants no malware sample",
				"supported-release":               "winimage builds one supported Windows Server release",
				"windows-64-bit":                  "winimage builds x64 images only",
				"windows-os-volume-not-encrypted": "winimage builds no BitLocker volume",
				"no-encrypted-volumes":            "winimage builds no encrypted volume",
			}})
	}
	return out
}

// alibabaClean is the image built for Alibaba Cloud's image check (testfixture.AlibabaClean):
// clean.raw is built for Azure (the Azure agent provisions it; no cloud-init, no boot code).
func alibabaClean(t *testing.T) string {
	c, exec := testfixture.AlibabaClean(t)
	return testfixture.MarketplaceFixture{Profile: profile.Alibaba, Clean: c, Exec: exec, BootCode: true}.CleanDisk(t)
}

func pl(rule, path, what string) testfixture.Planted {
	return testfixture.Planted{Rule: rule, Path: path, What: what}
}

func marketChoices(t *testing.T, profiles ...string) plan.Choices {
	return plan.Choices{Profiles: profiles, Vulnerabilities: plan.VulnChoices{DB: testfixture.OSVRecords(t, testfixture.MarketplaceOSVRecords()...)},
		Content: plan.ContentChoices{ClamdAddress: testfixture.DirtyClamd(t).Address}}
}

func findingOf(r *report.Report, rule string) (report.Finding, bool) {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return f, true
		}
	}
	return report.Finding{}, false
}

func checkOf(f report.Finding, prof string) (report.MarketCheck, bool) {
	for _, c := range f.Checks {
		if c.Profile == prof {
			return c, true
		}
	}
	return report.MarketCheck{}, false
}

func table(r *report.Report) string {
	var b bytes.Buffer
	r.WriteTable(&b)
	return b.String()
}

// For each profile the clean image built for its marketplace is compliant, and the dirty one
// fails naming each planted problem, under the marketplace's own check ID and name.
func TestMarketplaceImages(t *testing.T) {
	for _, mc := range marketCases(t) {
		t.Run(mc.profile, func(t *testing.T) {
			prof, ok := profile.Lookup(mc.profile)
			if !ok {
				t.Fatalf("no profile %s", mc.profile)
			}
			choices := marketChoices(t, mc.profile)
			clean := mustCheck(t, mc.clean(t), choices)
			var bad []string
			for _, f := range clean.Findings {
				if f.Status == rules.Fail || f.Status == rules.Error {
					bad = append(bad, f.Rule+" "+string(f.Status)+": "+f.Message)
				}
			}
			if !clean.Compliant || len(bad) > 0 {
				t.Errorf("the clean %s image is not compliant: %v\n%s", mc.profile, bad, table(clean))
			}

			dirty := mustCheck(t, mc.dirty(t), choices)
			if dirty.Compliant {
				t.Errorf("the dirty %s image is compliant", mc.profile)
			}
			planted := map[string]bool{}
			for _, p := range mc.planted {
				want, inProfile := prof.Check(p.Rule)
				if !inProfile && mc.only {
					continue
				}
				planted[p.Rule] = true
				if !inProfile {
					t.Errorf("%s plants %s for %s, which the profile does not check", mc.profile, p.What, p.Rule)
					continue
				}
				f, ok := findingOf(dirty, p.Rule)
				if !ok {
					t.Errorf("%s: no finding for %s (planted: %s)", mc.profile, p.Rule, p.What)
					continue
				}
				wantStatus := rules.Fail
				if want.Level == profile.Advisory {
					wantStatus = rules.Warn
				}
				if f.Status != wantStatus {
					t.Errorf("%s: %s is %s, want %s (planted: %s): %s %+v", mc.profile, p.Rule, f.Status, wantStatus, p.What, f.Message, f.Evidence)
					continue
				}
				if p.Path != "" {
					named := strings.Contains(f.Message, p.Path)
					for _, e := range f.Evidence {
						named = named || e.Path == p.Path || strings.Contains(e.Detail, p.Path)
					}
					if !named {
						t.Errorf("%s: %s does not name %s (planted: %s): %s %+v", mc.profile, p.Rule, p.Path, p.What, f.Message, f.Evidence)
					}
				}
				c, ok := checkOf(f, mc.profile)
				if !ok {
					t.Errorf("%s: the %s finding carries no check of the profile: %+v", mc.profile, p.Rule, f.Checks)
					continue
				}
				if c.ID != want.ID || c.Name != want.Name || c.Level != want.Level.String() || c.Running != want.Running {
					t.Errorf("%s: the %s finding's check is %+v, the profile's %+v", mc.profile, p.Rule, c, want)
				}
				if id, ok := wantIDs[mc.profile][p.Rule]; ok && c.ID != id {
					t.Errorf("%s: %s carries check ID %q, the marketplace's is %s", mc.profile, p.Rule, c.ID, id)
				}
				// the new profiles name every check in their marketplace's words; Azure's names
				// travel with the rules' certification tests, Alibaba's best practices have none
				if mc.complete && c.Name == "" {
					t.Errorf("%s: %s carries no check name in the marketplace's words", mc.profile, p.Rule)
				}
			}
			if !mc.complete {
				return
			}
			for _, c := range prof.Checks {
				if !planted[c.Rule] {
					if _, ok := mc.unplanted[c.Rule]; !ok {
						t.Errorf("%s checks %s (%s %s), which the dirty image does not plant", mc.profile, c.Rule, c.ID, c.Name)
					}
				}
			}
		})
	}
}

// Combining profiles reports each one's check on the same finding: Oracle's S10 and AWS's
// authorized_keys check on one no-ssh-keys failure.
func TestCombinedProfilesReportEachCheck(t *testing.T) {
	var oracle testfixture.MarketplaceFixture
	for _, f := range testfixture.MarketplaceFixtures(t) {
		if f.Profile == profile.Oracle {
			oracle = f
		}
	}
	r := mustCheck(t, oracle.DirtyDisk(t), marketChoices(t, profile.AWS, profile.Oracle))
	f, ok := findingOf(r, "no-ssh-keys")
	if !ok || f.Status != rules.Fail {
		t.Fatalf("no-ssh-keys: %+v", f)
	}
	for _, name := range []string{profile.AWS, profile.Oracle} {
		p, _ := profile.Lookup(name)
		want, _ := p.Check("no-ssh-keys")
		if c, ok := checkOf(f, name); !ok || c.ID != want.ID || c.Name != want.Name {
			t.Errorf("the combined finding's %s check is %+v (found %v), want %+v", name, c, ok, want)
		}
	}
	// S14 is Oracle's alone: AWS accepts PermitRootLogin prohibit-password
	if f, ok := findingOf(r, "ssh-root-login-disabled"); !ok || f.Status != rules.Fail || len(f.Checks) != 1 || f.Checks[0].Profile != profile.Oracle {
		t.Errorf("ssh-root-login-disabled: %+v", f)
	}
	if f, ok := findingOf(r, "ssh-root-password-login-disabled"); ok && f.Status != rules.Pass {
		t.Errorf("ssh-root-password-login-disabled on PermitRootLogin prohibit-password: %s %s", f.Status, f.Message)
	}
}
