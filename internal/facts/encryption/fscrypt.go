package encryption

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ext4"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// fscrypt-encrypted directories of ext4 filesystems (see internal/filesystem/ext4 fscrypt.go):
// only a filesystem whose superblock has the encrypt feature can hold one, so the superblock
// is read first (1 KiB per filesystem), and only when the feature is set is the directory tree
// walked, directories only, for the topmost ones flagged EXT4_ENCRYPT_FL. The fscrypt tool
// (google/fscrypt, v0.3: cmd/fscrypt setup, actions/config.go and filesystem/filesystem.go)
// writes /etc/fscrypt.conf and a /.fscrypt metadata directory at the root of each filesystem
// it sets up, with a policy file per encrypted directory under /.fscrypt/policies: signs
// that directories were or are to be encrypted, which warn (they may name a filesystem that is
// not in the image).

// Bounds of the walk: directories reported, and directories read per filesystem.
const (
	maxFscryptListed = 8
	maxFscryptDirs   = 1 << 20
)

// FscryptFS is a filesystem with fscrypt-encrypted directories.
type FscryptFS struct {
	Where string   // "partition 2 LV vg0/data"
	Dirs  []string // the first topmost encrypted directories (paths in the filesystem)
	Count int      // how many topmost encrypted directories there are
}

// FscryptSign is a file of the fscrypt tool's: a sign, no proof, of encrypted directories.
type FscryptSign struct {
	Path   string
	Detail string
}

func isExt(k partition.Kind) bool {
	return k == partition.KindExt2 || k == partition.KindExt3 || k == partition.KindExt4
}

// readFscrypt reads every ext2/3/4 filesystem of the image's partitions and LVs.
func readFscrypt(img *inspect.Image, f *Facts) {
	if img.Table == nil {
		return
	}
	type vol struct {
		name string
		r    io.ReaderAt
		size int64
	}
	var vols []vol
	for _, p := range img.Table.Partitions {
		if isExt(p.Kind) {
			vols = append(vols, vol{inspect.PartitionName(p), p.ReaderAt(img.Disk), p.Size})
		}
	}
	for _, lv := range img.LogicalVolumes() {
		if isExt(lv.Partition.Kind) && lv.Reader != nil {
			vols = append(vols, vol{inspect.PartitionName(lv.Partition), lv.Reader, lv.Size})
		}
	}
	for _, v := range vols {
		name := img.Source + " " + v.name
		on, err := ext4.HasEncryptFeature(name, v.r)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: fscrypt: %w", name, err))
			continue
		}
		if !on {
			continue
		}
		fsys, err := ext4.Open(name, v.r, v.size)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: has the ext4 encrypt feature, and its directories could not be read: %w", name, err))
			continue
		}
		dirs, n, err := fsys.EncryptedDirs(maxFscryptListed, maxFscryptDirs)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("has the ext4 encrypt feature: %w", err))
			continue
		}
		f.EncryptFeature = append(f.EncryptFeature, v.name)
		if n > 0 {
			f.Fscrypt = append(f.Fscrypt, FscryptFS{Where: v.name, Dirs: dirs, Count: n})
		}
	}
	if img.Root == nil {
		return
	}
	if fi, err := img.Root.Stat("etc/fscrypt.conf"); err == nil && fi.Mode().IsRegular() {
		f.FscryptSigns = append(f.FscryptSigns, FscryptSign{Path: "/etc/fscrypt.conf", Detail: "the fscrypt tool's configuration (fscrypt setup writes it)"})
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.Problems = append(f.Problems, fmt.Errorf("/etc/fscrypt.conf: %w", err))
	}
	ents, err := img.Root.ReadDir(".fscrypt/policies")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		f.Problems = append(f.Problems, fmt.Errorf("/.fscrypt/policies: %w", err))
	case len(ents) > 0:
		f.FscryptSigns = append(f.FscryptSigns, FscryptSign{Path: "/.fscrypt/policies",
			Detail: fmt.Sprintf("%d fscrypt policy file(s): the fscrypt tool encrypted a directory with each", len(ents))})
	}
}
