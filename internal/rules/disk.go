package rules

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"

	swapfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/swap"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

var (
	gptSwapType = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
	gptLVMType  = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
)

var _ = register(&Rule{
	ID:        "no-swap",
	Title:     "No swap on the OS disk, now or after first boot",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: no swap partition on the OS disk); LISA AzureImageStandard verify_no_swap_on_osdisk; self-test 41 Swap Partition on OS Disk",
	Rationale: "Swap on the OS disk hurts performance and certification fails it: a swap partition, an fstab swap line, a swap file cloud-init creates on the root filesystem, an enabled .swap unit (linked from any *.wants or *.requires directory of systemd's unit path: /etc, /run, /usr/lib, /lib, /usr/local/lib), a unit boot starts that Wants=/Requires=/BindsTo= a .swap unit or runs swapon in ExecStart*= (directly, through sh -c, or in a script; rc-local.service, which systemd-rc-local-generator starts for an executable /etc/rc.local, included). cloud-init's configuration is read as cloud-init reads it: cloud.cfg and cloud.cfg.d/*.cfg merged in its order, YAML as PyYAML loads it (quoted keys such as \"swap\":, anchors, flow style, the last duplicate key winning); swap: creates a file unless its filename or size is null, 0 or empty (a filename containing \"null\" is a filename). /etc/fstab is read as libmount reads it for swapon -a and systemd: a '#' inside a field is not a comment (`/swap#1 none swap sw 0 0` is swap), and a line over 64 KiB makes the rule an error. The devices fstab's lines, .swap units (whose names are the escaped path they turn on) and swapon commands name are resolved in the image, LVM logical volumes included (/dev/mapper/VG-LV with each \"-\" of a name doubled, /dev/VG/LV, /dev/disk/by-id/dm-name-VG-LV, UUID= and LABEL= of the swap signature), and the evidence names the partition or logical volume; a logical volume holding a swap signature that nothing names is listed but passes, as nothing turns it on at boot (systemd-gpt-auto-generator activates only GPT swap partitions). Swap on the resource disk through the agent (ResourceDisk.EnableSwap=y) is what Microsoft's Linux image documentation recommends, and passes.",
	Fix:       "Delete swap partitions and fstab swap lines, drop cloud-init swap: settings and disable *.swap units; for swap, use the resource disk (ResourceDisk.EnableSwap=y in /etc/waagent.conf).",
	Cert:      &CertTest{ID: "200.3.3.3", SelfTestID: "41", Name: "Swap Partition on OS Disk", Level: "Failed", LISA: "verify_no_swap_on_osdisk"},
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		for _, p := range c.Image.Table.Partitions {
			if p.Kind == partition.KindSwap || p.TypeID == "0x82" || strings.EqualFold(p.TypeID, gptSwapType) {
				ev = append(ev, Evidence{Path: fmt.Sprintf("partition %d", p.Number), Detail: fmt.Sprintf("swap partition (%s, type %s, %d MiB)", p.Kind, p.TypeID, p.Size>>20)})
			}
		}
		facts := swapfacts.Of(c.Image)
		if err := facts.Err(); err != nil {
			return errResult(err) // swap could be configured where we could not read
		}
		// on names the partition or logical volume of the image a spec turns on
		on := func(spec string) string {
			if d, ok := facts.Resolved(spec); ok {
				if d.LV != "" {
					return fmt.Sprintf(": LVM logical volume %s (%s, %s, %d MiB)", d.LV, d.Name, d.Kind, d.Size>>20)
				}
				return fmt.Sprintf(": %s (%s, %d MiB)", d.Name, d.Kind, d.Size>>20)
			}
			if swapfacts.IsDMUUID(spec) {
				return ": an LVM logical volume named by its device-mapper UUID"
			}
			return ""
		}
		for _, e := range facts.Fstab {
			ev = append(ev, Evidence{Path: "/etc/fstab", Line: e.Line, Detail: "swap entry for " + Quote(e.Spec) + on(e.Spec)})
		}
		var resource []Evidence
		if s := facts.ResourceDisk; s != nil {
			resource = append(resource, Evidence{Path: "/etc/waagent.conf", Line: s.Line, Detail: "ResourceDisk.EnableSwap=y: swap on the resource disk, not the OS disk (passes)"})
		}
		if sw := facts.Cloud; sw.Creates {
			ev = append(ev, Evidence{Path: sw.Where.File, Line: sw.Where.KeyLine, Detail: fmt.Sprintf("cloud-init swap: creates a swap file at first boot (filename %s, size %s)", Quote(sw.Filename), Quote(sw.Size))})
		}
		for _, m := range facts.CloudMounts {
			ev = append(ev, Evidence{Path: m.File, Line: m.Line, Detail: "cloud-init mounts: adds swap at first boot"})
		}
		turnsOn := func(what string) string {
			if what == "" {
				return ""
			}
			return " (turns on " + Quote(what) + on(what) + ")"
		}
		for _, l := range facts.Links {
			ev = append(ev, Evidence{Path: l.Path, Detail: "swap unit " + l.Unit + " enabled at boot" + turnsOn(l.What)})
		}
		for _, d := range facts.Dependencies {
			ev = append(ev, Evidence{Path: d.Setting.File, Line: d.Setting.Line, Detail: fmt.Sprintf("%s, started at boot, has %s=%s: swap unit %s is started with it%s", d.By, d.Setting.Key, d.Setting.Value, d.Swap, turnsOn(d.What))})
		}
		for _, x := range facts.Swapons {
			if x.Script != "" {
				ev = append(ev, Evidence{Path: x.Script, Line: x.Line, Detail: fmt.Sprintf("runs swapon; %s, started at boot, runs it (%s at %s:%d)", x.Unit, x.Setting.Key, x.Setting.File, x.Setting.Line)})
				continue
			}
			d := fmt.Sprintf("%s, started at boot, runs swapon (%s=%s)", x.Unit, x.Setting.Key, Quote(x.Setting.Value))
			for _, spec := range x.Devices {
				if o := on(spec); o != "" {
					d += "; " + Quote(spec) + o
				}
			}
			ev = append(ev, Evidence{Path: x.Setting.File, Line: x.Setting.Line, Detail: d})
		}
		// a logical volume holding swap that nothing names is no swap at boot (only GPT swap
		// partitions are activated unnamed, by systemd-gpt-auto-generator): listed, not failed
		var idle []Evidence
		for _, a := range facts.LVAreas {
			if len(a.By) == 0 {
				idle = append(idle, Evidence{Path: a.Name, Detail: fmt.Sprintf("LVM logical volume %s holds a swap area (%d MiB) that nothing turns on at boot: no fstab line, .swap unit or swapon command names it, and systemd-gpt-auto-generator activates only GPT swap partitions", a.LV, a.Size>>20)})
			}
		}
		if len(ev) > 0 {
			r := fail("swap is configured on the OS disk or at first boot", append(ev, idle...)...)
			r.Actual, r.Required = "swap configured", "no swap on the OS disk"
			return r
		}
		r := pass("no swap partition, no swap in fstab, no first-boot swap on the OS disk", append(idle, resource...)...)
		r.Actual, r.Required = "no swap", "no swap on the OS disk"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "single-root",
	Title:     "A single root filesystem on the OS disk (boot and EFI partitions allowed)",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: single root partition on the OS disk)",
	Rationale: "Azure resizes and provisions the OS disk assuming one root filesystem; data belongs on data disks.",
	Fix:       "Merge extra filesystems into the root one (or move their data to a data disk) before capture.",
	Cert:      &CertTest{SelfTestID: "42", Name: "Root Partition on OS Disk", Level: "Failed"},
	Check: linux(func(c *Context) Result {
		mountedAt := map[*partition.Partition]string{c.Image.RootPartition: "/"}
		for _, m := range c.Image.Mounts {
			mountedAt[m.Partition] = m.Path
		}
		var ev []Evidence
		for _, p := range c.Image.Table.Partitions {
			at := mountedAt[p]
			switch {
			case at == "/" || at == "/boot" || at == "/boot/efi" || at == "/efi":
				continue
			case p.Kind == partition.KindBIOSBoot || p.Kind == partition.KindSwap || p.Kind == partition.KindLVM:
				continue // swap and LVM have rules of their own
			case p.Kind == partition.KindVFAT && isESP(p):
				continue
			case p.Kind == partition.KindEmpty:
				continue
			}
			d := fmt.Sprintf("%s partition of %d MiB", p.Kind, p.Size>>20)
			if at != "" {
				d += " mounted on " + at
			}
			ev = append(ev, Evidence{Path: fmt.Sprintf("partition %d", p.Number), Detail: d})
		}
		if len(ev) > 0 {
			return fail("the OS disk holds filesystems besides /, /boot and the EFI system partition", ev...)
		}
		return pass(fmt.Sprintf("root filesystem on partition %d (%s)", c.Image.RootPartition.Number, c.Image.RootPartition.Kind))
	}),
})

