package rules

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/arch"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/boot"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/encryption"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/firewall"
	sshdfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/sshd"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/sshkeys"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// The public documents the access rules come from.
const (
	awsAMIPolicies  = "AWS Marketplace AMI-based product requirements (https://docs.aws.amazon.com/marketplace/latest/userguide/product-and-ami-policies.html)"
	awsAMIChecklist = "AWS Marketplace AMI product checklist (https://docs.aws.amazon.com/marketplace/latest/userguide/aws-marketplace-listing-checklist.html)"
	awsSharedAMIs   = "Amazon EC2 recommendations for creating shared Linux AMIs (disable password-based remote logins for the root user: PermitRootLogin without-password)"
	oracleImages    = "Oracle Cloud Infrastructure Marketplace, Guidelines for Images, mandatory guidelines for Linux images (https://docs.oracle.com/en-us/iaas/Content/Marketplace/app-publisher-guidelines-images.htm)"
	doImageCheck    = "DigitalOcean marketplace-partners scripts/99-img-check.sh"
)

// sshdBinaries are where distributions install OpenSSH's server.
var sshdBinaries = []string{"/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"}

// accessSSHD is what the sshd rules judge: the configurations sshd starts with and the installed
// OpenSSH's version (for its compiled-in defaults); ok is false when no SSH server is installed
// (the rule does not apply). Unreadable inputs are an error.
type accessSSHD struct {
	facts   *sshdfacts.Facts
	version string // the openssh-server package's version, "" when unknown
	where   string // the package database, or the binary
}

func (c *Context) accessSSHD() (s accessSSHD, ok bool, err error) {
	inv, perr := c.Image.Packages()
	if perr == nil && inv != nil {
		if ps := inv.Find("openssh-server"); len(ps) > 0 {
			s.version, s.where = ps[0].Version, inv.Path
		}
	}
	installed := s.version != ""
	for _, p := range sshdBinaries {
		fi, err := c.stat(p)
		if err != nil {
			return s, false, err
		}
		if fi != nil && fi.Mode().IsRegular() {
			installed = true
			if s.where == "" {
				s.where = p
			}
		}
	}
	if !installed {
		if perr != nil {
			return s, false, fmt.Errorf("no sshd binary, and the package database could not be read: %w", perr)
		}
		return s, false, nil
	}
	s.facts = sshdfacts.Of(c.Image)
	if err := s.facts.Err(); err != nil {
		return s, false, err
	}
	return s, true, nil
}

// accessDefault is the compiled-in value of key and what to say about it.
func (s accessSSHD) accessDefault(key string) (string, string) {
	v, known := sshdfacts.Default(key, s.version)
	if !known {
		return v, fmt.Sprintf("compiled-in default %s (OpenSSH's since 7.0; the installed version is not known from %s)", v, s.where)
	}
	return v, fmt.Sprintf("compiled-in default %s of OpenSSH %s", v, s.version)
}

// settingEvidence says where a value comes from.
func settingEvidence(cfg *sshdfacts.Config, key string, st sshdfacts.Setting, defDetail string) Evidence {
	name := sshdKeyName[key]
	if st.Default {
		return Evidence{Path: cfg.ConfigFile, Detail: fmt.Sprintf("%s not set in %s or its Includes: %s", name, cfg.ConfigFile, defDetail)}
	}
	d := st.Directive
	detail := fmt.Sprintf("%s %s", name, Quote(d.Value))
	switch {
	case d.Key != key:
		detail = fmt.Sprintf("%s %s (read as %s)", d.Key, Quote(d.Value), name)
	}
	switch {
	case cfg.FromCommandLine(d):
		detail += fmt.Sprintf(" (-o on sshd's command line, ExecStart at %s:%d)", cfg.ExecStart.File, cfg.ExecStart.Line)
	case d.Match != "" && !strings.EqualFold(d.Match, "all"):
		detail += fmt.Sprintf(" inside Match %s: connections it selects get this value", Quote(d.Match))
	case d.Match != "":
		detail += " inside Match all: every connection gets this value"
	}
	return Evidence{Path: d.File, Line: d.Line, Detail: detail}
}

var sshdKeyName = map[string]string{
	sshdfacts.PasswordAuthentication:       "PasswordAuthentication",
	sshdfacts.KbdInteractiveAuthentication: "KbdInteractiveAuthentication",
	sshdfacts.PermitRootLogin:              "PermitRootLogin",
}

