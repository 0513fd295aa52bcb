package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/bootmode"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/clock"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/extended"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/selinux"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// The items of Alibaba Cloud's image check (CreateImage/ImportImage with
// DetectionStrategy=Standard, the results DescribeImages returns in DetectionOptions) and the
// disk layout its Linux image requirements ask for, decided from the disk. Alibaba's checker
// and its repair script are not public: what each item requires is read from Alibaba's
// documentation and from what its repair template (aliyun/oos-templates ACS-ECS-RepairImage)
// offers to repair; where that leaves the requirement unclear, the rule warns and never fails.

// The documents these rules cite.
const (
	aliImageCheck = "Alibaba Cloud image check items (Server Migration Center, \"Image check items\": GUESTOS.* items, " +
		"https://www.alibabacloud.com/help/en/smc/user-guide/image-check-items; ECS, \"Check whether an image meets the import requirements\", " +
		"https://www.alibabacloud.com/help/en/ecs/user-guide/check-whether-an-image-meets-the-import-requirements)"
	aliImageSpec = "Alibaba Cloud Linux image requirements for import and Marketplace " +
		"(https://www.alibabacloud.com/help/en/ecs/user-guide/cloud-marketplace-mirror-specification)"
	aliRepair = "Alibaba's image repair template (aliyun/oos-templates@48dd266:PublicTemplates/YAML/ACS-ECS-RepairImage.yml: repair items " +
		"assist, aegis, growpart, virtio, selinux, dhcp, grub, fstab, nvme, cloudinit)"
	aliImportAPI = "Alibaba Cloud ECS ImportImage API reference (DiskDeviceMapping.N.DiskImageSize of the system disk: 1 to 2048 GiB; " +
		"BootMode BIOS or UEFI, UEFI when Architecture is arm64)"
)

// nvmeDrivers are the NVMe drivers an ECS instance type with NVMe system disks (ecs.g7se,
// ecs.g8i and later families) needs to find its disk: both early, in the initramfs or built in.
var nvmeDrivers = []bootDriver{
	{"nvme_core", "CONFIG_NVME_CORE", "drivers/nvme/host", false},
	{"nvme", "CONFIG_BLK_DEV_NVME", "drivers/nvme/host", false},
}

var _ = register(&Rule{
	ID:       "nvme-driver-at-boot",
	Title:    "The kernel that boots reaches an NVMe system disk: nvme and nvme_core built in or in its initramfs",
	Severity: High,
	Source:   aliImageCheck + " (GUESTOS.Nvme); " + aliImageSpec + " (install the NVMe driver); " + aliRepair,
	Rationale: "Newer ECS instance families (ecs.g7se, ecs.g8i and later) present the system disk over NVMe; an image whose booting kernel " +
		"has nvme as a module that its initramfs lacks cannot find its root disk on them, and the image check reports GUESTOS.Nvme. " +
		"Decided as for the virtio drivers: the booting kernel (GRUB's default entry, systemd-boot's default entry or a UKI) and its " +
		"/boot/config-RELEASE (y: built in; m: must be in the initramfs, which is listed whatever its compression), both drivers being " +
		"needed before the root is mounted.",
	Fix: "Add the drivers to the initramfs and rebuild it: dracut (add_drivers+=\" nvme nvme_core \" in /etc/dracut.conf.d/nvme.conf, " +
		"then dracut -f --kver RELEASE); initramfs-tools (list nvme and nvme_core in /etc/initramfs-tools/modules, then " +
		"update-initramfs -u -k RELEASE).",
	Check: linux(func(c *Context) Result {
		r := driversAtBoot(c, "NVMe", "an ECS instance with an NVMe system disk", nvmeDrivers)
		switch r.Status {
		case Pass:
			r.Actual = "Supported"
		case Fail:
			r.Actual = "Unsupported"
		}
		r.Required = "nvme, nvme_core built in or in the initramfs"
		return r
	}),
})

