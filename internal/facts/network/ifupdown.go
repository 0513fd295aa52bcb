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
	// Skipped are the errors of sourced files, each of which ends that file's reading only (what
	// came before it stays read), as ifup reads past them.
	Skipped []*InterfacesError
}

// InterfacesError is an error in one file of ifupdown's configuration, at a line (0: the file
// as a whole).
type InterfacesError struct {
	File string
	Line int
	Msg  string
	// OverBound: the line is longer than this reader takes (ifup has no bound): what ifup
	// makes of the file is unknown, a problem even in a sourced file.
	OverBound bool
}

func (e *InterfacesError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
}

func lineError(file string, line int, format string, args ...any) *InterfacesError {
	return &InterfacesError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Origin is the file and line of a setting.
type Origin struct {
	File string
	Line int
}

// ifupdownMethods are the address families and their methods ifupdown 0.8.41 knows (inet.defn,
// inet6.defn, ipx.defn, can.defn), case-sensitive: an iface line naming another is refused ("unknown
// or no method"), the whole file with it.
var ifupdownMethods = map[string][]string{
	"inet":  {"loopback", "static", "manual", "dhcp", "bootp", "tunnel", "ppp", "wvdial", "ipv4ll"},
	"inet6": {"auto", "loopback", "static", "manual", "dhcp", "v4tunnel", "6to4", "tunnel"},
	"ipx":   {"static", "dynamic"},
	"can":   {"static"},
}

// sourceDirName is run-parts' naming rule, which source-directory follows.
var sourceDirName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// cSpace is isspace(3) in the C locale, ifupdown's blank (a line of "\v" is empty to it).
func cSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// ParseInterfaces reads one file's lines: "\" continuations, '#' comment lines, stanzas; source
// and source-directory lines are returned for the caller to follow (with the line). On an error
// what came before it stays read (in ifs, and the sources returned), as ifup keeps it.
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
			e := lineError(file, n, "longer than %d bytes (not read)", maxIfupdownLine)
			e.OverBound = true
			return sources, dirs, e
		}
		t := strings.TrimLeftFunc(l, cSpace)
		if t == "" || t[0] == '#' {
			continue
		}
		fl := strings.FieldsFunc(t, cSpace)
		switch kw := fl[0]; {
		case kw == "iface":
			cur = -1
			if len(fl) < 4 {
				return sources, dirs, lineError(file, n, "iface needs a name, a family and a method (ifup refuses the file)")
			}
			methods, ok := ifupdownMethods[fl[2]]
			if !ok {
				return sources, dirs, lineError(file, n, "iface %s: unknown address family %q (ifup refuses the file)", fl[1], fl[2])
			}
			if !slices.Contains(methods, fl[3]) {
				return sources, dirs, lineError(file, n, "iface %s: unknown %s method %q (ifup refuses the file)", fl[1], fl[2], fl[3])
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
				return sources, dirs, lineError(file, n, "%s without a path", kw)
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
				return sources, dirs, lineError(file, n, "option %q outside an iface stanza (ifup refuses the file)", kw)
			}
			st := &ifs.Stanzas[cur]
			st.Options = append(st.Options, [2]string{kw, strings.TrimSpace(strings.TrimPrefix(t, kw))})
			st.OptLine = append(st.OptLine, n)
		}
	}
	return sources, dirs, nil
}

// globHidden says whether glob(3) without GLOB_PERIOD would not have matched name for pattern:
// a component of name that starts with '.' is matched only by one of pattern that does.
func globHidden(pattern, name string) bool {
	pc, nc := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(pc) != len(nc) {
		return false
	}
	for i := range nc {
		if strings.HasPrefix(nc[i], ".") && !strings.HasPrefix(pc[i], ".") {
			return true
		}
	}
	return false
}

// ReadInterfaces reads /etc/network/interfaces with what it sources.
func ReadInterfaces(src systemd.Source) (*Interfaces, []error) {
	ifs := &Interfaces{Auto: map[string]Origin{}}
	var errs []error
	count := 0
	reading := map[string]bool{} // the files being read, the sourcing chain down to this one
	var walk func(file string, depth int)
	walk = func(file string, depth int) {
		if reading[file] {
			// ifup reads it again, and again, until the path it builds (sub/../sub/…) is too
			// long to open, an error it reads past: every pass adds the same stanzas and
			// classes, nothing the first pass did not
			ifs.Skipped = append(ifs.Skipped, lineError(file, 0, "sources itself (ifup rereads it until the path is too long; nothing new)"))
			return
		}
		if depth > 0 {
			if fi, err := src.Lstat(file); err == nil && fi != nil && fi.IsDir() {
				ifs.Skipped = append(ifs.Skipped, lineError(file, 0, "a directory (ifup cannot read it and goes on)"))
				return
			}
		}
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
		reading[file] = true
		defer delete(reading, file)
		sources, dirs, err := ParseInterfaces(file, data, ifs)
		if err != nil {
			if ie, ok := err.(*InterfacesError); depth == 0 || ok && ie.OverBound {
				// ifup refuses the whole configuration, or the file is past this reader's bound
				errs = append(errs, err)
				return
			}
			// a sourced file's error ends that file only: ifup keeps what came before it and
			// goes on with the file that sourced it (ifupdown 0.8.41, compared by
			// TestIfupdownOracle)
			ie, ok := err.(*InterfacesError)
			if !ok {
				ie = &InterfacesError{File: file, Msg: err.Error()}
			}
			ifs.Skipped = append(ifs.Skipped, ie)
		}
		for _, s := range sources {
			found, err := src.Glob(s.File)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: line %d: source %s: %w", file, s.Line, s.File, err))
				continue
			}
			slices.Sort(found)
			for _, p := range found {
				if !globHidden(s.File, p) {
					walk(p, depth+1)
				}
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
	f.ReadPast = append(f.ReadPast, ifs.Skipped...)
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
