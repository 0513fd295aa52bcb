package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	walkRootUUID = "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
	walkBootUUID = "8f2a3b4c-5d6e-4f7a-9b0c-1d2e3f4a5b6c"
	walkDocUUID  = "9a3b4c5d-6e7f-4a8b-8c1d-2e3f4a5b6c7d"
)

// walkTree is a copy of the compliant tree whose fstab mounts a /boot and, with doc, a
// /usr/share/doc partition, by these tests' UUIDs.
func walkTree(t *testing.T, doc bool) string {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "root")
	if b, err := exec.Command("cp", "-a", filepath.Join(testfixture.Dir(t), "trees", "clean"), tree).CombinedOutput(); err != nil {
		t.Fatalf("copying the compliant tree: %v\n%s", err, b)
	}
	fstab := "UUID=" + walkRootUUID + " / ext4 defaults 0 1\nUUID=" + walkBootUUID + " /boot ext4 defaults 0 2\n"
	if doc {
		fstab += "UUID=" + walkDocUUID + " /usr/share/doc ext4 defaults 0 2\n"
	}
	writeTree(t, tree, map[string]string{"/etc/fstab": fstab})
	return tree
}

// writeTree writes files (in-tree path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// partitionedDisk makes an MBR disk of real ext4 filesystems (scripts/mkfs-from-dir.sh, that
// is mke2fs -d), one per tree with its UUID, 64 MiB each from 1 MiB on.
func partitionedDisk(t *testing.T, trees, uuids []string) string {
	t.Helper()
	var imgs []string
	for i, tree := range trees {
		imgs = append(imgs, testfixture.Filesystem(t, "ext4", tree, "64M", "-U", uuids[i], "-b", "4096"))
	}
	return diskOf(t, imgs)
}

// diskOf is an MBR disk whose partitions are the 64 MiB filesystem images imgs, in order.
func diskOf(t *testing.T, imgs []string) string {
	t.Helper()
	disk := filepath.Join(t.TempDir(), "disk.raw")
	script := "label: dos\n"
	for i := range imgs {
		script += fmt.Sprintf("start=%dMiB, size=64MiB, type=83\n", 1+64*i)
	}
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, int64(2+64*len(imgs))<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sfdisk", "-q", disk)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	cmd.Stdin = strings.NewReader(script)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, b)
	}
	for i, img := range imgs {
		if b, err := exec.Command("dd", "if="+img, "of="+disk, "bs=1M", fmt.Sprintf("seek=%d", 1+64*i), "conv=notrunc", "status=none").CombinedOutput(); err != nil {
			t.Fatalf("dd: %v\n%s", err, b)
		}
	}
	return disk
}

// credentialFinding checks that the credential rule failed naming path in its evidence.
func credentialFinding(t *testing.T, r *report.Report, path string) {
	t.Helper()
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Fail || r.Compliant {
		t.Fatalf("credential rule %s (compliant %v): %s", f.Status, r.Compliant, f.Message)
	}
	var paths []string
	for _, e := range f.Evidence {
		if e.Path == path {
			return
		}
		paths = append(paths, e.Path)
	}
	t.Errorf("no evidence at %s: %q", path, paths)
}

var walkCfg = plan.Choices{Profiles: []string{"azure-linux"}}

// Issue 24, case 8: a file of the root filesystem under a mount point (/boot/creds.ini on the
// root while /boot is a partition of its own) was hidden by the merged tree and never searched.
// Each filesystem is now walked alone: the credential rule fails, naming the file by its
// partition (the path /boot/creds.ini is the /boot partition's, where it is not).
func TestCase8FileUnderAMountPoint(t *testing.T) {
	root := walkTree(t, false)
	writeTree(t, root, map[string]string{"/boot/creds.ini": plantedSecrets})
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	r := mustCheck(t, partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID}), walkCfg)
	if len(r.Image.Mounts) != 1 || r.Image.Mounts[0].Path != "/boot" {
		t.Fatalf("mounts %+v", r.Image.Mounts)
	}
	credentialFinding(t, r, "partition 1:/boot/creds.ini")
}

