package rules

import (
	"fmt"
	"slices"
	"strings"

	"strconv"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/boot"

	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// kernelParams are the parameters the kernel itself takes from a command line: the words
// before a "--" (the kernel hands those after it to init, as its arguments). Only the
// required parameters are read this way (console=ttyS0 after "--" is no console); forbidden
// ones, root= and systemd.machine_id= are judged on the whole line, since the initramfs,
// kmod and systemd read /proc/cmdline, "--" and all.
func kernelParams(cmdline string) []string {
	f := strings.Fields(cmdline)
	if i := slices.Index(f, "--"); i >= 0 {
		return f[:i]
	}
	return f
}

// missingParams returns the required parameters absent from a command line. console= and
// earlyprintk= may carry options (console=ttyS0,115200n8).
func missingParams(cmdline string) []string {
	have := kernelParams(cmdline)
	var missing []string
	for _, want := range requirements.KernelParams {
		key, val, _ := strings.Cut(want, "=")
		found := false
		for _, h := range have {
			hk, hv, ok := strings.Cut(h, "=")
			if !ok || hk != key {
				continue
			}
			if hv == val || key != "rootdelay" && strings.HasPrefix(hv, val+",") {
				found = true
			}
		}
		if !found {
			missing = append(missing, want)
		}
	}
	return missing
}

// bootEntry is one kernel command line of the boot chain (internal/facts/boot), as the rules
// here and in firstboot.go judge it.
type bootEntry struct {
	path    string
	line    int
	cmdline string
	note    string // why it is not judged
	e       boot.Entry
}

// describe names an entry's kind for evidence.
func (e bootEntry) describe() string { return e.e.Describe() }

// bootChain is the image's boot chain, read once per image by internal/facts/boot.
func (c *Context) bootChain() (*boot.Chain, error) {
	ch := boot.Of(c.Image)
	return ch, ch.Err
}

// bootedEntries are the entries a VM may start without anyone at its console (the loaders'
// default entries, or every entry of a loader whose default is not decided offline); skipped
// are the others (not the default, or dropped by systemd-boot).
func (c *Context) bootedEntries() (booted, skipped []bootEntry, err error) {
	ch, err := c.bootChain()
	if err != nil {
		return nil, nil, err
	}
	b, s := ch.Booted()
	for _, e := range b {
		booted = append(booted, bootEntry{path: e.Path, line: e.Line, cmdline: e.Cmdline, e: e})
	}
	for _, e := range s {
		skipped = append(skipped, bootEntry{path: e.Path, line: e.Line, cmdline: e.Cmdline, note: e.Note, e: e})
	}
	return booted, skipped, nil
}

var _ = register(&Rule{
	ID:        "kernel-cmdline",
	Title:     "The kernel boots with console=ttyS0 earlyprintk=ttyS0 rootdelay=300",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: kernel boot line parameters); the Boot Loader Specification (uapi-group.org/specifications/specs/boot_loader_specification: type #1 entries, type #2 unified kernel images, loader.conf's default); LISA AzureImageStandard verify_serial_console_is_enabled and verify_grub (forbidden libata.atapi_enabled=0, reserve=0x1f0,0x8); self-test 40 Required Kernel Parameters (a missing rootdelay=300 is a Warning)",
	Rationale: "Azure's serial console and boot diagnostics read ttyS0: without console=ttyS0 certification fails. earlyprintk=ttyS0 and rootdelay=300 are recommended; the certification report warns when they are missing. Where initramfs-tools makes the initramfs (Debian, Ubuntu), rootdelay=300 is a five-minute sleep at every boot, so its absence passes here while the prediction stays the self-test's Warning. libata.atapi_enabled=0 and reserve=0x1f0,0x8 break Azure's virtual DVD and IDE emulation, and Microsoft's suite fails them. grub.cfg is read as GRUB's lexer reads it (a `#` that starts a word makes the rest of the line a comment, quotes, escapes, `;`), and the required parameters count only before a `--` (the kernel hands what follows to init). GRUB's booted entry must load a kernel that exists where GRUB reads it ($root as `set root=` and `search` leave it): a missing one boots nothing, so the rule fails naming it, unless GRUB's `fallback` names an entry that boots (that entry is then the one judged).",
	Fix: "Add the parameters to GRUB_CMDLINE_LINUX in /etc/default/grub and regenerate the boot configuration (update-grub, grub2-mkconfig or grubby); " +
		"on systemd-boot, to /etc/kernel/cmdline and the options line of the entries in loader/entries, and rebuild a unified kernel image with them " +
		"(ukify build --cmdline, mkosi KernelCommandLine=). marketplace-harden's `kernel-cmdline` step does all but the UKI.",
	Cert: &CertTest{SelfTestID: "40", Name: "Required Kernel Parameters", Level: "Failed", LISA: "verify_serial_console_is_enabled"},
	Check: linux(func(c *Context) Result {
		res := kernelCmdline(c)
		if res.Status != Warn {
			return res
		}
		// rootdelay=300 left out where initramfs-tools would sleep it at every boot: our
		// verdict passes it, the self-test still reports a Warning
		sleeps, err := c.initramfsToolsSleepsRootdelay()
		if err != nil {
			return errResult(err)
		}
		if sleeps && c.onlyRootdelayMissing() {
			res.Status, res.Predicted = Pass, "Warning"
			res.Message = "the boot entries carry console=ttyS0 earlyprintk=ttyS0; rootdelay=300 is left out, rightly: initramfs-tools sleeps the whole delay at every boot (the self-test reports a Warning)"
		}
		return res
	}),
})

// initramfsToolsSleepsRootdelay says whether the image builds its initramfs with initramfs-tools
// (Debian, Ubuntu), whose init sleeps rootdelay seconds before it mounts the root; dracut only
// waits up to that long for the root device.
func (c *Context) initramfsToolsSleepsRootdelay() (bool, error) {
	for _, p := range []string{"/usr/share/initramfs-tools/init", "/etc/initramfs-tools/initramfs.conf"} {
		fi, err := c.stat(p)
		if err != nil {
			return false, err
		}
		if fi != nil {
			return true, nil
		}
	}
	return false, nil
}

// onlyRootdelayMissing says whether every booted entry and every source of the next kernel's
// command line lack rootdelay=300 and nothing else.
func (c *Context) onlyRootdelayMissing() bool {
	entries, _, err := c.bootedEntries()
	if err != nil {
		return false
	}
	defaults, err := c.cmdlineDefaults()
	if err != nil {
		return false
	}
	lines := []string{}
	for _, e := range entries {
		lines = append(lines, e.cmdline)
	}
	for _, d := range defaults {
		lines = append(lines, d.cmdline)
	}
	for _, l := range lines {
		if m := missingParams(l); len(m) > 1 || len(m) == 1 && m[0] != "rootdelay=300" {
			return false
		}
	}
	return len(lines) > 0
}

// cmdlineSource is a file the next kernel's command line is made from.
type cmdlineSource struct {
	name    string // the file (the first, for GRUB's defaults)
	cmdline string
	ev      []Evidence
	regen   string // how its boot entries are regenerated
}

// cmdlineDefaults returns GRUB's defaults (/etc/default/grub and grub.d) and kernel-install's
// /etc/kernel/cmdline, those that exist.
func (c *Context) cmdlineDefaults() ([]cmdlineSource, error) {
	ch, err := c.bootChain()
	if err != nil {
		return nil, err
	}
	var out []cmdlineSource
	for _, src := range ch.Sources {
		d := cmdlineSource{name: src.Name, cmdline: src.Cmdline, regen: src.Regen}
		for _, st := range src.Settings {
			if src.KernelInstall {
				d.ev = append(d.ev, Evidence{Path: st.Path, Line: st.Line, Detail: "kernel-install's command line for new kernels: " + Quote(strconv.Quote(st.Value))})
			} else {
				d.ev = append(d.ev, Evidence{Path: st.Path, Line: st.Line, Detail: Quote(fmt.Sprintf("%s=%q", st.Key, st.Value))})
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// kernelCmdline judges the booted entries (and the sources of the next kernel's command line)
// against the self-test's required parameters and LISA's forbidden ones.
func kernelCmdline(c *Context) Result {
	entries, skipped, err := c.bootedEntries()
	if err != nil {
		return errResult(err)
	}
	defaults, err := c.cmdlineDefaults()
	if err != nil {
		return errResult(err)
	}
	var defEv []Evidence
	for _, d := range defaults {
		defEv = append(defEv, d.ev...)
	}
	res := Result{Required: strings.Join(requirements.KernelParams, " ")}
	if len(entries) == 0 {
		// Nothing generated to read: judge the defaults, and say so.
		if len(defaults) == 0 {
			res.Status, res.Message, res.Actual = Fail, "no boot configuration found (no grub.cfg, no BLS or systemd-boot entry, no unified kernel image, no /etc/default/grub, no /etc/kernel/cmdline)", "no boot configuration"
			res.Evidence = []Evidence{{Path: "/boot/grub/grub.cfg", Detail: "missing"}}
			for _, b := range c.Image.Boot {
				res.Evidence = append(res.Evidence, Evidence{Path: b.Where("/"), Detail: fmt.Sprintf("the %s holds no /loader/entries/*.conf, no /EFI/Linux/*.efi and no /EFI/*/grub.cfg", b.Role)})
			}
			return res
		}
		res.Evidence = defEv
		if msg, m := defaultsLacking(defaults); len(msg) > 0 {
			res.Status, res.Message, res.Actual = cmdlineLevel(m), strings.Join(msg, "; ")+" (no generated boot entry was found to check)", "Missing Parameter: "+strings.Join(m, " ")
			return res
		}
		res.Status, res.Message, res.Actual = Warn, "the command-line defaults carry the parameters but no generated boot entry was found; regenerate it before capture", Quote(defaults[0].cmdline)
		return res
	}
	// an entry GRUB boots whose kernel does not exist where GRUB reads it boots nothing (GRUB's
	// fallback entry, when one boots, is the judged entry instead: see internal/facts/boot)
	var unbootable []Evidence
	var lost []string
	for _, e := range entries {
		if e.e.KernelMissing {
			unbootable = append(unbootable, Evidence{Path: e.path, Line: e.line, Detail: "loads kernel " + e.e.KernelFile + ", which does not exist where GRUB reads it: the entry does not boot (" + e.describe() + ")"})
			lost = append(lost, e.e.KernelFile)
		}
	}
	if len(unbootable) > 0 {
		ch, _ := c.bootChain()
		for _, d := range ch.GRUBDecision {
			unbootable = append(unbootable, Evidence{Path: d[:max(strings.Index(d, ": "), 0)], Detail: d})
		}
		r := fail(fmt.Sprintf("%d of %d boot entries GRUB may start load a kernel that does not exist: %s", len(lost), len(entries), strings.Join(lost, ", ")), listing(unbootable, 10)...)
		r.Actual, r.Required = "kernel missing: "+strings.Join(lost, ", "), "the booted entry's kernel, with "+strings.Join(requirements.KernelParams, " ")
		return r
	}
	// every problem is named: forbidden parameters and missing ones, in every judged entry
	var forbidden []Evidence
	for _, e := range entries {
		for _, f := range strings.Fields(e.cmdline) {
			if slices.Contains(ForbiddenKernelParams, f) {
				forbidden = append(forbidden, Evidence{Path: e.path, Line: e.line, Detail: f + " breaks Azure's virtual devices: remove it (" + e.describe() + ")"})
			}
		}
	}
	var notes []Evidence
	for _, e := range skipped {
		if m := missingParams(e.cmdline); len(m) > 0 {
			notes = append(notes, Evidence{Path: e.path, Line: e.line, Detail: e.note + "; lacks " + strings.Join(m, " ")})
		}
	}
	missingAny := map[string]bool{}
	var bad []Evidence
	for _, e := range entries {
		if m := missingParams(e.cmdline); len(m) > 0 {
			for _, p := range m {
				missingAny[p] = true
			}
			bad = append(bad, Evidence{Path: e.path, Line: e.line, Detail: "missing " + strings.Join(m, " ") + " in: " + Quote(e.cmdline) + " (" + e.describe() + ")"})
		}
	}
	var missing []string
	for _, p := range requirements.KernelParams {
		if missingAny[p] {
			missing = append(missing, p)
		}
	}
	if len(forbidden) > 0 || len(bad) > 0 {
		var msg, actual []string
		if len(forbidden) > 0 {
			var names []string
			for _, e := range forbidden {
				if n, _, _ := strings.Cut(e.Detail, " "); !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			msg = append(msg, fmt.Sprintf("%d forbidden kernel parameter(s) (%s)", len(forbidden), strings.Join(names, " ")))
			actual = append(actual, "Forbidden Parameter: "+strings.Join(names, " "))
		}
		if len(bad) > 0 {
			msg = append(msg, fmt.Sprintf("%d of %d boot entries lack %s", len(bad), len(entries), strings.Join(missing, " ")))
			actual = append(actual, "Missing Parameter: "+strings.Join(missing, " "))
		}
		res.Status = cmdlineLevel(missing)
		if len(forbidden) > 0 {
			res.Status = Fail
		}
		res.Message, res.Actual = strings.Join(msg, "; "), strings.Join(actual, "; ")
		res.Evidence = append(listing(forbidden, 10), listing(bad, 10)...)
		if len(bad) > 0 {
			for _, d := range defaults {
				if len(missingParams(d.cmdline)) == 0 {
					res.Evidence = append(res.Evidence, Evidence{Path: d.name, Detail: "carries all parameters: the generated configuration is stale (" + d.regen + ")"})
				}
			}
		}
		res.Evidence = append(append(res.Evidence, defEv...), notes...)
		return res
	}
	res.Actual = Quote(entries[0].cmdline)
	detail := fmt.Sprintf("all %d boot entries carry the parameters (%s)", len(entries), entries[0].describe())
	if len(entries) == 1 && entries[0].e.SD != nil {
		detail = "the default entry carries the parameters (" + entries[0].describe() + ")"
	}
	res.Evidence = append([]Evidence{{Path: entries[0].path, Line: entries[0].line, Detail: detail}}, notes...)
	if msg, _ := defaultsLacking(defaults); len(msg) > 0 {
		res.Status, res.Message = Warn, "the boot entries carry the parameters but "+strings.Join(msg, "; ")+": the next kernel update will drop them"
		res.Evidence = append(res.Evidence, defEv...)
		return res
	}
	res.Status, res.Message = Pass, "every boot entry carries "+strings.Join(requirements.KernelParams, " ")
	if len(entries) == 1 && entries[0].e.SD != nil {
		res.Message = "systemd-boot's default entry carries " + strings.Join(requirements.KernelParams, " ")
	}
	return res
}

// defaultsLacking names every command-line source that lacks a required parameter ("NAME
// lacks P ..."), and the parameters any of them lacks, in the order of KernelParams.
func defaultsLacking(defaults []cmdlineSource) (msg, missing []string) {
	lacks := map[string]bool{}
	for _, d := range defaults {
		if m := missingParams(d.cmdline); len(m) > 0 {
			msg = append(msg, d.name+" lacks "+strings.Join(m, " "))
			for _, p := range m {
				lacks[p] = true
			}
		}
	}
	for _, p := range requirements.KernelParams {
		if lacks[p] {
			missing = append(missing, p)
		}
	}
	return msg, missing
}

// ForbiddenKernelParams are kernel parameters Microsoft's image suite fails.
var ForbiddenKernelParams = []string{"libata.atapi_enabled=0", "reserve=0x1f0,0x8"}

// cmdlineLevel: without console=ttyS0 the serial console is dark and certification fails;
// the other parameters are recommendations its report warns about.
func cmdlineLevel(missing []string) Status {
	if slices.Contains(missing, "console=ttyS0") {
		return Fail
	}
	return Warn
}
