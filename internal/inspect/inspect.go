// Package inspect opens a disk image offline and gathers the facts the rules read: the container
// format, the partition table, each partition's kind, the LVM2 logical volumes of the VGs on
// its partitions (lvm.go: each stands in for a partition of its own), the Linux root filesystem
// with the other filesystems mounted where its /etc/fstab puts them, and the Windows system
// volume.
//
// Which root boots is not this package's to decide when several filesystems hold /etc: that
// is the boot chain's (the default entry's root=), and the boot chain is read above this
// package (internal/facts/boot), from the boot configuration as each candidate would see it.
// The split: inspect lists the candidates (RootCandidates, each with its own fstab's mounts);
// the fact layer decides, through the RootDecider hook it sets when it is linked in (the
// engine links it through the rules); inspect applies the decision before anything reads the
// root. No decider, or no decisive boot entry, leaves Root nil and RootErr naming the
// candidates, so that every rule that reads the root errors: never a silent choice.
package inspect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ntfs"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/vfat"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/xfs"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
	"github.com/marketready/packer-plugin-marketplace/internal/windows"
)

// Image is everything known about one disk image.
type Image struct {
	Source string
	Disk   *image.Disk
	Table  *partition.Table

	// Root is the Linux root filesystem with fstab mounts applied; nil when none was found.
	Root          *filesystem.Tree
	RootPartition *partition.Partition
	Mounts        []Mount
	// RootCandidates are the filesystems that hold /etc (see findRoot); RootErr is set, and
	// Root nil, when there are several and the boot chain does not say which boots.
	RootCandidates []RootCandidate
	RootErr        error
	// Boot are the partitions the firmware and the boot loader read whether or not Linux
	// mounts them: EFI system partitions and extended boot loader partitions (XBOOTLDR).
	Boot []BootPartition
	// Windows is the Windows system volume (NTFS holding Windows\System32\config\SYSTEM);
	// nil when none was found.
	Windows          *filesystem.Tree
	WindowsPartition *partition.Partition
	// Notes are facts worth reporting that are not rule results (e.g. a filesystem we cannot read).
	Notes []string
	// Unread are the partitions that hold files this reader cannot see (encrypted, or a
	// filesystem it identifies but does not read, bytes in no filesystem it reads, a swap area
	// holding pages): a pass over every file has not seen them.
	Unread []UnreadPartition
	// UnreadAreas are disk states the image file holds beside the one it presents (qcow2
	// internal snapshots): a pass over every file has not seen them either.
	UnreadAreas []UnreadArea

	volumes map[*partition.Partition]filesystem.Volume
	// lvs are the LVM logical volumes of the image's VGs (see lvm.go), each standing in the
	// places a partition does by a partition of its own that is in no partition table
	lvs      []*LogicalVolume
	lvByPart map[*partition.Partition]*LogicalVolume

	pkgOnce sync.Once
	pkgs    *pkgdb.Inventory
	pkgErr  error

	hivesOnce sync.Once
	hives     *windows.Hives

	memo  sync.Map
	trees sync.Map // *partition.Partition => *filesystem.Tree (PartitionTree)
}

// Memo returns what fn computes for key, computed once per image: facts that several rules
// derive from the same bytes (an initramfs's listing) are read once.
func (img *Image) Memo(key string, fn func() any) any {
	if v, ok := img.memo.Load(key); ok {
		return v
	}
	v, _ := img.memo.LoadOrStore(key, fn())
	return v
}

// UnreadPartition is a partition whose files cannot be read offline, and why.
type UnreadPartition struct {
	Partition *partition.Partition
	Reason    string
}

// UnreadArea is a part of the image file outside the disk it presents that holds what a disk
// holds, and that this checker does not read: an internal snapshot of a qcow2 image (the disk as
// it was when the snapshot was taken, which qemu-img snapshot -a restores).
type UnreadArea struct {
	Name   string // "qcow2 internal snapshot 1 \"before-cleanup\""
	Reason string
}

