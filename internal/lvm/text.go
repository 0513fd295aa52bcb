package lvm

import (
	"fmt"
	"strconv"
	"strings"
)

// The LVM2 text metadata format (the VG's "vg0 { … }" and the assignments after it) as
// libdevmapper's config parser reads it (device_mapper/libdm-config.c _get_token, _section,
// _value, lvm2@d804677c): a file is a list of nodes; a node is an identifier (or a quoted
// string) followed either by "{" nodes "}" (a section) or by "=" and a value or "[" values
// separated by commas "]" (an assignment). A value is a double-quoted string (backslash
// escapes the next character), a single-quoted one (no escapes), a number (a token starting
// with a digit, "+", "-" or "."), or a bare word. "#" starts a comment to the end of the line;
// a NUL byte ends the text. Identifiers and bare words run to a blank, "#", "=", "{" or "}".
// Unlike libdm, which merges a repeated section and keeps the last of repeated values, a
// repeated key is an error here: LVM never writes one, and which copy counts would be a guess.

// Bounds of the text metadata a PV may hold (LVM itself caps a VG's metadata at half its
// metadata area, 1 MiB by default, less with the default 1020 KiB area).
const (
	maxMetadataText = 1 << 20 // bytes
	maxConfigDepth  = 16      // nesting of sections: LVM writes 4 (VG, logical_volumes, LV, segment)
	maxConfigNodes  = 1 << 17
	maxArrayValues  = 1 << 16
)

type cfgValue struct {
	s      string
	number bool // a number token (s holds it as written)
}

type cfgNode struct {
	key      string
	line     int
	section  bool
	children []*cfgNode // a section's nodes, in order
	values   []cfgValue // an assignment's value(s)
	array    bool
}

func (n *cfgNode) child(key string) *cfgNode {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	return nil
}

// str is the string value of the assignment key in section n.
func (n *cfgNode) str(key string) (string, error) {
	c := n.child(key)
	if c == nil {
		return "", fmt.Errorf("%s has no %s", n.key, key)
	}
	if c.section || c.array || len(c.values) != 1 || c.values[0].number {
		return "", fmt.Errorf("line %d: %s is not a string", c.line, key)
	}
	return c.values[0].s, nil
}

// uint is the non-negative integer value of key in section n, at most limit.
func (n *cfgNode) uint(key string, limit int64) (int64, error) {
	c := n.child(key)
	if c == nil {
		return 0, fmt.Errorf("%s has no %s", n.key, key)
	}
	if c.section || c.array || len(c.values) != 1 || !c.values[0].number {
		return 0, fmt.Errorf("line %d: %s is not a number", c.line, key)
	}
	v, err := strconv.ParseInt(c.values[0].s, 10, 64)
	if err != nil || v < 0 || v > limit {
		return 0, fmt.Errorf("line %d: %s = %q: not an integer from 0 to %d", c.line, key, c.values[0].s, limit)
	}
	return v, nil
}

type cfgToken int

const (
	tokEOF cfgToken = iota
	tokSectionB
	tokSectionE
	tokArrayB
	tokArrayE
	tokComma
	tokEq
	tokString  // "…" or '…', unquoted in text
	tokNumber  // where a value may stand
	tokBare    // a bare word where a value may stand
	tokIdentfr // a bare word where a key stands
)

type cfgParser struct {
	b     []byte
	pos   int
	line  int
	tok   cfgToken
	text  string
	tline int
	nodes int
}

func isCfgSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func (p *cfgParser) next(prev cfgToken) error {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if c == '#' {
			for p.pos < len(p.b) && p.b[p.pos] != '\n' {
				p.pos++
			}
			continue
		}
		if !isCfgSpace(c) {
			break
		}
		if c == '\n' {
			p.line++
		}
		p.pos++
	}
	p.tline = p.line
	if p.pos >= len(p.b) || p.b[p.pos] == 0 {
		p.tok = tokEOF
		return nil
	}
	start := p.pos
	c := p.b[p.pos]
	p.pos++
	values := prev == tokEq || prev == tokArrayB || prev == tokComma
	switch {
	case c == '{':
		p.tok = tokSectionB
	case c == '}':
		p.tok = tokSectionE
	case c == '[':
		p.tok = tokArrayB
	case c == ']':
		p.tok = tokArrayE
	case c == ',':
		p.tok = tokComma
	case c == '=':
		p.tok = tokEq
	case c == '"' || c == '\'':
		var sb strings.Builder
		for {
			if p.pos >= len(p.b) || p.b[p.pos] == 0 {
				return fmt.Errorf("line %d: unterminated string", p.tline)
			}
			d := p.b[p.pos]
			p.pos++
			if d == c {
				break
			}
			if d == '\n' {
				p.line++
			}
			if c == '"' && d == '\\' && p.pos < len(p.b) && p.b[p.pos] != 0 {
				d = p.b[p.pos]
				p.pos++
			}
			sb.WriteByte(d)
		}
		p.tok, p.text = tokString, sb.String()
		return nil
	case values && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		dot := c == '.'
		for p.pos < len(p.b) {
			d := p.b[p.pos]
			if d == '.' && !dot {
				dot = true
			} else if d < '0' || d > '9' {
				break
			}
			p.pos++
		}
		p.tok = tokNumber
	default:
		for p.pos < len(p.b) {
			d := p.b[p.pos]
			if d == 0 || isCfgSpace(d) || d == '#' || d == '=' || d == '{' || d == '}' {
				break
			}
			p.pos++
		}
		p.tok = tokIdentfr
		if values {
			p.tok = tokBare
		}
	}
	p.text = string(p.b[start:p.pos])
	return nil
}

