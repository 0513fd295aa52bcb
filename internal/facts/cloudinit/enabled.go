package cloudinit

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/boot"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// DisabledFile is the file whose existence makes cloud-init's generator leave cloud-init off.
const DisabledFile = "/etc/cloud/cloud-init.disabled"

// Binaries are where cloud-init's command is installed.
var Binaries = []string{"/usr/bin/cloud-init", "/bin/cloud-init", "/usr/local/bin/cloud-init"}

// Stages are cloud-init's boot stages as systemd units, in boot order: each alternative names the
// same stage in another release (cloud-init.service became cloud-init-network.service in 24.3;
// cloud-init-main.service is new in 24.3 and absent before).
var Stages = [][]string{
	{"cloud-init-local.service"},
	{"cloud-init-network.service", "cloud-init.service"},
	{"cloud-config.service"},
	{"cloud-final.service"},
}

// GeneratorDirs are systemd's system generator directories, most specific first (a file of the
// same name in an earlier one, or a link to /dev/null, replaces or masks a later one).
var GeneratorDirs = []string{"/run/systemd/system-generators", "/etc/systemd/system-generators", "/usr/local/lib/systemd/system-generators", "/usr/lib/systemd/system-generators", "/lib/systemd/system-generators"}

// Cmdline is a kernel command line the image boots with, and where it is written.
type Cmdline struct {
	Where string // the file (and line) naming the entry
	Line  int
	Value string
}

// Why is one reason for the decision: a file, a line, what it says.
type Why struct {
	Path   string
	Line   int
	Detail string
}

// Enablement is whether cloud-init runs at boot, decided as the booting system decides it:
// cloud-init's systemd generator (the last cloud-init=enabled|disabled on the kernel command
// line wins, else /etc/cloud/cloud-init.disabled disables, else it is enabled and links
// cloud-init.target into the boot), then systemd (each stage's unit found, not masked, reached
// from default.target as internal/facts/systemd's Boot follows it, or named by cloud-init.target
// when the generator pulls that in). Without systemd, SysV start links or
// OpenRC runlevels decide.
type Enablement struct {
	Installed bool
	Enabled   bool
	Why       []Why // the evidence of the decision: what enables it, or each thing that turns it off
	Problems  problems.List
}

// Err joins the problems: the decision depends on what they name.
func (e *Enablement) Err() error { return e.Problems.Err() }

// EnablementOf decides for an image: its root and the kernel command lines of the boot entries
// the VM may start unattended (internal/facts/boot); a boot chain that could not be read is a
// problem.
func EnablementOf(img *inspect.Image) *Enablement {
	return img.Memo("facts/cloudinit/enabled", func() any {
		ch := boot.Of(img)
		var cmdlines []Cmdline
		booted, _ := ch.Booted()
		for _, b := range booted {
			cmdlines = append(cmdlines, Cmdline{Where: b.Path, Line: b.Line, Value: b.Cmdline})
		}
		e := readEnablement(systemd.FromImage(img), systemd.BootOf(img), cmdlines)
		if ch.Err != nil {
			e.Problems = append(e.Problems, fmt.Errorf("boot chain (the kernel command line decides cloud-init=disabled): %w", ch.Err))
		}
		return e
	}).(*Enablement)
}

// CmdlineSetting is the generator's reading of a command line: the value of the last
// cloud-init= word ("" when there is none).
func CmdlineSetting(cmdline string) string {
	v := ""
	for _, w := range strings.Fields(cmdline) {
		if s, ok := strings.CutPrefix(w, "cloud-init="); ok {
			v = s
		}
	}
	return v
}

// ReadEnablement decides from a source and the booted command lines.
func ReadEnablement(src systemd.Source, cmdlines []Cmdline) *Enablement {
	return readEnablement(src, nil, cmdlines)
}