// judgeSSHD judges keys over every configuration sshd starts with: a value bad says is a
// violation for the connections that get it. canSelect narrows the Match blocks to the
// connections that matter (nil: all).
func judgeSSHD(c *Context, keys []string, required string, bad func(key, value string) bool, canSelect func(string) bool) Result {
	s, ok, err := c.accessSSHD()
	if err != nil {
		return errResult(err)
	}
	if !ok {
		return na("no SSH server installed (no openssh-server package, no sshd binary)")
	}
	var bads, goods []Evidence
	var actual []string
	for _, cfg := range s.facts.Configs {
		if cfg.Missing {
			r := fail("no "+cfg.ConfigFile+": sshd refuses to start, and what it would allow is unknown", Evidence{Path: cfg.ConfigFile, Detail: "missing"})
			r.Actual, r.Required = "sshd_config missing", required
			return r
		}
		for _, key := range keys {
			def, defDetail := s.accessDefault(key)
			e := cfg.Effective(key, def, canSelect)
			for _, d := range e.Refused {
				r := fail(Quotef("%s %s is not a value sshd accepts: it refuses the configuration", sshdKeyName[key], d.Value),
					Evidence{Path: d.File, Line: d.Line, Detail: Quotef("%s %s", d.Key, d.Value)})
				r.Actual, r.Required = "sshd refuses the configuration", required
				return r
			}
			for _, st := range e.Values() {
				ev := settingEvidence(cfg, key, st, defDetail)
				if bad(key, st.Value) {
					bads = append(bads, ev)
					actual = append(actual, sshdKeyName[key]+" "+st.Value)
				} else {
					goods = append(goods, ev)
				}
			}
		}
	}
	if len(bads) > 0 {
		r := fail(fmt.Sprintf("%d effective sshd setting(s) allow it: %s", len(bads), strings.Join(accessDedupe(actual), ", ")), listing(append(bads, goods...), 20)...)
		r.Actual, r.Required = strings.Join(accessDedupe(actual), ", "), required
		return r
	}
	r := pass(fmt.Sprintf("every connection sshd accepts gets %s", required), listing(goods, 20)...)
	r.Actual, r.Required = required, required
	return r
}

func accessDedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

var _ = register(&Rule{
	ID:        "ssh-password-auth-disabled",
	Title:     "sshd accepts no password: PasswordAuthentication and KbdInteractiveAuthentication are no for every connection",
	Severity:  High,
	Source:    awsAMIPolicies + ", security policies: Linux-based AMIs must not allow SSH password authentication (PasswordAuthentication no in sshd_config); all instance authentication must use key pair access, not password-based authentication; " + awsAMIChecklist,
	Rationale: "A password login is the credential AWS forbids, whether or not the password is known today. sshd asks for a password through PasswordAuthentication and, with PAM, through keyboard-interactive authentication (KbdInteractiveAuthentication, read also under its old name ChallengeResponseAuthentication); both default to yes in OpenSSH, so an sshd_config that does not say no allows passwords. Both must be no whatever UsePAM says (keyboard-interactive without PAM offers no password on Linux today, but one UsePAM yes, in a drop-in or a Match block, turns it into a password prompt). The values are read as `sshd -T` resolves them (the command line's -o options, Include files, the first value winning, a `Match all` value winning over them), and a Match block that sets yes for some connections (a user, an address) is a violation for those, named with its file and line (TestEffectiveAccessAgreesWithSshdT compares this with the system's sshd -T -C).",
	Fix:       "Set `PasswordAuthentication no` and `KbdInteractiveAuthentication no` in /etc/ssh/sshd_config before any Include that could set them (or in the first drop-in read), and remove any `PasswordAuthentication yes` inside Match blocks.",
	Check: linux(func(c *Context) Result {
		return judgeSSHD(c, []string{sshdfacts.PasswordAuthentication, sshdfacts.KbdInteractiveAuthentication},
			"PasswordAuthentication no, KbdInteractiveAuthentication no",
			func(_, v string) bool { return v != "no" }, nil)
	}),
})