var _ = register(&Rule{
	ID:       "selinux-disabled",
	Title:    "SELinux does not enforce at boot (disabled, or permissive), and never stops the boot",
	Severity: Medium,
	Source:   aliImageCheck + " (GUESTOS.Selinux); " + aliRepair + " (selinux)",
	Rationale: "Alibaba's image check reports the SELinux mode as GUESTOS.Selinux and its repair template offers to repair it; what mode " +
		"the check accepts is not published, so an enforcing SELinux only warns. What is certain fails: an enforcing boot with no policy " +
		"installed to load, which systemd answers by freezing. The mode is decided as the booting system decides it: libselinux's " +
		"reading of /etc/selinux/config (the first SELINUX= line with a recognised value; SELINUXTYPE= for the policy), selinux=0 " +
		"and enforcing= on each booted entry's kernel command line, and the policy under /etc/selinux/TYPE/policy.",
	Fix: "Set SELINUX=disabled (or permissive) in /etc/selinux/config, and drop enforcing=1 from the boot entries (GRUB_CMDLINE_LINUX, " +
		"then regenerate the boot configuration).",
	Check: linux(func(c *Context) Result {
		data, err := c.read(selinux.ConfigPath)
		if err != nil {
			return errResult(err)
		}
		var cfg *selinux.Config
		var ev []Evidence
		if data != nil {
			parsed, err := selinux.ParseConfig(selinux.ConfigPath, data)
			if err != nil {
				return errResult(err)
			}
			cfg = &parsed
			for _, u := range cfg.Unrecognised {
				ev = append(ev, Evidence{Path: selinux.ConfigPath, Line: u.Line, Detail: Quotef("SELINUX=%s is not a mode libselinux reads: it reads on", u.Value)})
			}
		}
		dir := selinux.PolicyDir(cfg)
		policies, err := c.glob(dir + "/policy.*")
		if err != nil {
			return errResult(err)
		}
		entries, _, err := c.bootedEntries()
		if err != nil {
			return errResult(err)
		}
		cmdlines := entries
		if len(cmdlines) == 0 {
			cmdlines = append(cmdlines, bootEntry{path: selinux.ConfigPath, cmdline: ""}) // no entry: the file alone decides
		}
		worst := selinux.Boot{Mode: selinux.Disabled}
		rank := func(b selinux.Boot) int {
			switch {
			case b.Freezes:
				return 3
			case b.Mode == selinux.Enforcing:
				return 2
			case b.Mode == selinux.Permissive:
				return 1
			}
			return 0
		}
		for i, e := range cmdlines {
			b := selinux.Decide(cfg, selinux.ParseCmdline(e.cmdline), len(policies) > 0)
			if i == 0 || rank(b) > rank(worst) {
				worst = b
			}
			where := "the boot"
			if e.cmdline != "" || e.line > 0 {
				where = e.describe() + " entry"
			}
			ev = append(ev, Evidence{Path: e.path, Line: e.line, Detail: Quotef("%s: SELinux %s (%s)", where, string(b.Mode), b.Why)})
		}
		res := Result{Actual: string(worst.Mode), Required: "disabled or permissive", Evidence: listing(ev, 10)}
		switch {
		case worst.Freezes:
			res.Status, res.Message = Fail, Quotef("SELinux is enforcing with no policy under %s: systemd stops the boot", dir)
		case worst.Mode == selinux.Enforcing:
			res.Status, res.Message = Warn, "SELinux enforces at boot ("+Quote(worst.Why)+"); Alibaba's image check reports it (GUESTOS.Selinux)"
		case worst.Mode == selinux.Permissive:
			res.Status, res.Message = Pass, "SELinux is permissive at boot: it denies nothing"
		default:
			res.Status, res.Message = Pass, "SELinux is disabled at boot"
		}
		return res
	}),
})

// growpartTool is where cloud-init's growpart module finds the growpart program (cloud-utils
// or cloud-guest-utils): its PATH.
var growpartTool = []string{"/usr/bin/growpart", "/usr/sbin/growpart", "/bin/growpart", "/sbin/growpart", "/usr/local/bin/growpart", "/usr/local/sbin/growpart"}

// ciModuleName is a module list entry as cloud-init names it (form_module_name): blanks
// stripped, "-" read as "_", a ".py" and a "cc_" prefix dropped.
func ciModuleName(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "-", "_")
	s = strings.TrimSuffix(s, ".py")
	return strings.TrimPrefix(s, "cc_")
}

