// Package selinux is the SELinux mode an image boots in, decided as the booting system decides
// it: libselinux's reading of /etc/selinux/config (security_getenforcemode: the first line that
// starts with "SELINUX=" and whose value, after blanks, begins with enforcing, permissive or
// disabled, compared without case, the file read in fgets chunks of 4095 bytes; SELINUXTYPE= as
// selinux_config.c reads it: blanks and '#' comments skipped, the last line wins), then the
// kernel command line as the kernel and selinux_init_load_policy read it (selinux=0 turns SELinux
// off in the kernel; the first "enforcing=" that starts a word overrides the file's mode, its
// value read as atoi reads it), and whether the policy the configuration names is installed
// (/etc/selinux/TYPE/policy/policy.*: without it nothing is loaded, and an enforcing boot stops,
// as systemd freezes when it cannot load the policy in enforcing mode).
package selinux

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// ConfigPath is the file libselinux reads.
const ConfigPath = "/etc/selinux/config"

// Mode is a SELinux mode.
type Mode string

const (
	Enforcing  Mode = "enforcing"
	Permissive Mode = "permissive"
	Disabled   Mode = "disabled"
)

// fgetsChunk is what one fgets call of libselinux's page-sized buffer returns at most: a
// longer line is read as several chunks, each judged as a line.
const fgetsChunk = 4096 - 1

// Config is /etc/selinux/config as libselinux reads it.
type Config struct {
	// Mode is the SELINUX= mode, "" when no line sets a recognised one (libselinux then has no
	// mode from the file).
	Mode     Mode
	ModeLine int
	// Unrecognised are SELINUX= lines whose value libselinux skips (it reads on).
	Unrecognised []Setting
	// Type is SELINUXTYPE= ("" when unset), TypeLine its line.
	Type     string
	TypeLine int
}

// Setting is a line of the file.
type Setting struct {
	Line   int
	Offset int64
	Value  string
}

// ParseConfig reads /etc/selinux/config (name names it in errors). It fails only on a NUL byte,
// which C's string functions would stop at: what the line says after it is not what we read.
func ParseConfig(name string, data []byte) (Config, error) {
	var c Config
	off := int64(0)
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		start := off
		off += int64(len(line))
		if i := bytes.IndexByte(line, 0); i >= 0 {
			return c, byteio.Corrupt(name, start+int64(i), "line %d holds a NUL byte", n)
		}
		text := strings.TrimRight(string(line), "\n")
		if c.Mode == "" {
			// security_getenforcemode: fgets chunks, case-sensitive tag at the chunk's start
			for i := 0; i <= len(text); i += fgetsChunk {
				chunk := text[i:min(len(text), i+fgetsChunk)]
				v, ok := strings.CutPrefix(chunk, "SELINUX=")
				if !ok {
					continue
				}
				v = strings.TrimLeft(v, " \t\v\f\r")
				if m, ok := modeOf(v); ok {
					c.Mode, c.ModeLine = m, n
					break
				}
				c.Unrecognised = append(c.Unrecognised, Setting{Line: n, Offset: start + int64(i), Value: v})
			}
		}
		// selinux_config.c: blanks skipped, comments and empty lines ignored, tag without case
		t := strings.TrimLeft(text, " \t\v\f\r")
		if t == "" || t[0] == '#' {
			continue
		}
		if len(t) >= len("SELINUXTYPE=") && strings.EqualFold(t[:len("SELINUXTYPE=")], "SELINUXTYPE=") {
			c.Type, c.TypeLine = strings.TrimRight(t[len("SELINUXTYPE="):], " \t\v\f\r"), n
		}
	}
	return c, nil
}

// modeOf compares the start of v without case, as strncasecmp over the mode's length does.
func modeOf(v string) (Mode, bool) {
	for _, m := range []Mode{Enforcing, Permissive, Disabled} {
		if len(v) >= len(m) && strings.EqualFold(v[:len(m)], string(m)) {
			return m, true
		}
	}
	return "", false
}

// Cmdline is what a kernel command line says of SELinux.
type Cmdline struct {
	// Off: selinux=0 (the last selinux= whose value the kernel reads is 0).
	Off bool
	// Enforcing is the "enforcing=" value as released libselinux (3.x, selinux_init_load_policy)
	// reads it: the first occurrence of "enforcing=" on the line (strstr), honoured only when it
	// starts a word, then atoi; EnforcingSet says it was honoured. "xenforcing=1 enforcing=0"
	// sets nothing: the first occurrence is inside another word.
	Enforcing    int
	EnforcingSet bool
	// LastEnforcing is the last word-starting "enforcing=" value, as a later libselinux reads it
	// (looping to the last one); LastSet says there is one. Decide takes the worse of the two
	// readings when they differ.
	LastEnforcing int
	LastSet       bool
	Words         []string // the words that decided it
}

