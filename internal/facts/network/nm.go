package network

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// maxINILine bounds a line of a NetworkManager configuration file.
const maxINILine = 64 << 10

// INISetting is one key=value of a GKeyFile-style configuration in its group.
type INISetting struct {
	Line       int
	Group, Key string
	Value      string
}

// INIError is a line ParseINI could not take. Refused says GLib's GKeyFile refuses the whole
// file for it (NetworkManager then skips the file); a line over our bound is not refused by
// GLib, only unread by us.
type INIError struct {
	File    string
	Line    int
	Msg     string
	Refused bool
}

func (e *INIError) Error() string { return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg) }

// ParseINI reads a configuration as GLib's GKeyFile does (glib 2.74 gkeyfile.c,
// g_key_file_parse_line and g_key_file_line_is_group): blank lines and '#' comment lines, a
// [group] header (a non-empty name without '[', ']' or control characters, only blanks after
// the ']'), key=value (a key name as iniKeyName takes it) with blanks around the key and before
// the value dropped; a key given twice in a group keeps its last value (g_hash_table_replace).
// A line that is none of these makes GKeyFile refuse the file (an *INIError with Refused); a
// line over the bound is an *INIError naming it.
func ParseINI(file string, data []byte) ([]INISetting, error) {
	var out []INISetting
	group := ""
	for i, l := range strings.Split(string(data), "\n") {
		if len(l) > maxINILine {
			return nil, &INIError{File: file, Line: i + 1, Msg: fmt.Sprintf("longer than %d bytes (not read)", maxINILine)}
		}
		t := strings.TrimSpace(strings.TrimRight(l, "\r"))
		switch {
		case t == "" || t[0] == '#':
		case t[0] == '[':
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return nil, &INIError{File: file, Line: i + 1, Msg: "a group header without ']' (NetworkManager refuses the file)", Refused: true}
			}
			name := t[1:end]
			if name == "" || strings.ContainsAny(name, "[") || strings.TrimLeft(t[end+1:], " \t") != "" || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				return nil, &INIError{File: file, Line: i + 1, Msg: "not a valid group header (NetworkManager refuses the file)", Refused: true}
			}
			group = name
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, &INIError{File: file, Line: i + 1, Msg: "neither a group, a key=value nor a comment (NetworkManager refuses the file)", Refused: true}
			}
			if !iniKeyName(strings.TrimSpace(k)) {
				return nil, &INIError{File: file, Line: i + 1, Msg: "not a valid key name (NetworkManager refuses the file)", Refused: true}
			}
			out = append(out, INISetting{Line: i + 1, Group: group, Key: strings.TrimSpace(k), Value: strings.TrimLeft(v, " \t")})
		}
	}
	return out, nil
}

// NMConf is NetworkManager's main configuration file.
const NMConf = "/etc/NetworkManager/NetworkManager.conf"

// nmConfFiles lists NetworkManager's configuration files in the order it reads them (1.42
// nm-config.c read_entire_config): /usr/lib's conf.d, then NetworkManager.conf, then /etc's
// conf.d, each conf.d by basename, /etc shadowing the same name; a later file's key wins.
// /run's conf.d is read too, but /run is a fresh tmpfs when the VM boots: what the image holds
// there is never seen (nor shadows anything).
func nmConfFiles(src systemd.Source) ([]string, error) {
	var files []string
	libs, err := layered(src, []string{"/usr/lib/NetworkManager/conf.d"}, "*.conf")
	if err != nil {
		return nil, err
	}
	etc, err := src.Glob("/etc/NetworkManager/conf.d/*.conf")
	if err != nil {
		return nil, err
	}
	shadowed := map[string]bool{}
	for _, p := range etc {
		shadowed[p[strings.LastIndexByte(p, '/')+1:]] = true
	}
	for _, p := range libs {
		if !shadowed[p[strings.LastIndexByte(p, '/')+1:]] {
			files = append(files, p)
		}
	}
	return append(append(files, NMConf), etc...), nil
}

// NMNoAutoDefaultState is where NetworkManager keeps the devices whose automatic wired
// connection was deleted; its entries join no-auto-default's (nm-config.c, no_auto_default
// state): the build machine's MAC addresses, which a new VM's NIC does not have.
const NMNoAutoDefaultState = "/var/lib/NetworkManager/no-auto-default.state"

