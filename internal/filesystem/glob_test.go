package filesystem_test

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// brokenFS fails ReadDir (and Stat below) the directories in bad, as a corrupt directory block does.
type brokenFS struct {
	fstest.MapFS
	bad map[string]bool
}

var errCorrupt = errors.New("directory block checksum mismatch")

func (b brokenFS) broken(name string) bool {
	for p := name; ; p = path.Dir(p) {
		if b.bad[p] && p != name {
			return true
		}
		if p == "." || p == "/" {
			return false
		}
	}
}

func (b brokenFS) Open(name string) (fs.File, error) {
	if b.broken(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errCorrupt}
	}
	return b.MapFS.Open(name)
}

func (b brokenFS) Stat(name string) (fs.FileInfo, error) {
	if b.broken(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: errCorrupt}
	}
	return b.MapFS.Stat(name)
}

func (b brokenFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if b.bad[name] || b.broken(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errCorrupt}
	}
	return b.MapFS.ReadDir(name)
}

func globTree() fstest.MapFS {
	m := fstest.MapFS{}
	for _, p := range []string{
		"etc/ssh/sshd_config", "etc/ssh/sshd_config.d/50-cloud.conf", "etc/ssh/sshd_config.d/60-x.conf",
		"etc/ssh/sshd_config.d/notes.txt", "etc/systemd/system/multi-user.target.wants/ssh.service",
		"etc/systemd/system/sockets.target.wants/x.socket", "etc/systemd/system/local.requires/y.service",
		"etc/rc2.d/S01ssh", "etc/rc3.d/S01ssh", "etc/rc3.d/K01cron", "boot/loader/entries/a.conf",
		"etc/[odd]/f", "plainfile",
	} {
		m[p] = &fstest.MapFile{Data: []byte("x\n")}
	}
	return m
}

var globPatterns = []string{
	"etc/ssh/sshd_config.d/*.conf", "etc/ssh/sshd_config", "etc/ssh/nope", "etc/nope/*.conf",
	"etc/systemd/system/*.wants", "etc/systemd/system/*.wants/*", "etc/rc[2-5].d/S??ssh",
	"etc/rc?.d/*", "*/*/*", "boot/loader/entries/*.conf", "plainfile/*", "etc/\\[odd\\]/f", "*",
}

// With every directory readable, Glob answers exactly what io/fs.Glob answers.
func TestGlobMatchesIOFSGlob(t *testing.T) {
	m := globTree()
	for _, p := range globPatterns {
		want, werr := fs.Glob(m, p)
		got, unread, err := filesystem.Glob(m, p)
		if !slices.Equal(got, want) || (err == nil) != (werr == nil) || len(unread) > 0 {
			t.Errorf("Glob(%q) = %q, %v, %v; io/fs.Glob = %q, %v", p, got, unread, err, want, werr)
		}
	}
	if _, _, err := filesystem.Glob(m, "etc/[/x"); !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("a bad pattern: %v", err)
	}
}

// A directory that cannot be read is named, not taken for an empty one; matches elsewhere stay.
func TestGlobNamesUnreadableDirectories(t *testing.T) {
	b := brokenFS{globTree(), map[string]bool{"etc/ssh/sshd_config.d": true, "etc/rc3.d": true, "etc/systemd": true}}
	for _, c := range []struct {
		pattern string
		want    []string
		unread  []string
	}{
		{"etc/ssh/sshd_config.d/*.conf", nil, []string{"etc/ssh/sshd_config.d"}},
		{"etc/rc[2-5].d/S??ssh", []string{"etc/rc2.d/S01ssh"}, []string{"etc/rc3.d"}},
		{"etc/systemd/system/*.wants", nil, []string{"etc/systemd/system"}},
		{"etc/systemd/system/x.conf", nil, []string{"etc/systemd/system"}},
		{"etc/ssh/sshd_config", []string{"etc/ssh/sshd_config"}, nil},
		{"boot/loader/entries/*.conf", []string{"boot/loader/entries/a.conf"}, nil},
	} {
		got, unread, err := filesystem.Glob(b, c.pattern)
		var names []string
		for _, u := range unread {
			names = append(names, u.Path)
			if !errors.Is(u.Err, errCorrupt) || !strings.Contains(u.Error(), "/"+u.Path) {
				t.Errorf("Glob(%q): unread %v", c.pattern, u)
			}
		}
		if err != nil || !slices.Equal(got, c.want) || !slices.Equal(names, c.unread) {
			t.Errorf("Glob(%q) = %q, unread %q, %v; want %q, unread %q", c.pattern, got, names, err, c.want, c.unread)
		}
	}
}

// Any pattern (an Include line of an image's sshd_config is one): Glob answers what io/fs.Glob
// answers on a readable tree, and never panics.
func FuzzGlob(f *testing.F) {
	for _, p := range globPatterns {
		f.Add(p)
	}
	f.Add("[")
	f.Add("etc/**/x")
	m := globTree()
	f.Fuzz(func(t *testing.T, pattern string) {
		want, werr := fs.Glob(m, pattern)
		got, unread, err := filesystem.Glob(m, pattern)
		if !slices.Equal(got, want) || (err == nil) != (werr == nil) || len(unread) > 0 {
			t.Errorf("Glob(%q) = %q, %v, %v; io/fs.Glob = %q, %v", pattern, got, unread, err, want, werr)
		}
	})
}