// Mount is a filesystem placed in the tree by an fstab line, or (FstabLine 0) by its GPT type
// as systemd-gpt-auto-generator would mount it (Spec says so).
type Mount struct {
	Path      string
	Spec      string
	FstabLine int
	Partition *partition.Partition
}

// Partition type identifiers of the Discoverable Partitions Specification (and their MBR
// equivalents) for the partitions a boot loader reads.
const (
	GPTTypeESP      = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	GPTTypeXBOOTLDR = "BC13C2FF-59E6-4262-A352-B275FD6F7172"
	mbrTypeESP      = "0xef"
	mbrTypeXBOOTLDR = "0xea"
)

// BootRole says what a boot partition is.
type BootRole string

const (
	RoleESP      BootRole = "ESP"
	RoleXBOOTLDR BootRole = "XBOOTLDR"
)

// BootPartition is an EFI system or extended boot loader partition with a readable filesystem.
type BootPartition struct {
	Role      BootRole
	Partition *partition.Partition
	Tree      *filesystem.Tree // the partition's own filesystem, rooted at its top
	MountedAt string           // where the root's view has it ("" when Linux does not mount it)
}

// Where names an in-partition path the way reports name files: under its mount point when
// Linux mounts the partition, else "partition N:/path" (as the content scan names it).
func (b BootPartition) Where(p string) string {
	p = path.Clean("/" + p)
	if b.MountedAt != "" {
		return path.Join(b.MountedAt, p)
	}
	return fmt.Sprintf("partition %d:%s", b.Partition.Number, p)
}

// BootRoleOf says whether p is an ESP or an XBOOTLDR by its partition type.
func BootRoleOf(p *partition.Partition) (BootRole, bool) {
	switch {
	case strings.EqualFold(p.TypeID, GPTTypeESP) || p.Table == "mbr" && p.TypeID == mbrTypeESP:
		return RoleESP, true
	case strings.EqualFold(p.TypeID, GPTTypeXBOOTLDR) || p.Table == "mbr" && p.TypeID == mbrTypeXBOOTLDR:
		return RoleXBOOTLDR, true
	}
	return "", false
}

// maxConfigBytes bounds config files read whole by the inspector and the rules.
const maxConfigBytes = 8 << 20

