// Package cloudinit is cloud-init's system configuration of an image as cloud-init itself reads
// it (cloudinit/util.py read_conf_with_confd): /etc/cloud/cloud.cfg, then the *.cfg files of its
// conf.d directory (cloud.cfg's conf_d, else /etc/cloud/cloud.cfg.d), each loaded with PyYAML's
// safe_load semantics (sysconf.LoadYAML) and merged as mergemanydict does with the default
// mergers: the conf.d files in reverse name order, then cloud.cfg, the first source to set a key
// keeping it (so the last file by name wins), mappings merged key by key, anything else never
// replaced (a list or a string only by a mapping). Each value keeps
// the file and line it came from.
package cloudinit

import (
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"math"
	"math/big"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Main is the file cloud-init reads first.
const Main = "/etc/cloud/cloud.cfg"

// Value is a merged value, the file it comes from and the line of its key (where "swap:" is
// written; the value's own line is YValue.Line).
type Value struct {
	*sysconf.YValue
	File    string
	KeyLine int
}

// At is "file:line" of the value's key.
func (v Value) At() string { return fmt.Sprintf("%s:%d", v.File, v.KeyLine) }

// node is the merge tree: a mapping keeps each key's source.
type node struct {
	key     *sysconf.YValue // the key as written (for Export)
	v       *sysconf.YValue
	file    string
	keyLine int
	keys    []string
	kids    map[string]*node
}

// Config is the merged configuration.
type Config struct {
	Files []string // read, in cloud-init's merge order reversed (cloud.cfg first, then conf.d by name)
	root  *node
}

// Facts is the configuration and what kept it from being read.
type Facts struct {
	Config   *Config
	Problems problems.List
}

// Err joins the problems.
func (f *Facts) Err() error { return f.Problems.Err() }

// Of returns the image's cloud-init configuration, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/cloudinit", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// Read reads and merges the configuration. A file cloud-init reads that could not be read or
// loaded is a problem naming it: what it sets is unknown (cloud-init would skip a file PyYAML
// refuses, but then our reading of everything after it could be wrong; we do not guess).
func Read(src systemd.Source) *Facts {
	f := &Facts{Config: &Config{root: &node{kids: map[string]*node{}}}}
	mainDoc, err := f.load(src, Main)
	if err != nil {
		f.Problems = append(f.Problems, err)
		return f
	}
	confd := Main + ".d"
	if v := mainDoc.Get("conf_d"); v != nil {
		if v.Kind != sysconf.YStr {
			if v.Truthy() {
				f.Problems = append(f.Problems, fmt.Errorf("%s:%d: conf_d is not a string: cloud-init refuses its configuration", Main, v.Line))
				return f
			}
			confd = ""
		} else {
			confd = path.Join("/", v.Str)
		}
	}
	var docs []*sysconf.YValue
	var files []string
	if confd != "" {
		m, err := src.Glob(confd + "/*.cfg")
		if err != nil {
			f.Problems = append(f.Problems, err)
			return f
		}
		slices.Sort(m)
		for _, p := range m {
			fi, err := src.Lstat(p)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
				continue
			}
			if fi == nil || fi.IsDir() {
				continue
			}
			doc, err := f.load(src, p)
			if err != nil {
				f.Problems = append(f.Problems, err)
				continue
			}
			docs, files = append(docs, doc), append(files, p)
		}
	}
	f.Config.Files = append([]string{Main}, files...)
	// mergemanydict: the first source keeps a key; conf.d in reverse name order, then cloud.cfg
	for i := len(docs) - 1; i >= 0; i-- {
		mergeInto(f.Config.root, docs[i], files[i])
	}
	mergeInto(f.Config.root, mainDoc, Main)
	return f
}

// templateHeader is the first line of a file cloud-init renders with Jinja before loading.
var templateHeader = regexp.MustCompile(`^##\s*template:\s*jinja`)

func (f *Facts) load(src systemd.Source, p string) (*sysconf.YValue, error) {
	data, err := src.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if data == nil {
		return nil, nil // cloud-init: a missing file is an empty configuration
	}
	if templateHeader.Match(data) {
		return nil, fmt.Errorf("%s:1: a Jinja template, rendered with instance data at boot (its settings cannot be known offline)", p)
	}
	v, err := sysconf.LoadYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if v != nil && v.Kind != sysconf.YMap {
		return nil, nil // cloud-init: not a dict, read as {}
	}
	if v != nil {
		for _, k := range []string{"merge_how", "merge_type"} {
			if m := v.Get(k); m != nil {
				return nil, fmt.Errorf("%s:%d: %s changes how cloud-init merges its configuration (not modelled)", p, m.Line, k)
			}
		}
	}
	return v, nil
}

