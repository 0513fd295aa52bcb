package secrets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/klauspost/compress/zlib"
)

// cramfs (an embedded device's root, firmware in an image) is read here as the Linux kernel
// reads it (fs/cramfs/inode.c cramfs_fill_super, cramfs_readdir, cramfs_read_folio; the layout
// of include/uapi/linux/cramfs_fs.h, Linux 6.1), in this checker's own terms: the superblock at 0
// or 512, little-endian (as mkfs.cramfs writes it on x86), inodes of 12 bytes (mode, uid;
// 24-bit size, gid; 6-bit name length in 4-byte units, 26-bit offset in 4-byte units), a
// directory's entries at its offset, a file's block pointers at its offset (the end of each
// zlib-compressed 4096-byte block, equal ends a hole) then the blocks. Not read, and so not
// seen: a big-endian image, one with extended block pointers (CRAMFS_FLAG_EXT_BLOCK_POINTERS:
// uncompressed or direct blocks) or other flags the kernel refuses. Bounded: directory bytes,
// depth, the entries listed, a block's decompressed size.
const (
	cramfsPage        = 4096
	cramfsMaxDepth    = 64
	cramfsMaxDirBytes = 16 << 20 // all directories together (the size field is 24 bits)
	cramfsExtBlocks   = 0x800
	cramfsSupported   = 0xff | 0x100 | 0x200 | 0x400 // version/sorted bits, holes, wrong signature, shifted root
)

type cramfsInode struct {
	mode    uint16
	size    int64
	nameLen int
	offset  int64
}

func cramfsParseInode(b []byte) cramfsInode {
	le := binary.LittleEndian
	w0, w1, w2 := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
	return cramfsInode{mode: uint16(w0), size: int64(w1 & 0xffffff), nameLen: int(w2&0x3f) * 4, offset: int64(w2>>6) * 4}
}

// openCramfs searches the regular files of a cramfs image as IMAGE!/PATH.
func (w *worker) openCramfs(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	head := make([]byte, min(size, 512+76))
	if n, err := ra.ReadAt(head, 0); n < len(head) {
		return fmt.Errorf("%s: %w", name, err)
	}
	sb := head
	if len(sb) < 76 || binary.LittleEndian.Uint32(sb) != 0x28cd3d45 {
		if len(head) >= 512+76 && binary.LittleEndian.Uint32(head[512:]) == 0x28cd3d45 {
			sb = head[512:]
		} else {
			return fmt.Errorf("%s: a big-endian cramfs image, which this checker does not open", name)
		}
	}
	flags := binary.LittleEndian.Uint32(sb[8:])
	if flags&cramfsExtBlocks != 0 || flags&^cramfsSupported != 0 {
		return fmt.Errorf("%s: a cramfs image with flags %#x (extended block pointers or unknown), which this checker does not open", name, flags)
	}
	c := &cramfsImage{name: name, ra: ra, size: size, seen: map[int64]bool{}}
	return c.walk(w, u, "", cramfsParseInode(sb[64:76]), 0, depth)
}

type cramfsImage struct {
	name     string
	ra       io.ReaderAt
	size     int64
	dirBytes int64
	seen     map[int64]bool
}

func (c *cramfsImage) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > c.size || n > c.size-off {
		return nil, fmt.Errorf("%d bytes at offset %d lie outside the image (%d bytes)", n, off, c.size)
	}
	b := make([]byte, n)
	if got, err := c.ra.ReadAt(b, off); int64(got) < n {
		return nil, fmt.Errorf("offset %d: %v", off, err)
	}
	return b, nil
}

