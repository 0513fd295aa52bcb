// Package accounts is an image's accounts as glibc's "files" NSS module reads them
// (sysconf.ParsePasswd, ParseShadow: fewer than seven fields count, UIDs as strtoul reads them,
// a line over the bound an error), and the home directories a login may leave files in.
package accounts

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Facts is the accounts of an image. Each list is nil when its file is absent; an error says
// the file was not read (what the rules that need it judge is unknown).
type Facts struct {
	Passwd          []sysconf.PasswdEntry
	PasswdErr       error
	PasswdExists    bool
	Shadow          []sysconf.ShadowEntry // the password state of each /etc/shadow line
	ShadowErr       error
	ShadowExists    bool
	PasswdPasswords []sysconf.ShadowEntry // the password field of /etc/passwd itself
}

// Of returns the image's accounts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/accounts", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// Read reads /etc/passwd and /etc/shadow.
func Read(src systemd.Source) *Facts {
	f := &Facts{}
	pw, err := src.ReadFile("/etc/passwd")
	switch {
	case err != nil:
		f.PasswdErr = err
	case pw != nil:
		f.PasswdExists = true
		if f.Passwd, err = sysconf.ParsePasswd(pw); err != nil {
			f.PasswdErr = fmt.Errorf("/etc/passwd %w", err)
		} else if f.PasswdPasswords, err = sysconf.ParsePasswdPasswords(pw); err != nil {
			f.PasswdErr = fmt.Errorf("/etc/passwd %w", err)
		}
	}
	sh, err := src.ReadFile("/etc/shadow")
	switch {
	case err != nil:
		f.ShadowErr = err
	case sh != nil:
		f.ShadowExists = true
		if f.Shadow, err = sysconf.ParseShadow(sh); err != nil {
			f.ShadowErr = fmt.Errorf("/etc/shadow %w", err)
		}
	}
	return f
}

// Home is a home directory to look into, and whose it is.
type Home struct {
	User string
	Dir  string
}

// Homes lists /root, every directory under /home, and the home of every account with UID 0,
// UID >= 1000 (but nobody's 65534), or any UID and a shell a session can run in (a UID 998
// account with /bin/bash is as much a login as a human one), existing directories only, without
// duplicates, sorted. stat follows links in the image ((nil, nil) when absent).
func (f *Facts) Homes(stat func(string) (fs.FileInfo, error), readDir func(string) ([]fs.DirEntry, error)) ([]Home, error) {
	if f.PasswdErr != nil {
		return nil, f.PasswdErr
	}
	seen := map[string]bool{}
	var out []Home
	add := func(user, dir string) {
		dir = path.Clean(dir)
		if dir == "/" || dir == "." || seen[dir] {
			return
		}
		if fi, err := stat(dir); err != nil || fi == nil || !fi.IsDir() {
			return
		}
		seen[dir] = true
		out = append(out, Home{user, dir})
	}
	add("root", "/root")
	for _, e := range f.Passwd {
		if e.Compat {
			continue
		}
		if e.UID == 0 || e.UID >= 1000 && e.UID != 65534 || e.CanLogIn() {
			add(e.Name, e.Home)
		}
	}
	ents, err := readDir("/home")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		add(e.Name(), "/home/"+e.Name())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// SudoersFile is a sudoers file sudo reads, with its lines.
type SudoersFile struct {
	Path  string
	Lines []string
}

// Sudoers reads /etc/sudoers and the directories its @includedir (or #includedir) lines name,
// every file in them (stricter than sudo, which skips names with a '.' or ending in '~').
// A file or directory that could not be read is an error naming it.
func Sudoers(src systemd.Source) ([]SudoersFile, error) {
	main, err := src.ReadFile("/etc/sudoers")
	if err != nil {
		return nil, fmt.Errorf("/etc/sudoers: %w", err)
	}
	files := []string{"/etc/sudoers"}
	for _, l := range strings.Split(string(main), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && (f[0] == "@includedir" || f[0] == "#includedir") {
			more, err := src.Glob(strings.TrimSuffix(f[1], "/") + "/*")
			if err != nil {
				return nil, err
			}
			files = append(files, more...)
		}
	}
	var out []SudoersFile
	for _, p := range files {
		data := main
		if p != "/etc/sudoers" {
			if data, err = src.ReadFile(p); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		out = append(out, SudoersFile{Path: p, Lines: strings.Split(string(data), "\n")})
	}
	return out, nil
}
