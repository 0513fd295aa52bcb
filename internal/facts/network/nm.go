package network

import (
	"fmt"
	"strings"

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

// ParseINI reads a configuration as GLib's GKeyFile does: '#' comment lines, [group] headers,
// key=value with blanks around the key and before the value dropped. A line over the bound is
// an error naming it.
func ParseINI(file string, data []byte) ([]INISetting, error) {
	var out []INISetting
	group := ""
	for i, l := range strings.Split(string(data), "\n") {
		if len(l) > maxINILine {
			return nil, fmt.Errorf("%s: line %d: longer than %d bytes (not read)", file, i+1, maxINILine)
		}
		t := strings.TrimSpace(strings.TrimRight(l, "\r"))
		switch {
		case t == "" || t[0] == '#':
		case t[0] == '[':
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s: line %d: a group header without ']' (NetworkManager refuses the file)", file, i+1)
			}
			group = t[1:end]
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok {
				return nil, fmt.Errorf("%s: line %d: neither a group, a key=value nor a comment (NetworkManager refuses the file)", file, i+1)
			}
			out = append(out, INISetting{Line: i + 1, Group: group, Key: strings.TrimSpace(k), Value: strings.TrimLeft(v, " \t")})
		}
	}
	return out, nil
}

// NMConf is NetworkManager's main configuration file.
const NMConf = "/etc/NetworkManager/NetworkManager.conf"

func (f *Facts) readNetworkManager(src systemd.Source) {
	// NetworkManager reads /usr/lib and /run conf.d, then NetworkManager.conf, then /etc's conf.d
	// (each by basename, /etc shadowing the same name); a later file's key wins
	var files []string
	libs, err := layered(src, []string{"/run/NetworkManager/conf.d", "/usr/lib/NetworkManager/conf.d"}, "*.conf")
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	etc, err := src.Glob("/etc/NetworkManager/conf.d/*.conf")
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
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
	files = append(append(files, NMConf), etc...)
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
		for _, s := range settings {
			if s.Group != "main" || s.Key != "no-auto-default" {
				continue
			}
			f.NoAutoDefault = Pin{}
			for _, d := range strings.FieldsFunc(s.Value, func(r rune) bool { return r == ',' || r == ';' }) {
				if strings.TrimSpace(d) == "*" {
					f.NoAutoDefault = Pin{Stack: "NetworkManager", Path: p, Line: s.Line, Setting: "no-auto-default=" + s.Value}
				}
			}
		}
	}
}
