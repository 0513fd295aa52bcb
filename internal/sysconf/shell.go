package sysconf

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// shellSeparators end a simple command in shell text, roughly: ;, &&, ||, | and newlines
// (quotes are not followed across them).
var shellSeparators = regexp.MustCompile(`;|&&|\|\||\||\n`)

// ShellCommand is one simple command of shell text, and the file a "<" redirection gives it as
// its standard input.
type ShellCommand struct {
	ExecCommand
	Stdin string
}

// ShellCommands reads shell text (a script, or sh -c's argument) as the simple commands it
// runs, roughly as POSIX sh would: each command's words with their quotes stripped, a leading
// "exec", "sudo", "command" or VAR=value word skipped, output redirections dropped, an input
// one kept as Stdin, comment lines left out. It is for finding which tools a script runs, not
// for running it.
func ShellCommands(text string) []ShellCommand {
	var out []ShellCommand
	for _, part := range shellSeparators.Split(text, -1) {
		f := strings.Fields(part)
		var argv []string
		stdin := ""
		for i := 0; i < len(f); i++ {
			w := strings.Trim(f[i], `"'`)
			switch {
			case len(argv) == 0 && strings.HasPrefix(w, "#"):
				i = len(f) // a comment
			case w == "<" && i+1 < len(f):
				stdin = strings.Trim(f[i+1], `"'`)
				i++
			case strings.HasPrefix(w, "<") && len(w) > 1:
				stdin = w[1:]
			case w == ">" || w == ">>" || w == "2>":
				i++
			case strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>"):
			case len(argv) == 0 && (w == "exec" || w == "sudo" || w == "command" || strings.Contains(w, "=") && !strings.HasPrefix(w, "-")):
			default:
				argv = append(argv, w)
			}
		}
		if len(argv) > 0 {
			out = append(out, ShellCommand{ExecCommand{Path: argv[0], Argv: argv}, stdin})
		}
	}
	return out
}

// Program is the program a command runs and its arguments (argv[0] left out), seen through
// env: "env [-i] [VAR=value...] PROGRAM ARGS" runs PROGRAM; exe is "" for env alone.
func Program(c ExecCommand) (exe string, args []string) {
	exe, args = c.Path, c.Argv
	if len(args) > 0 {
		args = args[1:]
	}
	if path.Base(exe) == "env" {
		for len(args) > 0 && (strings.HasPrefix(args[0], "-") || strings.Contains(args[0], "=")) {
			args = args[1:]
		}
		if len(args) == 0 {
			return "", nil
		}
		exe, args = args[0], args[1:]
	}
	return exe, args
}

// ShellArgument is the script a shell command runs with -c (alone, or in a cluster such as
// -ec), through env too; ok is false for any other command.
func ShellArgument(c ExecCommand) (script string, ok bool) {
	exe, args := Program(c)
	if exe == "" {
		return "", false
	}
	if !IsShell(path.Base(exe)) {
		return "", false
	}
	for i, a := range args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsRune(a, 'c') && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// IsShell says whether an interpreter's name is a POSIX shell's.
func IsShell(name string) bool {
	return slices.Contains([]string{"sh", "bash", "dash", "ash", "ksh", "zsh", "busybox"}, name)
}

// ShellScript says whether a file's first bytes are a "#!" line naming a shell (directly or
// through env).
func ShellScript(head []byte) bool {
	first, _, _ := strings.Cut(string(head), "\n")
	f := strings.Fields(strings.TrimPrefix(first, "#!"))
	if !strings.HasPrefix(first, "#!") || len(f) == 0 {
		return false
	}
	interp := path.Base(f[0])
	if interp == "env" && len(f) > 1 {
		interp = path.Base(f[1])
	}
	return IsShell(interp)
}
