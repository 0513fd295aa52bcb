package swap

import (
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// The swap devices of an image: what an fstab swap line, a .swap unit or a swapon command
// names, resolved to the partition or LVM logical volume of the image it names (inspect's
// Resolve: UUID=, LABEL=, PARTUUID=, /dev/disk/by-*, /dev/mapper/VG-LV with each "-" of a name
// doubled, /dev/VG/LV, /dev/disk/by-id/dm-name-VG-LV, /dev/sdXN), and the logical volumes
// that hold a swap signature, whether or not anything turns them on.

// Device is a partition or logical volume of the image a swap spec names.
type Device struct {
	Name string // inspect.PartitionName: "partition 3", "partition 2 LV vg0/swap"
	LV   string // "VG/LV" when it is an LVM logical volume
	Kind partition.Kind
	Size int64
}

// Area is an LVM logical volume of the image that holds a swap signature (mkswap's header).
type Area struct {
	Device
	// By are the specs of the image's swap configuration that name it ("" none: nothing turns
	// it on at boot: systemd-gpt-auto-generator activates only GPT swap partitions, and
	// swapon -a only fstab's lines).
	By []string
}

// Resolved is the partition or logical volume of the image a device spec of the swap
// configuration (Specs) names; ok is false when it names none of them (a swap file, a device
// not in the image) or the facts were not read from an image (Read alone).
func (f *Facts) Resolved(spec string) (Device, bool) {
	d, ok := f.devices[spec]
	return d, ok
}

// dmUUIDPrefix is the /dev/disk/by-id link udev makes from an LV's device-mapper UUID
// ("LVM-" then the VG's and the LV's UUIDs without dashes; lvm2 lib/activate/dev_manager.c
// build_dm_uuid, 2.03). The LV UUIDs are not among what internal/lvm reads, so such a spec
// names an LV whose name is unknown here.
const dmUUIDPrefix = "/dev/disk/by-id/dm-uuid-LVM-"

// resolve names the devices of the specs the facts hold, and lists the image's LVs that hold
// swap with the specs that name each.
func (f *Facts) resolve(img *inspect.Image) {
	f.devices = map[string]Device{}
	for _, spec := range f.Specs() {
		p := img.Resolve(spec)
		if p == nil {
			continue
		}
		d := Device{Name: inspect.PartitionName(p), Kind: p.Kind, Size: p.Size}
		for _, lv := range img.LogicalVolumes() {
			if lv.Partition == p {
				d.LV = lv.FullName()
			}
		}
		f.devices[spec] = d
	}
	for _, lv := range img.LogicalVolumes() {
		p := lv.Partition
		if p.Kind != partition.KindSwap {
			continue
		}
		a := Area{Device: Device{Name: inspect.PartitionName(p), LV: lv.FullName(), Kind: p.Kind, Size: lv.Size}}
		for _, spec := range f.Specs() {
			if d, ok := f.devices[spec]; ok && d.Name == a.Name {
				a.By = append(a.By, spec)
			}
		}
		f.LVAreas = append(f.LVAreas, a)
	}
}

// Specs lists each device spec of the swap configuration once, in the order the facts hold
// them: fstab's swap lines, the .swap units linked and pulled in, then swapon's arguments.
func (f *Facts) Specs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range f.Fstab {
		add(e.Spec)
	}
	for _, l := range f.Links {
		add(l.What)
	}
	for _, d := range f.Dependencies {
		add(d.What)
	}
	for _, s := range f.Swapons {
		for _, a := range s.Devices {
			add(a)
		}
	}
	return out
}

// IsDMUUID says spec names an LVM logical volume by its device-mapper UUID, which this
// checker does not resolve (see dmUUIDPrefix).
func IsDMUUID(spec string) bool { return strings.HasPrefix(spec, dmUUIDPrefix) }

// UnitPath is the path a .swap unit's name stands for: systemd requires a swap unit to be named
// after what it turns on (src/core/swap.c swap_verify refuses a unit whose What= does not
// give its name, systemd 252), the name being the path escaped (src/basic/unit-name.c
// unit_name_to_path, unit_name_path_unescape): "-" separates components, "\xNN" is a byte,
// "-" alone is "/". ok is false for a name that is no escaped absolute path.
func UnitPath(unit string) (string, bool) {
	prefix, ok := strings.CutSuffix(unit, ".swap")
	if !ok || prefix == "" || strings.ContainsRune(prefix, '/') {
		return "", false
	}
	if prefix == "-" {
		return "/", true
	}
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c == '-':
			b.WriteByte('/')
		case c == '\\':
			if i+3 >= len(prefix) || prefix[i+1] != 'x' {
				return "", false
			}
			hi, lo := unhex(prefix[i+2]), unhex(prefix[i+3])
			if hi < 0 || lo < 0 {
				return "", false
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 3
		default:
			b.WriteByte(c)
		}
	}
	p := b.String()
	if path.Clean(p) != p {
		return "", false // "a--b", a trailing "-": not what unit_name_from_path makes
	}
	return p, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// swaponDevices are the devices a swapon command line names: its arguments that are no
// option, and the values of -L/-U (LABEL=, UUID=); -a (fstab's lines) names none of its own.
// The other options that take a value (-p, -o, -T) are skipped with it (util-linux 2.38
// sys-utils/swapon.c main's long and short options).
func swaponDevices(argv []string) []string {
	var out []string
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			out = append(out, argv[i+1:]...)
			return out
		case a == "-L" || a == "--label":
			if i+1 < len(argv) {
				out = append(out, "LABEL="+argv[i+1])
			}
			i++
		case a == "-U" || a == "--uuid":
			if i+1 < len(argv) {
				out = append(out, "UUID="+argv[i+1])
			}
			i++
		case strings.HasPrefix(a, "-L") && len(a) > 2:
			out = append(out, "LABEL="+a[2:])
		case strings.HasPrefix(a, "-U") && len(a) > 2:
			out = append(out, "UUID="+a[2:])
		case a == "-p" || a == "-o" || a == "-T" || a == "--priority" || a == "--options":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			out = append(out, a)
		}
	}
	return out
}
