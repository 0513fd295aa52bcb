package boot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// GRUB, run as GRUB runs its configuration (the GRUB manual, "Shell-like scripting",
// "configfile", "source", "load_env", "search", "menuentry", "submenu", "default"; and
// grub-core/normal/menu.c for how `default` picks an entry). A value that depends on what
// cannot be known offline (a condition on the firmware, a key press, a font) is carried as
// every value it may take: a `default` with several values, or a menu whose entries depend on
// such a condition, is undecided, and then every entry may boot (all are judged).

// Bounds on what a hostile configuration may cost; over one is an error.
const (
	maxGrubDepth  = 8      // configfile/source nesting
	maxGrubCalls  = 32     // function call nesting
	maxGrubSteps  = 200000 // commands run in all
	maxGrubAlts   = 16     // values one word or variable may take
	maxGrubParsed = 64     // distinct files parsed
)

// gdev is a GRUB device: a partition of the image with its filesystem.
type gdev struct {
	name string
	part *partition.Partition
	tree *filesystem.Tree
}

type gfile struct {
	dev  *gdev
	path string // in the device
}

func (f gfile) id() string { return "(" + f.dev.name + ")" + f.path }

// gnode is a parsed command: a simple command, or a compound one with its bodies.
type gnode struct {
	file  string // as reports name it
	line  int
	words []sysconf.GrubWord
	kind  string    // "cmd", "if", "block" (menuentry, submenu, function), "loop"
	conds [][]gnode // if/elif conditions (one command each, may be empty for else)
	arms  [][]gnode // bodies: for if, one per cond (+ else); for block and loop, one
}

// grubRun is one run of GRUB from one configuration the firmware starts.
type grubRun struct {
	v       *view
	devs    []*gdev
	steps   int
	visited map[string]bool // files run (the configurations not to start again)
	parsed  map[string][]gnode
	data    map[string][]byte // files read, by device and path
	files   []string
	calls   int
}

// vals is the values a variable or word may take: one when known, several when it depends
// on what cannot be known offline.
type vals []string

func one(s string) vals { return vals{s} }

