package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"

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

// bootEntry is one kernel command line found in what the boot loader reads.
type bootEntry struct {
	path    string
	line    int
	cmdline string
	// loader says what reads it: "GRUB", or "systemd-boot" for an entry of the Boot Loader
	// Specification on an ESP or XBOOTLDR (then sd says more).
	loader string
	sd     *loaderEntry
}

// describe names an entry's kind for evidence.
func (e bootEntry) describe() string {
	switch {
	case e.sd == nil:
		return e.loader
	case e.sd.isUKI:
		return fmt.Sprintf("systemd-boot, unified kernel image's .cmdline on the %s (partition %d)", e.sd.boot.Role, e.sd.boot.Partition.Number)
	}
	return fmt.Sprintf("systemd-boot entry on the %s (partition %d)", e.sd.boot.Role, e.sd.boot.Partition.Number)
}

// grubConfigs are the generated GRUB configurations, in the order distributions use them.
var grubConfigs = []string{"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/EFI/*/grub.cfg", "/boot/grub2/grubenv"}

// bootEntries returns every kernel command line the image's boot loaders would start: GRUB's
// menu entries, BLS entries GRUB reads from /boot/loader/entries, and systemd-boot's entries on
// the ESP and XBOOTLDR (see bootedEntries for the one it starts by default).
// They depend on the image only, and half the Linux rules ask: they are read once per image.
func (c *Context) bootEntries() ([]bootEntry, error) {
	type result struct {
		entries []bootEntry
		err     error
	}
	r := c.Image.Memo("boot entries", func() any {
		entries, err := c.readBootEntries()
		return result{entries, err}
	}).(result)
	return r.entries, r.err
}

func (c *Context) readBootEntries() ([]bootEntry, error) {
	var out []bootEntry
	kernelopts := ""
	if env, err := c.read("/boot/grub2/grubenv"); err != nil {
		return nil, err
	} else if env != nil {
		for _, s := range sysconf.ParseKeyValue(env) {
			if s.Key == "kernelopts" {
				kernelopts = s.Value
			}
		}
	}
	read := map[string]bool{}
	// a GRUB script's linux commands, its words as GRUB's lexer makes them (a '#' that starts
	// a word ends the line, quotes, escapes, ';')
	grubLines := func(where string, data []byte) error {
		read[where] = true
		cmds, err := sysconf.GrubCommands(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for _, cmd := range cmds {
			w := cmd.Words
			if len(w) < 2 || (w[0] != "linux" && w[0] != "linuxefi" && w[0] != "linux16") {
				continue
			}
			out = append(out, bootEntry{path: where, line: cmd.Line, cmdline: strings.Join(w[2:], " "), loader: "GRUB"})
		}
		return nil
	}
	for _, pat := range grubConfigs[:3] {
		files, err := c.glob(pat)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := c.read(f)
			if err != nil {
				return nil, err
			}
			if err := grubLines(f, data); err != nil {
				return nil, err
			}
		}
	}
	for _, b := range c.Image.Boot {
		if b.Role != inspect.RoleESP {
			continue
		}
		files, err := globIn(b, "/EFI/*/grub.cfg")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if read[b.Where(f)] {
				continue // the same file, read through the root's mount of the ESP
			}
			data, err := readIn(b, f)
			if err != nil {
				return nil, err
			}
			if err := grubLines(b.Where(f), data); err != nil {
				return nil, err
			}
		}
	}
	if !c.underBootPartition("/boot/loader/entries") {
		bls, err := c.glob("/boot/loader/entries/*.conf")
		if err != nil {
			return nil, err
		}
		for _, f := range bls {
			data, err := c.read(f)
			if err != nil {
				return nil, err
			}
			if e := parseBLS(data); e.line > 0 {
				out = append(out, bootEntry{path: f, line: e.line, cmdline: strings.ReplaceAll(e.cmdline, "$kernelopts", kernelopts), loader: "GRUB (BLS entry)"})
			}
		}
	}
	sb, err := c.systemdBoot()
	if err != nil {
		return nil, err
	}
	for i := range sb.entries {
		e := &sb.entries[i]
		out = append(out, bootEntry{path: e.where, line: e.line, cmdline: e.cmdline, loader: "systemd-boot", sd: e})
	}
	return out, nil
}

// bootedEntries are the entries a VM may start without anyone at its console: every GRUB entry
// (the menu's default can be changed by grub-reboot and saved_entry), and systemd-boot's
// default entry only. skipped are systemd-boot's other entries.
func (c *Context) bootedEntries() (booted, skipped []bootEntry, err error) {
	all, err := c.bootEntries()
	if err != nil {
		return nil, nil, err
	}
	for _, e := range all {
		if e.sd != nil && !e.sd.isDefault {
			skipped = append(skipped, e)
		} else {
			booted = append(booted, e)
		}
	}
	return booted, skipped, nil
}

