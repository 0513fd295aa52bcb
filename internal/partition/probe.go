package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// probeBytes covers every signature we look at (btrfs keeps its superblock at 64 KiB).
const probeBytes = 0x10000 + 0x1000

// Probe reads the first bytes of p and sets its Kind, FSUUID and FSLabel.
func Probe(name string, disk io.ReaderAt, p *Partition) error {
	n := int64(probeBytes)
	if p.Size < n {
		n = p.Size
	}
	buf := make([]byte, n)
	got, err := disk.ReadAt(buf, p.Start)
	if got < len(buf) && err != nil && err != io.EOF {
		return fmt.Errorf("%s: offset %#x: reading partition %d: %w", name, p.Start, p.Number, err)
	}
	buf = buf[:got]
	p.Kind, p.FSUUID, p.FSLabel = Identify(buf)
	if sigs := Signatures(buf); len(sigs) > 1 {
		p.Kind, p.FSUUID, p.FSLabel, p.Signatures = KindAmbiguous, "", "", sigs
	}
	return nil
}

// Signatures lists the filesystems whose superblocks the leading bytes b of a partition carry,
// each checked beyond its magic number (an ext2/3/4 superblock's geometry, a FAT boot sector's
// signature), so that one filesystem's own bytes do not pass for another's: a partition that
// carries two (a small ext2 in the boot-code sectors of an NTFS volume) is ambiguous.
func Signatures(b []byte) []Kind {
	le := binary.LittleEndian
	at := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	var out []Kind
	if len(b) >= 1024+264 && le.Uint16(b[1024+56:]) == 0xEF53 {
		sb := b[1024:]
		if le.Uint32(sb[24:]) <= 6 && le.Uint32(sb[4:]) > 0 && le.Uint32(sb[32:]) > 0 && le.Uint32(sb[40:]) > 0 && le.Uint32(sb[0:]) > 0 {
			out = append(out, KindExt2)
		}
	}
	if at(0, "XFSB") && len(b) >= 120 {
		out = append(out, KindXFS)
	}
	if at(0x10040, "_BHRfS_M") {
		out = append(out, KindBtrfs)
	}
	if at(3, "NTFS    ") {
		out = append(out, KindNTFS)
	}
	if fatBootSector(b) {
		out = append(out, KindVFAT)
	}
	return out
}

// fatBootSector says whether b starts with a FAT boot sector: the 0x55AA signature and a FAT
// type string where FAT12/16 or FAT32 keep it.
func fatBootSector(b []byte) bool {
	at := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	return len(b) >= 512 && b[510] == 0x55 && b[511] == 0xAA && (at(82, "FAT32") || at(54, "FAT16") || at(54, "FAT12") || at(54, "FAT     "))
}

// Identify names what the leading bytes b of a partition hold.
func Identify(b []byte) (kind Kind, uuid, label string) {
	le := binary.LittleEndian
	at := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case len(b) >= 1024+264 && le.Uint16(b[1024+56:]) == 0xEF53:
		sb := b[1024:]
		kind = KindExt2
		if le.Uint32(sb[96:])&(0x40|0x80|0x200) != 0 {
			kind = KindExt4
		} else if le.Uint32(sb[92:])&0x4 != 0 {
			kind = KindExt3
		}
		return kind, stdUUID(sb[104:120]), cstr(sb[120:136])
	case at(0, "XFSB") && len(b) >= 120:
		return KindXFS, stdUUID(b[32:48]), cstr(b[108:120])
	case at(0x10040, "_BHRfS_M") && len(b) >= 0x1012b+256:
		return KindBtrfs, stdUUID(b[0x10020:0x10030]), cstr(b[0x1012b : 0x1012b+256])
	case at(0, "LUKS\xba\xbe"):
		u := ""
		if len(b) >= 168+40 {
			u = cstr(b[168:208])
		}
		return KindLUKS, u, ""
	case at(3, "-FVE-FS-"):
		return KindBitLocker, "", ""
	case at(3, "NTFS    ") && len(b) >= 80:
		return KindNTFS, fmt.Sprintf("%016X", le.Uint64(b[72:])), ""
	case fatBootSector(b):
		ser, lab := 39, 43
		if at(82, "FAT32") {
			ser, lab = 67, 71
		}
		s := le.Uint32(b[ser:])
		l := strings.TrimSpace(cstr(b[lab : lab+11]))
		if l == "NO NAME" {
			l = ""
		}
		return KindVFAT, fmt.Sprintf("%04X-%04X", s>>16, s&0xffff), l
	}
	for _, page := range []int{4096, 8192, 16384, 65536} {
		if at(page-10, "SWAPSPACE2") || at(page-10, "SWAP-SPACE") {
			return KindSwap, stdUUID(b[1036:1052]), cstr(b[1052:1068])
		}
	}
	for s := 0; s < 4; s++ {
		if at(s*512, "LABELONE") && at(s*512+24, "LVM2 001") {
			return KindLVM, "", ""
		}
	}
	if len(b) > 0 && bytes.Count(b, []byte{0}) == len(b) {
		return KindEmpty, "", ""
	}
	return KindUnknown, "", ""
}

func stdUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
