package systemd

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// Started is a unit boot starts, and the first reason found for it.
type Started struct {
	Name string
	// Path is the link or the unit file (with Line) that pulls it in; By the unit that does.
	Path string
	Line int
	By   string
	How  string // "linked from multi-user.target.wants", "Wants= of x.service"
	// Found says the unit has a file in the image (a unit without one fails to start; its
	// .wants links are still followed, as if the image were a partial tree).
	Found bool
	// Cond is the unit's Condition*= and Assert*= evaluated on the image (nil without a unit
	// file); CondErr says they could not be read. They are evaluated when Runs asks about the
	// unit (Units' entries leave them nil: evaluating every unit's would read paths no rule
	// needs). A unit whose conditions fail is still in Units (what it pulls in was enqueued
	// with it and starts), but systemd skips it: see Runs.
	Cond    *ConditionResult
	CondErr error
	unit    *Unit // the loaded unit, for Runs
}

// RunVerdict is whether a unit boot pulls in runs on the VM.
type RunVerdict struct {
	Runs Tri
	// Why says what decided it: not pulled in, no unit file, the failing or undecided
	// condition (file, line, text).
	Why string
	// Condition is the deciding condition, nil when none is.
	Condition *Condition
	// Err is a condition that could not be read: whether it runs is unknown.
	Err error
}

// Runs says whether boot runs the unit: pulled in, with a unit file, and its conditions and
// asserts holding on the image (systemd v252 src/core/unit.c unit_start: a failed condition
// skips the job, a failed assert fails it; neither runs the unit).
func (b *Boot) Runs(name string) (Started, RunVerdict) {
	s, ok := b.Units[name]
	if ok && s.unit != nil {
		s.Cond, s.CondErr = b.conditions(name, s.unit)
	}
	switch {
	case !ok:
		return s, RunVerdict{Runs: False, Why: name + " is not started at boot"}
	case !s.Found:
		return s, RunVerdict{Runs: False, Why: name + " has no unit file"}
	case s.CondErr != nil:
		return s, RunVerdict{Runs: Unknown, Why: "its conditions could not be read", Err: s.CondErr}
	case s.Cond == nil || s.Cond.Holds == True:
		return s, RunVerdict{Runs: True, Why: name + " " + s.Cond.String()}
	}
	v := RunVerdict{Runs: s.Cond.Holds, Condition: s.Cond.Deciding}
	if s.Cond.Holds == False {
		verb := "skips"
		if s.Cond.Deciding != nil && s.Cond.Deciding.Assert {
			verb = "fails"
		}
		v.Why = "systemd " + verb + " " + name + ": " + s.Cond.String()
	} else {
		v.Why = name + " runs unless its condition fails on the VM: " + s.Cond.String()
	}
	return s, v
}

// Boot is the units systemd starts at boot, as systemd 252 builds the transaction for its
// default target offline: default.target as the unit path resolves it (/etc over /run over
// /usr/lib; a link names the target), then, for every unit pulled in and each of its names
// (an alias's too), the links in its .wants and .requires directories in every directory of the
// unit path (vendor ones included) and its Wants=, Requires=, Requisite=, BindsTo= and Upholds=
// (drop-ins included; an empty assignment resets the list). A masked unit (linked to /dev/null
// or empty, in the most specific directory that has it) is never started, nor is what only it
// would pull in. An instance without a file of its own is loaded through its template. Presets
// are not applied: offline, nothing runs `systemctl preset`, so a unit is started only by a
// link or a dependency. The standard targets keep systemd's own dependencies when their unit
// files are not in the image (a partial tree): multi-user.target requires basic.target, basic
// sysinit.target and wants sockets, timers, paths and slices; sysinit wants local-fs and swap;
// graphical requires multi-user; and any unit without a file is followed through its .wants
// and .requires links all the same (systemd would not load a target it cannot find, but an image
// whose targets are all missing is a partial tree, and its links say what it means to start).
// What generators add at boot (fstab, SysV scripts, getty) is not here. Each unit's conditions
// are evaluated on the image when Runs asks (see conditions.go): a unit whose condition fails
// is still pulled in with what it pulls in, but does not run.
type Boot struct {
	Default     string // the default target's name, as default.target resolves
	DefaultFrom string // the file or link default.target is found at ("" when none)
	Units       map[string]Started
	Problems    problems.List

	eval    *Evaluator // conditions, evaluated on demand (Runs), once per unit
	condMu  sync.Mutex
	condFor map[string]condResult
}

