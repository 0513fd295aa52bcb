package sysconf

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// yamlOracleScript loads each document of a JSON list with yaml.safe_load (cloud-init's loader)
// and prints, per document, the constructed value in a tagged canonical form, or ["error"].
const yamlOracleScript = `
import json, struct, sys, yaml
def canon(v):
    if v is None: return ["null"]
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", str(v)]
    if isinstance(v, float):
        return ["float", "nan" if v != v else str(struct.unpack("<Q", struct.pack("<d", v))[0])]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, list): return ["seq", [canon(x) for x in v]]
    if isinstance(v, dict): return ["map", [[canon(k), canon(x)] for k, x in v.items()]]
    return ["other", type(v).__name__]
out = []
for doc in json.load(sys.stdin):
    try:
        out.append(canon(yaml.safe_load(doc)))
    except Exception as e:
        out.append(["error", str(e).splitlines()[0] if str(e) else type(e).__name__])
json.dump(out, sys.stdout)
`

// canonYAML is yamlOracleScript's canonical form of one of our values.
func canonYAML(v *YValue) any {
	if v == nil {
		return []any{"null"}
	}
	switch v.Kind {
	case YNull:
		return []any{"null"}
	case YBool:
		return []any{"bool", v.Bool}
	case YInt:
		return []any{"int", v.Int.String()}
	case YFloat:
		if math.IsNaN(v.Float) {
			return []any{"float", "nan"}
		}
		return []any{"float", fmt.Sprint(math.Float64bits(v.Float))}
	case YStr:
		return []any{"str", v.Str}
	case YSeq:
		items := []any{}
		for _, x := range v.Items {
			items = append(items, canonYAML(x))
		}
		return []any{"seq", items}
	}
	pairs := []any{}
	for i := range v.Keys {
		pairs = append(pairs, []any{canonYAML(v.Keys[i]), canonYAML(v.Vals[i])})
	}
	return []any{"map", pairs}
}

// PyYAML's scalars as cloud-init data writes them, and the ones YAML 1.1 and 1.2 disagree on.
var yamlScalars = []string{
	"yes", "no", "Yes", "NO", "on", "Off", "y", "n", "true", "False", "TRUE", "tRue",
	"~", "null", "Null", "NULL", "nul", "", "none", "None",
	"0", "-0", "+12", "017", "08", "0o17", "0x1F", "0x_1f", "0b101", "-0b1_0", "1_000", "1:30", "-1:30:05", "1:60", "190:20:30",
	"1e3", "1.0e+3", "1.5E-2", "1.", ".5", "-.5", "+1.5", "1_0.5", "1:30.5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1.2.3",
	"123456789012345678901234567890", "0777777777777777777777777",
	"swap", "/swap.img", "/swapnull", "/null", "null.img", "2G", "auto", "512M", "1.5G",
	"a b", "a: b", "'x'", "#x", "x#y", "- x", "<<x", "=x", "@x", "`x", "%x", "!x", "&x", "*x",
}

// genYAMLScalar writes a scalar: plain, single- or double-quoted, explicitly tagged.
func genYAMLScalar(rng *rand.Rand, key bool) string {
	s := yamlScalars[rng.IntN(len(yamlScalars))]
	if key && rng.IntN(3) > 0 {
		s = []string{"swap", "filename", "size", "maxsize", "mounts", "datasource_list", "disable_root", "ssh_pwauth", "a", "b", "growpart"}[rng.IntN(11)]
	}
	plainOK := s != "" && !strings.ContainsAny(s[:1], "'#-@`%!&*|>{}[],?:\"") && !strings.Contains(s, ": ") && !strings.Contains(s, " #") && !strings.HasPrefix(s, "<<")
	switch r := rng.IntN(10); {
	case r < 6 && plainOK:
		return s
	case r < 8:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	case r < 9:
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	default:
		tag := []string{"!!str", "!!int", "!!bool", "!!null", "!!float"}[rng.IntN(5)]
		return tag + " '" + strings.ReplaceAll(s, "'", "''") + "'"
	}
}

// yamlGen writes documents: block and flow collections, anchors and aliases, merge keys,
// duplicate keys, comments, block scalars.
type yamlGen struct {
	rng     *rand.Rand
	anchors []string
	maps    []string // anchors of mappings (merge sources)
	n       int
}

// anchor may name the value about to be written; close makes it usable by aliases once the
// value is complete (an alias inside its own anchor's value is a recursive structure, which
// cloud-init's data never is and LoadYAML refuses).
func (g *yamlGen) anchor(kind string) (string, func()) {
	if g.rng.IntN(5) != 0 {
		return "", func() {}
	}
	g.n++
	a := fmt.Sprintf("a%d", g.n)
	return "&" + a + " ", func() {
		g.anchors = append(g.anchors, a)
		if kind == "map" {
			g.maps = append(g.maps, a)
		}
	}
}

