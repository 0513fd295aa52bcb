// Package steps is the catalogue of hardening and cleanup steps and the renderer that turns a
// selection of them into the one script marketplace-harden uploads and runs: POSIX sh for
// Linux guests, PowerShell for Windows guests. A step is data (ID, title, what it touches, the
// profiles that include it) plus a script fragment.
package steps

import (
	_ "embed"
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Step is one hardening or cleanup action.
type Step struct {
	ID      string
	Title   string
	Markets []string // marketplaces whose profile runs it by default (profile.MarketAzure, ...); none means opt-in
	Touches string   // exactly what it may change or remove, for the docs and reviewers
	Body    string   // the body of a POSIX sh function
}

//go:embed prelude.sh
var prelude string

//go:embed prelude.ps1
var preludePS string

// Guest operating systems.
const (
	OSLinux   = "linux"
	OSWindows = "windows"
)

// Profile resolves the options' profile for their guest OS: the default is Azure's, and the old
// spelling (a bare marketplace, `azure`) is accepted with a note saying what to write instead.
func (o Options) Profile() (p profile.Profile, note string, err error) {
	os := o.OS
	if os == "" {
		os = OSLinux
	}
	if o.ProfileName == "" {
		p, _ := profile.For(profile.MarketAzure, os)
		return p, "", nil
	}
	return profile.ForGuest(o.ProfileName, os)
}

// Linux returns the Linux steps in the order they run.
func Linux() []*Step { return linuxSteps }

// Windows returns the Windows steps in the order they run.
func Windows() []*Step { return windowsSteps }

// For returns the steps of a guest OS ("" is Linux).
func For(os string) []*Step {
	if os == OSWindows {
		return windowsSteps
	}
	return linuxSteps
}

// ByID finds a Linux step.
func ByID(id string) (*Step, bool) { return ByIDFor(OSLinux, id) }

// ByIDFor finds a step of a guest OS.
func ByIDFor(os, id string) (*Step, bool) {
	for _, s := range For(os) {
		if s.ID == id {
			return s, true
		}
	}
	return nil, false
}

// Options select the steps and parameterise the script.
type Options struct {
	OS           string   // "linux" (default) or "windows"
	ProfileName  string   // a profile (profile.AzureLinux, ...); default Azure's for the OS
	Steps        []string // explicit list: replaces the profile's selection
	SkipSteps    []string
	KeepFirewall bool
	// NoResourceDiskSwap: the swap step also sets ResourceDisk.EnableSwap=n.
	NoResourceDiskSwap bool
	// KernelRootdelay: the kernel-cmdline step adds rootdelay=300 even where initramfs-tools
	// would sleep it at every boot.
	KernelRootdelay bool
	Deprovision     bool
	DryRun          bool
	ContinueOnError bool
	KeepPaths       []string
	RemoveUsers     []string
	CleanPaths      []string
	Version         string
	// Windows only.
	Sysprep               bool     // run the opt-in sysprep step last
	SysprepTimeoutMinutes int      // how long sysprep may take to generalize (default 30)
	KeepFirewallRules     []string // inbound rules (name or ID) the firewall step leaves enabled
}

var userRe = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}\$?$`)

// Select returns the steps to run, in catalogue order.
func Select(o Options) ([]*Step, error) {
	var errs []string
	known := func(id string) bool { _, ok := ByIDFor(o.OS, id); return ok }
	if o.OS != "" && o.OS != OSLinux && o.OS != OSWindows {
		errs = append(errs, fmt.Sprintf("unknown guest OS %q (linux or windows)", o.OS))
	}
	prof, _, err := o.Profile()
	if err != nil && (o.OS == "" || o.OS == OSLinux || o.OS == OSWindows) {
		errs = append(errs, err.Error())
	}
	for _, id := range append(append([]string{}, o.Steps...), o.SkipSteps...) {
		if !known(id) {
			errs = append(errs, fmt.Sprintf("unknown step %q", id))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var out []*Step
	windows := o.OS == OSWindows
	for _, s := range For(o.OS) {
		var want bool
		switch {
		case len(o.Steps) > 0:
			want = slices.Contains(o.Steps, s.ID)
		case s.ID == "deprovision":
			want = o.Deprovision
		case s.ID == "sysprep":
			want = o.Sysprep
		case s.ID == "clean-paths":
			want = len(o.CleanPaths) > 0 || slices.Contains(s.Markets, prof.Marketplace)
		case s.ID == "accounts" && windows:
			want = len(o.RemoveUsers) > 0
		default:
			want = slices.Contains(s.Markets, prof.Marketplace)
		}
		if s.ID == "firewall" && o.KeepFirewall || slices.Contains(o.SkipSteps, s.ID) {
			want = false
		}
		if s.ID == "deprovision" && want && !o.Deprovision {
			return nil, fmt.Errorf("the deprovision step removes the user Packer is connected as: set deprovision = true to run it")
		}
		if s.ID == "sysprep" && want && !o.Sysprep {
			return nil, fmt.Errorf("the sysprep step generalizes the guest: set sysprep = true to run it")
		}
		if want {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no step selected")
	}
	return out, nil
}

var (
	winPathRe = regexp.MustCompile(`^[A-Za-z]:[\\/]`)
	winUserRe = regexp.MustCompile(`^[^"/\\\[\]:;|=,+*?<>@\x00-\x1f]{1,20}$`)
)

