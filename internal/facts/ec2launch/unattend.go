package ec2launch

// Passwords that Windows Setup sets from an answer file, and EC2Config's BundleConfig.xml.
//
// Windows Setup reads an answer file when it runs the passes Sysprep left (specialize and
// oobeSystem after `sysprep /generalize /oobe`). Microsoft's "Windows Setup Automation Overview"
// (implicit answer file search order) lists where it looks, first match first: the registry
// value HKLM\System\Setup!UnattendFile, %WINDIR%\Panther\Unattend (Unattend.xml or
// Autounattend.xml), %WINDIR%\Panther (where Setup caches the answer file Sysprep was given with
// /unattend), removable media, %WINDIR%\System32\Sysprep (Unattend.xml) and %SYSTEMDRIVE%
// (Unattend.xml or Autounattend.xml). The launch agents keep their own answer files, which
// their Sysprep passes to sysprep.exe /unattend (and Setup then caches in Panther): EC2Config's
// C:\Program Files\Amazon\Ec2ConfigService\sysprep2008.xml (Amazon EC2 User Guide for Windows,
// doc_source/ami-create-standard.md, "Sysprep actions"), EC2Launch v1's
// C:\ProgramData\Amazon\EC2-Windows\Launch\Sysprep\Unattend.xml and EC2Launch v2's
// C:\ProgramData\Amazon\EC2Launch\sysprep\unattend.xml.
//
// The passwords an answer file gives are Microsoft-Windows-Shell-Setup's
// UserAccounts/AdministratorPassword, UserAccounts/LocalAccounts/LocalAccount/Password and
// AutoLogon/Password, each a Value and a PlainText (Unattended Windows Setup Reference): with
// PlainText false the Value is base64 of the UTF-16LE text of the password followed by the
// element's name ("AdministratorPassword" or "Password"), which Windows SIM writes and Setup
// reverses; an empty Value is a blank password. Setup, once it has applied them, overwrites the
// cached copy's values with *SENSITIVE*DATA*DELETED*, which is therefore no password.
//
// EC2Config's BundleConfig.xml (doc_source/ec2config-service.md, "EC2Config Settings Files", and
// ami-create-standard.md) is read when EC2Config prepares an image: `ec2config.exe -sysprep`
// (Shutdown with Sysprep in Ec2 Service Properties) and, with AutoSysprep Yes, when an instance
// is bundled into an AMI. SetPasswordAfterSysprep Yes (AWS's default) has that Sysprep give the
// new instance a random password encrypted with its key pair; No leaves the password to the
// answer file sysprep2008.xml (clear text there when the Image tab's Specify option wrote it)
// or, without one, to the ScramblePassword.exe step of its specialize pass, a password nobody is
// given. EC2Config itself is a closed .NET program; nothing here models its code.

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// EC2Config's other files on the system volume.
const (
	EC2ConfigBundle = "Program Files/Amazon/Ec2ConfigService/Settings/BundleConfig.xml"
	EC2ConfigAnswer = "Program Files/Amazon/Ec2ConfigService/sysprep2008.xml"
)

// AnswerFiles are the answer files looked for on the system volume: Windows Setup's implicit
// search order (the places on the volume; Autounattend.xml also in Panther, where Setup does not
// look for it but where a password is left in the image all the same), then the agents' own,
// which their Sysprep passes to sysprep.exe.
var AnswerFiles = []string{
	"Windows/Panther/Unattend/Unattend.xml",
	"Windows/Panther/Unattend/Autounattend.xml",
	"Windows/Panther/Unattend.xml",
	"Windows/Panther/Autounattend.xml",
	"Windows/System32/Sysprep/Unattend.xml",
	"Unattend.xml",
	"Autounattend.xml",
	EC2ConfigAnswer,
	"ProgramData/Amazon/EC2-Windows/Launch/Sysprep/Unattend.xml",
	"ProgramData/Amazon/EC2Launch/sysprep/unattend.xml",
}

// Bounds of the XML reader: elements nested deeper, or a value longer, is an error.
const (
	maxXMLDepth = 64
	maxXMLValue = 64 << 10
)

// SensitiveDataDeleted is what Windows Setup leaves in place of a password it has applied.
const SensitiveDataDeleted = "*SENSITIVE*DATA*DELETED*"

