package firewall

import (
	"fmt"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// iptablesFiltering are the targets that drop, reject or hand a packet away (iptables(8),
// iptables-extensions(8)); every other target accepts it, returns, jumps to a chain whose own
// rules are read too, or does something other than filter (LOG, MARK, SNAT, ...).
var iptablesFiltering = []string{"DROP", "REJECT", "QUEUE", "NFQUEUE", "TARPIT"}

// splitRestoreArgs splits a rule line as iptables-restore does: blanks separate words, a
// double-quoted run is one word (a comment's text), a backslash escapes the next character.
func splitRestoreArgs(l string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	quoted, have := false, false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '\\' && i+1 < len(l):
			i++
			cur.WriteByte(l[i])
			have = true
		case c == '"':
			quoted, have = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out, !quoted
}

// ReadIptablesSave decides what `iptables-restore file` (or ip6tables-restore) loads, the
// iptables-save(8) format read as iptables-restore(8) reads it: "*table" opens a table,
// ":CHAIN POLICY [packets:bytes]" sets a built-in chain's policy ("-" for a user chain),
// "-A CHAIN ... -j TARGET" (or -I/-R, --jump, -g/--goto) appends a rule, and "COMMIT" loads the
// table; a table not committed before the end of the file is not loaded. A file that does not
// exist is Missing (iptables-restore fails and loads nothing). It filters when a committed
// table has a chain whose policy is DROP or a rule whose target is DROP, REJECT, QUEUE, NFQUEUE
// or TARPIT. A line outside a table, or a table opened before the last is committed, is an
// error naming the line (iptables-restore refuses it there).
func ReadIptablesSave(src systemd.Source, file string) (Ruleset, error) {
	data, exists, err := readBounded(src, file)
	if err != nil {
		return Ruleset{}, err
	}
	if !exists {
		return Ruleset{Missing: true, Path: file, Why: file + " does not exist"}, nil
	}
	type finding struct {
		line int
		what string
	}
	table, tableLine := "", 0
	var pending, committed []finding
	for i, l := range strings.Split(string(data), "\n") {
		n := i + 1
		if len(l) > maxRulesLine {
			return Ruleset{}, fmt.Errorf("%s:%d: line longer than %d bytes (not read)", file, n, maxRulesLine)
		}
		l = strings.TrimSpace(strings.TrimRight(l, "\r"))
		if l == "" || l[0] == '#' {
			continue
		}
		switch {
		case l[0] == '*':
			if table != "" {
				return Ruleset{}, fmt.Errorf("%s:%d: table %s (line %d) is not committed before *%s (iptables-restore refuses it)", file, n, table, tableLine, l[1:])
			}
			table, tableLine, pending = strings.TrimSpace(l[1:]), n, nil
			continue
		case table == "":
			return Ruleset{}, fmt.Errorf("%s:%d: %q outside a table (no *table line before it; iptables-restore refuses it)", file, n, trimLine(l))
		case l == "COMMIT":
			committed = append(committed, pending...)
			table, pending = "", nil
		case l[0] == ':':
			f := strings.Fields(l[1:])
			if len(f) < 2 {
				return Ruleset{}, fmt.Errorf("%s:%d: chain line without a policy (iptables-restore refuses it)", file, n)
			}
			if f[1] == "DROP" {
				pending = append(pending, finding{n, fmt.Sprintf("table %s chain %s: policy DROP", table, f[0])})
			}
		default:
			args, ok := splitRestoreArgs(l)
			if !ok {
				return Ruleset{}, fmt.Errorf("%s:%d: unterminated quote (iptables-restore refuses it)", file, n)
			}
			if len(args) == 0 || !slices.Contains([]string{"-A", "--append", "-I", "--insert", "-R", "--replace"}, args[0]) {
				continue
			}
			for j := 1; j+1 < len(args); j++ {
				if a := args[j]; (a == "-j" || a == "--jump" || a == "-g" || a == "--goto") && slices.Contains(iptablesFiltering, args[j+1]) {
					pending = append(pending, finding{n, fmt.Sprintf("table %s: a rule that jumps to %s (%s)", table, args[j+1], trimLine(l))})
					break
				}
			}
		}
	}
	if len(committed) > 0 {
		return Ruleset{Filters: true, Path: file, Line: committed[0].line, Why: committed[0].what}, nil
	}
	why := "accepts everything: no chain with policy DROP, no rule that jumps to DROP, REJECT, QUEUE, NFQUEUE or TARPIT"
	if table != "" {
		why += fmt.Sprintf(" committed (table %s, line %d, has no COMMIT, so iptables-restore loads none of it)", table, tableLine)
	}
	return Ruleset{Path: file, Why: why}, nil
}

// trimLine keeps a quoted line short in a message.
func trimLine(l string) string {
	if len(l) > 120 {
		return l[:120] + "..."
	}
	return l
}
