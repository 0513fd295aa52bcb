package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

const (
	qcowOffsetMask     = 0x00fffffffffffe00 // bits 9-55
	qcowCompressedFlag = 1 << 62
	qcowZeroFlag       = 1
	// largest cluster (2 MiB) and largest L1 table we accept (covers any sane disk)
	qcowMaxClusterBits = 21
	qcowMaxL1Entries   = 32 << 20 / 8
)

type qcow2 struct {
	name        string
	src         io.ReaderAt
	fileSize    int64
	clusterBits uint
	clusterSize int64
	l1          []uint64
	mu          sync.Mutex
	l2          *tableCache[[]uint64]
	inflated    *inflatedCache // decompressed clusters by host offset
}

func openQcow2(d *Disk, src io.ReaderAt) error {
	h, err := byteio.ReadAt(src, d.Name, 0, 112)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	version := be.Uint32(h[4:])
	if version != 2 && version != 3 {
		return byteio.Corrupt(d.Name, 4, "unsupported qcow2 version %d", version)
	}
	if be.Uint64(h[8:]) != 0 {
		return byteio.Corrupt(d.Name, 8, "qcow2 image has a backing file; check a flattened copy (qemu-img convert -O qcow2)")
	}
	clusterBits := be.Uint32(h[20:])
	if clusterBits < 9 || clusterBits > qcowMaxClusterBits {
		return byteio.Corrupt(d.Name, 20, "qcow2 cluster_bits %d out of range 9..%d", clusterBits, qcowMaxClusterBits)
	}
	size := int64(be.Uint64(h[24:]))
	if size < 0 || size > 1<<50 {
		return byteio.Corrupt(d.Name, 24, "qcow2 virtual size %d out of range", size)
	}
	if be.Uint32(h[32:]) != 0 {
		return byteio.Corrupt(d.Name, 32, "encrypted qcow2 images cannot be inspected")
	}
	l1Size := be.Uint32(h[36:])
	l1Off := int64(be.Uint64(h[40:]))
	snapshots, err := qcow2Snapshots(d.Name, src, d.FileSize, be.Uint32(h[60:]), int64(be.Uint64(h[64:])))
	if err != nil {
		return err
	}
	if version == 3 {
		incompat := be.Uint64(h[72:])
		if incompat&1 != 0 {
			return byteio.Corrupt(d.Name, 72, "qcow2 image is marked dirty; run qemu-img check -r all first")
		}
		if incompat&^uint64(1|2|8) != 0 { // dirty, corrupt, compression type are understood
			return byteio.Corrupt(d.Name, 72, "qcow2 incompatible features %#x not supported (external data file or extended L2 entries?)", incompat)
		}
		if incompat&2 != 0 {
			return byteio.Corrupt(d.Name, 72, "qcow2 image is marked corrupt")
		}
		if incompat&8 != 0 && h[104] != 0 {
			return byteio.Corrupt(d.Name, 104, "qcow2 compression type %d (zstd) not supported", h[104])
		}
	}
	cs := int64(1) << clusterBits
	need := (size + cs - 1) / cs
	perL2 := cs / 8
	needL1 := (need + perL2 - 1) / perL2
	if int64(l1Size) < needL1 || l1Size > qcowMaxL1Entries {
		return byteio.Corrupt(d.Name, 36, "qcow2 L1 table has %d entries, virtual size needs %d", l1Size, needL1)
	}
	raw, err := byteio.ReadAt(src, d.Name, l1Off, int(needL1)*8)
	if err != nil {
		return err
	}
	q := &qcow2{name: d.Name, src: src, fileSize: d.FileSize, clusterBits: uint(clusterBits), clusterSize: cs,
		l1: make([]uint64, needL1), l2: newTableCache[[]uint64](64), inflated: newInflatedCache(inflatedCacheBytes)}
	for i := range q.l1 {
		q.l1[i] = be.Uint64(raw[i*8:])
	}
	d.Format, d.Variant, d.VirtualSize = "qcow2", fmt.Sprintf("v%d", version), size
	d.Snapshots = snapshots
	d.virt = &blockReader{size: size, blockSize: cs, readBlock: q.readCluster}
	d.dataAfter = q.dataAfter
	return nil
}

// Bounds of the snapshot table, as QEMU's own (block/qcow2.h, QCOW_MAX_SNAPSHOTS and
// QCOW_MAX_SNAPSHOT_EXTRA_DATA at qemu v9.2.0): a table claiming more is corrupt.
const (
	qcowMaxSnapshots         = 65536
	qcowMaxSnapshotExtraData = 1024
	qcowSnapshotHeader       = 40
)