// Issue 24, case 9: a second partition mounted by fstab at /usr/share/doc was allowed whole,
// because the allow paths were matched after the fstab mapping. They match the file's own
// location now (partition 3:/pkg/creds.txt): it is searched, and named where the system shows
// it. (/usr/share/doc/ is no default any more: the publisher allows it here.) And a file of the
// root's own /usr/share/doc, which the publisher allowed, is not searched, and not a default:
// the ledger names the pattern and who set it.
func TestCase9PartitionMountedOnAnAllowedPath(t *testing.T) {
	cfg := walkCfg
	cfg.Content.SecretsAllowPaths = []string{"/usr/share/doc/"}
	root := walkTree(t, true)
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	doc := filepath.Join(t.TempDir(), "doc")
	writeTree(t, doc, map[string]string{"/pkg/creds.txt": plantedSecrets})
	r := mustCheck(t, partitionedDisk(t, []string{root, boot, doc}, []string{walkRootUUID, walkBootUUID, walkDocUUID}), cfg)
	credentialFinding(t, r, "/usr/share/doc/pkg/creds.txt")

	// the root's own /usr/share/doc is allowed: that is where those files live
	root = walkTree(t, true)
	writeTree(t, root, map[string]string{"/usr/share/doc/pkg/example.conf": plantedSecrets})
	doc = filepath.Join(t.TempDir(), "doc")
	writeTree(t, doc, map[string]string{"/pkg/README": "nothing here\n"})
	disk := partitionedDisk(t, []string{root, boot, doc}, []string{walkRootUUID, walkBootUUID, walkDocUUID})
	r = mustCheck(t, disk, cfg)
	if f := finding(t, r, "no-hardcoded-credentials"); f.Status != rules.Pass {
		t.Errorf("an allowed file of the root's own /usr/share/doc: %s: %s", f.Status, f.Message)
	}
	// without the publisher's allow path, the same file is found
	credentialFinding(t, mustCheck(t, disk, walkCfg), "partition 1:/usr/share/doc/pkg/example.conf") // under the doc partition
}

// Issue 24, case 10a: the key in an ext4 extended attribute (user.*) is found, named
// "PATH [xattr user.NAME]"; mke2fs -d copies the attribute from the source tree. An attribute
// block that fails its checksum is unseen, and the rule is an error naming it.
func TestCase10aKeyInAnExtendedAttribute(t *testing.T) {
	root := walkTree(t, false)
	writeTree(t, root, map[string]string{"/opt/app/app.conf": "name=app\n"})
	value := plantedSecrets
	// long enough to be stored in the external attribute block, not in the inode
	value += strings.Repeat("# padding line of the attribute\n", 8)
	if err := syscall.Setxattr(filepath.Join(root, "opt/app/app.conf"), "user.token", []byte(value), 0); err != nil {
		t.Fatalf("setxattr on the source tree: %v", err)
	}
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	disk := partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID})
	r := mustCheck(t, disk, walkCfg)
	credentialFinding(t, r, "/opt/app/app.conf [xattr user.token]")

	// flip a byte of the attribute block: its crc32c no longer matches (metadata_csum)
	b, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "# padding line of the attribute")
	if i < 0 || strings.Count(string(b), "# padding line of the attribute\n# padding") < 1 {
		t.Fatal("the attribute's value is not in the image")
	}
	b[i] = '%'
	bad := filepath.Join(t.TempDir(), "bad.raw")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustCheck(t, bad, walkCfg)
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || r.Compliant || !strings.Contains(f.Message, "/opt/app/app.conf [xattrs]") || !strings.Contains(f.Message, "checksum") {
		t.Errorf("corrupt attribute block: %s: %s", f.Status, f.Message)
	}
}