// SetupPassword is a password an answer file gives. The password itself is never kept.
type SetupPassword struct {
	File    string // volume path
	Line    int    // the line of its Value
	Setting string // which password: "AdministratorPassword", "LocalAccount x (group y) Password", ...
	// Length is the number of characters of the password; -1 when a hidden one (PlainText
	// false) does not decode as Windows SIM encodes it.
	Length int
	Hidden bool // PlainText false
	// Admin: the Administrator's password (AdministratorPassword, or a local account or autologon
	// account named Administrator or in group Administrators).
	Admin bool
}

// Describe is the password in words for a report: never the password, only its length.
func (s SetupPassword) Describe() string {
	switch {
	case s.Length < 0:
		return fmt.Sprintf("%s: a hidden password (PlainText false) that does not decode as Windows SIM encodes one, in %s line %d", s.Setting, winName(s.File), s.Line)
	case s.Length == 0:
		return fmt.Sprintf("%s: a blank password in %s line %d", s.Setting, winName(s.File), s.Line)
	}
	how := "in clear text"
	if s.Hidden {
		how = "base64-encoded (PlainText false), which anyone can decode"
	}
	return fmt.Sprintf("%s: a password of %d characters %s in %s line %d", s.Setting, s.Length, how, winName(s.File), s.Line)
}

// ReadAnswerFiles reads the passwords of every answer file on the system volume t: pointer is
// HKLM\System\Setup's UnattendFile ("" when unset), tried first. A file that could not be read
// or parsed is an error naming it; the passwords of the others are still returned.
func ReadAnswerFiles(t *filesystem.Tree, pointer string) ([]SetupPassword, error) {
	files := append([]string{}, AnswerFiles...)
	if pointer != "" {
		if p, ok := onSystemVolume(expand(strings.TrimSpace(pointer))); ok {
			files = append([]string{p}, files...)
		}
	}
	var out []SetupPassword
	var errs []error
	seen := map[string]bool{}
	for _, f := range files {
		if seen[strings.ToLower(f)] {
			continue
		}
		seen[strings.ToLower(f)] = true
		b, err := t.ReadFile(f, MaxSettingsFile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", winName(f), err))
			continue
		}
		ps, err := ParseAnswerFile(f, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ps...)
	}
	return out, errors.Join(errs...)
}

// xmlDecoder is a decoder of a settings or answer file: by its byte-order mark UTF-8 or
// UTF-16 (as .NET's and Windows Setup's XML readers take it), and UTF-16 without one when it
// starts with '<' and a NUL (the XML specification's autodetection).
func xmlDecoder(file string, b []byte) (*xml.Decoder, error) {
	if len(b) > MaxSettingsFile {
		return nil, settingsError(file, 0, "larger than %d bytes", MaxSettingsFile)
	}
	switch {
	case len(b) >= 2 && b[0] == '<' && b[1] == 0:
		b = append([]byte{0xFF, 0xFE}, b...)
	case len(b) >= 2 && b[0] == 0 && b[1] == '<':
		b = append([]byte{0xFE, 0xFF}, b...)
	}
	s, _ := text(b)
	d := xml.NewDecoder(strings.NewReader(s))
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-16", "utf-16le", "utf-16be", "utf-8", "us-ascii", "unicode":
			return r, nil
		}
		return nil, fmt.Errorf("encoding %q", charset)
	}
	return d, nil
}

// xmlEvent is an element's start or end, with the local names from the root.
type xmlEvent struct {
	start bool
	path  []string
	attrs []xml.Attr
	line  int
	text  string // at the end of a kept element
}

// xmlWalk calls fn for each element's start and end, and collects the text of the elements keep
// says to keep. It bounds depth and text.
func xmlWalk(file string, d *xml.Decoder, keep func(path []string) bool, fn func(xmlEvent) error) error {
	var path []string
	var texts []*strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			// encoding/xml reports an element left open as a syntax error, not as the end
			return nil
		}
		if err != nil {
			line, _ := d.InputPos()
			return settingsError(file, line, "not XML that Windows reads: %v", err)
		}
		line, _ := d.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) > maxXMLDepth {
				return settingsError(file, line, "elements nested more than %d deep", maxXMLDepth)
			}
			var sb *strings.Builder
			if keep(path) {
				sb = &strings.Builder{}
			}
			texts = append(texts, sb)
			if err := fn(xmlEvent{start: true, path: path, attrs: t.Attr, line: line}); err != nil {
				return err
			}
		case xml.CharData:
			if n := len(texts); n > 0 && texts[n-1] != nil {
				if texts[n-1].Len()+len(t) > maxXMLValue {
					return settingsError(file, line, "a value longer than %d bytes", maxXMLValue)
				}
				texts[n-1].Write(t)
			}
		case xml.EndElement:
			ev := xmlEvent{path: path, line: line}
			if sb := texts[len(texts)-1]; sb != nil {
				ev.text = sb.String()
			}
			if err := fn(ev); err != nil {
				return err
			}
			path, texts = path[:len(path)-1], texts[:len(texts)-1]
		}
	}
}

