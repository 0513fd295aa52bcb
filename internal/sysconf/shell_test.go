package sysconf

import (
	"slices"
	"strings"
	"testing"
)

// Shell text read as the simple commands it runs: separators, quotes, leading words that are no
// command, redirections (an input one kept), comments.
func TestShellCommands(t *testing.T) {
	got := ShellCommands("#!/bin/sh -e\n# iptables -F\nset -e; FOO=1 exec iptables -P INPUT DROP && sudo nft -f '/etc/x.nft' 2>/dev/null\n" +
		"iptables-restore < /etc/iptables.rules | logger\nswapon </etc/list\necho done >> /var/log/x\n")
	var lines []string
	for _, c := range got {
		lines = append(lines, strings.Join(c.Argv, " ")+"<"+c.Stdin)
	}
	want := []string{"set -e<", "iptables -P INPUT DROP<", "nft -f /etc/x.nft<", "iptables-restore</etc/iptables.rules", "logger<", "swapon</etc/list", "echo done<"}
	if !slices.Equal(lines, want) {
		t.Errorf("ShellCommands:\n got %q\nwant %q", lines, want)
	}
	if got[1].Path != "iptables" {
		t.Errorf("Path %q", got[1].Path)
	}
}

// sh -c's script, alone or in a flag cluster, through env; other commands have none.
func TestShellArgument(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
		ok   bool
	}{
		{[]string{"/bin/sh", "-c", "nft -f x"}, "nft -f x", true},
		{[]string{"/bin/bash", "-ec", "a; b"}, "a; b", true},
		{[]string{"/usr/bin/env", "-i", "A=1", "dash", "-xc", "s"}, "s", true},
		{[]string{"/bin/sh", "script.sh"}, "", false},
		{[]string{"/bin/sh", "-c"}, "", false},
		{[]string{"/bin/sh", "--command", "x"}, "", false},
		{[]string{"/usr/sbin/nft", "-c", "x"}, "", false},
		{[]string{"/usr/bin/env"}, "", false},
	} {
		got, ok := ShellArgument(ExecCommand{Path: c.argv[0], Argv: c.argv})
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.argv, got, ok, c.want, c.ok)
		}
	}
	for head, want := range map[string]bool{"#!/bin/sh\n": true, "#!/usr/bin/env bash\necho": true, "#! /bin/dash -e\n": true,
		"#!/usr/bin/python3\n": false, "\x7fELF": false, "": false, "#!": false, "#!/usr/bin/env\n": false} {
		if got := ShellScript([]byte(head)); got != want {
			t.Errorf("ShellScript(%q) = %v", head, got)
		}
	}
}

func FuzzShellCommands(f *testing.F) {
	f.Add("a;b&&c||d|e\n f < g > h")
	f.Add("#!/bin/sh\nexec sudo X=1 <")
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range ShellCommands(s) {
			if len(c.Argv) == 0 || c.Path != c.Argv[0] {
				t.Fatalf("command %+v", c)
			}
		}
		ShellScript([]byte(s))
		ShellArgument(ExecCommand{Path: "/bin/sh", Argv: strings.Fields(s)})
	})
}
