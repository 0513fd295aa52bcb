package uki_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

func TestSectionsOfARealUKI(t *testing.T) {
	initrd := bytes.Repeat([]byte("initramfs "), 500)
	b := testfixture.UKI(t, map[string][]byte{
		".cmdline": []byte("root=UUID=1234 ro console=ttyS0 earlyprintk=ttyS0\n"),
		".uname":   []byte("6.1.0-28-cloud-amd64"),
		".osrel":   []byte("ID=debian\nVERSION_ID=\"12\"\n"),
		".linux":   bytes.Repeat([]byte{0x90}, 4096),
		".initrd":  initrd,
	})
	img, err := uki.Open("debian.efi", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	cmdline, ok, err := img.Text(".cmdline")
	if err != nil || !ok || cmdline != "root=UUID=1234 ro console=ttyS0 earlyprintk=ttyS0" {
		t.Fatalf(".cmdline = %q, %v, %v", cmdline, ok, err)
	}
	if u, _, _ := img.Text(".uname"); u != "6.1.0-28-cloud-amd64" {
		t.Fatalf(".uname = %q", u)
	}
	s, ok := img.Find(".initrd")
	if !ok {
		t.Fatal("no .initrd")
	}
	got, err := io.ReadAll(img.Open(s))
	if err != nil || !bytes.Equal(got, initrd) {
		t.Fatalf(".initrd: %d bytes (want %d), %v", len(got), len(initrd), err)
	}
	// the stub's own sections are there too
	if _, ok := img.Find(".text"); !ok {
		t.Fatal("no .text: the stub was not read")
	}
	if _, ok, _ := img.Text(".splash"); ok {
		t.Fatal(".splash reported though absent")
	}
}

func TestMalformedNamesFileAndOffset(t *testing.T) {
	b := testfixture.UKI(t, map[string][]byte{".cmdline": []byte("console=ttyS0")})
	full, err := uki.Open("x.efi", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	last := full.Sections[len(full.Sections)-1]
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not PE", []byte(strings.Repeat("x", 200)), "offset 0: not a PE"},
		{"truncated table", b[:0x100], "past the end"},
		{"truncated section", b[:last.Offset+1], "runs past the end"},
		{"empty", nil, "offset 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := uki.Open("x.efi", bytes.NewReader(tc.data), int64(len(tc.data)))
			var ue *uki.Error
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "x.efi") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a uki.Error naming x.efi and %q", err, tc.want)
			}
		})
	}
}

func TestTextOverLimitIsAnError(t *testing.T) {
	b := testfixture.UKI(t, map[string][]byte{".cmdline": bytes.Repeat([]byte("a"), uki.MaxText+1)})
	img, err := uki.Open("big.efi", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := img.Text(".cmdline"); !ok || err == nil || !strings.Contains(err.Error(), "big.efi") {
		t.Fatalf("ok=%v err=%v, want an error naming the file", ok, err)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(testfixture.UKI(f, map[string][]byte{".cmdline": []byte("console=ttyS0"), ".initrd": []byte("070701")}))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := uki.Open("fuzz.efi", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, s := range img.Sections {
			if _, _, err := img.Text(s.Name); err != nil {
				continue
			}
			io.Copy(io.Discard, io.LimitReader(img.Open(s), 1<<20))
		}
	})
}