// A symbolic link's target is bytes of the filesystem, and a key can be written into it as into
// a file (`ln -s "AKIA…" /opt/app/key`): the target is searched, named "PATH [symlink
// target]", a fast symlink's (in the inode) and a slow one's (a target longer than 60 bytes,
// in a block of its own) alike; the ledger counts the targets.
func TestKeyInASymlinkTarget(t *testing.T) {
	for _, c := range []struct{ name, target string }{
		{"fast", "AKIAZ4QK7W2N5XR3TY6P"},
		{"slow", "/srv/data/" + strings.Repeat("x", 80) + "/AKIAZ4QK7W2N5XR3TY6P/aws_secret_access_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := walkTree(t, false)
			writeTree(t, root, map[string]string{"/opt/app/app.conf": "name=app\n"})
			if err := os.Symlink(c.target, filepath.Join(root, "opt/app/key")); err != nil {
				t.Fatal(err)
			}
			boot := filepath.Join(t.TempDir(), "boot")
			writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
			r := mustCheck(t, partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID}), walkCfg)
			credentialFinding(t, r, "/opt/app/key [symlink target]")
			if r.Content == nil || !strings.Contains(r.Content.Summary, "symbolic link target(s)") {
				t.Errorf("the summary does not count the targets: %+v", r.Content)
			}
		})
	}
}

// What package managers generate is searched with the specific rules only (a generic password
// assignment there is no finding), and the ledger says so: the file counts as searched, and
// among those as searched with less, naming the default pattern. A key by its own shape there
// is still found.
func TestLedgerNamesTheLimitedSearch(t *testing.T) {
	root := walkTree(t, false)
	writeTree(t, root, map[string]string{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": "Origin: Debian\npassword = Sup3rS3cretPassw0rd\n"})
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	disk := partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID})
	r := mustCheck(t, disk, walkCfg)
	if f := finding(t, r, "no-hardcoded-credentials"); f.Status != rules.Pass {
		t.Fatalf("a generic assignment in apt's lists: %s: %s", f.Status, f.Message)
	}
	want := "1 of them with the specific rules only, no generic ones (/var/lib/apt/lists/, a default of the checker)"
	if lines := strings.Join(r.Content.LedgerLines(), "\n"); !strings.Contains(lines, want) {
		t.Errorf("the ledger does not name the limited search %q:\n%s", want, lines)
	}
	writeTree(t, root, map[string]string{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": "Origin: Debian\n" + plantedSecrets})
	credentialFinding(t, mustCheck(t, partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID}), walkCfg),
		"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease")
}

// An fscrypt-encrypted directory (ext4's encrypt feature, EXT4_ENCRYPT_FL on the directory)
// holds ciphertext: its entries are not read, so what is under it is unseen, and the credential
// rule is an error naming it, never a pass; the rest of the filesystem is read and searched as
// usual (a key beside it is found), and AWS's no-encrypted-volumes fails naming the directory.
func TestFscryptDirectoryIsUnseen(t *testing.T) {
	root := walkTree(t, false)
	writeTree(t, root, map[string]string{"/srv/vault/creds.txt": plantedSecrets, "/opt/app/app.conf": "name=app\n"})
	img := testfixture.Filesystem(t, "ext4", root, "64M", "-U", walkRootUUID, "-b", "4096", "-O", "encrypt")
	cmd := exec.Command("debugfs", "-w", "-R", "set_inode_field /srv/vault flags 0x80800", img)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v\n%s", err, b)
	}
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	disk := diskOf(t, []string{img, testfixture.Filesystem(t, "ext4", boot, "64M", "-U", walkBootUUID, "-b", "4096")})
	r := mustCheck(t, disk, walkCfg)
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || r.Compliant || !strings.Contains(f.Message, "/srv/vault") || !strings.Contains(f.Message, "encrypted (fscrypt)") {
		t.Errorf("credential rule on an fscrypt directory: %s: %s", f.Status, f.Message)
	}
	r = mustCheck(t, disk, plan.Choices{Profiles: []string{"aws"}})
	if f := finding(t, r, "no-encrypted-volumes"); f.Status != rules.Fail || !strings.Contains(fmt.Sprint(f.Evidence), "/srv/vault") {
		t.Errorf("no-encrypted-volumes on an fscrypt directory: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}