func (a vals) add(b vals) vals {
	out := append(vals{}, a...)
	for _, s := range b {
		found := false
		for _, t := range out {
			if t == s {
				found = true
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

type gscope struct {
	vars     map[string]vals
	exported map[string]bool
	funcs    map[string]*gnode
	args     []string
	menu     *gmenu
	// maybe > 0: running a loop body that may run any number of times (assignments add
	// values); branch > 0: running an arm of a condition not known offline (menu entries
	// defined there may or may not exist)
	maybe, branch int
	// done: a configfile showed its own menu; the rest of the caller does not run
	done *gmenu
	// stack: the files being run, outermost first (a file that reaches itself is a loop)
	stack []string
}

type gmenu struct {
	entries []*gentry
	// undecided says why the menu's entries are not known for sure ("" when they are)
	undecided string
}

type gentry struct {
	title, id string
	file      string
	line      int
	node      *gnode
	submenu   bool
	maybe     bool
	args      []string
}

func (s *gscope) get(name string) vals {
	if n, err := strconv.Atoi(name); err == nil {
		if n == 0 {
			return one("")
		}
		if n <= len(s.args) {
			return one(s.args[n-1])
		}
		return one("")
	}
	switch name {
	case "#":
		return one(strconv.Itoa(len(s.args)))
	case "@", "*":
		return one(strings.Join(s.args, " "))
	case "?":
		return vals{"0", "1"} // the last command's status: not known offline
	}
	if v, ok := s.vars[name]; ok {
		return v
	}
	return one("")
}

func (s *gscope) set(name string, v vals) {
	if s.maybe > 0 {
		v = s.get(name).add(v)
	}
	if len(v) > maxGrubAlts {
		v = v[:maxGrubAlts]
	}
	s.vars[name] = v
	delete(s.vars, missedKey(name))
}

// missedKey is the scope's note that the search meant to set name found nothing on this disk
// (a key no GRUB variable name can be); an assignment clears it.
func missedKey(name string) string { return "\x00search missed " + name }

func (s *gscope) child(copyAll bool) *gscope {
	c := &gscope{vars: map[string]vals{}, exported: map[string]bool{}, funcs: map[string]*gnode{}}
	for k, v := range s.vars {
		if copyAll || s.exported[k] {
			c.vars[k] = v
		}
	}
	for k := range s.exported {
		c.exported[k] = true
	}
	for k, f := range s.funcs {
		c.funcs[k] = f
	}
	c.stack = s.stack
	return c
}

// expand gives every value a word may take; unquoted empty values vanish as arguments
// (callers drop empty words where GRUB would).
func (s *gscope) expand(w sysconf.GrubWord) (vals, error) {
	if w.Brace != 0 {
		return one(string(w.Brace)), nil
	}
	out := vals{""}
	for _, p := range w.Pieces {
		var alts vals
		if p.Var {
			alts = s.get(p.Text)
		} else {
			alts = one(p.Text)
		}
		var next vals
		for _, a := range out {
			for _, b := range alts {
				next = next.add(one(a + b))
			}
		}
		if len(next) > maxGrubAlts {
			return nil, fmt.Errorf("a word takes more than %d values", maxGrubAlts)
		}
		out = next
	}
	return out, nil
}

// expandAll expands a command's words into every argument list it may take.
func (s *gscope) expandAll(ws []sysconf.GrubWord) ([][]string, error) {
	out := [][]string{{}}
	for _, w := range ws {
		alts, err := s.expand(w)
		if err != nil {
			return nil, err
		}
		var next [][]string
		for _, l := range out {
			for _, a := range alts {
				n := append(append([]string{}, l...), a)
				if a == "" && !quoted(w) {
					n = n[:len(n)-1] // an unquoted empty expansion is no argument
				}
				next = append(next, n)
			}
		}
		if len(next) > maxGrubAlts {
			return nil, fmt.Errorf("a command takes more than %d forms", maxGrubAlts)
		}
		out = next
	}
	return out, nil
}

// quoted says a word is not only variables (literal text, possibly empty quotes, keeps it).
func quoted(w sysconf.GrubWord) bool {
	for _, p := range w.Pieces {
		if !p.Var {
			return true
		}
	}
	return len(w.Pieces) == 0
}

// literal is a word's text when it holds no variable.
func literal(w sysconf.GrubWord) (string, bool) {
	if w.Brace != 0 {
		return string(w.Brace), true
	}
	var b strings.Builder
	for _, p := range w.Pieces {
		if p.Var {
			return "", false
		}
		b.WriteString(p.Text)
	}
	return b.String(), true
}

// keyword is a word's text when it is an unquoted literal (what GRUB's lexer can take for a
// reserved word).
func keyword(w sysconf.GrubWord) string {
	if w.Quoted {
		return ""
	}
	s, _ := literal(w)
	return s
}

// parseGrub turns a script into nodes: simple commands, if/elif/else/fi, for/while/until ...
// done, and menuentry, submenu and function blocks in braces, with the grammar GRUB's parser
// (grub-core/script/parser.y) enforces and grub-script-check reports: a block, an arm or a loop
// body holds at least one command; a function is defined only at the top level, named by one
// plain word, and its closing brace starts a command; nothing but a delimiter after a closing
// brace; [[, ]], case,
// esac, in and select are reserved; for takes NAME in WORDS. TestGrubScriptMatchesGrubScriptCheck
// holds it to grub-script-check.
func parseGrub(file string, data []byte) ([]gnode, error) {
	cmds, err := sysconf.GrubCommands(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// split commands at braces and after the keywords that start a new command
	type tok struct {
		line  int
		words []sysconf.GrubWord
		// first: the token starts its command; wordAfter: a word (not a brace) follows it in
		// the same command
		first, wordAfter bool
	}
	var toks []tok
	for _, c := range cmds {
		cur := []sysconf.GrubWord{}
		first := true
		flush := func() {
			if len(cur) > 0 {
				toks = append(toks, tok{line: c.Line, words: cur, first: first})
				first = false
			}
			cur = []sysconf.GrubWord{}
		}
		for i, w := range c.Parts {
			switch {
			case w.Brace == '{':
				cur = append(cur, w)
				flush()
			case w.Brace == '}':
				flush()
				cur = append(cur, w)
				flush()
				if i+1 < len(c.Parts) && c.Parts[i+1].Brace == 0 {
					toks[len(toks)-1].wordAfter = true
				}
			case len(cur) == 0:
				if kw := keyword(w); kw == "then" || kw == "else" || kw == "do" {
					cur = append(cur, w)
					flush()
					continue
				}
				cur = append(cur, w)
			default:
				cur = append(cur, w)
			}
		}
		flush()
	}
	for _, t := range toks {
		for _, w := range t.words {
			if kw := keyword(w); kw == "[[" || kw == "]]" {
				return nil, fmt.Errorf("%s: line %d: %s is reserved", file, t.line, kw)
			}
		}
	}
	pos := 0
	word0 := func(t tok) string { return keyword(t.words[0]) }
	syntax := func(line int, format string, a ...any) error {
		return fmt.Errorf("%s: line %d: %s", file, line, fmt.Sprintf(format, a...))
	}
	// in: "" at the top level, else the innermost block kind (menuentry, function, if, loop)
	var body func(in []string, stop ...string) ([]gnode, string, error)
	body = func(in []string, stop ...string) ([]gnode, string, error) {
		var out []gnode
		for pos < len(toks) {
			t := toks[pos]
			w0 := word0(t)
			for _, s := range stop {
				if w0 == s {
					if len(out) == 0 {
						return nil, "", syntax(t.line, "%s with no command before it", s)
					}
					pos++
					return out, s, nil
				}
			}
			pos++
			n := gnode{file: file, line: t.line, words: t.words, kind: "cmd"}
			last := t.words[len(t.words)-1]
			switch {
			case w0 == "if":
				n.kind = "if"
				cond := t.words[1:]
				for {
					if pos >= len(toks) || word0(toks[pos]) != "then" {
						return nil, "", syntax(t.line, "if without then")
					}
					pos++
					n.conds = append(n.conds, []gnode{{file: file, line: t.line, words: cond, kind: "cmd"}})
					arm, end, err := body(append(in, "if"), "elif", "else", "fi")
					if err != nil {
						return nil, "", err
					}
					n.arms = append(n.arms, arm)
					if end == "fi" {
						break
					}
					if end == "else" {
						arm, _, err := body(append(in, "if"), "fi")
						if err != nil {
							return nil, "", err
						}
						n.conds = append(n.conds, nil)
						n.arms = append(n.arms, arm)
						break
					}
					cond = toks[pos-1].words[1:]
				}
			case w0 == "for" || w0 == "while" || w0 == "until":
				n.kind = "loop"
				if w0 == "for" && (len(t.words) < 3 || !validVarName(keyword(t.words[1])) || keyword(t.words[2]) != "in") {
					return nil, "", syntax(t.line, "for without NAME in")
				}
				if pos >= len(toks) || word0(toks[pos]) != "do" {
					return nil, "", syntax(t.line, "%s without do", w0)
				}
				pos++
				arm, _, err := body(append(in, "loop"), "done")
				if err != nil {
					return nil, "", err
				}
				n.arms = [][]gnode{arm}
			case last.Brace == '{':
				switch {
				case w0 != "menuentry" && w0 != "submenu" && w0 != "function":
					return nil, "", syntax(t.line, "a block opened by %q", w0)
				case w0 == "function" && len(in) > 0:
					return nil, "", syntax(t.line, "a function defined inside a block")
				case w0 == "function" && (len(t.words) != 3 || t.words[1].Quoted || !validVarName(keyword(t.words[1]))):
					return nil, "", syntax(t.line, "function takes one plain name")
				}
				kind := "menuentry"
				if w0 == "function" {
					kind = "function"
				}
				n.kind = "block"
				n.words = t.words[:len(t.words)-1]
				arm, end, err := body(append(in, kind), "}")
				if err != nil {
					return nil, "", err
				}
				if end != "}" {
					return nil, "", syntax(t.line, "%s without its closing brace", w0)
				}
				closing := toks[pos-1]
				if w0 == "function" && !closing.first {
					return nil, "", syntax(closing.line, "a function's closing brace must start a command")
				}
				if closing.wordAfter {
					return nil, "", syntax(closing.line, "words after a closing brace")
				}
				n.arms = [][]gnode{arm}
			case last.Brace == '}' || w0 == "fi" || w0 == "done" || w0 == "then" || w0 == "do" || w0 == "elif" || w0 == "else" ||
				w0 == "case" || w0 == "esac" || w0 == "in" || w0 == "select":
				return nil, "", syntax(t.line, "unexpected %q", w0)
			}
			out = append(out, n)
		}
		if len(stop) > 0 {
			return nil, "", fmt.Errorf("%s: end of file before %s", file, strings.Join(stop, " or "))
		}
		return out, "", nil
	}
	nodes, _, err := body(nil)
	return nodes, err
}

// gresult is what one run offers: the Linux entries of its menus and the default.
type gresult struct {
	entries  []Entry
	decision string
}

// grubChain is GRUB's side of the chain.
type grubChain struct {
	entries   []Entry
	decisions []string
	files     []string
}

// devices names the image's partitions as GRUB does: (hd0,gptN), (hd0,msdosN), or (hd0) for
// a filesystem on the whole disk.
func (v *view) devices() []*gdev {
	var out []*gdev
	if v.img.Table == nil {
		return nil
	}
	for _, p := range v.img.Table.Partitions {
		t := v.img.PartitionTree(p)
		if t == nil {
			continue
		}
		name := "hd0"
		switch {
		case p.Number == 0:
		case p.Table == "gpt":
			name = fmt.Sprintf("hd0,gpt%d", p.Number)
		default:
			name = fmt.Sprintf("hd0,msdos%d", p.Number)
		}
		out = append(out, &gdev{name: name, part: p, tree: t})
	}
	return out
}

func (r *grubRun) dev(name string) *gdev {
	for _, d := range r.devs {
		if d.name == name {
			return d
		}
	}
	// (hd0,N) without the table's name
	if i := strings.IndexByte(name, ','); i >= 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			for _, d := range r.devs {
				if d.part.Number == n {
					return d
				}
			}
		}
	}
	return nil
}

func (r *grubRun) devOf(p *partition.Partition) *gdev {
	for _, d := range r.devs {
		if d.part == p {
			return d
		}
	}
	return nil
}

// resolve turns a GRUB file name ("(dev)/p" or "/p" on $root) into a file; ok is false when
// it names no device of the image.
func (r *grubRun) resolve(s *gscope, name string) (gfile, bool) {
	devName := ""
	if strings.HasPrefix(name, "(") {
		i := strings.IndexByte(name, ')')
		if i < 0 {
			return gfile{}, false
		}
		devName, name = name[1:i], name[i+1:]
	} else {
		roots := s.get("root")
		if len(roots) != 1 {
			return gfile{}, false
		}
		devName = roots[0]
	}
	d := r.dev(devName)
	if d == nil {
		return gfile{}, false
	}
	return gfile{dev: d, path: path.Clean("/" + name)}, true
}

func (r *grubRun) name(f gfile) string { return r.v.name(f.dev.part, f.path) }

// tree returns the tree to read a device's file through, and the path there: the root's view
// when the running system shows the file at that path (its directories are read once for the
// rules too), else the partition alone (a file a mount point hides, an unmounted partition).
func (r *grubRun) tree(f gfile) (*filesystem.Tree, string) {
	v := r.v
	at := ""
	switch {
	case v.root == nil:
	case f.dev.part == v.rootPart:
		at = "/"
	default:
		for _, m := range v.mounts {
			if m.Partition == f.dev.part {
				at = m.Path
				break
			}
		}
	}
	if at != "" {
		full := path.Join(at, f.path)
		if part, in := v.locate(full); part == f.dev.part && in == f.path {
			return v.root, rel(full)
		}
	}
	return f.dev.tree, rel(f.path)
}

// readFile reads a file of a device; (nil, nil) when it does not exist.
func (r *grubRun) readFile(f gfile) ([]byte, error) {
	if b, ok := r.data[f.id()]; ok {
		return b, nil
	}
	t, p := r.tree(f)
	b, err := t.ReadFile(p, maxConfigRead)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name(f), err)
	}
	r.data[f.id()] = b
	return b, nil
}

// stat stats a file of a device; (nil, nil) when it does not exist.
func (r *grubRun) stat(f gfile) (fs.FileInfo, error) {
	t, p := r.tree(f)
	fi, err := t.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

func (r *grubRun) exists(f gfile) bool {
	fi, err := r.stat(f)
	return err == nil && fi != nil
}

// runGRUB runs every GRUB configuration the firmware or the boot sector may start: each ESP's
// /EFI/*/grub.cfg, then /boot/grub/grub.cfg and /boot/grub2/grub.cfg of the root's view (the
// BIOS core image's usual prefixes), each unless another already reached it by configfile or
// source.
func (v *view) runGRUB() (*grubChain, error) {
	r := &grubRun{v: v, devs: v.devices(), visited: map[string]bool{}, parsed: map[string][]gnode{}, data: map[string][]byte{}}
	gc := &grubChain{}
	var starts []gfile
	for _, b := range v.boot {
		if b.Role != inspect.RoleESP || !FirmwareReads(b) {
			continue // the firmware starts no grubx64.efi from an ESP it cannot read
		}
		d := r.devOf(b.Partition)
		if d == nil {
			continue
		}
		files, err := globFold(b, "/EFI/*/grub.cfg")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			starts = append(starts, gfile{dev: d, path: f})
		}
	}
	for _, p := range []string{"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"} {
		part, in := v.locate(p)
		if part == nil {
			continue
		}
		d := r.devOf(part)
		if d == nil {
			continue
		}
		starts = append(starts, gfile{dev: d, path: in})
	}
	for _, f := range starts {
		if r.visited[f.id()] {
			continue
		}
		data, err := r.readFile(f)
		if err != nil {
			return nil, err
		}
		if data == nil {
			continue
		}
		res, err := r.start(f)
		if err != nil {
			return nil, err
		}
		gc.entries = append(gc.entries, res.entries...)
		if res.decision != "" {
			gc.decisions = append(gc.decisions, res.decision)
		}
	}
	gc.files = r.files
	return gc, nil
}

// FirmwareReads says whether UEFI firmware reads the boot partition's filesystem: the UEFI
// specification (its "File System Format" section) has firmware read FAT12/16/32 on the EFI
// system partition, and OVMF and edk2's FatPkg read nothing else without a driver that
// itself would have to be on FAT. So an ESP holding ext4 (or any other filesystem this checker
// identifies) starts nothing by UEFI, neither GRUB's EFI image nor systemd-boot, and the
// configurations on it are not the booted ones (bootmode's NotFAT says the same of the
// loaders). A partition whose kind was not probed is taken as read.
func FirmwareReads(b inspect.BootPartition) bool {
	k := b.Partition.Kind
	return k == partition.KindVFAT || !k.IsFilesystem()
}

// initialScope is GRUB's environment when it reads its first configuration: root and prefix
// name where that file is; the features grub-mkconfig tests for are there; the platform is
// EFI or BIOS (not known offline).
func initialScope(f gfile) *gscope {
	s := &gscope{vars: map[string]vals{}, exported: map[string]bool{"root": true, "prefix": true}, funcs: map[string]*gnode{}, menu: &gmenu{}}
	s.vars["root"] = one(f.dev.name)
	s.vars["prefix"] = one("(" + f.dev.name + ")" + path.Dir(f.path))
	for _, k := range []string{"feature_menuentry_id", "feature_default_font_path", "feature_all_video_module", "feature_timeout_style", "feature_200_final", "feature_nativedisk_cmd"} {
		s.vars[k] = one("y")
	}
	s.vars["grub_platform"] = vals{"efi", "pc"}
	s.vars["grub_cpu"] = vals{"x86_64", "i386"}
	return s
}

// start runs one configuration and decides its default entry.
func (r *grubRun) start(f gfile) (*gresult, error) {
	s := initialScope(f)
	if err := r.runFile(s, f, 0, nil); err != nil {
		return nil, err
	}
	menu := s.menu
	if s.done != nil {
		menu = s.done
	}
	res := &gresult{}
	entries, err := r.entriesOf(menu, s, "")
	if err != nil {
		return nil, err
	}
	def, why := r.chooseDefault(menu, s)
	if def == nil {
		for i := range entries {
			entries[i].Booted = true
		}
		if len(entries) > 0 {
			res.decision = r.name(f) + ": GRUB's default entry is not decided offline (" + why + "): every entry is judged"
		}
		res.entries = entries
		return res, nil
	}
	found := false
	for i := range entries {
		if entries[i].Title == def.path {
			entries[i].Booted, found = true, true
		} else {
			entries[i].Note = "not GRUB's default entry (not judged)"
		}
	}
	if !found {
		// the default boots no Linux kernel GRUB's script shows: judge every entry
		for i := range entries {
			entries[i].Booted, entries[i].Note = true, ""
		}
		res.decision = r.name(f) + ": GRUB's default entry " + strconv.Quote(def.path) + " boots no Linux kernel read here: every entry is judged"
	} else {
		res.decision = r.name(f) + ": GRUB boots " + strconv.Quote(def.path) + " (" + why + ")"
		if fb := fallback(menu, s, entries, def.path); fb != "" {
			res.decision = r.name(f) + ": " + fb
		}
	}
	res.entries = entries
	return res, nil
}

// bootable says whether an entry titled title can boot: one of its forms loads a kernel that
// exists (or whose device is not known offline).
func bootable(entries []Entry, title string) bool {
	for _, e := range entries {
		if e.Title == title && !e.KernelMissing {
			return true
		}
	}
	return false
}

// fallback is what GRUB does when its default entry def cannot boot because its kernel is
// missing (2.06, menu.c grub_menu_execute_with_fallback): the linux command fails, nothing is
// loaded, the entry returns, and GRUB tries the entries `fallback` names in turn, a
// space-separated list of top-level entry numbers (get_and_remove_first_entry_number: a word
// that is not a number ends the list; no titles in 2.06); the first that loads its kernel
// boots. That entry is then the booted one and the default is not; when none boots (or the
// fallback is not decided offline) the default stays the booted entry, so that the rules judge
// its missing kernel. A fallback that is a submenu shows that submenu: every entry in it is
// judged. It returns the decision, "" when the default boots.
func fallback(menu *gmenu, s *gscope, entries []Entry, def string) string {
	if bootable(entries, def) {
		return ""
	}
	missing := ""
	for _, e := range entries {
		if e.Title == def && e.KernelFile != "" {
			missing = e.KernelFile
			break
		}
	}
	head := "GRUB's default entry " + strconv.Quote(def) + " cannot boot (its kernel " + missing + " does not exist)"
	if _, set := s.vars["fallback"]; !set {
		return head + " and no fallback is set: the default entry is judged, and nothing boots"
	}
	fbs := s.get("fallback")
	if len(fbs) != 1 {
		return head + fmt.Sprintf("; fallback may be any of %q: the default entry is judged", []string(fbs))
	}
	rest := fbs[0]
	for {
		n, after, ok := strtoul(strings.TrimLeft(rest, " \t\n\r\v\f"))
		if !ok {
			break
		}
		rest = after
		for i, e := range menu.entries {
			if e.maybe && i <= n {
				return head + "; fallback entry " + strconv.Itoa(n) + " depends on an entry defined under a condition not known offline: the default entry is judged"
			}
		}
		if n >= len(menu.entries) {
			continue // no such entry: nothing boots from it
		}
		e := menu.entries[n]
		if e.submenu {
			for i := range entries {
				in := strings.HasPrefix(entries[i].Title, e.title+">")
				entries[i].Booted = in
				if !in {
					entries[i].Note = "not the entries of GRUB's fallback submenu (not judged)"
				}
			}
			return head + "; GRUB falls back to entry " + strconv.Itoa(n) + ", the submenu " + strconv.Quote(e.title) + ": every entry in it is judged"
		}
		if !bootable(entries, e.title) {
			continue
		}
		for i := range entries {
			switch entries[i].Title {
			case e.title:
				entries[i].Booted, entries[i].Note = true, ""
			case def:
				entries[i].Booted, entries[i].Note = false, "GRUB's default entry, whose kernel does not exist: GRUB falls back to entry "+strconv.Itoa(n)
			default:
				entries[i].Booted = false
			}
		}
		return head + "; GRUB falls back to entry " + strconv.Itoa(n) + " " + strconv.Quote(e.title)
	}
	return head + " and no fallback entry boots: the default entry is judged, and nothing boots"
}

type chosen struct {
	path string
}

// menuEq is menu.c's menuentry_eq: an entry's title or id equals a spec up to its first '>'
// (">>" is a literal '>').
func menuEq(title, spec string) (rest string, ok bool) {
	var b strings.Builder
	i := 0
	for i < len(spec) {
		if spec[i] == '>' {
			if i+1 < len(spec) && spec[i+1] == '>' {
				b.WriteByte('>')
				i += 2
				continue
			}
			break
		}
		b.WriteByte(spec[i])
		i++
	}
	rest = ""
	if i < len(spec) {
		rest = spec[i+1:]
	}
	return rest, b.String() == title
}

// strtoul is grub_strtoul's reading of a leading number (base 0: 0x hex, 0 octal); ok is false
// when no digit starts s.
func strtoul(s string) (n int, rest string, ok bool) {
	base, i := 10, 0
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, i = 16, 2
	} else if strings.HasPrefix(s, "0") && len(s) > 1 {
		base, i = 8, 1
	}
	start := i
	for i < len(s) {
		d := -1
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		}
		if d < 0 || d >= base {
			break
		}
		if n < 1<<30 {
			n = n*base + d
		}
		i++
	}
	if i == start {
		if base == 8 {
			return 0, s[1:], true // "0" followed by a non-octal digit
		}
		return 0, s, false
	}
	return n, s[i:], true
}

