package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
)

// Harden prints the script marketplace-harden would run, or the step catalogue, so that
// security teams can review exactly what will run on their image.
func Harden(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("harden", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var stepList, skip, keep, remove, clean, keepRules listFlag
	guestOS := fs.String("os", "linux", "guest OS: linux or windows")
	sysprep := fs.Bool("sysprep", false, "Windows: add the sysprep step")
	fs.Var(&keepRules, "keep-firewall-rule", "Windows: an inbound firewall rule (name or ID) to leave enabled (repeatable)")
	profileName := fs.String("profile", "", "profile: "+strings.Join(profile.Names(), ", ")+" (default Azure's for --os)")
	printScript := fs.Bool("print-script", false, "print the generated script")
	markdown := fs.Bool("markdown", false, "print the step reference (docs/steps.md)")
	dry := fs.Bool("dry-run", false, "generate the dry-run variant")
	keepFW := fs.Bool("keep-firewall", false, "leave the host firewall enabled")
	noResSwap := fs.Bool("no-resource-disk-swap", false, "also set ResourceDisk.EnableSwap=n (swap on the resource disk is left alone by default)")
	rootdelay := fs.Bool("kernel-rootdelay", false, "add rootdelay=300 even where initramfs-tools would sleep it at every boot")
	deprov := fs.Bool("deprovision", false, "add the deprovision step")
	fs.Var(&stepList, "step", "run exactly these steps (repeatable)")
	fs.Var(&skip, "skip-step", "leave a step out (repeatable)")
	fs.Var(&keep, "keep-path", "a path no step may touch (repeatable)")
	fs.Var(&remove, "remove-user", "an account to delete (repeatable)")
	fs.Var(&clean, "clean-path", "a data or cache path to empty (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: packer-plugin-marketplace harden [--os linux|windows] [--profile NAME] [--print-script] [flags]\n\nLists the hardening steps marketplace-harden runs, or prints its script, for review.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if helpOnStdout(fs, args, stdout) {
		return 0
	}
	if err := fs.Parse(args); err != nil {
		return ExitCannot
	}
	o := steps.Options{OS: *guestOS, Sysprep: *sysprep, KeepFirewallRules: keepRules, ProfileName: *profileName, Steps: stepList, SkipSteps: skip, DryRun: *dry, KeepFirewall: *keepFW, NoResourceDiskSwap: *noResSwap, KernelRootdelay: *rootdelay,
		Deprovision: *deprov, KeepPaths: keep, RemoveUsers: remove, CleanPaths: clean,
		Version: version.PluginVersion.FormattedVersion()}
	if _, note, err := o.Profile(); err == nil && note != "" {
		fmt.Fprintln(stderr, "harden: deprecated:", note)
	}
	if *markdown {
		fmt.Fprint(stdout, steps.Markdown())
		return 0
	}
	if *printScript {
		s, err := steps.Render(o)
		if err != nil {
			fmt.Fprintln(stderr, "harden:", err)
			return ExitCannot
		}
		fmt.Fprint(stdout, s)
		return 0
	}
	sel, err := steps.Select(o)
	if err != nil {
		fmt.Fprintln(stderr, "harden:", err)
		return ExitCannot
	}
	for _, s := range sel {
		fmt.Fprintf(stdout, "%-17s %s\n%-17s touches: %s\n", s.ID, s.Title, "", s.Touches)
	}
	return 0
}