// mergeInto merges a source into the tree as cloud-init's default dict merger does: a new key is
// added; an existing one is merged when both are mappings, replaced when the old value is a
// list or a string and the new one a mapping (the list merger's "replace", the string merger's
// non-append: they hand back the mapping), and kept otherwise (None, numbers, booleans have no
// merger; a new list or string does not recurse).
func mergeInto(dst *node, src *sysconf.YValue, file string) {
	if src == nil {
		return
	}
	for i, k := range src.Keys {
		key := keyString(k)
		val := src.Vals[i]
		old, ok := dst.kids[key]
		switch {
		case !ok:
			n := &node{key: k, v: val, file: file, keyLine: k.Line, kids: map[string]*node{}}
			if val.Kind == sysconf.YMap {
				n.v = &sysconf.YValue{Kind: sysconf.YMap, Line: val.Line}
				mergeInto(n, val, file)
			}
			dst.kids[key] = n
			dst.keys = append(dst.keys, key)
		case old.v.Kind == sysconf.YMap && val.Kind == sysconf.YMap:
			mergeInto(old, val, file)
		case (old.v.Kind == sysconf.YSeq || old.v.Kind == sysconf.YStr) && val.Kind == sysconf.YMap:
			n := &node{key: old.key, v: &sysconf.YValue{Kind: sysconf.YMap, Line: val.Line}, file: file, keyLine: k.Line, kids: map[string]*node{}}
			mergeInto(n, val, file)
			dst.kids[key] = n
		}
	}
}

// keyString is a key as the rules look it up: a string key is itself; others by Python's repr.
func keyString(k *sysconf.YValue) string {
	if k.Kind == sysconf.YStr {
		return k.Str
	}
	return "\x00" + k.String()
}

// Export is the whole merged configuration as one value (what cloud-init's
// read_conf_with_confd returns).
func (c *Config) Export() *sysconf.YValue { return export(c.root) }

func export(n *node) *sysconf.YValue {
	if n.v != nil && n.v.Kind != sysconf.YMap {
		return n.v
	}
	m := &sysconf.YValue{Kind: sysconf.YMap}
	if n.v != nil {
		m.Line = n.v.Line
	}
	for _, k := range n.keys {
		kid := n.kids[k]
		m.Keys = append(m.Keys, kid.key)
		m.Vals = append(m.Vals, export(kid))
	}
	return m
}

// Get returns the merged value at a path of string keys, ok false when absent.
func (c *Config) Get(keys ...string) (Value, bool) {
	n := c.root
	for _, k := range keys {
		if n == nil || n.kids == nil {
			return Value{}, false
		}
		var ok bool
		if n, ok = n.kids[k]; !ok {
			return Value{}, false
		}
	}
	if n == c.root {
		return Value{}, false
	}
	v := n.v
	if v.Kind == sysconf.YMap && len(n.keys) > 0 {
		// the merged mapping: rebuild from the tree so Get on it sees every source's keys
		m := &sysconf.YValue{Kind: sysconf.YMap, Line: v.Line}
		for _, k := range n.keys {
			m.Keys = append(m.Keys, &sysconf.YValue{Kind: sysconf.YStr, Str: k})
			m.Vals = append(m.Vals, n.kids[k].v)
		}
		v = m
	}
	return Value{YValue: v, File: n.file, KeyLine: n.keyLine}, true
}

// From returns where a key of a merged mapping came from (file of that key's value).
func (c *Config) From(keys ...string) string {
	n := c.root
	for _, k := range keys {
		if n == nil || n.kids == nil {
			return ""
		}
		n = n.kids[k]
	}
	if n == nil {
		return ""
	}
	return n.file
}

// Swap is the swap file cloud-init's mounts module (cc_mounts.handle_swapcfg) creates at first
// boot, when it does.
type Swap struct {
	Creates  bool
	Filename string
	Size     string
	Where    Value // the swap: setting (or its size) that decides
	Why      string
}

// Swap reads swap: as cc_mounts does: a mapping with filename (default /swap.img), size (0: no
// swap; "auto": a size from the memory, bounded by maxsize) and maxsize; nothing is created when
// filename or size is falsy (null, 0, ""), or size is "0" in human2bytes, or auto with a maxsize
// of 0, or a size human2bytes refuses ("2g": it fails and creates none). A swap: that is not a
// mapping is ignored (cloud-init warns).
func (c *Config) Swap() Swap {
	v, ok := c.Get("swap")
	if !ok || v.Kind != sysconf.YMap {
		return Swap{}
	}
	s := Swap{Where: v, Filename: "/swap.img"}
	fn := v.Get("filename")
	if fn != nil {
		s.Filename = fn.String()
	}
	size := v.Get("size")
	switch {
	case fn != nil && !fn.Truthy():
		return Swap{Where: v, Why: "filename " + fn.String() + " (no swap)"}
	case size == nil || !size.Truthy():
		return Swap{Where: v, Why: "no size (no swap)"}
	case fn != nil && fn.Kind != sysconf.YStr:
		return Swap{Where: v, Why: "filename is not a string (cloud-init fails on it: no swap)"}
	case size.Kind == sysconf.YSeq || size.Kind == sysconf.YMap:
		return Swap{Where: v, Why: "size is not a number (cloud-init fails on it: no swap)"}
	}
	if mx := v.Get("maxsize"); mx != nil && mx.Kind == sysconf.YStr {
		if _, ok := human2bytes(mx); !ok {
			return Swap{Where: v, Why: fmt.Sprintf("maxsize %q, which cloud-init refuses (no swap)", mx.Str)}
		}
	}
	s.Size = size.String()
	if size.Kind == sysconf.YStr && size.Str == "auto" {
		if mx := v.Get("maxsize"); mx != nil {
			if b, ok := human2bytes(mx); ok && b == 0 {
				return Swap{Where: v, Why: "size auto with maxsize 0 (no swap)"}
			}
		}
		s.Creates = true
		return s
	}
	if size.Kind == sysconf.YStr {
		b, ok := human2bytes(size)
		switch {
		case !ok:
			return Swap{Where: v, Why: fmt.Sprintf("size %q, which cloud-init refuses (no swap)", size.Str)}
		case b == 0:
			return Swap{Where: v, Why: "size 0 (no swap)"}
		}
	}
	s.Creates = true
	return s
}