var _ = register(&Rule{
	ID:       "root-grows-at-first-boot",
	Title:    "The root partition and filesystem grow to the system disk at first boot (cloud-init's growpart and resizefs, the growpart tool)",
	Severity: High,
	Source:   aliImageCheck + " (GUESTOS.OnlineResizeFS); " + aliImageSpec + " (install cloud-utils-growpart; the root partition is grown with growpart); " + aliRepair + " (growpart)",
	Rationale: "An ECS system disk is usually larger than the imported image; unless the root partition and its filesystem grow at first boot, " +
		"the space is unusable. cloud-init does this with its growpart module (which runs the growpart program) and its resizefs module. " +
		"Read as cloud-init reads its configuration (cloud.cfg and cloud.cfg.d merged): both modules in a module list (cloud_init_modules, " +
		"cloud_config_modules or cloud_final_modules, names as cloud-init forms them), growpart's mode not off and its devices including /, " +
		"resize_rootfs not false, no /etc/growroot-disabled, and growpart installed where the module finds it.",
	Fix: "Install cloud-init and cloud-utils-growpart (RHEL family) or cloud-guest-utils (Debian family); keep growpart and resizefs in " +
		"cloud_init_modules, and remove growpart: {mode: off}, resize_rootfs: false and /etc/growroot-disabled.",
	Check: linux(func(c *Context) Result {
		res := Result{Required: "cloud-init growpart and resizefs on, growpart installed"}
		var problems, ev []Evidence
		en := cloudinit.EnablementOf(c.Image)
		if err := en.Err(); err != nil {
			return errResult(err)
		}
		why := func() []Evidence {
			var out []Evidence
			for _, w := range en.Why {
				out = append(out, Evidence{Path: w.Path, Line: w.Line, Detail: w.Detail})
			}
			return out
		}
		switch {
		case !en.Installed:
			problems = append(problems, Evidence{Path: cloudinit.Binaries[0], Detail: "cloud-init is not installed: nothing grows the root at first boot"})
		case !en.Enabled:
			problems = append(append(problems, Evidence{Path: cloudinit.DisabledFile, Detail: "cloud-init does not run at boot: its growpart and resizefs modules never run"}), why()...)
		default:
			ev = append(ev, why()...)
		}
		if en.Installed {
			ci := cloudinit.Of(c.Image)
			if err := ci.Err(); err != nil {
				return errResult(err)
			}
			cfg := ci.Config
			found := map[string]cloudinit.Value{}
			for _, list := range []string{"cloud_init_modules", "cloud_config_modules", "cloud_final_modules"} {
				for _, m := range cfg.Modules(list) {
					n := ciModuleName(m.Str)
					if _, seen := found[n]; !seen && (n == "growpart" || n == "resizefs") {
						found[n] = m
						ev = append(ev, Evidence{Path: m.File, Line: m.Line, Detail: list + " runs " + n})
					}
				}
			}
			for _, n := range []string{"growpart", "resizefs"} {
				if _, ok := found[n]; !ok {
					where := cloudinit.Main
					if v, ok := cfg.Get("cloud_init_modules"); ok {
						where = v.File
					}
					problems = append(problems, Evidence{Path: where, Detail: "no module list runs " + n})
				}
			}
			if v, ok := cfg.Get("growpart", "mode"); ok {
				off := v.Kind == sysconf.YBool && !v.Bool || v.Kind == sysconf.YStr && slices.Contains([]string{"off", "false", "0", "no"}, strings.ToLower(strings.TrimSpace(v.Str)))
				if off {
					problems = append(problems, Evidence{Path: v.File, Line: v.KeyLine, Detail: "growpart: mode: " + Quote(v.String()) + " turns growpart off"})
				}
			}
			if v, ok := cfg.Get("growpart", "devices"); ok {
				hasRoot := false
				if v.Kind == sysconf.YSeq {
					for _, d := range v.Items {
						if d.Kind == sysconf.YStr && path.Clean(d.Str) == "/" {
							hasRoot = true
						}
					}
				}
				if !hasRoot {
					problems = append(problems, Evidence{Path: v.File, Line: v.KeyLine, Detail: "growpart: devices: does not name / (the root is not grown)"})
				}
			}
			if val, set, where := cfg.Bool("resize_rootfs"); set && !val {
				problems = append(problems, Evidence{Path: where.File, Line: where.KeyLine, Detail: "resize_rootfs: false turns resizefs off"})
			}
			if fi, err := c.stat("/etc/growroot-disabled"); err != nil {
				return errResult(err)
			} else if fi != nil {
				problems = append(problems, Evidence{Path: "/etc/growroot-disabled", Detail: "exists: cloud-init's growpart module does nothing"})
			}
		}
		tool := ""
		for _, t := range growpartTool {
			fi, err := c.stat(t)
			if err != nil {
				return errResult(err)
			}
			if fi != nil && fi.Mode().IsRegular() {
				tool = t
				break
			}
		}
		if tool == "" {
			problems = append(problems, Evidence{Path: "/usr/bin/growpart", Detail: "missing: growpart (cloud-utils-growpart, cloud-guest-utils) is not installed"})
		} else {
			ev = append(ev, Evidence{Path: tool, Detail: "the growpart program"})
		}
		if len(problems) > 0 {
			res.Status, res.Actual = Fail, "Unsupported"
			res.Message = fmt.Sprintf("the root will not grow to the system disk at first boot (%d problem(s))", len(problems))
			res.Evidence = append(problems, ev...)
			return res
		}
		res.Status, res.Actual, res.Evidence = Pass, "Supported", ev
		res.Message = "cloud-init grows the root partition (growpart) and its filesystem (resizefs) at first boot"
		return res
	}),
})

var _ = register(&Rule{
	ID:       "hardware-clock-utc",
	Title:    "The hardware clock is kept in UTC (/etc/adjtime)",
	Severity: Low,
	Source:   aliImageCheck + " (GUESTOS.RtcTimeMode: \"We recommend that you set the time standard of the RTC to UTC\")",
	Rationale: "ECS instances keep their real-time clock in UTC; an image that says the RTC is in local time has its clock shifted by the " +
		"time-zone offset at every boot. /etc/adjtime is read as systemd reads it at boot (the third line, stripped: LOCAL means local " +
		"time; anything else, no third line or no file, UTC); a third line hwclock does not recognise (it warns and assumes UTC, while " +
		"systemd reads it otherwise, or it lacks its newline) warns.",
	Fix: "Run `timedatectl set-local-rtc 0` (or write UTC as the third line of /etc/adjtime) before capture.",
	Check: linux(func(c *Context) Result {
		data, err := c.read(clock.Path)
		if err != nil {
			return errResult(err)
		}
		a := clock.Absent()
		if data != nil {
			if a, err = clock.ParseAdjtime(clock.Path, data); err != nil {
				return errResult(err)
			}
		}
		res := Result{Actual: string(a.Mode), Required: "UTC"}
		ev := Evidence{Path: clock.Path, Detail: Quote(a.Describe())}
		if a.HasLine3 {
			ev.Line = 3
		}
		res.Evidence = []Evidence{ev}
		switch {
		case a.Mode == clock.Local:
			res.Status, res.Message = Fail, "the hardware clock is kept in local time"
		case !a.Recognised:
			res.Status, res.Message = Warn, "the third line of /etc/adjtime is neither UTC nor LOCAL as hwclock reads it: systemd takes UTC, hwclock warns"
		default:
			res.Status, res.Message = Pass, "the hardware clock is kept in UTC"
		}
		return res
	}),
})

