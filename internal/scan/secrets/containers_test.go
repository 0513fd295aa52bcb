package secrets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Builders of every container format the scanner opens, for the fuzz seeds and the property
// test. bzip2 has no writer in Go's library: the bzip2 tool writes it.

func zipBytes(t testing.TB, name string, data []byte, mode uint32) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	if mode != 0 {
		h.CreatorVersion = 3 << 8 // unix
		h.ExternalAttrs = mode << 16
	}
	f, err := w.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarBytes(t testing.TB, name string, data []byte, flag byte) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: flag, Format: tar.FormatGNU}); err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// cpioBytes is a newc cpio archive ("070701") of the files, or an odc one ("070707").
func cpioBytes(files map[string][]byte, odc bool) []byte {
	var b bytes.Buffer
	entry := func(name string, data []byte, mode int) {
		if odc {
			fmt.Fprintf(&b, "070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o", 0, 1, mode, 0, 0, 1, 0, 0, len(name)+1, len(data))
			b.WriteString(name + "\x00")
			b.Write(data)
			return
		}
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for name, data := range files {
		entry(name, data, 0o100644)
	}
	entry("TRAILER!!!", nil, 0)
	for b.Len()%512 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// arBytes is an ar archive (a .deb when the members are debian-binary, control and data).
func arBytes(files [][2]string) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, f := range files {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", f[0]+"/", 0, 0, 0, 0o644, len(f[1]))
		b.WriteString(f[1])
		if len(f[1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func xzBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func zstdBytes(t testing.TB, data []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

func lz4Bytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func bzip2Bytes(t testing.TB, data []byte) []byte {
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bzip2: %v", err)
	}
	return out
}

// rpmBytes is an rpm package: a lead, an empty signature header, a main header and the payload.
func rpmBytes(payload []byte) []byte { return rpmWithHeader("%post echo installed", payload) }

// rpmWithHeader is rpmBytes with the main header's data (its scriptlets) given.
func rpmWithHeader(data string, payload []byte) []byte {
	var b bytes.Buffer
	lead := make([]byte, 96)
	copy(lead, "\xed\xab\xee\xdb\x03\x00")
	b.Write(lead)
	header := func(data string) {
		b.WriteString("\x8e\xad\xe8\x01\x00\x00\x00\x00")
		b.Write([]byte{0, 0, 0, 0})
		b.Write([]byte{0, 0, byte(len(data) >> 8), byte(len(data))})
		b.WriteString(data)
	}
	header("sig")
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	header(data)
	b.Write(payload)
	return b.Bytes()
}

// fuzzSeeds are one small example of each format, and an initramfs-like stream.
func fuzzSeeds(t testing.TB) [][]byte {
	text := []byte("password = Fuzz3dPassw0rd\n")
	files := map[string][]byte{"etc/app.conf": text}
	tr := tarBytes(t, "etc/app.conf", text, '7')
	cp := cpioBytes(files, false)
	return [][]byte{
		[]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00},
		{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46},
		zipBytes(t, "a.conf", text, 0o120777),
		append([]byte("#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n"), zipBytes(t, "BOOT-INF/classes/application.properties", text, 0)...),
		tr,
		cp,
		cpioBytes(files, true),
		arBytes([][2]string{{"debian-binary", "2.0\n"}, {"data.tar.gz", string(gzipBytes(tr))}}),
		rpmBytes(gzipBytes(cp)),
		gzipBytes(tr),
		append(gzipBytes(cp), gzipBytes(cp)...),
		bzip2Bytes(t, tr),
		xzBytes(t, cp),
		zstdBytes(t, cp),
		lz4Bytes(t, tr),
		append(append(cpioBytes(map[string][]byte{"kernel/x86/microcode/GenuineIntel.bin": {1, 2, 3, 0}}, false), make([]byte, 512)...), zstdBytes(t, cp)...),
		append([]byte("QFI\xfb"), make([]byte, 508)...),
		append([]byte("7z\xbc\xaf\x27\x1c"), make([]byte, 26)...),
	}
}
