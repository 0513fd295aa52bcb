package firewall

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

const (
	loadNft        = iota // nft -f FILE
	loadIptables          // iptables-restore FILE (ip6tables-restore, or a RHEL iptables.init)
	loadPersistent        // netfilter-persistent start: /etc/iptables/rules.v4 and rules.v6
	loadByName            // a tool whose rules are its own configuration (ufw, firewalld, ...)
	loadCommand           // iptables or nft changing rules on its command line (iptables -P INPUT DROP)
)

// ruleTools change firewall rules from their command line; ruleVerdicts are the words of such a
// command line that make it filter (a policy or a rule that drops, rejects or queues).
var (
	ruleTools    = []string{"iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft", "nft", "ebtables", "arptables"}
	ruleVerdicts = []string{"drop", "reject", "queue", "nfqueue", "tarpit"}
)

// Files netfilter-persistent's iptables plugins restore (Debian iptables-persistent 1.0.20,
// plugins.d/15-ip4tables and 25-ip6tables: each skips its file when it does not exist).
const (
	RulesV4 = "/etc/iptables/rules.v4"
	RulesV6 = "/etc/iptables/rules.v6"
)

// loader is one command that loads firewall rules.
type loader struct {
	firewall string
	kind     int
	file     string
	what     string // the command, for the evidence
}

var restoreNames = []string{"iptables-restore", "ip6tables-restore", "iptables-legacy-restore",
	"ip6tables-legacy-restore", "iptables-nft-restore", "ip6tables-nft-restore"}

// restoreValued are iptables-restore's options that take a value (iptables-restore(8)).
var restoreValued = []string{"-M", "--modprobe", "-T", "--table", "-W", "--wait-interval"}

// classify says whether a command (its executable, its arguments, what a shell redirects to its
// standard input) loads firewall rules, and how.
func classify(exe string, args []string, stdin string) (loader, bool) {
	base := path.Base(exe)
	what := strings.TrimSpace(base + " " + strings.Join(args, " "))
	if stdin != "" {
		what += " < " + stdin
	}
	has := func(w ...string) bool {
		for _, a := range args {
			if slices.Contains(w, a) {
				return true
			}
		}
		return false
	}
	switch {
	case base == "nft":
		for i, a := range args {
			if (a == "-f" || a == "--file") && i+1 < len(args) && args[i+1] != "-" {
				return loader{"nftables", loadNft, args[i+1], what}, true
			}
			if f, ok := strings.CutPrefix(a, "--file="); ok && f != "-" {
				return loader{"nftables", loadNft, f, what}, true
			}
		}
		if len(args) > 0 {
			return commandLoader(base, args, what), true
		}
	case slices.Contains(restoreNames, base):
		fw := "iptables"
		if strings.HasPrefix(base, "ip6") {
			fw = "ip6tables"
		}
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case slices.Contains(restoreValued, a):
				i++
			case strings.HasPrefix(a, "-"):
			default:
				return loader{fw, loadIptables, a, what}, true
			}
		}
		if stdin != "" {
			return loader{fw, loadIptables, stdin, what}, true
		}
		// no file: it reads its standard input, /dev/null for a service, and loads nothing
	case slices.Contains(ruleTools, base) && len(args) > 0:
		return commandLoader(base, args, what), true
	case base == "netfilter-persistent" && has("start", "restart", "reload"):
		return loader{"netfilter-persistent", loadPersistent, "", what}, true
	case base == "iptables.init" && has("start", "restart", "reload"):
		// RHEL's iptables-services: the init script restores /etc/sysconfig/iptables and
		// fails when it does not exist (iptables-services 1.8.x, iptables.init start)
		return loader{"iptables", loadIptables, "/etc/sysconfig/iptables", what}, true
	case base == "ip6tables.init" && has("start", "restart", "reload"):
		return loader{"ip6tables", loadIptables, "/etc/sysconfig/ip6tables", what}, true
	case base == "ufw-init" && has("start", "force-reload", "restart"):
		return loader{"ufw", loadByName, "", what}, true
	case base == "ufw" && has("enable"):
		return loader{"ufw", loadByName, "", what}, true
	case base == "firewalld", base == "firewall-cmd":
		return loader{"firewalld", loadByName, "", what}, true
	case base == "ferm" && (len(args) == 0 || !has("stop")):
		return loader{"ferm", loadByName, "", what}, true
	case (base == "shorewall" || base == "shorewall6" || base == "shorewall-lite") && has("start", "restart", "restore", "reload"):
		return loader{base, loadByName, "", what}, true
	case base == "arno-iptables-firewall" && has("start", "restart"):
		return loader{base, loadByName, "", what}, true
	}
	return loader{}, false
}

// commandLoader is a rules tool's command that gives its rules on the command line (iptables
// -P INPUT DROP, -A INPUT ... -j REJECT, nft 'add chain inet f input { ... policy drop; }'):
// it filters when a verdict word is among them.
func commandLoader(base string, args []string, what string) loader {
	for _, a := range args {
		for _, w := range strings.FieldsFunc(strings.ToLower(a), func(r rune) bool { return !(r >= 'a' && r <= 'z') }) {
			if slices.Contains(ruleVerdicts, w) {
				return loader{firewallOf(base), loadCommand, "", what}
			}
		}
	}
	return loader{firewallOf(base), loadCommand, "-", what} // changes rules, none that filters
}

