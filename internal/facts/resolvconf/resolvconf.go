// Package resolvconf is /etc/resolv.conf as glibc's stub resolver reads it, and what the path is
// in the image: absent, a symbolic link (followed as the kernel follows it, component by
// component, up to where the image has nothing: /run is empty in an image) or a file.
//
// The file is read as glibc 2.36 reads it (resolv/res_init.c, res_vinit_1, and
// resolv/resolv_conf.c; https://sourceware.org/git/glibc.git, tag glibc-2.36, the libc of
// Debian 12): line by line (getline: a line ends at '\n', the last one need not); a line whose
// first byte is ';' or '#' is a comment; a keyword counts only at the very start of the line and
// followed by a space or a tab ("nameserver" alone, " nameserver 1.2.3.4" and
// "nameserver\r" set nothing); C's string functions stop at a NUL byte, so nothing after one
// is read. The keywords are domain, search, nameserver, sortlist and options; any other line is
// ignored. nameserver takes the address up to the first blank and accepts it when inet_aton
// reads all of it (a.b.c.d, a.b.c, a.b and a, each part decimal, 0-octal or 0x-hex) or, cut at
// '%' (the zone), inet_pton reads it as IPv6; every other value is skipped. Every accepted name
// server is kept, the resolver queries the first MaxNS. domain and search each replace the
// search list (the last such line wins): domain with its first word, search with every word
// (blank-separated); an empty value leaves it as it was. With no name server the resolver
// queries 127.0.0.1; with no search list it takes the domain of the host name (not the image's
// to say offline).
//
// Bounds (glibc has none, so over one is an error naming the file and line, never a silent
// cut): MaxLineBytes per line, and the image's bounded file reader for the whole file.
package resolvconf

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// Path is the file glibc's resolver opens (_PATH_RESCONF).
const Path = "/etc/resolv.conf"

// MaxNS is how many name servers the resolver queries (MAXNS in resolv.h): the ones after it
// are kept in the configuration and never asked.
const MaxNS = 3

// MaxLineBytes bounds a line (its newline included). A resolv.conf line is a keyword and a few
// names; a longer one is an error, not a cut.
const MaxLineBytes = 16 << 10

// maxLinks is the kernel's bound on symbolic links followed in one path lookup (ELOOP past it;
// glibc then reads no file).
const maxLinks = 40

// Keyword is a resolv.conf directive glibc acts on.
type Keyword string

const (
	Domain     Keyword = "domain"
	Search     Keyword = "search"
	Nameserver Keyword = "nameserver"
	Sortlist   Keyword = "sortlist"
	Options    Keyword = "options"
)

// keywords are matched in glibc's order (no keyword is a prefix of another followed by a blank,
// so the order decides nothing, but it is glibc's).
var keywords = []Keyword{Domain, Search, Nameserver, Sortlist, Options}

// Directive is one line glibc acts on.
type Directive struct {
	Keyword Keyword
	Line    int
	Offset  int64
	Text    string // the line as C reads it: up to a NUL, without its newline
}

// Server is a name server the resolver accepted.
type Server struct {
	Addr netip.Addr // without the zone
	Zone string     // the text after '%' of an IPv6 address ("" when none)
	Directive
}

// Conf is a resolv.conf as glibc reads it.
type Conf struct {
	// Servers are every nameserver line glibc accepts, in order; the resolver queries the first
	// MaxNS of them (Queried).
	Servers []Server
	// Ignored are nameserver lines whose value glibc does not read as an address (skipped).
	Ignored []Directive
	// Search is the search list the file sets, nil when no domain or search line sets one;
	// SearchFrom is the line that set it.
	Search     []string
	SearchFrom *Directive
	// Directives are every line glibc acts on, in order (domain, search, nameserver, sortlist,
	// options).
	Directives []Directive
}

// Queried is the name servers the resolver asks.
func (c *Conf) Queried() []Server { return c.Servers[:min(len(c.Servers), MaxNS)] }

