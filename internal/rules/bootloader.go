package rules

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

// The systemd-boot side of the boot configuration, read the way the Boot Loader Specification
// lays it out: type #1 entries (/loader/entries/*.conf) and type #2 entries (unified kernel
// images, /EFI/Linux/*.efi) on the ESP and on the extended boot loader partition (XBOOTLDR),
// the ESP's /loader/loader.conf choosing the default, and /etc/kernel/cmdline, from which
// kernel-install makes the entries of the next kernel.

// loaderEntry is one systemd-boot menu entry.
type loaderEntry struct {
	id        string // the file name, as loader.conf's default matches it
	where     string // the file, named as reports name files
	line      int    // the first options line of a type #1 entry
	cmdline   string
	version   string
	sortKey   string
	linux     string // type #1: the kernel, relative to the partition; type #2: ""
	initrd    []string
	boot      inspect.BootPartition
	ukiPath   string // type #2: the UKI's path in its partition
	uname     string // type #2: its .uname section
	isUKI     bool
	isDefault bool
}

// systemdBoot is what the image's systemd-boot would offer.
type systemdBoot struct {
	entries []loaderEntry
	// defaultPattern is loader.conf's default ("" when unset), read at defaultAt.
	defaultPattern, defaultAt string
	defaultLine               int
}

// maxLoaderEntries bounds the entries read per directory; more is an error.
const maxLoaderEntries = 256

// systemdBoot reads the loader entries of every ESP and XBOOTLDR of the image and marks the
// one systemd-boot starts by default: the first whose ID loader.conf's default pattern matches,
// else the first in systemd-boot's menu order. An EFI variable (LoaderEntryDefault) set at run
// time is not in the image and is not considered.
func (c *Context) systemdBoot() (*systemdBoot, error) {
	sb := &systemdBoot{}
	for _, b := range c.Image.Boot {
		if b.Role == inspect.RoleESP && sb.defaultAt == "" {
			data, err := readIn(b, "/loader/loader.conf")
			if err != nil {
				return nil, err
			}
			for i, l := range strings.Split(string(data), "\n") {
				if k, v, _ := strings.Cut(strings.TrimSpace(l), " "); k == "default" {
					sb.defaultPattern, sb.defaultAt, sb.defaultLine = strings.TrimSpace(v), b.Where("/loader/loader.conf"), i+1
				}
			}
		}
		confs, err := globIn(b, "/loader/entries/*.conf")
		if err != nil {
			return nil, err
		}
		for _, f := range confs {
			data, err := readIn(b, f)
			if err != nil {
				return nil, err
			}
			sb.entries = append(sb.entries, parseTypeOne(b, f, data))
		}
		ukis, err := globIn(b, "/EFI/Linux/*.efi")
		if err != nil {
			return nil, err
		}
		for _, f := range ukis {
			e, err := c.readUKI(b, f)
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
	chosen := 0
	if sb.defaultPattern != "" && !strings.HasPrefix(sb.defaultPattern, "@") {
		chosen = -1
		for i, e := range sb.entries {
			bare := strings.TrimSuffix(e.id, ".conf")
			if m, _ := path.Match(sb.defaultPattern, e.id); m {
				chosen = i
			} else if m, _ := path.Match(sb.defaultPattern, bare); m {
				chosen = i
			}
			if chosen >= 0 {
				break
			}
		}
		if chosen < 0 {
			chosen = 0 // systemd-boot falls back to the first entry
		}
	}
	sb.entries[chosen].isDefault = true
	return sb, nil
}

// sortLoaderEntries puts entries in systemd-boot's menu order (systemd 252): entries with a
// sort-key first, by sort-key then version (newest first); then the others by ID, newest
// version first.
func sortLoaderEntries(es []loaderEntry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.sortKey == "") != (b.sortKey == "") {
			return a.sortKey != ""
		}
		if a.sortKey != "" {
			if a.sortKey != b.sortKey {
				return a.sortKey < b.sortKey
			}
			if c := pkgdb.CompareVersions(a.version, b.version); c != 0 {
				return c > 0
			}
		}
		return pkgdb.CompareVersions(a.id, b.id) > 0
	})
}

