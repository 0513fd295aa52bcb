// Package swap is the swap an image turns on at boot or at first boot, as the components that
// turn it on decide: libmount's reading of /etc/fstab (swapon -a, systemd-fstab-generator),
// systemd (a .swap unit linked from any *.wants/ or *.requires/ directory of the unit path, a
// unit boot starts that Wants=/Requires=/BindsTo= a .swap unit, or whose ExecStart*= runs
// swapon, directly, through sh -c, as a helper's verb, or in a script: a script is opened unless
// both the unit and the program are the distribution's own), and cloud-init (swap: and mounts:, its
// configuration merged as cloud-init merges it). The Azure agent's resource-disk swap
// (ResourceDisk.EnableSwap=y) is recorded apart: it is not on the OS disk.
package swap

import (
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Link is a .swap unit linked from a wants or requires directory.
type Link struct {
	Unit string
	Path string
	What string // the device or file the unit turns on (UnitPath of its name; "" when none)
}

// Dependency is a unit boot starts that pulls a .swap unit in.
type Dependency struct {
	Swap    string // the .swap unit
	By      string // the unit whose setting names it
	Setting systemd.Setting
	What    string // the device or file the .swap unit turns on (UnitPath)
}

// Swapon is a command a unit boot starts runs that turns swap on.
type Swapon struct {
	Unit    string
	Setting systemd.Setting
	Script  string // the script that runs swapon, when it is not the command itself
	Line    int    // its line in Script
	// Devices are the devices the command names (swaponDevices; none for swapon -a, or a
	// swapon inside a script)
	Devices []string
}

// Facts is the image's swap.
type Facts struct {
	Fstab        []sysconf.FstabEntry // swap lines
	Links        []Link
	Dependencies []Dependency
	Swapons      []Swapon
	Cloud        cloudinit.Swap
	CloudMounts  []cloudinit.Value
	ResourceDisk *sysconf.Setting // ResourceDisk.EnableSwap=y in /etc/waagent.conf
	// LVAreas are the image's LVM logical volumes that hold swap, with what names each
	// (devices.go); set by Of.
	LVAreas  []Area
	Problems problems.List

	devices map[string]Device // Resolved
}

// Err joins the problems: swap that could be there unseen.
func (f *Facts) Err() error { return f.Problems.Err() }

// Of returns the image's swap facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/swap", func() any {
		f := Read(systemd.FromImage(img), cloudinit.Of(img))
		f.resolve(img)
		return f
	}).(*Facts)
}

// maxUnits bounds the units followed from the wants directories through dependencies.
const maxUnits = 4096

// Read reads the facts; ci is the image's cloud-init configuration.
func Read(src systemd.Source, ci *cloudinit.Facts) *Facts {
	f := &Facts{}
	if data, err := src.ReadFile("/etc/fstab"); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("/etc/fstab: %w", err))
	} else if entries, err := sysconf.ReadFstab(data); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("/etc/fstab %w", err))
	} else {
		for _, e := range entries {
			if e.IsSwap() {
				f.Fstab = append(f.Fstab, e)
			}
		}
	}
	if data, err := src.ReadFile("/etc/waagent.conf"); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("/etc/waagent.conf: %w", err))
	} else if kv, err := sysconf.ReadKeyValue(data); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("/etc/waagent.conf %w", err))
	} else if s, ok := sysconf.Last(kv, "ResourceDisk.EnableSwap"); ok && strings.EqualFold(s.Value, "y") {
		f.ResourceDisk = &s
	}
	if err := ci.Err(); err != nil {
		f.Problems = append(f.Problems, err)
	} else {
		f.Cloud = ci.Config.Swap()
		f.CloudMounts = ci.Config.SwapMounts()
	}
	links, err := systemd.WantedLinks(src)
	if err != nil {
		f.Problems = append(f.Problems, err)
		return f
	}
	names := make([]string, 0, len(links))
	for n := range links {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasSuffix(n, ".swap") {
			// a masked unit (linked to /dev/null in a more specific directory) is never started
			if u, err := systemd.LoadUnit(src, n); err != nil {
				f.Problems = append(f.Problems, err)
				continue
			} else if u.Masked {
				continue
			}
			what, _ := UnitPath(n)
			for _, l := range links[n] {
				f.Links = append(f.Links, Link{Unit: n, Path: l, What: what})
			}
		}
	}
	// /etc/rc.local, executable, is run by rc-local.service, which systemd-rc-local-generator
	// pulls into multi-user.target
	if why, err := systemd.RCLocalPulledIn(src); err != nil {
		f.Problems = append(f.Problems, err)
	} else if why != "" {
		names = append(names, "rc-local.service")
	}
	f.follow(src, names)
	return f
}

