package cloudinit

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// cloudInitOracle runs cloud-init's own code on each tree of a JSON list: util.read_conf_with_confd
// (cloud.cfg and cloud.cfg.d merged) and cc_mounts.handle_swapcfg on its swap: (with the file
// creation replaced by a record of what would be created; "auto" sized for 4 GiB of memory).
const cloudInitOracle = `
import importlib.util, json, struct, sys
from cloudinit import util
from cloudinit.config import cc_mounts as m
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
def fake_setup(fname, size=None, maxsize=None):
    m.os.path.dirname(fname)  # what the real one does first (a non-string filename fails)
    if str(size).lower() == "auto":
        size = m.suggested_swapsize(fsys=None, maxsize=maxsize, memsize=4 * 2**30)
    mibsize = str(int(size / (2**20)))
    if not size:
        return None
    return fname
m.setup_swapfile = fake_setup
out = []
for root in json.load(sys.stdin):
    try:
        cfg = util.read_conf_with_confd(root + "/etc/cloud/cloud.cfg")
    except Exception as e:
        out.append({"error": str(e)})
        continue
    try:
        swap = m.handle_swapcfg(cfg.get("swap", {})) if cfg.get("swap", {}) else None
    except Exception as e:
        swap = None
    out.append({"cfg": canon(cfg), "swap": swap})
json.dump(out, sys.stdout)
`

// requestsStub lets cloud-init's url_helper import without python3-requests (and a configobj
// stub its network renderers without python3-configobj): reading configuration uses neither.
const requestsStub = "class RequestException(Exception): pass\nclass HTTPError(RequestException): pass\nclass ConnectionError(RequestException): pass\nclass Timeout(RequestException): pass\nclass SSLError(ConnectionError): pass\nclass Response: pass\nclass Session: pass\nimport sys as _s\nexceptions = _s.modules[__name__]\n"

func canon(v *sysconf.YValue) any {
	if v == nil {
		return []any{"null"}
	}
	switch v.Kind {
	case sysconf.YNull:
		return []any{"null"}
	case sysconf.YBool:
		return []any{"bool", v.Bool}
	case sysconf.YInt:
		return []any{"int", v.Int.String()}
	case sysconf.YFloat:
		if math.IsNaN(v.Float) {
			return []any{"float", "nan"}
		}
		return []any{"float", fmt.Sprint(math.Float64bits(v.Float))}
	case sysconf.YStr:
		return []any{"str", v.Str}
	case sysconf.YSeq:
		items := []any{}
		for _, x := range v.Items {
			items = append(items, canon(x))
		}
		return []any{"seq", items}
	}
	pairs := []any{}
	for i := range v.Keys {
		pairs = append(pairs, []any{canon(v.Keys[i]), canon(v.Vals[i])})
	}
	return []any{"map", pairs}
}