func last(path []string, names ...string) bool {
	if len(path) < len(names) {
		return false
	}
	for i, n := range names {
		if path[len(path)-len(names)+i] != n {
			return false
		}
	}
	return true
}

// ParseAnswerFile reads the passwords of an answer file (element names matched exactly, as
// Windows Setup's schema has them; namespaces ignored). Values Setup has already replaced by
// *SENSITIVE*DATA*DELETED* are left out.
func ParseAnswerFile(file string, b []byte) ([]SetupPassword, error) {
	d, err := xmlDecoder(file, b)
	if err != nil {
		return nil, err
	}
	// a password element being read, and the local account or autologon it belongs to
	type pw struct {
		elem      string // AdministratorPassword or Password
		line      int
		value     *string
		plainText *string
	}
	type account struct {
		kind        string // LocalAccount or AutoLogon
		name, group string
		pws         []pw
	}
	var out []SetupPassword
	var cur *pw
	var acct *account
	isPasswordElem := func(path []string) bool {
		return last(path, "UserAccounts", "AdministratorPassword") || last(path, "LocalAccount", "Password") || last(path, "AutoLogon", "Password")
	}
	keep := func(path []string) bool {
		if len(path) >= 2 && isPasswordElem(path[:len(path)-1]) {
			return path[len(path)-1] == "Value" || path[len(path)-1] == "PlainText"
		}
		return acct != nil && len(path) >= 2 && (last(path, "LocalAccount", "Name") || last(path, "LocalAccount", "Group") || last(path, "AutoLogon", "Username"))
	}
	finish := func(p pw, setting string, admin bool) {
		if p.value == nil {
			return
		}
		v := *p.value
		if strings.TrimSpace(v) == SensitiveDataDeleted {
			return
		}
		sp := SetupPassword{File: file, Line: p.line, Setting: setting, Admin: admin}
		if p.plainText != nil && strings.EqualFold(strings.TrimSpace(*p.plainText), "false") {
			sp.Hidden = true
			sp.Length = hiddenLength(v, p.elem)
		} else {
			sp.Length = utf8.RuneCountInString(v)
		}
		out = append(out, sp)
	}
	err = xmlWalk(file, d, keep, func(e xmlEvent) error {
		p := e.path
		name := p[len(p)-1]
		switch {
		case e.start && (last(p, "LocalAccounts", "LocalAccount") || name == "AutoLogon"):
			if acct != nil {
				return settingsError(file, e.line, "<%s> inside <%s>", name, acct.kind)
			}
			acct = &account{kind: name}
		case e.start && isPasswordElem(p):
			if cur != nil {
				return settingsError(file, e.line, "<%s> inside <%s>", name, cur.elem)
			}
			cur = &pw{elem: name, line: e.line}
		case !e.start && cur != nil && len(p) >= 2 && isPasswordElem(p[:len(p)-1]) && (name == "Value" || name == "PlainText"):
			t := e.text
			dst := &cur.value
			if name == "PlainText" {
				dst = &cur.plainText
			} else {
				cur.line = e.line - strings.Count(t, "\n")
			}
			if *dst != nil {
				return settingsError(file, e.line, "<%s> of <%s> given twice: which one Windows Setup takes is not decided", name, cur.elem)
			}
			*dst = &t
		case !e.start && isPasswordElem(p) && cur != nil:
			if acct != nil && name == "Password" {
				acct.pws = append(acct.pws, *cur)
			} else if name == "AdministratorPassword" {
				finish(*cur, "UserAccounts/AdministratorPassword", true)
			} else {
				// a Password outside a LocalAccounts list: Setup's schema has none, but it is a
				// password left in the file all the same
				finish(*cur, p[len(p)-2]+"/Password", false)
			}
			cur = nil
		case !e.start && acct != nil && (last(p, "LocalAccount", "Name") || last(p, "AutoLogon", "Username")):
			acct.name = strings.TrimSpace(e.text)
		case !e.start && acct != nil && last(p, "LocalAccount", "Group"):
			acct.group = strings.TrimSpace(e.text)
		case !e.start && acct != nil && name == acct.kind:
			admin := strings.EqualFold(acct.name, "Administrator")
			for _, g := range strings.Split(acct.group, ";") {
				admin = admin || strings.EqualFold(strings.TrimSpace(g), "Administrators")
			}
			setting := fmt.Sprintf("AutoLogon/Password (user %s)", qv(acct.name))
			if acct.kind == "LocalAccount" {
				setting = fmt.Sprintf("LocalAccounts/LocalAccount %s (group %s) Password", qv(acct.name), qv(acct.group))
			}
			for _, pp := range acct.pws {
				finish(pp, setting, admin)
			}
			acct = nil
		}
		return nil
	})
	return out, err
}