// dependencyKeys are the [Unit] settings that start the named units with this one.
var dependencyKeys = []string{"Wants", "Requires", "Requisite", "BindsTo", "Upholds"}

// follow loads every unit boot starts (linked from a wants directory, then what those pull in
// through dependencies), recording .swap dependencies and swapon commands.
func (f *Facts) follow(src systemd.Source, start []string) {
	seen := map[string]bool{}
	queue := slices.Clone(start)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		if seen[name] = true; len(seen) > maxUnits {
			f.Problems = append(f.Problems, fmt.Errorf("more than %d units started at boot (not all were read)", maxUnits))
			return
		}
		u, err := systemd.LoadInstance(src, name)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		if !u.Found() {
			continue
		}
		for _, key := range dependencyKeys {
			for _, s := range u.Values("Unit", key) {
				for _, dep := range strings.Fields(s.Value) {
					if strings.HasSuffix(dep, ".swap") {
						what, _ := UnitPath(dep)
						f.Dependencies = append(f.Dependencies, Dependency{Swap: dep, By: name, Setting: s, What: what})
					}
					queue = append(queue, dep)
				}
			}
		}
		if !strings.HasSuffix(name, ".service") {
			continue
		}
		for _, key := range []string{"ExecStartPre", "ExecStart", "ExecStartPost"} {
			for _, s := range u.Values("Service", key) {
				f.swapon(src, name, s)
			}
		}
	}
}

// swaponWord finds swapon run as a command in shell text: at the start of a command, not in a
// comment.
var swaponWord = regexp.MustCompile(`(?m)(^|[;&|({\s]|\bthen|\bdo|\bexec)\s*(/usr)?(/s?bin/)?swapon(\s|$|;)`)

// maxScript bounds the script read for swapon.
const maxScript = 1 << 20

func (f *Facts) swapon(src systemd.Source, unit string, s systemd.Setting) {
	cmds, err := sysconf.SplitExec(s.Value)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("%s:%d: %s: %w", s.File, s.Line, s.Key, err))
		return
	}
	for _, c := range cmds {
		base := path.Base(c.Path)
		switch {
		case base == "swapon":
			f.Swapons = append(f.Swapons, Swapon{Unit: unit, Setting: s, Devices: swaponDevices(c.Argv)})
		case sysconf.IsShell(base) && shellRunsSwapon(c.Argv):
			f.Swapons = append(f.Swapons, Swapon{Unit: unit, Setting: s})
		case slices.Contains(c.Argv[1:], "swapon"): // dphys-swapfile swapon, a helper's verb
			f.Swapons = append(f.Swapons, Swapon{Unit: unit, Setting: s})
		case strings.HasPrefix(c.Path, "/") && !systemd.VendorProgram(s.File, c.Path):
			h, size, err := src.Head(c.Path, 2)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Errorf("%s (run by %s:%d): %w", c.Path, s.File, s.Line, err))
				continue
			}
			if string(h) != "#!" {
				continue // a binary (or absent): what it does is not read here
			}
			if size > maxScript {
				f.Problems = append(f.Problems, fmt.Errorf("%s (run by %s:%d): a script of %d bytes, over the %d this check reads: whether it runs swapon is unknown", c.Path, s.File, s.Line, size, maxScript))
				continue
			}
			data, err := src.ReadFile(c.Path)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Errorf("%s (run by %s:%d): %w", c.Path, s.File, s.Line, err))
				continue
			}
			if line := scriptSwaponLine(data); line > 0 {
				f.Swapons = append(f.Swapons, Swapon{Unit: unit, Setting: s, Script: c.Path, Line: line})
			}
		}
	}
}

// shellRunsSwapon: sh -c 'script' whose script runs swapon.
func shellRunsSwapon(argv []string) bool {
	for i, a := range argv {
		if strings.HasPrefix(a, "-") && strings.Contains(a, "c") && i+1 < len(argv) {
			return scriptSwaponLine([]byte(argv[i+1])) > 0
		}
	}
	return false
}

// scriptSwaponLine is the first line of a shell script that runs swapon, 0 for none.
func scriptSwaponLine(data []byte) int {
	for n, line := range strings.Split(string(data), "\n") {
		if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
		}
		if swaponWord.MatchString(line) {
			return n + 1
		}
	}
	return 0
}
