package swap

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// enablementTrials is how many generated unit trees TestSwapUnitsAgreeWithSystemctl compares.
const enablementTrials = 120

// Differential: on generated unit trees, built with systemctl --root=DIR itself (enable, mask,
// disable) and with vendor links in /usr/lib/.../*.wants/ as distributions ship them, every
// .swap unit systemctl --root=DIR is-enabled calls "enabled" is one the facts find started at
// boot, none it calls "masked" is, and every other one the facts find has a vendor link the
// generator made (systemctl's "static"/"disabled" for a unit a vendor wants directory starts).
// list-unit-files agrees with is-enabled on every unit.
func TestSwapUnitsAgreeWithSystemctl(t *testing.T) {
	const systemctl = "/usr/bin/systemctl"
	if _, err := os.Stat(systemctl); err != nil {
		t.Skip("no systemctl to compare with")
	}
	rng := rand.New(rand.NewPCG(26, 33))
	trials := enablementTrials
	if testing.Short() {
		trials = 25
	}
	work := t.TempDir()
	run := func(root string, args ...string) (string, error) {
		out, err := exec.Command(systemctl, append([]string{"--root=" + root, "--no-reload", "--no-ask-password"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	dirs := []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system", "/usr/local/lib/systemd/system"}
	targets := []string{"swap.target", "multi-user.target", "local-fs.target"}
	counts := map[string]int{}
	for trial := range trials {
		root := filepath.Join(work, fmt.Sprint(trial))
		for _, d := range dirs {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		var units []string
		vendor := map[string]bool{}
		for i := range 1 + rng.IntN(4) {
			name := fmt.Sprintf("swap%d.swap", i)
			units = append(units, name)
			body := "[Swap]\nWhat=/dev/disk/by-label/swap" + fmt.Sprint(i) + "\n"
			if rng.IntN(4) > 0 {
				body += "\n[Install]\nWantedBy=" + targets[rng.IntN(len(targets))] + "\n"
			}
			d := dirs[rng.IntN(len(dirs))]
			if err := os.WriteFile(filepath.Join(root, d, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			switch rng.IntN(6) {
			case 0, 1:
				if out, err := run(root, "enable", name); err != nil && !strings.Contains(out, "no installation config") {
					t.Logf("trial %d: enable %s: %v %s", trial, name, err, out)
				}
			case 2:
				run(root, "enable", name)
				run(root, "mask", name)
			case 3:
				run(root, "enable", name)
				run(root, "disable", name)
			case 4: // a vendor link, as a distribution's package ships it
				vd := dirs[1+rng.IntN(len(dirs)-1)]
				w := filepath.Join(root, vd, targets[rng.IntN(len(targets))]+".wants")
				os.MkdirAll(w, 0o755)
				os.Symlink("../"+name, filepath.Join(w, name))
				vendor[name] = true
			}
		}
		f := Read(systemd.FromDir(root), &cloudinit.Facts{Config: cloudinit.Read(systemd.FromDir(root)).Config})
		if err := f.Err(); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		started := map[string]bool{}
		for _, l := range f.Links {
			started[l.Unit] = true
		}
		listed := map[string]string{}
		out, _ := run(root, "list-unit-files", "--no-legend", "--type=swap")
		for _, line := range strings.Split(out, "\n") {
			if fl := strings.Fields(line); len(fl) >= 2 {
				listed[fl[0]] = fl[1]
			}
		}
		for _, u := range units {
			state, _ := run(root, "is-enabled", u)
			counts[state]++
			if listed[u] != state {
				t.Errorf("trial %d: %s: list-unit-files %q, is-enabled %q", trial, u, listed[u], state)
			}
			switch {
			case state == "enabled" && !started[u]:
				t.Errorf("trial %d: %s is enabled (systemctl) but not found started at boot\n%s", trial, u, tree(root))
			case state == "masked" && started[u]:
				t.Errorf("trial %d: %s is masked (systemctl) but found started at boot", trial, u)
			case state != "enabled" && started[u] && !vendor[u]:
				t.Errorf("trial %d: %s is %s (systemctl) and has no vendor link, but is found started at boot\n%s", trial, u, state, tree(root))
			}
		}
	}
	t.Logf("%d trials; systemctl states: %v", trials, counts)
	if counts["enabled"] == 0 || counts["masked"] == 0 {
		t.Errorf("the generator made no enabled or no masked unit: %v", counts)
	}
}

func tree(root string) string {
	var b strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel := strings.TrimPrefix(p, root)
		if fi.Mode()&os.ModeSymlink != 0 {
			t, _ := os.Readlink(p)
			fmt.Fprintf(&b, "%s -> %s\n", rel, t)
		} else if fi.Mode().IsRegular() {
			fmt.Fprintf(&b, "%s\n", rel)
		}
		return nil
	})
	lines := strings.Split(b.String(), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
