// Package uki reads the sections of a unified kernel image: a PE/COFF EFI executable (the
// systemd-stub) that carries the kernel (.linux), its initramfs (.initrd), its command line
// (.cmdline), its release (.uname) and the os-release (.osrel) as named sections, and of its
// add-ons (PE files with .cmdline sections that systemd-stub appends). Only the DOS header, the
// COFF header and the section table are parsed; section data is read on demand through a
// bounded io.SectionReader. Errors name the file and the byte offset where reading stopped.
package uki

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what a (possibly hostile) image may cost.
const (
	MaxSections = 96      // the PE format allows 96 sections
	MaxText     = 1 << 16 // bytes of a text section (.cmdline, .uname, .osrel) read whole
)

// Error says where in which file parsing stopped.
type Error struct {
	Name   string
	Offset int64
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: offset %d: %v", e.Name, e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrNotPE means the file does not start like a PE executable.
var ErrNotPE = errors.New("not a PE/COFF executable")

// Section is one entry of the section table.
type Section struct {
	Name        string
	VirtualSize uint32 // the section's size in memory: what systemd-stub uses
	RawSize     uint32 // its size in the file (rounded up to the file alignment)
	Offset      uint32 // its file offset
}

// Image is an opened PE file.
type Image struct {
	name     string
	r        io.ReaderAt
	size     int64
	Sections []Section
}

// Open parses the headers and the section table of the PE file r of size bytes.
func Open(name string, r io.ReaderAt, size int64) (*Image, error) {
	fail := func(off int64, format string, a ...any) (*Image, error) {
		return nil, &Error{Name: name, Offset: off, Err: fmt.Errorf(format, a...)}
	}
	read := func(off int64, n int) ([]byte, error) {
		if off < 0 || off+int64(n) > size {
			return nil, &Error{Name: name, Offset: off, Err: fmt.Errorf("%d bytes needed past the end of the file (%d bytes)", n, size)}
		}
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == size) {
			return nil, &Error{Name: name, Offset: off, Err: err}
		}
		return b, nil
	}
	dos, err := read(0, 64)
	if err != nil {
		return nil, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return nil, &Error{Name: name, Offset: 0, Err: ErrNotPE}
	}
	peOff := int64(binary.LittleEndian.Uint32(dos[0x3c:]))
	coff, err := read(peOff, 24)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(coff[:4], []byte("PE\x00\x00")) {
		return nil, &Error{Name: name, Offset: peOff, Err: ErrNotPE}
	}
	n := int(binary.LittleEndian.Uint16(coff[6:]))
	optSize := int64(binary.LittleEndian.Uint16(coff[20:]))
	if n > MaxSections {
		return fail(peOff+6, "%d sections (at most %d)", n, MaxSections)
	}
	tableOff := peOff + 24 + optSize
	table, err := read(tableOff, n*40)
	if err != nil {
		return nil, err
	}
	img := &Image{name: name, r: r, size: size}
	for i := 0; i < n; i++ {
		h := table[i*40 : (i+1)*40]
		s := Section{
			Name:        strings.TrimRight(string(h[:8]), "\x00"),
			VirtualSize: binary.LittleEndian.Uint32(h[8:]),
			RawSize:     binary.LittleEndian.Uint32(h[16:]),
			Offset:      binary.LittleEndian.Uint32(h[20:]),
		}
		if int64(s.Offset)+int64(s.RawSize) > size {
			return fail(tableOff+int64(i*40), "section %q (%d bytes at %d) runs past the end of the file (%d bytes)", s.Name, s.RawSize, s.Offset, size)
		}
		img.Sections = append(img.Sections, s)
	}
	return img, nil
}

// Find returns the first section called name.
func (img *Image) Find(name string) (Section, bool) {
	for _, s := range img.Sections {
		if s.Name == name {
			return s, true
		}
	}
	return Section{}, false
}

// StubSection returns the section systemd-stub uses for name, as systemd 252 finds it
// (src/boot/efi/pe.c, locate_sections): every entry of the section table is compared with
// memcmp over the length of the name sought, and a later match overwrites an earlier one, so
// of two ".cmdline" sections the stub takes the last; its size is the section's VirtualSize,
// and src/boot/efi/stub.c uses a section only when that size is not 0 (a ".cmdline" of
// VirtualSize 0 is absent to the stub). ok is false when the stub would find none.
func (img *Image) StubSection(name string) (Section, bool) {
	var found Section
	ok := false
	for _, s := range img.Sections {
		if strings.HasPrefix(s.Name, name) {
			found, ok = s, true
		}
	}
	if !ok || found.VirtualSize == 0 {
		return Section{}, false
	}
	return found, true
}

// StubText is Text of the section StubSection returns.
func (img *Image) StubText(name string) (text string, ok bool, err error) {
	s, found := img.StubSection(name)
	if !found {
		return "", false, nil
	}
	return img.text(name, s)
}

// Open returns a reader over the section's data: its virtual size, capped by what the file
// holds (the rest of a section in memory is zeros).
func (img *Image) Open(s Section) *io.SectionReader {
	n := int64(s.VirtualSize)
	if n == 0 || n > int64(s.RawSize) {
		n = int64(s.RawSize)
	}
	return io.NewSectionReader(img.r, int64(s.Offset), n)
}

// Text returns a text section (.cmdline, .uname, .osrel) without trailing NULs and white
// space; ok is false when the image has no such section. A section over MaxText is an error.
func (img *Image) Text(name string) (text string, ok bool, err error) {
	s, found := img.Find(name)
	if !found {
		return "", false, nil
	}
	return img.text(name, s)
}

func (img *Image) text(name string, s Section) (text string, ok bool, err error) {
	sr := img.Open(s)
	if sr.Size() > MaxText {
		return "", true, &Error{Name: img.name, Offset: int64(s.Offset), Err: fmt.Errorf("section %s holds %d bytes (at most %d are read)", name, sr.Size(), MaxText)}
	}
	b := make([]byte, sr.Size())
	if _, err := io.ReadFull(sr, b); err != nil {
		return "", true, &Error{Name: img.name, Offset: int64(s.Offset), Err: err}
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b)), true, nil
}
