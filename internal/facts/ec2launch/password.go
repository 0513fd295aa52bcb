package ec2launch

// How each EC2 launch agent sets the Windows administrator password at an instance's first boot,
// read from the settings files the agent reads, as the Amazon EC2 User Guide for Windows
// describes them (awsdocs/amazon-ec2-user-guide-windows, doc_source/ec2launch-v2-settings.md,
// ec2launch.md and ec2config-service.md):
//
//   - EC2Launch v2 reads C:\ProgramData\Amazon\EC2Launch\config\agent-config.yml (YAML, or the
//     same document as JSON, which `ec2launch get-agent-config -f json` gives and AWS's example
//     writes back with Out-File -Encoding UTF8, a UTF-8 byte-order mark in Windows PowerShell
//     5.1). Its task setAdminAccount (frequency once, stage preReady only) has inputs.password.type
//     random (EC2Launch generates the password and encrypts it with the launch key pair), static
//     (the clear-text password of inputs.password.data) or doNothing (unattend.xml's password, or
//     the account disabled). Once-tasks are skipped when the state directory holds the .run-once
//     marker ("ec2launch reset", which the docs spell .runonce there, and "ec2launch sysprep"
//     delete it). EC2Launch v2 is a Go program whose source AWS does not publish; the document is
//     read here with gopkg.in/yaml.v3, a port of libyaml like the other Go YAML parsers, with
//     keys matched exactly as Go struct tags match them.
//   - EC2Launch v1's InitializeInstance.ps1 (EC2-Windows\Launch\Scripts, 2016-2019 releases) runs
//     Set-AdminAccount, which follows LaunchConfig.json's adminPasswordType: Random, Specify (the
//     clear-text adminPassword) or DoNothing. PowerShell reads the file with Get-Content (a BOM
//     picks UTF-8 or UTF-16) and ConvertFrom-Json; its property names and -eq comparisons ignore
//     case. A run scheduled per boot (-SchedulePerBoot, so -KeepSchedule) deletes
//     AdminPasswordType to stop setting the password: a file without it sets none.
//   - EC2Config's plug-in Ec2SetPassword in Settings\Config.xml: Enabled generates a random,
//     encrypted password at the next launch; EC2Config disables it after the first launch.
//     Settings\BundleConfig.xml's AutoSysprep and SetPasswordAfterSysprep, which EC2Config's own
//     Sysprep reads, are weighed in unattend.go (WithBundle), with the answer files' passwords.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
)

// The agents' settings files on the system volume.
const (
	V2Config          = "ProgramData/Amazon/EC2Launch/config/agent-config.yml"
	V2StateDir        = "ProgramData/Amazon/EC2Launch/state"
	V1Config          = "ProgramData/Amazon/EC2-Windows/Launch/Config/LaunchConfig.json"
	EC2ConfigSettings = "Program Files/Amazon/Ec2ConfigService/Settings/Config.xml"
)

// V2RunOnce are the spellings of EC2Launch v2's marker that it has run after Sysprep.
var V2RunOnce = []string{".run-once", ".runonce"}

// MaxSettingsFile bounds a settings file read (the agents write a few KiB).
const MaxSettingsFile = 1 << 20

// PasswordKind is what an agent does with the administrator password at first boot.
type PasswordKind int

const (
	// Random: the agent generates a password and encrypts it with the launch key pair.
	Random PasswordKind = iota
	// Fixed: the agent sets a password written in its settings.
	Fixed
	// Kept: the agent sets none: the image's own password (or unattend.xml's) stays.
	Kept
	// Undecided: the settings say something the documents do not decide.
	Undecided
)

// Password is one agent's setting of the administrator password. Setting, Why and Uncertain are
// finished sentences: what they quote of the file is already redacted (see qv).
type Password struct {
	Agent string
	Kind  PasswordKind
	File  string // the settings file (volume path) that decides
	Line  int    // its line, 0 when not one line
	// Setting is the setting as the file has it, never the password itself.
	Setting string
	// Why says what the agent does, in words for the report.
	Why string
	// Length is the number of characters of a clear-text password in the file (-1: none).
	Length int
	// Uncertain: the verdict rests on something not decided offline (how EC2Launch v2's parser
	// reads an encoding or a key AWS spells otherwise).
	Uncertain string
	// More are further settings the verdict rests on (EC2Config's BundleConfig.xml).
	More []Ref
}