// chooseDefault decides the entry GRUB boots from menu (menu.c: get_entry_number; an index
// or a title or id, a '>' path into submenus; an invalid or missing default is entry 0).
func (r *grubRun) chooseDefault(menu *gmenu, s *gscope) (*chosen, string) {
	defs := s.get("default")
	if len(defs) != 1 {
		return nil, fmt.Sprintf("default may be any of %q", []string(defs))
	}
	spec := defs[0]
	how := "default=" + strconv.Quote(spec)
	if _, ok := s.vars["default"]; !ok {
		how = "no default: the first entry"
	}
	titles := ""
	for depth := 0; depth < 16; depth++ {
		if menu.undecided != "" {
			return nil, menu.undecided
		}
		if len(menu.entries) == 0 {
			return nil, "the menu is empty"
		}
		// an entry defined under a condition not known offline may be absent: it matters when
		// it could be the one chosen or could move the one chosen
		maybe := func(e *gentry) string {
			return "entry " + strconv.Quote(e.title) + " is defined under a condition not known offline"
		}
		idx := -1
		rest := ""
		if n, after, ok := strtoul(spec); ok {
			idx = n
			if i := strings.IndexByte(after, '>'); i >= 0 {
				rest = after[i+1:]
			}
			for i, e := range menu.entries {
				if e.maybe && i <= idx {
					return nil, maybe(e)
				}
			}
		} else {
			for i, e := range menu.entries {
				rr, ok := menuEq(e.title, spec)
				if !ok && e.id != "" {
					rr, ok = menuEq(e.id, spec)
				}
				if !ok {
					continue
				}
				if e.maybe {
					return nil, maybe(e)
				}
				idx, rest = i, rr
				break
			}
			if idx < 0 && len(menu.entries) > 0 && menu.entries[0].maybe {
				return nil, maybe(menu.entries[0]) // no entry matches: entry 0 boots, if it is there
			}
		}
		if idx < 0 || idx >= len(menu.entries) {
			idx = 0
		}
		e := menu.entries[idx]
		if titles != "" {
			titles += ">"
		}
		titles += e.title
		if !e.submenu {
			return &chosen{path: titles}, how
		}
		sub, err := r.submenu(e, s)
		if err != nil {
			return nil, err.Error()
		}
		menu, spec = sub, rest
	}
	return nil, "submenus nested too deep"
}

