// Package requirements holds the facts of a marketplace-ready guest that both halves of the
// plugin use: the provisioner's steps fix exactly what the checker's rules look for, because
// both read these lists. It imports nothing of the plugin.
package requirements

// KernelParams are what Azure needs on the kernel command line: the serial console for boot
// diagnostics and a root delay for slow storage attach. The kernel-cmdline step adds them.
var KernelParams = []string{"console=ttyS0", "earlyprintk=ttyS0", "rootdelay=300"}

// FirewallUnits are services that load persistent firewall rules at boot; the firewall step
// disables exactly these.
var FirewallUnits = []string{"ufw.service", "firewalld.service", "nftables.service", "netfilter-persistent.service", "iptables.service", "ip6tables.service", "iptables-persistent.service"}

// HistoryFiles are the shell and REPL histories (relative to a home directory) that must be
// absent, not just empty. The history step removes exactly these.
var HistoryFiles = []string{
	".bash_history", ".zsh_history", ".zhistory", ".sh_history", ".ash_history", ".history",
	".ksh_history", ".python_history", ".mysql_history", ".psql_history", ".lesshst",
	".node_repl_history", ".sqlite_history", ".rediscli_history", ".viminfo",
	".local/share/fish/fish_history", ".config/fish/fish_history",
	".local/share/powershell/PSReadLine/ConsoleHost_history.txt",
}

// UserKeyFiles are the per-user SSH files (in ~/.ssh) that must not ship, besides id_*; the
// ssh-keys step removes exactly these.
var UserKeyFiles = []string{"authorized_keys", "authorized_keys2", "known_hosts", "known_hosts.old"}

// Windows locations, relative to a profile folder (C:\Users\NAME) or, for the machine paths, to
// the system drive.
var (
	// WindowsSSHKeyProfilePaths and WindowsSSHKeyMachinePaths are the OpenSSH key locations
	// the ssh-keys step empties and the rule checks.
	WindowsSSHKeyProfilePaths = []string{".ssh"}
	WindowsSSHKeyMachinePaths = []string{"ProgramData/ssh/administrators_authorized_keys", "ProgramData/ssh/ssh_host_*"}
	// WindowsCredentialPaths are where cmdkey/Credential Manager keep saved credentials.
	WindowsCredentialPaths = []string{"AppData/Local/Microsoft/Credentials", "AppData/Roaming/Microsoft/Credentials"}
	// WindowsHistoryPaths hold PSReadLine histories (ConsoleHost_history.txt and other hosts').
	WindowsHistoryPaths = []string{"AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine"}
	// WindowsTempPaths are emptied by the temp step.
	WindowsTempPaths = []string{"AppData/Local/Temp"}
)
