package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// buildDeviceName matches kernel device names, which depend on the machine that boots: the
// build host's loop devices and its disk order are not Azure's.
var buildDeviceName = regexp.MustCompile(`^/dev/(?:[shv]d[a-z]+\d*|xvd[a-z]+\d*|nvme\d+n\d+(?:p\d+)?|mmcblk\d+(?:p\d+)?|loop\d+(?:p\d+)?)$`)

// pseudoFS are fstab types that name no device.
var pseudoFS = map[string]bool{"tmpfs": true, "proc": true, "sysfs": true, "devpts": true, "devtmpfs": true, "cgroup": true,
	"cgroup2": true, "securityfs": true, "debugfs": true, "efivarfs": true, "hugetlbfs": true, "mqueue": true, "nfs": true,
	"nfs4": true, "cifs": true, "smb3": true, "fuse": true, "9p": true, "overlay": true, "none": true, "auto": false}

var _ = register(&Rule{
	ID:       "boot-devices-resolve",
	Title:    "The root filesystem and every filesystem mounted at boot are named by a UUID or label found in the image",
	Profiles: []string{profAzureLinux, profAlibaba},
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
			switch {
			case buildDeviceName.MatchString(spec):
				ev = append(ev, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is a device name of the build machine (Azure names its disks otherwise)", what, spec)})
			case c.Image.Resolve(spec) != nil:
				p := c.Image.Resolve(spec)
				ok = append(ok, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is partition %d", what, spec, p.Number)})
			case strings.HasPrefix(spec, "/dev/mapper/") || strings.HasPrefix(spec, "/dev/md") || strings.HasPrefix(spec, "ZFS=") || strings.HasPrefix(spec, "/dev/disk/by-id/"):
				ok = append(ok, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s is not a partition this check resolves", what, spec)})
			default:
				ev = append(ev, Evidence{Path: path, Line: line, Detail: fmt.Sprintf("%s: %s matches no partition or filesystem in the image", what, spec)})
			}
		}
		entries, err := c.bootEntries()
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
		for _, e := range sysconf.ParseFstab(fstab) {
			if e.IsSwap() || pseudoFS[e.Type] || e.HasOption("noauto") || e.HasOption("nofail") || e.HasOption("bind") || !strings.HasPrefix(e.Path, "/") {
				continue
			}
			if !strings.HasPrefix(e.Spec, "/dev/") && !strings.Contains(e.Spec, "=") {
				continue // a network or virtual source
			}
			judge("/etc/fstab", e.Line, e.Path, e.Spec)
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d boot device name(s) will not resolve on Azure", len(ev)), listing(append(ev, ok...), 20)...)
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
	Profiles: []string{profAzureLinux, profAlibaba},
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
		entries, err := c.bootEntries()
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
