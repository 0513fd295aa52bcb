package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func unseenShell(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
}

// credentialsVerdict checks an image with azure-linux and returns no-hardcoded-credentials.
func credentialsVerdict(t *testing.T, img string) (rules.Status, string) {
	t.Helper()
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	f := finding(t, r, "no-hardcoded-credentials")
	var b strings.Builder
	b.WriteString(f.Message)
	for _, e := range f.Evidence {
		b.WriteString("\n" + e.Path + ": " + e.Detail)
	}
	return f.Status, b.String()
}

// A GPT partition holding bytes in no filesystem this checker reads (raw text, a squashfs: R1's
// M11) makes no-hardcoded-credentials an ERROR that names it; a partition of zeros leaves it
// PASS. The disks are made by mke2fs, mksquashfs and sfdisk.
func TestPartitionInNoReadFilesystemIsUnseen(t *testing.T) {
	root := testfixture.Variant(t, nil)
	for _, tc := range []struct {
		name, fill string
		want       rules.Status
	}{
		{"raw", `printf 'password = Sup3rS3cretPassw0rd\n' | dd of=disk.raw bs=1M seek=66 conv=notrunc status=none`, rules.Error},
		{"squashfs", `mkdir -p sq/etc; printf 'password = Sup3rS3cretPassw0rd\n' > sq/etc/app.conf; mksquashfs sq sq.img -noappend -quiet >/dev/null; dd if=sq.img of=disk.raw bs=1M seek=66 conv=notrunc status=none`, rules.Error},
		{"zeros", `true`, rules.Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			unseenShell(t, `cd `+dir+`
truncate -s 100M disk.raw
printf 'label: gpt\nstart=1MiB,size=64MiB,type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=66MiB,size=16MiB,type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' | sfdisk -q disk.raw
dd if=`+root+` of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none
`+tc.fill)
			st, msg := credentialsVerdict(t, filepath.Join(dir, "disk.raw"))
			if st != tc.want {
				t.Fatalf("no-hardcoded-credentials %s, want %s: %s", st, tc.want, msg)
			}
			if st == rules.Error && (!strings.Contains(msg, "partition 2") || !strings.Contains(msg, "no filesystem this checker reads")) {
				t.Errorf("the error does not name the partition and why: %s", msg)
			}
		})
	}
}

// A qcow2 whose internal snapshot holds the disk before its cleanup (R1's M10: qemu-img
// snapshot -c, then the clean disk written over the active state) makes no-hardcoded-credentials
// an ERROR naming the snapshot; once the snapshot is deleted the same image passes.
func TestQcow2InternalSnapshotIsUnseen(t *testing.T) {
	dirty := testfixture.Variant(t, testfixture.Change{"/opt/app/app.conf": plantedSecrets})
	clean := testfixture.Variant(t, nil)
	q := filepath.Join(t.TempDir(), "disk.qcow2")
	unseenShell(t, `qemu-img convert -f raw -O qcow2 `+dirty+` `+q+`
qemu-img snapshot -c before-cleanup `+q+`
qemu-img convert -n -f raw -O qcow2 `+clean+` `+q)
	st, msg := credentialsVerdict(t, q)
	if st != rules.Error || !strings.Contains(msg, `qcow2 internal snapshot "1" "before-cleanup"`) {
		t.Fatalf("a snapshot holding credentials: %s: %s", st, msg)
	}
	unseenShell(t, `qemu-img snapshot -d before-cleanup `+q)
	if st, msg := credentialsVerdict(t, q); st != rules.Pass {
		t.Fatalf("without the snapshot: %s: %s", st, msg)
	}
}

// A file whose name is not UTF-8 (Latin-1 "café-menu.txt": R1's case 19) is searched, and its
// finding names it with its bytes escaped, in Go's double-quoted form; it used to stop the check
// with "open ...: invalid argument" (exit 2).
func TestFileNamedInLatin1IsSearched(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/srv/caf\xe9-menu.txt": plantedSecrets})
	st, msg := credentialsVerdict(t, img)
	if st != rules.Fail {
		t.Fatalf("no-hardcoded-credentials %s: %s", st, msg)
	}
	if !strings.Contains(msg, `"/srv/caf\xe9-menu.txt"`) {
		t.Errorf("the finding does not name the file with its bytes escaped: %s", msg)
	}
}