// Parse reads a resolv.conf (name names it in errors).
func Parse(name string, data []byte) (*Conf, error) {
	c := &Conf{}
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
		if len(line) > MaxLineBytes {
			return c, byteio.Corrupt(name, start, "line %d is %d bytes, over the %d this reader takes", n, len(line), MaxLineBytes)
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i] // strncmp, strchr, strdup stop there
		}
		text := strings.TrimSuffix(string(line), "\n")
		if text == "" || text[0] == ';' || text[0] == '#' {
			continue
		}
		kw, rest, ok := keyword(text)
		if !ok {
			continue
		}
		d := Directive{Keyword: kw, Line: n, Offset: start, Text: text}
		c.Directives = append(c.Directives, d)
		rest = strings.TrimLeft(rest, " \t")
		switch kw {
		case Domain:
			if rest == "" {
				continue
			}
			first, _, _ := strings.Cut(rest, " ")
			first, _, _ = strings.Cut(first, "\t")
			c.Search, c.SearchFrom = []string{first}, &d
		case Search:
			if rest == "" {
				continue
			}
			c.Search = strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' })
			c.SearchFrom = &d
		case Nameserver:
			if s, ok := server(rest); ok {
				s.Directive = d
				c.Servers = append(c.Servers, s)
			} else {
				c.Ignored = append(c.Ignored, d)
			}
		}
	}
	return c, nil
}

// keyword is glibc's MATCH: the keyword at the start of the line, then a space or a tab.
func keyword(text string) (Keyword, string, bool) {
	for _, k := range keywords {
		if len(text) > len(k) && text[:len(k)] == string(k) && (text[len(k)] == ' ' || text[len(k)] == '\t') {
			return k, text[len(k):], true
		}
	}
	return "", "", false
}

// server reads a nameserver value as glibc 2.36 does: cut at the first blank, then all of it
// an IPv4 address as inet_aton reads one, else, cut at '%', an IPv6 address as inet_pton reads
// one.
func server(v string) (Server, bool) {
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	if v == "" {
		return Server{}, false
	}
	if a, ok := InetAton(v); ok {
		return Server{Addr: a}, true
	}
	host, zone, hasZone := strings.Cut(v, "%")
	if a, ok := inetPton6(host); ok {
		if !hasZone {
			zone = ""
		}
		return Server{Addr: a, Zone: zone}, true
	}
	return Server{}, false
}

// InetAton reads s as glibc's __inet_aton_exact does: one to four parts separated by dots,
// each starting with a digit and read as C's strtoul with base 0 reads it (0x hex, 0 octal,
// else decimal), every part but the last a byte, the last filling the remaining bytes; all of
// s must be read.
func InetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return netip.Addr{}, false
		}
		v, rest, ok := strtoul0(s)
		if !ok {
			return netip.Addr{}, false
		}
		s = rest
		if s != "" && s[0] == '.' {
			if len(parts) > 2 || v > 0xff {
				return netip.Addr{}, false
			}
			parts = append(parts, v)
			s = s[1:]
			continue
		}
		if s != "" {
			return netip.Addr{}, false
		}
		maxLast := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}[len(parts)]
		if v > maxLast {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, p := range parts {
			b[i] = byte(p)
		}
		word := uint32(v)
		for i := 3; i >= len(parts); i-- {
			b[i] |= byte(word)
			word >>= 8
		}
		return netip.AddrFrom4(b), true
	}
}

// strtoul0 is strtoul(s, &end, 0) on a string that starts with a digit, refusing values over
// 32 bits (inet_aton refuses them): the value, what follows it, and false on overflow.
func strtoul0(s string) (uint64, string, bool) {
	base, i := uint64(10), 0
	if s[0] == '0' {
		base, i = 8, 1
		if len(s) > 2 && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0 {
			base, i = 16, 2
		}
	}
	var v uint64
	for ; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		v = v*base + uint64(d)
		if v > 0xffffffff {
			return 0, "", false
		}
	}
	return v, s[i:], true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// inetPton6 reads an IPv6 address as inet_pton(AF_INET6) does: hex groups and "::", an IPv4
