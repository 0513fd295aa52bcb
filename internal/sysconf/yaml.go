package sysconf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML read as PyYAML's safe_load reads it (what cloud-init's load_yaml uses): gopkg.in/yaml.v3
// parses the text into nodes, and this file resolves and constructs them by PyYAML's rules
// (YAML 1.1), not yaml.v3's (1.2): plain yes/no/on/off are booleans, 017 is octal, 1:30 is 90,
// 1e3 is a string, "=" is refused, "<<" merges mappings (earlier sources of a merge list win,
// the mapping's own keys over all), and a duplicate key keeps its first position with its last
// value (a Python dict's assignment). TestYAMLAgreesWithPyYAML holds it to /usr/bin/python3's
// yaml.safe_load on generated documents.

// Bounds of one document: over any of them is an error naming the line, never a cut.
const (
	MaxYAMLBytes    = 4 << 20 // the document's size
	MaxYAMLDepth    = 256     // nesting of sequences and mappings (PyYAML itself stops near Python's recursion limit)
	MaxYAMLExpanded = 1 << 20 // values the document holds with every alias expanded (billion laughs)
)

// YKind is the Python type a YAML node constructs to.
type YKind int

const (
	YNull YKind = iota
	YBool
	YInt
	YFloat
	YStr
	YSeq
	YMap
)

func (k YKind) String() string {
	return [...]string{"null", "bool", "int", "float", "str", "seq", "map"}[k]
}

// YValue is one constructed value with the line (1-based) of the node it came from. Aliases
// share the anchored value (as PyYAML's objects do).
type YValue struct {
	Kind  YKind
	Line  int
	Bool  bool
	Int   *big.Int
	Float float64
	Str   string // YStr: the string; other scalars: their text as written
	Items []*YValue
	Keys  []*YValue // YMap: keys in a Python dict's order (first insertion)
	Vals  []*YValue
}

// Get returns the value of a string key of a mapping, nil when absent or v is not a mapping.
func (v *YValue) Get(key string) *YValue {
	if v == nil || v.Kind != YMap {
		return nil
	}
	for i, k := range v.Keys {
		if k.Kind == YStr && k.Str == key {
			return v.Vals[i]
		}
	}
	return nil
}

// Truthy is Python's truth value of the constructed object.
func (v *YValue) Truthy() bool {
	if v == nil {
		return false
	}
	switch v.Kind {
	case YBool:
		return v.Bool
	case YInt:
		return v.Int.Sign() != 0
	case YFloat:
		return v.Float != 0
	case YStr:
		return v.Str != ""
	case YSeq:
		return len(v.Items) > 0
	case YMap:
		return len(v.Keys) > 0
	}
	return false
}

// String is a short rendering of a scalar (for evidence), the kind of a collection.
func (v *YValue) String() string {
	switch {
	case v == nil:
		return "(absent)"
	case v.Kind == YNull:
		return "null"
	case v.Kind == YBool:
		if v.Bool {
			return "True"
		}
		return "False"
	case v.Kind == YInt:
		return v.Int.String()
	case v.Kind == YFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case v.Kind == YStr:
		return v.Str
	case v.Kind == YSeq:
		return fmt.Sprintf("a list of %d", len(v.Items))
	}
	return fmt.Sprintf("a mapping of %d", len(v.Keys))
}

// YAMLError is a document PyYAML would not load, or one over a bound, at a line.
type YAMLError struct {
	Line int // 0: not known
	Msg  string
}

