package cli

import (
	"flag"
	"fmt"
	"io"
)

// Commands are the binary's commands, one line each, as the top-level help lists them. describe
// and start are Packer's: Packer runs them to learn what the plugin offers and to serve it.
var Commands = []struct{ Name, Summary string }{
	{"check", "check disk images (raw, qcow2, VHD, VHDX, VMDK, a blob URL) offline against marketplace rules"},
	{"rules", "list the rules, the rule reference (--markdown) or the certification mapping (--certification)"},
	{"harden", "print the hardening steps, or the script marketplace-harden runs (--print-script)"},
	{"help", "print this help, or a command's (help check)"},
	{"describe", "Packer's: print the plugin's components and version as JSON"},
	{"start", "Packer's: serve the provisioner or post-processor to Packer (Packer runs it)"},
}

const helpText = `usage: packer-plugin-marketplace COMMAND [flags] [ARGS]

A Packer plugin (provisioner marketplace-harden, post-processor marketplace-check) that is also a
standalone checker of marketplace images.

commands:
`

// Help prints the top-level help.
func Help(w io.Writer) {
	fmt.Fprint(w, helpText)
	for _, c := range Commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.Name, c.Summary)
	}
	fmt.Fprint(w, "\nRun packer-plugin-marketplace COMMAND --help for a command's flags.\n")
}

// HelpCommand is `help [COMMAND]`: the top-level help, or a command's on stdout, status 0; an
// unknown command is named on stderr with the top-level help, status 2.
func HelpCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		Help(stdout)
		return 0
	}
	switch args[0] {
	case "check":
		return Check([]string{"--help"}, stdout, stderr)
	case "rules":
		return Rules([]string{"--help"}, stdout, stderr)
	case "harden":
		return Harden([]string{"--help"}, stdout, stderr)
	case "help":
		Help(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "help: unknown command %q\n\n", args[0])
	Help(stderr)
	return ExitCannot
}

// IsHelp reports whether a first argument asks for the top-level help.
func IsHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// wantsHelp reports whether the flags (before a "--") ask for help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// helpOnStdout prints fs's usage to stdout when args ask for help (asked-for help is output,
// not an error) and reports whether it did.
func helpOnStdout(fs *flag.FlagSet, args []string, stdout io.Writer) bool {
	if !wantsHelp(args) {
		return false
	}
	fs.SetOutput(stdout)
	fs.Usage()
	return true
}