// tail in dotted-decimal, no zone.
func inetPton6(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") || strings.Contains(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// Kind is what /etc/resolv.conf is in the image.
type Kind int

const (
	Unknown Kind = iota // it could not be looked up (Problems say why)
	Absent
	Link  // a symbolic link
	File  // a regular file
	Other // a directory, a device, a FIFO...: glibc opens nothing it can read
)

// Facts is /etc/resolv.conf in the image.
type Facts struct {
	Kind Kind
	// Size is the file's size (for File).
	Size int64
	// Target is the link as stored, Resolved the absolute in-image path the chain of links
	// ends at (for Link): followed while the image has each component, the rest taken as
	// written. Loops says the chain is over the kernel's bound of 40 links (glibc reads no file).
	Target   string
	Resolved string
	Loops    bool
	// Static says the file the resolver reads is in the image, not in a directory written at
	// run time (/run, /var/run): a File, or a Link that ends elsewhere.
	Static bool
	// Read is where Conf was read from (Path, or the file a static link ends at when the
	// image has it), "" when nothing was read.
	Read string
	Conf *Conf
	// Problems are what could not be read.
	Problems problems.List
}

// Err joins the problems.
func (f *Facts) Err() error { return f.Problems.Err() }

// Of returns the image's resolv.conf facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/resolvconf", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// RunTimeDirs are the directories whose contents are written at boot (a tmpfs on /run;
// /var/run is its old name).
var RunTimeDirs = []string{"/run", "/var/run"}

// Read reads the facts from an image.
func Read(src systemd.Source) *Facts {
	f := &Facts{}
	fi, err := src.Lstat(Path)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", Path, err))
		return f
	}
	switch {
	case fi == nil:
		f.Kind = Absent
	case fi.Mode()&fs.ModeSymlink != 0:
		f.Kind = Link
		if f.Target, err = src.ReadLink(Path); err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", Path, err))
			return f
		}
		end, endInfo, loops, err := follow(src, Path)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: following the link: %w", Path, err))
			return f
		}
		f.Resolved, f.Loops = end, loops
		if loops {
			return f
		}
		f.Static = !underAny(end, RunTimeDirs)
		if f.Static && endInfo != nil && endInfo.Mode().IsRegular() {
			f.readConf(src, end)
		}
	case fi.Mode().IsRegular():
		f.Kind, f.Size, f.Static = File, fi.Size(), true
		f.readConf(src, Path)
	default:
		f.Kind = Other
	}
	return f
}

func (f *Facts) readConf(src systemd.Source, p string) {
	data, err := src.ReadFile(p)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
		return
	}
	c, err := Parse(p, data)
	f.Read, f.Conf = p, c
	if err != nil {
		f.Problems = append(f.Problems, err)
	}
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// follow resolves p as the kernel's path lookup does, against the image's root: each
// component looked up, a symbolic link's target spliced in (absolute ones from /, ".." going
// up from where the link is), up to maxLinks links (loops is then true). Where a component is
// missing from the image (a link into an empty /run) the rest is joined as written. It returns
// the absolute path and, when the image has it, its information (nil otherwise, or when a
// component before the last is not a directory: the kernel's ENOTDIR, no file either).
func follow(src systemd.Source, p string) (end string, info fs.FileInfo, loops bool, err error) {
	links := 0
	done := "/"
	todo := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, c)
		fi, err := src.Lstat(next)
		if err != nil {
			return "", nil, false, err
		}
		if fi == nil {
			return path.Join(append([]string{next}, todo...)...), nil, false, nil
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return next, nil, true, nil
			}
			t, err := src.ReadLink(next)
			if err != nil {
				return "", nil, false, err
			}
			if strings.HasPrefix(t, "/") {
				done = "/"
			}
			todo = append(strings.Split(t, "/"), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return path.Join(append([]string{next}, todo...)...), nil, false, nil
		}
		done = next
	}
	// the last component is no link (each was spliced in): what it is decides
	info, err = src.Lstat(done)
	return done, info, false, err
}