// walk searches a directory's files, its subdirectories depth first; what cannot be read is
// recorded in u, what stops the whole file is returned.
func (c *cramfsImage) walk(w *worker, u *unpacking, dir string, ino cramfsInode, level, depth int) error {
	label := c.name + "!/" + dir
	if level > cramfsMaxDepth {
		u.miss(fmt.Errorf("%s: directories nested more than %d deep", label, cramfsMaxDepth))
		return nil
	}
	if ino.size == 0 {
		return nil
	}
	if c.seen[ino.offset] {
		u.miss(fmt.Errorf("%s: directory at offset %d listed twice (a loop)", label, ino.offset))
		return nil
	}
	c.seen[ino.offset] = true
	c.dirBytes += ino.size
	if c.dirBytes > cramfsMaxDirBytes {
		return fmt.Errorf("%w: %s: more than %d bytes of directories", errArchiveLimit, c.name, cramfsMaxDirBytes)
	}
	b, err := c.read(ino.offset, ino.size)
	if err != nil {
		u.miss(fmt.Errorf("%s: directory not read: %v", label, err))
		return nil
	}
	for i := 0; i < len(b); {
		if i+12 > len(b) {
			u.miss(fmt.Errorf("%s: directory entry at offset %d runs past the directory", label, ino.offset+int64(i)))
			return nil
		}
		e := cramfsParseInode(b[i:])
		if e.nameLen == 0 || i+12+e.nameLen > len(b) {
			u.miss(fmt.Errorf("%s: directory entry at offset %d: name of %d bytes", label, ino.offset+int64(i), e.nameLen))
			return nil
		}
		n := string(bytes.TrimRight(b[i+12:i+12+e.nameLen], "\x00"))
		i += 12 + e.nameLen
		if n == "" || n == "." || n == ".." || bytes.IndexByte([]byte(n), '/') >= 0 {
			u.miss(fmt.Errorf("%s: directory entry named %q", label, n))
			continue
		}
		p := path.Join(dir, n)
		switch e.mode & 0o170000 {
		case 0o040000:
			if err := c.walk(w, u, p, e, level+1, depth); err != nil {
				return err
			}
		case 0o100000:
			if e.size == 0 {
				continue
			}
			mp := c.name + "!/" + p
			if err := w.member(u, mp, e.size, countingReader{&cramfsFile{c: c, ino: e, name: mp}, u}, nil, depth); err != nil {
				return err
			}
		}
		// a symbolic link's target, a device, a FIFO, a socket: no file bytes
	}
	return nil
}

// cramfsFile decompresses a regular file's blocks in order.
type cramfsFile struct {
	c    *cramfsImage
	ino  cramfsInode
	name string
	ptrs []uint32
	next int   // the next block
	left int64 // bytes of the file still to give
	cur  []byte
	init bool
	err  error // sticky: a read after a failure fails the same
	zbuf bytes.Buffer
}

func (f *cramfsFile) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.read(p)
	f.err = err
	return n, err
}

func (f *cramfsFile) read(p []byte) (int, error) {
	if !f.init {
		f.init = true
		f.left = f.ino.size
		nblocks := (f.ino.size + cramfsPage - 1) / cramfsPage
		b, err := f.c.read(f.ino.offset, nblocks*4)
		if err != nil {
			return 0, fmt.Errorf("%s: block pointers: %v", f.name, err)
		}
		f.ptrs = make([]uint32, nblocks)
		for i := range f.ptrs {
			f.ptrs[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
	}
	for len(f.cur) == 0 {
		if f.left == 0 {
			return 0, io.EOF
		}
		if err := f.block(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.cur)
	f.cur = f.cur[n:]
	return n, nil
}

// block decompresses the next block (a hole: zeros).
func (f *cramfsFile) block() error {
	i := f.next
	if i >= len(f.ptrs) {
		return fmt.Errorf("%s: more bytes than its %d blocks hold", f.name, len(f.ptrs))
	}
	f.next++
	start := f.ino.offset + int64(len(f.ptrs))*4
	if i > 0 {
		start = int64(f.ptrs[i-1])
	}
	end := int64(f.ptrs[i])
	want := min(int64(cramfsPage), f.left)
	f.left -= want
	if end == start {
		f.cur = make([]byte, want)
		return nil
	}
	if end < start || end-start > 2*cramfsPage {
		return fmt.Errorf("%s: block %d: compressed bytes %d to %d", f.name, i, start, end)
	}
	z, err := f.c.read(start, end-start)
	if err != nil {
		return fmt.Errorf("%s: block %d: %v", f.name, i, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return fmt.Errorf("%s: block %d: %v", f.name, i, err)
	}
	f.zbuf.Reset()
	_, err = io.Copy(&f.zbuf, io.LimitReader(zr, cramfsPage+1))
	zr.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: block %d: %v", f.name, i, err)
	}
	if int64(f.zbuf.Len()) != want {
		return fmt.Errorf("%s: block %d decompresses to %d bytes, not %d", f.name, i, f.zbuf.Len(), want)
	}
	f.cur = append(f.cur[:0], f.zbuf.Bytes()...)
	return nil
}
