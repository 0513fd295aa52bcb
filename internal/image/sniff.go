package image

import (
	"bytes"
	"io"
	"os"
)

// LooksLikeDisk reports whether the file at path is a disk image: a known container format, or
// raw bytes that start with a partition table or a filesystem we recognise. Builders put other
// files (OVF, VMX, manifests) next to their disks; this tells them apart without trusting names.
func LooksLikeDisk(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 0x10000+0x1000)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n < 512 {
		return false
	}
	for _, m := range []string{"QFI\xfb", "vhdxfile", "KDMV", "conectix", "# Disk DescriptorFile"} {
		if bytes.HasPrefix(head, []byte(m)) {
			return true
		}
	}
	if st, err := f.Stat(); err == nil && st.Size() >= 1024 {
		tail := make([]byte, 8)
		if _, err := f.ReadAt(tail, st.Size()-512); err == nil && string(tail) == "conectix" {
			return true
		}
	}
	return rawSignature(head)
}

// rawSignature recognises an MBR/GPT boot sector or a filesystem superblock at offset 0.
func rawSignature(b []byte) bool {
	if len(b) >= 512 && b[510] == 0x55 && b[511] == 0xAA {
		return true
	}
	if len(b) >= 1024+58 && b[1024+56] == 0x53 && b[1024+57] == 0xEF {
		return true
	}
	return bytes.HasPrefix(b, []byte("XFSB"))
}