var _ = register(&Rule{
	ID:        "ssh-root-password-login-disabled",
	Title:     "root cannot log in over SSH with a password: PermitRootLogin is not yes",
	Severity:  High,
	Source:    awsAMIPolicies + ", Linux-specific access policies: Linux-based AMIs must disable password-based remote logins for root access; " + awsSharedAMIs,
	Rationale: "AWS forbids password authentication, and root's above all: PermitRootLogin yes lets root log in with its password. prohibit-password (without-password), forced-commands-only and no do not. The compiled-in default is the installed OpenSSH's (prohibit-password since 7.0, yes before); a Match block that can select root (its User criterion admits \"root\" as sshd's patterns do) and sets yes is a violation, named with its file and line.",
	Fix:       "Set `PermitRootLogin prohibit-password` (or `no`) in /etc/ssh/sshd_config, and remove `PermitRootLogin yes` from Match blocks that select root.",
	Check: linux(func(c *Context) Result {
		return judgeSSHD(c, []string{sshdfacts.PermitRootLogin}, "PermitRootLogin prohibit-password, forced-commands-only or no",
			func(_, v string) bool { return v == "yes" }, func(m string) bool { return sshdfacts.CanSelectUser(m, "root") })
	}),
})

// nologinShells are the shells that refuse a login session.
var nologinShells = []string{"/sbin/nologin", "/usr/sbin/nologin", "/bin/false", "/usr/bin/false"}

// rootKeysRestricted says whether every key of root's authorized_keys, read as sshd reads it
// (facts/sshkeys), carries the restrictions Oracle names (no port, agent or X11 forwarding, by
// the no-* options or restrict) and a forced command: the file cloud-init writes for root at
// launch. A file with no key restricts nothing.
func rootKeysRestricted(path string, data []byte) (keys int, restricted bool, err error) {
	f, err := sshkeys.Parse(path, data)
	if err != nil {
		return 0, false, err
	}
	for _, k := range f.Keys {
		o := k.Options
		if o.PortForwarding || o.AgentForwarding || o.X11Forwarding || !o.HasCommand {
			return len(f.Keys), false, nil
		}
	}
	return len(f.Keys), len(f.Keys) > 0, nil
}

var _ = register(&Rule{
	ID:        "ssh-root-login-disabled",
	Title:     "root cannot log in: nologin shell, PermitRootLogin no, or only restricted root keys (Oracle S14)",
	Severity:  High,
	Source:    oracleImages + ": S14 root user login must be disabled, at least 1 of 3 conditions (root's login shell /sbin/nologin; sshd_config PermitRootLogin no; every entry of /root/.ssh/authorized_keys with no-port-forwarding, no-agent-forwarding, no-X11-forwarding)",
	Rationale: "Oracle validates each image for S14 and accepts any of its three conditions. They are read as the running system reads them: root's shell from /etc/passwd; PermitRootLogin as `sshd -T` resolves it for every connection that can log in as root (a Match block selecting root that sets anything but no breaks the condition, named with its line); root's authorized_keys where sshd's AuthorizedKeysFile looks, every key with the three options and a forced command. Oracle says that instances launched from cloud-init enabled images get such a file by default: cloud-init's disable_root (on unless cloud.cfg turns it off) writes root's keys with the forwarding options and a command that refuses the login, so an image whose cloud-init is enabled at boot (the cloud-init-enabled rule's decision) with disable_root on meets the third condition at launch.",
	Fix:       "Set `PermitRootLogin no` in /etc/ssh/sshd_config (the simplest of Oracle's conditions), or give root /usr/sbin/nologin, or keep cloud-init enabled with disable_root: true.",
	Check: linux(func(c *Context) Result {
		var unmet []Evidence
		var errs []string
		// 1. root's login shell
		pw, err := c.passwd()
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			for _, e := range pw {
				if e.Name != "root" || e.Compat {
					continue
				}
				sh := e.LoginShell()
				for _, n := range nologinShells {
					if sh == n {
						return pass("root's login shell is "+sh, Evidence{Path: "/etc/passwd", Detail: "root's shell " + sh})
					}
				}
				unmet = append(unmet, Evidence{Path: "/etc/passwd", Detail: Quotef("root's login shell is %s, not /sbin/nologin", sh)})
			}
		}
		// 2. PermitRootLogin no for every connection that can be root's
		r := judgeSSHD(c, []string{sshdfacts.PermitRootLogin}, "PermitRootLogin no",
			func(_, v string) bool { return v != "no" }, func(m string) bool { return sshdfacts.CanSelectUser(m, "root") })
		switch r.Status {
		case NotApplicable:
			return r
		case Pass:
			r.Message = "root cannot log in over SSH: " + r.Message
			return r
		case Error:
			errs = append(errs, r.Message)
		default:
			unmet = append(unmet, r.Evidence...)
		}
		// 3. root's authorized_keys, as the image has it or as cloud-init writes it at launch
		rootKeys := []string{"/root/.ssh/authorized_keys"}
		if ks, err := c.authorizedKeysFiles(); err == nil {
			for _, k := range ks {
				if k.User == "root" && !accessContains(rootKeys, k.Path) {
					rootKeys = append(rootKeys, k.Path)
				}
			}
		}
		found := false
		for _, p := range rootKeys {
			data, err := c.read(p)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", p, err))
				continue
			}
			if data == nil {
				continue
			}
			found = true
			n, ok, err := rootKeysRestricted(p, data)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if ok {
				return pass(fmt.Sprintf("every one of root's %d key(s) in %s is restricted (no forwarding, forced command)", n, p), Evidence{Path: p, Detail: "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=..."})
			}
			unmet = append(unmet, Evidence{Path: p, Detail: "root's authorized_keys has a key without no-port-forwarding, no-agent-forwarding, no-X11-forwarding and a forced command"})
		}
		if !found {
			en := cloudinit.EnablementOf(c.Image)
			ci := cloudinit.Of(c.Image)
			switch {
			case en.Err() != nil:
				errs = append(errs, en.Err().Error())
			case ci.Err() != nil:
				errs = append(errs, ci.Err().Error())
			case en.Enabled:
				on, set, where := ci.Config.Bool("disable_root")
				if !set || on {
					ev := Evidence{Path: cloudinit.Main, Detail: "cloud-init's disable_root is on (its default): at launch root's keys get the forwarding options and a command that refuses the login"}
					if set {
						ev = Evidence{Path: where.File, Line: where.KeyLine, Detail: "disable_root: true: at launch root's keys get the forwarding options and a command that refuses the login"}
					}
					return pass("cloud-init is enabled with disable_root: root's keys are restricted at launch", ev)
				}
				unmet = append(unmet, Evidence{Path: where.File, Line: where.KeyLine, Detail: "cloud-init's disable_root is false: root's launch key is usable"})
			default:
				unmet = append(unmet, Evidence{Path: "/root/.ssh/authorized_keys", Detail: "no restricted root key file, and cloud-init (which writes one at launch) is not enabled at boot"})
			}
		}
		if len(errs) > 0 {
			return Result{Status: Error, Message: Quote("none of S14's conditions could be confirmed, and some inputs were not read: " + strings.Join(errs, "; ")), Evidence: unmet}
		}
		return fail("root can log in: none of Oracle's S14 conditions holds", listing(unmet, 20)...)
	}),
})

func accessContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ = register(&Rule{
	ID:        "cloud-init-enabled",
	Title:     "cloud-init is installed and runs at boot",
	Severity:  High,
	Source:    oracleImages + ": S08 images must ingest an SSH public key provided by a customer as part of the instance launch process (ensure the image is cloud-init enabled); " + doImageCheck + " (cloud-init installed); Alibaba Cloud ECS image check GUESTOS.CloudInit",
	Rationale: "The customer's key, hostname and network reach the VM through cloud-init. It runs only if every stage's unit is started (found, not masked, reached from default.target as systemd builds the boot, or named by cloud-init.target, which cloud-init's generator pulls into the boot) and the generator does not turn it off: the last cloud-init= word on the booted kernel command line decides (disabled, or enabled which wins over the file), else /etc/cloud/cloud-init.disabled disables it. A stage whose unit's Condition*= fails for the image and the command line it boots (ConditionPathExists=!/etc/cloud/cloud-init.disabled, ConditionKernelCommandLine=, ConditionEnvironment=) is skipped by systemd; a condition not decided offline is named in the evidence. Each reason it does not run is named with its file. Whether ds-identify then finds a datasource is decided on the running machine and is not judged.",
	Fix:       "Install the distribution's cloud-init, `systemctl enable cloud-init-local cloud-init cloud-config cloud-final` (and unmask them), remove /etc/cloud/cloud-init.disabled and any cloud-init=disabled from the kernel command line.",
	Check: linux(func(c *Context) Result {
		e := cloudinit.EnablementOf(c.Image)
		if err := e.Err(); err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, w := range e.Why {
			ev = append(ev, Evidence{Path: w.Path, Line: w.Line, Detail: Quote(w.Detail)})
		}
		switch {
		case !e.Installed:
			return fail("cloud-init is not installed", ev...)
		case !e.Enabled:
			return fail("cloud-init is installed but does not run at boot", listing(ev, 20)...)
		}
		return pass("cloud-init runs at boot", listing(ev, 20)...)
	}),
})