var _ = register(&Rule{
	ID:       "boot-mode-consistent",
	Title:    "The disk starts by BIOS or UEFI (boot code, or an EFI loader on an ESP), as its architecture needs, and says which",
	Severity: High,
	Source:   aliImageCheck + " (GUESTOS.BootMode: legacy or UEFI); " + aliImageSpec + " (set the boot mode on import to the image's own; UEFI-Preferred when it has both); " + aliImportAPI,
	Rationale: "ImportImage takes the boot mode as a parameter and the image check reports the mode it finds; an image imported as BIOS " +
		"that carries no boot code, or as UEFI without an EFI loader, does not start. Decided from the disk as the firmware decides it: a " +
		"BIOS runs the boot code in sector 0 (all zero: nothing runs; a GPT BIOS boot partition without it is an unfinished grub-install); " +
		"UEFI starts an EFI application (a PE file) on an EFI system partition, and a new VM with empty boot variables only the " +
		"removable-media path \\EFI\\BOOT\\BOOT<arch>.EFI. arm64 images must be UEFI. The mode found is reported (BIOS, UEFI, or " +
		"UEFI-Preferred for both); an ESP that could not be read makes the rule an error.",
	Fix: "For BIOS: grub-install --target=i386-pc on the disk (with a BIOS boot partition on GPT). For UEFI: an EFI system partition with " +
		"the loader at \\EFI\\BOOT\\BOOTX64.EFI (BOOTAA64.EFI on arm64), e.g. grub-install --target=x86_64-efi --removable or " +
		"shim's fallback; import the image with the BootMode found.",
	Check: func(c *Context) Result {
		if c.Image.Table == nil || c.Image.Table.Scheme == "none" {
			return na("the image is a bare filesystem: no partition table, no boot code and no EFI system partition to start from")
		}
		all := bootmode.Of(c.Image)
		if all.Err != nil {
			return errResult(all.Err)
		}
		var ev []Evidence
		if all.BootCode {
			ev = append(ev, Evidence{Path: "sector 0", Detail: "boot code (bytes 0-439 are not all zero): a BIOS starts it"})
		}
		if all.BIOSBootPartition > 0 {
			ev = append(ev, Evidence{Path: fmt.Sprintf("partition %d", all.BIOSBootPartition), Detail: "BIOS boot partition (where grub-install embeds GRUB's core image)"})
		}
		arm := false
		if c.Image.Root != nil {
			bk, err := c.bootKernel()
			if err != nil {
				return errResult(err) // the kernel's architecture is unknown
			}
			cfgPath := "/boot/config-" + bk.release
			cfg, err := c.read(cfgPath)
			if err != nil {
				return errResult(err)
			}
			kv, err := sysconf.ReadKeyValue(cfg)
			if err != nil {
				return errResult(fmt.Errorf("%s %w", cfgPath, err))
			}
			if s, ok := sysconf.Last(kv, "CONFIG_ARM64"); bk.release != "" && ok && s.Value == "y" {
				arm = true
				ev = append(ev, Evidence{Path: "/boot/config-" + bk.release, Line: s.Line, Detail: "CONFIG_ARM64=y: an arm64 kernel"})
			}
		}
		// a firmware starts only loaders of its own architecture, from a FAT ESP
		arch := "x86-64"
		if arm {
			arch = "arm64"
		}
		f := all.For(arch)
		for _, n := range all.NotFAT {
			ev = append(ev, Evidence{Path: fmt.Sprintf("partition %d", n), Detail: "an EFI system partition whose filesystem is not FAT: UEFI firmware does not read it"})
		}
		for _, l := range all.Loaders {
			d := "EFI application (vendor path: starts only through a boot entry)"
			switch {
			case l.Arch != arch:
				d = "EFI application for " + l.Arch + ": an " + arch + " firmware does not start it"
			case l.Fallback:
				d = "EFI application at the removable-media path: UEFI starts it"
			}
			ev = append(ev, Evidence{Path: l.Where, Detail: d})
		}
		v := f.Value()
		res := Result{Actual: v, Required: "BIOS boot code or an EFI loader (UEFI on arm64)", Evidence: ev}
		switch {
		case v == "":
			res.Status, res.Actual = Fail, "none"
			res.Message = "the disk starts neither by BIOS (sector 0 holds no boot code) nor by UEFI (no EFI application on an EFI system partition)"
			if f.BIOSBootPartition > 0 {
				res.Message += "; the BIOS boot partition says grub-install was meant to run"
			}
		case arm && !f.UEFI():
			res.Status, res.Message = Fail, "an arm64 image must start by UEFI, and this one has no EFI loader"
		case f.UEFI() && !f.Fallback() && !f.BIOS():
			res.Status, res.Message = Warn, "the EFI loader is only at a vendor path: a new VM's firmware, with no boot entry, does not start it"
		default:
			res.Status, res.Message = Pass, "the disk starts by "+v+": import it with BootMode "+v
		}
		return res
	},
})

