package filesystem

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxSymlinks bounds symlink expansion in one lookup, like Linux's MAXSYMLINKS.
const maxSymlinks = 40

// maxCachedDirs bounds the directory cache.
const maxCachedDirs = 8192

// Tree is the image's directory tree: a root volume plus volumes mounted on directories.
// It implements io/fs.FS, StatFS, ReadDirFS and ReadLinkFS. Safe for concurrent use.
type Tree struct {
	root   Volume
	mounts map[string]Volume // cleaned absolute path ("/boot") → volume

	mu   sync.Mutex
	dirs map[dirKey]map[string]Dirent
}

type dirKey struct {
	vol Volume
	ino uint64
}

// NewTree makes a tree whose / is root.
func NewTree(root Volume) *Tree {
	return &Tree{root: root, mounts: map[string]Volume{}, dirs: map[dirKey]map[string]Dirent{}}
}

// Mount places v at the absolute path at. The directory need not exist on the parent volume.
func (t *Tree) Mount(at string, v Volume) {
	t.mounts[path.Clean("/"+at)] = v
}

// loc is a resolved position: a volume, an inode, and the in-image path that led there.
type loc struct {
	vol  Volume
	ino  uint64
	path string
}

func (t *Tree) rootLoc() loc {
	if v, ok := t.mounts["/"]; ok {
		return loc{v, v.Root(), "/"}
	}
	return loc{t.root, t.root.Root(), "/"}
}

func (t *Tree) enter(l loc) loc {
	if v, ok := t.mounts[l.path]; ok && l.path != "/" {
		return loc{v, v.Root(), l.path}
	}
	return l
}

func (t *Tree) dir(l loc) (map[string]Dirent, error) {
	k := dirKey{l.vol, l.ino}
	t.mu.Lock()
	d, ok := t.dirs[k]
	t.mu.Unlock()
	if ok {
		return d, nil
	}
	ents, err := l.vol.ReadDir(l.ino)
	if err != nil {
		return nil, err
	}
	d = make(map[string]Dirent, len(ents))
	for _, e := range ents {
		d[e.Name] = e
	}
	t.mu.Lock()
	if len(t.dirs) >= maxCachedDirs {
		clear(t.dirs)
	}
	t.dirs[k] = d
	t.mu.Unlock()
	return d, nil
}

// caseInsensitive is implemented by volumes whose names match regardless of case (NTFS).
type caseInsensitive interface{ CaseInsensitive() bool }

// foldLookup finds name in a case-insensitive volume's directory the way Windows does; the
// in-image path then carries the name as stored.
func foldLookup(v Volume, d map[string]Dirent, name string) (Dirent, bool) {
	if ci, ok := v.(caseInsensitive); !ok || !ci.CaseInsensitive() {
		return Dirent{}, false
	}
	for n, e := range d {
		if strings.EqualFold(n, name) {
			return e, true
		}
	}
	return Dirent{}, false
}

// resolve walks name (an io/fs path, or absolute) from /. follow says whether a symlink in the
// last component is followed. Symlinks are resolved against the image's root: ".." stops at /.
// name must be a valid io/fs path (fs.ValidPath: valid UTF-8 among other things), as the io/fs
// interfaces the tree implements require.
func (t *Tree) resolve(op, name string, follow bool) (loc, error) {
	return t.resolvePath(op, name, follow, false)
}