func (e *YAMLError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// LoadYAML loads a single-document YAML stream as yaml.safe_load does: nil (Python's None) for
// an empty stream, an error for more than one document or anything safe_load refuses.
func LoadYAML(data []byte) (*YValue, error) {
	if len(data) > MaxYAMLBytes {
		return nil, &YAMLError{Msg: fmt.Sprintf("larger than %d bytes (not read)", MaxYAMLBytes)}
	}
	if err := yamlTabs(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, &YAMLError{Msg: err.Error()}
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, &YAMLError{Msg: err.Error()}
		}
		return nil, &YAMLError{Line: more.Line, Msg: "expected a single document in the stream, but found another document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &YAMLError{Line: doc.Line, Msg: "not a YAML document"}
	}
	c := &yconstructor{done: map[*yaml.Node]*YValue{}, busy: map[*yaml.Node]bool{}, size: map[*yaml.Node]int{}}
	if n := c.expanded(doc.Content[0], 0); n > MaxYAMLExpanded {
		return nil, &YAMLError{Line: doc.Content[0].Line, Msg: fmt.Sprintf("more than %d values with aliases expanded (not read)", MaxYAMLExpanded)}
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.construct(doc.Content[0], 0)
}

// yamlTabs refuses a tab where PyYAML's scanner refuses one: it skips only spaces between
// tokens, so a tab anywhere but in a comment, a quoted scalar or a block scalar's text is "found
// character '\t' that cannot start any token" (yaml.v3 accepts many of them). Conservative: a tab
// is accepted only in a comment that no quote precedes on its line, or in the lines of a block
// scalar (after a line ending in | or >, while more indented); anything else is an error.
func yamlTabs(data []byte) error {
	block := -1 // the indentation a block scalar's lines must exceed; -1 outside one
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		ind := len(line) - len(strings.TrimLeft(line, " "))
		body := strings.TrimSpace(line)
		if block >= 0 && (body == "" || ind > block) {
			continue
		}
		block = -1
		if i := strings.IndexByte(line, '\t'); i >= 0 {
			c := strings.Index(line, " #")
			if strings.HasPrefix(body, "#") {
				c = ind
			}
			if c < 0 || c > i || strings.ContainsAny(line[:c], `'"`) {
				return &YAMLError{Line: n + 1, Msg: "found character '\\t' that cannot start any token (PyYAML refuses a tab outside comments, quotes and block scalars)"}
			}
		}
		if strings.HasPrefix(body, "#") {
			continue
		}
		if c := strings.Index(body, " #"); c >= 0 && !strings.ContainsAny(body[:c], `'"`) {
			body = strings.TrimSpace(body[:c])
		}
		if t := strings.TrimRight(body, "+-0123456789"); strings.HasSuffix(t, "|") || strings.HasSuffix(t, ">") {
			block = ind
		}
	}
	return nil
}

type yconstructor struct {
	done map[*yaml.Node]*YValue
	busy map[*yaml.Node]bool
	size map[*yaml.Node]int
	err  error
}

// expanded counts the values under n with aliases expanded (memoised per node, so a chain of
// aliases costs its length, not its expansion), and checks depth and recursive aliases.
func (c *yconstructor) expanded(n *yaml.Node, depth int) int {
	if c.err != nil {
		return 0
	}
	if s, ok := c.size[n]; ok {
		return s
	}
	if depth > MaxYAMLDepth {
		c.err = &YAMLError{Line: n.Line, Msg: fmt.Sprintf("nested deeper than %d (not read)", MaxYAMLDepth)}
		return 0
	}
	if c.busy[n] {
		c.err = &YAMLError{Line: n.Line, Msg: "a recursive alias (a value that contains itself)"}
		return 0
	}
	c.busy[n] = true
	s := 1
	if n.Kind == yaml.AliasNode {
		s = c.expanded(n.Alias, depth+1)
	}
	for _, ch := range n.Content {
		s += c.expanded(ch, depth+1)
		if s > MaxYAMLExpanded {
			break
		}
	}
	c.busy[n] = false
	c.size[n] = s
	return s
}

func (c *yconstructor) construct(n *yaml.Node, depth int) (*YValue, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, &YAMLError{Line: n.Line, Msg: "found undefined alias " + strconv.Quote(n.Value)}
		}
		return c.construct(n.Alias, depth+1)
	}
	if v, ok := c.done[n]; ok {
		return v, nil
	}
	var v *YValue
	var err error
	switch n.Kind {
	case yaml.ScalarNode:
		v, err = constructScalar(n)
	case yaml.SequenceNode:
		if t := explicitTag(n); t != "" && t != "!!seq" {
			return nil, &YAMLError{Line: n.Line, Msg: "could not determine a constructor for the tag " + strconv.Quote(t)}
		}
		v = &YValue{Kind: YSeq, Line: n.Line}
		for _, ch := range n.Content {
			item, err := c.construct(ch, depth+1)
			if err != nil {
				return nil, err
			}
			v.Items = append(v.Items, item)
		}
	case yaml.MappingNode:
		if t := explicitTag(n); t != "" && t != "!!map" {
			return nil, &YAMLError{Line: n.Line, Msg: "could not determine a constructor for the tag " + strconv.Quote(t)}
		}
		v, err = c.constructMapping(n, depth)
	default:
		return nil, &YAMLError{Line: n.Line, Msg: "unexpected node"}
	}
	if err != nil {
		return nil, err
	}
	c.done[n] = v
	return v, nil
}

