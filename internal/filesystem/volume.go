// Package fs presents the filesystems found in a disk image as one read-only io/fs.FS,
// mounted as the image's /etc/fstab says. Paths and symlinks resolve inside the image, never
// on the host. Each filesystem reader (ext4, xfs) implements Volume; the path walk lives here once.
package filesystem

import (
	"io"
	"io/fs"
	"time"
)

// Inode is the metadata of one file.
type Inode struct {
	Ino     uint64
	Mode    fs.FileMode
	Size    int64
	UID     uint32
	GID     uint32
	Nlink   uint32
	ModTime time.Time
}

// Dirent is one directory entry; Type holds only the type bits of the mode.
type Dirent struct {
	Name      string
	Ino       uint64
	Type      fs.FileMode
	TypeKnown bool
}

// Volume is one filesystem, addressed by inode number.
type Volume interface {
	// Name identifies the volume in messages, e.g. "disk.qcow2 partition 2 (xfs)".
	Name() string
	Root() uint64
	Inode(ino uint64) (*Inode, error)
	// ReadDir lists a directory without "." and "..".
	ReadDir(ino uint64) ([]Dirent, error)
	Readlink(ino uint64) (string, error)
	// Open returns the contents of a regular file (holes read as zeros).
	Open(ino uint64) (io.ReaderAt, error)
}

// UnixMode converts a POSIX st_mode to an io/fs FileMode.
func UnixMode(m uint32) fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	switch m & 0o170000 {
	case 0o040000:
		fm |= fs.ModeDir
	case 0o120000:
		fm |= fs.ModeSymlink
	case 0o020000:
		fm |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		fm |= fs.ModeDevice
	case 0o010000:
		fm |= fs.ModeNamedPipe
	case 0o140000:
		fm |= fs.ModeSocket
	case 0o100000:
	default:
		fm |= fs.ModeIrregular
	}
	if m&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

// FileModeType is the type part of an io/fs FileMode, re-exported so that filesystem readers
// can name the types without importing io/fs under another name.
type FileModeType = fs.FileMode

// Type bits, for filesystem readers.
const (
	ModeDir        = fs.ModeDir
	ModeSymlink    = fs.ModeSymlink
	ModeDevice     = fs.ModeDevice
	ModeCharDevice = fs.ModeDevice | fs.ModeCharDevice
	ModeNamedPipe  = fs.ModeNamedPipe
	ModeSocket     = fs.ModeSocket
)

// DirentType maps the file-type byte that ext4 and XFS store in directory entries (the same
// numbering as Linux's DT_ values shifted: 1 regular, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 lnk).
func DirentType(t uint8) (fs.FileMode, bool) {
	switch t {
	case 1:
		return 0, true
	case 2:
		return ModeDir, true
	case 3:
		return ModeCharDevice, true
	case 4:
		return ModeDevice, true
	case 5:
		return ModeNamedPipe, true
	case 6:
		return ModeSocket, true
	case 7:
		return ModeSymlink, true
	}
	return 0, false
}
