package sysconf

import (
	"bytes"
	"fmt"
	"strings"
)

// PasswdEntry is one account of /etc/passwd as glibc's "files" NSS module returns it
// (nss_files' line parser, glibc 2.36): leading blanks of a line are skipped, a line whose
// first non-blank is '#' or that is empty is a comment, a NUL ends the line, fields are split
// at ':' with missing trailing fields empty (so "toor::0:0" is UID 0, an empty password and
// the default shell), and the UID and GID are read as strtoul reads them (leading blanks and a
// sign are accepted: "x: 0" is UID 0; a value over 2^32-1 rejects the line).
type PasswdEntry struct {
	Line     int
	Name     string
	Password string // the passwd field: "x" means "see /etc/shadow"
	UID      int
	GID      int
	Gecos    string
	Home     string
	Shell    string // as written; empty means /bin/sh (see LoginShell)
	// Compat: the name starts with '+' or '-', an nss_compat inclusion/exclusion marker
	// (its numeric fields may be empty, glibc reads them as 0).
	Compat bool
}

// LoginShell is the shell login and sshd run for the account: an empty field is /bin/sh.
func (e PasswdEntry) LoginShell() string {
	if e.Shell == "" {
		return "/bin/sh"
	}
	return e.Shell
}

// CanLogIn reports whether the account's shell lets a session run (not nologin, false, or
// the sync/shutdown/halt pseudo-shells).
func (e PasswdEntry) CanLogIn() bool {
	sh := e.LoginShell()
	base := sh[strings.LastIndexByte(sh, '/')+1:]
	switch base {
	case "nologin", "false", "sync", "shutdown", "halt":
		return false
	}
	return true
}

// LineTooLongError says a line of a file is longer than the reader's bound: what it holds was
// not read, so the rule that needed the file errors instead of judging part of it.
type LineTooLongError struct {
	Line   int
	Offset int64
	Limit  int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d (at byte offset %d) is longer than %d bytes; not read", e.Line, e.Offset, e.Limit)
}

// nssLines calls fn with each line as glibc 2.36's __nss_readline and parse_line hand it to a
// parser: leading isspace() characters skipped, a line that is then empty or starts with '#'
// left out, the text cut at a NUL and at the newline. glibc moves the text over the skipped
// blanks without its terminating NUL, so the moved line ends with the last bytes of the
// original one; that shows when no newline follows (the file's last line, or a NUL inside the
// line) and is reproduced here ("  a:x:0:" at the end of the file is "a:x:0:0:" to glibc).
// A line over maxLine bytes is an error (glibc itself has no bound).
func nssLines(data []byte, fn func(n int, line string)) error {
	n := 0
	for off := 0; off < len(data); {
		n++
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if next-off > maxLine {
			return &LineTooLongError{Line: n, Offset: int64(off), Limit: maxLine}
		}
		buf := data[off:next] // with its newline, as fgets leaves it
		off = next
		k := 0
		for k < len(buf) && (buf[k] == ' ' || buf[k] >= '\t' && buf[k] <= '\r') {
			k++
		}
		p := cstring(buf[k:])
		if len(p) == 0 || p[0] == '#' {
			continue
		}
		l := p
		if k > 0 {
			l = cstring(append(append([]byte(nil), p...), buf[len(p):]...))
		}
		if i := bytes.IndexByte(l, '\n'); i >= 0 {
			l = l[:i]
		}
		fn(n, string(l))
	}
	return nil
}

// cstring is b up to its first NUL, as C reads a string.
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// stringField is nss_files' STRING_FIELD: the text up to the next ':' (or the end), and the
// rest after that colon.
func stringField(s string) (field, rest string) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// intField is nss_files' INT_FIELD (base 10, a 32-bit id): strtoul's number, which must be
// followed by ':' or the end of the line. ok is false when glibc rejects the line. With
// maybeNull (INT_FIELD_MAYBE_NULL, for '+'/'-' entries) a field without digits is 0.
func intField(s string, maybeNull bool) (v uint32, rest string, ok bool) {
	if maybeNull && s == "" {
		return 0, "", false
	}
	u, n := strtoul(s)
	if n == 0 {
		if !maybeNull {
			return 0, "", false
		}
		u = 0
	} else if u > 0xFFFFFFFF {
		return 0, "", false
	}
	switch {
	case n < len(s) && s[n] == ':':
		return uint32(u), s[n+1:], true
	case n < len(s):
		return 0, "", false
	}
	return uint32(u), "", true
}