type condResult struct {
	r   *ConditionResult
	err error
}

// conditions evaluates the unit's conditions once (the facts of an image are read by rules on
// several goroutines).
func (b *Boot) conditions(name string, u *Unit) (*ConditionResult, error) {
	b.condMu.Lock()
	defer b.condMu.Unlock()
	if c, ok := b.condFor[name]; ok {
		return c.r, c.err
	}
	if b.condFor == nil {
		b.condFor = map[string]condResult{}
	}
	r, err := b.eval.Evaluate(u)
	b.condFor[name] = condResult{r, err}
	return r, err
}

// Err joins the problems: what depended on them is unknown.
func (b *Boot) Err() error { return b.Problems.Err() }

// Has reports whether boot starts the unit.
func (b *Boot) Has(name string) (Started, bool) {
	s, ok := b.Units[name]
	return s, ok
}

// BootOf returns the image's boot units, read once per image.
func BootOf(img *inspect.Image) *Boot {
	return img.Memo("facts/systemd boot", func() any {
		b := ReadBoot(FromImage(img))
		b.eval.forImage(img) // the booted kernel command lines, for ConditionKernelCommandLine=
		return b
	}).(*Boot)
}

// maxBootUnits bounds the units followed; past it the fact is a problem, not a cut list.
const maxBootUnits = 8192

// standardDeps are systemd 252's dependencies of its standard targets (units/*.target), used
// when the image does not have the target's file.
var standardDeps = map[string][]string{
	"graphical.target":  {"multi-user.target"},
	"multi-user.target": {"basic.target"},
	"basic.target":      {"sysinit.target", "sockets.target", "timers.target", "paths.target", "slices.target"},
	"sysinit.target":    {"local-fs.target", "swap.target"},
}

// DependencyKeys are the [Unit] settings that start the named units with the unit.
var DependencyKeys = []string{"Wants", "Requires", "Requisite", "BindsTo", "Upholds"}

// ReadBoot reads which units boot starts.
func ReadBoot(src Source) *Boot {
	b := &Boot{Units: map[string]Started{}, eval: NewEvaluator(src)}
	def, from, err := resolveAlias(src, "default.target")
	if err != nil {
		b.Problems = append(b.Problems, err)
		return b
	}
	if def == "" {
		def = "multi-user.target" // no default.target in the image: what a server image boots
	}
	b.Default, b.DefaultFrom = def, from
	type item struct {
		name string
		why  Started
	}
	queue := []item{{def, Started{Name: def, Path: from, How: "the default target"}}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if _, seen := b.Units[it.name]; seen {
			continue
		}
		if len(b.Units) >= maxBootUnits {
			b.Problems = append(b.Problems, fmt.Errorf("more than %d units started at boot: not all were read", maxBootUnits))
			return b
		}
		u, err := LoadInstance(src, it.name)
		if err != nil {
			b.Problems = append(b.Problems, err)
			continue
		}
		if u.Masked {
			continue
		}
		it.why.Name, it.why.Found = it.name, u.Path != ""
		if u.Path != "" {
			it.why.unit = u
		}
		b.Units[it.name] = it.why
		names := []string{it.name}
		if u.Path != "" {
			if alias, _, err := resolveAlias(src, it.name); err == nil && alias != "" && alias != it.name {
				names = append(names, alias)
			}
		}
		if at := strings.IndexByte(it.name, '@'); at > 0 {
			if dot := strings.LastIndexByte(it.name, '.'); dot > at+1 {
				names = append(names, it.name[:at+1]+it.name[dot:]) // the template's directories
			}
		}
		for _, n := range names {
			for _, suffix := range []string{".wants", ".requires"} {
				for _, d := range UnitDirs {
					dir := d + "/" + n + suffix
					ents, err := src.ReadDir(dir)
					if err != nil {
						b.Problems = append(b.Problems, fmt.Errorf("%s: %w", dir, err))
						continue
					}
					for _, e := range ents {
						queue = append(queue, item{e.Name(), Started{Path: dir + "/" + e.Name(), By: it.name, How: "linked from " + n + suffix}})
					}
				}
			}
		}
		if it.name == "multi-user.target" {
			if why, err := RCLocalPulledIn(src); err != nil {
				b.Problems = append(b.Problems, err)
			} else if why != "" {
				queue = append(queue, item{"rc-local.service", Started{Path: RCLocal, By: it.name, How: why}})
			}
		}
		if u.Path == "" {
			for _, dep := range standardDeps[it.name] {
				queue = append(queue, item{dep, Started{By: it.name, How: "systemd's " + it.name + " (its file is not in the image)"}})
			}
			continue
		}
		for _, key := range DependencyKeys {
			for _, s := range u.Values("Unit", key) {
				for _, dep := range strings.Fields(s.Value) {
					queue = append(queue, item{dep, Started{Path: s.File, Line: s.Line, By: it.name, How: key + "= of " + it.name}})
				}
			}
		}
	}
	return b
}

