package systemd

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/arch"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// KernelCmdline is a kernel command line one entry the VM may boot unattended passes: what
// /proc/cmdline says on the VM booted from it.
type KernelCmdline struct {
	Where string // the entry's file:line, for evidence
	Value string // the entry's command line
	// AddedKeys are the keys of the words the boot loader adds itself, whose values are not
	// known offline ("BOOT_IMAGE" for GRUB's linux command, "initrd" for systemd-boot's type
	// #1 entries with an initrd): a condition on one's value is not decided.
	AddedKeys []string
}

// ImageCmdlines gives the kernel command lines of the entries of an image's boot chain that
// the VM may boot unattended (an error when the chain could not be read). internal/facts/boot
// sets it (it sits above this package: this package cannot import it); nil leaves
// ConditionKernelCommandLine= and what rests on the command line undecided.
var ImageCmdlines func(img *inspect.Image) ([]KernelCmdline, error)

// SetKernelCmdlines gives the evaluator the booted kernel command lines, read when a condition
// first needs them.
func (e *Evaluator) SetKernelCmdlines(fn func() ([]KernelCmdline, error)) {
	e.cmdlineFn, e.cmdlineLoaded = fn, false
}

// forImage sets what the evaluator reads beyond the root filesystem from the image (the boot
// chain's command lines).
func (e *Evaluator) forImage(img *inspect.Image) {
	if ImageCmdlines != nil {
		e.SetKernelCmdlines(func() ([]KernelCmdline, error) { return ImageCmdlines(img) })
	}
}

func (e *Evaluator) cmdlines() ([]KernelCmdline, string) {
	if !e.cmdlineLoaded {
		e.cmdlineLoaded = true
		switch {
		case e.cmdlineFn == nil:
			e.cmdlineWhy = "the kernel command line the image boots with is not read here"
		default:
			cls, err := e.cmdlineFn()
			switch {
			case err != nil:
				e.cmdlineWhy = "the boot chain could not be read: " + err.Error()
			case len(cls) == 0:
				e.cmdlineWhy = "no boot entry of the image boots unattended"
			default:
				e.cmdlineList = cls
			}
		}
	}
	return e.cmdlineList, e.cmdlineWhy
}

// cmdlineWords splits a command line as systemd's proc_cmdline_* do (extract_first_word with
// EXTRACT_UNQUOTE|EXTRACT_RELAX: quotes and backslashes removed, unbalanced ones tolerated);
// the number of words is bounded by the line's length.
func cmdlineWords(s string) []string {
	var out []string
	for {
		w, rest, ok, _ := extractWord(s, "", true, false, true)
		if !ok {
			return out
		}
		out = append(out, w)
		s = rest
	}
}

// testKernelCommandLine is condition_test_kernel_command_line (src/shared/condition.c, v252):
// with a "=" in the parameter a word of /proc/cmdline must equal it, without one a word must be
// it or start with it and "=". Words are compared as they are: "rd.foo" is not "foo" (the
// rd. prefix is read by proc_cmdline_get_key, which this test does not use), and in the booted
// system rd. words are on /proc/cmdline like any other. The command line is the booted
// entries' (internal/facts/boot), which the VM's kernel gets from the image's boot loader (a
// kernel's built-in CONFIG_CMDLINE is not read); when several may boot and they disagree, or
// none is known, the test is not decided.
func (e *Evaluator) testKernelCommandLine(param string) (Tri, string, error) {
	cls, why := e.cmdlines()
	if cls == nil {
		return Unknown, why, nil
	}
	equal := strings.Contains(param, "=")
	key, _, _ := strings.Cut(param, "=")
	var res Tri
	var whys []string
	for _, cl := range cls {
		found := ""
		for _, w := range cmdlineWords(cl.Value) {
			if equal && w == param || !equal && (w == param || strings.HasPrefix(w, param+"=")) {
				found = w
				break
			}
		}
		for _, k := range cl.AddedKeys {
			switch {
			case found != "" || k != key:
			case equal:
				return Unknown, fmt.Sprintf("the boot loader adds %s= to the command line of %s, with a value not known offline", k, cl.Where), nil
			default:
				found = k + "= (the boot loader adds it)"
			}
		}
		r := triOf(found != "")
		if found != "" {
			whys = append(whys, fmt.Sprintf("the kernel command line of %s has %s", cl.Where, found))
		} else {
			whys = append(whys, fmt.Sprintf("the kernel command line of %s has no %s", cl.Where, param))
		}
		switch {
		case res == Unknown:
			res = r
		case res != r:
			return Unknown, "the entries that may boot disagree: " + strings.Join(whys, "; "), nil
		}
	}
	return res, strings.Join(whys, "; "), nil
}

