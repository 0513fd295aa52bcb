package boot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

// The systemd-boot side of the boot chain, read as systemd 252 reads it (src/boot/efi/boot.c):
// type #1 entries (/loader/entries/*.conf) and type #2 entries (unified kernel images,
// /EFI/Linux/*.efi) on the ESP and on the XBOOTLDR, the ESP's /loader/loader.conf choosing the
// default. The ESP and XBOOTLDR are FAT: names match case-insensitively, as the firmware's file
// protocol matches them, and systemd-boot matches suffixes with endswith_no_case.

// LoaderEntry is one systemd-boot menu entry.
type LoaderEntry struct {
	ID      string // the file name, as loader.conf's default matches it
	Where   string // the file, named as reports name files
	Line    int    // the first options line of a type #1 entry
	Cmdline string
	Version string
	SortKey string
	Linux   string // type #1: the kernel, relative to the partition; type #2: ""
	EFI     string // type #1: an EFI program the entry starts instead of a kernel
	Initrd  []string
	Arch    string
	Boot    inspect.BootPartition
	UKIPath string // type #2: the UKI's path in its partition
	Uname   string // type #2: its .uname section
	IsUKI   bool
	// Dropped says why systemd-boot leaves the entry out of its menu ("" when it does not).
	Dropped   string
	IsDefault bool
}

type systemdBoot struct {
	entries []LoaderEntry
	// undecided: loader.conf's default names a choice made at run time (@saved), so every
	// entry may boot.
	undecided bool
}

// MaxLoaderEntries bounds the entries read per directory; more is an error.
const MaxLoaderEntries = 256

// efiArch is the architecture name systemd-boot compares an entry's architecture with
// (EFI_MACHINE_TYPE_NAME on x86-64, the machines the marketplaces run).
const efiArch = "x64"

// LineKeyValue splits a loader.conf or entry line as systemd-boot 252's line_get_key_value
// does: leading white space is skipped, '#' starts a comment line, the key ends at the first
// space or tab, the value is the rest without surrounding white space (spaces and tabs), and a
// value in double quotes loses them.
func LineKeyValue(l string) (key, value string, ok bool) {
	l = strings.TrimRight(strings.TrimLeft(l, " \t\r"), " \t\r")
	if l == "" || l[0] == '#' {
		return "", "", false
	}
	i := strings.IndexAny(l, " \t")
	if i < 0 {
		return l, "", true
	}
	key, value = l[:i], strings.Trim(l[i:], " \t")
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return key, value, true
}

// ParseLoaderEntry reads the keys of a Boot Loader Specification entry (systemd-boot's, or one
// GRUB reads from /boot/loader/entries); several options lines are joined, as the loaders do,
// and Line is the first of them (0 when there is none).
func ParseLoaderEntry(data []byte) LoaderEntry {
	var e LoaderEntry
	var opts []string
	for i, l := range strings.Split(string(data), "\n") {
		k, v, ok := LineKeyValue(l)
		if !ok {
			continue
		}
		switch k {
		case "options":
			if e.Line == 0 {
				e.Line = i + 1
			}
			opts = append(opts, v)
		case "linux":
			e.Linux = v
		case "efi":
			e.EFI = v
		case "initrd":
			e.Initrd = append(e.Initrd, v)
		case "version":
			e.Version = v
		case "sort-key":
			e.SortKey = v
		case "architecture":
			e.Arch = v
		}
	}
	e.Cmdline = strings.Join(opts, " ")
	return e
}

// matchFold is fnmatch without case (systemd-boot 252 matches loader.conf's default against
// entry IDs with efi_fnmatch, which folds case).
func matchFold(pattern, name string) bool {
	m, err := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return err == nil && m
}