func firewallOf(tool string) string {
	switch {
	case tool == "nft":
		return "nftables"
	case strings.HasPrefix(tool, "ip6tables"):
		return "ip6tables"
	case strings.HasPrefix(tool, "iptables"):
		return "iptables"
	}
	return tool
}

// shellLoaders finds the rules-loading commands of shell text (sh -c "...", an ifupdown
// up/pre-up line, a script), read as sysconf.ShellCommands reads it: a "< FILE" redirection is
// the command's standard input.
func shellLoaders(script string) []loader {
	var out []loader
	for _, c := range sysconf.ShellCommands(script) {
		if ld, ok := classify(c.Path, c.Argv[1:], c.Stdin); ok {
			out = append(out, ld)
		}
	}
	return out
}

// commandLoaders are the loaders of one command of a unit: the command itself (through env),
// or, for a shell run with -c (alone or in a cluster such as -ec), the commands of its script;
// a shell script the unit runs (a file starting "#!" naming a shell) is read, bounded, and its
// commands classified the same way (one level: a script it runs in turn is not read).
func commandLoaders(src systemd.Source, unitFile string, c sysconf.ExecCommand) ([]loader, error) {
	if script, ok := sysconf.ShellArgument(c); ok {
		return shellLoaders(script), nil
	}
	exe, args := sysconf.Program(c)
	if exe == "" {
		return nil, nil
	}
	if sysconf.IsShell(path.Base(exe)) {
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			return scriptLoaders(src, args[0]) // sh SCRIPT
		}
		return nil, nil
	}
	if ld, ok := classify(exe, args, ""); ok {
		return []loader{ld}, nil
	}
	if strings.HasPrefix(exe, "/") && !systemd.VendorProgram(unitFile, exe) {
		return scriptLoaders(src, exe)
	}
	return nil, nil
}

// scriptLoaders reads the file p a unit runs and, when it is a shell script, classifies its
// commands; a binary or anything else runs nothing this reader knows.
func scriptLoaders(src systemd.Source, p string) ([]loader, error) {
	head, _, err := src.Head(p, 256)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !sysconf.ShellScript(head) {
		return nil, nil // not there, or no shell script: a binary runs what it runs
	}
	data, exists, err := readBounded(src, p)
	if err != nil || !exists {
		return nil, err
	}
	return shellLoaders(string(data)), nil
}

// load reads what a loader loads.
func (ld loader) load(src systemd.Source) (Ruleset, error) {
	switch ld.kind {
	case loadNft:
		return ReadNftables(src, ld.file)
	case loadIptables:
		return ReadIptablesSave(src, ld.file)
	case loadCommand:
		// the words of the command line are read, not a ruleset: a verdict word there filters
		why := "changes rules on its command line, none that drops or rejects"
		if ld.file != "-" {
			why = "changes rules on its command line, with a verdict that drops, rejects or queues"
		}
		return Ruleset{Filters: ld.file != "-", Path: ld.what, Why: why}, nil
	case loadPersistent:
		var first *Ruleset
		for _, f := range []string{RulesV4, RulesV6} {
			r, err := ReadIptablesSave(src, f)
			if err != nil {
				return Ruleset{}, err
			}
			if r.Missing {
				continue
			}
			if r.Filters {
				return r, nil
			}
			if first == nil {
				first = &r
			}
		}
		if first != nil {
			return *first, nil
		}
		return Ruleset{Path: RulesV4, Why: "loads nothing: neither " + RulesV4 + " nor " + RulesV6 + " exists"}, nil
	}
	return Ruleset{Filters: true, Why: ld.what + " loads " + ld.firewall + "'s own configuration, not read here: counted as filtering"}, nil
}

// unitLoad is what a unit's commands load, run in order as systemd runs them
// (ExecStartPre=, ExecStart=, ExecStartPost=; a command that fails stops the unit unless its
// "-" prefix ignores the failure, and what earlier commands loaded stays loaded).
type unitLoad struct {
	firewall string // the first loader's firewall
	ruleset  Ruleset
	fails    string // the unit fails before anything is loaded: what fails
	loaders  int
}

func loadOfUnit(src systemd.Source, u *systemd.Unit) (unitLoad, error) {
	var ul unitLoad
	loaded := false
	for _, key := range []string{"ExecStartPre", "ExecStart", "ExecStartPost"} {
		for _, s := range u.Values("Service", key) {
			cmds, err := sysconf.SplitExec(s.Value)
			if err != nil {
				return ul, fmt.Errorf("%s:%d: %s: %w", s.File, s.Line, key, err)
			}
			for _, c := range cmds {
				lds, err := commandLoaders(src, s.File, c)
				if err != nil {
					return ul, fmt.Errorf("%s:%d: %s: %w", s.File, s.Line, key, err)
				}
				for _, ld := range lds {
					if ul.loaders++; ul.loaders == 1 {
						ul.firewall = ld.firewall
					}
					r, err := ld.load(src)
					if err != nil {
						return ul, err
					}
					if r.Missing {
						if strings.Contains(c.Flags, "-") {
							continue
						}
						if !loaded {
							where := r.Path
							if r.Line > 0 {
								where = fmt.Sprintf("%s:%d", r.Path, r.Line)
							}
							ul.fails = fmt.Sprintf("%s=%s (%s:%d) fails: %s (%s)", key, s.Value, s.File, s.Line, r.Why, where)
						}
						return ul, nil
					}
					if !loaded || r.Filters && !ul.ruleset.Filters {
						ul.ruleset = r
					}
					loaded = true
				}
			}
		}
	}
	return ul, nil
}
