package secrets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// openDisk searches the files of a disk or filesystem image stored as a file (a backup, a VM's
// disk left in the image), opened with the checker's own readers: every readable filesystem, its
// files named IMAGE!/PATH (IMAGE!/partition N:/PATH for one the image's root does not mount).
// A partition it cannot read (encrypted, a filesystem it does not read) and a directory it
// cannot walk are not seen. An image recognised only by a weak sign (kind rawDisk) that does not
// open is not one: errNotContainer.
func (w *worker) openDisk(u *unpacking, name string, kind containerKind, ra io.ReaderAt, size int64, depth int) error {
	weak := func(err error) error {
		if kind == rawDisk {
			return errNotContainer
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	d, err := image.New(name, ra, size)
	if err != nil {
		return weak(err)
	}
	img, err := inspect.FromDisk(d)
	if err != nil {
		return weak(err)
	}
	fss := img.Filesystems()
	if len(fss) == 0 && len(img.Unread) == 0 && len(img.UnreadAreas) == 0 {
		return weak(errors.New("no filesystem found"))
	}
	for _, p := range img.Unread {
		u.miss(fmt.Errorf("%s!/partition %d:/: %s", name, p.Partition.Number, p.Reason))
	}
	for _, a := range img.UnreadAreas {
		// a disk state the nested image holds beside the one it presents (a qcow2 snapshot)
		u.miss(fmt.Errorf("%s!/[%s]: %s", name, a.Name, a.Reason))
	}
	for _, f := range fss {
		prefix := name + "!/" + strings.TrimPrefix(f.Prefix, "/")
		if f.Partition != nil && f.Partition.Number == 0 {
			prefix = name + "!/" // a filesystem image: no partition table
		}
		var files []string
		err := f.Tree.Walk("", func(p string, d fs.DirEntry) error {
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		var inc *filesystem.IncompleteWalkError
		if errors.As(err, &inc) {
			for _, d := range inc.Dirs {
				u.miss(fmt.Errorf("%s%s: directory not read: %v", prefix, strings.TrimPrefix(d.Path, "/"), d.Err))
			}
		} else if err != nil {
			u.miss(fmt.Errorf("%s: walk stopped: %v", prefix, err))
		}
		for _, p := range files {
			r, n, err := f.Tree.OpenReaderAt(p)
			if err != nil {
				u.miss(fmt.Errorf("%s%s: %v", prefix, p, err))
				continue
			}
			if n == 0 {
				continue
			}
			if err := w.member(u, prefix+p, n, countingReader{io.NewSectionReader(r, 0, n), u}, r, depth); err != nil {
				return err
			}
		}
	}
	return nil
}