// systemdArchitectures are systemd 252's architecture names (src/basic/architecture.c): any
// other parameter is an error of ConditionArchitecture=.
var systemdArchitectures = map[string]bool{
	"alpha": true, "arc": true, "arc-be": true, "arm": true, "arm-be": true, "arm64": true, "arm64-be": true,
	"cris": true, "ia64": true, "loongarch64": true, "m68k": true, "mips": true, "mips-le": true, "mips64": true,
	"mips64-le": true, "nios2": true, "parisc": true, "parisc64": true, "ppc": true, "ppc64": true, "ppc64-le": true,
	"riscv32": true, "riscv64": true, "s390": true, "s390x": true, "sh": true, "sh64": true, "sparc": true,
	"sparc64": true, "tilegx": true, "x86": true, "x86-64": true,
}

// systemdBinaries are where the image's PID 1 is.
var systemdBinaries = []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"}

// nativeArch is the architecture systemd's binary is built for (its ELF header, read once), in
// systemd's names, and the kernel architectures that can run it: a 64-bit binary runs only on a
// kernel of its own architecture, a 32-bit one also on the 64-bit kernel of its family.
func (e *Evaluator) nativeArch() (native string, kernels []string, why string, err error) {
	if e.archLoaded {
		return e.archNative, e.archKernels, e.archWhy, e.archErr
	}
	e.archLoaded = true
	for _, p := range systemdBinaries {
		b, _, rerr := e.src.Head(p, 64)
		if rerr != nil {
			e.archErr = fmt.Errorf("%s: %w", p, rerr)
			return "", nil, "", e.archErr
		}
		if b == nil {
			continue
		}
		m, class, perr := arch.ELF(b)
		if perr != nil {
			e.archErr = fmt.Errorf("%s: %w", p, perr)
			return "", nil, "", e.archErr
		}
		be := len(b) > elf.EI_DATA && elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB
		switch {
		case m == arch.X8664:
			e.archNative, e.archKernels = "x86-64", []string{"x86-64"}
		case m == arch.AArch64 && !be:
			e.archNative, e.archKernels = "arm64", []string{"arm64"}
		case m == arch.AArch64:
			e.archNative, e.archKernels = "arm64-be", []string{"arm64-be"}
		case m == arch.RISCV64:
			e.archNative, e.archKernels = "riscv64", []string{"riscv64"}
		case m == arch.I386:
			e.archNative, e.archKernels = "x86", []string{"x86", "x86-64"}
		case m == arch.ARM && !be:
			e.archNative, e.archKernels = "arm", []string{"arm", "arm64"}
		case m == elf.EM_PPC64.String() && !be && class == elf.ELFCLASS64:
			e.archNative, e.archKernels = "ppc64-le", []string{"ppc64-le"}
		case m == elf.EM_S390.String() && class == elf.ELFCLASS64:
			e.archNative, e.archKernels = "s390x", []string{"s390x"}
		default:
			e.archWhy = fmt.Sprintf("the architecture of %s (%s) is not mapped to systemd's names here", p, m)
			return "", nil, e.archWhy, nil
		}
		e.archWhy = fmt.Sprintf("%s is built for %s", p, e.archNative)
		return e.archNative, e.archKernels, e.archWhy, nil
	}
	e.archWhy = "the image has no systemd binary (" + strings.Join(systemdBinaries, ", ") + ")"
	return "", nil, e.archWhy, nil
}

// testArchitecture is condition_test_architecture (src/shared/condition.c, v252): the
// architecture uname(2) reports on the VM (the kernel's) equals the parameter, "native" being
// the one systemd is built for; a name systemd does not know is an error of the test. The VM
// runs the image's kernel, of the architecture of the image's programs: decided from systemd's
// own binary, except a 32-bit one, which a 64-bit kernel of its family may run.
func (e *Evaluator) testArchitecture(param string) (Tri, string, error) {
	if param != "native" && !systemdArchitectures[param] {
		return errFail, param + " is not an architecture systemd knows", nil
	}
	native, kernels, why, err := e.nativeArch()
	if err != nil || native == "" {
		return Unknown, why, err
	}
	want := param
	if want == "native" {
		want = native
	}
	if len(kernels) == 1 {
		return triOf(kernels[0] == want), why, nil
	}
	for _, k := range kernels {
		if k == want {
			return Unknown, why + ", which a " + strings.Join(kernels, " or ") + " kernel runs: which one the image boots is not decided here", nil
		}
	}
	return False, why + ", which only a " + strings.Join(kernels, " or ") + " kernel runs", nil
}