// hiddenLength is the number of characters of a hidden password: base64 of UTF-16LE
// password+elem. -1 when it is not that.
func hiddenLength(v, elem string) int {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil || len(raw)%2 != 0 {
		return -1
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	s := string(utf16.Decode(u))
	if !strings.HasSuffix(s, elem) {
		return -1
	}
	return utf8.RuneCountInString(strings.TrimSuffix(s, elem))
}

// BundleSetting is one property of BundleConfig.xml.
type BundleSetting struct {
	Value string
	Line  int
	Found bool
}

// Bundle is EC2Config's BundleConfig.xml.
type Bundle struct {
	File                                 string
	Found                                bool // the file is there
	AutoSysprep, SetPasswordAfterSysprep BundleSetting
}

// ParseBundleConfig reads BundleConfig.xml: BundleConfig/Property elements, each a Name and a
// Value, as AWS's documents and its scripts (Get-Content, $xml.BundleConfig.Property) have it.
// A property given twice is an error.
func ParseBundleConfig(file string, b []byte) (Bundle, error) {
	out := Bundle{File: file, Found: true}
	d, err := xmlDecoder(file, b)
	if err != nil {
		return out, err
	}
	var name, value *string
	var line int
	keep := func(p []string) bool { return len(p) == 3 && p[1] == "Property" && (p[2] == "Name" || p[2] == "Value") }
	err = xmlWalk(file, d, keep, func(e xmlEvent) error {
		p := e.path
		switch {
		case len(p) == 1 && e.start && p[0] != "BundleConfig":
			return settingsError(file, e.line, "the root element is <%s>, not <BundleConfig>", p[0])
		case len(p) == 2 && p[1] == "Property" && e.start:
			name, value, line = nil, nil, e.line
		case len(p) == 3 && p[1] == "Property" && !e.start && (p[2] == "Name" || p[2] == "Value"):
			t := strings.TrimSpace(e.text)
			dst := &name
			if p[2] == "Value" {
				dst = &value
			}
			if *dst != nil {
				return settingsError(file, e.line, "a Property with two <%s>", p[2])
			}
			if p[2] == "Value" {
				line = e.line
			}
			*dst = &t
		case len(p) == 2 && p[1] == "Property" && !e.start && name != nil:
			var s *BundleSetting
			switch *name {
			case "AutoSysprep":
				s = &out.AutoSysprep
			case "SetPasswordAfterSysprep":
				s = &out.SetPasswordAfterSysprep
			default:
				return nil
			}
			if s.Found {
				return settingsError(file, line, "property %s given twice (also line %d): which one EC2Config takes is not decided", *name, s.Line)
			}
			s.Found, s.Line = true, line
			if value != nil {
				s.Value = *value
			}
		}
		return nil
	})
	return out, err
}

// ReadBundleConfig reads BundleConfig.xml from t; Found is false when it is not there.
func ReadBundleConfig(t *filesystem.Tree) (Bundle, error) {
	b, err := t.ReadFile(EC2ConfigBundle, MaxSettingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Bundle{File: EC2ConfigBundle}, nil
	}
	if err != nil {
		return Bundle{File: EC2ConfigBundle}, fmt.Errorf("%s: %w", winName(EC2ConfigBundle), err)
	}
	return ParseBundleConfig(EC2ConfigBundle, b)
}

// WithBundle is EC2Config's password (p, from Config.xml) once BundleConfig.xml is read.
// BundleConfig.xml acts only when EC2Config runs Sysprep: when it has run, what it did is in the
// files on the volume (Config.xml and the answer files), so its settings matter for the next
// Sysprep EC2Config runs itself, the one AutoSysprep Yes has it run when the instance is bundled.
// A value other than Yes or No (another case among them: how EC2Config compares is not
// published) is read both ways, and undecided when the two verdicts differ.
func WithBundle(p Password, b Bundle) Password {
	if !b.Found {
		return p
	}
	spas, auto := b.SetPasswordAfterSysprep, b.AutoSysprep
	note := func(s BundleSetting, name string) Ref {
		v := "no " + name
		if s.Found {
			v = fmt.Sprintf("%s %s", name, qv(s.Value))
		}
		return Ref{File: b.File, Line: s.Line, Setting: v}
	}
	p.More = append(p.More, note(auto, "AutoSysprep"), note(spas, "SetPasswordAfterSysprep"))
	// AWS's defaults: AutoSysprep No, SetPasswordAfterSysprep Yes
	autoWays := readings(auto, false)
	spasWays := readings(spas, true)
	var first *Password
	for _, a := range autoWays {
		for _, sp := range spasWays {
			v := bundleVerdict(p, b, a, sp)
			if first == nil {
				first = &v
			} else if v.Kind != first.Kind {
				p.Kind = Undecided
				p.Why += fmt.Sprintf("; BundleConfig.xml has AutoSysprep %s (line %d) and SetPasswordAfterSysprep %s (line %d): a value "+
					"other than Yes or No, which EC2Config may read either way, and the verdict differs", qv(auto.Value), auto.Line, qv(spas.Value), spas.Line)
				return p
			}
		}
	}
	return *first
}

// readings are the ways EC2Config may read a Yes/No setting: exactly Yes or No, its default
// when the property is not there, both otherwise.
func readings(s BundleSetting, def bool) []bool {
	switch v := strings.TrimSpace(s.Value); {
	case !s.Found:
		return []bool{def}
	case v == "Yes":
		return []bool{true}
	case v == "No":
		return []bool{false}
	}
	return []bool{true, false}
}

// bundleVerdict is WithBundle for one reading of AutoSysprep and SetPasswordAfterSysprep.
func bundleVerdict(p Password, b Bundle, auto, spas bool) Password {
	aLine, sLine := b.AutoSysprep.Line, b.SetPasswordAfterSysprep.Line
	switch {
	case !auto:
		// EC2Config runs no Sysprep of its own when the image is made: Config.xml decides
		if p.Kind == Random && !spas {
			p.Why += fmt.Sprintf(" (BundleConfig.xml's SetPasswordAfterSysprep No, line %d, is read only when EC2Config runs Sysprep, and AutoSysprep is not Yes)", sLine)
		}
	case p.Kind == Random && !spas:
		p.Kind = Undecided
		p.Why = fmt.Sprintf("EC2Config's plug-in Ec2SetPassword is Enabled (a random password at each launch), but BundleConfig.xml has AutoSysprep Yes "+
			"(line %d: EC2Config runs Sysprep when the instance is bundled) with SetPasswordAfterSysprep No (line %d), which AWS documents as the new "+
			"instance not getting a random password: which one wins is not documented", aLine, sLine)
	case p.Kind == Kept && spas:
		p.Kind = Undecided
		p.Why += fmt.Sprintf("; but BundleConfig.xml has AutoSysprep Yes (line %d) and SetPasswordAfterSysprep Yes (AWS's default): when EC2Config "+
			"runs Sysprep as the instance is bundled it gives the new instance a random password, and whether this image is made that way "+
			"(an instance-store bundle) is not known offline", aLine)
	case p.Kind == Kept && !spas:
		p.Why += fmt.Sprintf("; BundleConfig.xml has AutoSysprep Yes with SetPasswordAfterSysprep No (line %d): EC2Config's Sysprep sets no random "+
			"password either, so the customer gets the answer file's (sysprep2008.xml) or, without one, the one ScramblePassword.exe makes, which nobody is given", sLine)
	}
	return p
}

// Ref is a further setting a verdict rests on.
type Ref struct {
	File    string
	Line    int
	Setting string
}
