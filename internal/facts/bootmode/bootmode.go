// Package bootmode is how an image's disk can start: by legacy BIOS, by UEFI, or both, decided
// as the firmware decides it. A BIOS runs the boot code in the disk's first sector (bytes 0 to
// 439 of the MBR, or of a GPT disk's protective MBR): all zero, there is nothing to run. A GPT
// disk that GRUB's BIOS install prepared also has a BIOS boot partition (bios_grub), where GRUB
// embeds its core image: that partition without boot code in sector 0 is an install that was
// never finished. A UEFI firmware starts an EFI application (a PE file) from an EFI system
// partition: with empty boot variables, as on a new VM, only the removable-media path
// \EFI\BOOT\BOOT<arch>.EFI; a vendor path (\EFI\debian\shimx64.efi) only through a boot entry
// someone creates.
package bootmode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// Loader is an EFI application on an EFI system partition.
type Loader struct {
	Where string // as reports name files: "/boot/efi/EFI/BOOT/BOOTX64.EFI" or "partition 2:/EFI/..."
	// Arch is the machine its PE header names ("x86-64", "arm64", "ia32", "arm", "riscv64", or
	// "machine 0xNNNN"); a firmware starts only its own.
	Arch string
	// Fallback: the removable-media path of its own architecture, \EFI\BOOT\BOOT<arch>.EFI
	// (BOOTX64.EFI holding an x86-64 program), which a firmware with empty boot variables starts.
	Fallback bool
}

// peMachines are the PE machine types of the UEFI architectures, with their removable-media
// file names (UEFI 2.10, 3.5.1.1).
var peMachines = map[uint16]struct{ arch, file string }{
	0x8664: {"x86-64", "BOOTX64.EFI"},
	0xaa64: {"arm64", "BOOTAA64.EFI"},
	0x014c: {"ia32", "BOOTIA32.EFI"},
	0x01c2: {"arm", "BOOTARM.EFI"},
	0x5064: {"riscv64", "BOOTRISCV64.EFI"},
}

// Facts is what the disk offers each firmware.
type Facts struct {
	// Scheme is the partition table ("gpt", "mbr", "none").
	Scheme string
	// BootCode: sector 0 holds boot code (bytes 0..439 not all zero).
	BootCode bool
	// BIOSBootPartition is the number of the GPT BIOS boot partition (0 when none).
	BIOSBootPartition int
	// ESPs are the numbers of the EFI system partitions; Loaders the EFI applications on them.
	ESPs    []int
	Loaders []Loader
	// NotFAT are the ESPs whose filesystem is not FAT: UEFI firmware reads only FAT, so what
	// they hold never starts.
	NotFAT []int
	// Err is what could not be read (sector 0, an ESP's filesystem or directories): the mode is
	// then not decided.
	Err error
}

// For is the facts as a firmware of arch sees them: only the loaders built for it.
func (f *Facts) For(arch string) *Facts {
	g := *f
	g.Loaders = nil
	for _, l := range f.Loaders {
		if l.Arch == arch {
			g.Loaders = append(g.Loaders, l)
		}
	}
	return &g
}

// BIOS: a BIOS finds boot code to run.
func (f *Facts) BIOS() bool { return f.BootCode }

// UEFI: an EFI application is on an ESP.
func (f *Facts) UEFI() bool { return len(f.Loaders) > 0 }

// Fallback: an EFI application is at the removable-media path, which a firmware with empty boot
// variables starts.
func (f *Facts) Fallback() bool {
	for _, l := range f.Loaders {
		if l.Fallback {
			return true
		}
	}
	return false
}

// Value is the boot mode in the words of Alibaba Cloud's ImportImage BootMode (BIOS, UEFI, or
// UEFI-Preferred for an image that starts either way); "" when it starts neither way.
func (f *Facts) Value() string {
	switch {
	case f.BIOS() && f.UEFI():
		return "UEFI-Preferred"
	case f.UEFI():
		return "UEFI"
	case f.BIOS():
		return "BIOS"
	}
	return ""
}

// mbrCode is the MBR's boot code area: the partition table starts at 446, the disk signature
// at 440.
const mbrCode = 440

// maxESPEntries bounds the directories listed per ESP (a corrupt FAT could claim many).
const maxESPEntries = 4096

// Of reads the facts of img once.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/bootmode", func() any { return read(img) }).(*Facts)
}

