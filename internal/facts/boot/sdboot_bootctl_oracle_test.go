package boot

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// bootctlTrials is how many generated ESPs TestSystemdBootAgreesWithBootctl compares.
const bootctlTrials = 200

// bootctlPath is systemd 252's bootctl: $BOOTCTL, else the one `scripts/get-tools.sh
// systemd-boot` unpacks into .tools (make test does: Debian 12's systemd-boot package, never
// installed), else bootctl on PATH.
func bootctlPath() string {
	if p := os.Getenv("BOOTCTL"); p != "" {
		return p
	}
	// the test runs in internal/facts/boot
	if p, err := filepath.Abs(filepath.Join("..", "..", "..", ".tools", "systemd-boot", "usr", "bin", "bootctl")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("bootctl")
	return p
}

// bootctlEntry is one entry of `bootctl list`.
type bootctlEntry struct {
	id, options string
	isDefault   bool
}

// bootctlList runs `bootctl --esp-path=DIR list` on a directory made the root of a mount (bootctl
// refuses an ESP that is not one; SYSTEMD_RELAX_ESP_CHECKS=1 lets it be a plain directory
// otherwise), in a mount namespace of its own.
func bootctlList(t *testing.T, bootctl, esp string) []bootctlEntry {
	t.Helper()
	script := `mount --bind "$1" "$1" && exec "$2" --esp-path="$1" --boot-path="$1" list --no-pager`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", esp, bootctl)
	cmd.Env = append(os.Environ(), "SYSTEMD_RELAX_ESP_CHECKS=1", "SYSTEMD_COLORS=0")
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "id:") && !strings.Contains(string(out), "No boot loader entries") {
		t.Fatalf("bootctl list: %v\n%s", err, out)
	}
	var list []bootctlEntry
	var cur *bootctlEntry
	for _, l := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimLeft(l, " "), ": ")
		if !ok {
			continue
		}
		switch k {
		case "title":
			list = append(list, bootctlEntry{isDefault: strings.Contains(v, "(default)")})
			cur = &list[len(list)-1]
		case "id":
			if cur != nil {
				cur.id = v
			}
		case "options":
			if cur != nil {
				cur.options = v
			}
		}
	}
	return list
}

// Differential: on generated ESPs (type #1 entries with titles, versions, sort keys, options
// on one line or several, spaces or tabs between key and value, comments, leading blanks, names
// in mixed case; loader.conf's default as an exact name, another case, a name without its
// ".conf", a glob, no match, or none) our systemd-boot reading lists the entries in bootctl's order, with bootctl's
// command lines, and takes bootctl's default. systemd 252's bootctl reads loader.conf and the
// entries with the boot loader's own rules (src/shared/bootspec.c, matching and ordering as
// src/boot/efi/boot.c). Every entry's kernel exists and no entry names an architecture:
// there bootctl, a tool, still lists what the boot loader drops.
func TestSystemdBootAgreesWithBootctl(t *testing.T) {
	bootctl := bootctlPath()
	if bootctl == "" {
		t.Skip("no bootctl (systemd-boot 252) to compare with; set BOOTCTL")
	}
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		t.Skip("bootctl needs its ESP to be a mount: unshare and root")
	}
	rng := rand.New(rand.NewPCG(26, 77))
	trials := bootctlTrials
	if testing.Short() {
		trials = 30
	}
	names := []string{"debian-6.1.0-10", "debian-6.1.0-9", "Debian-6.1.0-28", "arch", "fedora-39-6.5.1", "fedora-39-6.10.2", "a-2", "A-10", "x_1.2-rc1", "x_1.2", "entry"}
	versions := []string{"6.1.0-10", "6.1.0-9", "6.5.1", "6.10.2", "1.2~rc1", "1.2", "1.2^p1", "2"}
	sortKeys := []string{"debian", "fedora", "arch"}
	work := t.TempDir()
	cases := 0
	for trial := range trials {
		files := map[string]string{}
		var ids []string
		for _, i := range rng.Perm(len(names))[:1+rng.IntN(5)] {
			id := names[i] + ".conf"
			ids = append(ids, id)
			sep := func() string { return []string{" ", "\t", "  ", " \t"}[rng.IntN(4)] }
			var b strings.Builder
			if rng.IntN(3) == 0 {
				b.WriteString("# generated\n")
			}
			fmt.Fprintf(&b, "title%s%s\n", sep(), names[i])
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, "version%s%s\n", sep(), versions[rng.IntN(len(versions))])
			}
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "sort-key%s%s\n", sep(), sortKeys[rng.IntN(len(sortKeys))])
			}
			kernel := fmt.Sprintf("/vmlinuz-%d", trial*10+i)
			files[kernel] = "k"
			lead := []string{"", " ", "\t"}[rng.IntN(3)]
			fmt.Fprintf(&b, "%slinux%s%s\n", lead, sep(), kernel)
			for range rng.IntN(3) {
				fmt.Fprintf(&b, "options%sroot=UUID=%d console=ttyS%d%s\n", sep(), rng.IntN(100), rng.IntN(2), []string{"", " ", " quiet"}[rng.IntN(3)])
			}
			files["/loader/entries/"+id] = b.String()
		}
		pattern := ""
		switch rng.IntN(8) {
		case 0: // no loader.conf
		case 1:
			files["/loader/loader.conf"] = "timeout 3\n"
		default:
			choices := []string{ids[rng.IntN(len(ids))], strings.ToUpper(ids[rng.IntN(len(ids))]), "debian-*", "*", "nosuch.conf", "*.conf", "fedora-39-6.*.conf", "A-*", strings.TrimSuffix(ids[rng.IntN(len(ids))], ".conf")}
			pattern = choices[rng.IntN(len(choices))]
			files["/loader/loader.conf"] = fmt.Sprintf("timeout 3\n#default nosuch\ndefault%s%s\n", []string{" ", "\t"}[rng.IntN(2)], pattern)
		}

		dir := filepath.Join(work, fmt.Sprint(trial))
		for p, body := range files {
			h := filepath.Join(dir, filepath.FromSlash(p))
			os.MkdirAll(filepath.Dir(h), 0o755)
			if err := os.WriteFile(h, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want := bootctlList(t, bootctl, dir)

		v := &view{boot: []inspect.BootPartition{{Role: inspect.RoleESP, Partition: &partition.Partition{Number: 1}, Tree: filesystem.NewTree(newMemVol(files))}}}
		sb, err := v.systemdBoot()
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		var gotIDs, wantIDs []string
		gotDefault, wantDefault := "", ""
		for _, e := range sb.entries {
			gotIDs = append(gotIDs, e.ID)
			if e.IsDefault {
				gotDefault = e.ID
			}
		}
		for _, e := range want {
			wantIDs = append(wantIDs, e.id)
			if e.isDefault {
				wantDefault = e.id
			}
		}
		cases += len(want)
		if !slices.Equal(gotIDs, wantIDs) || gotDefault != wantDefault {
			t.Errorf("trial %d (default %q): entries %q default %q; bootctl %q default %q", trial, pattern, gotIDs, gotDefault, wantIDs, wantDefault)
			continue
		}
		for i, e := range sb.entries {
			if e.Cmdline != want[i].options {
				t.Errorf("trial %d: %s: options %q, bootctl %q\n%s", trial, e.ID, e.Cmdline, want[i].options, files["/loader/entries/"+e.ID])
			}
		}
	}
	t.Logf("%d ESPs, %d entries compared with %s", trials, cases, bootctl)
}
