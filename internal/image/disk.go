// Package image turns the bytes of a disk image file (raw, qcow2, VHD, VHDX, VMDK) into the
// virtual disk they describe, as an io.ReaderAt. The format is detected by magic, never by name.
package image

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Disk is a virtual disk: the guest-visible bytes of an image file.
type Disk struct {
	Name        string // file name or URL, for messages
	Format      string // raw, qcow2, vhd, vhdx, vmdk
	Variant     string // vhd: fixed|dynamic; vmdk: monolithicSparse|streamOptimized; qcow2: v2|v3
	VirtualSize int64  // size of the virtual disk in bytes
	FileSize    int64  // size of the container file in bytes

	// Snapshots are the container's internal snapshots (qcow2: qemu-img snapshot -c): each is a
	// whole disk as it was when taken, whose bytes ReadAt does not show.
	Snapshots []Snapshot

	virt   io.ReaderAt
	source *CountingReader
	// dataAfter, when the format maps the disk through tables (qcow2), says where the next
	// allocated cluster at or after off is (size when none is)
	dataAfter func(off, size int64) int64
	closer    io.Closer
	// direct: a guest byte is the container file's byte at the same offset (raw, fixed VHD),
	// so a Prefetch hint passes to the file's reader unchanged
	direct bool
}

// Prefetch tells the reader of the container file, when it can be told (a blob's reader) and
// the format maps the disk's bytes to the file's one to one (raw, fixed VHD), that the guest
// bytes [off, off+n) will be read soon; the range is clipped to the virtual disk. It reports
// whether hints are used at all. qcow2, VHDX, VMDK and dynamic VHD map the disk through tables
// (and may compress it): they take no hints (false), and their reads fetch as they go.
func (d *Disk) Prefetch(off, n int64) bool {
	pf, ok := d.source.R.(interface{ Prefetch(off, n int64) bool })
	if !ok || !d.direct {
		return false
	}
	end := min(off+max(n, 0), d.VirtualSize)
	off = max(off, 0)
	if off >= end {
		return pf.Prefetch(0, 0)
	}
	return pf.Prefetch(off, end-off)
}

// Snapshot is an internal snapshot of a container (qcow2): a disk state other than the one the
// container presents, stored in the same file.
type Snapshot struct {
	ID, Name    string
	DiskSize    int64 // the virtual disk's size when the snapshot was taken (0 when not recorded)
	VMStateSize int64 // bytes of saved VM state (RAM, devices) beside the disk; 0 for a disk-only snapshot
	Offset      int64 // where its entry of the snapshot table is in the file
}

// seekData is lseek(2)'s SEEK_DATA whence on Linux (linux/fs.h: SEEK_DATA 3).
const seekData = 3

// DataAfter returns the first guest offset at or after off that may hold bytes other than
// zeros, as far as the container proves without reading them: a raw image's holes (lseek
// SEEK_DATA on the local file) and qcow2 clusters that are not allocated or are marked zero are
// skipped. It is a bound, never a read: off itself when the format proves nothing there, and
// VirtualSize when nothing after off can hold data.
func (d *Disk) DataAfter(off int64) int64 {
	if off >= d.VirtualSize {
		return d.VirtualSize
	}
	off = max(off, 0)
	if d.dataAfter != nil {
		return min(max(d.dataAfter(off, d.VirtualSize), off), d.VirtualSize)
	}
	f, ok := d.source.R.(*os.File)
	if !ok || !d.direct || d.Format != "raw" {
		return off
	}
	// Seek moves the file's offset, which ReadAt (pread) does not use
	n, err := f.Seek(off, seekData)
	switch {
	case errors.Is(err, syscall.ENXIO):
		return d.VirtualSize // no data at or after off
	case err != nil || n < off:
		return off
	}
	return min(n, d.VirtualSize)
}