// qcow2Snapshots reads the internal snapshot table (n entries at off): each entry is a fixed
// 40-byte header (L1 table offset and size, the ID and name lengths, the date, the VM clock, the
// VM state size, the extra data size), the extra data (whose first 8 bytes, when present, are
// the VM state size again as 64 bits and whose next 8 the disk size at the snapshot), the ID and
// the name, padded to 8 bytes (docs/interop/qcow2.txt, "Snapshots", qemu v9.2.0). Only what
// names a snapshot and says how large it is is kept: its clusters are not read.
func qcow2Snapshots(name string, src io.ReaderAt, fileSize int64, n uint32, off int64) ([]Snapshot, error) {
	if n == 0 {
		return nil, nil
	}
	if n > qcowMaxSnapshots {
		return nil, byteio.Corrupt(name, 60, "qcow2 image claims %d internal snapshots (at most %d)", n, qcowMaxSnapshots)
	}
	if off <= 0 || off%8 != 0 || off >= fileSize {
		return nil, byteio.Corrupt(name, 64, "qcow2 snapshot table offset %#x is not in the file", off)
	}
	be := binary.BigEndian
	out := make([]Snapshot, 0, min(n, 64))
	for i := uint32(0); i < n; i++ {
		h, err := byteio.ReadAt(src, name, off, qcowSnapshotHeader)
		if err != nil {
			return nil, fmt.Errorf("qcow2 snapshot %d of %d: %w", i+1, n, err)
		}
		idLen, nameLen := int(be.Uint16(h[12:])), int(be.Uint16(h[14:]))
		extra := int(be.Uint32(h[36:]))
		if extra > qcowMaxSnapshotExtraData {
			return nil, byteio.Corrupt(name, off+36, "qcow2 snapshot %d has %d bytes of extra data (at most %d)", i+1, extra, qcowMaxSnapshotExtraData)
		}
		s := Snapshot{Offset: off, VMStateSize: int64(be.Uint32(h[32:]))}
		rest, err := byteio.ReadAt(src, name, off+qcowSnapshotHeader, extra+idLen+nameLen)
		if err != nil {
			return nil, fmt.Errorf("qcow2 snapshot %d of %d: %w", i+1, n, err)
		}
		if extra >= 8 {
			s.VMStateSize = int64(be.Uint64(rest[0:]) & (1<<62 - 1))
		}
		if extra >= 16 {
			s.DiskSize = int64(be.Uint64(rest[8:]) & (1<<62 - 1))
		}
		s.ID, s.Name = string(rest[extra:extra+idLen]), string(rest[extra+idLen:])
		out = append(out, s)
		size := int64(qcowSnapshotHeader + extra + idLen + nameLen)
		off += (size + 7) &^ 7
	}
	return out, nil
}

// dataAfter is the first guest offset at or after off whose cluster is allocated (or
// compressed, or its L2 table unreadable); the size of the disk when none is.
func (q *qcow2) dataAfter(off int64, size int64) int64 {
	cs := q.clusterSize
	perL2 := cs / 8
	for idx := off / cs; idx*cs < size; {
		l1i := idx / perL2
		if l1i >= int64(len(q.l1)) {
			return size
		}
		l2Off := int64(q.l1[l1i] & qcowOffsetMask)
		if l2Off == 0 {
			idx = (l1i + 1) * perL2 // a whole L2 table's clusters are unallocated
			continue
		}
		if l2Off%cs != 0 {
			return max(off, idx*cs)
		}
		t, err := q.l2Table(l2Off)
		if err != nil {
			return max(off, idx*cs) // a read will report it
		}
		for ; idx < (l1i+1)*perL2 && idx*cs < size; idx++ {
			e := t[idx%perL2]
			if e&qcowCompressedFlag != 0 || e&qcowZeroFlag == 0 && e&qcowOffsetMask != 0 {
				return max(off, idx*cs)
			}
		}
	}
	return size
}

func (q *qcow2) l2Table(off int64) ([]uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.l2.get(off); ok {
		return t, nil
	}
	raw, err := byteio.ReadAt(q.src, q.name, off, int(q.clusterSize))
	if err != nil {
		return nil, err
	}
	t := make([]uint64, q.clusterSize/8)
	for i := range t {
		t[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	q.l2.put(off, t)
	return t, nil
}

func (q *qcow2) readCluster(p []byte, idx, within int64) error {
	perL2 := q.clusterSize / 8
	l1e := q.l1[idx/perL2]
	l2Off := int64(l1e & qcowOffsetMask)
	if l2Off == 0 {
		byteio.ZeroFill(p)
		return nil
	}
	if l2Off%q.clusterSize != 0 {
		return byteio.Corrupt(q.name, l2Off, "qcow2 L2 table not cluster aligned")
	}
	t, err := q.l2Table(l2Off)
	if err != nil {
		return err
	}
	e := t[idx%perL2]
	if e&qcowCompressedFlag != 0 {
		return q.readCompressed(p, e, within)
	}
	host := int64(e & qcowOffsetMask)
	if e&qcowZeroFlag != 0 || host == 0 {
		byteio.ZeroFill(p)
		return nil
	}
	return readFull(q.src, q.name, p, host+within)
}

func (q *qcow2) readCompressed(p []byte, e uint64, within int64) error {
	x := 62 - (q.clusterBits - 8)
	host := int64(e & (1<<x - 1))
	sectors := int64((e>>x)&(1<<(q.clusterBits-8)-1)) + 1
	if b, ok := q.inflated.get(host); ok {
		copy(p, b[within:])
		return nil
	}
	n := sectors*512 - host%512
	if host+n > q.fileSize {
		n = q.fileSize - host
	}
	if n <= 0 {
		return byteio.Corrupt(q.name, host, "qcow2 compressed cluster outside the file")
	}
	comp, err := byteio.ReadAt(q.src, q.name, host, int(n))
	if err != nil {
		return err
	}
	buf := make([]byte, q.clusterSize)
	zr := flate.NewReader(bytes.NewReader(comp))
	got, err := io.ReadFull(zr, buf)
	if err != nil && got != len(buf) {
		return byteio.Corrupt(q.name, host, "qcow2 compressed cluster does not inflate: %v", err)
	}
	q.inflated.put(host, buf)
	copy(p, buf[within:])
	return nil
}