var _ = register(&Rule{
	ID:        "firewall-enabled",
	Title:     "A host firewall loads its rules at boot",
	Severity:  Low,
	Source:    doImageCheck + " (checks that a firewall such as ufw is active, and warns when none is)",
	Rationale: "DigitalOcean's image check warns when no firewall is active on the droplet (`ufw status` active, or a firewalld, nftables or iptables service active). A firewall loads its rules at boot when its service is started (ufw, firewalld, nftables, netfilter-persistent, iptables-persistent, iptables, ip6tables, ferm, shorewall, shorewall6, arno-iptables-firewall, or any service whose ExecStartPre=/ExecStart=/ExecStartPost= runs nft -f, iptables-restore, ip6tables-restore, ufw enable or firewall-cmd, or iptables or nft with rules on their command line (a verdict word that drops, rejects or queues filters), directly, through env or sh -c, or in a shell script it runs (rc-local.service too, which runs an executable /etc/rc.local): reached from default.target as systemd builds the boot: any .wants/.requires directory, vendor ones too, or another started unit's Wants=/Requires=/BindsTo=, found and not masked; or a SysV start link in rc2.d to rc5.d of an executable /etc/init.d script where no native unit exists; or, under OpenRC, a runlevel link in sysinit, boot or default; or an up/pre-up/post-up line of an auto or allow-hotplug interface in /etc/network/interfaces) and, for ufw, when ENABLED is yes or YES (ufw.conf's, else /etc/default/ufw's: ufw's boot script loads nothing otherwise). The rules file it loads is read (nft -f FILE and its includes, iptables-save files: /etc/iptables/rules.v4 and rules.v6, /etc/sysconfig/iptables, OpenRC's rules-save): a file that does not exist makes the service fail, so no firewall; a ruleset whose chains only accept (Debian's default /etc/nftables.conf: flush ruleset and accepting input, forward and output chains) starts a firewall that filters nothing, and warns. ufw's, firewalld's, ferm's and shorewall's own configurations are not read and count as filtering. A firewall service whose Condition*= or Assert*= fails on the image is skipped by systemd and counts as not started; when only services whose condition cannot be decided offline (the hypervisor, a mount on the VM) would pass the rule, it warns naming the condition. Azure wants the opposite (firewall-disabled); the profile decides which applies.",
	Fix:       "Enable a firewall with the ports the application needs: `ufw allow OpenSSH && ufw --force enable` (sets ENABLED=yes, enables ufw.service), or enable firewalld, or nftables with a /etc/nftables.conf whose input chain has policy drop and accepts SSH.",
	Check: linux(func(c *Context) Result {
		f := firewall.Of(c.Image)
		if err := f.Err(); err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, s := range f.Signals {
			ev = append(ev, Evidence{Path: s.Path, Line: s.Line, Detail: Quote(s.Detail)})
		}
		names := func(st []firewall.Signal) string {
			var n []string
			for _, s := range st {
				n = append(n, s.Firewall)
			}
			return strings.Join(accessDedupe(n), ", ")
		}
		if st := f.Filtering(false); len(st) > 0 {
			return pass("a host firewall loads its rules at boot: "+names(st), ev...)
		}
		if st := f.Filtering(true); len(st) > 0 {
			return warn("a host firewall loads its rules at boot only if a condition not decided offline holds on the VM: "+Quote(st[0].Undecided), ev...)
		}
		if st := f.Starting(); len(st) > 0 {
			return warn("a host firewall starts at boot but its rules accept everything: "+names(st), ev...)
		}
		if len(ev) == 0 {
			ev = []Evidence{{Path: firewall.UFWConf, Detail: "no firewall service started at boot, no ufw ENABLED=yes"}}
		}
		return fail("no host firewall loads its rules at boot", ev...)
	}),
})

