package network

import (
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// maxUdevLine bounds a udev rules line (udev's own bound is larger; over ours is an error).
const maxUdevLine = 64 << 10

// UdevRule is one rule line of a udev rules file: its keys with their operators.
type UdevRule struct {
	Line int
	Text string
	Keys []UdevKey
}

// UdevKey is KEY{attr} OP "value".
type UdevKey struct {
	Key, Op, Value string
}

// ParseUdevRules reads a rules file as udev does (v252 udev-rules.c): '#' comment lines, "\"
// continuations, each rule a list of KEY[{attr}] OP "value" separated by commas and blanks. A
// line udev would reject as invalid is skipped, as udev skips it.
func ParseUdevRules(file string, data []byte) ([]UdevRule, error) {
	var out []UdevRule
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		l := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) && len(l) <= maxUdevLine {
			i++
			l = strings.TrimSuffix(l, `\`) + strings.TrimRight(lines[i], "\r")
		}
		if len(l) > maxUdevLine {
			return nil, fmt.Errorf("%s: line %d: longer than %d bytes (not read)", file, n, maxUdevLine)
		}
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		if keys, ok := udevKeys(t); ok {
			out = append(out, UdevRule{Line: n, Text: t, Keys: keys})
		}
	}
	return out, nil
}

// udevKeys splits a rule into its keys; ok false for a line udev rejects.
func udevKeys(s string) ([]UdevKey, bool) {
	var keys []UdevKey
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return keys, len(keys) > 0
		}
		end := strings.IndexAny(s, "=!+-:")
		if end <= 0 {
			return nil, false
		}
		key := strings.TrimRight(s[:end], " \t")
		s = s[end:]
		op := ""
		for _, o := range []string{"==", "!=", "+=", "-=", ":=", "="} {
			if strings.HasPrefix(s, o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, false
		}
		s = strings.TrimLeft(s[len(op):], " \t")
		if !strings.HasPrefix(s, `"`) {
			return nil, false
		}
		var v strings.Builder
		j := 1
		for ; j < len(s) && s[j] != '"'; j++ {
			if s[j] == '\\' && j+1 < len(s) {
				j++
			}
			v.WriteByte(s[j])
		}
		if j >= len(s) {
			return nil, false
		}
		keys = append(keys, UdevKey{Key: key, Op: op, Value: v.String()})
		s = s[j+1:]
	}
}

// readOtherPins reads the MAC pins of files no stack reader above reads: udev's persistent-net
// rules, every ifcfg file (RHEL, SUSE), NetworkManager's keyfiles and systemd's .link files.
func (f *Facts) readOtherPins(src systemd.Source) {
	glob := func(pattern string) []string {
		found, err := src.Glob(pattern)
		if err != nil {
			f.Problems = append(f.Problems, err)
		}
		return found
	}
	for _, p := range glob("/etc/udev/rules.d/*persistent-net*.rules") {
		data, ok := f.read(src, p)
		if !ok {
			continue
		}
		rules, err := ParseUdevRules(p, data)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		for _, r := range rules {
			for _, k := range r.Keys {
				if k.Key == "ATTR{address}" && k.Op == "==" {
					f.Pins = append(f.Pins, Pin{Stack: "udev", Path: p, Line: r.Line, Setting: r.Text})
					break
				}
			}
		}
	}
	for _, p := range append(glob("/etc/sysconfig/network-scripts/ifcfg-*"), glob("/etc/sysconfig/network/ifcfg-*")...) {
		data, ok := f.read(src, p)
		if !ok {
			continue
		}
		vars, err := sysconf.ReadShellVars(data)
		if err != nil {
			f.problem("%s %w", p, err)
			continue
		}
		for _, s := range vars {
			if (s.Key == "HWADDR" || s.Key == "MACADDR") && s.Value != "" {
				f.Pins = append(f.Pins, Pin{Stack: "ifcfg", Path: p, Line: s.Line, Setting: lineAt(data, s.Line)})
			}
		}
	}
	for _, p := range glob("/etc/NetworkManager/system-connections/*") {
		data, ok := f.read(src, p)
		if !ok {
			continue
		}
		settings, err := ParseINI(p, data)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		for _, s := range settings {
			if s.Key == "mac-address" && s.Value != "" {
				f.Pins = append(f.Pins, Pin{Stack: "NetworkManager", Path: p, Line: s.Line, Setting: lineAt(data, s.Line)})
			}
		}
	}
	// the keyfiles NetworkManager loads from elsewhere: /run and /usr/lib system-connections
	// and a [keyfile] path= directory (netplan's NetworkManager renderer writes to /run), read
	// as NetworkManager loads them (ReadNMChoice: the names it ignores, the files it refuses and
	// the profiles another shadows are left out); /etc's are all read above, refused ones too
	nm := ReadNMChoice(src)
	f.Problems = append(f.Problems, nm.Problems...)
	for _, p := range nm.Profiles {
		if p.MAC != "" && !strings.HasPrefix(p.Path, "/etc/NetworkManager/system-connections/") {
			f.Pins = append(f.Pins, Pin{Stack: "NetworkManager", Path: p.Path, Line: p.MACLine, Setting: "mac-address=" + p.MAC})
		}
	}
	for _, p := range glob("/etc/systemd/network/*.link") {
		data, ok := f.read(src, p)
		if !ok {
			continue
		}
		settings, err := sysconf.ParseUnit(data)
		if err != nil {
			f.problem("%s %w", p, err)
			continue
		}
		for _, s := range settings {
			if s.Value != "" && (s.Section == "Match" && (s.Key == "MACAddress" || s.Key == "PermanentMACAddress") || s.Section == "Link" && s.Key == "MACAddress") {
				f.Pins = append(f.Pins, Pin{Stack: "systemd-networkd", Path: p, Line: s.Line, Setting: lineAt(data, s.Line)})
			}
		}
	}
}
