// Package sshkeys reads authorized_keys files as OpenSSH 9.2's sshd reads them
// (auth2-pubkeyfile.c auth_check_authkeys_file and auth_check_authkey_line, sshkey.c
// sshkey_read and sshkey_advance_past_options, auth-options.c sshauthopt_parse): which lines are
// keys sshd would try, and the options each key carries (the forced command, the forwardings it
// permits). A line sshd skips (a comment, no key, options sshd refuses) is kept with the reason.
//
// Where this reader cannot tell what sshd decides, it errs towards a key: a line whose first
// word is any key type name sshd knows (exact names, the short names "RSA", "ED25519"... without
// case, the signature names "rsa-sha2-512"...) followed by a word is a key, whatever the blob
// (sshd would also refuse a blob that does not decode to a key of that type), and options whose
// values sshd validates further (from=, permitopen=, principals=...) are accepted as written. So
// a file this reader calls harmless is one sshd lets nobody in with; the reverse need not hold.
package sshkeys

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Bounds: sshd has none (getline), so a file or line past them is an error, never cut.
const (
	MaxFile = 4 << 20
	MaxLine = 64 << 10
)

// Options are a key's options as sshauthopt_parse leaves them (defaults: everything permitted).
type Options struct {
	Raw             string // the options text as written ("" when the key has none)
	Command         string // the forced command, dequoted (`\"` is `"`)
	HasCommand      bool
	Restrict        bool
	CertAuthority   bool
	PortForwarding  bool // -L/-R/-D allowed
	AgentForwarding bool
	X11Forwarding   bool
	PTY             bool
	UserRC          bool
}

// Key is a line sshd takes as a key.
type Key struct {
	Line    int
	Offset  int64  // the line's first byte in the file
	Type    string // the key type as written
	Blob    string // the key's base64 text as written (not decoded)
	Options Options
}

// Skipped is a line that is not a comment or blank and that sshd skips, and why.
type Skipped struct {
	Line   int
	Offset int64
	Reason string
}

// File is an authorized_keys file as sshd reads it.
type File struct {
	Path    string
	Keys    []Key
	Skipped []Skipped
}

// keyTypes are the names sshkey_type_from_name takes (OpenSSH 9.2, `ssh -Q key-sig` and
// XMSS); matched without case, a superset of sshd's exact match.
var keyTypes = map[string]bool{}

func init() {
	for _, n := range []string{
		"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
		"sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
		"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
		"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
		"ssh-dss", "ssh-dss-cert-v01@openssh.com",
		"ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
		"rsa-sha2-256", "rsa-sha2-256-cert-v01@openssh.com",
		"rsa-sha2-512", "rsa-sha2-512-cert-v01@openssh.com",
		"ssh-xmss@openssh.com", "ssh-xmss-cert-v01@openssh.com",
		// the short names of the plain key types (strcasecmp in sshkey_type_from_name)
		"rsa", "dsa", "ecdsa", "ed25519", "ecdsa-sk", "ed25519-sk", "xmss",
	} {
		keyTypes[n] = true
	}
}

// Read reads the authorized_keys file at p in an image (symbolic links followed, as sshd opens
// it); nil when it does not exist. A file that could not be read is an error naming it.
func Read(src systemd.Source, p string) (*File, error) {
	data, size, err := src.Head(p, MaxFile+1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if data == nil {
		return nil, nil // absent (Head reads an empty file as an empty slice)
	}
	if size > MaxFile {
		return nil, fmt.Errorf("%s: %d bytes, over the %d bytes read; not read", p, size, MaxFile)
	}
	return Parse(p, data)
}

// Parse reads an authorized_keys file. A file over MaxFile or a line over MaxLine is an error
// naming the file and the offset.
func Parse(path string, data []byte) (*File, error) {
	if len(data) > MaxFile {
		return nil, fmt.Errorf("%s: %d bytes, over the %d bytes read; not read", path, len(data), MaxFile)
	}
	f := &File{Path: path}
	n := 0
	for off := 0; off < len(data); {
		n++
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if next-off > MaxLine {
			return nil, fmt.Errorf("%s: %w", path, &sysconf.LineTooLongError{Line: n, Offset: int64(off), Limit: MaxLine})
		}
		line := data[off:next] // with its newline, as getline leaves it
		start := int64(off)
		off = next
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i] // sshd works on a C string
		}
		cp := string(line)
		cp = strings.TrimLeft(cp, " \t") // skip_space
		if cp == "" || cp[0] == '\n' || cp[0] == '#' {
			continue
		}
		k, reason := parseLine(cp)
		if reason != "" {
			f.Skipped = append(f.Skipped, Skipped{Line: n, Offset: start, Reason: reason})
			continue
		}
		k.Line, k.Offset = n, start
		f.Keys = append(f.Keys, k)
	}
	return f, nil
}