// VendorProgram says whether a unit file a distribution's package installs (/usr/lib/systemd/,
// /lib/systemd/: not the administrator's /etc, /run or /usr/local) runs a program in the
// distribution's own directories. The readers that look into the scripts units run leave those
// unopened (it would cost a read per service of every image, a range request each on a blob);
// a unit the image's builder wrote, or a program anywhere else (/usr/local, /opt, /etc, /root),
// is read.
func VendorProgram(unitFile, program string) bool {
	if !strings.HasPrefix(unitFile, "/usr/lib/systemd/") && !strings.HasPrefix(unitFile, "/lib/systemd/") {
		return false
	}
	for _, d := range []string{"/usr/bin/", "/usr/sbin/", "/usr/lib/", "/usr/libexec/", "/bin/", "/sbin/", "/lib/"} {
		if strings.HasPrefix(program, d) {
			return true
		}
	}
	return false
}

// RCLocal is the script systemd-rc-local-generator has rc-local.service run at boot.
const RCLocal = "/etc/rc.local"

// rcLocalGenerators are where systemd 252 installs the generator (Debian's /lib, merged /usr).
var rcLocalGenerators = []string{"/lib/systemd/system-generators/systemd-rc-local-generator", "/usr/lib/systemd/system-generators/systemd-rc-local-generator"}

// RCLocalPulledIn says why rc-local.service is pulled into multi-user.target, or "": the generator
// (src/rc-local-generator/rc-local-generator.c) links it there when /etc/rc.local is an
// executable file (access X_OK: a link is followed).
func RCLocalPulledIn(src Source) (string, error) {
	gen := false
	for _, g := range rcLocalGenerators {
		fi, err := src.Lstat(g)
		if err != nil {
			return "", fmt.Errorf("%s: %w", g, err)
		}
		gen = gen || fi != nil
	}
	if !gen {
		return "", nil
	}
	p := RCLocal
	for range 8 {
		fi, err := src.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case fi == nil:
			return "", nil
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := src.ReadLink(p)
			if err != nil {
				return "", fmt.Errorf("%s: %w", p, err)
			}
			if !path.IsAbs(t) {
				t = path.Join(path.Dir(p), t)
			}
			p = t
			continue
		case fi.Mode().IsRegular() && fi.Mode()&0o111 != 0:
			return "systemd-rc-local-generator (" + RCLocal + " is executable)", nil
		}
		return "", nil
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", RCLocal)
}

// resolveAlias finds name in the unit path: the name a link there points at (a link to
// /dev/null: ""), or name itself for a file; "" when no directory has it. from is where it was
// found.
func resolveAlias(src Source, name string) (target, from string, err error) {
	for _, d := range UnitDirs {
		p := d + "/" + name
		fi, err := src.Lstat(p)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", p, err)
		}
		if fi == nil {
			continue
		}
		t, masked, err := src.maskTarget(p)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case masked:
			return "", p, nil
		case t != "":
			return path.Base(t), p, nil
		}
		return name, p, nil
	}
	return "", "", nil
}

// LoadInstance loads a unit, an instance ("getty@tty1.service") through its template
// ("getty@.service") when it has no file of its own, named as the instance.
func LoadInstance(src Source, name string) (*Unit, error) {
	u, err := LoadUnit(src, name)
	if err != nil || u.Path != "" {
		return u, err
	}
	if at := strings.IndexByte(name, '@'); at > 0 {
		if dot := strings.LastIndexByte(name, '.'); dot > at+1 {
			t, err := LoadUnit(src, name[:at+1]+name[dot:])
			if err != nil || t.Path == "" {
				return u, err
			}
			t.Name = name
			return t, nil
		}
	}
	return u, nil
}

// Names lists the units boot starts, sorted.
func (b *Boot) Names() []string {
	out := make([]string, 0, len(b.Units))
	for n := range b.Units {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
