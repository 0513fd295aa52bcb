// Package boot reads an image's boot chain as the boot loaders decide it: which loader boots
// (GRUB, systemd-boot, or systemd-stub in a unified kernel image), its default entry, and the
// kernel, initramfs and command line that entry really passes, with the files and lines each
// rests on. It is a fact, computed once per image (Of); rules judge it and never parse.
//
// GRUB is run as GRUB runs its script (grub.go): from every configuration the firmware or the
// boot sector starts (each ESP's /EFI/*/grub.cfg, /boot/grub/grub.cfg, /boot/grub2/grub.cfg),
// through configfile and source, with variables, conditions it can decide, functions, search,
// load_env of grubenv, menus and submenus, to the entry `default` names. systemd-boot is read as
// systemd 252 reads loader.conf and its entries (sdboot.go), and a UKI as systemd-stub 252 finds
// its sections.
//
// The booted root. internal/inspect sits below this package: it lists the filesystems that
// could be the root (those holding /etc, each with its own fstab's mounts) and, when there are
// several, asks inspect.RootDecider. This package sets that hook in its init (root.go): it reads
// the boot chain as seen from each candidate and takes the one the booted entries' root= names
// (UUID=, PARTUUID=, LABEL=, PARTLABEL=, /dev/...), or, when no entry passes root=, the only
// candidate of the x86-64 root partition type (what systemd-gpt-auto-generator mounts). Anything
// else is an error naming the candidates: inspect then leaves the root unset and every rule
// that reads the root errors. The engine opens images through inspect and links this package
// through the rules, so the decision is made before any rule runs.
package boot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Loader names what reads an entry.
const (
	LoaderGRUB        = "GRUB"
	LoaderGRUBBLS     = "GRUB (BLS entry)"
	LoaderSystemdBoot = "systemd-boot"
)

// Entry is one kernel command line a boot loader of the image offers.
type Entry struct {
	Path    string // the file, named as reports name files
	Line    int
	Cmdline string
	Loader  string
	// Title is GRUB's menu path of the entry ("Advanced options>Debian, with Linux ...").
	Title string
	// Kernel is the kernel file as the loader names it (GRUB: "(hd0,gpt2)/vmlinuz-...").
	Kernel string
	Initrd []string
	// KernelFile and InitrdFiles are the files a GRUB entry loads, named as reports name files,
	// found where GRUB reads them: the device its (dev) prefix names, else $root as set or
	// search found it when the entry runs ("" when not known offline, see Unresolved).
	KernelFile  string
	InitrdFiles []string
	// Missing are those files that do not exist there (or are not regular files). A missing
	// kernel fails GRUB's linux command: the entry does not boot (GRUB tries `fallback`); a
	// missing initramfs fails the initrd command, and the kernel boots without any.
	Missing []string
	// KernelMissing says the kernel is among Missing.
	KernelMissing bool
	// Unresolved are the files whose device is not known offline ($root with several possible
	// values, a device that is not a partition of this disk such as LVM or another disk).
	Unresolved []string
	// initrdRefs open the initramfs files found, in order.
	initrdRefs []InitrdRef
	// Booted says the VM may start it unattended: the loader's default entry, or every entry
	// of a loader whose default is not decided offline. Note says why an entry is not.
	Booted bool
	Note   string
	SD     *LoaderEntry
}

// Describe names an entry's kind for evidence.
func (e Entry) Describe() string {
	switch {
	case e.SD == nil:
		return e.Loader
	case e.SD.IsUKI:
		return fmt.Sprintf("systemd-boot, unified kernel image's .cmdline on the %s (partition %d)", e.SD.Boot.Role, e.SD.Boot.Partition.Number)
	}
	return fmt.Sprintf("systemd-boot entry on the %s (partition %d)", e.SD.Boot.Role, e.SD.Boot.Partition.Number)
}

// Root returns the last root= of the command line (the one the kernel and the initramfs use).
func (e Entry) Root() string {
	root := ""
	for _, f := range strings.Fields(e.Cmdline) {
		if v, ok := strings.CutPrefix(f, "root="); ok {
			root = v
		}
	}
	return root
}