// parseConfig parses LVM2 text metadata into its root section.
func parseConfig(b []byte) (*cfgNode, error) {
	if len(b) > maxMetadataText {
		return nil, fmt.Errorf("metadata text of %d bytes, more than %d", len(b), maxMetadataText)
	}
	p := &cfgParser{b: b, line: 1}
	root := &cfgNode{section: true}
	if err := p.next(tokEOF); err != nil {
		return nil, err
	}
	for p.tok != tokEOF {
		if err := p.node(root, 1); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// node parses one node into parent; the current token is its key.
func (p *cfgParser) node(parent *cfgNode, depth int) error {
	if depth > maxConfigDepth {
		return fmt.Errorf("line %d: sections nested deeper than %d", p.tline, maxConfigDepth)
	}
	if p.nodes++; p.nodes > maxConfigNodes {
		return fmt.Errorf("line %d: more than %d nodes", p.tline, maxConfigNodes)
	}
	if p.tok != tokIdentfr && p.tok != tokString {
		return fmt.Errorf("line %d: %q where a key was expected", p.tline, p.text)
	}
	n := &cfgNode{key: p.text, line: p.tline}
	if n.key == "" {
		return fmt.Errorf("line %d: empty key", p.tline)
	}
	if parent.child(n.key) != nil {
		return fmt.Errorf("line %d: %s repeated in %s", p.tline, n.key, parent.keyName())
	}
	if err := p.next(p.tok); err != nil {
		return err
	}
	switch p.tok {
	case tokSectionB:
		n.section = true
		if err := p.next(tokSectionB); err != nil {
			return err
		}
		for p.tok != tokSectionE {
			if p.tok == tokEOF {
				return fmt.Errorf("line %d: section %s (line %d) not closed", p.tline, n.key, n.line)
			}
			if err := p.node(n, depth+1); err != nil {
				return err
			}
		}
		if err := p.next(tokSectionE); err != nil {
			return err
		}
	case tokEq:
		if err := p.next(tokEq); err != nil {
			return err
		}
		if p.tok == tokArrayB {
			n.array = true
			if err := p.next(tokArrayB); err != nil {
				return err
			}
			for p.tok != tokArrayE {
				v, err := p.value()
				if err != nil {
					return err
				}
				if len(n.values) >= maxArrayValues {
					return fmt.Errorf("line %d: array %s of more than %d values", n.line, n.key, maxArrayValues)
				}
				n.values = append(n.values, v)
				if err := p.next(tokComma); err != nil { // a value follows where a value stood
					return err
				}
				if p.tok == tokComma {
					if err := p.next(tokComma); err != nil {
						return err
					}
				}
			}
		} else {
			v, err := p.value()
			if err != nil {
				return err
			}
			n.values = []cfgValue{v}
		}
		if err := p.next(tokArrayE); err != nil { // a key follows an assignment
			return err
		}
	default:
		return fmt.Errorf("line %d: %s followed by %q, not \"{\" or \"=\"", p.tline, n.key, p.text)
	}
	parent.children = append(parent.children, n)
	return nil
}

func (n *cfgNode) keyName() string {
	if n.key == "" {
		return "the top level"
	}
	return n.key
}

func (p *cfgParser) value() (cfgValue, error) {
	switch p.tok {
	case tokString, tokBare:
		return cfgValue{s: p.text}, nil
	case tokNumber:
		return cfgValue{s: p.text, number: true}, nil
	case tokEOF:
		return cfgValue{}, fmt.Errorf("line %d: the text ends where a value was expected", p.tline)
	}
	return cfgValue{}, fmt.Errorf("line %d: %q where a value was expected", p.tline, p.text)
}