// Running are the agents that start at the next boot, as ec2-launch-agent decides it: a
// service that starts at boot with its program on the volume; EC2Launch v1's scripts with its
// enabled scheduled task that has an enabled boot trigger.
func (f Facts) Running() []string {
	var out []string
	if s := f.V2; s != nil && s.StartsAtBoot() && s.Program != "" {
		out = append(out, V2)
	}
	if f.V1Scripts && f.V1Task && f.V1TaskDef.Enabled && f.V1TaskDef.BootTrigger {
		out = append(out, V1)
	}
	if s := f.EC2Config; s != nil && s.StartsAtBoot() && s.Program != "" {
		out = append(out, EC2Config)
	}
	return out
}

// ReadPassword reads how agent sets the password from the system volume t. A settings file that
// could not be read or parsed is an error naming it.
func ReadPassword(t *filesystem.Tree, agent string) (Password, error) {
	file := SettingsFile(agent)
	if file == "" {
		return Password{}, fmt.Errorf("no launch agent %q", agent)
	}
	b, err := t.ReadFile(file, MaxSettingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Password{Agent: agent, Kind: Undecided, File: file, Length: -1,
			Why: fmt.Sprintf("%s has no settings file %s: what it does without one is not documented", agent, winName(file))}, nil
	}
	if err != nil {
		return Password{}, err
	}
	switch agent {
	case V2:
		p, err := ParseAgentConfig(file, b)
		if err != nil || p.Kind != Random {
			return p, err
		}
		for _, m := range V2RunOnce {
			name := V2StateDir + "/" + m
			ok, err := isFile(t, name)
			if err != nil {
				return p, err
			}
			if ok {
				p.Kind, p.File, p.Line = Kept, name, 0
				p.Setting = "EC2Launch v2's marker that it has run after Sysprep (agent-config.yml: " + p.Setting + ")"
				p.Why = fmt.Sprintf("agent-config.yml's setAdminAccount has password type random, but %s is there: EC2Launch v2 "+
					"skips once-tasks, setAdminAccount among them, at the next boot, so the image's own password stays "+
					"(`ec2launch reset` or `ec2launch sysprep` deletes it)", winName(name))
				return p, nil
			}
		}
		return p, nil
	case V1:
		return ParseLaunchConfig(file, b)
	}
	p, err := ParseEC2ConfigSettings(file, b)
	if err != nil {
		return p, err
	}
	bundle, err := ReadBundleConfig(t)
	if err != nil {
		return p, err
	}
	return WithBundle(p, bundle), nil
}

// qv quotes a value taken from a settings file, any credential in it hidden, before it enters a
// sentence (the report gives sentences only the URL redaction).
func qv(s string) string { return strconv.Quote(redact.Text(s)) }

// SettingsFile is the settings file (volume path) that decides agent's password, "" for no agent.
func SettingsFile(agent string) string {
	return map[string]string{V2: V2Config, V1: V1Config, EC2Config: EC2ConfigSettings}[agent]
}