// validateWindows checks what goes into the PowerShell script.
func (o Options) validateWindows() error {
	var errs []string
	for _, list := range []struct {
		name  string
		paths []string
	}{{"keep_paths", o.KeepPaths}, {"clean_paths", o.CleanPaths}} {
		for _, p := range list.paths {
			switch {
			case !winPathRe.MatchString(p) || strings.ContainsAny(p[2:], "\n\r\x00*?:\"<>|"):
				errs = append(errs, fmt.Sprintf("%s: %q must be an absolute Windows path (C:\\...) on one line, without wildcards or streams", list.name, p))
			case WindowsPath(p)[3:] == "":
				errs = append(errs, fmt.Sprintf("%s: %q would cover the whole drive", list.name, p))
			case strings.Contains(p, "~"):
				errs = append(errs, fmt.Sprintf("%s: %q: use the long name of each folder (8.3 short names such as PROGRA~1 hide what a path is)", list.name, p))
			}
		}
	}
	for _, p := range o.CleanPaths {
		if !winPathRe.MatchString(p) {
			continue
		}
		rest := strings.ToLower(WindowsPath(p)[3:])
		for _, sys := range []string{"windows", `windows\system32`, "program files", "program files (x86)", "programdata", "users", `users\default`, `users\public`} {
			if rest == sys {
				errs = append(errs, fmt.Sprintf("clean_paths: %q is the system directory %s; name the application's own directory instead", p, WindowsPath(p)))
			}
		}
		for _, sys := range []string{`windows\system32\`, `windows\syswow64\`, `windows\winsxs\`, `windows\servicing\`} {
			if strings.HasPrefix(rest+`\`, sys) {
				errs = append(errs, fmt.Sprintf("clean_paths: %q lies in the system directory %s", p, strings.TrimSuffix(sys, `\`)))
			}
		}
	}
	for _, u := range o.RemoveUsers {
		if !winUserRe.MatchString(u) || strings.TrimSpace(u) != u {
			errs = append(errs, fmt.Sprintf("remove_users: %q is not a Windows account name", u))
		}
	}
	for _, r := range o.KeepFirewallRules {
		if strings.ContainsAny(r, "\n\r\x00") || r == "" {
			errs = append(errs, fmt.Sprintf("keep_firewall_rules: %q must be a rule name or ID on one line", r))
		}
	}
	if o.SysprepTimeoutMinutes < 0 {
		errs = append(errs, "sysprep timeout must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// WindowsPath normalises an absolute Windows path as Windows resolves it: "/" is "\", "." and
// ".." are applied (".." at the root stays there), and trailing dots and spaces of each name are
// dropped ("Windows." and "Windows " are "Windows"). "C:\\Users\\..\\Windows\\." is "C:\\Windows";
// the drive root is "C:\\".
func WindowsPath(p string) string {
	if len(p) < 2 {
		return p
	}
	var parts []string
	for _, c := range strings.Split(strings.ReplaceAll(p[2:], "/", `\`), `\`) {
		if c == ".." {
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		if c = strings.TrimRight(c, ". "); c != "" {
			parts = append(parts, c)
		}
	}
	return strings.ToUpper(p[:1]) + `:\` + strings.Join(parts, `\`)
}

// Validate checks the paths and user names that go into the script.
func (o Options) Validate() error {
	if o.OS == OSWindows {
		return o.validateWindows()
	}
	var errs []string
	for _, list := range []struct {
		name  string
		paths []string
	}{{"keep_paths", o.KeepPaths}, {"clean_paths", o.CleanPaths}} {
		for _, p := range list.paths {
			switch {
			case !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\n\r\x00"):
				errs = append(errs, fmt.Sprintf("%s: %q must be an absolute path on one line", list.name, p))
			case path.Clean(p) == "/":
				errs = append(errs, fmt.Sprintf("%s: %q would cover the whole system", list.name, p))
			}
		}
	}
	for _, p := range o.CleanPaths {
		for _, sys := range []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/var", "/home", "/root", "/opt", "/srv", "/proc", "/sys", "/dev", "/run"} {
			if path.Clean(p) == sys {
				errs = append(errs, fmt.Sprintf("clean_paths: %q is a system directory; name the application's own directory instead", p))
			}
		}
	}
	for _, u := range o.RemoveUsers {
		if !userRe.MatchString(u) || u == "root" {
			errs = append(errs, fmt.Sprintf("remove_users: %q is not an account that can be removed", u))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Render returns the complete script for the selected steps.
func Render(o Options) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	sel, err := Select(o)
	if err != nil {
		return "", err
	}
	if o.OS == OSWindows {
		return renderWindows(o, sel), nil
	}
	var ids []string
	for _, s := range sel {
		ids = append(ids, s.ID)
	}
	prof, _, _ := o.Profile() // Select has validated it
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# marketplace-harden %s: profile %s, steps: %s\n", o.Version, prof.Name, strings.Join(ids, " "))
	b.WriteString("# Generated by packer-plugin-marketplace; review it with\n")
	b.WriteString("#   packer-plugin-marketplace harden --print-script --profile " + prof.Name + "\n")
	b.WriteString("# Every step lists what it may touch; nothing else is changed or removed.\n\n")
	fmt.Fprintf(&b, "MP_DRY_RUN=%d\n", boolInt(o.DryRun))
	onError := "abort"
	if o.ContinueOnError {
		onError = "continue"
	}
	fmt.Fprintf(&b, "MP_ON_ERROR=%s\n", shQuote(onError))
	if slices.Contains(ids, "swap") {
		fmt.Fprintf(&b, "MP_NO_RESOURCE_SWAP=%d\n", boolInt(o.NoResourceDiskSwap))
	}
	if slices.Contains(ids, "kernel-cmdline") {
		fmt.Fprintf(&b, "MP_ROOTDELAY=%d\n", boolInt(o.KernelRootdelay))
	}
	if slices.Contains(ids, "ssh-auth") {
		// Oracle's S14 wants no root login at all; AWS only no root password login
		rootLogin := "prohibit-password"
		if prof.Marketplace == profile.MarketOracle {
			rootLogin = "no"
		}
		fmt.Fprintf(&b, "MP_ROOT_LOGIN=%s\n", shQuote(rootLogin))
	}
	fmt.Fprintf(&b, "MP_KEEP=%s\n", shQuote(strings.Join(cleanAll(o.KeepPaths), "\n")))
	// the lists only the steps that read them need
	if slices.Contains(ids, "accounts") {
		fmt.Fprintf(&b, "MP_REMOVE_USERS=%s\n", shQuote(strings.Join(o.RemoveUsers, "\n")))
	}
	if slices.Contains(ids, "clean-paths") {
		fmt.Fprintf(&b, "MP_CLEAN_PATHS=%s\n", shQuote(strings.Join(cleanAll(o.CleanPaths), "\n")))
	}
	b.WriteString("\n")
	b.WriteString(prelude)
	for _, s := range sel {
		fmt.Fprintf(&b, "\n# %s: %s\n# touches: %s\nstep_%s() {%s\n}\n", s.ID, s.Title, s.Touches, fnName(s.ID), s.Body)
	}
	b.WriteString("\n")
	for _, s := range sel {
		fmt.Fprintf(&b, "mp_step %s step_%s\n", s.ID, fnName(s.ID))
	}
	b.WriteString("mp_msg \"done\" all\n")
	return b.String(), nil
}

// renderWindows writes the PowerShell script: the options as variables, the prelude, one
// function per step, then the calls in order.
func renderWindows(o Options, sel []*Step) string {
	var ids []string
	for _, s := range sel {
		ids = append(ids, s.ID)
	}
	prof, _, _ := o.Profile() // Select has validated it
	profile := prof.Name
	onError := "abort"
	if o.ContinueOnError {
		onError = "continue"
	}
	timeout := o.SysprepTimeoutMinutes
	if timeout == 0 {
		timeout = 30
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# marketplace-harden %s: profile %s, Windows steps: %s\n", o.Version, profile, strings.Join(ids, " "))
	b.WriteString("# Generated by packer-plugin-marketplace; review it with\n")
	b.WriteString("#   packer-plugin-marketplace harden --os windows --print-script --profile " + profile + "\n")
	b.WriteString("# Every step lists what it may touch; nothing else is changed or removed.\n\n")
	fmt.Fprintf(&b, "$MpDryRun = $%t\n", o.DryRun)
	fmt.Fprintf(&b, "$MpOnError = %s\n", PSQuote(onError))
	fmt.Fprintf(&b, "$MpKeep = %s\n", psList(o.KeepPaths))
	fmt.Fprintf(&b, "$MpRemoveUsers = %s\n", psList(o.RemoveUsers))
	fmt.Fprintf(&b, "$MpCleanPaths = %s\n", psList(windowsPaths(o.CleanPaths)))
	fmt.Fprintf(&b, "$MpKeepFirewallRules = %s\n", psList(o.KeepFirewallRules))
	fmt.Fprintf(&b, "$MpSysprepTimeoutMinutes = %d\n\n", timeout)
	b.WriteString(preludePS)
	for _, s := range sel {
		fmt.Fprintf(&b, "\n# %s: %s\n# touches: %s\nfunction Step-%s {%s\n}\n", s.ID, s.Title, s.Touches, psName(s.ID), s.Body)
	}
	b.WriteString("\n")
	for _, s := range sel {
		fmt.Fprintf(&b, "Mp-Step %s { Step-%s }\n", PSQuote(s.ID), psName(s.ID))
	}
	b.WriteString("Mp-Emit 'done' 'all'\n")
	return b.String()
}

// psName turns a step ID into a PowerShell function name part ("windows-update" → WindowsUpdate).
func psName(id string) string {
	var b strings.Builder
	for _, w := range strings.Split(id, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// PSQuote quotes s as a PowerShell single-quoted string. PowerShell also takes the typographic
// single quotes as quote characters, so they are doubled too.
func PSQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// windowsPaths normalises each path (WindowsPath), so that the script empties what was validated.
func windowsPaths(ps []string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, WindowsPath(p))
	}
	return out
}

func cleanAll(ps []string) []string {
	var out []string
	for _, p := range ps {
		if strings.HasPrefix(p, "/") {
			p = path.Clean(p)
		}
		out = append(out, p)
	}
	return out
}

func fnName(id string) string { return strings.ReplaceAll(id, "-", "_") }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shQuote quotes s for POSIX sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
