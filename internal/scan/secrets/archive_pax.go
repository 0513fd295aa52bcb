package secrets

import (
	"archive/tar"
	"slices"
	"strings"
)

// A tar member's PAX records carry bytes besides its data (issue #24, M5): extended attributes
// (SCHILY.xattr.*, which tar --xattrs restores onto the file), a comment, a vendor's own keys,
// and a global header's records. Each record that is not one the header's own fields are (a
// name, a number, a time) is searched as a file of its own, "ARCHIVE!/MEMBER [pax KEY]", as the
// line "KEY=VALUE" (the key names what the value is, as a config file's would). archive/tar
// bounds a PAX header at 1 MiB.

// paxFieldKeys are the records archive/tar reads into the header's fields (POSIX pax(1)
// "pax Header Block", star's device and inode numbers): names, numbers and times.
var paxFieldKeys = []string{"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime",
	"SCHILY.devmajor", "SCHILY.devminor", "SCHILY.dev", "SCHILY.ino", "SCHILY.nlink", "charset", "hdrcharset"}

func paxCarriesBytes(key string) bool {
	return !slices.Contains(paxFieldKeys, key) && !strings.HasPrefix(key, "GNU.sparse.")
}

// searchPAX searches the records of the tar header h of the archive at name, and the target of
// a link.
func (w *worker) searchPAX(u *unpacking, name string, h *tar.Header) error {
	if len(h.PAXRecords) == 0 && h.Linkname == "" {
		return nil
	}
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		if paxCarriesBytes(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	member := h.Name
	if member == "" {
		member = "<pax global header>"
	}
	for _, k := range keys {
		if err := u.member(); err != nil {
			return err
		}
		if err := w.searchField(u, memberPath(name, member)+" [pax "+k+"]", k+"="+h.PAXRecords[k]+"\n"); err != nil {
			return err
		}
	}
	if h.Linkname != "" && (h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) {
		// the target a link stores, as an ext4 symlink's is: its own text, not run into the
		// header bytes around it (a ustar field, GNU's long-link record, a PAX linkpath)
		return w.searchField(u, memberPath(name, h.Name)+" [link target]", h.Linkname+"\n")
	}
	return nil
}

// holdsText says whether b has a run of at least minFieldText printable ASCII bytes: what a
// credential needs. The extra fields of nearly every zip entry are binary timestamps and ids,
// a few bytes each, and are not searched by themselves (their bytes are, with the directory's).
func holdsText(b []byte) bool {
	run := 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			if run++; run >= minFieldText {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// minFieldText is the shortest text holdsText looks for (an AWS key ID is 20 characters).
const minFieldText = 8

// searchField searches one field of a container's metadata (a PAX record, a link target, a
// zip comment or extra field) as a file of its own, named name: by itself, so that a value
// in it ends where the field ends, not in the bytes the format puts next to it. A field is
// bounded by its format (a tar header's, a zip's 64 KiB) and is not counted as a member.
func (w *worker) searchField(u *unpacking, name, text string) error {
	err := w.searchPlain(u, name, int64(len(text)), strings.NewReader(text))
	if err != nil && fatal(err) {
		return err
	}
	if err != nil {
		u.miss(err)
	}
	return nil
}
