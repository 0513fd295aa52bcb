package inspect

import (
	"bytes"
	"fmt"

	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// zeroChunk is the read size of the search for a partition's first byte that is not zero.
const zeroChunk = 1 << 20

// swapPageSizes are the page sizes whose swap header ends in the signature mkswap writes
// ("SWAPSPACE2" in the last 10 bytes of the first page; util-linux libblkid's swap prober
// looks at the same four).
var swapPageSizes = []int64{4096, 8192, 16384, 65536}

// unreadBytes says why the bytes of partition p, which holds no filesystem this checker reads
// (its Kind is unknown, empty, or swap), are not seen by a pass over every file; "" when there is
// nothing to see:
//   - a partition of unknown content (raw bytes, a squashfs, a filesystem the prober does not
//     know) is unread whole;
//   - one whose first bytes are zeros (KindEmpty) is unread unless every byte is a zero;
//   - a swap area is unread unless every page after its header is a zero: the pages a running
//     system swapped out hold whatever its memory held (no-swap judges the partition itself);
//   - a BIOS boot partition holds the boot loader's own code (GRUB's core.img) and no files; it
//     is not listed (what boots is read by the boot rules).
//
// The zeros are proven cheaply where the container can prove them (Disk.DataAfter: a sparse raw
// file's holes, unallocated qcow2 clusters), and read elsewhere, up to the first byte that is not
// zero.
func unreadBytes(d *image.Disk, p *partition.Partition) string {
	var from int64
	switch p.Kind {
	case partition.KindUnknown:
		return fmt.Sprintf("holds no filesystem this checker reads (type %s): its %d bytes are not searched", p.TypeID, p.Size)
	case partition.KindAmbiguous:
		return fmt.Sprintf("carries the superblocks of more than one filesystem (%v): blkid names none of them, and which one is mounted depends on the type mount is given, so its %d bytes are not read as any", p.Signatures, p.Size)
	case partition.KindEmpty:
	case partition.KindSwap:
		from = swapHeaderSize(d, p)
	default:
		return ""
	}
	at, err := firstNonZero(d, p, from)
	switch {
	case err != nil:
		return fmt.Sprintf("holds no filesystem this checker reads, and its bytes could not be read to prove them zeros: %v", err)
	case at < 0:
		return ""
	case p.Kind == partition.KindSwap:
		return fmt.Sprintf("is a swap area holding data (at offset %d of its %d bytes): swapped-out pages are not searched", at, p.Size)
	}
	return fmt.Sprintf("holds no filesystem this checker reads and data at offset %d of its %d bytes (type %s): its bytes are not searched", at, p.Size, p.TypeID)
}

// swapHeaderSize is the size of the swap header page of p: the first page size whose last 10
// bytes hold the signature; the largest page size when none is found (the prober found it, so a
// failed read here leaves less unproven, never more: the rest is still read).
func swapHeaderSize(d *image.Disk, p *partition.Partition) int64 {
	sig := make([]byte, 10)
	for _, ps := range swapPageSizes {
		if ps > p.Size {
			break
		}
		if n, _ := d.ReadAt(sig, p.Start+ps-10); n == len(sig) && (string(sig) == "SWAPSPACE2" || string(sig) == "SWAP-SPACE") {
			return ps
		}
	}
	return 0
}

// firstNonZero returns the offset in p, at or after from, of its first byte that is not zero;
// -1 when every byte is a zero.
func firstNonZero(d *image.Disk, p *partition.Partition, from int64) (int64, error) {
	end := p.Start + p.Size
	buf := make([]byte, zeroChunk)
	zeros := make([]byte, zeroChunk)
	for off := p.Start + from; off < end; {
		off = max(off, d.DataAfter(off))
		if off >= end {
			break
		}
		n := int(min(int64(len(buf)), end-off))
		got, err := d.ReadAt(buf[:n], off)
		if got < n {
			return 0, fmt.Errorf("%s: offset %#x: %v", d.Name, off+int64(got), err)
		}
		if !bytes.Equal(buf[:n], zeros[:n]) {
			for i, c := range buf[:n] {
				if c != 0 {
					return off + int64(i) - p.Start, nil
				}
			}
		}
		off += int64(n)
	}
	return -1, nil
}

// snapshotReason says what an internal snapshot holds that the check does not read.
func snapshotReason(d *image.Disk, s image.Snapshot) string {
	r := fmt.Sprintf("an internal snapshot of the %s image: the disk as it was when the snapshot was taken (qemu-img snapshot -a restores it), not read by this checker; delete it (qemu-img snapshot -d) or check a flattened copy (qemu-img convert -O qcow2)", d.Format)
	if s.VMStateSize > 0 {
		r += fmt.Sprintf("; it also holds %d bytes of saved VM memory", s.VMStateSize)
	}
	return r
}
