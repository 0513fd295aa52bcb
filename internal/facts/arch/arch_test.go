package arch

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTestdata is a file of Go's own test data: real binaries of other architectures.
func goTestdata(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestELF(t *testing.T) {
	for p, want := range map[string]string{
		"debug/elf/testdata/gcc-amd64-linux-exec":                  X8664,
		"debug/elf/testdata/go-relocation-test-gcc482-aarch64.obj": AArch64,
		"debug/elf/testdata/gcc-386-freebsd-exec":                  I386,
		"debug/elf/testdata/gcc-riscv64-linux-exec":                RISCV64,
		"debug/elf/testdata/go-relocation-test-gcc531-s390x.obj":   "EM_S390",
	} {
		m, _, err := ELF(goTestdata(t, p))
		if err != nil || m != want {
			t.Errorf("%s: %s, %v; want %s", p, m, err, want)
		}
	}
	if _, _, err := ELF([]byte("#!/bin/sh\n")); err == nil {
		t.Error("a script is an ELF file")
	}
	self, err := os.ReadFile("/bin/sh")
	if err == nil {
		if m, c, err := ELF(self); err != nil || c != elf.ELFCLASS64 || (runtime.GOARCH == "amd64" && m != X8664) {
			t.Errorf("/bin/sh: %s %s %v", m, c, err)
		}
	}
}

// bzImage is the start of an x86 kernel: the boot sector's setup header with the protocol
// version and the load flags.
func bzImage(version, xloadflags uint16) []byte {
	b := make([]byte, 0x300)
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], version)
	binary.LittleEndian.PutUint16(b[0x236:], xloadflags)
	return b
}

// arm64Image is the start of an arm64 Image with an EFI stub: "MZ", the PE offset, the magic.
func arm64Image() []byte {
	b := make([]byte, 0x100)
	copy(b, "MZ")
	copy(b[0x38:], "ARM\x64")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x40)
	copy(b[0x40:], "PE\x00\x00\x64\xaa")
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Write(make([]byte, 1<<20)) // the rest of the kernel: not read
	w.Close()
	return buf.Bytes()
}

func TestKernel(t *testing.T) {
	zboot := make([]byte, 0x100)
	copy(zboot, "MZ\x00\x00zimg")
	binary.LittleEndian.PutUint32(zboot[0x3c:], 0x80)
	copy(zboot[0x80:], "PE\x00\x00\x64\xaa")
	// a PE header cut after its signature and one byte of the machine field
	cutPE := make([]byte, 0x45)
	copy(cutPE, "MZ")
	binary.LittleEndian.PutUint32(cutPE[0x3c:], 0x40)
	copy(cutPE[0x40:], "PE\x00\x00\x64")
	armz := make([]byte, 0x40)
	binary.LittleEndian.PutUint32(armz[0x24:], 0x016f2818)
	for _, c := range []struct {
		name    string
		b       []byte
		machine string
		format  string
	}{
		{"x86-64 bzImage", bzImage(0x020f, 1), X8664, "XLF_KERNEL_64"},
		{"protocol 2.12 exactly", bzImage(0x020c, 1), X8664, "2.12"},
		{"32-bit bzImage", bzImage(0x020f, 0), I386, "without"},
		{"old protocol", bzImage(0x020b, 1), "", ""},
		{"Ubuntu's EFI-stub vmlinuz (Go's test data)", goTestdata(t, "debug/pe/testdata/vmlinuz-4.15.0-47-generic"), X8664, "PE header"},
		{"arm64 Image", arm64Image(), AArch64, "arm64 Image"},
		{"gzip-compressed arm64 Image", gz(arm64Image()), AArch64, "gzip-compressed arm64"},
		{"EFI zboot", zboot, AArch64, "zboot"},
		{"ELF vmlinux", goTestdata(t, "debug/elf/testdata/gcc-riscv64-linux-exec"), RISCV64, "ELF"},
		{"ARM zImage", armz, ARM, "zImage"},
		{"random", bytes.Repeat([]byte{0xb3, 0x8c}, 2048), "", ""},
		{"empty", nil, "", ""},
		{"a PE header cut short", cutPE, "", ""},
		{"gzip of nothing kernel-like", gz([]byte("hello")), "", ""},
	} {
		m, f, err := Kernel(bytes.NewReader(c.b))
		if m != c.machine || (c.machine == "") != (err != nil) || !strings.Contains(f, c.format) {
			t.Errorf("%s: %q %q %v; want %q with %q", c.name, m, f, err, c.machine, c.format)
		}
	}
}

func FuzzKernel(f *testing.F) {
	f.Add(bzImage(0x020f, 1))
	f.Add(arm64Image())
	f.Add(gz(arm64Image())[:200])
	f.Add([]byte("MZ\x00\x00zimg"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := Kernel(bytes.NewReader(b))
		if (err == nil) == (m == "") {
			t.Errorf("machine %q with error %v", m, err)
		}
		_, _, _ = ELF(b)
	})
}