var _ = register(&Rule{
	ID:        "no-encrypted-volumes",
	Title:     "No encrypted volume in the image (LUKS, BitLocker, dm-crypt opened at boot)",
	Severity:  High,
	Source:    awsAMIPolicies + ", architecture policies: AMIs must not use encrypted file systems",
	Rationale: "An encrypted volume cannot be scanned by the marketplace, and a VM made from the image cannot open it without a passphrase nobody at launch has (or with a key file baked into the image, which is a shared secret). The header sector of every partition (and of an unpartitioned disk) is read as cryptsetup and blkid read it: a LUKS1 or LUKS2 header, a LUKS2 secondary header at the offsets cryptsetup looks at when the primary is wiped, a BitLocker boot sector (and BitLocker To Go's FAT discovery volume); /etc/crypttab's entries, which systemd-cryptsetup-generator opens at boot (of a line with more than four fields, the first four, as the generator reads it); and rd.luks.uuid=/rd.luks.name= (read in the initrd) and luks.uuid=/luks.name= (read in the initrd and the booted system) on the booted kernel command line, unless rd.luks=/luks= turns the generator off in every stage that reads them. An LVM2 physical volume is read as LVM reads it (the label in one of its first four sectors and its checksum, the pv_header, each metadata area's header and the committed VG text metadata, both checksummed), and the PVs of the image are assembled into their volume groups (by VG UUID, the newest metadata), and the header sectors of each logical volume are read where its extents lie, on whichever PV of the image holds them (linear and striped segments), so a LUKS container inside a logical volume is found. eCryptfs-encrypted directories count too, found where ecryptfs-utils puts them: in each home (/root, /home/*, and the homes of login accounts), the encrypted lower directory .Private and the configuration ecryptfs-setup-private leaves in .ecryptfs (a key signature *.sig that mount.ecryptfs_private mounts with, Private.mnt, and the wrapped-passphrase pam_ecryptfs unwraps at login); under /home/.ecryptfs/USER, a whole encrypted home's .Private and .ecryptfs; and an /etc/fstab line of type ecryptfs. A crypttab device, or the device of a cryptsetup open (luksOpen, create, plainOpen, ...) or systemd-cryptsetup attach command run by a unit started at boot (itself a failure; directly, through sh -c, or in a shell script the unit runs, /etc/rc.local by rc-local.service included), that is a file of the root filesystem is read as a partition is, so a LUKS container in a file is found and named with the line or unit naming it. fscrypt-encrypted directories count: every ext2/3/4 filesystem (partition or logical volume) whose superblock has the encrypt feature has its directory tree walked, directories only, for the topmost ones flagged EXT4_ENCRYPT_FL; the fscrypt tool's /etc/fscrypt.conf and /.fscrypt/policies with no encrypted directory found only warn. A partition typed LVM whose label LVM's label scan passes over (no label, or a label whose checksum does not match) is no PV to LVM, activates nothing, and is only noted. A partition that could not be read is an error naming it; so is a PV whose label LVM takes but whose pv_header or metadata does not read, and a logical volume whose extents lie on a PV that is not in the image or in a segment of another type (thin, RAID, cache, snapshot, VDO), naming the PV and the LV.",
	Fix:       "Build the image on unencrypted volumes and remove /etc/crypttab entries; let customers encrypt with the cloud's volume encryption (EBS encryption, Azure Disk Encryption) at launch.",
	Check: func(c *Context) Result {
		f := encryption.Of(c.Image)
		if err := f.Err(); err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, v := range f.Volumes {
			d := fmt.Sprintf("%s volume (%s)", v.Kind, v.Where)
			if v.UUID != "" {
				d += Quotef(", UUID %s", v.UUID)
			}
			if v.Label != "" {
				d += Quotef(", label %s", v.Label)
			}
			ev = append(ev, Evidence{Path: c.Image.Source, Detail: d})
		}
		for _, e := range f.Crypttab {
			d := Quotef("crypttab opens %s from %s", e.Name, e.Device)
			// the device named: a partition or LV of the image, or, for a tag, none (the unit
			// systemd-cryptsetup-generator makes waits for it at boot all the same)
			switch {
			case e.Names != "":
				d += ": " + e.Names
			case e.Tag():
				d += ", which names no partition or logical volume of the image (boot waits for it)"
			}
			if e.NoAuto() {
				d += " (noauto: on request only)"
			}
			ev = append(ev, Evidence{Path: encryption.Crypttab, Line: e.Line, Detail: d})
		}
		for _, b := range f.Boot {
			ev = append(ev, Evidence{Path: b.Where, Line: b.Line, Detail: Quotef("the kernel command line opens a LUKS volume at boot: %s", b.Word)})
		}
		for _, e := range f.ECryptfs {
			ev = append(ev, Evidence{Path: e.Path, Line: e.Line, Detail: Quotef("eCryptfs: %s", e.Detail)})
		}
		for _, u := range f.UnitOpens {
			d := Quotef("%s, started at boot, opens a dm-crypt volume: %s=%s", u.Unit, u.Setting.Key, u.Setting.Value)
			ev = append(ev, Evidence{Path: u.Setting.File, Line: u.Setting.Line, Detail: d})
		}
		for _, fc := range f.Fscrypt {
			d := Quotef("fscrypt: %d encrypted director(ies) on %s: %s", fc.Count, fc.Where, strings.Join(fc.Dirs, ", "))
			if fc.Count > len(fc.Dirs) {
				d += fmt.Sprintf(" and %d more", fc.Count-len(fc.Dirs))
			}
			ev = append(ev, Evidence{Path: fc.Where, Detail: d})
		}
		var notes []Evidence
		for _, n := range f.NotPVs {
			notes = append(notes, Evidence{Path: c.Image.Source, Detail: Quotef("an LVM partition whose label LVM does not take, so none of its volumes is activated: %s", n)})
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d encrypted volume(s) or boot-time dm-crypt setting(s)", len(ev)), listing(append(ev, notes...), 20)...)
		}
		if len(f.FscryptSigns) > 0 {
			var w []Evidence
			for _, s := range f.FscryptSigns {
				w = append(w, Evidence{Path: s.Path, Detail: s.Detail})
			}
			for _, name := range f.EncryptFeature {
				w = append(w, Evidence{Path: name, Detail: "ext4 encrypt feature set; no directory of it is encrypted"})
			}
			return warn("the fscrypt tool is set up, but no encrypted directory was found on the image's filesystems: its policies may be for a filesystem that is not in the image", append(w, notes...)...)
		}
		n := 0
		if c.Image.Table != nil {
			n = len(c.Image.Table.Partitions)
		}
		lvs := ""
		if f.LogicalVolumes > 0 {
			lvs = fmt.Sprintf(" and %d LVM logical volume(s)", f.LogicalVolumes)
		}
		return pass(fmt.Sprintf("no LUKS or BitLocker header on %d partition(s)%s, no crypttab entry, no LUKS on the kernel command line, no eCryptfs directory", n, lvs), notes...)
	},
})

