package boot

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// memVol is an in-memory filesystem for the interpreter's tests: files by path.
type memVol struct {
	names []string // index+1 is the inode; inode 1 is "/"
	data  map[string][]byte
}

func newMemVol(files map[string]string) *memVol {
	v := &memVol{names: []string{"/"}, data: map[string][]byte{}}
	seen := map[string]bool{"/": true}
	var add func(p string)
	add = func(p string) {
		if seen[p] {
			return
		}
		add(path.Dir(p))
		seen[p] = true
		v.names = append(v.names, p)
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path.Clean("/" + k)
		add(p)
		v.data[p] = []byte(files[k])
	}
	return v
}

func (v *memVol) Name() string { return "mem" }
func (v *memVol) Root() uint64 { return 1 }
func (v *memVol) name(ino uint64) (string, error) {
	if ino == 0 || int(ino) > len(v.names) {
		return "", fs.ErrNotExist
	}
	return v.names[ino-1], nil
}
func (v *memVol) Inode(ino uint64) (*filesystem.Inode, error) {
	n, err := v.name(ino)
	if err != nil {
		return nil, err
	}
	if d, ok := v.data[n]; ok {
		return &filesystem.Inode{Ino: ino, Mode: 0o644, Size: int64(len(d)), Nlink: 1}, nil
	}
	return &filesystem.Inode{Ino: ino, Mode: fs.ModeDir | 0o755, Nlink: 2}, nil
}
func (v *memVol) ReadDir(ino uint64) ([]filesystem.Dirent, error) {
	n, err := v.name(ino)
	if err != nil {
		return nil, err
	}
	var out []filesystem.Dirent
	for i, c := range v.names {
		if c != "/" && path.Dir(c) == n {
			t := fs.FileMode(0)
			if _, ok := v.data[c]; !ok {
				t = fs.ModeDir
			}
			out = append(out, filesystem.Dirent{Name: path.Base(c), Ino: uint64(i + 1), Type: t, TypeKnown: true})
		}
	}
	return out, nil
}
func (v *memVol) Readlink(uint64) (string, error) { return "", fs.ErrInvalid }
func (v *memVol) Open(ino uint64) (io.ReaderAt, error) {
	n, err := v.name(ino)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(v.data[n]), nil
}

// testRun is a GRUB run over in-memory partitions: parts[i] is partition i+1 (GPT), with a
// filesystem UUID "uuid-N".
func testRun(parts ...map[string]string) *grubRun {
	r := &grubRun{visited: map[string]bool{}, parsed: map[string][]gnode{}, data: map[string][]byte{}}
	var first *partition.Partition
	for i, files := range parts {
		p := &partition.Partition{Number: i + 1, Table: "gpt", FSUUID: "uuid-" + string(rune('1'+i))}
		if first == nil {
			first = p
		}
		r.devs = append(r.devs, &gdev{name: "hd0,gpt" + string(rune('1'+i)), part: p, tree: filesystem.NewTree(newMemVol(files))})
	}
	r.v = &view{rootPart: first}
	return r
}

func cmdlines(es []Entry, booted bool) []string {
	var out []string
	for _, e := range es {
		if e.Booted == booted {
			out = append(out, e.Title+": "+e.Cmdline)
		}
	}
	return out
}

func joinLines(s []string) string { return strings.Join(s, " | ") }