// persistentRoot reports whether a root= names the root in a way that does not depend on the
// order the VM presents its disks: by filesystem or partition UUID or label, or through a
// device-mapper or MD name.
func persistentRoot(spec string) bool {
	for _, p := range []string{"UUID=", "PARTUUID=", "LABEL=", "PARTLABEL=", "/dev/disk/by-uuid/", "/dev/disk/by-partuuid/", "/dev/disk/by-label/", "/dev/disk/by-partlabel/", "/dev/mapper/", "/dev/md", "ZFS="} {
		// case-sensitive, as initramfs-tools' resolve_device, dracut and the kernel match them:
		// root=uuid=… is waited on as a device path that never appears
		if strings.HasPrefix(spec, p) {
			return true
		}
	}
	return false
}

var _ = register(&Rule{
	ID:       "grub-boots-by-uuid",
	Title:    "The boot entries name the root by UUID or label, and the kernel and initramfs they load exist",
	Severity: Critical,
	Source:   aliImageCheck + " (GUESTOS.Grub: \"ensure that device names are not used to specify boot partitions\", root=/dev/sda1; use UUIDs); " + aliImageSpec + " (UUIDs in fstab and GRUB); " + aliRepair + " (grub)",
	Rationale: "Device names depend on how the VM presents its disks (virtio-blk names them vda, NVMe nvme0n1, a build host sda): a root= by " +
		"device name that boots on the build machine hangs on ECS. Each booted entry (GRUB's default entry as GRUB runs grub.cfg, " +
		"systemd-boot's default entry, a UKI's command line) must name the root by UUID=, PARTUUID=, LABEL= or PARTLABEL= (or /dev/disk/by-*, " +
		"a device-mapper or MD name) that resolves in the image, or pass no root= on a disk whose root partition has the Discoverable " +
		"Partitions root type; the kernel and initramfs a GRUB entry loads must exist where GRUB reads them (on the device its " +
		"search or (dev) prefix names, as the boot chain resolves it); a file whose device is not known offline makes the rule an error.",
	Fix: "Let grub-mkconfig write root=UUID=... (GRUB_DISABLE_LINUX_UUID unset) and regenerate grub.cfg (update-grub, grub2-mkconfig -o); " +
		"reinstall the kernel package or fix the entry when its kernel or initramfs is missing.",
	Check: linux(func(c *Context) Result {
		entries, _, err := c.bootedEntries()
		if err != nil {
			return errResult(err)
		}
		if len(entries) == 0 {
			r := fail("no boot entry found: nothing tells the boot loader which kernel and root to start",
				Evidence{Path: "/boot/grub/grub.cfg", Detail: "no GRUB entry, no systemd-boot entry and no unified kernel image"})
			r.Actual, r.Required = "no boot entry", "root=UUID=... in the booted entry"
			return r
		}
		var bad, ok, unknown []Evidence
		bare := c.Image.Table == nil || c.Image.Table.Scheme == "none"
		for _, e := range entries {
			root := e.e.Root()
			switch {
			case root == "":
				if rp := c.Image.RootPartition; rp != nil && strings.EqualFold(rp.TypeID, gptRootX8664) || rp != nil && strings.EqualFold(rp.TypeID, gptRootARM64) {
					ok = append(ok, Evidence{Path: e.path, Line: e.line, Detail: "no root=: the initramfs finds the root by its Discoverable Partitions type (" + e.describe() + ")"})
				} else {
					bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: "no root= and the root partition has no Discoverable Partitions root type (" + e.describe() + ")"})
				}
			case !persistentRoot(root):
				bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: Quotef("root=%s is a device name: it changes with how the VM presents its disks", root) + " (" + e.describe() + ")"})
			case strings.HasPrefix(root, "/dev/mapper/") || strings.HasPrefix(root, "/dev/md") || strings.HasPrefix(root, "ZFS="):
				ok = append(ok, Evidence{Path: e.path, Line: e.line, Detail: Quotef("root=%s is a device-mapper, MD or ZFS name", root) + " (" + e.describe() + ")"})
			case bare:
				ok = append(ok, Evidence{Path: e.path, Line: e.line, Detail: Quotef("root=%s (a bare filesystem image: resolved once it is on a disk)", root) + " (" + e.describe() + ")"})
			case c.Image.Resolve(root) != nil:
				ok = append(ok, Evidence{Path: e.path, Line: e.line, Detail: Quotef("root=%s", root) + " (" + e.describe() + ")"})
			default:
				bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: Quotef("root=%s matches no partition or filesystem of the image", root) + " (" + e.describe() + ")"})
			}
			if e.e.SD != nil {
				continue // systemd-boot's files are resolved by the boot chain (its kernel rule judges them)
			}
			if e.e.Kernel == "" {
				bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: "the entry loads no kernel (no linux command)"})
			}
			// the files as GRUB finds them (the boot chain resolves its device and $root)
			for _, m := range e.e.Missing {
				what := "the initramfs " + Quote(m) + " does not exist where GRUB reads it: the kernel boots without it"
				if e.e.KernelMissing && m == e.e.KernelFile {
					what = "the kernel " + Quote(m) + " does not exist where GRUB reads it: the entry does not boot"
				}
				bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: what})
			}
			for _, u := range e.e.Unresolved {
				if bare {
					ok = append(ok, Evidence{Path: e.path, Line: e.line, Detail: Quote(u) + ": a bare filesystem image: where GRUB reads it is known once it is on a disk"})
					continue
				}
				unknown = append(unknown, Evidence{Path: e.path, Line: e.line, Detail: Quote(u) + ": the device GRUB reads it from is not known offline"})
			}
		}
		if len(bad) > 0 {
			r := fail(fmt.Sprintf("%d problem(s) in the booted entries", len(bad)), listing(append(bad, ok...), 20)...)
			r.Actual, r.Required = bad[0].Detail, "root=UUID=... and existing kernel and initramfs"
			return r
		}
		if len(unknown) > 0 {
			return Result{Status: Error, Message: "whether the booted entries' files exist is not known offline", Evidence: listing(unknown, 20)}
		}
		r := pass(fmt.Sprintf("%d booted entr(ies) name the root persistently and load files that exist", len(entries)), listing(ok, 20)...)
		r.Actual, r.Required = "UUID", "root=UUID=... and existing kernel and initramfs"
		return r
	}),
})