// parseTypeOne reads a type #1 entry on a boot partition; one without options is named by its
// first line.
func parseTypeOne(b inspect.BootPartition, f string, data []byte) loaderEntry {
	e := parseBLS(data)
	e.id, e.where, e.boot = path.Base(f), b.Where(f), b
	if e.line == 0 {
		e.line = 1
	}
	return e
}

// parseBLS reads the keys of a Boot Loader Specification entry (systemd-boot's, or one GRUB reads
// from /boot/loader/entries); several options lines are joined, as the loaders do, and line is
// the first of them (0 when there is none).
func parseBLS(data []byte) loaderEntry {
	var e loaderEntry
	var opts []string
	for i, l := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		v = strings.TrimSpace(v)
		switch k {
		case "options":
			if e.line == 0 {
				e.line = i + 1
			}
			opts = append(opts, v)
		case "linux":
			e.linux = v
		case "initrd":
			e.initrd = append(e.initrd, v)
		case "version":
			e.version = v
		case "sort-key":
			e.sortKey = v
		}
	}
	e.cmdline = strings.Join(opts, " ")
	return e
}

// readUKI reads a type #2 entry: the UKI's .cmdline with the .cmdline of its add-ons
// (NAME.efi.extra.d/*.addon.efi) appended, as systemd-stub does.
func (c *Context) readUKI(b inspect.BootPartition, f string) (loaderEntry, error) {
	e := loaderEntry{id: path.Base(f), where: b.Where(f), line: 0, boot: b, ukiPath: f, isUKI: true}
	img, closeFn, err := openUKI(b, f)
	if err != nil {
		return e, err
	}
	defer closeFn()
	cmdline, _, err := img.Text(".cmdline")
	if err != nil {
		return e, err
	}
	e.uname, _, err = img.Text(".uname")
	if err != nil {
		return e, err
	}
	osrel, _, err := img.Text(".osrel")
	if err != nil {
		return e, err
	}
	for _, s := range sysconf.ParseKeyValue([]byte(osrel)) {
		switch s.Key {
		case "VERSION_ID", "IMAGE_VERSION":
			e.version = strings.Trim(s.Value, `"`)
		}
	}
	addons, err := globIn(b, f+".extra.d/*.addon.efi")
	if err != nil {
		return e, err
	}
	for _, a := range addons {
		ai, closeA, err := openUKI(b, a)
		if err != nil {
			return e, err
		}
		extra, _, err := ai.Text(".cmdline")
		closeA()
		if err != nil {
			return e, err
		}
		cmdline = strings.TrimSpace(cmdline + " " + extra)
	}
	e.cmdline = cmdline
	return e, nil
}