// userlandPrograms are the programs whose ELF machine is the userland's: the shell every
// script runs under and the init the kernel starts.
var userlandPrograms = []string{"/bin/sh", "/sbin/init", "/usr/lib/systemd/systemd"}

var _ = register(&Rule{
	ID:        "supported-architecture",
	Title:     "x86-64 or arm64: the userland's programs and the kernel that boots",
	Severity:  High,
	Source:    awsAMIPolicies + ", architecture policies: AMIs must use HVM virtualization, AMIs must use 64-bit or 64-bit ARM architecture; " + awsAMIChecklist + " (uses HVM virtualization and 64-bit architecture)",
	Rationale: "An AMI is registered for one architecture, x86_64 or arm64, and boots as HVM. The userland's architecture is the ELF machine of /bin/sh, /sbin/init and systemd (symbolic links followed inside the image); the kernel's is read from the header of the kernel the boot chain starts (x86's boot protocol with its 64-bit flag, arm64's Image header, the PE header of an EFI-stub kernel, zboot image or UKI, gzip-compressed ones decompressed as far as the header). Both must be x86_64, or both aarch64. A kernel whose format is not recognised is an error.",
	Fix:       "Build the image from the x86_64 (amd64) or aarch64 (arm64) release of the distribution, with its own kernel.",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		machines := map[string]bool{}
		bad := false
		for _, p := range userlandPrograms {
			target, err := c.Image.Root.Resolve(rel(p))
			if err != nil {
				continue // absent (or a dangling link): not evidence either way
			}
			ra, size, err := c.Image.Root.OpenReaderAt(target)
			if err != nil {
				return errResult(fmt.Errorf("%s: %w", p, err))
			}
			n := int64(64)
			if size < n {
				n = size
			}
			hdr := make([]byte, n)
			if got, err := ra.ReadAt(hdr, 0); int64(got) < n {
				return errResult(fmt.Errorf("%s: reading its header at offset 0: %v", p, err))
			}
			m, class, err := arch.ELF(hdr)
			if err != nil {
				continue // a script: not evidence
			}
			d := fmt.Sprintf("ELF %s %s", class, m)
			if abs := "/" + strings.TrimPrefix(target, "/"); abs != p {
				d = fmt.Sprintf("%s (via %s): %s", abs, p, d)
			}
			ev = append(ev, Evidence{Path: p, Detail: d})
			machines[m] = true
			bad = bad || !arch.Supported(m)
		}
		if len(ev) == 0 {
			return Result{Status: Error, Message: "no ELF program found at " + strings.Join(userlandPrograms, ", ") + ": the userland's architecture is unknown"}
		}
		km, kev, err := c.kernelArch()
		switch {
		case err != nil && bad:
			// the userland alone fails the rule; the kernel's error does not make it unknown
			ev = append(ev, Evidence{Detail: "kernel not judged: " + Quote(err.Error())})
		case err != nil:
			return Result{Status: Error, Message: Quote(err.Error()), Evidence: ev}
		default:
			ev = append(ev, kev)
			machines[km] = true
			bad = bad || !arch.Supported(km)
		}
		var names []string
		for _, m := range []string{arch.X8664, arch.AArch64} {
			if machines[m] {
				names = append(names, m)
			}
		}
		for m := range machines {
			if !arch.Supported(m) {
				names = append(names, m)
			}
		}
		r := Result{Evidence: ev, Actual: strings.Join(names, ", "), Required: "x86_64 or aarch64 (one of them)"}
		switch {
		case bad:
			r.Status, r.Message = Fail, "not an architecture the marketplaces run (x86-64 or arm64): "+r.Actual
		case len(machines) > 1:
			r.Status, r.Message = Fail, "the userland and the kernel are of different architectures: "+r.Actual
		default:
			r.Status, r.Message = Pass, "userland and kernel are "+r.Actual
		}
		return r
	}),
})