// Discoverable Partitions root types the initramfs finds without root=.
const (
	gptRootX8664 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	gptRootARM64 = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
)

var _ = register(&Rule{
	ID:       "root-partition-last",
	Title:    "The root partition is the last partition on the disk, so that it can grow",
	Severity: High,
	Source:   aliImageSpec + " (\"the root partition is the last partition\": otherwise growing the system disk fails)",
	Rationale: "growpart grows a partition into the free space after it, up to the next entry of the partition table that starts " +
		"after it: a root partition followed by another partition (swap, data, a second root) or by an MBR extended partition (even " +
		"an empty one) cannot take the larger system disk's space. A logical root (MBR partition 5 or above) cannot either: growpart " +
		"(cloud-guest-utils 0.33) extends it to the disk's new end and sfdisk refuses a logical partition that leaves its extended " +
		"container, or, with a partition after the container, it grows only inside the container. Decided from the partition table " +
		"by start offset, extended containers, logical partitions and partitions holding nothing included, as growpart decides it (a differential test runs " +
		"growpart on generated MBR and GPT layouts). A root on an LVM logical volume grows by growing the PV partition that holds the LV's last extent " +
		"(cloud-utils growpart), then pvresize and lvextend: that partition is judged as the root partition and named in the evidence; when it is not " +
		"last but the last partition is another PV of the same VG, lvextend could continue the LV there, and the rule warns.",
	Fix: "Rebuild the disk with the root partition last (boot, ESP and BIOS boot partitions before it), as a primary MBR partition " +
		"or a GPT partition; move any data partition to a data disk.",
	Check: linux(func(c *Context) Result {
		t := c.Image.Table
		if t == nil || t.Scheme == "none" {
			return na("the image is a bare filesystem: no partition table, the filesystem is the whole disk")
		}
		root := c.Image.RootPartition
		if root == nil {
			return Result{Status: Error, Message: "the partition holding the root filesystem is not known"}
		}
		// a root on an LVM logical volume grows by growing the PV partition that holds its last
		// extent (growpart), then pvresize and lvextend, which continue the LV into the new
		// extents: that partition is what must be last
		var rootLV *inspect.LogicalVolume
		for _, lv := range c.Image.LogicalVolumes() {
			if lv.Partition == root {
				rootLV = lv
			}
		}
		rootName := fmt.Sprintf("partition %d", root.Number)
		var lvEv []Evidence
		if rootLV != nil {
			pv, err := lastExtentPV(rootLV)
			if err != nil {
				return Result{Status: Error, Message: Quote(fmt.Sprintf("the root filesystem is LVM logical volume %s: which partition holds its last extent is unknown: %v", rootLV.FullName(), err))}
			}
			root = pv
			rootName = fmt.Sprintf("partition %d (the PV holding the last extent of the root LV %s)", root.Number, rootLV.FullName())
			lvEv = append(lvEv, Evidence{Path: fmt.Sprintf("partition %d", root.Number), Detail: fmt.Sprintf(
				"LVM2 PV holding the last extent of the root filesystem's logical volume %s: growing the root is growpart on this partition, then pvresize and lvextend", rootLV.FullName())})
		}
		var containers []extended.Container
		if t.Scheme == "mbr" {
			d := c.Image.Disk
			if d == nil {
				return Result{Status: Error, Message: "the disk's MBR could not be read: its extended partitions are unknown"}
			}
			var err error
			if containers, err = extended.Read(d.Name, d, d.VirtualSize); err != nil {
				return errResult(err)
			}
		}
		res := Result{Required: "root partition last", Actual: "root is " + rootName}
		if t.Scheme == "mbr" && root.Number >= 5 {
			res.Status, res.Actual = Fail, "root is logical "+rootName
			res.Message = fmt.Sprintf("the root is logical %s: growpart cannot grow it into a larger system disk (a logical partition stays inside its extended container)", rootName)
			res.Evidence = lvEv
			for _, ct := range containers {
				if ct.Start <= root.Start && root.Start < ct.End() {
					res.Evidence = append(res.Evidence, Evidence{Path: fmt.Sprintf("partition %d", ct.Number),
						Detail: fmt.Sprintf("extended partition from %d MiB to %d MiB, holding the root (partition %d at %d MiB)", ct.Start>>20, ct.End()>>20, root.Number, root.Start>>20)})
				}
			}
			return res
		}
		var after []Evidence
		var last *partition.Partition // the partition after the root that starts last
		for _, p := range t.Partitions {
			// an entry whose bytes are all zero still bounds growpart: only the table counts
			if p == root {
				continue
			}
			if p.Start > root.Start {
				after = append(after, Evidence{Path: fmt.Sprintf("partition %d", p.Number), Detail: fmt.Sprintf("%s partition at %d MiB, after the root (partition %d at %d MiB)", p.Kind, p.Start>>20, root.Number, root.Start>>20)})
				if last == nil || p.Start > last.Start {
					last = p
				}
			}
		}
		lastIsContainer := false
		for _, ct := range containers {
			if ct.Start > root.Start {
				after = append(after, Evidence{Path: fmt.Sprintf("partition %d", ct.Number), Detail: fmt.Sprintf("extended partition at %d MiB, after the root (partition %d at %d MiB): growpart stops at it", ct.Start>>20, root.Number, root.Start>>20)})
				if last == nil || ct.Start >= last.Start {
					lastIsContainer = true
				}
			}
		}
		if len(after) > 0 {
			res.Evidence = append(lvEv, after...)
			if rootLV != nil && !lastIsContainer && last != nil && last.Number < 5 && slices.Contains(rootLV.PVs, last) {
				// another PV of the root's VG is last: pvresize there and lvextend can grow the root
				// LV onto it, in a segment of its own; whether Alibaba's check takes that for a root
				// partition that grows is not documented
				res.Status = Warn
				res.Message = fmt.Sprintf("the root LV %s ends on partition %d, which is not last; partition %d, last on the disk, is another PV of its VG: growpart %d, pvresize and lvextend can grow the root there, but the root's own partition is not last",
					rootLV.FullName(), root.Number, last.Number, last.Number)
				return res
			}
			res.Status = Fail
			res.Message = fmt.Sprintf("%d partition(s) follow the root partition: it cannot grow into a larger system disk", len(after))
			return res
		}
		res.Status, res.Evidence = Pass, lvEv
		res.Message = fmt.Sprintf("the root (%s, from %d MiB) is the last partition", rootName, root.Start>>20)
		return res
	}),
})

