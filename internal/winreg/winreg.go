// Package winreg reads Windows registry hive files (regf: SYSTEM, SOFTWARE, SAM, NTUSER.DAT)
// offline from an io.ReaderAt: keys with their subkey lists (lf, lh, li, ri), values, and big
// values split into segments (db). Every cell read is bounded and checked; a corrupt hive gives
// an error naming the file and the offset, never a panic or a hang.
package winreg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Value types.
const (
	TypeNone      = 0
	TypeString    = 1 // REG_SZ
	TypeExpand    = 2 // REG_EXPAND_SZ
	TypeBinary    = 3
	TypeDword     = 4
	TypeDwordBE   = 5
	TypeLink      = 6
	TypeMulti     = 7 // REG_MULTI_SZ
	TypeQword     = 11
	baseBlockSize = 4096
	maxCellSize   = 1 << 20
	maxValueSize  = 16 << 20
	maxKeyDepth   = 512
)

var le = binary.LittleEndian

// Hive is an opened hive file.
type Hive struct {
	name string
	r    io.ReaderAt
	end  int64 // end of the hive bins, as a file offset
	root uint32
	// Dirty is true when the primary file's sequence numbers differ: the hive was not flushed
	// (its transaction logs hold newer data this reader does not apply).
	Dirty bool
}

// Open reads the base block.
func Open(name string, r io.ReaderAt, size int64) (*Hive, error) {
	b, err := byteio.ReadAt(r, name, 0, baseBlockSize)
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "regf" {
		return nil, byteio.Corrupt(name, 0, "no regf signature")
	}
	h := &Hive{name: name, r: r, root: le.Uint32(b[36:]), Dirty: le.Uint32(b[4:]) != le.Uint32(b[8:])}
	h.end = baseBlockSize + int64(le.Uint32(b[40:]))
	if h.end > size {
		// a hive whose header overstates its bins is read up to the end of the file
		h.end = size
	}
	return h, nil
}

// Name is the file the hive was opened from.
func (h *Hive) Name() string { return h.name }

// cell returns the data of the cell at off (relative to the first hive bin).
func (h *Hive) cell(off uint32) ([]byte, int64, error) {
	at := baseBlockSize + int64(off)
	if off == 0xFFFFFFFF || at+4 > h.end {
		return nil, at, byteio.Corrupt(h.name, at, "cell offset %#x is outside the hive", off)
	}
	sb, err := byteio.ReadAt(h.r, h.name, at, 4)
	if err != nil {
		return nil, at, err
	}
	size := int64(int32(le.Uint32(sb)))
	if size < 0 {
		size = -size
	}
	if size < 8 || size > maxCellSize || at+size > h.end {
		return nil, at, byteio.Corrupt(h.name, at, "cell size %d invalid", size)
	}
	b, err := byteio.ReadAt(h.r, h.name, at+4, int(size-4))
	return b, at, err
}

// Key is one registry key.
type Key struct {
	h         *Hive
	at        int64
	Name      string
	LastWrite time.Time
	subCount  uint32
	subList   uint32
	valCount  uint32
	valList   uint32
}

// Root returns the hive's root key.
func (h *Hive) Root() (*Key, error) { return h.key(h.root) }

func (h *Hive) key(off uint32) (*Key, error) {
	b, at, err := h.cell(off)
	if err != nil {
		return nil, err
	}
	if len(b) < 76 || string(b[:2]) != "nk" {
		return nil, byteio.Corrupt(h.name, at, "not a key node")
	}
	nameLen := int(le.Uint16(b[72:]))
	if 76+nameLen > len(b) {
		return nil, byteio.Corrupt(h.name, at, "key name of %d bytes outside its cell", nameLen)
	}
	k := &Key{h: h, at: at, LastWrite: byteio.FileTime(le.Uint64(b[4:])),
		subCount: le.Uint32(b[20:]), subList: le.Uint32(b[28:]),
		valCount: le.Uint32(b[36:]), valList: le.Uint32(b[40:])}
	k.Name = decodeName(b[76:76+nameLen], le.Uint16(b[2:])&0x20 != 0)
	return k, nil
}