// ParseCmdline reads a kernel command line.
func ParseCmdline(cmdline string) Cmdline {
	var c Cmdline
	for _, w := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(w, "selinux="); ok {
			if n, ok := kstrtoul(v); ok {
				c.Off = n == 0
				c.Words = append(c.Words, w)
			}
		}
	}
	first := true
	for i := 0; ; {
		j := strings.Index(cmdline[i:], "enforcing=")
		if j < 0 {
			break
		}
		at := i + j
		if at == 0 || strings.ContainsRune(" \t\n\v\f\r", rune(cmdline[at-1])) {
			v := atoi(cmdline[at+len("enforcing="):])
			if first {
				c.Enforcing, c.EnforcingSet = v, true
			}
			c.LastEnforcing, c.LastSet = v, true
			c.Words = append(c.Words, strings.Fields(cmdline[at:])[0])
		}
		first = false
		i = at + len("enforcing=")
	}
	return c
}

// kstrtoul reads a number as the kernel's kstrtoul with base 0 does: 0x for hexadecimal, a
// leading 0 for octal, else decimal, one trailing newline allowed; false when it is not one (the
// kernel then ignores the parameter).
func kstrtoul(v string) (uint64, bool) {
	v = strings.TrimSuffix(v, "\n")
	base, digits := uint64(10), v
	switch {
	case len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X"):
		base, digits = 16, v[2:]
	case len(v) > 1 && v[0] == '0':
		base, digits = 8, v[1:]
	}
	if digits == "" {
		return 0, false
	}
	var n uint64
	for _, r := range strings.ToLower(digits) {
		d := uint64(strings.IndexRune("0123456789abcdef", r))
		if d >= base || r > 'f' {
			return 0, false
		}
		if n > (1<<64-1-d)/base {
			return 0, false // the kernel refuses an overflow (-ERANGE)
		}
		n = n*base + d
	}
	return n, true
}

// atoi is C's atoi: leading blanks, a sign, digits; 0 when there are none. It saturates
// instead of overflowing.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<30 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}

// Boot is the mode one boot entry starts in.
type Boot struct {
	Mode Mode
	// Why says, in words, what decided it.
	Why string
	// Freezes: enforcing with no policy to load: systemd stops the boot.
	Freezes bool
}

// Decide combines the configuration (nil when /etc/selinux/config is absent), a boot entry's
// command line and whether the named policy is installed into the mode that boot runs in.
func Decide(cfg *Config, cmd Cmdline, policyInstalled bool) Boot {
	switch {
	case cmd.Off:
		return Boot{Mode: Disabled, Why: "selinux=0 on the kernel command line"}
	case cfg != nil && cfg.Mode == Disabled:
		return Boot{Mode: Disabled, Why: fmt.Sprintf("%s line %d: SELINUX=disabled", ConfigPath, cfg.ModeLine)}
	}
	enforcing, why := false, "no SELINUX= mode in "+ConfigPath
	if cfg == nil {
		why = "no " + ConfigPath
	}
	fromConfig := func() (bool, string) {
		switch {
		case cfg != nil && cfg.Mode == Enforcing:
			return true, fmt.Sprintf("%s line %d: SELINUX=enforcing", ConfigPath, cfg.ModeLine)
		case cfg != nil && cfg.Mode == Permissive:
			return false, fmt.Sprintf("%s line %d: SELINUX=permissive", ConfigPath, cfg.ModeLine)
		}
		return false, why
	}
	// the two libselinux readings of the command line; where they differ, the worse one
	released, whyReleased := fromConfig()
	if cmd.EnforcingSet {
		released, whyReleased = cmd.Enforcing != 0, fmt.Sprintf("enforcing=%d on the kernel command line", cmd.Enforcing)
	}
	later, whyLater := fromConfig()
	if cmd.LastSet {
		later, whyLater = cmd.LastEnforcing != 0, fmt.Sprintf("the last enforcing=%d on the kernel command line", cmd.LastEnforcing)
	}
	enforcing, why = released, whyReleased
	if later && !released {
		enforcing, why = true, whyLater+" (a libselinux that reads the last enforcing= enforces; the released one reads "+whyReleased+")"
	} else if released && !later {
		why = whyReleased + " (the released libselinux reads the first occurrence of enforcing=; a later one reads " + whyLater + ")"
	}
	if !policyInstalled {
		if enforcing {
			return Boot{Mode: Enforcing, Why: why + ", but no policy is installed to load", Freezes: true}
		}
		return Boot{Mode: Disabled, Why: why + "; no policy is installed, so none is loaded"}
	}
	if enforcing {
		return Boot{Mode: Enforcing, Why: why}
	}
	return Boot{Mode: Permissive, Why: why}
}

// PolicyDir is the directory of the policy a configuration names (targeted when SELINUXTYPE is
// unset, libselinux's default).
func PolicyDir(cfg *Config) string {
	t := "targeted"
	if cfg != nil && cfg.Type != "" {
		t = cfg.Type
	}
	return "/etc/selinux/" + t + "/policy"
}