// human2bytes is cloud-init's util.human2bytes for a size: a number as YAML gives it, or a
// string: a trailing "B" dropped, then an optional K/M/G/T (upper case only), then what Python's
// float() reads, not negative; ok false for what it refuses (cloud-init then logs "failed to
// setup swap" and creates none).
func human2bytes(v *sysconf.YValue) (float64, bool) {
	switch v.Kind {
	case sysconf.YInt:
		f, _ := new(big.Float).SetInt(v.Int).Float64()
		return f, true
	case sysconf.YFloat:
		return v.Float, !math.IsNaN(v.Float) && !math.IsInf(v.Float, 0)
	case sysconf.YBool:
		if v.Bool {
			return 1, true
		}
		return 0, true
	case sysconf.YStr:
	default:
		return 0, false
	}
	s := strings.TrimSuffix(v.Str, "B")
	mult := 1.0
	for suffix, m := range map[string]float64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(s, "_", "")), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return math.Trunc(f * mult), true
}

// SwapMounts are the entries of mounts: whose filesystem type is swap (or whose device is the
// swap device name): cc_mounts writes them to fstab at first boot.
func (c *Config) SwapMounts() []Value {
	v, ok := c.Get("mounts")
	if !ok || v.Kind != sysconf.YSeq {
		return nil
	}
	var out []Value
	for _, e := range v.Items {
		if e == nil || e.Kind != sysconf.YSeq || len(e.Items) == 0 {
			continue
		}
		dev := e.Items[0]
		swap := dev.Kind == sysconf.YStr && dev.Str == "swap"
		if len(e.Items) > 2 && e.Items[2].Kind == sysconf.YStr && e.Items[2].Str == "swap" {
			swap = true
		}
		if swap {
			out = append(out, Value{YValue: e, File: v.File, KeyLine: e.Line})
		}
	}
	return out
}

// Datasources is datasource_list when set: the names, where, and whether a file sets it.
func (c *Config) Datasources() ([]string, Value, bool) {
	v, ok := c.Get("datasource_list")
	if !ok {
		return nil, Value{}, false
	}
	var names []string
	if v.Kind == sysconf.YSeq {
		for _, x := range v.Items {
			names = append(names, x.String())
		}
	} else if v.Kind == sysconf.YStr {
		names = []string{v.Str}
	}
	return names, v, true
}

// NetworkDisabled says whether network: {config: disabled} is set (cloud-init then writes no
// network configuration), and where.
func (c *Config) NetworkDisabled() (Value, bool) {
	v, ok := c.Get("network", "config")
	if ok && v.Kind == sysconf.YStr && v.Str == "disabled" {
		return v, true
	}
	return Value{}, false
}

// Bool is a setting read as cloud-init's util.is_true/is_false read it from YAML: a boolean, or
// the strings true/yes/on/1 and false/no/off/0 in any case.
func (c *Config) Bool(key string) (val, set bool, where Value) {
	v, ok := c.Get(key)
	if !ok {
		return false, false, Value{}
	}
	switch {
	case v.Kind == sysconf.YBool:
		return v.Bool, true, v
	case v.Kind == sysconf.YStr:
		switch strings.ToLower(strings.TrimSpace(v.Str)) {
		case "true", "yes", "on", "1":
			return true, true, v
		case "false", "no", "off", "0":
			return false, true, v
		}
	case v.Kind == sysconf.YInt:
		return v.Int.Sign() != 0, true, v
	}
	return false, false, v
}

// Modules lists the module names of a module list (cloud_init_modules, cloud_config_modules,
// cloud_final_modules): a name, or a list whose first item is the name.
func (c *Config) Modules(list string) []Value {
	v, ok := c.Get(list)
	if !ok || v.Kind != sysconf.YSeq {
		return nil
	}
	var out []Value
	for _, m := range v.Items {
		if m.Kind == sysconf.YSeq && len(m.Items) > 0 {
			m = m.Items[0]
		}
		if m.Kind == sysconf.YStr {
			out = append(out, Value{YValue: m, File: v.File, KeyLine: m.Line})
		}
	}
	return out
}