// pairs flattens a mapping node as PyYAML's flatten_mapping does: the pairs of "<<" sources
// come first (of a list of sources, the first one's last, so it wins), then the node's own.
func (c *yconstructor) pairs(n *yaml.Node, depth int) ([][2]*yaml.Node, error) {
	if depth > MaxYAMLDepth {
		return nil, &YAMLError{Line: n.Line, Msg: fmt.Sprintf("nested deeper than %d (not read)", MaxYAMLDepth)}
	}
	var merge, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			own = append(own, [2]*yaml.Node{k, val})
			continue
		}
		src := deref(val)
		switch src.Kind {
		case yaml.MappingNode:
			p, err := c.pairs(src, depth+1)
			if err != nil {
				return nil, err
			}
			merge = append(merge, p...)
		case yaml.SequenceNode:
			var sub [][][2]*yaml.Node
			for _, s := range src.Content {
				s = deref(s)
				if s.Kind != yaml.MappingNode {
					return nil, &YAMLError{Line: s.Line, Msg: "while constructing a mapping: expected a mapping for merging"}
				}
				p, err := c.pairs(s, depth+1)
				if err != nil {
					return nil, err
				}
				sub = append(sub, p)
			}
			for i := len(sub) - 1; i >= 0; i-- {
				merge = append(merge, sub[i]...)
			}
		default:
			return nil, &YAMLError{Line: val.Line, Msg: "while constructing a mapping: expected a mapping or list of mappings for merging"}
		}
	}
	return append(merge, own...), nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i <= MaxYAMLDepth; i++ {
		n = n.Alias
	}
	return n
}

func isMergeKey(k *yaml.Node) bool {
	k = deref(k)
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Style == 0 || explicitTag(k) == "!!merge")
}

func (c *yconstructor) constructMapping(n *yaml.Node, depth int) (*YValue, error) {
	ps, err := c.pairs(n, depth)
	if err != nil {
		return nil, err
	}
	v := &YValue{Kind: YMap, Line: n.Line}
	index := map[string]int{}
	for _, p := range ps {
		kn := deref(p[0])
		if kn.Kind != yaml.ScalarNode {
			return nil, &YAMLError{Line: p[0].Line, Msg: "while constructing a mapping: found unhashable key"}
		}
		k, err := c.construct(p[0], depth+1)
		if err != nil {
			return nil, err
		}
		val, err := c.construct(p[1], depth+1)
		if err != nil {
			return nil, err
		}
		id := keyID(k)
		if i, ok := index[id]; ok {
			v.Vals[i] = val // a Python dict: the first key's position, the last value
			continue
		}
		index[id] = len(v.Keys)
		v.Keys = append(v.Keys, k)
		v.Vals = append(v.Vals, val)
	}
	return v, nil
}

// keyID is a key's identity as a Python dict compares keys: True, 1 and 1.0 are one key.
func keyID(k *YValue) string {
	switch k.Kind {
	case YNull:
		return "n"
	case YBool:
		if k.Bool {
			return "i1"
		}
		return "i0"
	case YInt:
		return "i" + k.Int.String()
	case YFloat:
		if k.Float == math.Trunc(k.Float) && !math.IsInf(k.Float, 0) {
			f, _ := big.NewFloat(k.Float).Int(nil)
			return "i" + f.String()
		}
		if math.IsNaN(k.Float) {
			return "nan" // PyYAML returns one NaN object for every .nan: one key
		}
		return "f" + strconv.FormatFloat(k.Float, 'g', -1, 64)
	}
	return "s" + k.Str
}

// explicitTag is the tag written on the node ("" without one), in yaml.v3's short form.
func explicitTag(n *yaml.Node) string {
	if n.Style&yaml.TaggedStyle == 0 {
		return ""
	}
	return n.Tag
}