// submenu runs a submenu's body into its own menu.
func (r *grubRun) submenu(e *gentry, s *gscope) (*gmenu, error) {
	c := s.child(true)
	c.menu = &gmenu{}
	c.args = e.args
	if err := r.run(c, e.node.arms[0], 0); err != nil {
		return nil, err
	}
	return c.menu, nil
}

// entriesOf runs each entry of a menu as GRUB runs it when chosen (with the environment the
// configuration left) and returns its Linux command lines; submenus are entered.
func (r *grubRun) entriesOf(menu *gmenu, s *gscope, prefix string) ([]Entry, error) {
	var out []Entry
	for _, e := range menu.entries {
		title := e.title
		if prefix != "" {
			title = prefix + ">" + e.title
		}
		if e.submenu {
			sub, err := r.submenu(e, s)
			if err != nil {
				return nil, err
			}
			more, err := r.entriesOf(sub, s, title)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
			continue
		}
		c := s.child(true)
		c.menu = &gmenu{}
		c.args = e.args
		linux := &[]Entry{}
		if err := r.runEntry(c, e.node.arms[0], linux, 0); err != nil {
			return nil, err
		}
		for _, l := range *linux {
			l.Title = title
			out = append(out, l)
		}
	}
	return out, nil
}

// runEntry runs an entry's body, collecting its linux commands (with every form their
// variables may give them) and initrd commands.
func (r *grubRun) runEntry(s *gscope, nodes []gnode, out *[]Entry, depth int) error {
	return r.exec(s, nodes, depth, out)
}