// readEnablement decides with the units boot starts (read from src when nil).
func readEnablement(src systemd.Source, boot *systemd.Boot, cmdlines []Cmdline) *Enablement {
	e := &Enablement{}
	fail := func(err error) *Enablement { e.Problems = append(e.Problems, err); return e }
	for _, b := range Binaries {
		fi, err := src.Lstat(b)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", b, err))
		}
		if fi != nil {
			e.Installed = true
			e.Why = append(e.Why, Why{Path: b, Detail: "cloud-init installed"})
			break
		}
	}
	if !e.Installed {
		e.Why = append(e.Why, Why{Path: Binaries[0], Detail: "cloud-init is not installed"})
		return e
	}
	off := false
	// the generator: the kernel command line first, then the file
	decided := map[string]bool{}
	for _, c := range cmdlines {
		switch CmdlineSetting(c.Value) {
		case "disabled":
			off = true
			e.Why = append(e.Why, Why{Path: c.Where, Line: c.Line, Detail: "the kernel command line says cloud-init=disabled"})
		case "enabled":
			decided[c.Where] = true
		}
	}
	fi, err := src.Lstat(DisabledFile)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", DisabledFile, err))
	}
	if fi != nil {
		if len(cmdlines) > 0 && len(decided) == len(cmdlines) {
			e.Why = append(e.Why, Why{Path: DisabledFile, Detail: "exists, but every booted kernel command line says cloud-init=enabled, which wins"})
		} else {
			off = true
			e.Why = append(e.Why, Why{Path: DisabledFile, Detail: "exists: cloud-init's generator leaves cloud-init off"})
		}
	}
	hasSystemd := false
	for _, p := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		fi, err := src.Lstat(p)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", p, err))
		}
		hasSystemd = hasSystemd || fi != nil
	}
	var ok bool
	if hasSystemd {
		if boot == nil {
			boot = systemd.ReadBoot(src)
			kcs := make([]systemd.KernelCmdline, 0, len(cmdlines))
			for _, c := range cmdlines {
				kcs = append(kcs, systemd.KernelCmdline{Where: c.Where, Value: c.Value})
			}
			boot.SetKernelCmdlines(func() ([]systemd.KernelCmdline, error) { return kcs, nil })
		}
		ok, err = e.systemdStarts(src, boot)
	} else {
		ok, err = e.initStarts(src)
	}
	if err != nil {
		return fail(err)
	}
	e.Enabled = ok && !off
	return e
}

// systemdStarts decides whether systemd starts every stage: each reached from the default target
// as facts/systemd's Boot follows it, or, when cloud-init's generator pulls cloud-init.target
// into the boot (at boot, so not in the image's links), named by cloud-init.target itself.
func (e *Enablement) systemdStarts(src systemd.Source, boot *systemd.Boot) (bool, error) {
	if err := boot.Err(); err != nil {
		return false, fmt.Errorf("units started at boot: %w", err)
	}
	// cloud-init.target: reached from the default target, or pulled in by the generator
	target, err := systemd.LoadUnit(src, "cloud-init.target")
	if err != nil {
		return false, err
	}
	wantedByTarget, err := targetWants(src, target)
	if err != nil {
		return false, err
	}
	targetOn, targetInBoot := false, false
	switch {
	case target.Masked:
		e.Why = append(e.Why, Why{Path: target.Path, Detail: "cloud-init.target is masked"})
	case func() bool { st, ok := boot.Has("cloud-init.target"); return ok && st.Found }():
		targetOn, targetInBoot = true, true
	default:
		gen, masked, err := generator(src)
		if err != nil {
			return false, err
		}
		switch {
		case masked:
			e.Why = append(e.Why, Why{Path: gen, Detail: "cloud-init's generator is masked: nothing pulls cloud-init.target into the boot"})
		case gen != "":
			targetOn = target.Found()
		}
	}
	all := true
	for _, alts := range Stages {
		var u *systemd.Unit
		for _, name := range alts {
			x, err := systemd.LoadUnit(src, name)
			if err != nil {
				return false, err
			}
			if x.Path != "" {
				u = x
				break
			}
		}
		if u == nil {
			e.Why = append(e.Why, Why{Path: "/usr/lib/systemd/system/" + alts[0], Detail: "no unit for cloud-init's stage " + strings.Join(alts, " or ")})
			all = false
			continue
		}
		if u.Masked {
			e.Why = append(e.Why, Why{Path: u.Path, Detail: u.Name + " is masked"})
			all = false
			continue
		}
		// pulled in, then run: its Condition*=/Assert*= as systemd tests them when the job
		// runs (the real units have ConditionPathExists=!/etc/cloud/cloud-init.disabled,
		// ConditionKernelCommandLine=!cloud-init=disabled and ConditionEnvironment=); one
		// failing skips the stage, one not decided offline leaves it counted as running, the
		// evidence naming it, one that could not be read is a problem
		pulled := false
		var run systemd.RunVerdict
		if st, ok := boot.Has(u.Name); ok {
			pulled = true
			where := st.Path
			if where == "" {
				where = u.Path
			}
			_, run = boot.Runs(u.Name)
			e.Why = append(e.Why, Why{Path: where, Line: st.Line, Detail: u.Name + " started at boot (" + st.How + ")"})
		} else if w, ok := wantedByTarget[u.Name]; ok && targetOn && !targetInBoot {
			pulled = true
			run = boot.RunsPulledIn(u)
			e.Why = append(e.Why, Why{Path: w.Path, Line: w.Line, Detail: u.Name + " started at boot (" + w.Detail + ", which cloud-init's generator pulls into the boot)"})
		}
		if pulled {
			switch run.Runs {
			case systemd.False:
				all = false
				e.Why = append(e.Why, conditionWhy(u, run, run.Why))
			case systemd.Unknown:
				if run.Err != nil {
					return false, fmt.Errorf("%s: %w", u.Name, run.Err)
				}
				e.Why = append(e.Why, conditionWhy(u, run, run.Why+" (counted as running)"))
			}
		}
		if !pulled {
			d := u.Name + " is not enabled (not reached from the default target " + boot.Default + ")"
			if _, ok := wantedByTarget[u.Name]; ok && !targetOn {
				d = u.Name + " is wanted by cloud-init.target only, and nothing starts cloud-init.target"
			}
			e.Why = append(e.Why, Why{Path: u.Path, Detail: d})
			all = false
		}
	}
	return all, nil
}