func read(img *inspect.Image) *Facts {
	f := &Facts{Scheme: "none"}
	if img.Table == nil {
		f.Err = errors.New("the disk's partition table was not read")
		return f
	}
	f.Scheme = img.Table.Scheme
	var errs []error
	if img.Disk != nil && img.Disk.VirtualSize >= 512 {
		b := make([]byte, mbrCode)
		if n, err := img.Disk.ReadAt(b, 0); n < mbrCode {
			errs = append(errs, fmt.Errorf("%s: sector 0 could not be read: %v", img.Disk.Name, err))
		} else {
			f.BootCode = bytes.ContainsFunc(b, func(r rune) bool { return r != 0 })
		}
	}
	readable := map[*partition.Partition]*filesystem.Tree{}
	for _, b := range img.Boot {
		if b.Role == inspect.RoleESP {
			readable[b.Partition] = b.Tree
		}
	}
	for _, p := range img.Table.Partitions {
		if p.Kind == partition.KindBIOSBoot {
			f.BIOSBootPartition = p.Number
		}
		role, ok := inspect.BootRoleOf(p)
		if !ok || role != inspect.RoleESP {
			continue
		}
		f.ESPs = append(f.ESPs, p.Number)
		if p.Kind != partition.KindVFAT && p.Kind.IsFilesystem() {
			f.NotFAT = append(f.NotFAT, p.Number)
			continue
		}
		tree := readable[p]
		if tree == nil {
			errs = append(errs, fmt.Errorf("EFI system partition %d (%s) could not be read: whether it holds an EFI loader is unknown", p.Number, p.Kind))
			continue
		}
		where := func(q string) string { return fmt.Sprintf("partition %d:%s", p.Number, q) }
		for _, b := range img.Boot {
			if b.Partition == p {
				where = b.Where
			}
		}
		ls, err := loaders(tree)
		if err != nil {
			errs = append(errs, fmt.Errorf("EFI system partition %d: %w", p.Number, err))
		}
		for _, l := range ls {
			f.Loaders = append(f.Loaders, Loader{Where: where(l.Where), Arch: l.Arch, Fallback: l.Fallback})
		}
	}
	f.Err = errors.Join(errs...)
	return f
}

// loaders lists the EFI applications in /EFI/*/ of an ESP (names compared without case, as FAT
// and the firmware compare them); an application is a file that starts with "MZ".
func loaders(t *filesystem.Tree) ([]Loader, error) {
	top, err := t.ReadDir("")
	if err != nil {
		return nil, fmt.Errorf("its top directory could not be read: %w", err)
	}
	efi := ""
	for _, e := range top {
		if strings.EqualFold(e.Name(), "EFI") && e.IsDir() {
			efi = e.Name()
		}
	}
	if efi == "" {
		return nil, nil
	}
	dirs, err := t.ReadDir(efi)
	if err != nil {
		return nil, fmt.Errorf("/%s could not be read: %w", efi, err)
	}
	var out []Loader
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := t.ReadDir(path.Join(efi, d.Name()))
		if err != nil {
			return out, fmt.Errorf("/%s/%s could not be read: %w", efi, d.Name(), err)
		}
		for _, fe := range files {
			if seen++; seen > maxESPEntries {
				return out, fmt.Errorf("/%s holds more than %d entries", efi, maxESPEntries)
			}
			if !fe.Type().IsRegular() || !strings.EqualFold(path.Ext(fe.Name()), ".efi") {
				continue
			}
			p := path.Join(efi, d.Name(), fe.Name())
			machine, pe, err := peMachine(t, p)
			if err != nil {
				return out, fmt.Errorf("/%s could not be read: %w", p, err)
			}
			if !pe {
				continue
			}
			l := Loader{Where: "/" + p, Arch: fmt.Sprintf("machine 0x%04x", machine)}
			if m, ok := peMachines[machine]; ok {
				l.Arch = m.arch
				l.Fallback = strings.EqualFold(d.Name(), "BOOT") && strings.EqualFold(fe.Name(), m.file)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// peMachine reads an EFI application's machine type: "MZ", the PE header's offset at 0x3c,
// "PE\0\0" there, then the machine (a little-endian uint16); false when the file is not a PE
// program.
func peMachine(t *filesystem.Tree, p string) (uint16, bool, error) {
	ra, size, err := t.OpenReaderAt(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if size < 0x40 {
		return 0, false, nil
	}
	b := make([]byte, 0x40)
	if _, err := ra.ReadAt(b, 0); err != nil {
		return 0, false, err
	}
	if string(b[:2]) != "MZ" {
		return 0, false, nil
	}
	off := int64(binary.LittleEndian.Uint32(b[0x3c:]))
	if off < 0x40 || off > size-6 {
		return 0, false, nil
	}
	h := make([]byte, 6)
	if _, err := ra.ReadAt(h, off); err != nil {
		return 0, false, err
	}
	if string(h[:4]) != "PE\x00\x00" {
		return 0, false, nil
	}
	return binary.LittleEndian.Uint16(h[4:]), true, nil
}