func (g *yamlGen) flow(depth int) string {
	switch r := g.rng.IntN(4); {
	case r == 0 && depth < 3:
		var items []string
		a, done := g.anchor("seq")
		for range g.rng.IntN(4) {
			items = append(items, g.flow(depth+1))
		}
		done()
		return a + "[" + strings.Join(items, ", ") + "]"
	case r == 1 && depth < 3:
		var items []string
		a, done := g.anchor("map")
		for range g.rng.IntN(4) {
			items = append(items, genYAMLScalar(g.rng, true)+": "+g.flow(depth+1))
		}
		done()
		return a + "{" + strings.Join(items, ", ") + "}"
	case r == 2 && len(g.anchors) > 0:
		return "*" + g.anchors[g.rng.IntN(len(g.anchors))]
	}
	s := genYAMLScalar(g.rng, false)
	if strings.HasPrefix(s, "!!") {
		return s
	}
	a, done := g.anchor("scalar")
	done()
	return a + s
}

// block writes a block value at an indentation, after "key:" or "- ".
func (g *yamlGen) block(b *strings.Builder, indent string, depth int) {
	switch r := g.rng.IntN(10); {
	case r < 3 && depth < 4:
		a, done := g.anchor("map")
		b.WriteString(" " + a + "\n")
		g.mapping(b, indent+"  ", depth+1)
		done()
	case r < 5 && depth < 4:
		a, done := g.anchor("seq")
		b.WriteString(" " + a + "\n")
		for range 1 + g.rng.IntN(3) {
			b.WriteString(indent + "  -")
			g.block(b, indent+"  ", depth+1)
		}
		done()
	case r < 6:
		b.WriteString(" " + []string{"|", ">", "|-", ">+"}[g.rng.IntN(4)] + "\n" + indent + "  line one\n" + indent + "  " + genYAMLScalar(g.rng, false) + "\n")
	default:
		b.WriteString(" " + g.flow(depth) + "\n")
	}
	if g.rng.IntN(8) == 0 {
		b.WriteString(indent + "# a comment\n")
	}
}

func (g *yamlGen) mapping(b *strings.Builder, indent string, depth int) {
	for i := range 1 + g.rng.IntN(4) {
		if i > 0 && g.rng.IntN(6) == 0 && len(g.maps) > 0 {
			if g.rng.IntN(2) == 0 {
				fmt.Fprintf(b, "%s<<: *%s\n", indent, g.maps[g.rng.IntN(len(g.maps))])
			} else {
				fmt.Fprintf(b, "%s<<: [*%s, *%s]\n", indent, g.maps[g.rng.IntN(len(g.maps))], g.maps[g.rng.IntN(len(g.maps))])
			}
			continue
		}
		b.WriteString(indent + genYAMLScalar(g.rng, true) + ":")
		g.block(b, indent, depth)
	}
}

func genYAMLDoc(rng *rand.Rand) string {
	g := &yamlGen{rng: rng}
	var b strings.Builder
	if rng.IntN(6) == 0 {
		b.WriteString("#cloud-config\n")
	}
	switch rng.IntN(8) {
	case 0:
		b.WriteString(g.flow(0) + "\n")
	case 1:
		b.WriteString("---\n")
		g.mapping(&b, "", 0)
	default:
		g.mapping(&b, "", 0)
	}
	doc := b.String()
	if rng.IntN(6) == 0 { // a mutation: a byte dropped, doubled or replaced
		i := rng.IntN(len(doc))
		switch rng.IntN(3) {
		case 0:
			doc = doc[:i] + doc[i+1:]
		case 1:
			doc = doc[:i] + doc[i:i+1] + doc[i:]
		default:
			doc = doc[:i] + string(":-[]{}#&*'\"\t \n"[rng.IntN(14)]) + doc[i+1:]
		}
	}
	return doc
}

// yamlTrials is how many generated documents TestYAMLAgreesWithPyYAML compares.
const yamlTrials = 3000

// Differential: LoadYAML constructs what PyYAML's safe_load (Debian's python3-yaml, what
// cloud-init uses) constructs, on generated documents; whatever PyYAML refuses, we refuse.
// We may refuse more (that is fail closed: the rule errors) but never by much.
func TestYAMLAgreesWithPyYAML(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import yaml").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with PyYAML (python3-yaml) to compare with")
	}
	rng := rand.New(rand.NewPCG(26, 7))
	trials := yamlTrials
	if testing.Short() {
		trials = 500
	}
	docs := make([]string, trials)
	for i := range docs {
		docs[i] = genYAMLDoc(rng)
	}
	in, _ := json.Marshal(docs)
	cmd := exec.Command(python, "-c", yamlOracleScript)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var want []any
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	onlyOurs, bad := 0, 0
	for i, doc := range docs {
		v, err := LoadYAML([]byte(doc))
		w := want[i].([]any)
		switch {
		case w[0] == "error" && err == nil:
			bad++
			t.Errorf("document %d: PyYAML refuses it (%v), we load %v\n%s", i, w[1], canonYAML(v), doc)
		case w[0] == "error":
		case err != nil:
			onlyOurs++
			t.Logf("document %d: PyYAML loads it, we refuse it: %v\n%s", i, err, doc)
		default:
			got, _ := json.Marshal(canonYAML(v))
			var g any
			json.Unmarshal(got, &g)
			if !reflect.DeepEqual(g, w) {
				bad++
				t.Errorf("document %d:\n ours   %s\n PyYAML %s\n%s", i, got, mustJSON(w), doc)
			}
		}
		if bad > 10 {
			t.Fatal("too many disagreements")
		}
	}
	if onlyOurs > trials/100 {
		t.Errorf("%d of %d documents PyYAML loads are refused by us (more than 1%%)", onlyOurs, trials)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