// resolvePath is resolve; with anyBytes, name's elements may be any bytes a directory entry
// holds (a Latin-1 "caf\xe9.txt" on ext4 or XFS, whose names are bytes, not text), as the walk
// lists them: Walk, OpenReaderAt and ReadFile take them, so that a file the walk found can be
// read. Empty, "." and ".." elements are refused either way (ValidPathBytes).
func (t *Tree) resolvePath(op, name string, follow, anyBytes bool) (loc, error) {
	if name == "" {
		name = "."
	}
	rel := strings.TrimPrefix(name, "/")
	if rel == "" {
		rel = "."
	}
	if !fs.ValidPath(rel) && (!anyBytes || !ValidPathBytes(rel)) {
		return loc{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	links := 0
	stack := []loc{t.rootLoc()}
	todo := strings.Split(rel, "/")
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		cur := stack[len(stack)-1]
		switch c {
		case ".", "":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if mv, ok := t.mounts[path.Join(cur.path, c)]; ok {
			// a mount point: entered even where the parent volume lacks the directory
			stack = append(stack, loc{mv, mv.Root(), path.Join(cur.path, c)})
			continue
		}
		ino, err := cur.vol.Inode(cur.ino)
		if err != nil {
			return loc{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if !ino.Mode.IsDir() {
			return loc{}, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s is not a directory", cur.path)}
		}
		d, err := t.dir(cur)
		if err != nil {
			return loc{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		e, ok := d[c]
		if !ok {
			if e, ok = foldLookup(cur.vol, d, c); !ok {
				return loc{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
			}
			c = e.Name
		}
		next := t.enter(loc{cur.vol, e.Ino, path.Join(cur.path, c)})
		if len(todo) > 0 || follow {
			isLink := e.TypeKnown && e.Type&fs.ModeSymlink != 0
			if !e.TypeKnown {
				ni, err := next.vol.Inode(next.ino)
				if err != nil {
					return loc{}, &fs.PathError{Op: op, Path: name, Err: err}
				}
				isLink = ni.Mode&fs.ModeSymlink != 0
			}
			if isLink {
				links++
				if links > maxSymlinks {
					return loc{}, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
				}
				target, err := next.vol.Readlink(next.ino)
				if err != nil {
					return loc{}, &fs.PathError{Op: op, Path: name, Err: err}
				}
				if strings.HasPrefix(target, "/") {
					stack = stack[:1]
				}
				parts := strings.Split(target, "/")
				todo = append(parts, todo...)
				continue
			}
		}
		stack = append(stack, next)
	}
	return stack[len(stack)-1], nil
}

// Resolve returns the in-image absolute path name resolves to, following every symlink.
func (t *Tree) Resolve(name string) (string, error) {
	l, err := t.resolve("resolve", name, true)
	if err != nil {
		return "", err
	}
	return l.path, nil
}

// Stat follows symlinks.
func (t *Tree) Stat(name string) (fs.FileInfo, error) { return t.stat("stat", name, true) }

// Lstat does not follow a symlink in the last component.
func (t *Tree) Lstat(name string) (fs.FileInfo, error) { return t.stat("lstat", name, false) }

func (t *Tree) stat(op, name string, follow bool) (fs.FileInfo, error) {
	l, err := t.resolve(op, name, follow)
	if err != nil {
		return nil, err
	}
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return &fileInfo{name: path.Base(l.path), ino: ino}, nil
}

// ReadLink returns a symlink's target as stored.
func (t *Tree) ReadLink(name string) (string, error) {
	l, err := t.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	if ino.Mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	s, err := l.vol.Readlink(l.ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return s, nil
}

// ValidPathBytes is fs.ValidPath without its requirement that name be valid UTF-8: the names
// of ext4, XFS and the other Unix filesystems are byte strings, and a name that is not UTF-8 (a
// Latin-1 é) names a file all the same. "." alone is valid; otherwise no element is empty, "."
// or "..", and name neither starts nor ends with "/".
func ValidPathBytes(name string) bool {
	if name == "." {
		return true
	}
	for {
		i := strings.IndexByte(name, '/')
		elem := name
		if i >= 0 {
			elem = name[:i]
		}
		if elem == "" || elem == "." || elem == ".." {
			return false
		}
		if i < 0 {
			return true
		}
		name = name[i+1:]
	}
}

// ReadDir lists a directory sorted by name, with mount points shown as directories.
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) { return t.readDir(name, false) }

// readDir is ReadDir; anyBytes as resolvePath's.
func (t *Tree) readDir(name string, anyBytes bool) ([]fs.DirEntry, error) {
	l, err := t.resolvePath("readdir", name, true, anyBytes)
	if err != nil {
		return nil, err
	}
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if !ino.Mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	d, err := t.dir(l)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(d))
	for _, e := range d {
		out = append(out, &dirEntry{t: t, parent: l, e: e})
	}
	// a filesystem mounted on a directory its parent volume lacks is still listed, so that a
	// walk reaches it the way a path lookup does
	for at := range t.mounts {
		if at == "/" || path.Dir(at) != path.Clean("/"+l.path) {
			continue
		}
		if _, ok := d[path.Base(at)]; !ok {
			out = append(out, &dirEntry{t: t, parent: l, e: Dirent{Name: path.Base(at), Type: fs.ModeDir, TypeKnown: true}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Open opens a file or directory for reading.
func (t *Tree) Open(name string) (fs.File, error) {
	l, err := t.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := &file{t: t, name: name, l: l, info: &fileInfo{name: path.Base(l.path), ino: ino}}
	if ino.Mode.IsRegular() {
		ra, err := l.vol.Open(l.ino)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		f.r = io.NewSectionReader(ra, 0, ino.Size)
	}
	return f, nil
}

// OpenReaderAt returns random access to a regular file's contents and its size. name may hold
// any bytes a directory entry does (ValidPathBytes): it opens whatever Walk lists.
func (t *Tree) OpenReaderAt(name string) (io.ReaderAt, int64, error) {
	l, err := t.resolvePath("open", name, true, true)
	if err != nil {
		return nil, 0, err
	}
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if !ino.Mode.IsRegular() {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	ra, err := l.vol.Open(l.ino)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return ra, ino.Size, nil
}

// ReadFile reads a whole file of at most limit bytes; a larger file is an error naming it.
func (t *Tree) ReadFile(name string, limit int64) ([]byte, error) {
	ra, size, err := t.OpenReaderAt(name)
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("file is %d bytes, over the %d-byte limit for this check", size, limit)}
	}
	buf := make([]byte, size)
	n, err := ra.ReadAt(buf, 0)
	if n < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return buf, nil
}

type fileInfo struct {
	name string
	ino  *Inode
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.ino.Size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.ino.Mode }
func (fi *fileInfo) ModTime() time.Time { return fi.ino.ModTime }
func (fi *fileInfo) IsDir() bool        { return fi.ino.Mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.ino }

type dirEntry struct {
	t      *Tree
	parent loc
	e      Dirent
}

func (d *dirEntry) Name() string { return d.e.Name }
func (d *dirEntry) target() loc {
	return d.t.enter(loc{d.parent.vol, d.e.Ino, path.Join(d.parent.path, d.e.Name)})
}
func (d *dirEntry) IsDir() bool { return d.Type().IsDir() }
func (d *dirEntry) Type() fs.FileMode {
	l := d.target()
	if l.vol != d.parent.vol {
		return fs.ModeDir
	}
	if d.e.TypeKnown {
		return d.e.Type
	}
	if ino, err := l.vol.Inode(l.ino); err == nil {
		return ino.Mode.Type()
	}
	return fs.ModeIrregular
}
func (d *dirEntry) Info() (fs.FileInfo, error) {
	l := d.target()
	ino, err := l.vol.Inode(l.ino)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: d.e.Name, ino: ino}, nil
}

type file struct {
	t    *Tree
	name string
	l    loc
	info *fileInfo
	r    *io.SectionReader
	ents []fs.DirEntry
	read bool

	// Read's read-ahead: pos is the next byte Read returns, ahead the bytes already read from
	// pos on, window the size of the next refill
	pos    int64
	ahead  []byte
	buf    []byte
	window int
	err    error // what the last refill ended with, returned once ahead is consumed
}

// Read-ahead of a file read sequentially (an initramfs gunzipped through a 4 KiB bufio): a
// refill starts at minReadAhead and doubles up to maxReadAhead, as the kernel's does, so that a
// stream of small reads becomes a few large ones (on a blob, a few range requests instead of one
// per 64 KiB) while a small file is still read in one small piece. It never reads past the file.
const (
	minReadAhead = 64 << 10
	maxReadAhead = 4 << 20
)

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }
func (f *file) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("not a regular file")}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(f.ahead) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		size := f.r.Size()
		if f.pos >= size {
			return 0, io.EOF
		}
		f.window = min(max(2*f.window, minReadAhead), maxReadAhead)
		want := min(int64(f.window), size-f.pos)
		if int64(len(p)) >= want {
			// the caller's buffer is as large as a refill: no copy
			n, err := f.r.ReadAt(p[:want], f.pos)
			f.pos += int64(n)
			if err == io.EOF && int64(n) == want {
				err = nil
			}
			return n, err
		}
		if int64(cap(f.buf)) < want {
			f.buf = make([]byte, f.window)
		}
		n, err := f.r.ReadAt(f.buf[:want], f.pos)
		if err == io.EOF && int64(n) == want {
			err = nil
		}
		f.ahead, f.err = f.buf[:n], err
		if n == 0 {
			// nothing came: the error now, and the next Read tries again
			f.err = nil
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, err
		}
	}
	n := copy(p, f.ahead)
	f.ahead = f.ahead[n:]
	f.pos += int64(n)
	return n, nil
}
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.r == nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("not a regular file")}
	}
	return f.r.ReadAt(p, off)
}

// ReadDir implements fs.ReadDirFile.
func (f *file) ReadDir(n int) ([]fs.DirEntry, error) {
	if !f.info.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: errors.New("not a directory")}
	}
	if !f.read {
		ents, err := f.t.ReadDir(f.l.path)
		if err != nil {
			return nil, err
		}
		f.ents, f.read = ents, true
	}
	if n <= 0 {
		out := f.ents
		f.ents = nil
		return out, nil
	}
	if len(f.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.ents))
	out := f.ents[:n]
	f.ents = f.ents[n:]
	return out, nil
}

