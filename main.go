// Command packer-plugin-marketplace is a Packer plugin that makes VM images ready for cloud
// marketplaces (provisioner marketplace-harden) and proves it offline before submission
// (post-processor marketplace-check). The same binary is also a standalone checker:
//
//	packer-plugin-marketplace check [--profile NAME]... [--json PATH] [--junit PATH] IMAGE...
//	packer-plugin-marketplace rules [--profile NAME]
//	packer-plugin-marketplace harden --print-script [--profile azure-linux]
//	packer-plugin-marketplace help [COMMAND]
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	"github.com/marketready/packer-plugin-marketplace/internal/cli"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
	"github.com/marketready/packer-plugin-marketplace/post-processor/check"
	"github.com/marketready/packer-plugin-marketplace/provisioner/harden"
)

func main() {
	// no arguments or a request for help: the help, on stdout (Packer always names a command)
	if len(os.Args) < 2 || cli.IsHelp(os.Args[1]) {
		var rest []string
		if len(os.Args) > 2 && os.Args[1] == "help" {
			rest = os.Args[2:]
		}
		os.Exit(cli.HelpCommand(rest, os.Stdout, os.Stderr))
	}
	switch os.Args[1] {
	case "check":
		os.Exit(cli.Check(os.Args[2:], os.Stdout, os.Stderr))
	case "rules":
		os.Exit(cli.Rules(os.Args[2:], os.Stdout, os.Stderr))
	case "harden":
		os.Exit(cli.Harden(os.Args[2:], os.Stdout, os.Stderr))
	case "describe", "start":
		// Packer's commands, served by the SDK below
	default:
		// an unknown command: named, with the help, on stderr (status 2)
		os.Exit(cli.HelpCommand(os.Args[1:2], os.Stdout, os.Stderr))
	}
	pps := plugin.NewSet()
	pps.RegisterProvisioner("harden", new(harden.Provisioner))
	pps.RegisterPostProcessor("check", new(check.PostProcessor))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
