package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// A layout for root-partition-last against growpart: an sfdisk script (sizes in MiB, the disk
// 256 MiB) and the number of the partition that holds the root.
type growLayout struct {
	name   string
	script string
	root   int
}

const (
	gptESP   = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	gptLinux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	gptSwap  = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
)

var growLayouts = []growLayout{
	{"gpt: root last", "label: gpt\nstart=1MiB, size=16MiB, type=" + gptESP + "\nstart=17MiB, size=64MiB, type=" + gptLinux + "\n", 2},
	{"gpt: swap after the root", "label: gpt\nstart=1MiB, size=64MiB, type=" + gptLinux + "\nstart=65MiB, size=8MiB, type=" + gptSwap + "\n", 1},
	{"gpt: free space, then a partition", "label: gpt\nstart=1MiB, size=64MiB, type=" + gptLinux + "\nstart=200MiB, size=8MiB, type=" + gptLinux + "\n", 1},
	{"gpt: root last on the disk, not by number", "label: gpt\n1: start=40MiB, size=64MiB, type=" + gptLinux + "\n2: start=1MiB, size=16MiB, type=" + gptESP + "\n", 1},
	{"gpt: an unformatted partition after the root", "label: gpt\nstart=1MiB, size=64MiB, type=" + gptLinux + "\nstart=100MiB, size=1MiB, type=" + gptLinux + "\n", 1},
	{"mbr: primary root last", "label: dos\nstart=1MiB, size=16MiB, type=83\nstart=17MiB, size=64MiB, type=83\n", 2},
	{"mbr: primary root, an empty extended partition after it", "label: dos\nstart=1MiB, size=64MiB, type=83\nstart=65MiB, size=32MiB, type=5\n", 1},
	{"mbr: primary root, a logical partition after it", "label: dos\nstart=1MiB, size=64MiB, type=83\nstart=65MiB, type=5\nstart=66MiB, size=8MiB, type=83\n", 1},
	{"mbr: logical data before a primary root", "label: dos\nstart=1MiB, size=32MiB, type=5\nstart=100MiB, size=64MiB, type=83\nstart=2MiB, size=8MiB, type=83\n", 2},
	{"mbr: logical root, the extended partition to the disk's end", "label: dos\nstart=1MiB, size=16MiB, type=83\nstart=17MiB, type=5\nstart=18MiB, type=83\n", 5},
	{"mbr: logical root last, a primary after the extended partition", "label: dos\nstart=1MiB, size=80MiB, type=5\nstart=81MiB, size=8MiB, type=83\nstart=2MiB, size=79MiB, type=83\n", 5},
	{"mbr: logical root with room in its extended partition", "label: dos\nstart=1MiB, size=120MiB, type=5\nstart=121MiB, size=8MiB, type=83\nstart=2MiB, size=64MiB, type=83\n", 5},
	{"mbr: logical root, a logical partition after it", "label: dos\nstart=1MiB, type=5\nstart=2MiB, size=64MiB, type=83\nstart=67MiB, size=8MiB, type=83\n", 5},
}

// growpartGrows runs the real growpart (cloud-guest-utils) on a copy of disk enlarged by 1 GiB
// and reports whether partition n then reaches into the added space.
func growpartGrows(t *testing.T, disk string, n int) (bool, string) {
	t.Helper()
	fi, err := os.Stat(disk)
	if err != nil {
		t.Fatal(err)
	}
	// growpart parses sfdisk's dump, whose fields are split on commas: a path with none
	dir, err := os.MkdirTemp("", "growpart")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	big := filepath.Join(dir, "enlarged.raw")
	for _, c := range [][]string{{"cp", "--sparse=always", disk, big}, {"truncate", "-s", "+1G", big}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	out, err := exec.Command("growpart", big, strconv.Itoa(n)).CombinedOutput()
	said := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 2 {
			t.Fatalf("growpart: %v\n%s", err, out)
		}
	}
	dump, err := exec.Command("sfdisk", "-d", big).Output()
	if err != nil {
		t.Fatalf("sfdisk -d: %v", err)
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^%s%d : start= *(\d+), size= *(\d+)`, regexp.QuoteMeta(big), n))
	m := re.FindSubmatch(dump)
	if m == nil {
		t.Fatalf("partition %d not in\n%s", n, dump)
	}
	start, _ := strconv.ParseInt(string(m[1]), 10, 64)
	size, _ := strconv.ParseInt(string(m[2]), 10, 64)
	return (start+size)*512 > fi.Size(), said
}

// buildGrowLayout makes the 256 MiB disk: the partition table, and the compliant tree's ext4
// filesystem (64 MiB) in the root partition; the other partitions hold nothing.
func buildGrowLayout(t *testing.T, l growLayout, rootFS string) string {
	t.Helper()
	disk := filepath.Join(t.TempDir(), "disk.raw")
	if out, err := exec.Command("truncate", "-s", "256M", disk).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v\n%s", err, out)
	}
	sf := exec.Command("sfdisk", "-q", disk)
	sf.Stdin = strings.NewReader(l.script)
	if out, err := sf.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	dump, err := exec.Command("sfdisk", "-d", disk).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(fmt.Sprintf(`(?m)^%s%d : start= *(\d+)`, regexp.QuoteMeta(disk), l.root)).FindSubmatch(dump)
	if m == nil {
		t.Fatalf("no partition %d in\n%s", l.root, dump)
	}
	dd := exec.Command("dd", "if="+rootFS, "of="+disk, "bs=512", "seek="+string(m[1]), "conv=notrunc,sparse", "status=none")
	if out, err := dd.CombinedOutput(); err != nil {
		t.Fatalf("dd: %v\n%s", err, out)
	}
	return disk
}

// root-partition-last agrees with growpart itself: the rule passes exactly the layouts where
// growpart grows the root into a larger disk.
func TestRootPartitionLastAgreesWithGrowpart(t *testing.T) {
	for _, tool := range []string{"growpart", "sfdisk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: cloud-guest-utils, fdisk)", tool)
		}
	}
	rootFS := testfixture.Variant(t, nil) // the compliant tree as a 64 MiB ext4 filesystem
	grew := map[bool]int{}
	for _, l := range growLayouts {
		t.Run(l.name, func(t *testing.T) {
			disk := buildGrowLayout(t, l, rootFS)
			grows, said := growpartGrows(t, disk, l.root)
			grew[grows]++
			want := rules.Fail
			if grows {
				want = rules.Pass
			}
			res := judge(t, disk, "root-partition-last", want, "")
			t.Logf("growpart %d: %s; rule %s: %s", l.root, said, res.Status, res.Message)
		})
	}
	// the layouts show both answers, or the agreement proves nothing
	if grew[true] == 0 || grew[false] == 0 {
		t.Errorf("growpart grew %d and refused %d layouts", grew[true], grew[false])
	}
}
