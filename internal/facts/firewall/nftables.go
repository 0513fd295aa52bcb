package firewall

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// nftIncludeDir is the directory nft searches for an include named by a bare relative path
// (neither "/" nor "./" nor "../" first): the default include path, sysconfdir, /etc on the
// distributions' builds (nftables 1.0.6 src/scanner.l scanner_include_file and
// search_in_include_path; nft -h prints it). A "./" or "../" path is opened as written, from
// nft's working directory, which is / for a systemd service.
const nftIncludeDir = "/etc"

// errNftMissing unwinds a load that fails because a file it names does not exist.
var errNftMissing = errors.New("missing")

type nftTok struct {
	s      string
	quoted bool
	sep    byte // '{', '}' or ';' (a line's end is ';'); 0 for a word
	line   int
}

// nftTokens splits one file as nft's scanner does for what this reader needs: '#' comments to
// the end of the line, double-quoted strings (on one line), '{' '}' ';' and the end of a line
// (unless it ends in '\') as separators, other runs of non-blanks as words.
func nftTokens(file string, data []byte) ([]nftTok, error) {
	var out []nftTok
	for i, l := range strings.Split(string(data), "\n") {
		n := i + 1
		if len(l) > maxRulesLine {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes (not read)", file, n, maxRulesLine)
		}
		l = strings.TrimRight(l, "\r")
		cont := false
		for j := 0; j < len(l); {
			switch c := l[j]; {
			case c == ' ' || c == '\t':
				j++
			case c == '#':
				j = len(l)
			case c == '{' || c == '}' || c == ';':
				out = append(out, nftTok{sep: c, line: n})
				j++
			case c == '"':
				k := strings.IndexByte(l[j+1:], '"')
				if k < 0 {
					return nil, fmt.Errorf("%s:%d: unterminated string (nft refuses the file)", file, n)
				}
				out = append(out, nftTok{s: l[j+1 : j+1+k], quoted: true, line: n})
				j += k + 2
			default:
				k := j
				for k < len(l) && !strings.ContainsRune(" \t#{};\"", rune(l[k])) {
					k++
				}
				w := l[j:k]
				if k == len(l) && strings.HasSuffix(w, `\`) {
					w, cont = strings.TrimSuffix(w, `\`), true
				}
				if w != "" {
					out = append(out, nftTok{s: w, line: n})
				}
				j = k
			}
		}
		if !cont {
			out = append(out, nftTok{sep: ';', line: n})
		}
	}
	return out, nil
}

const (
	frameTable = iota
	frameChain
	frameOther // a set, map, flowtable, object or anything else whose body filters nothing
)

type nftFrame struct {
	kind  int
	table string // "inet filter"
	chain string
}

// nftFinding is one thing of the ruleset that filters.
type nftFinding struct {
	table, chain string
	policy       bool
	file         string
	line         int
	what         string
}

// nftLoad is one `nft -f FILE`: the file and what it includes, read statement by statement.
type nftLoad struct {
	src     systemd.Source
	frames  []nftFrame
	stmt    []nftTok
	anon    int // depth of an anonymous set or map inside a rule
	defines map[string]string
	found   []nftFinding
	dormant map[string]bool
	files   int
	missing *Ruleset
}

// ReadNftables decides what `nft -f file` loads (nft(8): the file is one atomic transaction, so a
// file it cannot open, its own or an include's, loads nothing). Read minimally: tables ("table
// [family] name { ... }", "add table"), chains in them ("chain name { type filter hook input
// priority 0; policy drop; rules }", "add chain ... { ... }"), rules one per line or ';'
// ("add rule family table chain ..." at the top too), anonymous sets and verdict maps inside a
// rule, include (globs, directories, nested at most 16 deep as nft allows), define for a
// policy's $variable, flush ruleset (which discards what came before), delete/flush of a table
// or chain, and a table's flags dormant (its chains are not attached). It filters when a chain's
// policy is drop or a rule's verdict is drop, reject or queue; accept, continue, return and
// jump/goto only lead to other rules, which are read too.
func ReadNftables(src systemd.Source, file string) (Ruleset, error) {
	l := &nftLoad{src: src, defines: map[string]string{}, dormant: map[string]bool{}}
	err := l.feed(file, 0)
	switch {
	case errors.Is(err, errNftMissing):
		return *l.missing, nil
	case err != nil:
		return Ruleset{}, err
	case len(l.frames) > 0 || l.anon > 0:
		return Ruleset{}, fmt.Errorf("%s: a { is not closed at the end of the file (nft refuses it)", file)
	}
	for _, f := range l.found {
		if !l.dormant[f.table] {
			return Ruleset{Filters: true, Path: f.file, Line: f.line, Why: f.what}, nil
		}
	}
	return Ruleset{Path: file, Why: "accepts everything: no chain with policy drop, no rule that drops, rejects or queues"}, nil
}

func (l *nftLoad) feed(file string, depth int) error {
	if depth > maxRulesDepth {
		return fmt.Errorf("%s: included more than %d deep (nft refuses it)", file, maxRulesDepth)
	}
	if l.files++; l.files > maxRulesFiles {
		return fmt.Errorf("%s: more than %d files included (not all read)", file, maxRulesFiles)
	}
	data, exists, err := readBounded(l.src, file)
	if err != nil {
		return err
	}
	if !exists {
		if l.missing == nil {
			l.missing = &Ruleset{Missing: true, Path: file, Why: file + " does not exist"}
		}
		return errNftMissing
	}
	toks, err := nftTokens(file, data)
	if err != nil {
		return err
	}
	for _, t := range toks {
		switch {
		case t.sep == 0:
			l.stmt = append(l.stmt, t)
		case l.anon > 0:
			// an anonymous set or map: its lines and elements belong to the rule
			switch t.sep {
			case '{':
				l.anon++
			case '}':
				l.anon--
			}
		case t.sep == ';':
			if err := l.statement(file, depth); err != nil {
				return err
			}
		case t.sep == '{':
			if fr, ok := l.opens(); ok {
				l.frames = append(l.frames, fr)
				l.stmt = nil
			} else {
				l.anon = 1
			}
		case t.sep == '}':
			if err := l.statement(file, depth); err != nil {
				return err
			}
			if len(l.frames) == 0 {
				return fmt.Errorf("%s:%d: } without a { (nft refuses the file)", file, t.line)
			}
			l.frames = l.frames[:len(l.frames)-1]
		}
	}
	return nil
}

func words(toks []nftTok) []string {
	var out []string
	for _, t := range toks {
		if !t.quoted {
			out = append(out, t.s)
		}
	}
	return out
}

var nftFamilies = []string{"ip", "ip6", "inet", "arp", "bridge", "netdev"}

// object splits "[family] table [chain]" (n names after the family), the family ip when
// omitted as nft takes it; rest is what follows.
func object(w []string, n int) (table, chain string, rest []string) {
	fam := "ip"
	if len(w) > 0 && slices.Contains(nftFamilies, w[0]) && len(w) > n {
		fam, w = w[0], w[1:]
	}
	if len(w) < n {
		return "", "", nil
	}
	table = fam + " " + w[0]
	if n > 1 {
		chain = w[1]
	}
	return table, chain, w[n:]
}

func (l *nftLoad) top() (nftFrame, bool) {
	if len(l.frames) == 0 {
		return nftFrame{}, false
	}
	return l.frames[len(l.frames)-1], true
}

// opens says whether the statement so far opens a block, and which; otherwise the '{' is an
// anonymous set or map in a rule or an element list.
func (l *nftLoad) opens() (nftFrame, bool) {
	w := words(l.stmt)
	fr, in := l.top()
	switch {
	case !in && len(w) >= 2 && w[0] == "table":
		t, _, _ := object(w[1:], 1)
		return nftFrame{kind: frameTable, table: t}, true
	case !in && len(w) >= 3 && (w[0] == "add" || w[0] == "create") && w[1] == "table":
		t, _, _ := object(w[2:], 1)
		return nftFrame{kind: frameTable, table: t}, true
	case !in && len(w) >= 4 && (w[0] == "add" || w[0] == "create") && w[1] == "chain":
		t, c, _ := object(w[2:], 2)
		return nftFrame{kind: frameChain, table: t, chain: c}, true
	case !in:
		return nftFrame{}, false
	case fr.kind == frameTable && len(w) >= 2 && w[0] == "chain":
		return nftFrame{kind: frameChain, table: fr.table, chain: w[1]}, true
	case fr.kind == frameChain:
		return nftFrame{}, false
	}
	return nftFrame{kind: frameOther, table: fr.table}, true
}

// verdict is the filtering verdict of a rule's words, "" when none.
func verdict(w []string) string {
	for _, x := range w {
		switch x {
		case "drop", "reject", "queue":
			return x
		}
	}
	return ""
}

func (l *nftLoad) drop(keep func(nftFinding) bool) {
	l.found = slices.DeleteFunc(l.found, func(f nftFinding) bool { return !keep(f) })
}

func (l *nftLoad) statement(file string, depth int) error {
	st := l.stmt
	l.stmt = nil
	if len(st) == 0 {
		return nil
	}
	line := st[0].line
	w := words(st)
	if len(w) == 0 {
		return nil
	}
	switch w[0] {
	case "include":
		if len(st) < 2 || !st[1].quoted {
			return fmt.Errorf("%s:%d: include without a quoted file name (nft refuses the file)", file, line)
		}
		return l.include(file, line, st[1].s, depth)
	case "define", "redefine":
		// the value is every token after "=", a quoted string's without its quotes (define
		// POL = "drop" is what nft takes for a policy variable)
		for i, t := range st {
			if i >= 2 && !t.quoted && t.s == "=" {
				var v []string
				for _, t := range st[i+1:] {
					v = append(v, t.s)
				}
				l.defines[st[1].s] = strings.Join(v, " ")
				break
			}
		}
		return nil
	case "undefine":
		if len(w) >= 2 {
			delete(l.defines, w[1])
		}
		return nil
	}
	fr, in := l.top()
	switch {
	case !in:
		return l.command(w, file, line)
	case fr.kind == frameTable:
		if w[0] == "flags" && slices.Contains(strings.Split(strings.Join(w[1:], ""), ","), "dormant") {
			l.dormant[fr.table] = true
		}
	case fr.kind == frameChain:
		switch w[0] {
		case "type", "comment", "devices", "device", "priority":
		case "policy":
			return l.policy(fr.table, fr.chain, w, file, line)
		default:
			l.rule(fr.table, fr.chain, w, file, line)
		}
	}
	return nil
}

// command is a statement at the top of the file: nft's commands.
func (l *nftLoad) command(w []string, file string, line int) error {
	if len(w) < 2 {
		return nil
	}
	verb, obj := w[0], w[1]
	switch {
	case verb == "flush" && obj == "ruleset":
		l.found, l.dormant = nil, map[string]bool{}
	case (verb == "add" || verb == "insert" || verb == "replace" || verb == "create") && obj == "rule":
		t, c, rest := object(w[2:], 2)
		if t != "" {
			l.rule(t, c, rest, file, line)
		}
	case (verb == "delete" || verb == "destroy" || verb == "flush") && obj == "table":
		t, _, _ := object(w[2:], 1)
		l.drop(func(f nftFinding) bool { return f.table != t || verb == "flush" && f.policy })
	case (verb == "delete" || verb == "destroy" || verb == "flush") && obj == "chain":
		t, c, _ := object(w[2:], 2)
		l.drop(func(f nftFinding) bool { return f.table != t || f.chain != c || verb == "flush" && f.policy })
	}
	return nil
}

func (l *nftLoad) rule(table, chain string, w []string, file string, line int) {
	if v := verdict(w); v != "" {
		l.found = append(l.found, nftFinding{table: table, chain: chain, file: file, line: line,
			what: fmt.Sprintf("table %s chain %s: a rule that %ss (%s)", table, chain, v, strings.Join(w, " "))})
	}
}

func (l *nftLoad) policy(table, chain string, w []string, file string, line int) error {
	if len(w) < 2 {
		return fmt.Errorf("%s:%d: policy without a value (nft refuses the file)", file, line)
	}
	p := w[1]
	for i := 0; strings.HasPrefix(p, "$") && i < 16; i++ {
		v, ok := l.defines[p[1:]]
		if !ok {
			return fmt.Errorf("%s:%d: policy %s: the variable is not defined (nft refuses the file)", file, line, p)
		}
		p = v
	}
	if p == "drop" {
		l.found = append(l.found, nftFinding{table: table, chain: chain, policy: true, file: file, line: line,
			what: fmt.Sprintf("table %s chain %s: policy drop", table, chain)})
	}
	return nil
}

// include reads what an include statement names, as nft does: a glob's matches in order (none
// is no error, directories and dot files skipped), a directory's files in order (dot files
// skipped), a file named without a wildcard that does not exist failing the whole load.
func (l *nftLoad) include(from string, line int, name string, depth int) error {
	p := name
	switch {
	case strings.HasPrefix(name, "/"):
	case strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../"):
		p = path.Join("/", name)
	default:
		p = path.Join(nftIncludeDir, name)
	}
	var files []string
	if strings.ContainsAny(name, "*?[") {
		m, err := l.src.Glob(p)
		if err != nil {
			return fmt.Errorf("%s:%d: include %q: %w", from, line, name, err)
		}
		files = m
	} else {
		fi, err := l.src.Lstat(p)
		if err != nil {
			return fmt.Errorf("%s:%d: include %q: %s: %w", from, line, name, p, err)
		}
		switch {
		case fi == nil:
			l.missing = &Ruleset{Missing: true, Path: from, Line: line, Why: fmt.Sprintf("include %q: %s does not exist", name, p)}
			return errNftMissing
		case fi.IsDir():
			ents, err := l.src.ReadDir(p)
			if err != nil {
				return fmt.Errorf("%s:%d: include %q: %s: %w", from, line, name, p, err)
			}
			for _, e := range ents {
				files = append(files, path.Join(p, e.Name()))
			}
		default:
			files = []string{p}
		}
	}
	slices.Sort(files)
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), ".") {
			continue
		}
		if fi, err := l.src.Lstat(f); err != nil {
			return fmt.Errorf("%s:%d: include %q: %s: %w", from, line, name, f, err)
		} else if fi != nil && fi.IsDir() {
			continue
		}
		if err := l.feed(f, depth+1); err != nil {
			return err
		}
	}
	return nil
}
