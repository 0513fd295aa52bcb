// Package systemd reads systemd's unit files in an offline image as systemd finds them: the unit
// search path in its order (the first directory holding a name wins; a link to /dev/null masks),
// drop-ins (NAME.d/*.conf, the type's service.d/, every directory, a file name in a more specific
// directory hiding the same name below, applied in file-name order), and the units linked from
// every *.wants/ and *.requires/ directory (what boot starts, vendor directories included).
package systemd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// UnitDirs is systemd's system unit search path (v252, lookup-paths.c) as it exists in an
// offline image, most specific first; /run is usually empty in an image but is read when not.
var UnitDirs = []string{
	"/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
	"/etc/systemd/system", "/etc/systemd/system.attached", "/run/systemd/system", "/run/systemd/system.attached",
	"/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
}

// Setting is one setting of a unit with the file it comes from.
type Setting struct {
	File string
	sysconf.UnitSetting
}

// Unit is a unit as systemd loads it.
type Unit struct {
	Name     string
	Path     string // the file found ("" when no directory has the unit)
	Masked   bool   // linked to /dev/null (or empty): systemd will not start it
	Settings []Setting
	DropIns  []string
}

// Found reports whether a unit file exists and is not masked.
func (u *Unit) Found() bool { return u.Path != "" && !u.Masked }

