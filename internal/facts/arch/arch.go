// Package arch reads the machine architecture of an image's programs and kernel from their
// headers, as the loaders that run them read them: an ELF header's e_machine (the userland's
// /bin/sh, init), and a kernel image's own header: x86's boot protocol (bzImage "HdrS" and its
// XLF_KERNEL_64 load flag), arm64's and RISC-V's Image headers, the PE header of an EFI-stub
// kernel, an EFI zboot image or a unified kernel image, or an ELF vmlinux; a gzip-compressed
// kernel (arm64's vmlinuz on Debian) is decompressed as far as its header.
package arch

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The architecture names this package reports (uname -m's spelling where there is one).
const (
	X8664   = "x86_64"
	AArch64 = "aarch64"
	I386    = "i386"
	ARM     = "arm"
	RISCV64 = "riscv64"
)

// Supported says whether an architecture is one the marketplaces that name one take (AWS:
// 64-bit x86 or arm64).
func Supported(machine string) bool { return machine == X8664 || machine == AArch64 }

// HeadSize is how many bytes of a file the readers need.
const HeadSize = 4096

var elfMachines = map[elf.Machine]string{
	elf.EM_X86_64: X8664, elf.EM_AARCH64: AArch64, elf.EM_386: I386, elf.EM_ARM: ARM, elf.EM_RISCV: RISCV64,
}

// ELF reads an ELF header: its machine's name (elf.Machine's own for one this package does not
// name) and its class. An error says why the bytes are no ELF header, with the offset.
func ELF(b []byte) (machine string, class elf.Class, err error) {
	if len(b) < 20 || string(b[:4]) != elf.ELFMAG {
		return "", 0, errors.New("offset 0: no ELF magic")
	}
	class = elf.Class(b[elf.EI_CLASS])
	var bo binary.ByteOrder
	switch elf.Data(b[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return "", class, fmt.Errorf("offset %d: ELF data encoding %d", elf.EI_DATA, b[elf.EI_DATA])
	}
	m := elf.Machine(bo.Uint16(b[18:20]))
	name, ok := elfMachines[m]
	if !ok {
		name = m.String()
	}
	if m == elf.EM_386 && class == elf.ELFCLASS64 || m == elf.EM_X86_64 && class == elf.ELFCLASS32 {
		name += " (" + class.String() + ")" // x32 and the like: not the 64-bit ABI
	}
	return name, class, nil
}

var peMachines = map[uint16]string{0x8664: X8664, 0xaa64: AArch64, 0x14c: I386, 0x1c2: ARM, 0x1c4: ARM, 0x5064: RISCV64}

// Kernel reads a kernel image's architecture from the start of r (at most HeadSize bytes, and as
// much compressed input as the first HeadSize decompressed bytes need); format says which header
// told it. An image none of the formats recognises is an error naming the offsets looked at.
func Kernel(r io.Reader) (machine, format string, err error) {
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", "", fmt.Errorf("offset 0: %w", err)
	}
	head = head[:n]
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(head), r))
		if err != nil {
			return "", "", fmt.Errorf("offset 0: gzip: %w", err)
		}
		inner := make([]byte, HeadSize)
		m, err := io.ReadFull(zr, inner)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return "", "", fmt.Errorf("gzip stream: offset %d of the decompressed kernel: %w", m, err)
		}
		machine, format, err := header(inner[:m])
		if err != nil {
			return "", "", fmt.Errorf("gzip-compressed kernel: %w", err)
		}
		return machine, "gzip-compressed " + format, nil
	}
	return header(head)
}

func header(b []byte) (machine, format string, err error) {
	le := binary.LittleEndian
	at := func(off int, s string) bool { return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s }
	if at(0, elf.ELFMAG) {
		m, _, err := ELF(b)
		return m, "ELF vmlinux", err
	}
	// arm64 and RISC-V Image headers (Documentation/arch/arm64/booting.rst, riscv/boot-image-header.rst)
	if at(0x38, "ARM\x64") {
		return AArch64, "arm64 Image header", nil
	}
	if at(0x38, "RSC\x05") || at(0x30, "RISCV\x00\x00\x00") {
		return RISCV64, "RISC-V Image header", nil
	}
	// x86 boot protocol (Documentation/arch/x86/boot.rst): 2.12 and later say whether the
	// kernel is 64-bit (XLF_KERNEL_64 in xloadflags)
	if at(0x202, "HdrS") && len(b) >= 0x238 {
		version := le.Uint16(b[0x206:])
		if version >= 0x020c {
			if le.Uint16(b[0x236:])&1 != 0 {
				return X8664, fmt.Sprintf("x86 boot protocol %d.%02d, XLF_KERNEL_64", version>>8, version&0xff), nil
			}
			return I386, fmt.Sprintf("x86 boot protocol %d.%02d without XLF_KERNEL_64", version>>8, version&0xff), nil
		}
		if m, f, ok := pe(b); ok {
			return m, f, nil
		}
		return "", "", fmt.Errorf("offset 0x206: x86 boot protocol %d.%02d predates 2.12 and says not whether the kernel is 64-bit", version>>8, version&0xff)
	}
	if m, f, ok := pe(b); ok {
		return m, f, nil
	}
	// 32-bit ARM zImage (arch/arm/boot/compressed/head.S): magic at 0x24
	if len(b) >= 0x28 && le.Uint32(b[0x24:]) == 0x016f2818 {
		return ARM, "ARM zImage header", nil
	}
	return "", "", errors.New("no kernel header recognised (ELF at 0, arm64/RISC-V Image magic at 0x30/0x38, x86 \"HdrS\" at 0x202, PE at the offset 0x3c names, ARM zImage magic at 0x24)")
}

// pe reads the machine of a PE header (an EFI-stub kernel, an EFI zboot image, a UKI).
func pe(b []byte) (machine, format string, ok bool) {
	if len(b) < 0x40 || string(b[:2]) != "MZ" {
		return "", "", false
	}
	off := int(binary.LittleEndian.Uint32(b[0x3c:]))
	if off < 0x40 || off+6 > len(b) || string(b[off:off+4]) != "PE\x00\x00" {
		return "", "", false
	}
	mt := binary.LittleEndian.Uint16(b[off+4:])
	name, known := peMachines[mt]
	if !known {
		name = fmt.Sprintf("PE machine %#x", mt)
	}
	kind := "PE header (EFI stub)"
	if string(b[4:8]) == "zimg" {
		kind = "PE header (EFI zboot image)"
	}
	return name, fmt.Sprintf("%s at offset %#x", kind, off), true
}