var _ = register(&Rule{
	ID:        "no-lvm",
	Title:     "No LVM on the OS disk",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: avoid LVM)",
	Rationale: "An LVM OS disk collides with identically named volume groups when attached to another VM for recovery, and cannot be resized the way Azure expects.",
	Fix:       "Build the image with plain partitions (no LVM) for the OS disk.",
	Check: func(c *Context) Result {
		var ev []Evidence
		for _, p := range c.Image.Table.Partitions {
			if p.Kind == partition.KindLVM || p.TypeID == "0x8e" || strings.EqualFold(p.TypeID, gptLVMType) {
				ev = append(ev, Evidence{Path: fmt.Sprintf("partition %d", p.Number), Detail: fmt.Sprintf("LVM2 physical volume (%s, type %s)", p.Kind, p.TypeID)})
			}
		}
		if c.Image.Root != nil {
			fstab, err := c.read("/etc/fstab")
			if err != nil {
				return errResult(err)
			}
			entries, err := sysconf.ReadFstab(fstab)
			if err != nil {
				return errResult(fmt.Errorf("/etc/fstab %w", err))
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Spec, "/dev/mapper/") && !strings.Contains(e.Spec, "luks") {
					ev = append(ev, Evidence{Path: "/etc/fstab", Line: e.Line, Detail: "device-mapper volume " + Quote(e.Spec) + " on " + Quote(e.Path)})
				}
			}
		}
		if len(ev) > 0 {
			return fail("LVM found on the OS disk", ev...)
		}
		return pass("no LVM physical volume")
	},
})

