package secrets

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/iso9660"
)

// isoAt says whether the image has an ISO 9660 volume descriptor ("CD001" at byte 1 of
// sector 16, ECMA-119 8.1), the sign the Linux kernel's isofs_fill_super looks for.
func isoAt(ra io.ReaderAt, size int64) bool {
	if size < 17*2048 {
		return false
	}
	var b [6]byte
	n, _ := ra.ReadAt(b[:], 16*2048)
	return n == 6 && b[0] != 0 && string(b[1:6]) == "CD001"
}

// cramfsSuperblock says whether p holds a cramfs superblock at 0 or at 512 (after a boot
// sector): the magic 0x28cd3d45 in either byte order and the signature "Compressed ROMFS" 16
// bytes on (Linux include/uapi/linux/cramfs_fs.h, struct cramfs_super).
func cramfsSuperblock(p []byte) bool {
	for _, at := range []int{0, 512} {
		if len(p) < at+32 {
			return false
		}
		m := binary.LittleEndian.Uint32(p[at:])
		if (m == 0x28cd3d45 || m == 0x453dcd28) && string(p[at+16:at+32]) == "Compressed ROMFS" {
			return true
		}
	}
	return false
}

// openISO searches the files of an ISO 9660 image (a NoCloud cidata seed, an installer) with
// the checker's own reader (internal/filesystem/iso9660), named IMAGE!/PATH, as openDisk does a
// filesystem image's. A zisofs-compressed file, a directory that cannot be read and a file
// outside the image are not seen; bytes past the volume (a partition appended to a hybrid
// image) are searched as a member of their own.
func (w *worker) openISO(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	fs, err := iso9660.Open(name, ra, size)
	if err != nil {
		return err
	}
	files, bad, err := fs.Walk()
	for _, d := range bad {
		u.miss(fmt.Errorf("%s!/%s: directory not read whole: %v", name, d.Path, d.Err))
	}
	if err != nil {
		u.miss(fmt.Errorf("%s: walk stopped: %v", name, err))
	}
	for _, f := range files {
		p := name + "!/" + strings.TrimPrefix(f.Path, "/")
		if f.Size == 0 {
			continue // a Rock Ridge symbolic link has no bytes; one that has them is searched
		}
		if f.Zisofs {
			u.miss(fmt.Errorf("%s: zisofs-compressed (Rock Ridge ZF), which this checker does not decode", p))
			continue
		}
		r, err := fs.Open(f)
		if err != nil {
			u.miss(fmt.Errorf("%s: %v", p, err))
			continue
		}
		if err := w.member(u, p, f.Size, countingReader{io.NewSectionReader(r, 0, f.Size), u}, r, depth); err != nil {
			return err
		}
	}
	if vol := fs.VolumeBytes(); vol > 0 && vol < size {
		tail := io.NewSectionReader(ra, vol, size-vol)
		if err := w.member(u, fmt.Sprintf("%s!/<after the ISO 9660 volume, offset %d>", name, vol), size-vol, tail, tail, depth); err != nil {
			return err
		}
	}
	return nil
}
