package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	accountfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/accounts"
	systemdfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// linux wraps a check that needs the Linux root filesystem.
func linux(check func(*Context) Result) func(*Context) Result {
	return func(c *Context) Result {
		if c.Image.Root == nil {
			if c.Image.RootErr != nil {
				// two roots and no boot entry that says which boots: the error names both
				return errResult(c.Image.RootErr)
			}
			return Result{Status: Error, Message: inspect.ErrNoLinuxRoot.Error()}
		}
		return check(c)
	}
}

func rel(p string) string { return strings.TrimPrefix(p, "/") }

// read returns an in-image file, (nil, nil) when it does not exist.
func (c *Context) read(p string) ([]byte, error) {
	b, err := c.Image.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// lstat returns file info without following a final symlink, nil when absent.
func (c *Context) lstat(p string) (fs.FileInfo, error) {
	fi, err := c.Image.Root.Lstat(rel(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

// stat follows symlinks; nil when absent (or a dangling link).
func (c *Context) stat(p string) (fs.FileInfo, error) {
	fi, err := c.Image.Root.Stat(rel(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

// readDir lists a directory; nil when absent.
func (c *Context) readDir(p string) ([]fs.DirEntry, error) {
	ents, err := c.Image.Root.ReadDir(rel(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ents, err
}

// glob expands a pattern inside the image. A directory it could not read makes it an error
// naming the directory: its matches are unknown, and a rule must not judge an empty list.
func (c *Context) glob(pattern string) ([]string, error) {
	m, err := globFS(c.Image.Root, rel(pattern))
	if err != nil {
		return nil, err
	}
	for i := range m {
		m[i] = "/" + m[i]
	}
	return m, nil
}

// globFS is filesystem.Glob whose unreadable directories are an error (see UnreadDirsError).
func globFS(fsys fs.FS, pattern string) ([]string, error) {
	m, unread, err := filesystem.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pattern, err)
	}
	if len(unread) > 0 {
		return nil, &UnreadDirsError{Pattern: "/" + strings.TrimPrefix(pattern, "/"), Dirs: unread}
	}
	return m, nil
}

// UnreadDirsError says which directories a pattern needed could not be read: what they hold
// is unknown, so the rule that expanded the pattern is an error, never a pass.
type UnreadDirsError struct {
	Pattern string
	Dirs    []filesystem.UnreadDir
}

func (e *UnreadDirsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "could not read what %s matches: ", e.Pattern)
	for i, d := range e.Dirs {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Dirs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "directory /%s unreadable (%v)", d.Path, d.Err)
	}
	return b.String()
}

// passwd is /etc/passwd as glibc reads it (facts/accounts), nil when absent.
func (c *Context) passwd() ([]sysconf.PasswdEntry, error) {
	f := accountfacts.Of(c.Image)
	if f.PasswdErr != nil {
		return nil, f.PasswdErr
	}
	return f.Passwd, nil
}

// homes are the home directories a login may leave files in (facts/accounts).
func (c *Context) homes() ([]accountfacts.Home, error) {
	return accountfacts.Of(c.Image).Homes(c.stat, c.readDir)
}

// walkFiles calls fn for every regular file under dir (not following symlinks).
func (c *Context) walkFiles(dir string, fn func(p string, fi fs.FileInfo) error) error {
	return regularFiles(c.Image.Root, rel(dir), func(p string, fi fs.FileInfo) error { return fn("/"+p, fi) })
}

// regularFiles calls fn with the tree path of every regular file under dir (not following
// symlinks); a dir that is absent or not a directory has none.
func regularFiles(t *filesystem.Tree, dir string, fn func(p string, fi fs.FileInfo) error) error {
	st, err := t.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || !st.IsDir() {
		return err
	}
	return t.Walk(dir, func(p string, d fs.DirEntry) error {
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, fi)
	})
}

// enabledUnits returns the units systemd starts at boot (facts/systemd.Boot: from the default
// target through every .wants/.requires directory of the unit path and Wants=/Requires=/
// BindsTo=..., masked units left out, no presets), keyed by unit name; each value says why it
// is started (Where names the link or the setting). A unit directory or unit file that could not
// be read is an error: what boot starts is then unknown.
func (c *Context) enabledUnits() (map[string]systemdfacts.Started, error) {
	b := systemdfacts.BootOf(c.Image)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return b.Units, nil
}

// startedWhere names, for evidence, what starts a unit at boot.
func startedWhere(s systemdfacts.Started) string {
	if s.Path == "" {
		return "/etc/systemd/system"
	}
	return s.Path
}
