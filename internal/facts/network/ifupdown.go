package network

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// InterfacesFile is ifupdown's configuration.
const InterfacesFile = "/etc/network/interfaces"

// Bounds of the ifupdown reader: over one is a problem, never a silent cut.
const (
	maxIfupdownFiles = 256
	maxIfupdownDepth = 16
	maxIfupdownLine  = 64 << 10
)

// Stanza is an iface stanza of ifupdown's configuration.
type Stanza struct {
	File    string
	Line    int
	Name    string
	Family  string
	Method  string
	Options [][2]string // option lines: name, value
	OptLine []int
}

// Interfaces is ifupdown's configuration as ifup reads it (ifupdown 0.8 config.c).
type Interfaces struct {
	Auto    map[string]Origin // auto and allow-* interfaces
	Stanzas []Stanza
}

// Origin is the file and line of a setting.
type Origin struct {
	File string
	Line int
}

// sourceDirName is run-parts' naming rule, which source-directory follows.
var sourceDirName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ParseInterfaces reads one file's lines: "\" continuations, '#' comment lines, stanzas; source
// and source-directory lines are returned for the caller to follow (with the line).
func ParseInterfaces(file string, data []byte, ifs *Interfaces) (sources []Origin, dirs []Origin, err error) {
	if ifs.Auto == nil {
		ifs.Auto = map[string]Origin{}
	}
	const inMapping = -2
	cur := -1 // the stanza option lines belong to (-1 none, inMapping a mapping stanza)
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		l := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, `\`) + strings.TrimRight(lines[i], "\r")
			if len(l) > maxIfupdownLine {
				break
			}
		}
		if len(l) > maxIfupdownLine {
			return nil, nil, fmt.Errorf("%s: line %d: longer than %d bytes (not read)", file, n, maxIfupdownLine)
		}
		t := strings.TrimLeft(l, " \t")
		if t == "" || t[0] == '#' {
			continue
		}
		fl := strings.Fields(t)
		switch kw := fl[0]; {
		case kw == "iface":
			cur = -1
			if len(fl) < 4 {
				return nil, nil, fmt.Errorf("%s: line %d: iface needs a name, a family and a method (ifup refuses the file)", file, n)
			}
			ifs.Stanzas = append(ifs.Stanzas, Stanza{File: file, Line: n, Name: fl[1], Family: fl[2], Method: fl[3]})
			cur = len(ifs.Stanzas) - 1
		case kw == "auto" || kw == "allow-auto" || kw == "allow-hotplug":
			// ifup -a brings up the auto class at boot, udev (ifup@.service) allow-hotplug
			cur = -1
			for _, name := range fl[1:] {
				if _, ok := ifs.Auto[name]; !ok {
					ifs.Auto[name] = Origin{File: file, Line: n}
				}
			}
		case strings.HasPrefix(kw, "allow-"):
			cur = -1 // another class: brought up only by ifup --allow=CLASS
		case kw == "mapping":
			cur = inMapping
		case kw == "source" || kw == "source-directory":
			cur = -1
			if len(fl) < 2 {
				return nil, nil, fmt.Errorf("%s: line %d: %s without a path", file, n, kw)
			}
			p := strings.TrimSpace(strings.TrimPrefix(t, kw))
			if !path.IsAbs(p) {
				p = path.Join(path.Dir(file), p)
			}
			if kw == "source" {
				sources = append(sources, Origin{File: p, Line: n})
			} else {
				dirs = append(dirs, Origin{File: p, Line: n})
			}
		case kw == "rename" || kw == "no-auto-down" || kw == "no-scripts":
			cur = -1
		default:
			if cur == inMapping {
				continue // a mapping's script and map lines
			}
			if cur < 0 {
				return nil, nil, fmt.Errorf("%s: line %d: option %q outside an iface stanza (ifup refuses the file)", file, n, kw)
			}
			st := &ifs.Stanzas[cur]
			st.Options = append(st.Options, [2]string{kw, strings.TrimSpace(strings.TrimPrefix(t, kw))})
			st.OptLine = append(st.OptLine, n)
		}
	}
	return sources, dirs, nil
}

// ReadInterfaces reads /etc/network/interfaces with what it sources.
func ReadInterfaces(src systemd.Source) (*Interfaces, []error) {
	ifs := &Interfaces{Auto: map[string]Origin{}}
	var errs []error
	count := 0
	var walk func(file string, depth int)
	walk = func(file string, depth int) {
		if count++; count > maxIfupdownFiles {
			if count == maxIfupdownFiles+1 {
				errs = append(errs, fmt.Errorf("%s: more than %d files sourced (not all were read)", InterfacesFile, maxIfupdownFiles))
			}
			return
		}
		if depth > maxIfupdownDepth {
			errs = append(errs, fmt.Errorf("%s: sourced more than %d deep (not read)", file, maxIfupdownDepth))
			return
		}
		data, err := src.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			return
		}
		if data == nil {
			return
		}
		sources, dirs, err := ParseInterfaces(file, data, ifs)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, s := range sources {
			found, err := src.Glob(s.File)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: line %d: source %s: %w", file, s.Line, s.File, err))
				continue
			}
			slices.Sort(found)
			for _, p := range found {
				walk(p, depth+1)
			}
		}
		for _, d := range dirs {
			found, err := src.Glob(d.File + "/*")
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: line %d: source-directory %s: %w", file, d.Line, d.File, err))
				continue
			}
			slices.Sort(found)
			for _, p := range found {
				if sourceDirName.MatchString(path.Base(p)) {
					walk(p, depth+1)
				}
			}
		}
	}
	walk(InterfacesFile, 0)
	return ifs, errs
}

func (f *Facts) readIfupdown(src systemd.Source) {
	ifs, errs := ReadInterfaces(src)
	f.Problems = append(f.Problems, errs...)
	_, auto := ifs.Auto[Eth0]
	for _, s := range ifs.Stanzas {
		var pins []Pin
		for i, o := range s.Options {
			if o[0] == "hwaddress" {
				pins = append(pins, Pin{Stack: "ifupdown", Path: s.File, Line: s.OptLine[i], Setting: "hwaddress " + o[1]})
			}
		}
		f.Pins = append(f.Pins, pins...)
		if s.Name != Eth0 || s.Family != "inet" || s.Method != "dhcp" {
			continue
		}
		p := Plan{Stack: "ifupdown", Path: s.File, Line: s.Line, DHCP: true, AtBoot: auto, Pins: pins}
		if len(pins) > 0 {
			p.Note = "hwaddress sets a MAC address that is not Azure's NIC's"
		}
		f.Ifupdown = append(f.Ifupdown, p)
	}
}