// parseLine is auth_check_authkey_line up to the key comparison: the key's type and options,
// or why sshd skips the line.
func parseLine(cp string) (Key, string) {
	if typ, blob, ok := readKeyBlob(cp); ok {
		o, _ := parseOptions("") // sshauthopt_parse(NULL): the defaults
		return Key{Type: typ, Blob: blob, Options: o}, ""
	}
	rest, err := advancePastOptions(cp)
	if err != "" {
		return Key{}, err
	}
	typ, blob, ok := readKeyBlob(strings.TrimLeft(rest, " \t"))
	if !ok {
		return Key{}, "no key (neither at the start of the line nor after the options)"
	}
	o, err := parseOptions(cp) // from the line's start, as sshd parses key_options
	if err != "" {
		return Key{}, "bad key options: " + err
	}
	o.Raw = cp[:len(cp)-len(rest)]
	return Key{Type: typ, Blob: blob, Options: o}, ""
}

// readKeyBlob is what sshkey_read needs of a line: a key type name followed by a blank and a
// blob (its text; what it decodes to is not checked).
func readKeyBlob(cp string) (typ, blob string, ok bool) {
	space := strings.IndexAny(cp, " \t")
	if space < 0 {
		return "", "", false
	}
	typ = cp[:space]
	if !keyTypes[strings.ToLower(typ)] {
		return "", "", false
	}
	rest := strings.TrimLeft(cp[space:], " \t")
	blob = rest
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		blob = rest[:i]
	}
	if blob = strings.TrimSpace(blob); blob == "" {
		return "", "", false
	}
	return typ, blob, true
}

// advancePastOptions is sshkey_advance_past_options: the options end at the first blank outside
// double quotes (`\"` does not quote); an unterminated quote refuses the line.
func advancePastOptions(cp string) (string, string) {
	quoted := false
	i := 0
	for ; i < len(cp) && (quoted || cp[i] != ' ' && cp[i] != '\t'); i++ {
		if cp[i] == '\\' && i+1 < len(cp) && cp[i+1] == '"' {
			i++
		} else if cp[i] == '"' {
			quoted = !quoted
		}
	}
	if i == len(cp) && quoted {
		return "", "invalid key option string (unterminated quote)"
	}
	return cp[i:], ""
}

// flag is opt_flag: a case-insensitive prefix, "no-" first when negation is allowed; -1 when it
// is not this flag.
func flag(name string, negate bool, s *string) int {
	o := *s
	neg := false
	if negate && len(o) >= 3 && strings.EqualFold(o[:3], "no-") {
		o, neg = o[3:], true
	}
	if len(o) >= len(name) && strings.EqualFold(o[:len(name)], name) {
		*s = o[len(name):]
		if neg {
			return 0
		}
		return 1
	}
	return -1
}

// match is opt_match: a case-insensitive "term=".
func match(s *string, term string) bool {
	o := *s
	if len(o) > len(term) && strings.EqualFold(o[:len(term)], term) && o[len(term)] == '=' {
		*s = o[len(term)+1:]
		return true
	}
	return false
}