var _ = register(&Rule{
	ID:        "vhd-fixed-aligned",
	Title:     "The disk is a fixed VHD whose virtual size is a whole number of MiB",
	Severity:  High,
	Source:    "Azure Marketplace VHD requirements (fixed-format VHD, virtual size aligned to 1 MiB)",
	Rationale: "Azure accepts only fixed VHDs with MiB-aligned virtual sizes; anything else is refused at upload or import.",
	Fix:       "qemu-img convert -O vpc -o subformat=fixed,force_size=on IN OUT.vhd, after resizing the raw image to a whole number of MiB.",
	Check: func(c *Context) Result {
		d := c.Image.Disk
		if d.Format != "vhd" {
			return na(fmt.Sprintf("the image is %s, not VHD; convert it to a fixed VHD for upload", d.Format))
		}
		var ev []Evidence
		if d.Variant != "fixed" {
			ev = append(ev, Evidence{Path: d.Name, Detail: d.Variant + " VHD; Azure needs a fixed VHD"})
		}
		if d.VirtualSize%(1<<20) != 0 {
			ev = append(ev, Evidence{Path: d.Name, Detail: fmt.Sprintf("virtual size %d bytes is not a multiple of 1 MiB", d.VirtualSize)})
		}
		if len(ev) > 0 {
			return fail("the VHD is not in the form Azure accepts", ev...)
		}
		return pass(fmt.Sprintf("fixed VHD of %d MiB", d.VirtualSize>>20))
	},
})

var _ = register(&Rule{
	ID:        "userland-64bit",
	Title:     "64-bit operating system",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: 64-bit OS only)",
	Rationale: "Azure runs 64-bit guests only.",
	Fix:       "Build the image from a 64-bit (x86_64 or aarch64) distribution.",
	Cert:      &CertTest{SelfTestID: "49", Name: "OS Architecture", Level: "Failed", LISA: "verify_azure_64bit_os"},
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		checked := 0
		for _, p := range []string{"/bin/sh", "/sbin/init", "/usr/lib/systemd/systemd"} {
			target, err := c.Image.Root.Resolve(rel(p))
			if err != nil {
				continue
			}
			ra, _, err := c.Image.Root.OpenReaderAt(rel(target))
			if err != nil {
				continue
			}
			hdr := make([]byte, 20)
			if n, _ := ra.ReadAt(hdr, 0); n < 20 || !bytes.HasPrefix(hdr, []byte(elf.ELFMAG)) {
				continue // a script or something else: not evidence either way
			}
			checked++
			class := elf.Class(hdr[elf.EI_CLASS])
			machine := elf.Machine(uint16(hdr[18]) | uint16(hdr[19])<<8)
			if hdr[elf.EI_DATA] == byte(elf.ELFDATA2MSB) {
				machine = elf.Machine(uint16(hdr[18])<<8 | uint16(hdr[19]))
			}
			d := fmt.Sprintf("%s %s", class, machine)
			if target != p {
				d = fmt.Sprintf("%s (via %s) is %s", target, p, d)
			}
			if class != elf.ELFCLASS64 {
				r := fail("the userland is not 64-bit", Evidence{Path: p, Detail: d})
				r.Actual, r.Required = class.String(), "ELFCLASS64"
				return r
			}
			ev = append(ev, Evidence{Path: p, Detail: d})
		}
		if checked == 0 {
			return Result{Status: Error, Message: "no ELF binary found at /bin/sh, /sbin/init or /usr/lib/systemd/systemd"}
		}
		r := pass("64-bit userland", ev...)
		r.Actual, r.Required = "ELFCLASS64", "ELFCLASS64"
		return r
	}),
})

// isESP says whether p is an EFI system partition by its type (GPT or MBR).
func isESP(p *partition.Partition) bool {
	role, ok := inspect.BootRoleOf(p)
	return ok && role == inspect.RoleESP
}