// Setting is one value read from a file, where it was read.
type Setting struct {
	Path  string
	Line  int
	Key   string
	Value string
}

// Source is a file the next kernel's command line is made from.
type Source struct {
	Name     string // the file (the first, for GRUB's defaults)
	Cmdline  string
	Settings []Setting
	Regen    string // how its boot entries are regenerated
	// KernelInstall says it is kernel-install's /etc/kernel/cmdline (or /usr/lib/kernel/cmdline).
	KernelInstall bool
}

// Chain is the image's boot chain.
type Chain struct {
	// Entries are every entry of every loader, GRUB's first, then GRUB's BLS entries, then
	// systemd-boot's in its menu order.
	Entries []Entry
	// GRUBDecision says how GRUB's default was decided, or why it was not, per configuration.
	GRUBDecision []string
	// Sources are GRUB's defaults and kernel-install's command line, those that exist.
	Sources []Source
	// Kernel is the kernel that boots by default.
	Kernel Kernel
	// Files are the files the chain rests on.
	Files []string
	// Err is what could not be read: rules that need the chain error with it.
	Err error
}

// Booted returns the entries the VM may start unattended and the others.
func (c *Chain) Booted() (booted, skipped []Entry) {
	for _, e := range c.Entries {
		if e.Booted {
			booted = append(booted, e)
		} else {
			skipped = append(skipped, e)
		}
	}
	return booted, skipped
}

// Of returns the boot chain of img, read once.
func Of(img *inspect.Image) *Chain {
	return img.Memo("boot chain", func() any {
		v := imageView(img)
		return v.chain()
	}).(*Chain)
}

// view is the image as one candidate root sees it: the root tree and its mounts, and the boot
// partitions (the firmware and the loaders read them whether or not Linux mounts them).
type view struct {
	img      *inspect.Image
	root     *filesystem.Tree
	rootPart *partition.Partition
	mounts   []inspect.Mount
	boot     []inspect.BootPartition
}

func imageView(img *inspect.Image) *view {
	return &view{img: img, root: img.Root, rootPart: img.RootPartition, mounts: img.Mounts, boot: img.Boot}
}

