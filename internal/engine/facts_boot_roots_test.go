package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	decoyUUID  = "1d2c3b4a-5f6e-4d7c-8b9a-0a1b2c3d4e5f"
	bootedUUID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
)

// rootGrub is a grub.cfg whose only entry boots root=UUID=uuid with the required parameters.
func rootGrub(uuid string) string {
	return "set default=0\nmenuentry 'Debian GNU/Linux' {\n\tlinux\t/boot/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=" + uuid + " ro " + bootParams + "\n\tinitrd\t/boot/initrd.img-6.1.0-28-cloud-amd64\n}\n"
}

// Issue 26, the root that boots. The disk holds two Linux roots: partition 2, a clean decoy
// that its own fstab mounts on /, and partition 3, the root that GRUB's default entry boots
// (root=UUID= of partition 3, reached from the ESP's stub by search and configfile), holding a
// passwordless UID 0 account. The booted root is judged: single-uid0 and locked-accounts fail
// naming its /etc/passwd. When both roots carry a boot entry naming itself and nothing says
// which boots, the rules that read the root error, and the report names both partitions.
func TestFactsBootTwoRoots(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{azureLinux}}
	pw, err := os.ReadFile(filepath.Join(testfixture.Dir(t), "trees", "clean", "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(pw), "\n")
	decoy := testfixture.RootSpec{UUID: decoyUUID, Changes: testfixture.Change{
		"/etc/fstab": "UUID=" + decoyUUID + " / ext4 defaults 0 1\n",
		"/boot/grub": testfixture.Remove,
	}}
	booted := testfixture.RootSpec{UUID: bootedUUID, Changes: testfixture.Change{
		"/etc/fstab":          "# the root is found by root= on the kernel command line\n",
		"/etc/passwd":         string(pw) + "toor::0:0:root:/root:/bin/bash\n",
		"/boot/grub/grub.cfg": rootGrub(bootedUUID),
	}}
	stub := map[string][]byte{"/EFI/debian/grub.cfg": []byte("search.fs_uuid " + bootedUUID + " root\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n")}
	r := mustCheck(t, testfixture.TwoRootDisk(t, stub, decoy, booted), cfg)
	if r.Compliant {
		t.Error("the booted root's passwordless UID 0 account is not seen: COMPLIANT")
	}
	f := finding(t, r, "single-uid0")
	if f.Status != rules.Fail || !hasEvidence(f, "/etc/passwd", lines+1, "toor") {
		t.Errorf("single-uid0: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	if f := finding(t, r, "locked-accounts"); f.Status != rules.Fail || !hasEvidence(f, "/etc/passwd", lines+1, "toor") {
		t.Errorf("locked-accounts: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "partition 3 is the root") {
		t.Errorf("notes: %q", r.Notes)
	}

	// both roots boot themselves by their own grub.cfg, and no ESP stub says which: unknown
	decoy.Changes["/boot/grub/grub.cfg"] = rootGrub(decoyUUID)
	r = mustCheck(t, testfixture.TwoRootDisk(t, nil, decoy, booted), cfg)
	if r.Compliant {
		t.Error("an image whose root is unknown is compliant")
	}
	for _, id := range []string{"single-uid0", "locked-accounts", "kernel-cmdline"} {
		if f := finding(t, r, id); f.Status != rules.Error {
			t.Errorf("%s: %s: %s", id, f.Status, f.Message)
		}
	}
	if notes := strings.Join(r.Notes, "\n"); !strings.Contains(notes, "partition 2 and partition 3") || !strings.Contains(notes, "root=UUID="+decoyUUID) {
		t.Errorf("notes do not name both roots: %q", r.Notes)
	}
}