// ReadAt reads guest-visible bytes. Reads past VirtualSize return io.EOF.
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset", d.Name)
	}
	if off >= d.VirtualSize {
		return 0, io.EOF
	}
	short := false
	if rem := d.VirtualSize - off; int64(len(p)) > rem {
		p = p[:rem]
		short = true
	}
	n, err := d.virt.ReadAt(p, off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

// Size is the virtual disk size.
func (d *Disk) Size() int64 { return d.VirtualSize }

// SourceStats reports how many read calls and bytes reached the container file.
func (d *Disk) SourceStats() (reads, bytes int64) {
	return d.source.Reads.Load(), d.source.Bytes.Load()
}

// Close releases the underlying file, if Open opened it.
func (d *Disk) Close() error {
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

// Open opens an image file and detects its format.
func Open(path string) (*Disk, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not a disk image", path)
	}
	d, err := New(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	d.closer = f
	return d, nil
}

// New detects the format of the image in r (size bytes long) and returns its virtual disk.
func New(name string, r io.ReaderAt, size int64) (*Disk, error) {
	src := &CountingReader{R: r, N: size}
	d := &Disk{Name: name, FileSize: size, source: src}
	if size < 512 {
		return nil, byteio.Corrupt(name, 0, "file is %d bytes, too small to be a disk image", size)
	}
	head, err := byteio.ReadAt(src, name, 0, 512)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		err = openQcow2(d, src)
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		err = openVHDX(d, src)
	case bytes.HasPrefix(head, []byte("KDMV")):
		err = openVMDK(d, src)
	case bytes.HasPrefix(head, []byte("# Disk DescriptorFile")):
		err = byteio.Corrupt(name, 0, "VMDK descriptor file with separate extents; convert it to a single-file image (qemu-img convert -O vmdk -o subformat=monolithicSparse)")
	case bytes.HasPrefix(head, []byte("conectix")):
		err = openDynamicVHD(d, src, head)
	default:
		tail, terr := byteio.ReadAt(src, name, size-512, 512)
		if terr != nil {
			return nil, terr
		}
		if bytes.HasPrefix(tail, []byte("conectix")) {
			err = openFixedVHD(d, src, tail)
		} else {
			d.Format, d.Variant, d.VirtualSize, d.virt = "raw", "", size, src
			d.direct = true
		}
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// CountingReader counts the calls and bytes read through it.
type CountingReader struct {
	R     io.ReaderAt
	N     int64 // size of the underlying file
	Reads atomic.Int64
	Bytes atomic.Int64
}

// Size is the size of the underlying file.
func (c *CountingReader) Size() int64 { return c.N }

// ReadAt implements io.ReaderAt.
func (c *CountingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.R.ReadAt(p, off)
	c.Reads.Add(1)
	c.Bytes.Add(int64(n))
	return n, err
}

// blockReader maps a virtual disk made of fixed-size blocks onto the container file.
// readBlock fills p (which never crosses a block boundary) from block idx at offset within.
type blockReader struct {
	size      int64
	blockSize int64
	readBlock func(p []byte, idx, within int64) error
}

func (b *blockReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < b.size {
		idx, within := off/b.blockSize, off%b.blockSize
		chunk := min(int64(len(p)-n), b.blockSize-within, b.size-off)
		if err := b.readBlock(p[n:n+int(chunk)], idx, within); err != nil {
			return n, err
		}
		n += int(chunk)
		off += chunk
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readFull reads len(p) bytes at off from r, treating a short read as corruption of name.
func readFull(r io.ReaderAt, name string, p []byte, off int64) error {
	got, err := r.ReadAt(p, off)
	if got == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return byteio.Corrupt(name, off, "data block runs past the end of the file (truncated image?)")
	}
	return fmt.Errorf("%s: offset %#x: %w", name, off, err)
}

// tableCache keeps a bounded number of decoded metadata tables (qcow2 L2, VMDK grain tables).
type tableCache[T any] struct {
	max int
	m   map[int64]T
}

func newTableCache[T any](max int) *tableCache[T] {
	return &tableCache[T]{max: max, m: make(map[int64]T)}
}

func (c *tableCache[T]) get(k int64) (T, bool) { v, ok := c.m[k]; return v, ok }

func (c *tableCache[T]) put(k int64, v T) {
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

// inflatedCache keeps the most recently used decompressed clusters (qcow2) or grains
// (streamOptimized VMDK), up to a byte budget, keyed by their offset in the file. Filesystem
// reads of neighbouring blocks arrive as separate requests, interleaved between the walk and
// the scan's workers; with one cluster cached, the same cluster was inflated again and again.
type inflatedCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front: most recently used
	items map[int64]*list.Element
}

type inflatedEntry struct {
	key  int64
	data []byte
}

// inflatedCacheBytes is the budget of one image's cache of decompressed clusters.
const inflatedCacheBytes = 32 << 20

func newInflatedCache(max int64) *inflatedCache {
	return &inflatedCache{max: max, order: list.New(), items: map[int64]*list.Element{}}
}

func (c *inflatedCache) get(k int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*inflatedEntry).data, true
}

func (c *inflatedCache) put(k int64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return // inflated twice at once: keep the first
	}
	c.items[k] = c.order.PushFront(&inflatedEntry{k, b})
	c.size += int64(len(b))
	for c.size > c.max && c.order.Len() > 1 {
		last := c.order.Back()
		ent := last.Value.(*inflatedEntry)
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.size -= int64(len(ent.data))
	}
}

// Label names the snapshot for reports: `qcow2 internal snapshot 1 "before-cleanup"`, its ID and
// name quoted as Go quotes them, so that bytes of a name that are not printable show escaped.
func (s Snapshot) Label() string {
	return fmt.Sprintf("qcow2 internal snapshot %s %s", strconv.Quote(s.ID), strconv.Quote(s.Name))
}