func openUKI(b inspect.BootPartition, f string) (*uki.Image, func(), error) {
	r, size, err := b.Tree.OpenReaderAt(rel(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", b.Where(f), err)
	}
	img, err := uki.Open(b.Where(f), r, size)
	if err != nil {
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

// globIn expands a pattern in a boot partition (FAT names match case-insensitively there, as
// the firmware and systemd-boot read them; the pattern is tried as written and upper-cased).
func globIn(b inspect.BootPartition, pattern string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range []string{pattern, strings.ToUpper(pattern)} {
		m, err := globFS(b.Tree, rel(p))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Where(p), err)
		}
		for _, f := range m {
			if seen[f] {
				continue
			}
			if len(out) == maxLoaderEntries {
				// not all of them would be judged: an error, never a partial verdict
				return nil, fmt.Errorf("%s: more than %d files match (at most %d are read)", b.Where(pattern), maxLoaderEntries, maxLoaderEntries)
			}
			seen[f] = true
			out = append(out, "/"+f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// maxConfigRead bounds a boot configuration file read whole.
const maxConfigRead = 1 << 20

// underBootPartition says whether an in-root path is inside a boot partition the root's view
// mounts (so that it is read once, as that partition's file).
func (c *Context) underBootPartition(p string) bool {
	for _, b := range c.Image.Boot {
		if b.MountedAt != "" && (p == b.MountedAt || strings.HasPrefix(p, b.MountedAt+"/")) {
			return true
		}
	}
	return false
}

// kernelInstallCmdline returns /etc/kernel/cmdline (or /usr/lib/kernel/cmdline), from which
// kernel-install writes the next kernel's entry; found is false when neither exists.
func (c *Context) kernelInstallCmdline() (cmdline string, ev Evidence, found bool, err error) {
	for _, p := range []string{"/etc/kernel/cmdline", "/usr/lib/kernel/cmdline"} {
		data, err := c.read(p)
		if err != nil {
			return "", Evidence{}, false, err
		}
		if data == nil {
			continue
		}
		var parts []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				parts = append(parts, l)
			}
		}
		cmdline = strings.Join(parts, " ")
		return cmdline, Evidence{Path: p, Line: 1, Detail: "kernel-install's command line for new kernels: " + Quote(strconv.Quote(cmdline))}, true, nil
	}
	return "", Evidence{}, false, nil
}

// bootKernel is the kernel the image starts by default and the initramfs it starts with.
type bootKernel struct {
	release string
	from    string // the file that starts it (vmlinuz, a boot entry, a UKI)
	// sdDefault says it is systemd-boot's default entry
	sdDefault bool
	// initrds are the initramfs files in the order the boot loader loads them; a UKI's is its
	// .initrd section. None when the boot configuration names none.
	initrds []initrdRef
	// uki is set when the kernel is a unified kernel image (its initramfs is inside it).
	uki string
}

// initrdRef is one initramfs to list.
type initrdRef struct {
	where   string
	section bool // the initramfs is the .initrd section of the UKI at where
	open    func() (io.ReadCloser, error)
}

// bootKernel finds the default kernel: systemd-boot's default entry when systemd-boot is the
// boot loader (it has entries and GRUB has none), else the newest /boot/vmlinuz-RELEASE with its
// initramfs where the distributions put it. release is "" when no kernel is found.
func (c *Context) bootKernel() (bootKernel, error) {
	entries, _, err := c.bootedEntries()
	if err != nil {
		return bootKernel{}, err
	}
	var def *loaderEntry
	grub := false
	for _, e := range entries {
		if e.sd != nil && e.sd.isDefault {
			def = e.sd
		} else if e.sd == nil {
			grub = true
		}
	}
	if def == nil || grub {
		k := c.Image.BootKernel()
		if k == "" {
			return bootKernel{}, nil
		}
		bk := bootKernel{release: k, from: "/boot/vmlinuz-" + k}
		p, err := c.initramfsOf(k)
		if err != nil {
			return bk, err
		}
		if p != "" {
			bk.initrds = []initrdRef{{where: p, open: func() (io.ReadCloser, error) { return c.Image.Root.Open(rel(p)) }}}
		}
		return bk, nil
	}
	b := def.boot
	bk := bootKernel{from: def.where, sdDefault: true}
	if def.isUKI {
		bk.uki, bk.release = def.where, def.uname
		img, closeFn, err := openUKI(b, def.ukiPath)
		if err != nil {
			return bk, err
		}
		closeFn()
		if s, ok := img.Find(".initrd"); ok {
			bk.initrds = []initrdRef{{where: def.where, section: true, open: func() (io.ReadCloser, error) {
				img, closeFn, err := openUKI(b, def.ukiPath)
				if err != nil {
					return nil, err
				}
				return readCloser{img.Open(s), closeFn}, nil
			}}}
		}
	} else {
		bk.release = def.version
		if bk.release == "" {
			// kernel-install's layout: /ENTRY-TOKEN/RELEASE/linux; else vmlinuz-RELEASE
			if base := path.Base(def.linux); base == "linux" {
				bk.release = path.Base(path.Dir(def.linux))
			} else {
				bk.release = strings.TrimPrefix(base, "vmlinuz-")
			}
		}
		for _, p := range def.initrd {
			p := p
			bk.initrds = append(bk.initrds, initrdRef{where: b.Where(p), open: func() (io.ReadCloser, error) {
				f, err := b.Tree.Open(rel(p))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.Where(p), err)
				}
				return f, nil
			}})
		}
	}
	if bk.release == "" {
		// no .uname (systemd-stub before 254 does not need one): the only modules directory
		mods, err := c.readDir("/lib/modules")
		if err != nil {
			return bk, err
		}
		if len(mods) == 1 && mods[0].IsDir() {
			bk.release = mods[0].Name()
		} else {
			bk.release = strings.TrimSuffix(def.id, path.Ext(def.id))
		}
	}
	return bk, nil
}

type readCloser struct {
	io.Reader
	closeFn func()
}

func (r readCloser) Close() error { r.closeFn(); return nil }