// strtoul is C's strtoul(s, &end, 10) in the C locale: leading isspace(), an optional sign,
// decimal digits; overflow saturates at 2^64-1; a '-' negates modulo 2^64. n is the number of
// bytes consumed, 0 when there were no digits (then end == s).
func strtoul(s string) (v uint64, n int) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start, over := i, false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			over = true
		}
		v = v*10 + d
	}
	if i == start {
		return 0, 0
	}
	switch {
	case over:
		v = ^uint64(0)
	case neg:
		v = -v
	}
	return v, i
}

// ParsePasswd reads passwd(5) text as glibc's files module does; lines glibc rejects are left
// out, as glibc leaves them out. A line over the bound is an error naming it.
func ParsePasswd(data []byte) ([]PasswdEntry, error) {
	var out []PasswdEntry
	err := nssLines(data, func(n int, line string) {
		e := PasswdEntry{Line: n}
		e.Name, line = stringField(line)
		e.Compat = strings.HasPrefix(e.Name, "+") || strings.HasPrefix(e.Name, "-")
		if line == "" && e.Compat {
			// "+" / "+name" alone: an nss_compat marker, every other field empty
			out = append(out, e)
			return
		}
		e.Password, line = stringField(line)
		uid, line, ok := intField(line, e.Compat)
		if !ok {
			return
		}
		gid, line, ok := intField(line, e.Compat)
		if !ok {
			return
		}
		e.UID, e.GID = int(uid), int(gid)
		e.Gecos, line = stringField(line)
		e.Home, line = stringField(line)
		e.Shell = line
		out = append(out, e)
	})
	return out, err
}

// ShadowEntry is one line of /etc/shadow. The hash itself is never kept: only what it means.
type ShadowEntry struct {
	Line   int
	Name   string
	Status PasswordStatus
	Scheme string // "$6$" → "sha512crypt", for evidence
}

// PasswordStatus says whether an account can be logged into with a password.
type PasswordStatus int

const (
	// PasswordLocked: "*", "!", "!!", "!$6$..." and other values no password can match.
	PasswordLocked PasswordStatus = iota
	// PasswordEmpty: an empty field, which lets anyone in without a password.
	PasswordEmpty
	// PasswordUsable: a crypt hash a password can match.
	PasswordUsable
)

func (s PasswordStatus) String() string {
	switch s {
	case PasswordEmpty:
		return "empty password"
	case PasswordUsable:
		return "usable password hash"
	}
	return "locked"
}

// ParseShadow parses shadow(5) text, its lines read as glibc reads them (leading blanks
// skipped, a NUL ends a line). It is more lenient than glibc, which drops a line whose aging
// fields are not numbers: every named line is classified, so a doubtful one is reported.
func ParseShadow(data []byte) ([]ShadowEntry, error) {
	var out []ShadowEntry
	err := nssLines(data, func(n int, line string) {
		name, rest := stringField(line)
		if name == "" {
			return
		}
		pw, _ := stringField(rest)
		st, scheme := classifyHash(pw)
		out = append(out, ShadowEntry{Line: n, Name: name, Status: st, Scheme: scheme})
	})
	return out, err
}

func classifyHash(h string) (PasswordStatus, string) {
	switch {
	case h == "":
		return PasswordEmpty, ""
	case strings.HasPrefix(h, "!") || strings.HasPrefix(h, "*") || h == "x":
		return PasswordLocked, ""
	}
	if strings.HasPrefix(h, "$") {
		id := strings.SplitN(h[1:], "$", 2)[0]
		names := map[string]string{"1": "md5crypt", "2a": "bcrypt", "2b": "bcrypt", "2y": "bcrypt",
			"5": "sha256crypt", "6": "sha512crypt", "y": "yescrypt", "gy": "gost-yescrypt", "7": "scrypt"}
		if n, ok := names[id]; ok {
			return PasswordUsable, n
		}
		return PasswordUsable, "crypt $" + id + "$"
	}
	if len(h) == 13 {
		return PasswordUsable, "DES crypt"
	}
	// Anything else cannot be produced by crypt(3) and so no password matches it.
	return PasswordLocked, ""
}

// ParsePasswdPasswords classifies the password field of each /etc/passwd account glibc
// returns ("x" means "see /etc/shadow" and is skipped here; so are nss_compat markers).
func ParsePasswdPasswords(data []byte) ([]ShadowEntry, error) {
	pw, err := ParsePasswd(data)
	var out []ShadowEntry
	for _, e := range pw {
		if e.Compat || e.Name == "" || e.Password == "x" {
			continue
		}
		st, scheme := classifyHash(e.Password)
		out = append(out, ShadowEntry{Line: e.Line, Name: e.Name, Status: st, Scheme: scheme})
	}
	return out, err
}