// nmListSetting is one assignment to a list key: "=" sets it, "+=" appends, "-=" removes
// (NetworkManager.conf(5): list values in later files are appended to or taken from with a key
// suffixed "+" or "-"); conditional: its file has a [.config] enable= whose condition
// (NetworkManager's version, an environment variable) is not known offline.
type nmListSetting struct {
	pin         Pin
	op          byte // '=', '+', '-'
	specs       []string
	conditional bool
}

func (f *Facts) readNetworkManager(src systemd.Source) {
	files, err := nmConfFiles(src)
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	var sets []nmListSetting
	for _, p := range files {
		data, ok := f.read(src, p)
		if !ok || data == nil {
			continue
		}
		settings, err := ParseINI(p, data)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		conditional := false
		for _, s := range settings {
			if s.Group == ".config" && s.Key == "enable" {
				conditional = true
			}
		}
		for _, s := range settings {
			if s.Group != "main" {
				continue
			}
			op := byte('=')
			switch s.Key {
			case "no-auto-default":
			case "no-auto-default+":
				op = '+'
			case "no-auto-default-":
				op = '-'
			default:
				continue
			}
			sets = append(sets, nmListSetting{pin: Pin{Stack: "NetworkManager", Path: p, Line: s.Line, Setting: s.Key + "=" + s.Value},
				op: op, specs: deviceSpecs(s.Value), conditional: conditional})
		}
	}
	if data, ok := f.read(src, NMNoAutoDefaultState); ok && data != nil {
		sets = append(sets, nmListSetting{pin: Pin{Stack: "NetworkManager", Path: NMNoAutoDefaultState, Line: 1, Setting: strings.TrimSpace(string(data))},
			op: '+', specs: deviceSpecs(strings.ReplaceAll(string(data), "\n", ","))})
	}
	// with the conditional files read and without them: a verdict that differs rests on them
	with, pinWith := noAutoDefault(sets, true)
	without, _ := noAutoDefault(sets, false)
	switch {
	case with != without:
		f.NoAutoDefaultUndecided = pinWith
		f.NoAutoDefaultUndecided.Setting += " (its file has a [.config] enable= condition, which is not decided offline)"
	case with == triTrue:
		f.NoAutoDefault = pinWith
	case with == triUnknown:
		f.NoAutoDefaultUndecided = pinWith
	}
}

// noAutoDefault applies the settings in order (the conditional ones only with conditional)
// and says whether the resulting list takes eth0, with the last setting that shaped it.
func noAutoDefault(sets []nmListSetting, conditional bool) (tri, Pin) {
	var list []string
	var last Pin
	for _, s := range sets {
		if s.conditional && !conditional {
			continue
		}
		switch s.op {
		case '=':
			list = slices.Clone(s.specs)
		case '+':
			list = append(list, s.specs...)
		case '-':
			list = slices.DeleteFunc(list, func(x string) bool { return slices.Contains(s.specs, x) })
		}
		last = s.pin
	}
	return deviceListTakesEth0(strings.Join(list, ",")), last
}

// deviceSpecs splits a device list into its specs.
func deviceSpecs(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// iniKeyName is g_key_file_is_key_name: no '[' or ']' but a trailing locale "[xx_YY.enc@mod]"
// of letters, digits, '-', '_', '.' and '@'.
func iniKeyName(k string) bool {
	i := strings.IndexAny(k, "[]")
	if i < 0 {
		return true
	}
	if i == 0 || k[i] != '[' || !strings.HasSuffix(k, "]") {
		return false
	}
	return strings.IndexFunc(k[i+1:len(k)-1], func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == '@')
	}) < 0
}

// iniGroups is the line of each group header of a file ParseINI read without error (the first
// when a group appears twice: GKeyFile merges them).
func iniGroups(data []byte) map[string]int {
	out := map[string]int{}
	for i, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(strings.TrimRight(l, "\r"))
		if strings.HasPrefix(t, "[") {
			if end := strings.IndexByte(t, ']'); end > 0 {
				if _, ok := out[t[1:end]]; !ok {
					out[t[1:end]] = i + 1
				}
			}
		}
	}
	return out
}