// systemConfFiles are where systemd 252 reads its manager settings (src/core/main.c
// parse_config_file: /etc/systemd/system.conf, then the system.conf.d drop-ins of the config
// directories, a name in a more specific one hiding it below).
var systemConfFiles = []string{"/etc/systemd/system.conf.d/*.conf", "/run/systemd/system.conf.d/*.conf", "/usr/local/lib/systemd/system.conf.d/*.conf", "/usr/lib/systemd/system.conf.d/*.conf", "/lib/systemd/system.conf.d/*.conf"}

// environmentGeneratorDirs are systemd 252's system environment generator directories.
var environmentGeneratorDirs = []string{"/etc/systemd/system-environment-generators", "/run/systemd/system-environment-generators", "/usr/local/lib/systemd/system-environment-generators", "/usr/lib/systemd/system-environment-generators", "/lib/systemd/system-environment-generators"}

// maxSystemConf bounds a system.conf file read.
const maxSystemConf = 1 << 20

// testEnvironment is condition_test_environment (src/shared/condition.c, v252) against the
// system manager's environment: with "=" in the parameter an entry must equal it, without one
// an entry's name must be it. systemd 252's PID 1 starts from a clean environment
// (src/core/manager.c manager_default_environment: PATH and the locale variables of
// locale.conf), then adds DefaultEnvironment= of system.conf and its drop-ins, systemd.setenv=
// of the kernel command line and what system environment generators print. PATH and the
// locale variables are not decided here (their values are the build's and locale.conf's), nor
// is anything when a system.conf file sets DefaultEnvironment= or ManagerEnvironment=, an
// environment generator exists, or the command line has systemd.setenv= or is not known; else
// nothing else is set. What a unit run earlier puts there with `systemctl set-environment` is
// not modelled.
func (e *Evaluator) testEnvironment(param string) (Tri, string, error) {
	name, _, _ := strings.Cut(param, "=")
	if name == "PATH" || name == "LANG" || name == "LANGUAGE" || strings.HasPrefix(name, "LC_") {
		return Unknown, name + " is set in the manager's environment to a value not decided here", nil
	}
	dropins, err := e.src.Shadowed(systemConfFiles...)
	if err != nil {
		return Unknown, "", err
	}
	for _, f := range append([]string{"/etc/systemd/system.conf"}, dropins...) {
		b, size, err := e.src.Head(f, maxSystemConf+1)
		if err != nil {
			return Unknown, "", fmt.Errorf("%s: %w", f, err)
		}
		if b == nil {
			continue
		}
		if size > maxSystemConf {
			return Unknown, "", fmt.Errorf("%s: larger than %d bytes", f, maxSystemConf)
		}
		for i, line := range strings.Split(string(b), "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "DefaultEnvironment") || strings.HasPrefix(l, "ManagerEnvironment") {
				return Unknown, fmt.Sprintf("%s:%d sets the manager's environment (%s), which is not modelled", f, i+1, l), nil
			}
		}
	}
	for _, d := range environmentGeneratorDirs {
		ents, err := e.src.ReadDir(d)
		if err != nil {
			return Unknown, "", fmt.Errorf("%s: %w", d, err)
		}
		if len(ents) > 0 {
			return Unknown, d + "/" + ents[0].Name() + " is an environment generator: what it sets is not decided offline", nil
		}
	}
	cls, why := e.cmdlines()
	if cls == nil {
		return Unknown, "systemd.setenv= on the kernel command line would set it, and " + why, nil
	}
	for _, cl := range cls {
		for _, w := range cmdlineWords(cl.Value) {
			if strings.HasPrefix(w, "systemd.setenv=") {
				return Unknown, fmt.Sprintf("the kernel command line of %s has %s, which is not modelled", cl.Where, w), nil
			}
		}
	}
	return False, name + " is not in the system manager's environment (no DefaultEnvironment=, environment generator or systemd.setenv= sets it)", nil
}