// kernelArch reads the architecture of the kernel the boot chain starts: a UKI or systemd-boot
// entry's kernel on its boot partition, else /boot/vmlinuz-RELEASE.
func (c *Context) kernelArch() (string, Evidence, error) {
	ch := boot.Of(c.Image)
	if ch.Err != nil {
		return "", Evidence{}, fmt.Errorf("boot chain (which kernel boots): %w", ch.Err)
	}
	k := ch.Kernel
	if k.Release == "" && k.UKI == "" {
		return "", Evidence{}, fmt.Errorf("no kernel found that the boot chain starts (no /boot/vmlinuz-*, no boot entry's kernel)")
	}
	var where string
	var open func() (io.ReadCloser, error)
	if k.SDDefault {
		for _, e := range ch.Entries {
			if e.SD == nil || !e.SD.IsDefault || !e.Booted {
				continue
			}
			tree, file := e.SD.Boot.Tree, e.SD.Linux
			if e.SD.IsUKI {
				file = e.SD.UKIPath
			}
			if file == "" {
				return "", Evidence{}, fmt.Errorf("%s: the default entry starts no kernel", e.SD.Where)
			}
			where = e.SD.Boot.Where(file)
			open = func() (io.ReadCloser, error) { return tree.Open(rel(path.Clean("/" + file))) }
			break
		}
	}
	if open == nil {
		// GRUB's kernel where GRUB reads it (a path of the root's view, or "partition N:/path"),
		// else /boot/vmlinuz-RELEASE, the file the boot chain fell back to
		var tried []string
		for _, p := range []string{k.From, "/boot/vmlinuz-" + k.Release} {
			if p == "" || accessContains(tried, p) {
				continue
			}
			tried = append(tried, p)
			tree, file := c.partitionFile(p)
			if tree == nil {
				continue
			}
			fi, err := tree.Stat(rel(file))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", Evidence{}, fmt.Errorf("%s: %w", p, err)
			}
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			where = p
			open = func() (io.ReadCloser, error) { return tree.Open(rel(file)) }
			break
		}
		if open == nil {
			return "", Evidence{}, fmt.Errorf("the kernel the boot chain starts is not in the image: %s", strings.Join(tried, ", "))
		}
	}
	f, err := open()
	if err != nil {
		return "", Evidence{}, fmt.Errorf("%s: %w", where, err)
	}
	defer f.Close()
	m, format, err := arch.Kernel(f)
	if err != nil {
		return "", Evidence{}, fmt.Errorf("%s: %w", where, err)
	}
	return m, Evidence{Path: where, Detail: fmt.Sprintf("kernel %s: %s (%s)", Quote(k.Release), m, format)}, nil
}

// partitionFile finds a file named as reports name them: a path of the root's view, or
// "partition N:/path" on a partition the root does not mount; nil when neither.
func (c *Context) partitionFile(name string) (*filesystem.Tree, string) {
	if strings.HasPrefix(name, "/") {
		return c.Image.Root, name
	}
	rest, ok := strings.CutPrefix(name, "partition ")
	if !ok || c.Image.Table == nil {
		return nil, ""
	}
	num, p, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, ""
	}
	for _, part := range c.Image.Table.Partitions {
		if fmt.Sprint(part.Number) == num {
			if t := c.Image.PartitionTree(part); t != nil {
				return t, p
			}
		}
	}
	return nil, ""
}
