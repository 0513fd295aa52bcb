package ext4

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// fscrypt on ext4 (linux Documentation/filesystems/fscrypt.rst and fs/ext4/crypto.c, v6.6):
// the superblock's INCOMPAT_ENCRYPT feature (0x10000, "encrypt") lets directories be
// encrypted; an encrypted directory's inode carries EXT4_ENCRYPT_FL (0x800) and its
// encryption context in the xattr of index 9 named "c" (ext4_get_context/ext4_set_context).
// A policy set on a directory holds for everything created under it, so the topmost encrypted
// directories name all of them. Their entries' names and their files' contents are
// ciphertext.

// FlagEncrypt is EXT4_ENCRYPT_FL, the inode flag of an fscrypt-encrypted inode.
const FlagEncrypt = flagEncrypt

// FeatureEncrypt is INCOMPAT_ENCRYPT, the superblock feature fscrypt needs on ext4.
const FeatureEncrypt = incompatEncrypt

// HasEncryptFeature reads the superblock of the ext2/3/4 filesystem in r and reports whether
// it has the encrypt feature. name appears in errors.
func HasEncryptFeature(name string, r io.ReaderAt) (bool, error) {
	sb, err := byteio.ReadAt(r, name, superblockOffset, 1024)
	if err != nil {
		return false, err
	}
	if binary.LittleEndian.Uint16(sb[56:]) != magic {
		return false, byteio.Corrupt(name, superblockOffset+56, "no ext2/3/4 superblock magic")
	}
	return binary.LittleEndian.Uint32(sb[96:])&incompatEncrypt != 0, nil
}

// Open reads a filesystem with the encrypt feature as any other: an encrypted inode (a
// directory's entries, a file's content, a symlink's target: all ciphertext) is an error
// naming it when it is read (mapInode, Readlink), so a walk records each encrypted directory
// as not read and the rules that needed what is under it cannot pass.

// InodeFlags returns the inode's i_flags.
func (f *FS) InodeFlags(ino uint64) (uint32, error) {
	ri, err := f.readInode(ino)
	if err != nil {
		return 0, err
	}
	return ri.flags(), nil
}

// EncryptedDirs walks the directory tree from the root, directories only, and returns the
// topmost directories that carry FlagEncrypt (the first max of them met breadth first, sorted
// by path, and how many there are), not descending into them. It reads at most maxDirs directories; more is an
// error naming the filesystem, as is any directory or inode that does not read.
func (f *FS) EncryptedDirs(max, maxDirs int) ([]string, int, error) {
	if fl, err := f.InodeFlags(f.Root()); err != nil {
		return nil, 0, err
	} else if fl&flagEncrypt != 0 {
		return []string{"/"}, 1, nil
	}
	type dir struct {
		ino  uint64
		path string
	}
	queue := []dir{{f.Root(), "/"}}
	seen := map[uint64]bool{f.Root(): true}
	var out []string
	count, read := 0, 0
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if read++; read > maxDirs {
			return out, count, fmt.Errorf("%s: more than %d directories: whether the rest are encrypted (fscrypt) is unknown", f.name, maxDirs)
		}
		ents, err := f.ReadDir(d.ino)
		if err != nil {
			return out, count, fmt.Errorf("%s: directory %s: %w", f.name, d.path, err)
		}
		for _, e := range ents {
			if e.Name == "." || e.Name == ".." || seen[e.Ino] {
				continue
			}
			isDir := e.TypeKnown && e.Type == fs.ModeDir
			if !e.TypeKnown {
				in, err := f.Inode(e.Ino)
				if err != nil {
					return out, count, fmt.Errorf("%s: %s: %w", f.name, path.Join(d.path, e.Name), err)
				}
				isDir = in.Mode.IsDir()
			}
			if !isDir {
				continue
			}
			seen[e.Ino] = true
			p := path.Join(d.path, e.Name)
			fl, err := f.InodeFlags(e.Ino)
			if err != nil {
				return out, count, fmt.Errorf("%s: %s: %w", f.name, p, err)
			}
			if fl&flagEncrypt != 0 {
				count++
				if len(out) < max {
					out = append(out, p)
				}
				continue
			}
			queue = append(queue, dir{e.Ino, p})
		}
	}
	slices.Sort(out)
	return out, count, nil
}