// targetWants lists the units cloud-init.target pulls in itself: the links in its .wants and
// .requires directories of every unit directory and its Wants=/Requires=/... settings, each with
// where it is named. What those units pull in further is not followed: cloud-init's stages are
// named by the target directly.
func targetWants(src systemd.Source, target *systemd.Unit) (map[string]Why, error) {
	out := map[string]Why{}
	if target.Masked {
		return out, nil
	}
	for _, suffix := range []string{".wants", ".requires"} {
		for _, d := range systemd.UnitDirs {
			dir := d + "/cloud-init.target" + suffix
			ents, err := src.ReadDir(dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
			for _, ent := range ents {
				if _, seen := out[ent.Name()]; !seen {
					out[ent.Name()] = Why{Path: dir + "/" + ent.Name(), Detail: "linked from cloud-init.target" + suffix}
				}
			}
		}
	}
	if target.Path == "" {
		return out, nil
	}
	for _, key := range systemd.DependencyKeys {
		for _, st := range target.Values("Unit", key) {
			for _, dep := range strings.Fields(st.Value) {
				if _, seen := out[dep]; !seen {
					out[dep] = Why{Path: st.File, Line: st.Line, Detail: key + "= of cloud-init.target"}
				}
			}
		}
	}
	return out, nil
}

// generator finds cloud-init's generator as systemd does: the first directory holding the name;
// a link to /dev/null masks it.
func generator(src systemd.Source) (string, bool, error) {
	for _, d := range GeneratorDirs {
		p := d + "/cloud-init-generator"
		fi, err := src.Lstat(p)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", p, err)
		}
		if fi == nil {
			continue
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			t, err := src.ReadLink(p)
			if err != nil {
				return "", false, fmt.Errorf("%s: %w", p, err)
			}
			if path.Clean(t) == "/dev/null" {
				return p, true, nil
			}
		}
		return p, false, nil
	}
	return "", false, nil
}

// initStarts decides for SysV init and OpenRC: every stage's script is started in a runlevel.
func (e *Enablement) initStarts(src systemd.Source) (bool, error) {
	all := true
	for _, n := range []string{"cloud-init-local", "cloud-init", "cloud-config", "cloud-final"} {
		var found []string
		for _, pat := range []string{"/etc/rc2.d/S??" + n, "/etc/rc3.d/S??" + n, "/etc/rc5.d/S??" + n, "/etc/runlevels/*/" + n} {
			m, err := src.Glob(pat)
			if err != nil {
				return false, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			e.Why = append(e.Why, Why{Path: "/etc/init.d/" + n, Detail: n + " is started in no runlevel"})
			all = false
			continue
		}
		e.Why = append(e.Why, Why{Path: found[0], Detail: n + " started at boot"})
	}
	return all, nil
}

// conditionWhy is the evidence of a stage's condition: the setting's file and line when one
// decides, else the unit's.
func conditionWhy(u *systemd.Unit, run systemd.RunVerdict, detail string) Why {
	if c := run.Condition; c != nil {
		return Why{Path: c.File, Line: c.Line, Detail: detail}
	}
	return Why{Path: u.Path, Detail: detail}
}
