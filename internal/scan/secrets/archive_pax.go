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

// searchPAX searches the records of the tar header h of the archive at name.
func (w *worker) searchPAX(u *unpacking, name string, h *tar.Header) error {
	if len(h.PAXRecords) == 0 {
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
		line := k + "=" + h.PAXRecords[k] + "\n"
		err := w.searchPlain(u, memberPath(name, member)+" [pax "+k+"]", int64(len(line)), strings.NewReader(line))
		if err != nil {
			if fatal(err) {
				return err
			}
			u.miss(err)
		}
	}
	return nil
}
