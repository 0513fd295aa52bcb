package rules

import (
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/network"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// buildDeviceName matches kernel device names, which depend on the machine that boots: the
// build host's loop devices and its disk order are not Azure's.
var buildDeviceName = regexp.MustCompile(`^/dev/(?:[shv]d[a-z]+\d*|xvd[a-z]+\d*|nvme\d+n\d+(?:p\d+)?|mmcblk\d+(?:p\d+)?|loop\d+(?:p\d+)?)$`)

// pseudoFS are fstab types that name no device.
var pseudoFS = map[string]bool{"tmpfs": true, "proc": true, "sysfs": true, "devpts": true, "devtmpfs": true, "cgroup": true,
	"cgroup2": true, "securityfs": true, "debugfs": true, "efivarfs": true, "hugetlbfs": true, "mqueue": true, "nfs": true,
	"nfs4": true, "cifs": true, "smb3": true, "fuse": true, "9p": true, "overlay": true, "none": true}

var _ = register(&Rule{
	ID:       "boot-devices-resolve",
	Title:    "The root filesystem and every filesystem mounted at boot are named by a UUID or label found in the image",
	Severity: Critical,
	Source: "Microsoft's generic Linux image preparation (learn.microsoft.com/azure/virtual-machines/linux/create-upload-generic: use UUIDs, device names change); " +
		"Alibaba Cloud image import requirements (fstab and GRUB by UUID)",
	Rationale: "A kernel command line with root=/dev/loop0p1 (the build host's loop device, as vmdb2 leaves it) or an fstab line naming " +
		"/dev/sdb2 boots on the build machine and hangs on Azure, where the disks are named otherwise and the resource disk may come first. " +
		"A UUID=, PARTUUID=, LABEL= or PARTLABEL= that matches no partition or filesystem in the image cannot boot anywhere. " +
		"Each root= of every boot entry and each fstab line the boot waits for (not noauto, not nofail, not swap or a pseudo filesystem) is resolved against the image's own partition table and filesystems.",
	Fix: "Name the root and the filesystems by UUID (blkid): root=UUID=... in GRUB_CMDLINE_LINUX or let grub-mkconfig write it, and UUID=... in /etc/fstab; regenerate the boot configuration.",
	Check: linux(func(c *Context) Result {
		if c.Image.Table == nil || c.Image.Table.Scheme == "none" {
			return na("the image is a bare filesystem: there is no disk whose partitions the boot's device names could be resolved against")
		}
		var ev, ok []Evidence
		judge := func(path string, line int, what, spec string) {
			part := c.Image.Resolve(spec)
			switch {
			case buildDeviceName.MatchString(spec):
				ev = append(ev, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is a device name of the build machine (a cloud VM names its disks otherwise)", what, Quote(spec))})
			case part != nil:
				ok = append(ok, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is partition %d", what, Quote(spec), part.Number)})
			case strings.HasPrefix(spec, "/dev/mapper/") || strings.HasPrefix(spec, "/dev/md") || strings.HasPrefix(spec, "ZFS=") || strings.HasPrefix(spec, "/dev/disk/by-id/"):
				ok = append(ok, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is not a partition this check resolves", what, Quote(spec))})
			default:
				ev = append(ev, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s matches no partition or filesystem in the image", what, Quote(spec))})
			}
		}
		entries, _, err := c.bootedEntries()
		if err != nil {
			return errResult(err)
		}
		for _, e := range entries {
			root := ""
			for _, f := range strings.Fields(e.cmdline) {
				if v, found := strings.CutPrefix(f, "root="); found {
					root = v // the last root= wins, as the kernel reads it
				}
			}
			if root == "" {
				continue // no root=: the initramfs finds the root by partition type (Discoverable Partitions)
			}
			judge(e.path, e.line, "root=", root)
		}
		fstab, err := c.read("/etc/fstab")
		if err != nil {
			return errResult(err)
		}
		fsEntries, err := sysconf.ReadFstab(fstab)
		if err != nil {
			return errResult(fmt.Errorf("/etc/fstab %w", err))
		}
		for _, e := range fsEntries {
			if e.IsSwap() || pseudoFS[e.Type] || e.HasOption("noauto") || e.HasOption("nofail") || e.HasOption("bind") || !strings.HasPrefix(e.Path, "/") {
				continue
			}
			if !strings.HasPrefix(e.Spec, "/dev/") && !strings.Contains(e.Spec, "=") {
				continue // a network or virtual source
			}
			judge("/etc/fstab", e.Line, e.Path, e.Spec)
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d boot device name(s) will not resolve on a cloud VM", len(ev)), listing(append(ev, ok...), 20)...)
			r.Actual, r.Required = ev[0].Detail, "UUID=, PARTUUID=, LABEL= or PARTLABEL= found in the image"
			return r
		}
		if len(ok) == 0 {
			return pass("no root= and no fstab device to resolve")
		}
		return pass(fmt.Sprintf("%d boot device name(s) resolve to partitions of the image", len(ok)), listing(ok, 20)...)
	}),
})

var machineIDLine = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

var _ = register(&Rule{
	ID:       "unique-machine-id",
	Title:    "No machine ID baked into the image: every VM makes its own at first boot",
	Severity: High,
	Source: "systemd's machine-id(5) (\"the machine ID ... should be generated on first boot\"; an empty or \"uninitialized\" /etc/machine-id makes systemd do so); " +
		"Microsoft's generic Linux image preparation (generalize the image before capture)",
	Rationale: "Every VM made from an image with a populated /etc/machine-id shares it: DHCP client identifiers, journald's logs, " +
		"systemd-networkd's stable addresses and anything keyed on it collide. A regular /var/lib/dbus/machine-id is as bad: when " +
		"/etc/machine-id is empty, systemd takes the D-Bus one. A systemd.machine_id= on the kernel command line pins it for every boot.",
	Fix: "Empty /etc/machine-id (`truncate -s 0`; do not delete it) and remove /var/lib/dbus/machine-id or make it a link to /etc/machine-id; " +
		"drop systemd.machine_id= from the boot entries. marketplace-harden's `machine-id` step does the first two.",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		data, err := c.read("/etc/machine-id")
		if err != nil {
			return errResult(err)
		}
		if id := strings.TrimSpace(string(data)); machineIDLine.MatchString(id) {
			ev = append(ev, Evidence{Path: "/etc/machine-id", Detail: "holds a machine ID (" + id[:4] + "…): every VM would share it"})
		}
		fi, err := c.lstat("/var/lib/dbus/machine-id")
		if err != nil {
			return errResult(err)
		}
		if fi != nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			ev = append(ev, Evidence{Path: "/var/lib/dbus/machine-id", Detail: "a regular file with an ID: systemd copies it into an empty /etc/machine-id"})
		}
		entries, _, err := c.bootedEntries()
		if err != nil {
			return errResult(err)
		}
		for _, e := range entries {
			for _, f := range strings.Fields(e.cmdline) {
				if strings.HasPrefix(f, "systemd.machine_id=") {
					ev = append(ev, Evidence{Path: e.path, Line: e.line, Detail: f + " pins the machine ID on every boot"})
				}
			}
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d place(s) give every VM the same machine ID", len(ev)), ev...)
			r.Actual, r.Required = ev[0].Detail, "an empty /etc/machine-id"
			return r
		}
		return pass("no machine ID in the image (/etc/machine-id empty, uninitialized or absent)")
	}),
})

// cloudInit is what decides whether cloud-init runs at first boot and provisions on Azure.
type cloudInit struct {
	installed bool
	disabled  bool // /etc/cloud/cloud-init.disabled
	azure     bool // Azure is in datasource_list, or no file sets one
	ev        []Evidence
}

// on: installed and not disabled, what the agent's Provisioning.Agent=auto defers to.
func (s cloudInit) on() bool { return s.installed && !s.disabled }

// provisions: it also finds the Azure datasource.
func (s cloudInit) provisions() bool { return s.on() && s.azure }

func (c *Context) cloudInit(inv *pkgdb.Inventory) (cloudInit, error) {
	var s cloudInit
	p, ok := pkgdb.Newest(inv.Find("cloud-init"))
	if !ok {
		return s, nil
	}
	s.installed, s.azure = true, true
	s.ev = append(s.ev, Evidence{Path: inv.Path, Detail: "package " + p.Name + " " + p.Version})
	fi, err := c.stat("/etc/cloud/cloud-init.disabled")
	if err != nil {
		return s, err
	}
	if fi != nil {
		s.disabled = true
		s.ev = append(s.ev, Evidence{Path: "/etc/cloud/cloud-init.disabled", Detail: "cloud-init is disabled"})
	}
	list, where, set, err := c.cloudInitDatasources()
	if err != nil {
		return s, err
	}
	if set {
		where.Detail = "datasource_list: [" + Quote(strings.Join(list, ", ")) + "]"
		s.ev = append(s.ev, where)
		if !slices.ContainsFunc(list, func(n string) bool { return strings.EqualFold(n, "Azure") }) {
			s.azure = false
			s.ev = append(s.ev, Evidence{Path: where.Path, Line: where.Line, Detail: "Azure is not in datasource_list: cloud-init will not provision on Azure"})
		}
	}
	return s, nil
}

// cloudInitDatasources returns datasource_list as cloud-init's merged configuration has it
// (the last file by name that sets it), where it is set, and whether any file sets one.
func (c *Context) cloudInitDatasources() (list []string, where Evidence, set bool, err error) {
	ci := cloudinit.Of(c.Image)
	if err := ci.Err(); err != nil {
		return nil, Evidence{}, false, err
	}
	names, v, ok := ci.Config.Datasources()
	if !ok {
		return nil, Evidence{}, false, nil
	}
	return names, Evidence{Path: v.File, Line: v.KeyLine}, true, nil
}

var _ = register(&Rule{
	ID:       "one-provisioning-agent",
	Title:    "Exactly one provisioning agent handles first boot: cloud-init with the Azure datasource, or the Azure agent",
	Severity: High,
	Source: "Microsoft's Linux provisioning documentation (learn.microsoft.com/azure/virtual-machines/linux/provisioning: cloud-init or the Azure " +
		"Linux agent provisions, Provisioning.Agent in /etc/waagent.conf chooses); the Azure agent's waagent.conf reference",
	Rationale: "A VM is provisioned (user, SSH key, host name) by cloud-init with its Azure datasource, or by the Azure agent. When neither will " +
		"(cloud-init absent, disabled or without Azure in datasource_list, and the agent set to leave provisioning to it or not enabled), the " +
		"deployment times out (OSProvisioningTimedOut); when both will (Provisioning.Agent=waagent beside an active cloud-init), they race. " +
		"Provisioning.Agent=auto (the default) hands provisioning to cloud-init when it is installed and enabled, else to the agent; the older " +
		"Provisioning.Enabled / Provisioning.UseCloudInit keys are read when Provisioning.Agent is absent.",
	Fix: "Either keep cloud-init (with Azure in datasource_list, or no datasource_list at all) and leave Provisioning.Agent at auto or cloud-init, " +
		"or remove cloud-init and enable the agent's service with Provisioning.Agent=auto or waagent.",
	Check: linux(func(c *Context) Result {
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		ci, err := c.cloudInit(inv)
		if err != nil {
			return errResult(err)
		}
		ev := ci.ev
		agentOn, agentMode := false, ""
		if _, ok := pkgdb.Newest(inv.Find(agentPackages...)); ok {
			link, err := c.agentEnabled()
			if err != nil {
				return errResult(err)
			}
			agentOn = link != ""
			conf, err := c.read("/etc/waagent.conf")
			if err != nil {
				return errResult(err)
			}
			kv, err := sysconf.ReadKeyValue(conf)
			if err != nil {
				return errResult(fmt.Errorf("/etc/waagent.conf %w", err))
			}
			agentMode = "auto"
			if s, ok := sysconf.Last(kv, "Provisioning.Agent"); ok {
				agentMode = strings.ToLower(s.Value)
				ev = append(ev, Evidence{Path: "/etc/waagent.conf", Line: s.Line, Detail: Quote("Provisioning.Agent=" + s.Value)})
			} else if s, ok := sysconf.Last(kv, "Provisioning.Enabled"); ok && strings.EqualFold(s.Value, "n") {
				agentMode = "disabled"
				if u, ok := sysconf.Last(kv, "Provisioning.UseCloudInit"); ok && strings.EqualFold(u.Value, "y") {
					agentMode = "cloud-init"
				}
				ev = append(ev, Evidence{Path: "/etc/waagent.conf", Line: s.Line, Detail: "Provisioning.Enabled=n (Provisioning.Agent absent)"})
			}
			if !agentOn {
				ev = append(ev, Evidence{Path: "/etc/systemd/system", Detail: "the agent's service is not enabled for boot"})
			}
		}
		agentProvisions := agentOn && (agentMode == "waagent" || agentMode == "auto" && !ci.on())
		switch {
		case ci.provisions() && agentProvisions:
			return fail("both cloud-init and the Azure agent (Provisioning.Agent=waagent) would provision the VM", ev...)
		case !ci.provisions() && !agentProvisions:
			return fail("nothing will provision the VM on Azure: no active cloud-init with the Azure datasource, and the agent does not provision", ev...)
		case ci.provisions():
			return pass("cloud-init provisions the VM (Azure datasource); the agent leaves it to cloud-init", ev...)
		}
		return pass("the Azure agent provisions the VM (Provisioning.Agent="+agentMode+")", ev...)
	}),
})

// bootDriver is a driver a VM needs at boot, with the kernel option that builds it. A network
// driver (late) may also load from the root filesystem's /lib/modules, after the root is mounted.
type bootDriver struct {
	module, option, dir string
	late                bool
}

// hypervDrivers are the Hyper-V drivers a VM needs to find its disk and its network on Azure.
var hypervDrivers = []bootDriver{
	{"hv_vmbus", "CONFIG_HYPERV", "drivers/hv", false},
	{"hv_storvsc", "CONFIG_HYPERV_STORAGE", "drivers/scsi", false},
	{"hv_netvsc", "CONFIG_HYPERV_NET", "drivers/net/hyperv", true},
}

// virtioDrivers are the virtio drivers a KVM guest (Alibaba Cloud ECS) needs for its disk and
// its network.
var virtioDrivers = []bootDriver{
	{"virtio_pci", "CONFIG_VIRTIO_PCI", "drivers/virtio", false},
	{"virtio_blk", "CONFIG_VIRTIO_BLK", "drivers/block", false},
	{"virtio_net", "CONFIG_VIRTIO_NET", "drivers/net", true},
}

var _ = register(&Rule{
	ID:       "hyperv-drivers-at-boot",
	Title:    "The kernel that boots reaches Azure's disk and network: Hyper-V drivers built in or in its initramfs",
	Severity: Critical,
	Source: "Microsoft's Linux image preparation for non-endorsed distributions (learn.microsoft.com/azure/virtual-machines/linux/create-upload-generic: " +
		"the Hyper-V drivers hv_vmbus, hv_storvsc and hv_netvsc must be in the initramfs; \"Rebuild the initrd\")",
	Rationale: "Azure presents the OS disk through Hyper-V's storage driver. A kernel that has hv_vmbus and hv_storvsc as modules but an " +
		"initramfs without them (dracut in host-only mode on a KVM or VMware build machine does exactly this) boots on the build machine and " +
		"hangs on Azure waiting for its root device. The default kernel must also have its initramfs and its /lib/modules directory. Read " +
		"offline: the kernel's /boot/config-RELEASE says built in (y) or module (m); the initramfs (cpio, uncompressed or gzip, bzip2, lzma, xz, zstd, lz4, " +
		"with an early-microcode prefix) is listed; hv_netvsc may also come from /lib/modules after the root is mounted.",
	Fix: "Add the drivers to the initramfs and rebuild it: dracut (add_drivers+=\" hv_vmbus hv_storvsc hv_netvsc \" in /etc/dracut.conf.d/hyperv.conf, " +
		"then dracut -f --kver RELEASE, or hostonly=\"no\"); initramfs-tools (list them in /etc/initramfs-tools/modules, then update-initramfs -u -k RELEASE).",
	Check: linux(func(c *Context) Result { return driversAtBoot(c, "Hyper-V", "Azure", hypervDrivers) }),
})

var _ = register(&Rule{
	ID:       "virtio-drivers-at-boot",
	Title:    "The kernel that boots reaches a KVM disk and network: virtio drivers built in or in its initramfs",
	Severity: Critical,
	Source: "Alibaba Cloud ECS documentation on importing custom images (\"Install the virtio driver\": an imported image must carry " +
		"virtio_blk, virtio_pci and virtio_net, and its initramfs must contain them, checked with lsinitrd ... | grep virtio); ECS instances " +
		"are KVM guests whose disks and NICs are virtio devices",
	Rationale: "ECS instances present their system disk and network through virtio. A kernel that has virtio_blk as a module but an initramfs " +
		"without it (an image built on Hyper-V, VMware or Xen, or by dracut in host-only mode) cannot find its root disk and never boots; the " +
		"import itself does not reject it. Read offline as for the Hyper-V rule: /boot/config-RELEASE, then the initramfs of the kernel that " +
		"boots (GRUB's default entry's kernel, the newest one when that cannot be decided, or systemd-boot's default entry and a UKI's .initrd); virtio_net may load from /lib/modules.",
	Fix: "Add the drivers to the initramfs and rebuild it: dracut (add_drivers+=\" virtio_blk virtio_pci virtio_net \" in " +
		"/etc/dracut.conf.d/virtio.conf, then dracut -f --kver RELEASE); initramfs-tools (list them in /etc/initramfs-tools/modules, then " +
		"update-initramfs -u -k RELEASE).",
	Check: linux(func(c *Context) Result {
		return driversAtBoot(c, "virtio", "a KVM host (Alibaba Cloud ECS)", virtioDrivers)
	}),
})

// initrdListing is an initramfs's file names and compressions, as initrd.List makes them.
type initrdListing = initrd.Listing

// listInitrd lists an initramfs once per image (the Hyper-V and virtio rules read the same).
// The content pass, which runs before the rules, decompresses every initramfs to search its
// members and leaves the listing it made of a file under initrd.SharedKey(path): that listing
// is taken when the file has the bytes it was made from (initrd.Shared.List checks their size
// and SHA-256), so that the initramfs is decompressed once; else (no content pass, a file it
// could not list, another file) initrd.List lists it.
func (c *Context) listInitrd(ref initrdRef) ([]string, []string, error) {
	l := c.Image.Memo(fmt.Sprintf("initrd %s %v", ref.where, ref.section), func() any {
		var shared *initrd.Shared
		if !ref.section {
			shared, _ = c.Image.Memo(initrd.SharedKey(ref.where), func() any { return (*initrd.Shared)(nil) }).(*initrd.Shared)
		}
		return shared.List(ref.open)
	}).(initrdListing)
	return l.Names, l.Formats, l.Err
}

// driversAtBoot judges whether the kernel that boots has the drivers, built in or (the early ones)
// in its initramfs; family names them ("Hyper-V"), cloud the platform the disk is not found on.
func driversAtBoot(c *Context, family, cloud string, drivers []bootDriver) Result {
	bk, err := c.bootKernel()
	if err != nil {
		return errResult(err)
	}
	if bk.kernelMissing {
		// GRUB's linux fails: no kernel boots, with or without the drivers
		r := fail("GRUB's booted entry loads kernel "+bk.from+", which does not exist where GRUB reads it: the VM does not boot", Evidence{Path: bk.from, Detail: "missing: the booted GRUB entry's kernel"})
		r.Actual, r.Required = "kernel "+bk.from+" missing", "the booted kernel and its "+family+" drivers"
		return r
	}
	k := bk.release
	if k == "" {
		return na("no kernel in /boot and no systemd-boot entry: the image does not boot a kernel of its own")
	}
	var ev, problems []Evidence
	for _, m := range bk.missing {
		// GRUB's initrd fails: the kernel boots without an initramfs
		problems = append(problems, Evidence{Path: m, Detail: "missing: GRUB's initrd command fails on it and the kernel boots without an initramfs"})
	}
	if bk.sdDefault {
		ev = append(ev, Evidence{Path: bk.from, Detail: "systemd-boot's default entry: kernel " + k})
	}
	mods := "/lib/modules/" + k
	if fi, err := c.stat(mods); err != nil {
		return errResult(err)
	} else if fi == nil {
		problems = append(problems, Evidence{Path: mods, Detail: "missing: kernel " + k + " has no modules directory"})
	}
	cfgPath := "/boot/config-" + k
	cfgData, err := c.read(cfgPath)
	if err != nil {
		return errResult(err)
	}
	cfg := map[string]string{}
	kconf, err := sysconf.ReadKeyValue(cfgData)
	if err != nil {
		return errResult(fmt.Errorf("%s %w", cfgPath, err))
	}
	for _, s := range kconf {
		cfg[s.Key] = s.Value
	}
	needInitrd := map[string]bool{} // module => must be in the initramfs
	for _, d := range drivers {
		switch v := cfg[d.option]; {
		case cfgData == nil:
			needInitrd[d.module] = !d.late // unknown: look for the modules
		case v == "y":
			ev = append(ev, Evidence{Path: cfgPath, Detail: d.option + "=y: " + d.module + " is built in"})
		case v == "m":
			needInitrd[d.module] = !d.late
		default:
			problems = append(problems, Evidence{Path: cfgPath, Detail: d.option + " is not set: kernel " + k + " has no " + d.module})
		}
	}
	if len(needInitrd) > 0 {
		if len(bk.initrds) == 0 {
			where := "/boot"
			if bk.uki != "" {
				where = bk.uki
			}
			problems = append(problems, Evidence{Path: where, Detail: "no initramfs for kernel " + k + " (initrd.img-, initramfs-*.img, initrd-, a boot entry's initrd, a UKI's .initrd)"})
		} else {
			var names, formats, where []string
			inSection := ""
			for _, ref := range bk.initrds {
				n, fm, err := c.listInitrd(ref)
				if err != nil {
					return Result{Status: Error, Message: Quotef("%s: %v", ref.where, err),
						Evidence: []Evidence{{Path: ref.where, Detail: "could not be read to its end: whether the " + family + " drivers are in it is unknown"}}}
				}
				names, formats, where = append(names, n...), append(formats, fm...), append(where, ref.where)
				if ref.section {
					inSection = "the UKI's .initrd section: "
				}
			}
			initrdPath := strings.Join(where, " + ")
			in := map[string]bool{}
			for _, n := range names {
				base := path.Base(n)
				for _, d := range drivers {
					if base == d.module+".ko" || strings.HasPrefix(base, d.module+".ko.") {
						in[d.module] = true
					}
				}
			}
			for _, d := range drivers {
				needed, asModule := needInitrd[d.module]
				switch {
				case !asModule:
				case in[d.module]:
					ev = append(ev, Evidence{Path: initrdPath, Detail: inSection + d.module + " is in the initramfs (" + strings.Join(formats, " + ") + ")"})
				case needed:
					problems = append(problems, Evidence{Path: initrdPath, Detail: inSection + d.module + " is a module and not in the initramfs: the root disk is not found on " + cloud})
				default:
					// a network driver may load from the root filesystem
					found, err := c.glob(mods + "/kernel/" + d.dir + "/" + d.module + ".ko*")
					if err != nil {
						return errResult(err)
					}
					if len(found) == 0 {
						problems = append(problems, Evidence{Path: mods, Detail: d.module + " is neither in the initramfs nor under " + mods})
					} else {
						ev = append(ev, Evidence{Path: found[0], Detail: d.module + " loads from the root filesystem"})
					}
				}
			}
		}
	}
	if len(problems) > 0 {
		var names []string
		for _, d := range drivers {
			names = append(names, d.module)
		}
		r := fail(fmt.Sprintf("kernel %s may not reach its disk or network on %s at boot", k, cloud), append(problems, ev...)...)
		r.Actual, r.Required = problems[0].Detail, strings.Join(names, ", ")+" built in or in the initramfs"
		return r
	}
	return pass(fmt.Sprintf("kernel %s has the %s drivers at boot", k, family), ev...)
}

// firstNICByDHCP judges the network fact: a configuration that brings eth0 up by DHCP at boot,
// without a MAC address; it returns where (Path "" when none does) and what was seen instead.
// One stack that was read and brings eth0 up is enough; when none does, a stack the judgement
// needed and could not read (systemd-networkd's and NetworkManager's only when enabled) is
// the error: what it would do is unknown.
func (c *Context) firstNICByDHCP() (Evidence, []Evidence, error) {
	nf := network.Of(c.Image)
	var seen []Evidence
	var unread problems.List
	readable := func(n network.Need) bool {
		if err := nf.ErrOf(n); err != nil {
			unread = append(unread, err)
			return false
		}
		return true
	}
	if readable(network.NeedIfupdown) {
		for _, p := range nf.Ifupdown {
			switch {
			case len(p.Pins) > 0:
				seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "ifupdown: eth0 by DHCP, but " + p.Note})
			case p.AtBoot:
				return Evidence{Path: p.Path, Line: p.Line, Detail: "ifupdown: eth0 by DHCP at boot"}, seen, nil
			default:
				seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "iface eth0 inet dhcp, but no auto or allow-hotplug eth0"})
			}
		}
	}
	if readable(network.NeedNetplan) {
		for _, p := range nf.Netplan {
			switch {
			case p.DHCP && len(p.Pins) > 0:
				seen = append(seen, Evidence{Path: p.Path, Detail: "netplan: eth0 by DHCP, but " + p.Note})
			case p.DHCP:
				return Evidence{Path: p.Path, Detail: "netplan: eth0 by DHCP"}, seen, nil
			}
		}
	}
	units, err := c.enabledUnits()
	if err != nil {
		return Evidence{}, nil, err
	}
	if _, on := units["systemd-networkd.service"]; on && readable(network.NeedNetworkd) {
		for _, p := range nf.Networkd {
			if p.DHCP && len(p.Pins) == 0 {
				return Evidence{Path: p.Path, Line: p.Line, Detail: "systemd-networkd: eth0 by DHCP"}, seen, nil
			}
		}
		for _, p := range append(slices.Clone(nf.Networkd), nf.NetworkdOthers...) {
			if p.DHCP {
				seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "DHCP, but not for eth0 (Name= does not match it, or a MACAddress= pins it)"})
			} else {
				seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "systemd-networkd applies this file to eth0, and it does not turn DHCP on"})
			}
		}
	} else if !on {
		for _, p := range nf.Networkd {
			if p.DHCP {
				seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "a .network file, but systemd-networkd is not enabled"})
				break
			}
		}
	}
	if readable(network.NeedIfcfg) {
		if p := nf.Ifcfg; p != nil {
			if p.DHCP && p.AtBoot && len(p.Pins) == 0 {
				return Evidence{Path: p.Path, Line: p.Line, Detail: "ifcfg: eth0 by DHCP at boot"}, seen, nil
			}
			seen = append(seen, Evidence{Path: p.Path, Line: p.Line, Detail: "not BOOTPROTO=dhcp with ONBOOT=yes, or pinned to a MAC"})
		}
	}
	// NetworkManager activates the first keyfile profile for eth0 that autoconnects; only when
	// no profile is for eth0 does its automatic wired connection (DHCP) take it, unless told not to
	if _, on := units["NetworkManager.service"]; on && readable(network.NeedNetworkManager) {
		ch := network.NMChoiceOf(c.Image)
		var notes []Evidence
		for _, s := range ch.Skipped {
			notes = append(notes, Evidence{Path: s.Path, Line: s.Line, Detail: s.Why})
		}
		switch {
		case ch.Err() != nil:
			unread = append(unread, ch.Err())
		case ch.Undecided != nil:
			// a guess is not a judgement: without another stack the rule errs, naming it
			p := ch.Undecided
			unread = append(unread, fmt.Errorf("%s: line %d: NetworkManager: whether profile %q takes eth0 is not decided offline: %s", p.Path, p.MatchUnknownLine, p.ID, p.Mismatch))
		case ch.Profile != nil && ch.DHCP:
			p := ch.Profile
			return Evidence{Path: p.Path, Line: p.DecidingLine(), Detail: "NetworkManager: " + ch.Why}, append(seen, notes...), nil
		case ch.Profile != nil:
			p := ch.Profile
			seen = append(seen, Evidence{Path: p.Path, Line: p.DecidingLine(), Detail: "NetworkManager: " + ch.Why})
		case ch.Blocker != nil:
			p := ch.Blocker
			seen = append(seen, Evidence{Path: p.Path, Line: p.AutoconnectLine, Detail: "NetworkManager: " + ch.Why})
		case nf.NoAutoDefault.Path == "" && nf.NoAutoDefaultUndecided.Path != "":
			// whether the automatic connection takes eth0 rests on what is not known offline
			u := nf.NoAutoDefaultUndecided
			unread = append(unread, fmt.Errorf("%s: line %d: NetworkManager: whether %s takes eth0 (and so stops its automatic wired connection) is not decided offline: it names the NIC's driver or another property of the VM", u.Path, u.Line, u.Setting))
		case nf.NoAutoDefault.Path == "":
			return Evidence{Path: "/etc/NetworkManager", Detail: "NetworkManager: " + ch.Why + " (no-auto-default does not exclude it)"}, append(seen, notes...), nil
		default:
			seen = append(seen, Evidence{Path: nf.NoAutoDefault.Path, Line: nf.NoAutoDefault.Line, Detail: "NetworkManager: no profile is for eth0, and " + nf.NoAutoDefault.Setting + " takes it (no automatic wired connection)"})
		}
		seen = append(seen, notes...)
	}
	if err := unread.Err(); err != nil {
		return Evidence{}, nil, err
	}
	return Evidence{}, seen, nil
}