// systemdBoot reads the loader entries of every ESP and XBOOTLDR and marks the one
// systemd-boot starts by default: the first (in menu order) of the entries it keeps whose ID
// loader.conf's default pattern matches, else the first it keeps. It drops, as 252 does, a
// type #1 entry whose linux (or efi) file is missing or that has neither, and one whose
// architecture is not this machine's. An EFI variable (LoaderEntryDefault) set at run time is not in the image.
func (v *view) systemdBoot() (*systemdBoot, error) {
	sb := &systemdBoot{}
	pattern, havePattern := "", false
	for _, b := range v.boot {
		if b.Role == inspect.RoleESP && !FirmwareReads(b) {
			continue // systemd-boot, on an ESP the firmware cannot read, never starts from it
		}
		if b.Role == inspect.RoleESP && !havePattern {
			conf, err := globFold(b, "/loader/loader.conf")
			if err != nil {
				return nil, err
			}
			for _, f := range conf {
				data, err := readIn(b, f)
				if err != nil {
					return nil, err
				}
				for _, l := range strings.Split(string(data), "\n") {
					if k, val, ok := LineKeyValue(l); ok && k == "default" {
						pattern, havePattern = val, true
					}
				}
				break
			}
		}
		confs, err := globFold(b, "/loader/entries/*.conf")
		if err != nil {
			return nil, err
		}
		for _, f := range confs {
			data, err := readIn(b, f)
			if err != nil {
				return nil, err
			}
			e := ParseLoaderEntry(data)
			e.ID, e.Where, e.Boot = path.Base(f), b.Where(f), b
			if e.Line == 0 {
				e.Line = 1
			}
			switch {
			case e.Arch != "" && !strings.EqualFold(e.Arch, efiArch):
				e.Dropped = "architecture " + e.Arch + " is not " + efiArch
			case e.Linux == "" && e.EFI == "":
				e.Dropped = "no linux or efi line"
			default:
				// systemd-boot keeps an entry only when the file it starts is there (an efi
				// program where there is no linux line; it boots no Linux kernel)
				loader := e.Linux
				if loader == "" {
					loader = e.EFI
				}
				found, err := foldPath(b.Tree, loader)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.Where(loader), err)
				}
				if found == "" {
					e.Dropped = "the file it starts, " + b.Where(loader) + ", is missing"
				}
			}
			sb.entries = append(sb.entries, e)
		}
		ukis, err := globFold(b, "/EFI/Linux/*.efi")
		if err != nil {
			return nil, err
		}
		for _, f := range ukis {
			e, err := readUKI(b, f)
			if err != nil {
				return nil, err
			}
			sb.entries = append(sb.entries, e)
		}
	}
	if len(sb.entries) == 0 {
		return sb, nil
	}
	sortLoaderEntries(sb.entries)
	if havePattern && strings.HasPrefix(pattern, "@") {
		sb.undecided = true // @saved, @default: EFI variables, not in the image
		return sb, nil
	}
	chosen := -1
	if havePattern && pattern != "" {
		for i, e := range sb.entries {
			// the whole file name, ".conf" and all: 252 matches the pattern against the entry's
			// ID, its file name (boot.c config_entry_find; bootctl's boot_config_find), and
			// "default arch" does not take arch.conf (TestSystemdBootAgreesWithBootctl)
			if e.Dropped == "" && matchFold(pattern, e.ID) {
				chosen = i
				break
			}
		}
	}
	if chosen < 0 {
		for i, e := range sb.entries {
			if e.Dropped == "" {
				chosen = i // systemd-boot falls back to the first entry it keeps
				break
			}
		}
	}
	if chosen >= 0 {
		sb.entries[chosen].IsDefault = true
	}
	return sb, nil
}

// sortLoaderEntries puts entries in systemd-boot's menu order (systemd 252): entries with a
// sort-key first, by sort-key then version (newest first); then the others by ID, newest
// version first.
func sortLoaderEntries(es []LoaderEntry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.SortKey == "") != (b.SortKey == "") {
			return a.SortKey != ""
		}
		if a.SortKey != "" {
			if a.SortKey != b.SortKey {
				return a.SortKey < b.SortKey
			}
			if c := pkgdb.CompareVersions(a.Version, b.Version); c != 0 {
				return c > 0
			}
		}
		return pkgdb.CompareVersions(a.ID, b.ID) > 0
	})
}

