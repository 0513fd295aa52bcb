package sysconf

import (
	"strconv"
	"strings"
)

// PasswdEntry is one line of /etc/passwd.
type PasswdEntry struct {
	Line  int
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

// ParsePasswd parses passwd(5) text; lines that do not have seven fields or numeric IDs are skipped.
func ParsePasswd(data []byte) []PasswdEntry {
	var out []PasswdEntry
	lines(data, func(n int, line string) {
		f := strings.Split(line, ":")
		if len(f) != 7 || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			return
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return
		}
		out = append(out, PasswdEntry{Line: n, Name: f[0], UID: uid, GID: gid, Home: f[5], Shell: f[6]})
	})
	return out
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

// ParseShadow parses shadow(5) text.
func ParseShadow(data []byte) []ShadowEntry {
	var out []ShadowEntry
	lines(data, func(n int, line string) {
		f := strings.Split(line, ":")
		if len(f) < 2 || strings.HasPrefix(line, "#") || f[0] == "" {
			return
		}
		st, scheme := classifyHash(f[1])
		out = append(out, ShadowEntry{Line: n, Name: f[0], Status: st, Scheme: scheme})
	})
	return out
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

// ParsePasswdPasswords classifies the password field of each /etc/passwd line ("x" means
// "see /etc/shadow" and counts as locked here).
func ParsePasswdPasswords(data []byte) []ShadowEntry {
	var out []ShadowEntry
	lines(data, func(n int, line string) {
		f := strings.Split(line, ":")
		if len(f) != 7 || strings.HasPrefix(line, "#") || f[0] == "" || f[1] == "x" {
			return
		}
		st, scheme := classifyHash(f[1])
		out = append(out, ShadowEntry{Line: n, Name: f[0], Status: st, Scheme: scheme})
	})
	return out
}