// Open opens the image file at path. The caller must Close the result.
func Open(path string) (*Image, error) {
	d, err := image.Open(path)
	if err != nil {
		return nil, err
	}
	img, err := FromDisk(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return img, nil
}

// Close releases the image file.
func (img *Image) Close() error { return img.Disk.Close() }

// FromDisk inspects an already opened virtual disk.
func FromDisk(d *image.Disk) (*Image, error) {
	img := &Image{Source: d.Name, Disk: d, volumes: map[*partition.Partition]filesystem.Volume{}}
	t, err := partition.Read(d.Name, d, d.Size())
	if err != nil {
		return nil, err
	}
	img.Table = t
	if t.Scheme == "none" && len(t.Partitions) == 1 && t.Partitions[0].Kind == partition.KindUnknown {
		return nil, &NotDiskImageError{Name: d.Name, Format: d.Format, Size: d.Size()}
	}
	var pvs []*partition.Partition
	for _, p := range t.Partitions {
		if p.Kind == partition.KindLVM {
			pvs = append(pvs, p) // read with the other PVs of its VG, below
			continue
		}
		v, err := openVolume(d, p)
		if err != nil {
			return nil, err
		}
		if v != nil {
			img.volumes[p] = v
		} else if p.Kind == partition.KindBitLocker || p.Kind == partition.KindLUKS {
			img.Notes = append(img.Notes, fmt.Sprintf("partition %d is encrypted (%s); its files cannot be checked offline", p.Number, p.Kind))
			img.Unread = append(img.Unread, UnreadPartition{p, fmt.Sprintf("encrypted (%s): its files cannot be read offline", p.Kind)})
		} else if p.Kind.IsFilesystem() {
			img.Notes = append(img.Notes, fmt.Sprintf("partition %d holds %s, which is identified but whose files are not read", p.Number, p.Kind))
			img.Unread = append(img.Unread, UnreadPartition{p, fmt.Sprintf("%s: identified, but its files are not read by this checker", p.Kind)})
		} else if reason := unreadBytes(d, p); reason != "" {
			img.Notes = append(img.Notes, fmt.Sprintf("partition %d %s", p.Number, reason))
			img.Unread = append(img.Unread, UnreadPartition{p, reason})
		}
	}
	img.readLVM(d, pvs)
	for _, s := range d.Snapshots {
		a := UnreadArea{Name: s.Label(), Reason: snapshotReason(d, s)}
		img.Notes = append(img.Notes, a.Name+": "+a.Reason)
		img.UnreadAreas = append(img.UnreadAreas, a)
	}
	if err := img.findRoot(); err != nil {
		return nil, err
	}
	img.findBoot()
	img.findWindows()
	return img, nil
}

// NotDiskImageError is an image with no partition table whose content is no filesystem either
// (a file of random bytes, a document, an archive): there is nothing to check, and rules run on
// it would only report that they could not run. Error does not repeat Name: callers say which
// file they opened.
type NotDiskImageError struct {
	Name   string
	Format string // the container the bytes were found in ("raw" when none was recognised)
	Size   int64  // the size of the disk the container presents
}

func (e *NotDiskImageError) Error() string {
	if e.Format == "" || e.Format == "raw" {
		return fmt.Sprintf("not a disk image: no partition table, no filesystem and no known container format (qcow2, VHD, VHDX, VMDK) in its %d bytes", e.Size)
	}
	return fmt.Sprintf("not a disk image: its %s container holds %d bytes with no partition table and no filesystem", e.Format, e.Size)
}

func partName(d *image.Disk, p *partition.Partition) string {
	if p.Number == 0 {
		return fmt.Sprintf("%s (%s)", d.Name, p.Kind)
	}
	return fmt.Sprintf("%s partition %d (%s)", d.Name, p.Number, p.Kind)
}

func openVolume(d *image.Disk, p *partition.Partition) (filesystem.Volume, error) {
	return openVolumeOn(partName(d, p), p.ReaderAt(d), p)
}

// openVolumeOn opens the filesystem p.Kind names on r, p.Size bytes (a partition's, or an LVM
// logical volume's); nil when this checker reads no such filesystem.
func openVolumeOn(name string, r io.ReaderAt, p *partition.Partition) (filesystem.Volume, error) {
	switch p.Kind {
	case partition.KindExt2, partition.KindExt3, partition.KindExt4:
		return ext4.Open(name, r, p.Size)
	case partition.KindXFS:
		return xfs.Open(name, r, p.Size)
	case partition.KindVFAT:
		return vfat.Open(name, r, p.Size)
	case partition.KindNTFS:
		return ntfs.Open(name, r, p.Size)
	}
	return nil, nil
}

// RootCandidate is a filesystem that could be the Linux root: it holds /etc. Tree is its view
// with its own /etc/fstab's mounts applied (Mounts), as the system would see it were it the root.
type RootCandidate struct {
	Partition *partition.Partition
	Tree      *filesystem.Tree
	Mounts    []Mount
	// SelfMounting says its fstab mounts it on /.
	SelfMounting bool
}

// RootDecider chooses the root that boots when several filesystems hold /etc. inspect only lists
// the candidates: the decision is the boot chain's (which loader boots, its default entry and the
// root= that entry passes), read by a fact layer above this package, which sets RootDecider when
// it is linked in (internal/facts/boot does, in its init). It returns the candidate chosen and
// why, or an error naming the candidates when the boot chain does not decide.
var RootDecider func(img *Image, cands []RootCandidate) (chosen *RootCandidate, why string, err error)

// AmbiguousRootError says several filesystems could be the root and nothing decides which boots.
type AmbiguousRootError struct {
	Candidates []*partition.Partition
	Reason     string
}

func (e *AmbiguousRootError) Error() string {
	var names []string
	for _, p := range e.Candidates {
		names = append(names, PartitionName(p))
	}
	return fmt.Sprintf("%d filesystems could be the Linux root (%s hold /etc) and %s: which one boots is unknown, so nothing read from the root is judged",
		len(e.Candidates), strings.Join(names, " and "), e.Reason)
}

// PartitionTree returns the filesystem of partition p alone (nothing mounted on it), nil when
// it is not readable. It is made once per partition, so that its readers share what it has
// read of the directories.
func (img *Image) PartitionTree(p *partition.Partition) *filesystem.Tree {
	v, ok := img.volumes[p]
	if !ok {
		return nil
	}
	t, _ := img.trees.LoadOrStore(p, filesystem.NewTree(v))
	return t.(*filesystem.Tree)
}

// findRoot lists the partitions that hold /etc, each with its own fstab's mounts applied. One
// is the root. Of several, the booted one is the one the boot chain's root= names, as
// RootDecider decides; when it does not decide (or no decider is linked in) the root is
// unknown: Root stays nil and RootErr names the candidates (rules that read the root error).
func (img *Image) findRoot() error {
	for _, p := range img.allPartitions() {
		v, ok := img.volumes[p]
		if !ok {
			continue
		}
		tree := filesystem.NewTree(v)
		st, err := tree.Stat("etc")
		if err != nil || !st.IsDir() {
			continue
		}
		c := RootCandidate{Partition: p, Tree: tree}
		var fstab []sysconf.FstabEntry
		if data, err := tree.ReadFile("etc/fstab", maxConfigBytes); err == nil {
			var err error
			// a line over the reader's bound is not read: the mounts it names are unknown here
			// (the rules that read fstab error on it themselves)
			if fstab, err = sysconf.ReadFstab(data); err != nil {
				img.Notes = append(img.Notes, fmt.Sprintf("%s: /etc/fstab: %v; the mounts it names are not known", PartitionName(p), err))
			}
			for _, e := range fstab {
				if e.Path == "/" && img.matches(e.Spec, p) {
					c.SelfMounting = true
				}
			}
		}
		c.Mounts = img.mountFstab(tree, fstab)
		img.RootCandidates = append(img.RootCandidates, c)
	}
	cands := img.RootCandidates
	if len(cands) == 0 {
		return nil
	}
	best := &cands[0]
	if len(cands) > 1 {
		var parts []*partition.Partition
		for _, c := range cands {
			parts = append(parts, c.Partition)
		}
		if RootDecider == nil {
			img.RootErr = &AmbiguousRootError{Candidates: parts, Reason: "no boot-chain reader is linked in to decide"}
		} else {
			chosen, why, err := RootDecider(img, cands)
			if err != nil {
				img.RootErr = err
			} else {
				best = chosen
				img.Notes = append(img.Notes, fmt.Sprintf("%d filesystems hold /etc; %s is the root: %s", len(cands), PartitionName(best.Partition), why))
			}
		}
		if img.RootErr != nil {
			img.Notes = append(img.Notes, img.RootErr.Error())
			return nil
		}
	}
	img.Root, img.RootPartition, img.Mounts = best.Tree, best.Partition, best.Mounts
	return nil
}

// mountFstab mounts on tree the filesystems of the image that fstab's lines name.
func (img *Image) mountFstab(tree *filesystem.Tree, fstab []sysconf.FstabEntry) []Mount {
	var mounts []Mount
	for _, e := range fstab {
		if e.IsSwap() || e.Path == "/" || !strings.HasPrefix(e.Path, "/") || e.HasOption("bind") {
			continue
		}
		var target *partition.Partition
		for _, p := range img.allPartitions() {
			if img.matches(e.Spec, p) {
				target = p
				break
			}
		}
		if target == nil {
			continue
		}
		v, ok := img.volumes[target]
		if !ok {
			continue // already noted as identified but not read
		}
		tree.Mount(path.Clean(e.Path), v)
		mounts = append(mounts, Mount{Path: path.Clean(e.Path), Spec: e.Spec, FstabLine: e.Line, Partition: target})
	}
	return mounts
}

// findBoot lists the ESPs and XBOOTLDR partitions. On a GPT disk, one that no fstab line
// mounts is placed where systemd-gpt-auto-generator mounts it (systemd 252): the XBOOTLDR on
// /boot, the ESP on /efi when the root has that directory, else on /boot when there is no
// XBOOTLDR; never over a directory that is not empty or an fstab mount point.
func (img *Image) findBoot() {
	mounted := map[*partition.Partition]string{}
	fstabPaths := map[string]bool{}
	for _, m := range img.Mounts {
		mounted[m.Partition], fstabPaths[m.Path] = m.Path, true
	}
	hasXBOOTLDR := false
	for _, p := range img.Table.Partitions {
		if r, ok := BootRoleOf(p); ok && r == RoleXBOOTLDR {
			hasXBOOTLDR = true
		}
	}
	free := func(dir string) bool {
		if img.Root == nil || fstabPaths[dir] {
			return false
		}
		ents, err := img.Root.ReadDir(strings.TrimPrefix(dir, "/"))
		return err == nil && len(ents) == 0 || errors.Is(err, fs.ErrNotExist)
	}
	exists := func(dir string) bool {
		if img.Root == nil {
			return false
		}
		st, err := img.Root.Stat(strings.TrimPrefix(dir, "/"))
		return err == nil && st.IsDir()
	}
	for _, order := range []BootRole{RoleXBOOTLDR, RoleESP} {
		for _, p := range img.Table.Partitions {
			role, ok := BootRoleOf(p)
			v, readable := img.volumes[p]
			if !ok || role != order || !readable {
				continue
			}
			b := BootPartition{Role: role, Partition: p, Tree: img.PartitionTree(p), MountedAt: mounted[p]}
			if b.MountedAt == "" && p.Table == "gpt" && img.Root != nil {
				at := ""
				switch {
				case role == RoleXBOOTLDR:
					at = "/boot"
				case exists("/efi"):
					at = "/efi"
				case !hasXBOOTLDR:
					at = "/boot"
				}
				if at != "" && free(at) {
					img.Root.Mount(at, v)
					img.Mounts = append(img.Mounts, Mount{Path: at, Spec: "GPT type " + string(role) + " (Discoverable Partitions)", Partition: p})
					fstabPaths[at], b.MountedAt = true, at
				}
			}
			img.Boot = append(img.Boot, b)
		}
	}
}

// findWindows picks the first NTFS volume that holds the SYSTEM hive.
func (img *Image) findWindows() {
	for _, p := range img.allPartitions() {
		v, ok := img.volumes[p]
		if !ok || p.Kind != partition.KindNTFS {
			continue
		}
		if t := filesystem.NewTree(v); windows.IsWindows(t) {
			img.Windows, img.WindowsPartition = t, p
			return
		}
	}
}

// ErrNoWindows means no readable NTFS volume holds a Windows installation.
var ErrNoWindows = errors.New(`no Windows system volume found (no readable NTFS partition holds Windows\System32\config\SYSTEM)`)

// Hives returns the Windows volume's SOFTWARE, SYSTEM and SAM hives (opened once); a hive that
// cannot be opened is nil, with its error in Errs.
func (img *Image) Hives() (*windows.Hives, error) {
	if img.Windows == nil {
		return nil, ErrNoWindows
	}
	img.hivesOnce.Do(func() { img.hives = windows.OpenHives(img.Windows) })
	return img.hives, nil
}

var devPartRe = regexp.MustCompile(`^/dev/(?:[shv]d[a-z]|xvd[a-z])(\d+)$|^/dev/(?:nvme\d+n\d+|mmcblk\d+|loop\d+)p(\d+)$`)

// Resolve returns the partition a device spec (root= or an fstab field: UUID=, LABEL=,
// PARTUUID=, PARTLABEL=, /dev/disk/by-*, or a device name) names in this image, nil when none.
func (img *Image) Resolve(spec string) *partition.Partition {
	if img.Table == nil {
		return nil
	}
	for _, p := range img.allPartitions() {
		if img.matches(spec, p) {
			return p
		}
	}
	return nil
}

// matches reports whether an fstab device spec names partition p.
func (img *Image) matches(spec string, p *partition.Partition) bool {
	if lv := img.lvOf(p); lv != nil {
		return lv.matches(spec)
	}
	eq := strings.EqualFold
	key, val, ok := strings.Cut(spec, "=")
	if ok {
		val = strings.Trim(val, `"`)
		// the tag names are case-sensitive, as libmount, the kernel and the initramfs read them:
		// uuid=… names no device
		switch key {
		case "UUID":
			return p.FSUUID != "" && eq(val, p.FSUUID)
		case "LABEL":
			return p.FSLabel != "" && val == p.FSLabel
		case "PARTUUID":
			return p.UUID != "" && eq(val, p.UUID)
		case "PARTLABEL":
			return p.Name != "" && val == p.Name
		}
		return false
	}
	switch {
	case strings.HasPrefix(spec, "/dev/disk/by-uuid/"):
		return p.FSUUID != "" && eq(strings.TrimPrefix(spec, "/dev/disk/by-uuid/"), p.FSUUID)
	case strings.HasPrefix(spec, "/dev/disk/by-label/"):
		return p.FSLabel != "" && strings.TrimPrefix(spec, "/dev/disk/by-label/") == p.FSLabel
	case strings.HasPrefix(spec, "/dev/disk/by-partuuid/"):
		return p.UUID != "" && eq(strings.TrimPrefix(spec, "/dev/disk/by-partuuid/"), p.UUID)
	}
	if m := devPartRe.FindStringSubmatch(spec); m != nil {
		n, _ := strconv.Atoi(m[1] + m[2])
		return n == p.Number
	}
	return false
}

// Packages returns the image's package inventory (read once).
func (img *Image) Packages() (*pkgdb.Inventory, error) {
	img.pkgOnce.Do(func() {
		if img.Root == nil {
			img.pkgErr = ErrNoLinuxRoot
			if img.RootErr != nil {
				img.pkgErr = img.RootErr
			}
			return
		}
		img.pkgs, img.pkgErr = pkgdb.Read(img.Root)
	})
	return img.pkgs, img.pkgErr
}

// ErrNoLinuxRoot means no readable filesystem with /etc was found.
var ErrNoLinuxRoot = errors.New("no Linux root filesystem found (no readable ext2/3/4 or XFS partition holds /etc)")

// ReadFile reads a whole in-image file of at most maxConfigBytes. p may start with "/".
func (img *Image) ReadFile(p string) ([]byte, error) {
	if img.Root == nil && img.RootErr != nil {
		return nil, img.RootErr
	}
	if img.Root == nil {
		return nil, ErrNoLinuxRoot
	}
	return img.Root.ReadFile(strings.TrimPrefix(p, "/"), maxConfigBytes)
}

// Filesystem is one readable filesystem of the image, alone: its Tree has nothing mounted on
// it, so that a pass over every file sees each filesystem once and whole, files that a mount
// point hides included.
type Filesystem struct {
	Tree      *filesystem.Tree
	Volume    filesystem.Volume
	Partition *partition.Partition
	// Prefix is how the files' own locations start: "/" for the root filesystem, "C:/" for the
	// Windows volume (when no Linux root mounts it), "partition N:/" for any other
	// ("partition N LV VG/LV:/" for one on an LVM logical volume).
	Prefix string
	// LV is "VG/LV" for a filesystem on an LVM logical volume (Partition then stands for the
	// LV, see LogicalVolume); "" for a partition's.
	LV string
	// MountedAt is where the running system sees this filesystem: "/" for the root, the
	// mount point fstab (or the GPT type) gives it, "" when nothing mounts it.
	MountedAt string
	// Root is set for the Linux root filesystem.
	Root bool
}

// Label names the filesystem for the content ledger: "partition 2 (ext4, mounted at /boot)".
func (f Filesystem) Label() string {
	kind, where := "", "not mounted"
	if f.Partition != nil {
		kind = string(f.Partition.Kind) + ", "
	}
	switch {
	case f.Root:
		where = "the root filesystem"
	case f.Prefix == "C:/":
		where = "the Windows volume"
	case f.MountedAt != "":
		where = "mounted at " + f.MountedAt
	}
	if f.Partition == nil {
		return strings.TrimSuffix(kind, ", ") + where
	}
	if f.Partition.Number == 0 && !isLVPartition(f.Partition) {
		return fmt.Sprintf("whole disk (%s%s)", kind, where)
	}
	return fmt.Sprintf("%s (%s%s)", PartitionName(f.Partition), kind, where)
}

// Filesystems lists the readable filesystems, each alone: the Linux root first, then the
// Windows volume, then the others by partition number.
func (img *Image) Filesystems() []Filesystem {
	var out []Filesystem
	listed := map[*partition.Partition]bool{}
	mountedAt := map[*partition.Partition]string{}
	for _, m := range img.Mounts {
		if _, ok := mountedAt[m.Partition]; !ok {
			mountedAt[m.Partition] = m.Path
		}
	}
	if img.Root != nil {
		if v, ok := img.volumes[img.RootPartition]; ok {
			out = append(out, Filesystem{Tree: filesystem.NewTree(v), Volume: v, Partition: img.RootPartition, Prefix: "/", MountedAt: "/", Root: true, LV: img.lvName(img.RootPartition)})
			listed[img.RootPartition] = true
		}
	}
	if img.Windows != nil && !listed[img.WindowsPartition] && mountedAt[img.WindowsPartition] == "" {
		v := img.volumes[img.WindowsPartition]
		out = append(out, Filesystem{Tree: filesystem.NewTree(v), Volume: v, Partition: img.WindowsPartition, Prefix: "C:/"})
		listed[img.WindowsPartition] = true
	}
	for _, p := range img.allPartitions() {
		if v, ok := img.volumes[p]; ok && !listed[p] {
			out = append(out, Filesystem{Tree: filesystem.NewTree(v), Volume: v, Partition: p,
				Prefix: PartitionName(p) + ":/", MountedAt: mountedAt[p], LV: img.lvName(p)})
			listed[p] = true
		}
	}
	return out
}

// Location is where a file of f (p: its path in f, without a leading "/") really lives: f's
// Prefix and p. Allow lists and the package-digest skip match it.
func (f Filesystem) Location(p string) string { return f.Prefix + strings.TrimPrefix(p, "/") }

// SeenAs names a file of f (p: its path in f) the way a user of the running system finds it:
// its path under f's mount point when that is where the system sees it; otherwise (f is not
// mounted, or a mount point of another filesystem hides the file) its partition and its path
// in the partition, "partition N:/p", so that findings in hidden files can be found and are
// never confused with the file that covers them. hidden says a mount point covers it.
//
// A name whose bytes are not UTF-8 (a Latin-1 "café" on ext4: names are bytes) is given whole
// in Go's double-quoted form (NameBytes), its bytes escaped, so that reports (JSON turns such
// bytes into U+FFFD) name it unambiguously.
func (img *Image) SeenAs(f Filesystem, p string) (name string, hidden bool) {
	name, hidden = img.seenAs(f, p)
	return NameBytes(name), hidden
}

// NameBytes is name when it is valid UTF-8, else name in Go's double-quoted form
// (strconv.Quote: `"/srv/caf\xe9.txt"`): no path of the image starts with a double quote (they
// start with "/", "C:/" or "partition N:/"), so a quoted name is never mistaken for a name as
// it is, and its bytes can be read back with strconv.Unquote.
func NameBytes(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	return strconv.Quote(name)
}

func (img *Image) seenAs(f Filesystem, p string) (name string, hidden bool) {
	p = strings.TrimPrefix(p, "/")
	if f.MountedAt == "" {
		return f.Location(p), false
	}
	full := path.Join(f.MountedAt, p)
	// the deepest mount point at or above full is the filesystem the system shows there
	best := "/"
	for _, m := range img.Mounts {
		if len(m.Path) > len(best) && (full == m.Path || strings.HasPrefix(full, m.Path+"/")) {
			best = m.Path
		}
	}
	if best == f.MountedAt {
		return full, false
	}
	where := "partition 0"
	if f.Partition != nil {
		where = PartitionName(f.Partition)
	}
	return fmt.Sprintf("%s:/%s", where, p), true
}

// BootKernel is the release of the newest kernel in /boot (vmlinuz-RELEASE), the one a default
// boot configuration starts; "" when there is none.
func (img *Image) BootKernel() string {
	if img.Root == nil {
		return ""
	}
	ents, err := img.Root.ReadDir("boot")
	if err != nil {
		return ""
	}
	best := ""
	for _, e := range ents {
		if v, ok := strings.CutPrefix(e.Name(), "vmlinuz-"); ok && (best == "" || pkgdb.CompareVersions(v, best) > 0) {
			best = v
		}
	}
	return best
}

// OSRelease is what the image's os-release file says of its distribution; fields are empty when
// the file or the key is missing. Err is set when the file could not be read or has a line over
// sysconf's bound (64 KiB): the fields are then empty, and what needs them is unknown (a rule
// that judges the release must ERROR on it, never take it for an unknown distribution).
type OSRelease struct {
	ID, IDLike, Name, VersionID, PrettyName string
	Path                                    string // the file read ("" when neither exists)
	Err                                     error
}

// OSReleaseFiles are read as os-release(5) says: /etc/os-release, else /usr/lib/os-release.
var OSReleaseFiles = []string{"/etc/os-release", "/usr/lib/os-release"}

// OSRelease reads the os-release file, once per image.
func (img *Image) OSRelease() OSRelease {
	return img.Memo("inspect/os-release", func() any { return img.readOSRelease() }).(OSRelease)
}

func (img *Image) readOSRelease() OSRelease {
	var o OSRelease
	if img.Root == nil && img.RootErr == nil {
		return o // no Linux root (a Windows image): no os-release
	}
	var data []byte
	for _, p := range OSReleaseFiles {
		b, err := img.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return OSRelease{Path: p, Err: fmt.Errorf("%s: %w", p, err)}
		}
		data, o.Path = b, p
		break
	}
	if o.Path == "" {
		return o
	}
	vars, err := sysconf.ReadShellVars(data)
	if err != nil {
		return OSRelease{Path: o.Path, Err: fmt.Errorf("%s %w", o.Path, err)}
	}
	for key, field := range map[string]*string{"ID": &o.ID, "ID_LIKE": &o.IDLike, "NAME": &o.Name, "VERSION_ID": &o.VersionID, "PRETTY_NAME": &o.PrettyName} {
		if v, ok := sysconf.Last(vars, key); ok {
			*field = v.Value
		}
	}
	return o
}