// PyYAML's implicit resolvers (resolver.py), for plain scalars.
var (
	yBoolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yFloatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yIntRe   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yNullRe  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yTimeRe  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// resolvePlain is the tag PyYAML's resolver gives a plain scalar: each resolver is tried only
// for the first characters it is registered for, in registration order.
func resolvePlain(s string) string {
	first := byte(0)
	if s != "" {
		first = s[0]
	}
	in := func(set string) bool { return s == "" && set == "" || s != "" && strings.IndexByte(set, first) >= 0 }
	switch {
	case in("yYnNtTfFoO") && yBoolRe.MatchString(s):
		return "!!bool"
	case in("-+0123456789.") && yFloatRe.MatchString(s):
		return "!!float"
	case in("-+0123456789") && yIntRe.MatchString(s):
		return "!!int"
	case in("<") && s == "<<":
		return "!!merge"
	case (s == "" || in("~nN")) && yNullRe.MatchString(s):
		return "!!null"
	case in("0123456789") && yTimeRe.MatchString(s):
		return "!!timestamp"
	case in("=") && s == "=":
		return "!!value"
	}
	return "!!str"
}

func constructScalar(n *yaml.Node) (*YValue, error) {
	tag := explicitTag(n)
	if tag == "" {
		tag = "!!str"
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			tag = resolvePlain(n.Value)
		}
	}
	s := n.Value
	v := &YValue{Line: n.Line, Str: s}
	bad := func() (*YValue, error) {
		return nil, &YAMLError{Line: n.Line, Msg: fmt.Sprintf("%s %q is not one PyYAML constructs", tag, s)}
	}
	switch tag {
	case "!!str", "!!python/unicode": // cloud-init's loader (safeyaml.py) adds python/unicode
		v.Kind = YStr
	case "!!null":
		v.Kind = YNull
	case "!!bool":
		v.Kind = YBool
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			v.Bool = true
		case "no", "false", "off":
		default:
			return bad()
		}
	case "!!int":
		i, ok := pyInt(s)
		if !ok {
			return bad()
		}
		v.Kind, v.Int = YInt, i
	case "!!float":
		f, ok := pyFloat(s)
		if !ok {
			return bad()
		}
		v.Kind, v.Float = YFloat, f
	default:
		// !!timestamp, !!binary, "=" (!!value, which safe_load refuses), local tags: not
		// modelled (cloud-init's data has none); an error, never a guess
		return nil, &YAMLError{Line: n.Line, Msg: fmt.Sprintf("could not determine a constructor for the tag %q (%q)", tag, s)}
	}
	return v, nil
}

// pyInt is SafeConstructor.construct_yaml_int (Python's int() of the digits, which accepts the
// base's own prefix again: !!int '0o17' is 15).
func pyInt(s string) (*big.Int, bool) {
	s = strings.ReplaceAll(s, "_", "")
	if s == "" {
		return nil, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	var out *big.Int
	var ok bool
	switch {
	case s == "0":
		return new(big.Int), true
	case strings.HasPrefix(s, "0b"):
		out, ok = pyIntBase(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		out, ok = pyIntBase(s[2:], 16)
	case strings.HasPrefix(s, "0"):
		out, ok = pyIntBase(s, 8)
	case strings.Contains(s, ":"):
		out, ok = new(big.Int), true
		for _, d := range strings.Split(s, ":") {
			p, good := pyIntBase(d, 10)
			if !good {
				return nil, false
			}
			out.Mul(out, big.NewInt(60)).Add(out, p)
		}
	default:
		out, ok = pyIntBase(s, 10)
	}
	if !ok {
		return nil, false
	}
	if sign < 0 {
		out.Neg(out)
	}
	return out, true
}

// pyIntBase is Python's int(s, base): blanks around, a sign, the base's prefix (0b, 0o, 0x).
func pyIntBase(s string, base int) (*big.Int, bool) {
	s = strings.Trim(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) > 2 && s[0] == '0' {
		switch p := s[1] | 0x20; {
		case base == 2 && p == 'b', base == 8 && p == 'o', base == 16 && p == 'x':
			s = s[2:]
		}
	}
	if s == "" || strings.ContainsAny(s, "+-_ ") {
		return nil, false
	}
	out, ok := new(big.Int).SetString(s, base)
	if !ok {
		return nil, false
	}
	if neg {
		out.Neg(out)
	}
	return out, true
}

// pyFloat is SafeConstructor.construct_yaml_float.
func pyFloat(s string) (float64, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case s == ".inf":
		return sign * math.Inf(1), true
	case s == ".nan":
		return math.NaN(), true
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		f := 0.0
		for _, p := range parts {
			x, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return 0, false
			}
			f = f*60 + x
		}
		return sign * f, true
	}
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return sign * f, true
}