// readUKI reads a type #2 entry: the UKI's .cmdline as systemd-stub finds it, with the
// .cmdline of its add-ons (NAME.efi.extra.d/*.addon.efi) appended.
func readUKI(b inspect.BootPartition, f string) (LoaderEntry, error) {
	e := LoaderEntry{ID: path.Base(f), Where: b.Where(f), Boot: b, UKIPath: f, IsUKI: true}
	img, closeFn, err := openUKI(b, f)
	if err != nil {
		return e, err
	}
	defer closeFn()
	cmdline, _, err := img.StubText(".cmdline")
	if err != nil {
		return e, err
	}
	e.Uname, _, err = img.StubText(".uname")
	if err != nil {
		return e, err
	}
	osrel, _, err := img.StubText(".osrel")
	if err != nil {
		return e, err
	}
	kv, err := sysconf.ReadKeyValue([]byte(osrel))
	if err != nil {
		return e, err
	}
	for _, s := range kv {
		switch s.Key {
		case "VERSION_ID", "IMAGE_VERSION":
			e.Version = strings.Trim(s.Value, `"`)
		}
	}
	addons, err := globFold(b, f+".extra.d/*.addon.efi")
	if err != nil {
		return e, err
	}
	for _, a := range addons {
		ai, closeA, err := openUKI(b, a)
		if err != nil {
			return e, err
		}
		extra, _, err := ai.StubText(".cmdline")
		closeA()
		if err != nil {
			return e, err
		}
		cmdline = strings.TrimSpace(cmdline + " " + extra)
	}
	e.Cmdline = cmdline
	return e, nil
}

func openUKI(b inspect.BootPartition, f string) (*uki.Image, func(), error) {
	r, size, err := b.Tree.OpenReaderAt(rel(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", b.Where(f), err)
	}
	img, err := uki.Open(b.Where(f), r, size)
	if err != nil {
		if cl, ok := r.(io.Closer); ok {
			cl.Close()
		}
		return nil, nil, err
	}
	return img, func() {
		if cl, ok := r.(io.Closer); ok {
			cl.Close()
		}
	}, nil
}

// readIn reads a file of a boot partition; (nil, nil) when it does not exist.
func readIn(b inspect.BootPartition, p string) ([]byte, error) {
	data, err := b.Tree.ReadFile(rel(p), maxConfigRead)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Where(p), err)
	}
	return data, nil
}

// foldPath finds p in a FAT tree the way the firmware does, each name without case; it returns
// the path as stored ("" when there is none).
func foldPath(t *filesystem.Tree, p string) (string, error) {
	cur := ""
	for _, part := range strings.Split(rel(p), "/") {
		if part == "" {
			continue
		}
		ents, err := t.ReadDir(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		next := ""
		for _, e := range ents {
			if strings.EqualFold(e.Name(), part) {
				next = path.Join(cur, e.Name())
				break
			}
		}
		if next == "" {
			return "", nil
		}
		cur = next
	}
	return cur, nil
}

// globFold expands a pattern in a boot partition with every name matched without case (FAT);
// it returns the paths as stored, sorted. More than MaxLoaderEntries matches is an error.
func globFold(b inspect.BootPartition, pattern string) ([]string, error) {
	parts := strings.Split(rel(pattern), "/")
	cur := []string{""}
	for i, part := range parts {
		var next []string
		for _, dir := range cur {
			ents, err := b.Tree.ReadDir(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Where("/"+dir), err)
			}
			for _, e := range ents {
				if i < len(parts)-1 && !e.IsDir() {
					continue
				}
				if matchFold(part, e.Name()) {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
		}
		cur = next
		if len(cur) > MaxLoaderEntries {
			// not all of them would be judged: an error, never a partial verdict
			return nil, fmt.Errorf("%s: more than %d files match (at most %d are read)", b.Where(pattern), MaxLoaderEntries, MaxLoaderEntries)
		}
	}
	out := make([]string, 0, len(cur))
	for _, c := range cur {
		out = append(out, "/"+c)
	}
	sort.Strings(out)
	return out, nil
}
