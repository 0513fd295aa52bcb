package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/lvm"
	"github.com/marketready/packer-plugin-marketplace/internal/lvm/lvmtest"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Volumes as the system uses them (issue #28): swap and the root on LVM logical volumes, LUKS
// containers in files, fscrypt directories.

const volSwapUUID = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"

func volRun(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

func volRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// volSwap is what mkswap writes on a file of mib MiB with the given UUID.
func volSwap(t *testing.T, mib int, uuid string) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "swap.img")
	if err := os.WriteFile(f, make([]byte, mib<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	volRun(t, "mkswap", "-q", "-U", uuid, f)
	return volRead(t, f)
}

// volLV is an LV for volPV: its name, its extents (1 MiB each) and its content.
type volLV struct {
	name    string
	mib     int
	content []byte
}

// volPV is a PV of mib MiB (lvm.WritePV, the layout LVM's own tools accept) holding VG vg (the
// text of lvmtest.VGText renamed) with the LVs one after another from extent 0.
func volPV(t *testing.T, vg string, mib int, lvs []volLV) []byte {
	t.Helper()
	b := make([]byte, mib<<20)
	var sections string
	ext := 0
	for _, lv := range lvs {
		sections += lvmtest.LinearLV(lv.name, "pv0", ext, lv.mib)
		copy(b[lvmtest.DataStart+ext<<20:], lv.content)
		ext += lv.mib
	}
	text := strings.Replace(lvmtest.VGText(sections, ""), "vg0 {", vg+" {", 1)
	if err := lvm.WritePV(b, lvmtest.PVUUID, lvmtest.PEStart, text); err != nil {
		t.Fatal(err)
	}
	return b
}

// volPart is a partition of volDisk: its size in MiB, its MBR type and its content.
type volPart struct {
	mib     int
	typ     string
	content []byte
}

// volDisk is an MBR disk whose partitions follow one another from 1 MiB, written with sfdisk
// and dd.
func volDisk(t *testing.T, parts ...volPart) string {
	t.Helper()
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.raw")
	total := 1
	script := "label: dos\n"
	for _, p := range parts {
		script += fmt.Sprintf("start=%d, size=%d, type=%s\n", total*2048, p.mib*2048, p.typ)
		total += p.mib
	}
	volRun(t, "truncate", "-s", fmt.Sprint(total<<20), disk)
	volRun(t, "sh", "-c", fmt.Sprintf("printf '%s' | sfdisk -q '%s'", strings.ReplaceAll(script, "\n", `\n`), disk))
	at := 1
	for i, p := range parts {
		f := filepath.Join(dir, fmt.Sprintf("p%d", i))
		if err := os.WriteFile(f, p.content, 0o644); err != nil {
			t.Fatal(err)
		}
		volRun(t, "dd", "if="+f, "of="+disk, "bs=1M", fmt.Sprintf("seek=%d", at), "conv=notrunc,sparse", "status=none")
		at += p.mib
	}
	return disk
}

// volRoot is the compliant tree (64 MiB of ext4) with changes.
func volRoot(t *testing.T, changes testfixture.Change) []byte {
	t.Helper()
	return volRead(t, testfixture.Variant(t, changes))
}

// volExt4 is an empty ext4 filesystem of mib MiB (a /boot, a data partition).
func volExt4(t *testing.T, mib int) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "fs.img")
	volRun(t, "mke2fs", "-q", "-F", "-t", "ext4", f, fmt.Sprintf("%dM", mib))
	return volRead(t, f)
}