// winName is a volume path as Windows shows it.
func winName(p string) string { return `C:\` + strings.ReplaceAll(p, "/", `\`) }

// settingsError is a settings file that could not be read, at a line when one is known.
func settingsError(file string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		return fmt.Errorf("%s: line %d: %s", winName(file), line, msg)
	}
	return fmt.Errorf("%s: %s", winName(file), msg)
}

// text decodes a settings file by its byte-order mark: UTF-8 (mark dropped), UTF-16LE or
// UTF-16BE (decoded; utf16 is then true). Without a mark the bytes are taken as UTF-8.
func text(b []byte) (s string, utf16 bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return string(b[3:]), false
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return byteio.UTF16(b[2:]), true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		sw := make([]byte, len(b)-2)
		for i := 0; i+1 < len(sw); i += 2 {
			sw[i], sw[i+1] = b[2+i+1], b[2+i]
		}
		return byteio.UTF16(sw), true
	}
	return string(b), false
}

// ParseAgentConfig reads EC2Launch v2's agent-config.yml: the setAdminAccount tasks of stage
// preReady and their password type. A document gopkg.in/yaml.v3 does not load (it refuses
// nesting over 10000 levels itself), or whose config, stage, task or password is not of the
// shape EC2Launch's settings have, is an error naming the file and line.
func ParseAgentConfig(file string, b []byte) (Password, error) {
	p := Password{Agent: V2, File: file, Length: -1}
	if len(b) > MaxSettingsFile {
		return p, settingsError(file, 0, "larger than %d bytes", MaxSettingsFile)
	}
	if !bytes.HasPrefix(b, []byte{0xFF, 0xFE}) && !bytes.HasPrefix(b, []byte{0xFE, 0xFF}) && bytes.IndexByte(b, 0) >= 0 {
		return p, settingsError(file, 0, "NUL bytes without a byte-order mark (UTF-16 written without one?): no YAML parser EC2Launch v2 "+
			"could use loads it, and what EC2Launch does without its configuration is not documented")
	}
	s, utf16 := text(b)
	if utf16 {
		p.Uncertain = "the file is UTF-16 (with a byte-order mark); Go's libyaml ports read it, but AWS documents UTF-8 " +
			"(Out-File -Encoding UTF8) and whether EC2Launch v2's parser reads UTF-16 is not decided offline"
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return p, settingsError(file, 0, "not YAML that EC2Launch v2 can load (%v); what it does without its configuration is not documented", err)
	}
	root := deref(&doc)
	if root == nil || root.Kind == 0 || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		p.Kind, p.Why = Kept, "agent-config.yml is empty: EC2Launch v2 runs no task, so no setAdminAccount sets a password"
		return p, nil
	}
	if root.Kind != yaml.MappingNode {
		return p, settingsError(file, root.Line, "the document is not a mapping (EC2Launch v2's has version and config)")
	}
	var notes []string
	cfg, err := key(file, root, "config", &notes)
	if err != nil {
		return p, err
	}
	type found struct {
		line  int
		stage string
		task  *yaml.Node
	}
	var tasks []found
	if cfg != nil && !(cfg.Kind == yaml.ScalarNode && cfg.Tag == "!!null") {
		if cfg.Kind != yaml.SequenceNode {
			return p, settingsError(file, cfg.Line, "config is not a sequence of stages")
		}
		for _, st := range cfg.Content {
			st = deref(st)
			if st == nil || st.Kind != yaml.MappingNode {
				return p, settingsError(file, lineOf(st), "a stage of config is not a mapping")
			}
			name, err := scalar(file, st, "stage", &notes)
			if err != nil {
				return p, err
			}
			ts, err := key(file, st, "tasks", &notes)
			if err != nil {
				return p, err
			}
			if ts == nil || (ts.Kind == yaml.ScalarNode && ts.Tag == "!!null") {
				continue
			}
			if ts.Kind != yaml.SequenceNode {
				return p, settingsError(file, ts.Line, "tasks of stage %s is not a sequence", qv(name))
			}
			for _, tk := range ts.Content {
				tk = deref(tk)
				if tk == nil || tk.Kind != yaml.MappingNode {
					return p, settingsError(file, lineOf(tk), "a task of stage %s is not a mapping", qv(name))
				}
				tn, err := scalar(file, tk, "task", &notes)
				if err != nil {
					return p, err
				}
				if tn == "setAdminAccount" || strings.EqualFold(tn, "setAdminAccount") {
					if tn != "setAdminAccount" {
						notes = append(notes, fmt.Sprintf("line %d spells the task %s, AWS setAdminAccount", tk.Line, qv(tn)))
					}
					tasks = append(tasks, found{tk.Line, name, tk})
				}
			}
		}
	}
	var pre []found
	var elsewhere []string
	for _, f := range tasks {
		if strings.EqualFold(f.stage, "preReady") {
			if f.stage != "preReady" {
				notes = append(notes, fmt.Sprintf("line %d's stage is %s, AWS spells it preReady", f.line, qv(f.stage)))
			}
			pre = append(pre, f)
		} else {
			elsewhere = append(elsewhere, fmt.Sprintf("line %d, stage %s", f.line, qv(f.stage)))
		}
	}
	if len(pre) == 0 {
		p.Kind = Kept
		p.Why = "agent-config.yml has no setAdminAccount task in stage preReady: EC2Launch v2 sets no password, so the image's own password stays"
		if len(elsewhere) > 0 {
			p.Why += " (setAdminAccount at " + strings.Join(elsewhere, "; ") + ", a stage AWS does not allow it in)"
		}
		p.Uncertain = strings.Join(notes, "; ")
		if len(notes) > 0 {
			p.Kind = Undecided
		}
		return p, nil
	}
	// each setAdminAccount runs; the first one that is not random decides (a later random one
	// would still leave a fixed password set in between, or follow one)
	var verdict *Password
	for _, f := range pre {
		v, err := adminAccountTask(file, f.task, &notes)
		if err != nil {
			return p, err
		}
		v.Agent, v.File = V2, file
		if verdict == nil || (verdict.Kind == Random && v.Kind != Random) || (verdict.Kind == Undecided && (v.Kind == Fixed || v.Kind == Kept)) {
			vv := v
			verdict = &vv
		}
	}
	if len(pre) > 1 {
		verdict.Why += fmt.Sprintf(" (%d setAdminAccount tasks in preReady)", len(pre))
	}
	un := append([]string{}, notes...)
	if p.Uncertain != "" {
		un = append([]string{p.Uncertain}, un...)
	}
	verdict.Uncertain = strings.Join(un, "; ")
	return *verdict, nil
}

// adminAccountTask reads one setAdminAccount task's password.
func adminAccountTask(file string, tk *yaml.Node, notes *[]string) (Password, error) {
	p := Password{Line: tk.Line, Length: -1}
	in, err := key(file, tk, "inputs", notes)
	if err != nil {
		return p, err
	}
	var pw *yaml.Node
	if in != nil && !(in.Kind == yaml.ScalarNode && in.Tag == "!!null") {
		if in.Kind != yaml.MappingNode {
			return p, settingsError(file, in.Line, "setAdminAccount's inputs is not a mapping")
		}
		if pw, err = key(file, in, "password", notes); err != nil {
			return p, err
		}
	}
	if pw == nil || (pw.Kind == yaml.ScalarNode && pw.Tag == "!!null") {
		p.Kind, p.Setting = Undecided, "setAdminAccount without inputs.password"
		p.Why = "agent-config.yml's setAdminAccount (line " + fmt.Sprint(tk.Line) + ") has no password type: AWS documents none for that"
		return p, nil
	}
	if pw.Kind != yaml.MappingNode {
		return p, settingsError(file, pw.Line, "setAdminAccount's inputs.password is not a mapping")
	}
	typ, err := scalar(file, pw, "type", notes)
	if err != nil {
		return p, err
	}
	tn, _, _ := find(pw, "type")
	if tn != nil {
		p.Line = tn.Line
	}
	p.Setting = fmt.Sprintf("setAdminAccount password type %s", qv(typ))
	if typ != "" && typ != "random" && typ != "static" && typ != "doNothing" {
		for _, known := range []string{"random", "static", "doNothing"} {
			if strings.EqualFold(typ, known) {
				*notes = append(*notes, fmt.Sprintf("line %d spells the type %s, AWS %s", p.Line, qv(typ), known))
				typ = known
			}
		}
	}
	switch typ {
	case "random":
		p.Kind, p.Why = Random, "EC2Launch v2's setAdminAccount has password type random: it generates the password at first boot and encrypts it with the launch key pair"
	case "static":
		data, err := scalar(file, pw, "data", notes)
		if err != nil {
			return p, err
		}
		p.Length = utf8.RuneCountInString(data)
		if data == "" {
			p.Kind = Undecided
			p.Why = "setAdminAccount has password type static with no data: AWS says EC2Launch generates a random password when the given one does not meet the system requirements, which is not decided offline"
			return p, nil
		}
		p.Kind = Fixed
		p.Why = fmt.Sprintf("setAdminAccount has password type static: every instance gets the password of %d characters written in clear text in inputs.password.data", p.Length)
	case "doNothing":
		p.Kind = Kept
		p.Why = "setAdminAccount has password type doNothing: EC2Launch v2 sets no password (unattend.xml's, or the account disabled)"
	case "":
		p.Kind = Undecided
		p.Why = "setAdminAccount's inputs.password has no type: AWS documents none for that"
	default:
		p.Kind = Undecided
		p.Why = fmt.Sprintf("setAdminAccount's password type %s is none AWS documents (random, static, doNothing)", qv(typ))
	}
	return p, nil
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// deref follows a document node to its content and an alias to what it names (bounded: an
// alias names an earlier anchor, and yaml.v3 refuses an alias to itself).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 64; i++ {
		switch {
		case n.Kind == yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// find is the value of key k in mapping m: exactly (as a Go struct tag matches), else a key
// that differs from it only in case (folded true); twice is an error (dup is its second line).
func find(m *yaml.Node, k string) (v *yaml.Node, folded bool, dup [2]int) {
	var fold *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := deref(m.Content[i])
		if kn == nil || kn.Kind != yaml.ScalarNode {
			continue
		}
		switch {
		case kn.Value == k:
			if v != nil {
				dup = [2]int{v.Line, kn.Line}
			}
			v = deref(m.Content[i+1])
			if v == nil {
				v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: kn.Line}
			}
		case strings.EqualFold(kn.Value, k) && fold == nil:
			fold = deref(m.Content[i+1])
			if fold == nil {
				fold = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: kn.Line}
			}
		}
	}
	if v == nil && fold != nil {
		return fold, true, dup
	}
	return v, false, dup
}

// key is find, with a twice-given key an error and a case-folded match noted.
func key(file string, m *yaml.Node, k string, notes *[]string) (*yaml.Node, error) {
	v, folded, dup := find(m, k)
	if dup[0] != 0 {
		return nil, settingsError(file, dup[1], "key %s given twice (also line %d): which one EC2Launch v2 takes is not decided", k, dup[0])
	}
	if folded {
		*notes = append(*notes, fmt.Sprintf("line %d spells key %s in other case (a Go YAML struct tag matches it exactly)", v.Line, k))
	}
	return v, nil
}

// scalar is the text of a scalar key ("" when absent or null).
func scalar(file string, m *yaml.Node, k string, notes *[]string) (string, error) {
	v, err := key(file, m, k, notes)
	if err != nil || v == nil || v.Tag == "!!null" {
		return "", err
	}
	if v.Kind != yaml.ScalarNode {
		return "", settingsError(file, v.Line, "%s is not a scalar", k)
	}
	return v.Value, nil
}

// ParseLaunchConfig reads EC2Launch v1's LaunchConfig.json as PowerShell's Get-Content and
// ConvertFrom-Json read it: adminPasswordType and adminPassword, their names in any case.
func ParseLaunchConfig(file string, b []byte) (Password, error) {
	p := Password{Agent: V1, File: file, Length: -1}
	if len(b) > MaxSettingsFile {
		return p, settingsError(file, 0, "larger than %d bytes", MaxSettingsFile)
	}
	s, _ := text(b)
	lineAt := func(off int64) int {
		if off > int64(len(s)) {
			off = int64(len(s))
		}
		return 1 + strings.Count(s[:off], "\n")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	bad := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return settingsError(file, lineAt(se.Offset), "not JSON that ConvertFrom-Json reads: %v (offset %d)", err, se.Offset)
		}
		return settingsError(file, lineAt(dec.InputOffset()), "not JSON that ConvertFrom-Json reads: %v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return p, bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return p, settingsError(file, lineAt(dec.InputOffset()), "not a JSON object")
	}
	type val struct {
		line int
		raw  json.RawMessage
	}
	fields := map[string][]val{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p, bad(err)
		}
		name, _ := tok.(string)
		line := lineAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p, bad(err)
		}
		lk := strings.ToLower(name)
		if lk == "adminpasswordtype" || lk == "adminpassword" {
			fields[lk] = append(fields[lk], val{line, raw})
		}
	}
	if _, err := dec.Token(); err != nil {
		return p, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, settingsError(file, lineAt(dec.InputOffset()), "more after the JSON object")
	}
	get := func(k string) (string, int, bool, error) {
		vs := fields[k]
		if len(vs) == 0 {
			return "", 0, false, nil
		}
		if len(vs) > 1 {
			return "", vs[1].line, false, settingsError(file, vs[1].line, "%s given twice (also line %d): ConvertFrom-Json refuses keys that differ only in case", k, vs[0].line)
		}
		var str *string
		if err := json.Unmarshal(vs[0].raw, &str); err != nil {
			return "", vs[0].line, false, settingsError(file, vs[0].line, "%s is not a string", k)
		}
		if str == nil {
			return "", vs[0].line, false, nil
		}
		return *str, vs[0].line, true, nil
	}
	typ, line, ok, err := get("adminpasswordtype")
	if err != nil {
		return p, err
	}
	p.Line = line
	p.Setting = fmt.Sprintf("adminPasswordType %s", qv(typ))
	switch {
	case !ok:
		p.Kind, p.Setting = Kept, "no adminPasswordType"
		p.Why = "LaunchConfig.json has no adminPasswordType: EC2Launch v1 sets no password (InitializeInstance.ps1 deletes the key to stop setting one), so the image's own password stays"
	case strings.EqualFold(typ, "Random"):
		p.Kind, p.Why = Random, "EC2Launch v1's adminPasswordType is Random: it generates the password at first boot and encrypts it with the launch key pair"
	case strings.EqualFold(typ, "Specify"):
		pw, pline, pok, err := get("adminpassword")
		if err != nil {
			return p, err
		}
		if !pok || pw == "" {
			p.Kind = Undecided
			p.Why = "adminPasswordType is Specify with no adminPassword: AWS says EC2Launch generates a random password when the given one does not meet the system requirements, which is not decided offline"
			return p, nil
		}
		p.Length = utf8.RuneCountInString(pw)
		p.Kind = Fixed
		p.Why = fmt.Sprintf("adminPasswordType is Specify: every instance gets the password of %d characters written in clear text in adminPassword (line %d)", p.Length, pline)
	case strings.EqualFold(typ, "DoNothing"):
		p.Kind = Kept
		p.Why = "adminPasswordType is DoNothing: EC2Launch v1 sets no password (unattend.xml's, or the account disabled)"
	default:
		p.Kind = Undecided
		p.Why = fmt.Sprintf("adminPasswordType %s is none AWS documents (Random, Specify, DoNothing)", qv(typ))
	}
	return p, nil
}

// ParseEC2ConfigSettings reads EC2Config's Config.xml (decoded as xmlDecoder does, as .NET's XML
// reader takes it): the State of plug-in Ec2SetPassword.
func ParseEC2ConfigSettings(file string, b []byte) (Password, error) {
	p := Password{Agent: EC2Config, File: file, Length: -1}
	d, err := xmlDecoder(file, b)
	if err != nil {
		return p, err
	}
	type plugin struct {
		line        int
		name, state string
	}
	var plugins []plugin
	var path []string
	var cur *plugin
	var field string
	var buf strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return p, settingsError(file, line, "not XML that EC2Config reads: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if len(path) > 64 {
				line, _ := d.InputPos()
				return p, settingsError(file, line, "elements nested more than 64 deep")
			}
			switch {
			case len(path) == 3 && path[1] == "Plugins" && t.Name.Local == "Plugin":
				line, _ := d.InputPos()
				cur = &plugin{line: line}
			case cur != nil && len(path) == 4 && (t.Name.Local == "Name" || t.Name.Local == "State"):
				field = t.Name.Local
				buf.Reset()
			}
		case xml.CharData:
			if field != "" && buf.Len() < 4096 {
				buf.Write(t)
			}
		case xml.EndElement:
			if field != "" && len(path) == 4 {
				if field == "Name" {
					cur.name = strings.TrimSpace(buf.String())
				} else {
					cur.state = strings.TrimSpace(buf.String())
				}
				field = ""
			}
			if cur != nil && len(path) == 3 {
				plugins = append(plugins, *cur)
				cur = nil
			}
			path = path[:len(path)-1]
		}
	}
	var set []plugin
	for _, pl := range plugins {
		if strings.EqualFold(pl.name, "Ec2SetPassword") {
			set = append(set, pl)
		}
	}
	switch {
	case len(set) == 0:
		p.Kind, p.Setting = Kept, "no Ec2SetPassword plug-in"
		p.Why = "Config.xml lists no plug-in Ec2SetPassword: EC2Config sets no password, so the image's own password stays"
		return p, nil
	case len(set) > 1:
		return p, settingsError(file, set[1].line, "plug-in Ec2SetPassword listed twice (also line %d): which one EC2Config takes is not decided", set[0].line)
	}
	pl := set[0]
	p.Line = pl.line
	p.Setting = fmt.Sprintf("plug-in Ec2SetPassword State %s", qv(pl.state))
	switch pl.state {
	case "Enabled":
		p.Kind, p.Why = Random, "EC2Config's plug-in Ec2SetPassword is Enabled: it generates a random password at first boot and encrypts it with the launch key pair"
	case "Disabled":
		p.Kind = Kept
		p.Why = "EC2Config's plug-in Ec2SetPassword is Disabled (EC2Config disables it after the first launch): it sets no password, so the image's own password stays"
	default:
		p.Kind = Undecided
		p.Why = fmt.Sprintf("plug-in Ec2SetPassword's State %s is neither Enabled nor Disabled", qv(pl.state))
	}
	return p, nil
}