// lastExtentPV is the partition of the image that holds the last byte of LV lv: the PV whose
// partition growpart must grow for lvextend to continue the LV. The PV is told by the name
// inspect reads it under (inspect/lvm.go readLVM names each PV "partition N").
func lastExtentPV(lv *inspect.LogicalVolume) (*partition.Partition, error) {
	l, ok := lv.Reader.(*lvm.LV)
	if !ok || lv.Size <= 0 {
		return nil, fmt.Errorf("its extents are not read (%v)", lv.Err)
	}
	pv, _, _, err := l.Locate(lv.Size - 1)
	if err != nil {
		return nil, err
	}
	for _, p := range lv.PVs {
		if pv.Name == fmt.Sprintf("partition %d", p.Number) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("its last extent lies on %s, which is none of the VG's partitions", pv.Name)
}

// The system disk's bounds: ImportImage takes a system disk of 1 to 2048 GiB (and the image file
// must fit in it); Alibaba's image requirements set 20 GiB as its smallest size.
const (
	systemDiskMin = 20 << 30
	systemDiskMax = 2048 << 30
)

var _ = register(&Rule{
	ID:       "system-disk-size",
	Title:    "The virtual disk fits an ECS system disk: at most 2048 GiB, and 20 GiB or a root that grows to it",
	Severity: Medium,
	Source:   aliImageSpec + " (system disk at least 20 GiB); " + aliImportAPI,
	Rationale: "ImportImage creates the system disk from the image with DiskImageSize, 1 to 2048 GiB and no smaller than the image's " +
		"virtual disk: a larger image cannot be imported. Alibaba's requirements ask for a system disk of at least 20 GiB; a smaller " +
		"image can still be imported with DiskImageSize 20 or more when its root grows at first boot (root-grows-at-first-boot), so a " +
		"smaller virtual size warns.",
	Fix: "Keep the virtual disk at 2048 GiB or less; import with DiskImageSize of at least 20 (or make the virtual disk 20 GiB: qemu-img resize).",
	Check: func(c *Context) Result {
		size := c.Image.Disk.VirtualSize
		gib := float64(size) / (1 << 30)
		res := Result{Actual: fmt.Sprintf("%.2f GiB", gib), Required: "20 to 2048 GiB",
			Evidence: []Evidence{{Path: c.Image.Disk.Name, Detail: fmt.Sprintf("virtual size %d bytes (%.2f GiB)", size, gib)}}}
		switch {
		case size > systemDiskMax:
			res.Status, res.Message = Fail, "the virtual disk is larger than the 2048 GiB an ECS system disk can be: ImportImage refuses it"
		case size < systemDiskMin:
			res.Status, res.Message = Warn, "the virtual disk is smaller than 20 GiB: import it with DiskImageSize 20 or more"
		default:
			res.Status, res.Message = Pass, fmt.Sprintf("a %.2f GiB virtual disk fits an ECS system disk", gib)
		}
		return res
	},
})

// agentAt reports the first of the packages or paths that is installed, for evidence (the
// package database is read only when packages are named).
func (c *Context) agentAt(pkgs, paths []string) (Evidence, bool, error) {
	var none []string
	where := paths[0]
	if len(pkgs) > 0 {
		inv, err := c.Image.Packages()
		if err != nil {
			return Evidence{}, false, err
		}
		if p, ok := pkgdb.Newest(inv.Find(pkgs...)); ok {
			return Evidence{Path: inv.Path, Detail: "package " + p.Name + " " + p.Version}, true, nil
		}
		where = inv.Path
		none = append(none, "none of the packages "+strings.Join(pkgs, ", ")+" is installed")
	}
	for _, p := range paths {
		fi, err := c.stat(p)
		if err != nil {
			return Evidence{}, false, err
		}
		if fi != nil {
			return Evidence{Path: p, Detail: "installed (not from a package)"}, true, nil
		}
	}
	none = append(none, "none of "+strings.Join(paths, ", ")+" exists")
	return Evidence{Path: where, Detail: strings.Join(none, ", and ")}, false, nil
}

var _ = register(&Rule{
	ID:       "cloud-assistant-installed",
	Title:    "Alibaba Cloud's Cloud Assistant agent is installed (advisory)",
	Severity: Low,
	Source:   aliImageCheck + " (GUESTOS.CloudAssistant); " + aliRepair + " (assist)",
	Rationale: "The Cloud Assistant agent (aliyun-service) runs commands sent through the ECS API (RunCommand, the repair template itself); " +
		"the image check reports whether it is installed. An instance works without it, so its absence only warns. Decided from the " +
		"package database (aliyun_assist, aliyun-assist) or its install paths.",
	Fix: "Install the Cloud Assistant agent (the aliyun_assist package from Alibaba Cloud's mirror) before capture.",
	Check: linux(func(c *Context) Result {
		ev, ok, err := c.agentAt([]string{"aliyun_assist", "aliyun-assist"}, []string{"/usr/sbin/aliyun-service", "/usr/local/share/aliyun-assist"})
		if err != nil {
			return errResult(err)
		}
		if !ok {
			r := warn("the Cloud Assistant agent is not installed: ECS commands (RunCommand) will not reach the instance", ev)
			r.Actual, r.Required = "NotInstalled", "Installed"
			return r
		}
		r := pass("the Cloud Assistant agent is installed", ev)
		r.Actual, r.Required = "Installed", "Installed"
		return r
	}),
})

var _ = register(&Rule{
	ID:       "security-center-agent-installed",
	Title:    "Alibaba Cloud's Security Center agent is installed (advisory)",
	Severity: Low,
	Source:   aliImageCheck + " (GUESTOS.SecurityCenterAgent); " + aliRepair + " (aegis)",
	Rationale: "The Security Center agent (aegis: AliYunDun) reports the instance to Alibaba Cloud Security Center; the image check reports " +
		"whether it is installed, and an instance works without it, so its absence only warns. Decided from its install directory " +
		"/usr/local/aegis (it installs outside the package database).",
	Fix: "Install the Security Center agent (Alibaba Cloud's aegis installer) before capture, or let Security Center install it on the instance.",
	Check: linux(func(c *Context) Result {
		ev, ok, err := c.agentAt(nil, []string{"/usr/local/aegis/aegis_client", "/usr/local/aegis/aegis_update"})
		if err != nil {
			return errResult(err)
		}
		if !ok {
			r := warn("the Security Center agent is not installed", ev)
			r.Actual, r.Required = "NotInstalled", "Installed"
			return r
		}
		r := pass("the Security Center agent is installed", ev)
		r.Actual, r.Required = "Installed", "Installed"
		return r
	}),
})