// Swap on an LVM logical volume: an fstab line or a .swap unit turning it on fails no-swap
// naming the LV (and the line); an LV holding swap that nothing names passes, listed.
func TestNoSwapOnLV(t *testing.T) {
	const wants = "/etc/systemd/system/swap.target.wants/"
	unit := `dev-mapper-vg0\x2dswap.swap`
	for _, c := range []struct {
		name    string
		vg      string
		changes testfixture.Change
		status  rules.Status
		want    string
	}{
		{"fstab /dev/mapper/VG-LV", "vg0", testfixture.Change{"/etc/fstab": "/dev/mapper/vg0-swap none swap sw 0 0\n"}, rules.Fail,
			`/etc/fstab swap entry for /dev/mapper/vg0-swap: LVM logical volume vg0/swap (partition 2 LV vg0/swap, swap, 4 MiB)`},
		{"fstab /dev/VG/LV", "vg0", testfixture.Change{"/etc/fstab": "# swap\n/dev/vg0/swap none swap sw 0 0\n"}, rules.Fail,
			`/etc/fstab swap entry for /dev/vg0/swap: LVM logical volume vg0/swap (partition 2 LV vg0/swap`},
		{"fstab UUID= of the swap signature", "vg0", testfixture.Change{"/etc/fstab": "UUID=" + volSwapUUID + " none swap sw 0 0\n"}, rules.Fail,
			`: LVM logical volume vg0/swap (partition 2 LV vg0/swap`},
		{"a VG name with a dash, doubled", "my-vg", testfixture.Change{"/etc/fstab": "/dev/mapper/my--vg-swap none swap sw 0 0\n"}, rules.Fail,
			`/dev/mapper/my--vg-swap: LVM logical volume my-vg/swap (partition 2 LV my-vg/swap`},
		{"fstab dm-name link", "vg0", testfixture.Change{"/etc/fstab": "/dev/disk/by-id/dm-name-vg0-swap none swap sw 0 0\n"}, rules.Fail,
			`: LVM logical volume vg0/swap (partition 2 LV vg0/swap`},
		{"a .swap unit", "vg0", testfixture.Change{
			"/etc/systemd/system/" + unit: "[Swap]\nWhat=/dev/mapper/vg0-swap\n",
			wants + unit:                  "-> ../" + unit,
		}, rules.Fail, `swap unit ` + unit + ` enabled at boot (turns on /dev/mapper/vg0-swap: LVM logical volume vg0/swap (partition 2 LV vg0/swap`},
		{"a unit running swapon on it", "vg0", testfixture.Change{
			"/etc/systemd/system/myswap.service":                         "[Service]\nExecStart=/sbin/swapon -p 5 /dev/vg0/swap\n",
			"/etc/systemd/system/multi-user.target.wants/myswap.service": "-> ../myswap.service",
		}, rules.Fail, `; /dev/vg0/swap: LVM logical volume vg0/swap (partition 2 LV vg0/swap`},
		{"rc.local running swapon on it", "vg0", testfixture.Change{ // outside review R4, rc01
			"/lib/systemd/system/rc-local.service":                      "[Service]\nType=forking\nExecStart=/etc/rc.local start\n",
			"/lib/systemd/system-generators/systemd-rc-local-generator": testfixture.Executable("\x7fELF"),
			"/etc/rc.local": testfixture.Executable("#!/bin/sh -e\nswapon /dev/vg0/swap\nexit 0\n"),
		}, rules.Fail, `/etc/rc.local runs swapon; rc-local.service, started at boot, runs it`},
		{"fstab dm-uuid link (the LV's UUID is not read)", "vg0", testfixture.Change{"/etc/fstab": "/dev/disk/by-id/dm-uuid-LVM-3eFgdAVD8czeYXjqy7l6QPsase8vb5Q0OizI9971nKSfBw5Tfal0vEFvDlNlBoE0 none swap sw 0 0\n"}, rules.Fail,
			`: an LVM logical volume named by its device-mapper UUID`},
		{"named nowhere", "vg0", nil, rules.Pass,
			"partition 2 LV vg0/swap LVM logical volume vg0/swap holds a swap area (4 MiB) that nothing turns on at boot"},
		{"fstab names another LV", "vg0", testfixture.Change{"/etc/fstab": "/dev/mapper/vg0-other none swap sw 0 0\n"}, rules.Fail,
			"partition 2 LV vg0/swap LVM logical volume vg0/swap holds a swap area (4 MiB) that nothing turns on at boot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pv := volPV(t, c.vg, 72, []volLV{{"root", 64, volRoot(t, c.changes)}, {"swap", 4, volSwap(t, 4, volSwapUUID)}})
			wantRule(t, volDisk(t, volPart{8, "83", volExt4(t, 8)}, volPart{72, "8e", pv}), "no-swap", c.status, c.want)
		})
	}
}