// dequote is opt_dequote: a double-quoted value, `\"` standing for `"`.
func dequote(s *string) (string, string) {
	o := *s
	if o == "" || o[0] != '"' {
		return "", "missing start quote"
	}
	var b strings.Builder
	i := 1
	for i < len(o) && o[i] != '"' {
		if o[i] == '\\' && i+1 < len(o) && o[i+1] == '"' {
			i++
		}
		b.WriteByte(o[i])
		i++
	}
	if i >= len(o) {
		return "", "missing end quote"
	}
	*s = o[i+1:]
	return b.String(), ""
}

// parseOptions is sshauthopt_parse over the line from its options on: the option names, their
// negations, quoting and commas as sshd reads them. The values sshd checks beyond their quoting
// (from=, expiry-time=, environment=, tunnel=...) are accepted as written, which can only make
// a key of a line that sshd skips (or of a key sshd would find expired).
func parseOptions(opts string) (Options, string) {
	o := Options{PortForwarding: true, AgentForwarding: true, X11Forwarding: true, PTY: true, UserRC: true}
	for opts != "" && opts[0] != ' ' && opts[0] != '\t' {
		var r int
		switch {
		case flag("restrict", false, &opts) != -1:
			o.Restrict = true
			o.PortForwarding, o.AgentForwarding, o.X11Forwarding, o.PTY, o.UserRC = false, false, false, false, false
		case func() bool { r = flag("cert-authority", false, &opts); return r != -1 }():
			o.CertAuthority = r == 1
		case func() bool { r = flag("port-forwarding", true, &opts); return r != -1 }():
			o.PortForwarding = r == 1
		case func() bool { r = flag("agent-forwarding", true, &opts); return r != -1 }():
			o.AgentForwarding = r == 1
		case func() bool { r = flag("x11-forwarding", true, &opts); return r != -1 }():
			o.X11Forwarding = r == 1
		case flag("touch-required", true, &opts) != -1:
		case flag("verify-required", true, &opts) != -1:
		case func() bool { r = flag("pty", true, &opts); return r != -1 }():
			o.PTY = r == 1
		case func() bool { r = flag("user-rc", true, &opts); return r != -1 }():
			o.UserRC = r == 1
		case match(&opts, "command"):
			if o.HasCommand {
				return o, `multiple "command" clauses`
			}
			cmd, err := dequote(&opts)
			if err != "" {
				return o, err
			}
			o.Command, o.HasCommand = cmd, true
		case match(&opts, "principals"), match(&opts, "from"), match(&opts, "expiry-time"),
			match(&opts, "environment"), match(&opts, "permitopen"), match(&opts, "permitlisten"),
			match(&opts, "tunnel"):
			if _, err := dequote(&opts); err != "" {
				return o, err
			}
		default:
			return o, "unsupported option"
		}
		if opts == "" || opts[0] == ' ' || opts[0] == '\t' {
			break
		}
		if opts[0] != ',' {
			return o, "unknown key option"
		}
		opts = opts[1:]
		if opts == "" {
			return o, "unexpected end-of-options"
		}
	}
	return o, ""
}

// redirect is the forced command cloud images put on root's keys (cloud-init's disable_root_opts,
// with or without its "exit 142"): it prints "Please login as the user ... rather than the user
// ..." and ends the session.
var redirect = regexp.MustCompile(`^echo 'Please login as the user "[^"'\\]*" rather than the user "[^"'\\]*"\.';echo;sleep [0-9]{1,4}(;exit [0-9]{1,3})?$`)

// LoginRedirect reports whether a key lets nobody in: its forced command is only the login
// redirect, and it forwards no ports (which a forced command does not stop).
func (k Key) LoginRedirect() bool {
	return k.Options.HasCommand && redirect.MatchString(k.Options.Command) && !k.Options.PortForwarding
}

// RedirectOnly reports whether the file holds keys and every one of them only redirects the
// login (such a file lets nobody in; LISA accepts it too).
func (f *File) RedirectOnly() bool {
	for _, k := range f.Keys {
		if !k.LoginRedirect() {
			return false
		}
	}
	return len(f.Keys) > 0
}