// runFile runs a configuration file in scope s.
func (r *grubRun) runFile(s *gscope, f gfile, depth int, stack []string) error {
	if depth > maxGrubDepth {
		return fmt.Errorf("%s: configfile/source nested more than %d deep", r.name(f), maxGrubDepth)
	}
	for _, id := range stack {
		if id == f.id() {
			return fmt.Errorf("%s: configfile/source loop (%s)", r.name(f), strings.Join(append(stack, f.id()), " -> "))
		}
	}
	r.visited[f.id()] = true
	nodes, ok := r.parsed[f.id()]
	if !ok {
		if len(r.parsed) >= maxGrubParsed {
			return fmt.Errorf("%s: more than %d GRUB scripts reached", r.name(f), maxGrubParsed)
		}
		data, err := r.readFile(f)
		if err != nil {
			return err
		}
		nodes, err = parseGrub(r.name(f), data)
		if err != nil {
			return err
		}
		r.parsed[f.id()] = nodes
		r.files = append(r.files, r.name(f))
	}
	s.stack = append(stack, f.id())
	defer func() { s.stack = stack }()
	return r.exec(s, nodes, depth, nil)
}

func (r *grubRun) run(s *gscope, nodes []gnode, depth int) error { return r.exec(s, nodes, depth, nil) }

