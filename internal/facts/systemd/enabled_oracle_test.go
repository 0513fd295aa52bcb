package systemd

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bootTrials is how many generated unit trees TestBootUnitsAgreeWithSystemctl compares.
const bootTrials = 150

// Differential: on generated unit trees, built with systemctl --root=DIR itself (enable,
// disable, mask, add-wants, set-default) and with vendor links as packages ship them, the
// facts' default target is `systemctl get-default`'s; no unit systemctl calls "masked" is
// started; every unit systemctl calls "enabled" whose [Install] target boot reaches is started;
// and every unit found started is explained by systemctl's own verdicts: enabled for a reached
// target, linked by a vendor directory of a reached target, wanted by a started unit, or a
// target of the chain. list-unit-files agrees with is-enabled on every unit.
func TestBootUnitsAgreeWithSystemctl(t *testing.T) {
	const systemctl = "/usr/bin/systemctl"
	if _, err := os.Stat(systemctl); err != nil {
		t.Skip("no systemctl to compare with")
	}
	rng := rand.New(rand.NewPCG(26, 55))
	trials := bootTrials
	if testing.Short() {
		trials = 30
	}
	work := t.TempDir()
	run := func(root string, args ...string) (string, error) {
		out, err := exec.Command(systemctl, append([]string{"--root=" + root, "--no-reload", "--no-ask-password"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	dirs := []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system", "/usr/local/lib/systemd/system"}
	// the targets every tree has, and what each requires (the model's own graph)
	targetDeps := map[string][]string{
		"graphical.target":  {"multi-user.target"},
		"multi-user.target": {"basic.target"},
		"basic.target":      {"sysinit.target"},
		"sysinit.target":    nil,
		"rescue.target":     nil,
		"lonely.target":     nil,
	}
	installTargets := []string{"multi-user.target", "graphical.target", "sysinit.target", "rescue.target", "lonely.target", "app.target"}
	counts := map[string]int{}
	cases := 0
	for trial := range trials {
		root := filepath.Join(work, fmt.Sprint(trial))
		write := func(p, body string) {
			h := filepath.Join(root, p)
			os.MkdirAll(filepath.Dir(h), 0o755)
			if err := os.WriteFile(h, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		link := func(target, p string) {
			h := filepath.Join(root, p)
			os.MkdirAll(filepath.Dir(h), 0o755)
			os.Remove(h)
			if err := os.Symlink(target, h); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range dirs {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		for name, deps := range targetDeps {
			body := "[Unit]\nDescription=" + name + "\n"
			if len(deps) > 0 {
				body += "Requires=" + strings.Join(deps, " ") + "\n"
			}
			write("/usr/lib/systemd/system/"+name, body)
		}
		def := []string{"graphical.target", "multi-user.target"}[rng.IntN(2)]
		link(def, "/usr/lib/systemd/system/default.target")
		if rng.IntN(3) == 0 {
			def = []string{"graphical.target", "multi-user.target", "rescue.target"}[rng.IntN(3)]
			if out, err := run(root, "set-default", def); err != nil {
				t.Fatalf("trial %d: set-default: %v %s", trial, err, out)
			}
		}
		// app.target: a target of its own, enabled (or not) into multi-user.target
		write("/usr/lib/systemd/system/app.target", "[Unit]\nDescription=app\n[Install]\nWantedBy=multi-user.target\n")
		appState := "disabled"
		if rng.IntN(2) == 0 {
			run(root, "enable", "app.target")
			appState, _ = run(root, "is-enabled", "app.target")
		}
		reached := map[string]bool{}
		var reach func(string)
		reach = func(n string) {
			if reached[n] {
				return
			}
			reached[n] = true
			for _, d := range targetDeps[n] {
				reach(d)
			}
			if n == "multi-user.target" && appState == "enabled" {
				reach("app.target")
			}
		}
		reach(def)

		n := 2 + rng.IntN(6)
		var units []string
		install := map[string]string{} // the [Install] target
		vendor := map[string]string{}  // the target of a vendor link
		wants := map[string][]string{} // Wants= between the services
		addWants := map[string]string{}
		enabled := map[string]bool{} // systemctl enable ran on it (and nothing undid it)
		for i := range n {
			name := fmt.Sprintf("svc%d.service", i)
			units = append(units, name)
			body := "[Unit]\nDescription=" + name + "\n"
			if i > 0 && rng.IntN(3) == 0 {
				dep := fmt.Sprintf("svc%d.service", rng.IntN(i))
				key := []string{"Wants", "Requires", "BindsTo"}[rng.IntN(3)]
				body += key + "=" + dep + "\n"
				wants[name] = append(wants[name], dep)
			}
			body += "[Service]\nExecStart=/bin/true\n"
			if rng.IntN(5) > 0 {
				tgt := installTargets[rng.IntN(len(installTargets))]
				key := []string{"WantedBy", "RequiredBy"}[rng.IntN(2)]
				body += "[Install]\n" + key + "=" + tgt + "\n"
				install[name] = tgt
			}
			write(dirs[rng.IntN(len(dirs))]+"/"+name, body)
			switch rng.IntN(8) {
			case 0, 1:
				run(root, "enable", name)
				enabled[name] = true
			case 2: // (mask refuses a unit whose file is in /etc: it stays enabled)
				run(root, "enable", name)
				run(root, "mask", name)
				enabled[name] = true
			case 3:
				run(root, "enable", name)
				run(root, "disable", name)
				enabled[name] = true
			case 4:
				run(root, "mask", name)
			case 5: // a vendor link, as a package ships it
				vd := dirs[1+rng.IntN(len(dirs)-1)]
				tgt := installTargets[rng.IntN(len(installTargets))]
				link("../"+name, vd+"/"+tgt+".wants/"+name)
				vendor[name] = tgt
			case 6:
				tgt := installTargets[rng.IntN(len(installTargets))]
				if _, err := run(root, "add-wants", tgt, name); err == nil {
					addWants[name] = tgt
				}
			}
		}

		b := ReadBoot(FromDir(root))
		if err := b.Err(); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if got, _ := run(root, "get-default"); got != b.Default {
			t.Errorf("trial %d: default %q, systemctl get-default %q", trial, b.Default, got)
		}
		listed := map[string]string{}
		out, _ := run(root, "list-unit-files", "--no-legend", "--type=service")
		for _, line := range strings.Split(out, "\n") {
			if fl := strings.Fields(line); len(fl) >= 2 {
				listed[fl[0]] = fl[1]
			}
		}
		state := map[string]string{}
		for _, u := range units {
			state[u], _ = run(root, "is-enabled", u)
			counts[state[u]]++
			cases++
			if listed[u] != state[u] {
				t.Errorf("trial %d: %s: list-unit-files %q, is-enabled %q", trial, u, listed[u], state[u])
			}
		}
		// the model: what systemctl's verdicts say boot starts
		expect := map[string]bool{}
		var start func(string)
		start = func(u string) {
			if expect[u] || state[u] == "masked" {
				return
			}
			expect[u] = true
			for _, d := range wants[u] {
				start(d)
			}
		}
		for changed := true; changed; {
			changed = false
			for _, u := range units {
				if expect[u] || state[u] == "masked" {
					continue
				}
				if enabled[u] && state[u] == "enabled" && reached[install[u]] || vendor[u] != "" && reached[vendor[u]] || addWants[u] != "" && reached[addWants[u]] {
					start(u)
					changed = true
				}
			}
		}
		for _, u := range units {
			_, got := b.Has(u)
			if got != expect[u] {
				why := b.Units[u]
				t.Errorf("trial %d: %s started %v (%s %s), systemctl's verdicts say %v (is-enabled %s, install %q, vendor %q, add-wants %q, default %s)\n%s",
					trial, u, got, why.How, why.Path, expect[u], state[u], install[u], vendor[u], addWants[u], b.Default, tree(root))
			}
		}
		for _, tg := range slices.Sorted(func(yield func(string) bool) {
			for k := range reached {
				if !yield(k) {
					return
				}
			}
		}) {
			if _, ok := b.Has(tg); !ok {
				t.Errorf("trial %d: target %s is reached from %s but not found started", trial, tg, def)
			}
		}
	}
	t.Logf("%d trees, %d services; systemctl states: %v", trials, cases, counts)
	if counts["enabled"] == 0 || counts["masked"] == 0 || counts["disabled"] == 0 {
		t.Errorf("the generator missed a state: %v", counts)
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