// maxWalkDepth bounds directory nesting in Walk; deeper trees are reported, not followed.
const maxWalkDepth = 128

// WalkFunc is called for every entry Walk visits, with its in-image path (no leading "/").
// Returning fs.SkipDir from a directory skips it; any other error stops the walk.
type WalkFunc func(p string, d fs.DirEntry) error

// IncompleteWalkError lists the directories a Walk could not enter (unreadable, corrupt, or
// nested deeper than maxWalkDepth). The walk visited everything else: a caller that must see
// every file treats this as "not everything was seen", naming Dirs.
type IncompleteWalkError struct {
	Dirs []*fs.PathError
}

func (e *IncompleteWalkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d director", len(e.Dirs))
	if len(e.Dirs) == 1 {
		b.WriteString("y")
	} else {
		b.WriteString("ies")
	}
	b.WriteString(" could not be read: ")
	for i, d := range e.Dirs {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Dirs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Walk visits root and everything below it in lexical order without following symlinks. The
// paths it gives are the names as the directories store them, bytes that are not UTF-8 included
// (ValidPathBytes); OpenReaderAt and ReadFile take them. Unlike
// io/fs.WalkDir it survives corrupt filesystems: a directory seen twice (a cycle of hard links)
// is visited once, and a directory that cannot be read (corrupt, or nested deeper than
// maxWalkDepth) is skipped while the walk goes on with its siblings; Walk then returns an
// *IncompleteWalkError naming every such directory. An error returned by fn stops the walk and
// is returned as it is.
func (t *Tree) Walk(root string, fn WalkFunc) error {
	root = strings.Trim(root, "/")
	if root == "" {
		root = "."
	}
	seen := map[dirKey]bool{}
	var skipped []*fs.PathError
	skip := func(p string, err error) {
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			pe = &fs.PathError{Op: "walk", Path: p, Err: err}
		}
		skipped = append(skipped, pe)
	}
	var walk func(p string, depth int) error
	walk = func(p string, depth int) error {
		if depth > maxWalkDepth {
			skip(p, &fs.PathError{Op: "walk", Path: p, Err: fmt.Errorf("directories nested deeper than %d", maxWalkDepth)})
			return nil
		}
		l, err := t.resolvePath("walk", p, true, true)
		if err != nil {
			skip(p, err)
			return nil
		}
		if seen[dirKey{l.vol, l.ino}] {
			return nil
		}
		seen[dirKey{l.vol, l.ino}] = true
		ents, err := t.readDir(p, true)
		if err != nil {
			skip(p, err)
			return nil
		}
		for _, e := range ents {
			cp := path.Join(p, e.Name())
			err := fn(cp, e)
			if err == fs.SkipDir {
				continue
			}
			if err != nil {
				return err
			}
			if e.IsDir() {
				if err := walk(cp, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return err
	}
	if len(skipped) > 0 {
		return &IncompleteWalkError{Dirs: skipped}
	}
	return nil
}

// UnreadDir is a directory a Glob needed and could not read (corrupt, unreadable, or on a path
// that could not be resolved): whatever it holds is unknown, not absent.
type UnreadDir struct {
	Path string // the io/fs path (no leading "/")
	Err  error
}

func (u UnreadDir) Error() string { return "/" + u.Path + ": " + u.Err.Error() }

// globSeparatorsLimit bounds the pattern's directory levels, as io/fs.Glob does.
const globSeparatorsLimit = 10000

// Glob is io/fs.Glob, except that it does not take a directory it cannot read for an empty
// one: io/fs.Glob ignores I/O errors while reading directories by design, so a corrupt
// directory would look as if it held no match. Glob returns such directories in unread,
// beside the matches it could find elsewhere. A path that does not exist matches nothing
// (as in io/fs.Glob); err is only path.ErrBadPattern.
func Glob(fsys fs.FS, pattern string) (matches []string, unread []UnreadDir, err error) {
	return glob(fsys, pattern, 0)
}

func glob(fsys fs.FS, pattern string, depth int) (matches []string, unread []UnreadDir, err error) {
	if depth > globSeparatorsLimit {
		return nil, nil, path.ErrBadPattern
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, nil, err
	}
	if !hasGlobMeta(pattern) {
		if _, err := fs.Stat(fsys, pattern); err != nil {
			if notThere(err) {
				return nil, nil, nil
			}
			return nil, []UnreadDir{{Path: path.Dir(pattern), Err: err}}, nil
		}
		return []string{pattern}, nil, nil
	}
	dir, file := path.Split(pattern)
	if dir == "" {
		dir = "."
	} else {
		dir = dir[:len(dir)-1] // as io/fs.Glob: "/x" looks in "", which is not a valid path
	}
	if !hasGlobMeta(dir) {
		matches, unread = globDirInto(fsys, dir, file, nil, nil)
		return matches, unread, nil
	}
	if dir == pattern {
		return nil, nil, path.ErrBadPattern
	}
	dirs, unread, err := glob(fsys, dir, depth+1)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dirs {
		matches, unread = globDirInto(fsys, d, file, matches, unread)
	}
	return matches, unread, nil
}

// globDirInto adds the names in dir that match pattern (which has no "/"), or dir to unread.
func globDirInto(fsys fs.FS, dir, pattern string, matches []string, unread []UnreadDir) ([]string, []UnreadDir) {
	fi, err := fs.Stat(fsys, dir)
	if notThere(err) {
		return matches, unread
	}
	if err != nil {
		return matches, append(unread, UnreadDir{Path: dir, Err: err})
	}
	if !fi.IsDir() {
		return matches, unread
	}
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return matches, append(unread, UnreadDir{Path: dir, Err: err})
	}
	for _, e := range ents {
		if ok, _ := path.Match(pattern, e.Name()); ok {
			matches = append(matches, path.Join(dir, e.Name()))
		}
	}
	return matches, unread
}

// notThere: a path that does not exist, or is not a valid io/fs path, matches nothing (as in
// io/fs.Glob); any other error is a directory that could not be read.
func notThere(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid)
}

// hasGlobMeta reports whether p holds any of the characters path.Match treats specially.
func hasGlobMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }
