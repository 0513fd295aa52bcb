package sysconf

import (
	"fmt"
	"strings"
)

// UnitSetting is one "Key=Value" of a systemd unit file (or drop-in), in its section.
type UnitSetting struct {
	Line    int // the line the setting starts on
	Section string
	Key     string
	Value   string
}

// ParseUnit reads a systemd unit file as systemd's config parser does (v252
// src/shared/conf-parser.c): [Section] headers, "Key=Value" with blanks around both trimmed,
// '#' and ';' comment lines, a line ending in a backslash continued by the next (the backslash
// becomes a space; comment lines inside a continuation are skipped). A line over the reader's
// bound is an error naming it (systemd's own bound is 1 MiB; ours is lower, never a cut).
func ParseUnit(data []byte) ([]UnitSetting, error) {
	var out []UnitSetting
	section := ""
	var cont strings.Builder
	contLine := 0
	err := rawLines(data, func(n int, line string) {
		line = strings.TrimRight(line, "\r")
		if contLine > 0 {
			t := strings.TrimLeft(line, " \t")
			if strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
				return
			}
		}
		if strings.HasSuffix(line, `\`) {
			if contLine == 0 {
				contLine = n
			}
			cont.WriteString(strings.TrimSuffix(line, `\`))
			cont.WriteByte(' ')
			return
		}
		start := n
		if contLine > 0 {
			cont.WriteString(line)
			line, start = cont.String(), contLine
			cont.Reset()
			contLine = 0
		}
		t := strings.Trim(line, " \t")
		switch {
		case t == "" || t[0] == '#' || t[0] == ';':
		case t[0] == '[':
			if end := strings.IndexByte(t, ']'); end > 0 {
				section = t[1:end]
			}
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				return // systemd: "Missing '=', ignoring line"
			}
			out = append(out, UnitSetting{Line: start, Section: section, Key: strings.Trim(k, " \t"), Value: strings.Trim(v, " \t")})
		}
	})
	if err != nil {
		return nil, err
	}
	if contLine > 0 {
		t := strings.Trim(cont.String(), " \t")
		if k, v, ok := strings.Cut(t, "="); ok && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "[") {
			out = append(out, UnitSetting{Line: contLine, Section: section, Key: strings.Trim(k, " \t"), Value: strings.Trim(v, " \t")})
		}
	}
	return out, nil
}

// ParseEnvFile reads an EnvironmentFile= as systemd does (v252 src/basic/env-file.c): KEY=VALUE
// per line, blanks around the key and before the value skipped, trailing blanks of an unquoted
// value dropped, blanks inside it kept ("-o A=1 -o B=2" is one value), '...' and "..." quoting
// at the value's start or after a closing quote (inside an unquoted value a quote is itself; a backslash escapes \ " ` $ inside "..."), a backslash outside quotes
// escaping the next character (a newline: a continuation), '#' and ';' comment lines. A name
// that is not a valid environment variable name ("export X") is ignored, as systemd ignores it.
func ParseEnvFile(data []byte) ([]Setting, error) {
	if len(data) > 4*maxLine {
		return nil, fmt.Errorf("larger than %d bytes (not read)", 4*maxLine)
	}
	const (
		preKey = iota
		inKey
		preValue
		inValue
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	var out []Setting
	state := preKey
	line, keyLine := 1, 1
	var key, value []byte
	valueWS := -1 // where trailing blanks of an unquoted value start
	push := func() {
		k := strings.TrimRight(string(key), " \t")
		v := string(value)
		if valueWS >= 0 {
			v = string(value[:valueWS])
		}
		if validShellName(k) {
			out = append(out, Setting{Line: keyLine, Key: k, Value: v})
		}
		key, value, valueWS = key[:0], value[:0], -1
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if len(key) > maxLine || len(value) > maxLine {
			return nil, &LineTooLongError{Line: keyLine, Offset: int64(i), Limit: maxLine}
		}
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case c == '\n':
			case c == ' ' || c == '\t' || c == '\r':
			default:
				state, keyLine = inKey, line
				key = append(key, c)
			}
		case inKey:
			switch c {
			case '\n':
				state, key = preKey, key[:0]
			case '=':
				state, valueWS = preValue, -1
			default:
				key = append(key, c)
			}
		case preValue:
			switch c {
			case '\n':
				state = preKey
				push()
			case '\'':
				state = singleQuote
			case '"':
				state = doubleQuote
			case '\\':
				state = valueEscape
			case ' ', '\t', '\r':
			default:
				state = inValue
				value = append(value, c)
			}
		case inValue:
			switch {
			case c == '\n':
				state = preKey
				push()
			case c == '\\':
				state, valueWS = valueEscape, -1
			case c == ' ' || c == '\t' || c == '\r':
				if valueWS < 0 {
					valueWS = len(value)
				}
				value = append(value, c)
			default:
				valueWS = -1
				value = append(value, c)
			}
		case valueEscape:
			state = inValue
			if c != '\n' {
				value = append(value, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				value = append(value, c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				value = append(value, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch c {
			case '"', '\\', '`', '$':
				value = append(value, c)
			case '\n':
			default:
				value = append(value, '\\', c)
			}
		case comment:
			switch c {
			case '\\':
				state = commentEscape
			case '\n':
				state = preKey
			}
		case commentEscape:
			state = comment
		}
		if c == '\n' {
			line++
		}
	}
	switch state {
	case preValue, inValue, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		push()
	}
	return out, nil
}

// ExecCommand is one command of an Exec*= setting, split as systemd splits it.
type ExecCommand struct {
	Flags string   // the prefixes: '-' ignore failure, '@' argv[0] given, ':' no expansion, '+', '!', '!!'
	Path  string   // the executable
	Argv  []string // argv, argv[0] included (the second word when '@')
}

// SplitExec splits an Exec*= value as systemd's config_parse_exec does: prefix characters, then
// words unquoted ('...' "...") with C escapes, a lone ";" separating commands. Specifiers other
// than "%%" are left as written.
func SplitExec(value string) ([]ExecCommand, error) {
	var out []ExecCommand
	p := value
	for {
		p = strings.TrimLeft(p, " \t\n\r")
		if p == "" {
			return out, nil
		}
		var cmd ExecCommand
		for p != "" && strings.IndexByte("-@:+!", p[0]) >= 0 {
			cmd.Flags += p[:1]
			p = p[1:]
		}
		var words []string
		for {
			w, rest, ok, err := ExecWord(p)
			if err != nil {
				return nil, err
			}
			p = rest
			if !ok || w == ";" {
				break
			}
			words = append(words, strings.ReplaceAll(w, "%%", "%"))
		}
		if len(words) == 0 {
			if cmd.Flags != "" {
				return nil, fmt.Errorf("an empty command after %q", cmd.Flags)
			}
			continue
		}
		if words[0] == "" {
			return nil, fmt.Errorf("%q: an empty executable path", value)
		}
		cmd.Path = words[0]
		cmd.Argv = words
		if strings.Contains(cmd.Flags, "@") {
			if len(words) < 2 {
				return nil, fmt.Errorf("%q: '@' without an argv[0]", value)
			}
			cmd.Argv = words[1:]
		}
		out = append(out, cmd)
		if !strings.Contains(value, ";") {
			return out, nil
		}
	}
}

// ExecWord is systemd's extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE: the next
// word of s (ok false at the end) and the rest.
func ExecWord(s string) (word, rest string, ok bool, err error) {
	s = strings.TrimLeft(s, " \t\n\r")
	if s == "" {
		return "", "", false, nil
	}
	var b strings.Builder
	quote := byte(0)
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return "", "", false, fmt.Errorf("a backslash at the end of %q", s)
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'a', 'b', 'f', 'r', 'v':
				b.WriteByte(map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'r': 13, 'v': 11}[e])
			case 's':
				b.WriteByte(' ')
			default:
				b.WriteByte(e) // \\ \" \' \; and anything else: the character
			}
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return b.String(), s[i:], true, nil
		default:
			b.WriteByte(c)
		}
	}
	if quote != 0 {
		return "", "", false, fmt.Errorf("an unterminated quote in %q", s)
	}
	return b.String(), "", true, nil
}

// ExpandExecEnv is ExpandExecEnvFrom without the origins.
func ExpandExecEnv(cmd ExecCommand, env map[string]string) []string {
	out, _ := ExpandExecEnvFrom(cmd, env)
	return out
}

// ExpandExecEnvFrom substitutes the environment into a command's arguments as systemd does at exec
// time (v252 replace_env_argv): a word that is "$NAME" becomes the variable's value split at
// blanks (with quotes removed), none when unset or empty; "${NAME}" inside any word is replaced
// by the exact value; "$$" is "$". With the ':' prefix nothing is expanded.
// The second result names, for each word, the variable it came from ("" for a word as written).
func ExpandExecEnvFrom(cmd ExecCommand, env map[string]string) (out, from []string) {
	if strings.Contains(cmd.Flags, ":") {
		return cmd.Argv, make([]string, len(cmd.Argv))
	}
	for i, w := range cmd.Argv {
		if i > 0 && len(w) > 1 && w[0] == '$' && w[1] != '{' && w[1] != '$' {
			v, ok := env[w[1:]]
			if !ok {
				continue
			}
			for rest := v; ; {
				word, r, ok, err := ExecWord(rest)
				if err != nil {
					for _, f := range strings.Fields(rest) {
						out, from = append(out, f), append(from, w[1:])
					}
					break
				}
				if !ok {
					break
				}
				out, from = append(out, word), append(from, w[1:])
				rest = r
			}
			continue
		}
		var b strings.Builder
		for j := 0; j < len(w); j++ {
			switch {
			case w[j] == '$' && j+1 < len(w) && w[j+1] == '$':
				b.WriteByte('$')
				j++
			case w[j] == '$' && j+1 < len(w) && w[j+1] == '{':
				end := strings.IndexByte(w[j:], '}')
				if end < 0 {
					b.WriteString(w[j:])
					j = len(w)
					continue
				}
				b.WriteString(env[w[j+2:j+end]])
				j += end
			default:
				b.WriteByte(w[j])
			}
		}
		out, from = append(out, b.String()), append(from, "")
	}
	return out, from
}

// SSHDArgs is what sshd takes from its command line (OpenSSH sshd.c getopt
// "C:E:b:c:f:g:h:k:o:p:u:46DQRTdeiqrtV", glibc's getopt permuting): -f the configuration file,
// each -o as a configuration line read before the file (so it wins over the file's global lines,
// and a Match block still overrides it, as sshd -T shows), -g as LoginGraceTime.
type SSHDArgs struct {
	ConfigFile string   // "" unless -f
	Options    []string // the -o values, in order ("Key=Value" or "Key Value")
	Problems   []string // what makes sshd refuse the command line
}

// ParseSSHDArgs reads sshd's arguments (argv without argv[0]).
func ParseSSHDArgs(args []string) SSHDArgs {
	var a SSHDArgs
	const withArg = "CEbcfghkopu"
	const flags = "46DQRTdeiqrtV"
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			for _, extra := range args[i+1:] {
				a.Problems = append(a.Problems, "extra argument "+extra)
			}
			break
		}
		if len(w) < 2 || w[0] != '-' {
			a.Problems = append(a.Problems, "extra argument "+w)
			continue
		}
		for j := 1; j < len(w); j++ {
			c := w[j]
			if strings.IndexByte(flags, c) >= 0 {
				continue
			}
			if strings.IndexByte(withArg, c) < 0 {
				a.Problems = append(a.Problems, fmt.Sprintf("unknown option -%c", c))
				continue
			}
			val := w[j+1:]
			if val == "" {
				if i+1 == len(args) {
					a.Problems = append(a.Problems, fmt.Sprintf("option -%c without its argument", c))
					break
				}
				i++
				val = args[i]
			}
			switch c {
			case 'f':
				a.ConfigFile = val
			case 'o':
				a.Options = append(a.Options, val)
			case 'g':
				a.Options = append(a.Options, "LoginGraceTime "+val)
			}
			break
		}
	}
	return a
}

// SSHDOption splits one -o value into a directive as sshd reads a configuration line.
func SSHDOption(v string) (key, val string, ok bool) { return splitSSHDLine(v) }