func decodeName(b []byte, ascii bool) string {
	if ascii {
		// "compressed" names are Latin-1
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return byteio.UTF16(b)
}

// Subkeys lists the key's subkeys in stored order.
func (k *Key) Subkeys() ([]*Key, error) {
	if k.subCount == 0 {
		return nil, nil
	}
	offs, err := k.h.subkeyOffsets(k.subList, 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, 0, len(offs))
	for _, o := range offs {
		sk, err := k.h.key(o)
		if err != nil {
			return nil, err
		}
		out = append(out, sk)
	}
	return out, nil
}

// subkeyOffsets reads a subkey list; an ri list points at lists of the other kinds.
func (h *Hive) subkeyOffsets(off uint32, depth int) ([]uint32, error) {
	b, at, err := h.cell(off)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, byteio.Corrupt(h.name, at, "subkey list cut short")
	}
	n := int(le.Uint16(b[2:]))
	sig := string(b[:2])
	stride := 8
	if sig == "li" || sig == "ri" {
		stride = 4
	}
	if sig != "lf" && sig != "lh" && sig != "li" && sig != "ri" {
		return nil, byteio.Corrupt(h.name, at, "unknown subkey list %q", sig)
	}
	if 4+n*stride > len(b) {
		return nil, byteio.Corrupt(h.name, at, "subkey list of %d entries outside its cell", n)
	}
	var out []uint32
	for i := 0; i < n; i++ {
		o := le.Uint32(b[4+i*stride:])
		if sig != "ri" {
			out = append(out, o)
			continue
		}
		if depth > 0 {
			return nil, byteio.Corrupt(h.name, at, "index root list nested in another")
		}
		sub, err := h.subkeyOffsets(o, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// Subkey finds a direct subkey by name, ignoring case as Windows does.
func (k *Key) Subkey(name string) (*Key, error) {
	subs, err := k.Subkeys()
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if strings.EqualFold(s.Name, name) {
			return s, nil
		}
	}
	return nil, &fs.PathError{Op: "open key", Path: k.h.name + `\` + name, Err: fs.ErrNotExist}
}

// Key walks a backslash-separated path from the root ("Microsoft\Windows NT\CurrentVersion").
// A missing key is an error wrapping fs.ErrNotExist.
func (h *Hive) Key(path string) (*Key, error) {
	k, err := h.Root()
	if err != nil {
		return nil, err
	}
	for _, c := range strings.Split(path, `\`) {
		if c == "" {
			continue
		}
		if k, err = k.Subkey(c); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &fs.PathError{Op: "open key", Path: h.name + `\` + path, Err: fs.ErrNotExist}
			}
			return nil, err
		}
	}
	return k, nil
}

// Value is one named value of a key.
type Value struct {
	h    *Hive
	at   int64
	Name string // "" for the key's default value
	Type uint32
	size uint32
	off  uint32 // data cell, or the data itself when inline
}

// Values lists the key's values.
func (k *Key) Values() ([]*Value, error) {
	if k.valCount == 0 {
		return nil, nil
	}
	b, at, err := k.h.cell(k.valList)
	if err != nil {
		return nil, err
	}
	if int64(k.valCount)*4 > int64(len(b)) {
		return nil, byteio.Corrupt(k.h.name, at, "value list of %d entries outside its cell", k.valCount)
	}
	out := make([]*Value, 0, k.valCount)
	for i := 0; i < int(k.valCount); i++ {
		vb, vat, err := k.h.cell(le.Uint32(b[4*i:]))
		if err != nil {
			return nil, err
		}
		if len(vb) < 20 || string(vb[:2]) != "vk" {
			return nil, byteio.Corrupt(k.h.name, vat, "not a value")
		}
		nameLen := int(le.Uint16(vb[2:]))
		if 20+nameLen > len(vb) {
			return nil, byteio.Corrupt(k.h.name, vat, "value name outside its cell")
		}
		out = append(out, &Value{h: k.h, at: vat, Type: le.Uint32(vb[12:]), size: le.Uint32(vb[4:]), off: le.Uint32(vb[8:]),
			Name: decodeName(vb[20:20+nameLen], le.Uint16(vb[16:])&1 != 0)})
	}
	return out, nil
}

// Value finds a value by name, ignoring case; "" is the default value.
func (k *Key) Value(name string) (*Value, error) {
	vals, err := k.Values()
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		if strings.EqualFold(v.Name, name) {
			return v, nil
		}
	}
	return nil, &fs.PathError{Op: "read value", Path: k.h.name + `\` + k.Name + `\` + name, Err: fs.ErrNotExist}
}

// Data returns the value's bytes.
func (v *Value) Data() ([]byte, error) {
	size := v.size & 0x7FFFFFFF
	if v.size&0x80000000 != 0 {
		// up to four bytes kept in the offset field itself
		if size > 4 {
			return nil, byteio.Corrupt(v.h.name, v.at, "inline value of %d bytes", size)
		}
		var b [4]byte
		le.PutUint32(b[:], v.off)
		return b[:size], nil
	}
	if size == 0 {
		return nil, nil
	}
	if size > maxValueSize {
		return nil, byteio.Corrupt(v.h.name, v.at, "value of %d bytes is over the %d-byte limit", size, maxValueSize)
	}
	b, at, err := v.h.cell(v.off)
	if err != nil {
		return nil, err
	}
	if int(size) <= len(b) {
		return b[:size], nil
	}
	if len(b) < 8 || string(b[:2]) != "db" {
		return nil, byteio.Corrupt(v.h.name, at, "value of %d bytes does not fit its %d-byte cell", size, len(b))
	}
	// big data: a list of segments
	n := int(le.Uint16(b[2:]))
	list, lat, err := v.h.cell(le.Uint32(b[4:]))
	if err != nil {
		return nil, err
	}
	if 4*n > len(list) {
		return nil, byteio.Corrupt(v.h.name, lat, "big-data list of %d segments outside its cell", n)
	}
	out := make([]byte, 0, size)
	for i := 0; i < n && len(out) < int(size); i++ {
		seg, _, err := v.h.cell(le.Uint32(list[4*i:]))
		if err != nil {
			return nil, err
		}
		out = append(out, seg[:min(len(seg), int(size)-len(out), 16344)]...)
	}
	if len(out) < int(size) {
		return nil, byteio.Corrupt(v.h.name, at, "big-data value has %d of its %d bytes", len(out), size)
	}
	return out, nil
}

// String returns a REG_SZ or REG_EXPAND_SZ value without its terminating NUL.
func (v *Value) String() (string, error) {
	if v.Type != TypeString && v.Type != TypeExpand {
		return "", fmt.Errorf("%s: value %q is type %d, not a string", v.h.name, v.Name, v.Type)
	}
	b, err := v.Data()
	if err != nil {
		return "", err
	}
	s := byteio.UTF16(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s, nil
}

// Strings returns a REG_MULTI_SZ value.
func (v *Value) Strings() ([]string, error) {
	if v.Type != TypeMulti {
		return nil, fmt.Errorf("%s: value %q is type %d, not a string list", v.h.name, v.Name, v.Type)
	}
	b, err := v.Data()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range strings.Split(byteio.UTF16(b), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Uint returns a REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD value.
func (v *Value) Uint() (uint64, error) {
	b, err := v.Data()
	if err != nil {
		return 0, err
	}
	switch {
	case v.Type == TypeDword && len(b) >= 4:
		return uint64(le.Uint32(b)), nil
	case v.Type == TypeDwordBE && len(b) >= 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	case v.Type == TypeQword && len(b) >= 8:
		return le.Uint64(b), nil
	}
	return 0, fmt.Errorf("%s: value %q is type %d with %d bytes, not a number", v.h.name, v.Name, v.Type, len(b))
}

// Walk visits every key below k (k included) depth-first, at most limit keys. It is how fuzz
// targets and tests reach every part of a hive.
func (k *Key) Walk(limit int, fn func(path string, k *Key) error) error {
	n := 0
	var walk func(path string, k *Key, depth int) error
	walk = func(path string, k *Key, depth int) error {
		if n++; n > limit {
			return errors.New("walk limit reached")
		}
		if depth > maxKeyDepth {
			return byteio.Corrupt(k.h.name, k.at, "keys nested deeper than %d", maxKeyDepth)
		}
		if err := fn(path, k); err != nil {
			return err
		}
		subs, err := k.Subkeys()
		if err != nil {
			return err
		}
		for _, s := range subs {
			if err := walk(path+`\`+s.Name, s, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("", k, 0)
}