// Values returns the values of Section/Key in order, an empty assignment resetting the list
// (as systemd resets ExecStart=, Environment=, EnvironmentFile= ...), each with its setting.
func (u *Unit) Values(section, key string) []Setting {
	var out []Setting
	for _, s := range u.Settings {
		if s.Section == section && s.Key == key {
			if s.Value == "" {
				out = out[:0]
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// Source is what the readers need of an image; paths are absolute in-image paths. Lstat and
// ReadFile return (nil, nil) for what does not exist.
type Source struct {
	Lstat    func(p string) (fs.FileInfo, error)
	ReadLink func(p string) (string, error)
	ReadDir  func(p string) ([]fs.DirEntry, error)
	// Glob expands a pattern; a directory it could not read is an error naming it.
	Glob     func(pattern string) ([]string, error)
	ReadFile func(p string) ([]byte, error)
	Read     func(p string) ([]byte, error) // ReadFile with fs.ErrNotExist for a missing file
	// Head reads up to n bytes from the start of a file (symlinks followed) and gives its size;
	// (nil, 0, nil) when it does not exist.
	Head func(p string, n int) ([]byte, int64, error)
}

func head(ra io.ReaderAt, size int64, n int) ([]byte, int64, error) {
	if int64(n) > size {
		n = int(size)
	}
	buf := make([]byte, n)
	got, err := ra.ReadAt(buf, 0)
	if got == n {
		err = nil
	}
	return buf[:got], size, err
}

func rel(p string) string { return strings.TrimPrefix(p, "/") }

// FromImage is the image's root filesystem as a Source; without a root (none found, or the
// root that boots undecided) every read is that error.
func FromImage(img *inspect.Image) Source {
	if img.Root == nil {
		err := img.RootErr
		if err == nil {
			err = inspect.ErrNoLinuxRoot
		}
		return errSource(err)
	}
	return FromTree(img.Root, img.ReadFile)
}

func errSource(err error) Source {
	return Source{
		Lstat:    func(string) (fs.FileInfo, error) { return nil, err },
		ReadLink: func(string) (string, error) { return "", err },
		ReadDir:  func(string) ([]fs.DirEntry, error) { return nil, err },
		Glob:     func(string) ([]string, error) { return nil, err },
		ReadFile: func(string) ([]byte, error) { return nil, err },
		Read:     func(string) ([]byte, error) { return nil, err },
		Head:     func(string, int) ([]byte, int64, error) { return nil, 0, err },
	}
}

// unreadError names the directories a pattern needed and could not read.
func unreadError(pattern string, dirs []filesystem.UnreadDir) error {
	var b strings.Builder
	fmt.Fprintf(&b, "could not read what /%s matches: ", strings.TrimPrefix(pattern, "/"))
	for i, d := range dirs {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(dirs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "directory /%s unreadable (%v)", d.Path, d.Err)
	}
	return errors.New(b.String())
}

// FromTree is a filesystem tree as a Source, read reading a file (the image's bounded reader).
func FromTree(t *filesystem.Tree, read func(string) ([]byte, error)) Source {
	return Source{
		Lstat: func(p string) (fs.FileInfo, error) {
			fi, err := t.Lstat(rel(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return fi, err
		},
		ReadLink: func(p string) (string, error) { return t.ReadLink(rel(p)) },
		ReadDir: func(p string) ([]fs.DirEntry, error) {
			ents, err := t.ReadDir(rel(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return ents, err
		},
		Glob: func(pattern string) ([]string, error) {
			m, unread, err := filesystem.Glob(t, rel(pattern))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pattern, err)
			}
			if len(unread) > 0 {
				return nil, unreadError(pattern, unread)
			}
			for i := range m {
				m[i] = "/" + m[i]
			}
			return m, nil
		},
		ReadFile: func(p string) ([]byte, error) {
			b, err := read(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return b, err
		},
		Read: read,
		Head: func(p string, n int) ([]byte, int64, error) {
			ra, size, err := t.OpenReaderAt(rel(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, 0, nil
			}
			if err != nil {
				return nil, 0, err
			}
			return head(ra, size, n)
		},
	}
}

// maskTarget says whether a unit link points at /dev/null.
func (s Source) maskTarget(p string) (string, bool, error) {
	fi, err := s.Lstat(p)
	if err != nil || fi == nil || fi.Mode()&fs.ModeSymlink == 0 {
		return "", false, err
	}
	t, err := s.ReadLink(p)
	if err != nil {
		return "", false, err
	}
	return t, path.Clean(t) == "/dev/null", nil
}

// LoadUnit finds and parses a unit with its drop-ins. A file that could not be read is an error
// naming it (what it sets is unknown).
func LoadUnit(src Source, name string) (*Unit, error) {
	u := &Unit{Name: name}
	names := []string{name}
	for _, d := range UnitDirs {
		p := d + "/" + name
		fi, err := src.Lstat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if fi == nil {
			continue
		}
		target, masked, err := src.maskTarget(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		u.Path, u.Masked = p, masked
		if target != "" && path.Base(target) != name {
			names = append(names, path.Base(target)) // an alias: its drop-ins apply too
		}
		break
	}
	if u.Path == "" || u.Masked {
		return u, nil
	}
	data, err := src.ReadFile(u.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Path, err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		u.Masked = true // an empty unit file masks as /dev/null does
		return u, nil
	}
	set, err := sysconf.ParseUnit(data)
	if err != nil {
		return nil, fmt.Errorf("%s %w", u.Path, err)
	}
	for _, s := range set {
		u.Settings = append(u.Settings, Setting{File: u.Path, UnitSetting: s})
	}
	// drop-ins: type-wide (service.d), prefix ones (a-.service.d for a-b.service), the unit's own
	dirNames := []string{unitType(name) + ".d"}
	for _, n := range names {
		base := strings.TrimSuffix(n, "."+unitType(n))
		for i := 0; i < len(base); i++ {
			if base[i] == '-' {
				dirNames = append(dirNames, base[:i+1]+"."+unitType(n)+".d")
			}
		}
		dirNames = append(dirNames, n+".d")
	}
	var globs []string
	for _, d := range UnitDirs {
		for _, dn := range dirNames {
			globs = append(globs, d+"/"+dn+"/*.conf")
		}
	}
	dropIns, err := src.Shadowed(globs...)
	if err != nil {
		return nil, err
	}
	for _, p := range dropIns {
		if _, masked, err := src.maskTarget(p); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		} else if masked {
			continue
		}
		data, err := src.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		set, err := sysconf.ParseUnit(data)
		if err != nil {
			return nil, fmt.Errorf("%s %w", p, err)
		}
		u.DropIns = append(u.DropIns, p)
		for _, s := range set {
			u.Settings = append(u.Settings, Setting{File: p, UnitSetting: s})
		}
	}
	return u, nil
}

func unitType(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// WantedLinks returns every unit linked from any *.wants or *.requires directory of any
// directory of the unit search path (vendor ones included: a .swap unit in
// /usr/lib/systemd/system/swap.target.wants/ is started as much as one in /etc), keyed by unit
// name, with every link path that names it.
func WantedLinks(src Source) (map[string][]string, error) {
	out := map[string][]string{}
	for _, base := range UnitDirs {
		var dirs []string
		for _, suffix := range []string{"/*.wants", "/*.requires"} {
			m, err := src.Glob(base + suffix)
			if err != nil {
				return nil, err
			}
			dirs = append(dirs, m...)
		}
		for _, d := range dirs {
			ents, err := src.ReadDir(d)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d, err)
			}
			for _, e := range ents {
				out[e.Name()] = append(out[e.Name()], d+"/"+e.Name())
			}
		}
	}
	return out, nil
}

// EnvironmentFile is one EnvironmentFile= of a unit, read.
type EnvironmentFile struct {
	Setting  Setting
	Path     string
	Optional bool // "-" prefix: a missing file is no error
	Missing  bool
	Vars     []sysconf.Setting
}

// Environment is a unit's environment as systemd builds it for its commands: Environment=
// assignments, then every EnvironmentFile= in order (overriding them), each variable with where
// it was set.
type Environment struct {
	Vars   map[string]string
	Origin map[string]Origin
	Files  []EnvironmentFile
}

// Origin is where a variable of the environment was set.
type Origin struct {
	File string
	Line int
}

// LoadEnvironment reads a unit's Environment= and EnvironmentFile= settings. A non-optional file
// that is missing makes systemd refuse to start the unit: Missing says so (the caller judges).
func LoadEnvironment(src Source, u *Unit) (*Environment, error) {
	env := &Environment{Vars: map[string]string{}, Origin: map[string]Origin{}}
	for _, s := range u.Values("Service", "Environment") {
		rest := s.Value
		for {
			w, r, ok, err := sysconf.ExecWord(rest)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: Environment=: %w", s.File, s.Line, err)
			}
			if !ok {
				break
			}
			rest = r
			if k, v, ok := strings.Cut(w, "="); ok && k != "" {
				env.Vars[k], env.Origin[k] = v, Origin{s.File, s.Line}
			}
		}
	}
	for _, s := range u.Values("Service", "EnvironmentFile") {
		p, optional := strings.CutPrefix(s.Value, "-")
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := src.Glob(p)
			if err != nil {
				return nil, err
			}
			matches = m
		}
		for _, m := range matches {
			f := EnvironmentFile{Setting: s, Path: m, Optional: optional}
			data, err := src.ReadFile(m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			if data == nil {
				f.Missing = true
				env.Files = append(env.Files, f)
				continue
			}
			vars, err := sysconf.ParseEnvFile(data)
			if err != nil {
				return nil, fmt.Errorf("%s %w", m, err)
			}
			f.Vars = vars
			for _, v := range vars {
				env.Vars[v.Key], env.Origin[v.Key] = v.Value, Origin{m, v.Line}
			}
			env.Files = append(env.Files, f)
		}
	}
	return env, nil
}

// FromDir is a host directory as a Source (for tests and the differential ones): in-image paths
// are under root; links are read as they are (relative ones stay inside).
func FromDir(root string) Source {
	host := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	read := func(p string) ([]byte, error) { return os.ReadFile(host(p)) }
	return Source{
		Lstat: func(p string) (fs.FileInfo, error) {
			fi, err := os.Lstat(host(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return fi, err
		},
		ReadLink: func(p string) (string, error) { return os.Readlink(host(p)) },
		ReadDir: func(p string) ([]fs.DirEntry, error) {
			ents, err := os.ReadDir(host(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return ents, err
		},
		Glob: func(pattern string) ([]string, error) {
			m, err := filepath.Glob(host(pattern))
			if err != nil {
				return nil, err
			}
			for i := range m {
				m[i] = "/" + filepath.ToSlash(strings.TrimPrefix(strings.TrimPrefix(m[i], root), "/"))
			}
			return m, nil
		},
		ReadFile: func(p string) ([]byte, error) {
			b, err := read(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return b, err
		},
		Read: read,
		Head: func(p string, n int) ([]byte, int64, error) {
			f, err := os.Open(host(p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, 0, nil
			}
			if err != nil {
				return nil, 0, err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return nil, 0, err
			}
			return head(f, fi.Size(), n)
		},
	}
}

// Shadowed lists the files the glob patterns match, given from the most specific place to the
// least (/etc before /run before /usr/lib), in lexical order of their base names, a name found
// by an earlier pattern shadowing the same name found by later ones: how systemd picks drop-ins
// and .network files, and netplan its YAML files.
func (src Source) Shadowed(globs ...string) ([]string, error) {
	byName := map[string]string{}
	for _, g := range globs {
		found, err := src.Glob(g)
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			if _, ok := byName[path.Base(p)]; !ok {
				byName[path.Base(p)] = p
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out, nil
}
