package filesystem_test

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// exercise walks every entry of v and reads every file and symlink, a bounded amount each.
// Fuzz targets use it to drive a filesystem reader over all of its code paths; it returns the
// first error, which for corrupt input is expected. The walk is prefetched first, as the
// content pass does, so that Prefetch meets every corrupt tree the fuzzers make too.
func exercise(v filesystem.Volume) error {
	t := filesystem.NewTree(v)
	t.Prefetch(context.Background(), "/", 4)
	buf := make([]byte, 16<<10)
	entries := 0
	budget := int64(4 << 20) // bytes of file content read in all, so one input stays cheap
	return t.Walk("/", func(p string, d fs.DirEntry) error {
		entries++
		if entries > 2000 || budget <= 0 {
			return errors.New("enough")
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			_, err := t.ReadLink(p)
			return err
		case d.Type().IsRegular():
			if xv, ok := v.(filesystem.XattrVolume); ok {
				if info, err := d.Info(); err == nil {
					if ino, ok := info.Sys().(*filesystem.Inode); ok {
						xv.Xattrs(ino.Ino) // an error is fine; a panic or a hang is not
					}
				}
			}
			ra, size, err := t.OpenReaderAt(p)
			if err != nil {
				return err
			}
			for off := int64(0); off < min(size, 256<<10) && budget > 0; off += int64(len(buf)) {
				budget -= int64(len(buf))
				if _, err := ra.ReadAt(buf, off); err != nil && err != io.EOF {
					return err
				}
			}
		}
		return nil
	})
}