// grubDefaults returns GRUB_CMDLINE_LINUX and _DEFAULT as GRUB would assemble them from
// /etc/default/grub and /etc/default/grub.d/*.cfg.
func (c *Context) grubDefaults() (cmdline string, ev []Evidence, found bool, err error) {
	files := []string{"/etc/default/grub"}
	more, err := c.glob("/etc/default/grub.d/*.cfg")
	if err != nil {
		return "", nil, false, err
	}
	files = append(files, more...)
	vals := map[string]sysconf.Setting{}
	src := map[string]string{}
	for _, f := range files {
		data, err := c.read(f)
		if err != nil {
			return "", nil, false, err
		}
		if data == nil {
			continue
		}
		found = true
		for _, s := range sysconf.ParseShellVars(data) {
			if s.Key == "GRUB_CMDLINE_LINUX" || s.Key == "GRUB_CMDLINE_LINUX_DEFAULT" {
				// grub.d snippets commonly append: GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ..."
				s.Value = strings.ReplaceAll(s.Value, "$"+s.Key, vals[s.Key].Value)
				s.Value = strings.ReplaceAll(s.Value, "${"+s.Key+"}", vals[s.Key].Value)
				vals[s.Key], src[s.Key] = s, f
			}
		}
	}
	for _, k := range []string{"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"} {
		if s, ok := vals[k]; ok {
			ev = append(ev, Evidence{Path: src[k], Line: s.Line, Detail: Quote(fmt.Sprintf("%s=%q", k, s.Value))})
		}
	}
	return strings.TrimSpace(vals["GRUB_CMDLINE_LINUX"].Value + " " + vals["GRUB_CMDLINE_LINUX_DEFAULT"].Value), ev, found, nil
}

var _ = register(&Rule{
	ID:        "kernel-cmdline",
	Title:     "The kernel boots with console=ttyS0 earlyprintk=ttyS0 rootdelay=300",
	Profiles:  []string{profAzureLinux},
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: kernel boot line parameters); the Boot Loader Specification (uapi-group.org/specifications/specs/boot_loader_specification: type #1 entries, type #2 unified kernel images, loader.conf's default); LISA AzureImageStandard verify_serial_console_is_enabled and verify_grub (forbidden libata.atapi_enabled=0, reserve=0x1f0,0x8); self-test 40 Required Kernel Parameters (a missing rootdelay=300 is a Warning)",
	Rationale: "Azure's serial console and boot diagnostics read ttyS0: without console=ttyS0 certification fails. earlyprintk=ttyS0 and rootdelay=300 are recommended; the certification report warns when they are missing. Where initramfs-tools makes the initramfs (Debian, Ubuntu), rootdelay=300 is a five-minute sleep at every boot, so its absence passes here while the prediction stays the self-test's Warning. libata.atapi_enabled=0 and reserve=0x1f0,0x8 break Azure's virtual DVD and IDE emulation, and Microsoft's suite fails them. grub.cfg is read as GRUB's lexer reads it (a `#` that starts a word makes the rest of the line a comment, quotes, escapes, `;`), and the required parameters count only before a `--` (the kernel hands what follows to init).",
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
	var out []cmdlineSource
	grub, ev, found, err := c.grubDefaults()
	if err != nil {
		return nil, err
	}
	if found {
		out = append(out, cmdlineSource{name: "/etc/default/grub", cmdline: grub, ev: ev, regen: "update-grub / grub2-mkconfig"})
	}
	ki, kev, found, err := c.kernelInstallCmdline()
	if err != nil {
		return nil, err
	}
	if found {
		out = append(out, cmdlineSource{name: kev.Path, cmdline: ki, ev: []Evidence{kev}, regen: "kernel-install add, or rebuild the UKI"})
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
			notes = append(notes, Evidence{Path: e.path, Line: e.line, Detail: "not the default entry (not judged); lacks " + strings.Join(m, " ")})
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
	if len(entries) == 1 && entries[0].sd != nil {
		detail = "the default entry carries the parameters (" + entries[0].describe() + ")"
	}
	res.Evidence = append([]Evidence{{Path: entries[0].path, Line: entries[0].line, Detail: detail}}, notes...)
	if msg, _ := defaultsLacking(defaults); len(msg) > 0 {
		res.Status, res.Message = Warn, "the boot entries carry the parameters but "+strings.Join(msg, "; ")+": the next kernel update will drop them"
		res.Evidence = append(res.Evidence, defEv...)
		return res
	}
	res.Status, res.Message = Pass, "every boot entry carries "+strings.Join(requirements.KernelParams, " ")
	if len(entries) == 1 && entries[0].sd != nil {
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