var _ = register(&Rule{
	ID:       "first-nic-dhcp",
	Title:    "The first NIC (eth0 on Azure) comes up by DHCP at first boot, without a pinned MAC address",
	Severity: Critical,
	Source: "Microsoft's generic Linux image preparation (learn.microsoft.com/azure/virtual-machines/linux/create-upload-generic: the network " +
		"interface must use DHCP); Alibaba Cloud image import requirements (DHCP on the network interface)",
	Rationale: "A VM whose first NIC is not configured never gets an address: it cannot be reached, provisioned or certified (vmdb2 and " +
		"mkosi images ship no network configuration at all). Azure names the first NIC eth0 (Hyper-V's NIC has no PCI path for " +
		"predictable names), so a configuration for ens3 or enp0s3 (what QEMU and VMware call it) does not apply; one matched by the " +
		"build machine's MAC address does not either. Read: cloud-init (which writes the configuration at first boot when it provisions " +
		"with the Azure datasource and its network configuration is not disabled), ifupdown, netplan, systemd-networkd (when enabled), " +
		"RHEL's ifcfg-eth0, and NetworkManager (when enabled): its keyfile profiles as NetworkManager 1.42 loads them (/run, /etc and " +
		"/usr/lib system-connections; a file not owned by root, with group or other permissions, or that GKeyFile refuses is " +
		"skipped and shown as a note), the first " +
		"profile for eth0 that autoconnects (highest autoconnect-priority, then the most recent activation in " +
		"/var/lib/NetworkManager/timestamps, then the smaller UUID) must use ipv4.method=auto; a static or port profile is not DHCP, " +
		"and one for eth0 with autoconnect=false leaves it down. Only when no profile is for eth0 does NetworkManager's automatic wired " +
		"connection (DHCP) take it, unless no-auto-default stops it: a device list as NetworkManager matches one against eth0 (*, eth0 by name, interface-name: with globbing, type:ethernet, except: entries; a MAC address never takes a new VM's NIC; driver: is not known offline and, when it decides, an error), merged as NetworkManager merges its configuration (/usr/lib's conf.d, NetworkManager.conf, /etc's conf.d; += appends, -= takes out; /run's conf.d is empty when the VM boots; a file with a [.config] enable= condition that decides is an error) with the state file of deleted automatic connections. A profile matched by driver, path or kernel command line is " +
		"not decided offline: it is an error when nothing else brings eth0 up.",
	Fix: "Configure eth0 by DHCP: let cloud-init do it (the Azure datasource), or write /etc/netplan/50-azure.yaml (ethernets: eth0: dhcp4: true), " +
		"a systemd-networkd .network file with [Match] Name=eth0 and DHCP=yes (and enable systemd-networkd), or an ifupdown `auto eth0` / " +
		"`iface eth0 inet dhcp`; never match by MAC address.",
	Check: linux(func(c *Context) Result {
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		ci, err := c.cloudInit(inv)
		if err != nil {
			return errResult(err)
		}
		if ci.provisions() {
			// cloud-init's merged configuration: network: {config: disabled} in any file
			// that wins for that key
			facts := cloudinit.Of(c.Image)
			if err := facts.Err(); err != nil {
				return errResult(err)
			}
			if _, off := facts.Config.NetworkDisabled(); !off {
				return pass("cloud-init writes the network configuration (DHCP on eth0) at first boot", Evidence{Path: inv.Path, Detail: "cloud-init installed, Azure datasource, network configuration not disabled"})
			}
		}
		found, seen, err := c.firstNICByDHCP()
		if err != nil {
			return errResult(err)
		}
		// the errors ifup read past decide nothing (its reading is followed), but are shown
		notes := readPastNotes(network.Of(c.Image))
		if found.Path != "" {
			return pass("eth0 comes up by DHCP at boot", append(append([]Evidence{found}, seen...), notes...)...)
		}
		r := fail("nothing brings eth0 up by DHCP at boot: the VM would have no network in the cloud", seen...)
		if len(seen) == 0 {
			r.Evidence = []Evidence{{Path: "/etc", Detail: "no ifupdown, netplan, systemd-networkd, ifcfg or NetworkManager configuration for eth0, and no cloud-init to write one"}}
		}
		r.Actual, r.Required = r.Evidence[0].Detail, "eth0 by DHCP, not matched by MAC address"
		r.Evidence = append(r.Evidence, notes...)
		return r
	}),
})
