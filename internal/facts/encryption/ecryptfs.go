package encryption

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/accounts"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// eCryptfs-encrypted directories as ecryptfs-utils sets them up and mounts them
// (ecryptfs-utils 104, src/utils/ecryptfs-setup-private, src/utils/mount.ecryptfs_private.c
// main/fetch_sig/read_config, src/pam_ecryptfs/pam_ecryptfs.c): ecryptfs-setup-private keeps
// the encrypted files of ~/Private in ~/.Private, and its configuration in ~/.ecryptfs: the
// key signature (Private.sig) mount.ecryptfs_private mounts with, the mount point (Private.mnt)
// and the mount passphrase wrapped with the login passphrase (wrapped-passphrase), which
// pam_ecryptfs unwraps at login to mount it (when auto-mount is there). For a whole home
// (ecryptfs-migrate-home, ecryptfs-setup-private --bootstrap) both live under
// /home/.ecryptfs/USER (.Private and .ecryptfs), linked from the home. mount.ecryptfs_private
// also mounts other aliases, each with its ALIAS.sig (and ALIAS.conf). An fstab line of type
// ecryptfs mounts one at boot.

// ECryptfsDir is where ecryptfs-setup-private keeps encrypted homes.
const ECryptfsDir = "/home/.ecryptfs"

// maxECryptfsUsers bounds the entries of /home/.ecryptfs read.
const maxECryptfsUsers = 4096

// ECryptfsSign is a file or fstab line that shows an eCryptfs-encrypted directory.
type ECryptfsSign struct {
	Path   string
	Line   int // of /etc/fstab
	Detail string
}

// eCryptfs files of one user's configuration directory (~/.ecryptfs) and what each shows.
var eCryptfsConfig = []struct{ name, detail string }{
	{"wrapped-passphrase", "an eCryptfs mount passphrase wrapped with the login passphrase (pam_ecryptfs unwraps it at login)"},
	{"Private.mnt", "where ecryptfs-setup-private's encrypted directory is mounted"},
}

func readECryptfs(img *inspect.Image, f *Facts) {
	stat := func(p string) (fs.FileInfo, error) {
		fi, err := img.Root.Stat(rel(p))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return fi, err
	}
	readDir := func(p string) ([]fs.DirEntry, error) {
		ents, err := img.Root.ReadDir(rel(p))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return ents, err
	}
	seen := map[string]bool{} // resolved paths: a home's links into /home/.ecryptfs count once
	add := func(p, detail string) {
		fi, err := stat(p)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
			return
		}
		if fi == nil {
			return
		}
		key := p
		if r, err := img.Root.Resolve(rel(p)); err == nil {
			key = r
		}
		if seen[key] {
			return
		}
		seen[key] = true
		f.ECryptfs = append(f.ECryptfs, ECryptfsSign{Path: p, Detail: detail})
	}
	config := func(dir string) {
		for _, c := range eCryptfsConfig {
			add(path.Join(dir, c.name), c.detail)
		}
		sigs, unread, err := filesystem.Glob(img.Root, globEscape(rel(dir))+"/*.sig")
		if err == nil && len(unread) > 0 {
			err = unread[0]
		}
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s/*.sig: %w", dir, err))
			return
		}
		sort.Strings(sigs)
		for _, s := range sigs {
			alias := strings.TrimSuffix(path.Base(s), ".sig")
			add("/"+s, "the key signature mount.ecryptfs_private mounts the encrypted directory "+alias+" with")
		}
	}
	lower := "the encrypted lower directory of an eCryptfs mount (ecryptfs-setup-private)"

	homes, err := accounts.Of(img).Homes(stat, readDir)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("home directories (eCryptfs): %w", err))
	}
	for _, h := range homes {
		add(path.Join(h.Dir, ".Private"), lower)
		config(path.Join(h.Dir, ".ecryptfs"))
	}
	users, err := readDir(ECryptfsDir)
	switch {
	case err != nil:
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", ECryptfsDir, err))
	case len(users) > maxECryptfsUsers:
		f.Problems = append(f.Problems, fmt.Errorf("%s: more than %d entries", ECryptfsDir, maxECryptfsUsers))
	default:
		for _, u := range users {
			dir := path.Join(ECryptfsDir, u.Name())
			add(path.Join(dir, ".Private"), "the encrypted home of "+u.Name()+" (ecryptfs-migrate-home, ecryptfs-setup-private --bootstrap)")
			config(path.Join(dir, ".ecryptfs"))
		}
	}

	data, err := img.ReadFile("/etc/fstab")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		f.Problems = append(f.Problems, fmt.Errorf("/etc/fstab: %w", err))
	default:
		ents, err := sysconf.ReadFstab(data)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("/etc/fstab: %w", err))
		}
		for _, e := range ents {
			if e.Type == "ecryptfs" {
				f.ECryptfs = append(f.ECryptfs, ECryptfsSign{Path: "/etc/fstab", Line: e.Line, Detail: "mounts " + e.Spec + " on " + e.Path + " as eCryptfs"})
			}
		}
	}
}

// globEscape quotes the pattern characters of a literal path for path.Match.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func rel(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }
