package secrets

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

// A unified kernel image (systemd-stub with the kernel, its initramfs and its command line as
// PE sections; /boot/efi/EFI/Linux/*.efi, what ukify and mkosi make) boots with the initramfs
// systemd-stub hands to the kernel: its .ucode section (microcode, systemd 256) and its .initrd,
// and a multi-profile image (systemd 257) has sections of those names for each profile. Every
// section so named is opened as an initramfs file is (the stream of archives it is: an
// uncompressed cpio then a compressed one), its members named FILE!/.initrd!/MEMBER (a second
// section of a name: FILE!/.initrd#2!/MEMBER), after the file's own bytes are searched as any
// binary's are.

// ukiInitrdSection says whether a PE section holds (part of) an initramfs to systemd-stub: one
// of those names, with bytes in memory and in the file.
func ukiInitrdSection(s uki.Section) bool {
	return (strings.HasPrefix(s.Name, ".initrd") || strings.HasPrefix(s.Name, ".ucode")) && s.VirtualSize > 0 && s.RawSize > 0
}

// ukiInitrd says whether head (the file's first bytes; ra and size give the rest) is a PE
// executable with a section holding an initramfs.
func ukiInitrd(head []byte, ra io.ReaderAt, size int64) bool {
	if len(head) < 2 || head[0] != 'M' || head[1] != 'Z' || ra == nil {
		return false
	}
	img, err := uki.Open("", headFirst{head, ra}, size)
	if err != nil {
		return false
	}
	for _, s := range img.Sections {
		if ukiInitrdSection(s) {
			return true
		}
	}
	return false
}

// openUKI searches the unified kernel image at name (size bytes through ra): its bytes, then
// the archives of each of its initramfs sections.
func (w *worker) openUKI(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	if err := w.searchPlain(u, name, size, io.NewSectionReader(ra, 0, size)); err != nil {
		return err
	}
	img, err := uki.Open(name, ra, size)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, s := range img.Sections {
		if !ukiInitrdSection(s) {
			continue
		}
		seen[s.Name]++
		member := name + "!/" + s.Name
		if n := seen[s.Name]; n > 1 {
			member = fmt.Sprintf("%s#%d", member, n)
		}
		if err := u.member(); err != nil {
			return err
		}
		// the stub's size (in memory), of which the file holds RawSize bytes: the loader fills
		// the rest with zeros; the file's bytes past it are padding, searched with the file's own
		br := bufio.NewReaderSize(img.Open(s), 64<<10)
		if err := w.openStream(u, member, br, depth, 0); err != nil {
			if fatal(err) {
				return err
			}
			u.miss(err)
		}
	}
	return nil
}

// headFirst reads from the file's first bytes, already read, when they hold what is asked for
// (a PE file's headers and section table nearly always do): a Windows image has many
// thousands of PE files, each tried for an initramfs section.
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
