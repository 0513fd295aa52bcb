package inspect

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func sh(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-ec", script)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
}

// A partition whose bytes no reader of this checker reads is unread, named with why: raw bytes,
// a squashfs (R1's M11), data after zeros, a swap area holding pages. One that is provably empty
// (zeros, a fresh swap area) is not: there is nothing to see. Every image is made by the real
// tools (mke2fs, mksquashfs, mkswap, sfdisk).
func TestPartitionsWithoutAReadFilesystem(t *testing.T) {
	dir := t.TempDir()
	sh(t, `cd `+dir+`
mkdir -p root/etc sq/etc; echo 'UUID=x / ext4 defaults 0 1' > root/etc/fstab
printf 'password = Sup3rS3cretPassw0rd\n' > sq/etc/app.conf
mke2fs -q -F -t ext4 -d root root.img 16M
mksquashfs sq sq.img -noappend -quiet >/dev/null
truncate -s 8M swapfresh.img; mkswap swapfresh.img >/dev/null
cp swapfresh.img swapused.img; printf 'password = Sup3rS3cretPassw0rd' | dd of=swapused.img bs=1 seek=3145728 conv=notrunc status=none
truncate -s 150M disk.raw
L=0FC63DAF-8483-4772-8E79-3D69D8477DE4; S=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
printf 'label: gpt\nstart=1MiB,size=16MiB,type=%s\nstart=17MiB,size=8MiB,type=%s\nstart=25MiB,size=8MiB,type=%s\nstart=33MiB,size=8MiB,type=%s\nstart=41MiB,size=8MiB,type=%s\nstart=49MiB,size=8MiB,type=%s\nstart=57MiB,size=8MiB,type=%s\n' $L $L $L $L $L $S $S | sfdisk -q disk.raw
dd if=root.img of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none
printf 'password = Sup3rS3cretPassw0rd\n' | dd of=disk.raw bs=1M seek=17 conv=notrunc status=none
dd if=sq.img of=disk.raw bs=1M seek=25 conv=notrunc status=none
printf 'password = Sup3rS3cretPassw0rd\n' | dd of=disk.raw bs=1024 seek=$((46*1024)) conv=notrunc status=none
dd if=swapfresh.img of=disk.raw bs=1M seek=49 conv=notrunc,sparse status=none
dd if=swapused.img of=disk.raw bs=1M seek=57 conv=notrunc,sparse status=none
`)
	img, err := Open(filepath.Join(dir, "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	unread := map[int]string{}
	for _, u := range img.Unread {
		unread[u.Partition.Number] = u.Reason
	}
	want := map[int]string{
		2: "holds no filesystem this checker reads (type",       // raw text
		3: "holds no filesystem this checker reads (type",       // squashfs
		5: "holds no filesystem this checker reads and data at", // zeros, then data at 5 MiB
		7: "is a swap area holding data (at offset 3145728",     // pages after the header
	}
	for n, w := range want {
		if !strings.Contains(unread[n], w) {
			t.Errorf("partition %d: unread %q, want %q", n, unread[n], w)
		}
	}
	for _, n := range []int{1, 4, 6} { // the root, zeros, a fresh swap area
		if r, ok := unread[n]; ok {
			t.Errorf("partition %d is listed unread: %s", n, r)
		}
	}
	if len(img.Unread) != len(want) {
		t.Errorf("unread %+v", img.Unread)
	}
}
