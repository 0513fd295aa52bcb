package secrets

import (
	"bufio"
	"fmt"
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

// A unified kernel image (systemd-stub with the kernel, its initramfs and its command line as
// PE sections; /boot/efi/EFI/Linux/*.efi, what ukify and mkosi make) boots with the initramfs
// of its .initrd section, which systemd-stub hands to the kernel: that section is opened as an
// initramfs file is (the stream of archives it is, an uncompressed cpio then a compressed
// one), its members named FILE!/.initrd!/MEMBER, after the file's own bytes are searched as
// any binary's are. The section is the one the stub takes (the last of that name, by its
// size in memory, uki.StubSection).

// ukiInitrd says whether head (the file's first bytes; ra and size give the rest) is a PE
// executable with an .initrd section the stub would take.
func ukiInitrd(head []byte, ra io.ReaderAt, size int64) bool {
	if len(head) < 2 || head[0] != 'M' || head[1] != 'Z' || ra == nil {
		return false
	}
	img, err := uki.Open("", headFirst{head, ra}, size)
	if err != nil {
		return false
	}
	s, ok := img.StubSection(".initrd")
	return ok && s.VirtualSize > 0
}

// openUKI searches the unified kernel image at name (size bytes through ra): its bytes, then
// its .initrd section's archives.
func (w *worker) openUKI(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	if err := w.searchPlain(u, name, size, io.NewSectionReader(ra, 0, size)); err != nil {
		return err
	}
	img, err := uki.Open(name, ra, size)
	if err != nil {
		return err
	}
	s, ok := img.StubSection(".initrd")
	if !ok {
		return fmt.Errorf("%s: no .initrd section", name)
	}
	// the stub's size (in memory), of which the file holds RawSize bytes: the loader fills the
	// rest with zeros; the file's bytes past it are padding, searched with the file's own
	n := int64(min(s.VirtualSize, s.RawSize))
	if err := u.member(); err != nil {
		return err
	}
	member := name + "!/.initrd"
	br := bufio.NewReaderSize(io.NewSectionReader(ra, int64(s.Offset), n), 64<<10)
	return w.openStream(u, member, br, depth, 0)
}

// headFirst reads from the file's first bytes, already read, when they hold what is asked for
// (a PE file's headers and section table nearly always do): a Windows image has many
// thousands of PE files, each tried for an .initrd section.
type headFirst struct {
	head []byte
	ra   io.ReaderAt
}

func (h headFirst) ReadAt(p []byte, off int64) (int, error) {
	if off >= 0 && off+int64(len(p)) <= int64(len(h.head)) {
		return copy(p, h.head[off:]), nil
	}
	return h.ra.ReadAt(p, off)
}