// Of two swap LVs, the one fstab names fails the rule and the other is listed as turned on by
// nothing; the named one is not.
func TestNoSwapTwoSwapLVs(t *testing.T) {
	pv := volPV(t, "vg0", 76, []volLV{{"root", 64, volRoot(t, testfixture.Change{"/etc/fstab": "/dev/vg0/swap none swap sw 0 0\n"})},
		{"swap", 4, volSwap(t, 4, volSwapUUID)}, {"swap2", 4, volSwap(t, 4, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")}})
	res, ev := ruleResult(t, volDisk(t, volPart{76, "8e", pv}), "no-swap")
	if res.Status != rules.Fail || !strings.Contains(ev, "LVM logical volume vg0/swap2 holds a swap area") ||
		strings.Contains(ev, "LVM logical volume vg0/swap holds") {
		t.Errorf("%s: %s\n%s", res.Status, res.Message, ev)
	}
}

// The systemd unit name of a swap device is its path escaped; the name alone says what it turns on.
func TestNoSwapUnitNameIsItsDevice(t *testing.T) {
	unit := `dev-vg0-swap.swap`
	pv := volPV(t, "vg0", 72, []volLV{{"root", 64, volRoot(t, testfixture.Change{
		"/etc/systemd/system/" + unit:                        "[Swap]\n",
		"/etc/systemd/system/swap.target.wants/" + unit:      "-> ../" + unit,
		"/etc/systemd/system/swap.target.wants/x\\x2dy.swap": "-> ../x\\x2dy.swap",
	})}, {"swap", 4, volSwap(t, 4, volSwapUUID)}})
	res, ev := ruleResult(t, volDisk(t, volPart{72, "8e", pv}), "no-swap")
	if res.Status != rules.Fail || !strings.Contains(ev, `(turns on /dev/vg0/swap: LVM logical volume vg0/swap (partition 1 LV vg0/swap`) {
		t.Errorf("%s: %s\n%s", res.Status, res.Message, ev)
	}
}

// The root on an LV: the PV partition holding the LV's last extent is the root partition of
// root-partition-last.
func TestRootPartitionLastOnLV(t *testing.T) {
	root := volRoot(t, nil)
	t.Run("the PV partition last", func(t *testing.T) {
		pv := volPV(t, "vg0", 72, []volLV{{"root", 64, root}})
		wantRule(t, volDisk(t, volPart{8, "83", volExt4(t, 8)}, volPart{72, "8e", pv}), "root-partition-last", rules.Pass,
			"partition 2 LVM2 PV holding the last extent of the root filesystem's logical volume vg0/root")
	})
	t.Run("a data partition after the PV", func(t *testing.T) {
		pv := volPV(t, "vg0", 72, []volLV{{"root", 64, root}})
		wantRule(t, volDisk(t, volPart{72, "8e", pv}, volPart{8, "83", volExt4(t, 8)}), "root-partition-last", rules.Fail,
			"partition 2 ext4 partition at 73 MiB, after the root (partition 1 at 1 MiB)")
	})
	// one VG over two PVs, the root LV in two segments: 40 extents on one PV, 24 on the other
	twoPVs := func(t *testing.T, first, second string) string {
		seg := `segment%d {
start_extent = %d
extent_count = %d
type = "striped"
stripe_count = 1
stripes = ["%s", 0]
}
`
		lv := lvmtest.Segments("root", fmt.Sprintf(seg, 1, 0, 40, first)+fmt.Sprintf(seg, 2, 40, 24, second), 2)
		text := lvmtest.VGText(lv, lvmtest.PV1)
		mk := func(uuid string) []byte {
			b := make([]byte, 48<<20)
			if err := lvm.WritePV(b, uuid, lvmtest.PEStart, text); err != nil {
				t.Fatal(err)
			}
			return b
		}
		a, b := mk(lvmtest.PVUUID), mk(lvmtest.PV1UUID)
		pvOf := map[string][]byte{"pv0": a, "pv1": b}
		copy(pvOf[first][lvmtest.DataStart:], root[:40<<20])
		copy(pvOf[second][lvmtest.DataStart:], root[40<<20:])
		return volDisk(t, volPart{48, "8e", a}, volPart{48, "8e", b})
	}
	t.Run("the last extent on the last partition", func(t *testing.T) {
		wantRule(t, twoPVs(t, "pv0", "pv1"), "root-partition-last", rules.Pass,
			"the root (partition 2 (the PV holding the last extent of the root LV vg0/root), from 49 MiB) is the last partition")
	})
	t.Run("the last extent on the first partition, another PV last", func(t *testing.T) {
		wantRule(t, twoPVs(t, "pv1", "pv0"), "root-partition-last", rules.Warn,
			"the root LV vg0/root ends on partition 1, which is not last; partition 2, last on the disk, is another PV of its VG")
	})
}

// LUKS in a file: crypttab's device, or a unit's cryptsetup open, naming a file of the root that
// holds a LUKS header; fscrypt directories of an ext4 LV; the fscrypt tool's files alone warn;
// an LVM partition LVM does not take is noted.
func TestNoEncryptedVolumesFilesAndFscrypt(t *testing.T) {
	luks := string(testfixture.LUKS2Header(accessLUKSUUID, "vault", 0))
	unit := "[Service]\nType=oneshot\nExecStart=/usr/sbin/cryptsetup open --type luks2 --key-file /etc/vault.key /srv/vault.img vault\n"
	for _, c := range []struct {
		name    string
		changes testfixture.Change
		status  rules.Status
		want    string
	}{
		{"crypttab names a LUKS file", testfixture.Change{"/etc/crypttab": "vault /srv/vault.img none luks\n", "/srv/vault.img": luks}, rules.Fail,
			`LUKS2 volume (file /srv/vault.img, named by /etc/crypttab:1, header at offset 0x0), UUID ` + accessLUKSUUID + `, label vault`},
		{"crypttab names a file through a link", testfixture.Change{"/etc/crypttab": "vault /vault none luks\n", "/vault": "-> srv/vault.img", "/srv/vault.img": luks}, rules.Fail,
			`LUKS2 volume (file /vault, named by /etc/crypttab:1, header at offset 0x0)`},
		{"a unit opens a LUKS file", testfixture.Change{
			"/etc/systemd/system/vault.service":                         unit,
			"/etc/systemd/system/multi-user.target.wants/vault.service": "-> ../vault.service",
			"/srv/vault.img": luks,
		}, rules.Fail, `LUKS2 volume (file /srv/vault.img, named by vault.service (/etc/systemd/system/vault.service:3), header at offset 0x0)`},
		{"a unit opens a device", testfixture.Change{
			"/etc/systemd/system/vault.service":                         "[Service]\nExecStart=/lib/systemd/systemd-cryptsetup attach vault /dev/sdb none luks\n",
			"/etc/systemd/system/multi-user.target.wants/vault.service": "-> ../vault.service",
		}, rules.Fail, `vault.service, started at boot, opens a dm-crypt volume: ExecStart=/lib/systemd/systemd-cryptsetup attach vault /dev/sdb none luks`},
		{"a unit formats, not opens", testfixture.Change{
			"/etc/systemd/system/vault.service":                         "[Service]\nExecStart=/usr/sbin/cryptsetup luksDump /srv/vault.img\n",
			"/etc/systemd/system/multi-user.target.wants/vault.service": "-> ../vault.service",
			"/srv/vault.img": luks,
		}, rules.Pass, "no LUKS or BitLocker header"},
		// outside review R4 (en03, rc03): through sh -c, in a script the unit runs, and in
		// /etc/rc.local, which rc-local.service runs when it is executable
		{"a unit opens a LUKS file through sh -c", testfixture.Change{
			"/etc/systemd/system/vault.service":                         "[Service]\nExecStart=/bin/sh -c \"cryptsetup luksOpen /srv/vault.img vault\"\n",
			"/etc/systemd/system/multi-user.target.wants/vault.service": "-> ../vault.service",
			"/srv/vault.img": luks,
		}, rules.Fail, `LUKS2 volume (file /srv/vault.img, named by vault.service`},
		{"a script the unit runs opens a LUKS file", testfixture.Change{
			"/etc/systemd/system/vault.service":                         "[Service]\nExecStart=/usr/local/sbin/vault-up\n",
			"/etc/systemd/system/multi-user.target.wants/vault.service": "-> ../vault.service",
			"/usr/local/sbin/vault-up":                                  testfixture.Executable("#!/bin/bash\nset -e\ncryptsetup open --key-file /etc/k /srv/vault.img vault && mount /dev/mapper/vault /srv/vault\n"),
			"/srv/vault.img":                                            luks,
		}, rules.Fail, `LUKS2 volume (file /srv/vault.img, named by vault.service`},
		{"rc.local opens a LUKS file", testfixture.Change{
			"/lib/systemd/system/rc-local.service":                      "[Service]\nType=forking\nExecStart=/etc/rc.local start\n",
			"/lib/systemd/system-generators/systemd-rc-local-generator": testfixture.Executable("\x7fELF"),
			"/etc/rc.local":  testfixture.Executable("#!/bin/sh -e\ncryptsetup open /srv/vault.img vault\nexit 0\n"),
			"/srv/vault.img": luks,
		}, rules.Fail, `LUKS2 volume (file /srv/vault.img, named by rc-local.service`},
		{"the fscrypt tool's files alone", testfixture.Change{"/etc/fscrypt.conf": "{}\n", "/.fscrypt/policies/0123456789abcdef": "x"}, rules.Warn,
			"/.fscrypt/policies 1 fscrypt policy file(s)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := volDisk(t, volPart{64, "83", volRoot(t, testfixture.With(accessBase(), c.changes))})
			wantRule(t, img, "no-encrypted-volumes", c.status, c.want)
		})
	}
	t.Run("fscrypt directories on an LV", func(t *testing.T) {
		pv := volPV(t, "vg0", 12, []volLV{{"data", 8, volFscrypt(t, true)}})
		wantRule(t, volDisk(t, volPart{64, "83", volRoot(t, accessBase())}, volPart{12, "8e", pv}), "no-encrypted-volumes", rules.Fail,
			`fscrypt: 2 encrypted director(ies) on partition 2 LV vg0/data: /home/alice/secret, /vault`)
	})
	t.Run("the encrypt feature, no encrypted directory", func(t *testing.T) {
		pv := volPV(t, "vg0", 12, []volLV{{"data", 8, volFscrypt(t, false)}})
		wantRule(t, volDisk(t, volPart{64, "83", volRoot(t, accessBase())}, volPart{12, "8e", pv}), "no-encrypted-volumes", rules.Pass,
			"no LUKS or BitLocker header on 2 partition(s) and 1 LVM logical volume(s)")
	})
	t.Run("an LVM partition LVM does not take", func(t *testing.T) {
		pv := volPV(t, "vg0", 12, []volLV{{"data", 8, nil}})
		pv[512+40] ^= 1 // the label's checksum no longer holds: LVM's label scan passes over it
		wantRule(t, volDisk(t, volPart{64, "83", volRoot(t, accessBase())}, volPart{12, "8e", pv}), "no-encrypted-volumes", rules.Pass,
			"an LVM partition whose label LVM does not take, so none of its volumes is activated: partition 2: ")
	})
}

// A crypttab device is named with what it resolves to in the image, or said to name nothing
// there (the line fails either way: boot opens it, or waits for it).
func TestNoEncryptedVolumesCrypttabDevice(t *testing.T) {
	luks := testfixture.LUKS2Header(accessLUKSUUID, "data", 0)
	for _, c := range []struct{ device, want string }{
		{"UUID=" + accessLUKSUUID, `crypttab opens data from UUID=` + accessLUKSUUID + `: partition 2 (luks)`},
		{"UUID=0badc0de-0000-4000-8000-000000000000", `, which names no partition or logical volume of the image (boot waits for it)`},
		{"/dev/sdb", `crypttab opens data from /dev/sdb (noauto`},
	} {
		t.Run(c.device, func(t *testing.T) {
			disk := testfixture.DiskWithData(t, testfixture.With(accessBase(), testfixture.Change{"/etc/crypttab": "data " + c.device + " none luks,noauto\n"}), accessRootUUID, luks, nil)
			wantRule(t, disk, "no-encrypted-volumes", rules.Fail, c.want)
		})
	}
}

// volFscrypt is an 8 MiB ext4 filesystem with the encrypt feature (mke2fs -O encrypt) and
// directories /home/alice/secret (with a subdirectory) and /vault, with EXT4_ENCRYPT_FL set on
// them by debugfs when encrypt is true, as fscrypt encrypt leaves them (the flag and the
// encryption context xattr; the flag is what is read).
func volFscrypt(t *testing.T, encrypt bool) []byte {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for _, d := range []string{"home/alice/secret/deeper", "vault", "plain/sub"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := filepath.Join(dir, "fs.img")
	volRun(t, "mke2fs", "-q", "-F", "-t", "ext4", "-O", "encrypt", "-d", tree, f, "8M")
	if encrypt {
		for _, d := range []string{"/home/alice/secret", "/home/alice/secret/deeper", "/vault"} {
			volRun(t, "debugfs", "-w", "-R", "set_inode_field "+d+" flags 0x80800", f)
		}
	}
	return volRead(t, f)
}
