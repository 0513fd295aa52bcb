package testfixture

import (
	"os"
	"path/filepath"
	"testing"
)

// The changes the access rules' tests (internal/rules/access_test.go and the facts they judge)
// apply to the compliant tree: what a distribution's packages install, as they install it.

const cloudInitUnit = "[Unit]\nDescription=cloud-init stage\n[Service]\nType=oneshot\nExecStart=/usr/bin/cloud-init init\n[Install]\nWantedBy=cloud-init.target\n"

// CloudInit is cloud-init as Debian 12's package installs and enables it: the command, the four
// stage units wanted by cloud-init.target, the target, and the generator that pulls the target
// into the boot, and systemd's own binary (the compliant tree has units but no systemd).
func CloudInit() Change {
	c := Change{
		"/usr/bin/cloud-init":                                 "#!/usr/bin/python3\n",
		"/usr/lib/systemd/systemd":                            "\x7fELF",
		"/lib/systemd/system/cloud-init.target":               "[Unit]\nDescription=Cloud-init target\nAfter=multi-user.target\n",
		"/lib/systemd/system-generators/cloud-init-generator": "#!/bin/sh\n",
	}
	for _, u := range []string{"cloud-init-local.service", "cloud-init.service", "cloud-config.service", "cloud-final.service"} {
		c["/lib/systemd/system/"+u] = cloudInitUnit
		c["/etc/systemd/system/cloud-init.target.wants/"+u] = "-> /lib/systemd/system/" + u
	}
	return c
}

// UFW is ufw as Ubuntu's package installs it and `ufw --force enable` leaves it: the service
// wanted by multi-user.target and the switch in ufw.conf on, so its boot script loads rules.
func UFW() Change {
	return Change{
		"/usr/lib/systemd/system/ufw.service":                     "[Service]\nExecStart=/lib/ufw/ufw-init start quiet\n[Install]\nWantedBy=multi-user.target\n",
		"/etc/systemd/system/multi-user.target.wants/ufw.service": "-> /usr/lib/systemd/system/ufw.service",
		"/etc/ufw/ufw.conf":                                       "ENABLED=yes\n",
	}
}

// With is c with the changes of more applied over it (a later map's value wins).
func With(c Change, more ...Change) Change {
	out := Change{}
	for _, m := range append([]Change{c}, more...) {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// DiskWithData is DiskVariant with a second partition after the root (MBR type 0x83, 8 MiB)
// whose first bytes are data and each of whose more entries (offset in the partition => bytes)
// is written at its offset: a volume header a test wants a reader to find where a real
// cryptsetup or BitLocker leaves it.
func DiskWithData(t testing.TB, changes Change, fsUUID string, data []byte, more map[int64][]byte) string {
	t.Helper()
	tree := variantTree(t, changes)
	dir := filepath.Dir(tree)
	part, second, disk := filepath.Join(dir, "part.img"), filepath.Join(dir, "second.img"), filepath.Join(dir, "disk.raw")
	buf := make([]byte, 8<<20)
	copy(buf, data)
	for off, b := range more {
		copy(buf[off:], b)
	}
	if err := os.WriteFile(second, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	runAll(t, nil, [][]string{
		{"mke2fs", "-q", "-F", "-t", "ext4", "-U", fsUUID, "-L", "root", "-d", tree, part, "64M"},
		{"truncate", "-s", "74M", disk},
		{"sh", "-c", "printf 'label: dos\\nstart=2048, size=131072, type=83\\nstart=133120, size=16384, type=83\\n' | sfdisk -q " + disk},
		{"dd", "if=" + part, "of=" + disk, "bs=1M", "seek=1", "conv=notrunc", "status=none"},
		{"dd", "if=" + second, "of=" + disk, "bs=1M", "seek=65", "conv=notrunc", "status=none"},
	})
	return disk
}

// LUKS1Header is a LUKS1 phdr as cryptsetup luksFormat --type luks1 writes it (the fields a
// reader looks at: magic, version 1, cipher, mode, hash, payload offset, key size, UUID).
func LUKS1Header(uuid string) []byte {
	b := make([]byte, 592)
	copy(b, "LUKS\xba\xbe\x00\x01")
	copy(b[8:], "aes")
	copy(b[40:], "xts-plain64")
	copy(b[72:], "sha256")
	b[104+2], b[104+3] = 0x10, 0x00 // payload offset 4096 sectors
	b[108+3] = 64                   // key bytes
	copy(b[168:], uuid)
	return b
}

// LUKS2Header is a LUKS2 binary header at off (0 for the primary, else a secondary, whose magic
// is "SKUL\xba\xbe"), with a 16 KiB header size, label and UUID.
func LUKS2Header(uuid, label string, off int64) []byte {
	b := make([]byte, 4096)
	magic := "LUKS\xba\xbe"
	if off != 0 {
		magic = "SKUL\xba\xbe"
	}
	copy(b, magic+"\x00\x02")
	b[8+5] = 0x40 // hdr_size 0x4000
	b[16+7] = 1   // seqid
	copy(b[24:], label)
	copy(b[72:], "sha256")
	copy(b[168:], uuid)
	for i := 0; i < 8; i++ {
		b[256+i] = byte(off >> (56 - 8*i))
	}
	return b
}

// BitLockerBootSector is the start of a BitLocker volume: a jump, then "-FVE-FS-" as its OEM ID.
func BitLockerBootSector() []byte {
	b := make([]byte, 512)
	copy(b, "\xeb\x58\x90-FVE-FS-")
	b[510], b[511] = 0x55, 0xaa
	return b
}