// genValue writes a value for a cloud-init key, in block or flow style.
func genSwap(rng *rand.Rand) string {
	var parts []string
	if rng.IntN(3) > 0 {
		parts = append(parts, "filename: "+[]string{"/swap.img", "/swapnull.img", "null", "~", "''", "/var/null", "'null'", "123", "[/a]"}[rng.IntN(9)])
	}
	if rng.IntN(5) > 0 {
		parts = append(parts, "size: "+[]string{"0", "'0'", "2G", "auto", "AUTO", "1073741824", "2g", "512M", "1.5G", "null", "''", "1.5", "-1G", "[1]", "2GB", "1e3", "1_024"}[rng.IntN(17)])
	}
	if rng.IntN(3) == 0 {
		parts = append(parts, "maxsize: "+[]string{"0", "4G", "'0'", "1048576", "4g", "null"}[rng.IntN(6)])
	}
	if rng.IntN(2) == 0 {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "\n  " + strings.Join(parts, "\n  ")
}

func genDoc(rng *rand.Rand) string {
	var b strings.Builder
	if rng.IntN(4) == 0 {
		b.WriteString("#cloud-config\n")
	}
	for range rng.IntN(5) {
		key := []string{"swap", `"swap"`, "'swap'", "datasource_list", "disable_root", "ssh_pwauth", "network", "mounts", "lst", "growpart"}[rng.IntN(10)]
		b.WriteString(key + ": ")
		switch strings.Trim(key, `"'`) {
		case "swap":
			b.WriteString(genSwap(rng))
		case "datasource_list":
			b.WriteString([]string{"[Azure]", "[ NoCloud, None ]", "\n  - Azure\n  - None", "Azure", "[]"}[rng.IntN(5)])
		case "disable_root", "ssh_pwauth":
			b.WriteString([]string{"true", "false", "yes", "no", "'no'", "1", "0", "on", "null"}[rng.IntN(9)])
		case "network":
			b.WriteString([]string{"{config: disabled}", "\n  config: disabled", "{version: 2}", "\n  version: 1\n  config: []"}[rng.IntN(4)])
		case "mounts":
			b.WriteString([]string{"[[swap, none, swap, sw, '0', '0']]", "\n  - [ /dev/sdb1, /mnt, auto ]", "[]"}[rng.IntN(3)])
		case "lst":
			b.WriteString([]string{"[1, 2]", "{a: 1}", "x", "null"}[rng.IntN(4)])
		case "growpart":
			b.WriteString([]string{"{mode: auto, devices: ['/']}", "{mode: 'off'}", "\n  mode: false"}[rng.IntN(3)])
		}
		b.WriteString("\n")
	}
	switch rng.IntN(12) {
	case 0:
		return "- a list, not a mapping\n"
	case 1:
		return ""
	}
	return b.String()
}

// cloudInitTrials is how many generated configurations TestConfigAgreesWithCloudInit compares.
const cloudInitTrials = 400

// Differential: on generated /etc/cloud trees (cloud.cfg and cloud.cfg.d/*.cfg, quoted keys,
// flow and block style, values cloud-init reads or refuses), the merged configuration is the one
// cloud-init's own read_conf_with_confd returns, and Swap() creates a swap file exactly when
// cloud-init's cc_mounts.handle_swapcfg would. cloud-init's code is Debian's cloud-init package:
// scripts/get-tools.sh cloud-init unpacks it into .tools/cloud-init (make test does), or set
// CLOUDINIT_PYTHONPATH to another copy's dist-packages.
func TestConfigAgreesWithCloudInit(t *testing.T) {
	const python = "/usr/bin/python3"
	work := t.TempDir()
	stub := filepath.Join(work, "stub")
	for mod, body := range map[string]string{"requests": requestsStub, "configobj": "class ConfigObj(dict): pass\n", "jsonpatch": "class JsonPatch: pass\n", "jinja2": "class Environment: pass\n"} {
		os.MkdirAll(filepath.Join(stub, mod), 0o755)
		os.WriteFile(filepath.Join(stub, mod, "__init__.py"), []byte(body), 0o644)
	}
	pythonPath := os.Getenv("CLOUDINIT_PYTHONPATH")
	if pythonPath == "" {
		// scripts/get-tools.sh cloud-init unpacks Debian's package here (make test does)
		pythonPath = filepath.Join(testfixture.RepoRoot(), ".tools", "cloud-init", "usr", "lib", "python3", "dist-packages")
	}
	env := append(os.Environ(), "PYTHONPATH="+strings.Join([]string{pythonPath, stub}, ":"))
	probe := exec.Command(python, "-c", "from cloudinit import util; from cloudinit.config import cc_mounts")
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("no cloud-init to compare with (scripts/get-tools.sh cloud-init, or set CLOUDINIT_PYTHONPATH): %v %s", err, out)
	}
	rng := rand.New(rand.NewPCG(26, 44))
	trials := cloudInitTrials
	if testing.Short() {
		trials = 80
	}
	var roots []string
	for trial := range trials {
		root := filepath.Join(work, fmt.Sprint(trial))
		d := filepath.Join(root, "etc/cloud/cloud.cfg.d")
		os.MkdirAll(d, 0o755)
		if rng.IntN(6) > 0 {
			os.WriteFile(filepath.Join(root, "etc/cloud/cloud.cfg"), []byte(genDoc(rng)), 0o644)
		}
		for i := range rng.IntN(5) {
			name := fmt.Sprintf("%02d-%c.cfg", rng.IntN(100), 'a'+i)
			if rng.IntN(8) == 0 {
				name = strings.TrimSuffix(name, ".cfg") + ".cfg.disabled"
			}
			os.WriteFile(filepath.Join(d, name), []byte(genDoc(rng)), 0o644)
		}
		roots = append(roots, root)
	}
	in, _ := json.Marshal(roots)
	cmd := exec.Command(python, "-c", cloudInitOracle)
	cmd.Env, cmd.Stdin, cmd.Stderr = env, strings.NewReader(string(in)), os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var want []struct {
		Cfg   any     `json:"cfg"`
		Swap  *string `json:"swap"`
		Error string  `json:"error"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	swaps := 0
	for i, root := range roots {
		f := Read(systemd.FromDir(root))
		if err := f.Err(); err != nil {
			t.Errorf("tree %d: %v (cloud-init: %+v)", i, err, want[i])
			continue
		}
		got, _ := json.Marshal(canon(f.Config.Export()))
		var g any
		json.Unmarshal(got, &g)
		if want[i].Error != "" || !reflect.DeepEqual(g, want[i].Cfg) {
			t.Errorf("tree %d:\n ours       %s\n cloud-init %s %s\n%s", i, got, mustJSON(want[i].Cfg), want[i].Error, dump(root))
			continue
		}
		sw := f.Config.Swap()
		if sw.Creates != (want[i].Swap != nil) || sw.Creates && sw.Filename != *want[i].Swap {
			t.Errorf("tree %d: ours %+v, cloud-init creates %v\n%s", i, sw, want[i].Swap, dump(root))
		}
		if sw.Creates {
			swaps++
		}
	}
	t.Logf("%d trees, %d with a swap file", trials, swaps)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func dump(root string) string {
	var b strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "==> %s\n%s", strings.TrimPrefix(p, root), data)
		}
		return nil
	})
	return b.String()
}
