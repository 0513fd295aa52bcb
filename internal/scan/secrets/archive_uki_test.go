package secrets

import (
	"bytes"
	"compress/gzip"
	"os"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/uki"
)

// A unified kernel image made from systemd's stub by objcopy, whose .initrd section is an
// initramfs (an uncompressed cpio, then a gzipped one, as dracut and initramfs-tools write
// them) holding the key: found, named FILE!/.initrd!/MEMBER; in a tar too (red-team finding:
// the same initramfs as a file was searched, inside the UKI it was not).
func TestUnifiedKernelImageInitrdIsSearched(t *testing.T) {
	if _, err := os.Stat(testfixture.SystemdStub); err != nil {
		t.Skip("systemd-boot-efi is not installed")
	}
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(cpioBytes(map[string][]byte{"etc/app/aws.conf": []byte(awsKeys)}, false))
	gz.Close()
	initrd := append(cpioBytes(map[string][]byte{"kernel/x86/microcode/GenuineIntel.bin": []byte("microcode")}, false), z.Bytes()...)
	efi := testfixture.UKI(t, map[string][]byte{".linux": bytes.Repeat([]byte{0x90}, 4096), ".initrd": initrd,
		".cmdline": []byte("root=/dev/sda2 console=ttyS0\n"), ".osrel": []byte("ID=debian\n")})
	p := "/boot/efi/EFI/Linux/debian.efi"
	r := scanBytes(t, Options{}, p, efi)
	if r.err != nil || !r.foundAWS(t, p+"!/.initrd!/etc/app/aws.conf") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	// the microcode section (systemd 256) and a multi-profile image's second .initrd
	var z2 bytes.Buffer
	gz2 := gzip.NewWriter(&z2)
	gz2.Write(cpioBytes(map[string][]byte{"etc/profile2.conf": []byte(awsKeys)}, false))
	gz2.Close()
	multi := testfixture.UKI(t, map[string][]byte{".linux": bytes.Repeat([]byte{0x90}, 4096),
		".ucode":  cpioBytes(map[string][]byte{"kernel/x86/microcode/AuthenticAMD.bin": []byte(awsKeys)}, false),
		".initrd": cpioBytes(map[string][]byte{"etc/os-release": []byte("ID=debian\n")}, false), ".initrd2": z2.Bytes()})
	r = scanBytes(t, Options{}, p, multi)
	for _, at := range []string{p + "!/.ucode!/kernel/x86/microcode/AuthenticAMD.bin", p + "!/.initrd2!/etc/profile2.conf"} {
		if r.err != nil || !r.foundAWS(t, at) {
			t.Errorf("%s: err %v, found %+v", at, r.err, r.found)
		}
	}
	tb := tarBytes(t, "EFI/Linux/debian.efi", efi, '0')
	if r := scanBytes(t, Options{}, "/srv/esp.tar", tb); r.err != nil || !r.foundAWS(t, "/srv/esp.tar!/EFI/Linux/debian.efi!/.initrd!/etc/app/aws.conf") {
		t.Errorf("in a tar: err %v, found %+v", r.err, r.found)
	}
	// a PE file without an .initrd section (the stub alone) is searched as its bytes, nothing unseen
	stub, err := os.ReadFile(testfixture.SystemdStub)
	if err != nil {
		t.Fatal(err)
	}
	if r := scanBytes(t, Options{}, "/usr/lib/systemd/boot/efi/linuxx64.efi.stub", append(stub, []byte("\n"+awsKeys)...)); r.err != nil || !r.foundAWS(t, "/usr/lib/systemd/boot/efi/linuxx64.efi.stub") {
		t.Errorf("the stub with a key appended: err %v, found %+v", r.err, r.found)
	}
}

// ukiInitrdSection: the names systemd-stub hands to the kernel as initramfs, only with bytes in
// memory (the stub skips a section of size 0) and in the file.
func TestUKIInitrdSection(t *testing.T) {
	for _, c := range []struct {
		s    uki.Section
		want bool
	}{
		{uki.Section{Name: ".initrd", VirtualSize: 10, RawSize: 512}, true},
		{uki.Section{Name: ".ucode", VirtualSize: 10, RawSize: 512}, true},
		{uki.Section{Name: ".initrd", VirtualSize: 0, RawSize: 512}, false},
		{uki.Section{Name: ".initrd", VirtualSize: 10, RawSize: 0}, false},
		{uki.Section{Name: ".linux", VirtualSize: 10, RawSize: 512}, false},
	} {
		if got := ukiInitrdSection(c.s); got != c.want {
			t.Errorf("ukiInitrdSection(%+v) = %v, want %v", c.s, got, c.want)
		}
	}
}