func rel(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

// maxConfigRead bounds a boot configuration file read whole.
const maxConfigRead = 1 << 20

// read returns a file of the root's view, (nil, nil) when it does not exist.
func (v *view) read(p string) ([]byte, error) {
	if v.root == nil {
		return nil, inspect.ErrNoLinuxRoot
	}
	b, err := v.root.ReadFile(rel(p), maxConfigRead)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return b, nil
}

func (v *view) stat(p string) (fs.FileInfo, error) {
	fi, err := v.root.Stat(rel(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

// glob expands a pattern in the root's view; an unreadable directory is an error.
func (v *view) glob(pattern string) ([]string, error) {
	m, unread, err := filesystem.Glob(v.root, rel(pattern))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pattern, err)
	}
	if len(unread) > 0 {
		return nil, fmt.Errorf("could not read what %s matches: directory /%s unreadable (%v)", pattern, unread[0].Path, unread[0].Err)
	}
	for i := range m {
		m[i] = "/" + m[i]
	}
	return m, nil
}

// name names in-partition path p of partition part the way reports name files.
func (v *view) name(part *partition.Partition, p string) string {
	p = path.Clean("/" + p)
	if part == v.rootPart && v.rootPart != nil {
		return p
	}
	for _, m := range v.mounts {
		if m.Partition == part {
			return path.Join(m.Path, p)
		}
	}
	return fmt.Sprintf("partition %d:%s", part.Number, p)
}

// locate maps a path of the root's view to the partition that holds it and its path there.
func (v *view) locate(p string) (*partition.Partition, string) {
	p = path.Clean("/" + p)
	best, at := v.rootPart, "/"
	for _, m := range v.mounts {
		if (p == m.Path || strings.HasPrefix(p, m.Path+"/")) && len(m.Path) > len(at) {
			best, at = m.Partition, m.Path
		}
	}
	return best, path.Clean("/" + strings.TrimPrefix(p, at))
}

func (v *view) underBootPartition(p string) bool {
	for _, b := range v.boot {
		if b.MountedAt != "" && (p == b.MountedAt || strings.HasPrefix(p, b.MountedAt+"/")) {
			return true
		}
	}
	return false
}

// chain reads the whole chain.
func (v *view) chain() *Chain {
	ch := &Chain{}
	if v.root == nil {
		ch.Err = inspect.ErrNoLinuxRoot
		if v.img.RootErr != nil {
			ch.Err = v.img.RootErr
		}
		return ch
	}
	if err := v.readEntries(ch); err != nil {
		ch.Err = err
		return ch
	}
	if err := v.readSources(ch); err != nil {
		ch.Err = err
		return ch
	}
	k, err := v.kernel(ch)
	ch.Kernel = k
	if err != nil {
		ch.Err = err
	}
	return ch
}

func (v *view) readEntries(ch *Chain) error {
	g, err := v.runGRUB()
	if err != nil {
		return err
	}
	ch.Entries = append(ch.Entries, g.entries...)
	ch.GRUBDecision = g.decisions
	ch.Files = append(ch.Files, g.files...)

	kernelopts := ""
	for _, f := range []string{"/boot/grub2/grubenv", "/boot/grub/grubenv"} {
		env, err := v.read(f)
		if err != nil {
			return err
		}
		if env == nil {
			continue
		}
		vars, err := ParseGrubenv(env)
		if err != nil {
			continue // GRUB's load_env refuses it: $kernelopts stays unset
		}
		for _, s := range vars {
			if s.Key == "kernelopts" && kernelopts == "" {
				kernelopts = s.Value
			}
		}
	}
	if !v.underBootPartition("/boot/loader/entries") {
		bls, err := v.glob("/boot/loader/entries/*.conf")
		if err != nil {
			return err
		}
		for _, f := range bls {
			data, err := v.read(f)
			if err != nil {
				return err
			}
			ch.Files = append(ch.Files, f)
			if e := ParseLoaderEntry(data); e.Line > 0 {
				ch.Entries = append(ch.Entries, Entry{Path: f, Line: e.Line, Cmdline: strings.ReplaceAll(e.Cmdline, "$kernelopts", kernelopts),
					Loader: LoaderGRUBBLS, Kernel: e.Linux, Initrd: e.Initrd, Booted: true})
			}
		}
	}
	sb, err := v.systemdBoot()
	if err != nil {
		return err
	}
	for i := range sb.entries {
		e := &sb.entries[i]
		ch.Files = append(ch.Files, e.Where)
		en := Entry{Path: e.Where, Line: e.Line, Cmdline: e.Cmdline, Loader: LoaderSystemdBoot, SD: e, Kernel: e.Linux, Initrd: e.Initrd}
		switch {
		case e.Dropped != "":
			en.Note = "systemd-boot drops it (" + e.Dropped + ")"
		case e.IsDefault || sb.undecided:
			en.Booted = true
		default:
			en.Note = "not the default entry (not judged)"
		}
		ch.Entries = append(ch.Entries, en)
	}
	return nil
}

// readSources reads GRUB's defaults and kernel-install's command line.
func (v *view) readSources(ch *Chain) error {
	grub, sets, found, err := v.grubDefaults()
	if err != nil {
		return err
	}
	if found {
		ch.Sources = append(ch.Sources, Source{Name: "/etc/default/grub", Cmdline: grub, Settings: sets, Regen: "update-grub / grub2-mkconfig"})
	}
	for _, p := range []string{"/etc/kernel/cmdline", "/usr/lib/kernel/cmdline"} {
		data, err := v.read(p)
		if err != nil {
			return err
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
		cmdline := strings.Join(parts, " ")
		ch.Sources = append(ch.Sources, Source{Name: p, Cmdline: cmdline, KernelInstall: true, Regen: "kernel-install add, or rebuild the UKI",
			Settings: []Setting{{Path: p, Line: 1, Value: cmdline}}})
		break
	}
	return nil
}

// grubDefaults returns GRUB_CMDLINE_LINUX and _DEFAULT as grub-mkconfig would assemble them
// from /etc/default/grub and /etc/default/grub.d/*.cfg.
func (v *view) grubDefaults() (cmdline string, sets []Setting, found bool, err error) {
	files := []string{"/etc/default/grub"}
	more, err := v.glob("/etc/default/grub.d/*.cfg")
	if err != nil {
		return "", nil, false, err
	}
	files = append(files, more...)
	vals := map[string]sysconf.Setting{}
	src := map[string]string{}
	for _, f := range files {
		data, err := v.read(f)
		if err != nil {
			return "", nil, false, err
		}
		if data == nil {
			continue
		}
		found = true
		vars, err := sysconf.ReadShellVars(data)
		if err != nil {
			return "", nil, false, fmt.Errorf("%s: %w", f, err)
		}
		for _, s := range vars {
			if s.Key == "GRUB_CMDLINE_LINUX" || s.Key == "GRUB_CMDLINE_LINUX_DEFAULT" {
				// grub.d snippets commonly append: GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ..."
				s.Value = strings.ReplaceAll(s.Value, "$"+s.Key, vals[s.Key].Value)
				s.Value = strings.ReplaceAll(s.Value, "${"+s.Key+"}", vals[s.Key].Value)
				vals[s.Key], src[s.Key] = s, f
			}
		}
	}
	for _, k := range []string{"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"} {
		if s, ok := vals[k]; ok {
			sets = append(sets, Setting{Path: src[k], Line: s.Line, Key: k, Value: s.Value})
		}
	}
	return strings.TrimSpace(vals["GRUB_CMDLINE_LINUX"].Value + " " + vals["GRUB_CMDLINE_LINUX_DEFAULT"].Value), sets, found, nil
}

// Kernel is the kernel the image starts by default and the initramfs it starts with.
type Kernel struct {
	Release string
	From    string // the file that starts it (vmlinuz, a boot entry, a UKI)
	// SDDefault says it is systemd-boot's default entry.
	SDDefault bool
	// Initrds are the initramfs files in the order the boot loader loads them; a UKI's is
	// its .initrd section. None when the boot configuration names none.
	Initrds []InitrdRef
	// UKI is set when the kernel is a unified kernel image (its initramfs is inside it).
	UKI string
	// Missing are the files GRUB's booted entry loads that do not exist where GRUB reads them
	// (Entry.Missing); KernelMissing says its kernel is one: that entry does not boot.
	Missing       []string
	KernelMissing bool
}

// InitrdRef is one initramfs to list.
type InitrdRef struct {
	Where   string
	Section bool // the initramfs is the .initrd section of the UKI at Where
	Open    func() (io.ReadCloser, error)
}

// initramfsOf returns the initramfs of kernel k, where the distributions put it; "" when none.
func (v *view) initramfsOf(k string) (string, error) {
	for _, p := range []string{"/boot/initrd.img-" + k, "/boot/initramfs-" + k + ".img", "/boot/initrd-" + k} {
		fi, err := v.stat(p)
		if err != nil {
			return "", err
		}
		if fi != nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", nil
}

// newestKernel is the release of the newest /boot/vmlinuz-RELEASE.
func (v *view) newestKernel() string {
	ents, err := v.root.ReadDir("boot")
	if err != nil {
		return ""
	}
	best := ""
	for _, e := range ents {
		if r, ok := strings.CutPrefix(e.Name(), "vmlinuz-"); ok && (best == "" || pkgdb.CompareVersions(r, best) > 0) {
			best = r
		}
	}
	return best
}

// kernel finds the default kernel: systemd-boot's default entry when systemd-boot is the boot
// loader (it has entries and GRUB has none); else GRUB's default entry's vmlinuz-RELEASE when
// GRUB's default is decided and that file is in /boot; else the newest /boot/vmlinuz-RELEASE.
func (v *view) kernel(ch *Chain) (Kernel, error) {
	var def *LoaderEntry
	var grubEntry *Entry
	grub := false
	grubRelease := ""
	grubDefaults := 0
	for i, e := range ch.Entries {
		switch {
		case e.SD != nil && e.SD.IsDefault && e.Booted:
			def = e.SD
		case e.SD == nil && e.Booted:
			grub = true
			if e.Loader == LoaderGRUB {
				grubDefaults++
				grubEntry = &ch.Entries[i]
				grubRelease, _ = strings.CutPrefix(path.Base(e.Kernel), "vmlinuz-")
			}
		case e.SD == nil:
			grub = true
		}
	}
	if def == nil || grub {
		// GRUB's one booted entry, its kernel found where GRUB reads it: the files it loads
		if grubDefaults == 1 && grubEntry.KernelFile != "" && len(grubEntry.Unresolved) == 0 {
			e := grubEntry
			release, named := strings.CutPrefix(path.Base(e.KernelFile), "vmlinuz-")
			if !named {
				release = v.newestKernel() // "/vmlinuz", a link: the release /boot shows
			}
			return Kernel{Release: release, From: e.KernelFile, Initrds: e.initrdRefs, Missing: e.Missing, KernelMissing: e.KernelMissing}, nil
		}
		k := ""
		if grubDefaults == 1 && grubRelease != "" {
			if fi, err := v.stat("/boot/vmlinuz-" + grubRelease); err == nil && fi != nil {
				k = grubRelease
			}
		}
		if k == "" {
			k = v.newestKernel()
		}
		if k == "" {
			return Kernel{}, nil
		}
		bk := Kernel{Release: k, From: "/boot/vmlinuz-" + k}
		p, err := v.initramfsOf(k)
		if err != nil {
			return bk, err
		}
		if p != "" {
			root := v.root
			bk.Initrds = []InitrdRef{{Where: p, Open: func() (io.ReadCloser, error) { return root.Open(rel(p)) }}}
		}
		return bk, nil
	}
	b := def.Boot
	bk := Kernel{From: def.Where, SDDefault: true}
	if def.IsUKI {
		bk.UKI, bk.Release = def.Where, def.Uname
		img, closeFn, err := openUKI(b, def.UKIPath)
		if err != nil {
			return bk, err
		}
		closeFn()
		if s, ok := img.StubSection(".initrd"); ok {
			bk.Initrds = []InitrdRef{{Where: def.Where, Section: true, Open: func() (io.ReadCloser, error) {
				img, closeFn, err := openUKI(b, def.UKIPath)
				if err != nil {
					return nil, err
				}
				return readCloser{img.Open(s), closeFn}, nil
			}}}
		}
	} else {
		bk.Release = def.Version
		if bk.Release == "" {
			// kernel-install's layout: /ENTRY-TOKEN/RELEASE/linux; else vmlinuz-RELEASE
			if base := path.Base(def.Linux); base == "linux" {
				bk.Release = path.Base(path.Dir(def.Linux))
			} else {
				bk.Release = strings.TrimPrefix(base, "vmlinuz-")
			}
		}
		for _, p := range def.Initrd {
			p := p
			found, err := foldPath(b.Tree, p)
			if err != nil || found == "" {
				found = rel(p)
			}
			bk.Initrds = append(bk.Initrds, InitrdRef{Where: b.Where(p), Open: func() (io.ReadCloser, error) {
				f, err := b.Tree.Open(found)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.Where(p), err)
				}
				return f, nil
			}})
		}
	}
	if bk.Release == "" {
		// no .uname (systemd-stub before 254 does not need one): the only modules directory
		ents, err := v.root.ReadDir("lib/modules")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return bk, err
		}
		if len(ents) == 1 && ents[0].IsDir() {
			bk.Release = ents[0].Name()
		} else {
			bk.Release = strings.TrimSuffix(def.ID, path.Ext(def.ID))
		}
	}
	return bk, nil
}

type readCloser struct {
	io.Reader
	closeFn func()
}

func (r readCloser) Close() error { r.closeFn(); return nil }