// exec runs nodes; entry collects linux commands when running a menu entry's body.
func (r *grubRun) exec(s *gscope, nodes []gnode, depth int, entry *[]Entry) error {
	for i := range nodes {
		if s.done != nil {
			return nil
		}
		n := &nodes[i]
		r.steps++
		if r.steps > maxGrubSteps {
			return fmt.Errorf("%s: line %d: more than %d GRUB commands run", n.file, n.line, maxGrubSteps)
		}
		switch n.kind {
		case "if":
			if err := r.execIf(s, n, depth, entry); err != nil {
				return err
			}
		case "loop":
			s.maybe++
			err := r.exec(s, n.arms[0], depth, entry)
			s.maybe--
			if err != nil {
				return err
			}
		case "block":
			if err := r.block(s, n); err != nil {
				return err
			}
		default:
			if err := r.command(s, n, depth, entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// execIf runs an if/elif/else chain. An arm whose condition is true runs as it is, unless a
// condition before it was not known offline; then each arm that may run runs on its own copy
// of the variables (and the path where none runs, unless an arm surely does), and each
// variable takes every value the paths leave it.
func (r *grubRun) execIf(s *gscope, n *gnode, depth int, entry *[]Entry) error {
	base := copyVars(s.vars)
	var paths []map[string]vals
	unknown, covered := false, false
	for k := range n.arms {
		truth := 1 // an else arm
		if n.conds[k] != nil {
			t, err := r.cond(s, n.conds[k][0])
			if err != nil {
				return err
			}
			truth = t
		}
		if truth == -1 {
			continue
		}
		if truth == 1 && !unknown {
			return r.exec(s, n.arms[k], depth, entry)
		}
		s.vars = copyVars(base)
		s.branch++
		err := r.exec(s, n.arms[k], depth, entry)
		s.branch--
		if err != nil {
			return err
		}
		paths = append(paths, s.vars)
		if truth == 1 {
			covered = true
			break
		}
		unknown = true
	}
	if !covered {
		paths = append(paths, base)
	}
	merged := map[string]vals{}
	for _, p := range paths {
		for k := range p {
			merged[k] = nil
		}
	}
	for k := range merged {
		var v vals
		for _, p := range paths {
			if pv, ok := p[k]; ok {
				v = v.add(pv)
			} else {
				v = v.add(one(""))
			}
		}
		if len(v) > maxGrubAlts {
			return fmt.Errorf("%s: line %d: a variable takes more than %d values", n.file, n.line, maxGrubAlts)
		}
		merged[k] = v
	}
	s.vars = merged
	return nil
}

func copyVars(m map[string]vals) map[string]vals {
	out := make(map[string]vals, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// block records a menuentry, submenu or function.
func (r *grubRun) block(s *gscope, n *gnode) error {
	forms, err := s.expandAll(n.words)
	if err != nil {
		return fmt.Errorf("%s: line %d: %w", n.file, n.line, err)
	}
	w0, _ := literal(n.words[0])
	if w0 == "function" {
		if len(forms[0]) < 2 {
			return fmt.Errorf("%s: line %d: function without a name", n.file, n.line)
		}
		s.funcs[forms[0][1]] = n
		return nil
	}
	e := &gentry{file: n.file, line: n.line, node: n, submenu: w0 == "submenu", maybe: s.maybe > 0 || s.branch > 0 || len(forms) > 1}
	args := forms[0][1:]
	var pos []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--class" || a == "--users" || a == "--hotkey" || a == "--id":
			if i+1 < len(args) {
				if a == "--id" {
					e.id = args[i+1]
				}
				i++
			}
		case strings.HasPrefix(a, "--id="):
			e.id = strings.TrimPrefix(a, "--id=")
		case strings.HasPrefix(a, "--"):
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		return fmt.Errorf("%s: line %d: %s without a title", n.file, n.line, w0)
	}
	e.title, e.args = pos[0], pos[1:]
	s.menu.entries = append(s.menu.entries, e)
	return nil
}

// cond runs a condition: 1 true, -1 false, 0 not known offline.
func (r *grubRun) cond(s *gscope, n gnode) (int, error) {
	forms, err := s.expandAll(n.words)
	if err != nil {
		return 0, fmt.Errorf("%s: line %d: %w", n.file, n.line, err)
	}
	res := 2
	for _, f := range forms {
		t := r.test(s, f)
		if res == 2 {
			res = t
		} else if res != t {
			res = 0
		}
	}
	if res == 2 {
		res = 0
	}
	return res, nil
}

// test evaluates the commands a condition may be: [ ... ], test ..., true, false; anything
// else (loadfont, keystatus, search as a condition) is not known offline.
func (r *grubRun) test(s *gscope, w []string) int {
	if len(w) == 0 {
		return 0
	}
	neg := false
	if w[0] == "!" {
		neg, w = true, w[1:]
		if len(w) == 0 {
			return 0
		}
	}
	t := 0
	switch w[0] {
	case "true":
		t = 1
	case "false":
		t = -1
	case "[":
		if w[len(w)-1] != "]" {
			return 0
		}
		t = r.testExpr(s, w[1:len(w)-1])
	case "test":
		t = r.testExpr(s, w[1:])
	}
	if neg {
		t = -t
	}
	return t
}

func b2t(b bool) int {
	if b {
		return 1
	}
	return -1
}

func (r *grubRun) testExpr(s *gscope, w []string) int {
	switch len(w) {
	case 0:
		return -1
	case 1:
		return b2t(w[0] != "")
	case 2:
		switch w[0] {
		case "!":
			return -r.testExpr(s, w[1:])
		case "-n":
			return b2t(w[1] != "")
		case "-z":
			return b2t(w[1] == "")
		case "-e", "-f", "-s", "-d":
			f, ok := r.resolve(s, w[1])
			if !ok {
				return -1
			}
			fi, err := r.stat(f)
			if err != nil {
				return 0
			}
			if fi == nil {
				return -1
			}
			switch w[0] {
			case "-f":
				return b2t(fi.Mode().IsRegular())
			case "-d":
				return b2t(fi.IsDir())
			case "-s":
				return b2t(fi.Size() > 0)
			}
			return 1
		}
	case 3:
		a, op, b := w[0], w[1], w[2]
		switch op {
		case "=", "==":
			return b2t(a == b)
		case "!=":
			return b2t(a != b)
		case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return 0
			}
			switch op {
			case "-eq":
				return b2t(x == y)
			case "-ne":
				return b2t(x != y)
			case "-lt":
				return b2t(x < y)
			case "-le":
				return b2t(x <= y)
			case "-gt":
				return b2t(x > y)
			}
			return b2t(x >= y)
		}
	}
	if len(w) > 3 {
		for i, x := range w {
			if x == "-a" || x == "-o" {
				l, rr := r.testExpr(s, w[:i]), r.testExpr(s, w[i+1:])
				if l == 0 || rr == 0 {
					return 0
				}
				if x == "-a" {
					return b2t(l == 1 && rr == 1)
				}
				return b2t(l == 1 || rr == 1)
			}
		}
	}
	return 0
}

func validVarName(n string) bool {
	if n == "" || !(n[0] == '_' || n[0] >= 'a' && n[0] <= 'z' || n[0] >= 'A' && n[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// command runs a simple command.
func (r *grubRun) command(s *gscope, n *gnode, depth int, entry *[]Entry) error {
	forms, err := s.expandAll(n.words)
	if err != nil {
		return fmt.Errorf("%s: line %d: %w", n.file, n.line, err)
	}
	if len(forms) == 0 || len(forms[0]) == 0 {
		return nil
	}
	w0, _ := literal(n.words[0])
	// an assignment NAME=VALUE or set NAME=VALUE
	assign := func(words [][]string, at int) {
		byName := map[string]vals{}
		var order []string
		for _, f := range words {
			if at >= len(f) {
				continue
			}
			k, val, ok := strings.Cut(f[at], "=")
			if !ok || !validVarName(k) {
				continue
			}
			if _, seen := byName[k]; !seen {
				order = append(order, k)
			}
			byName[k] = byName[k].add(one(val))
		}
		for _, k := range order {
			s.set(k, byName[k])
		}
	}
	if k, _, ok := strings.Cut(forms[0][0], "="); ok && validVarName(k) && len(n.words) == 1 {
		assign(forms, 0)
		return nil
	}
	if len(forms) > 1 && (w0 == "configfile" || w0 == "source" || w0 == ".") {
		return fmt.Errorf("%s: line %d: the file %s reads takes %d names (its variables are not known offline)", n.file, n.line, w0, len(forms))
	}
	args := forms[0]
	switch w0 {
	case "set":
		for i := 1; i < len(args); i++ {
			assign(forms, i)
		}
	case "unset":
		for _, k := range args[1:] {
			if s.maybe > 0 {
				s.set(k, one(""))
			} else {
				delete(s.vars, k)
			}
		}
	case "export":
		for _, k := range args[1:] {
			s.exported[k] = true
		}
	case "search", "search.fs_uuid", "search.fs_label", "search.file":
		r.search(s, w0, args[1:])
	case "load_env":
		return r.loadEnv(s, n, args[1:])
	case "configfile", "source", ".":
		if len(args) < 2 {
			return nil
		}
		f, ok := r.resolve(s, args[1])
		if !ok || !r.exists(f) {
			return nil // GRUB reports the file missing and goes on
		}
		if w0 == "configfile" {
			// a new context with the exported variables and a menu of its own; when it has
			// entries GRUB shows it, and the rest of this script never runs
			c := s.child(false)
			c.menu, c.maybe, c.branch = &gmenu{}, s.maybe, s.branch
			if err := r.runFile(c, f, depth+1, s.stack); err != nil {
				return err
			}
			if c.done != nil {
				c.menu = c.done
			}
			if len(c.menu.entries) > 0 {
				if s.maybe > 0 || s.branch > 0 {
					s.menu.undecided = "configfile " + r.name(f) + " runs under a condition not known offline"
					s.menu.entries = append(s.menu.entries, c.menu.entries...)
					return nil
				}
				// the caller's scope becomes the new one (its menu and variables)
				s.vars, s.funcs, s.exported = c.vars, c.funcs, c.exported
				s.done = c.menu
			}
			return nil
		}
		return r.runFile(s, f, depth+1, s.stack)
	case "blscfg":
		s.menu.undecided = "blscfg adds the BLS entries to the menu at boot"
	case "linux", "linuxefi", "linux16":
		if entry == nil || len(args) < 2 {
			return nil
		}
		for _, f := range forms {
			kernel := f[1]
			if kf, ok := r.resolve(s, kernel); ok {
				kernel = "(" + kf.dev.name + ")" + kf.path
			}
			e := Entry{Path: n.file, Line: n.line, Cmdline: strings.Join(f[2:], " "), Loader: LoaderGRUB, Kernel: kernel}
			l, err := r.loads(s, f[1])
			if err != nil {
				return fmt.Errorf("%s: line %d: %w", n.file, n.line, err)
			}
			switch {
			case l.unresolved:
				e.Unresolved = append(e.Unresolved, l.name)
			case l.missing:
				e.KernelFile, e.KernelMissing = l.name, true
				e.Missing = append(e.Missing, l.name)
			default:
				e.KernelFile = l.name
			}
			*entry = append(*entry, e)
		}
	case "initrd", "initrdefi", "initrd16":
		if entry == nil {
			return nil
		}
		var found []loaded
		for _, a := range args[1:] {
			l, err := r.loads(s, a)
			if err != nil {
				return fmt.Errorf("%s: line %d: %w", n.file, n.line, err)
			}
			found = append(found, l)
		}
		// one missing file fails the whole command (grub_initrd_init opens them all first)
		failed := slices.ContainsFunc(found, func(l loaded) bool { return l.missing })
		for i := range *entry {
			e := &(*entry)[i]
			e.Initrd = append(e.Initrd, args[1:]...)
			for _, l := range found {
				switch {
				case l.unresolved:
					e.Unresolved = append(e.Unresolved, l.name)
				case l.missing:
					e.Missing = append(e.Missing, l.name)
				case !failed:
					e.InitrdFiles = append(e.InitrdFiles, l.name)
					e.initrdRefs = append(e.initrdRefs, l.ref)
				}
			}
		}
	default:
		if fn, ok := s.funcs[w0]; ok {
			if r.calls >= maxGrubCalls {
				return fmt.Errorf("%s: line %d: functions nested more than %d deep", n.file, n.line, maxGrubCalls)
			}
			saved := s.args
			s.args = args[1:]
			r.calls++
			err := r.exec(s, fn.arms[0], depth, entry)
			r.calls--
			s.args = saved
			return err
		}
	}
	return nil
}

// loaded is a file an entry loads, as GRUB finds it.
type loaded struct {
	name       string // as reports name files (as written when unresolved)
	missing    bool
	unresolved bool
	ref        InitrdRef // opens it, when it exists
}

// loads finds a file linux or initrd loads where GRUB reads it: on the device its "(dev)"
// prefix names or on $root, in that device's filesystem alone (GRUB follows a symbolic link
// inside the filesystem, never into another partition that Linux mounts there). A device of
// this disk that does not exist ("(hd0,gpt9)") makes the file missing; a device that is not a
// partition of this disk (LVM, another disk) leaves it unresolved, and so does a file absent
// from a $root that a search found nothing for (the filesystem searched for may be on a disk
// this image is not) or from a filesystem on the whole disk (no partition table: no GRUB core
// image of this disk boots it). When $root may have several
// values, the file is found (the first one, for its contents) or missing when it is on every
// one of them or on none, unresolved otherwise. A file that exists but could not be checked is an error.
func (r *grubRun) loads(s *gscope, name string) (loaded, error) {
	roots := s.get("root")
	if strings.HasPrefix(name, "(") || len(roots) <= 1 {
		return r.loadsOn(s, name)
	}
	var first loaded
	for i, root := range roots {
		c := s.child(true)
		c.set("root", one(root))
		l, err := r.loadsOn(c, name)
		if err != nil {
			return loaded{}, err
		}
		if i == 0 {
			first = l
			continue
		}
		if l.missing != first.missing || l.unresolved || first.unresolved {
			return loaded{name: name, unresolved: true}, nil
		}
	}
	return first, nil // on every device, or on none
}

func (r *grubRun) loadsOn(s *gscope, name string) (loaded, error) {
	f, ok := r.resolve(s, name)
	if !ok {
		dev := ""
		if strings.HasPrefix(name, "(") {
			dev, _, _ = strings.Cut(name[1:], ")")
		} else if roots := s.get("root"); len(roots) == 1 {
			dev = roots[0]
		}
		if dev == "hd0" || strings.HasPrefix(dev, "hd0,") {
			return loaded{name: name, missing: true}, nil
		}
		return loaded{name: name, unresolved: true}, nil
	}
	named := r.name(f)
	t, p := f.dev.tree, rel(f.path)
	fi, err := t.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		if f.dev.part.Number == 0 {
			// a filesystem on the whole disk leaves no room for GRUB's core image: what boots
			// it (a platform's loader reading grub.cfg with a root of its own) is not GRUB on
			// this disk, and where it reads the kernel from is not known here
			return loaded{name: named + " (a filesystem on the whole disk: no GRUB of this disk reads it)", unresolved: true}, nil
		}
		if m := s.vars[missedKey("root")]; len(m) == 1 && !strings.HasPrefix(name, "(") {
			// $root is what it was before a search that found nothing here: GRUB searches
			// every disk the firmware shows, and a disk not in this image may hold it
			return loaded{name: fmt.Sprintf("%s (search by %s found no filesystem of this disk)", named, m[0]), unresolved: true}, nil
		}
		return loaded{name: named, missing: true}, nil
	}
	if err != nil {
		return loaded{}, fmt.Errorf("%s: %w", named, err)
	}
	if !fi.Mode().IsRegular() {
		return loaded{name: named, missing: true}, nil
	}
	return loaded{name: named, ref: InitrdRef{Where: named, Open: func() (io.ReadCloser, error) { return t.Open(p) }}}, nil
}

// search sets a variable (--set=VAR, root by default) to the device that holds a filesystem
// UUID, a label or a file; when none does, it is left as it was (GRUB reports an error).
func (r *grubRun) search(s *gscope, cmd string, args []string) {
	kind, varName := "file", "root"
	switch cmd {
	case "search.fs_uuid":
		kind = "uuid"
	case "search.fs_label":
		kind = "label"
	}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--fs-uuid" || a == "-u":
			kind = "uuid"
		case a == "--label" || a == "-l":
			kind = "label"
		case a == "--file" || a == "-f":
			kind = "file"
		case a == "--set" || a == "-s":
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				varName = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--set="):
			varName = strings.TrimPrefix(a, "--set=")
		case strings.HasPrefix(a, "--hint") && !strings.Contains(a, "="):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		return
	}
	if cmd != "search" && len(pos) > 1 {
		varName = pos[1]
	}
	for _, d := range r.devs {
		match := false
		switch kind {
		case "uuid":
			match = d.part.FSUUID != "" && strings.EqualFold(d.part.FSUUID, pos[0])
		case "label":
			match = d.part.FSLabel != "" && d.part.FSLabel == pos[0]
		default:
			match = r.exists(gfile{dev: d, path: path.Clean("/" + pos[0])})
		}
		if match {
			s.set(varName, one(d.name))
			return
		}
	}
	s.vars[missedKey(varName)] = one(kind + " " + pos[0])
}

// loadEnv sets the variables of a GRUB environment block: load_env [-f FILE] [NAME...]; the
// file is $prefix/grubenv by default.
func (r *grubRun) loadEnv(s *gscope, n *gnode, args []string) error {
	file := ""
	var names []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-f" || a == "--file":
			if i+1 < len(args) {
				file = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--file="):
			file = strings.TrimPrefix(a, "--file=")
		case strings.HasPrefix(a, "-"):
		default:
			names = append(names, a)
		}
	}
	if file == "" {
		p := s.get("prefix")
		if len(p) != 1 {
			return nil
		}
		file = p[0] + "/grubenv"
	}
	f, ok := r.resolve(s, file)
	if !ok {
		return nil
	}
	data, err := r.readFile(f)
	if err != nil || data == nil {
		return err
	}
	vars, err := ParseGrubenv(data)
	if err != nil {
		return nil // load_env refuses the block, says so and the script goes on without it
	}
	r.files = append(r.files, r.name(f))
	for _, kv := range vars {
		if len(names) > 0 {
			want := false
			for _, nm := range names {
				want = want || nm == kv.Key
			}
			if !want {
				continue
			}
		}
		if validVarName(kv.Key) {
			s.set(kv.Key, one(kv.Value))
		}
	}
	return nil
}
