package cloudinit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

func tree(t *testing.T, files map[string]string) systemd.Source {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
		if err := os.WriteFile(h, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return systemd.FromDir(root)
}

func TestSettings(t *testing.T) {
	f := Read(tree(t, map[string]string{
		Main: "datasource_list: [ NoCloud, None ]\ndisable_root: true\nssh_pwauth: 'no'\n" +
			"cloud_init_modules:\n - growpart\n - [resizefs, always]\n - 7\nnetwork: {config: enabled}\n",
		"/etc/cloud/cloud.cfg.d/90-azure.cfg": "datasource_list:\n  - Azure\ndisable_root: off\nnetwork:\n  config: disabled\n",
	}))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	c := f.Config
	if names, v, ok := c.Datasources(); !ok || strings.Join(names, ",") != "Azure" || v.File != "/etc/cloud/cloud.cfg.d/90-azure.cfg" || v.KeyLine != 1 {
		t.Errorf("datasource_list %v %s %v", names, v.At(), ok)
	}
	if val, set, w := c.Bool("disable_root"); !set || val || w.KeyLine != 3 {
		t.Errorf("disable_root %v %v %s", val, set, w.At())
	}
	if val, set, _ := c.Bool("ssh_pwauth"); !set || val {
		t.Errorf("ssh_pwauth %v %v", val, set)
	}
	if _, set, _ := c.Bool("missing"); set {
		t.Error("an absent key is set")
	}
	var mods []string
	for _, m := range c.Modules("cloud_init_modules") {
		mods = append(mods, m.Str)
	}
	if strings.Join(mods, ",") != "growpart,resizefs" {
		t.Errorf("modules %v", mods)
	}
	if v, off := c.NetworkDisabled(); !off || v.File != "/etc/cloud/cloud.cfg.d/90-azure.cfg" || v.KeyLine != 5 {
		t.Errorf("network %v %s", off, v.At())
	}
}

func TestWhatIsNotReadIsAProblem(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"jinja":      {"/etc/cloud/cloud.cfg.d/10-x.cfg": "## template: jinja\nswap: {size: {{ v }} }\n"},
		"merge_how":  {"/etc/cloud/cloud.cfg.d/10-x.cfg": "merge_how: 'dict(replace)'\nswap: {size: 0}\n"},
		"bad yaml":   {Main: "swap: [\n"},
		"conf_d int": {Main: "conf_d: 3\n"},
	} {
		if f := Read(tree(t, files)); f.Err() == nil {
			t.Errorf("%s: no problem", name)
		}
	}
	// conf_d moves the drop-in directory
	f := Read(tree(t, map[string]string{
		Main:                              "conf_d: /etc/cloud/other\n",
		"/etc/cloud/cloud.cfg.d/9.cfg":    "swap: {size: 1G}\n",
		"/etc/cloud/other/9.cfg":          "swap: {size: 0}\n",
		"/etc/cloud/other/8.cfg.dpkg-old": "swap: {size: 2G}\n",
	}))
	if err := f.Err(); err != nil || f.Config.Swap().Creates || f.Config.From("swap") != "/etc/cloud/other/9.cfg" {
		t.Errorf("conf_d: %v %+v", err, f.Config.Swap())
	}
}

// mergemanydict's default mergers, cases TestConfigAgreesWithCloudInit found: a later file's
// mapping replaces an earlier file's string or list, never a number or null; a later file's
// list or string never replaces anything.
func TestMergeAsCloudInit(t *testing.T) {
	f := Read(tree(t, map[string]string{
		Main:                           "a: {k: 1}\nb: {k: 1}\nc: {k: 1}\nd: [1]\ne: {k: 1}\n",
		"/etc/cloud/cloud.cfg.d/5.cfg": "a: x\nb: [1]\nc: 3\nd: {k: 2}\ne: {j: 2}\n",
	}))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "a mapping of 1", "b": "a mapping of 1", "c": "3", "d": "a mapping of 1", "e": "a mapping of 2"}
	for k, w := range want {
		if v, ok := f.Config.Get(k); !ok || v.String() != w {
			t.Errorf("%s: %v, want %s", k, v.YValue, w)
		}
	}
	if v, _ := f.Config.Get("a"); v.File != Main {
		t.Errorf("a's mapping comes from %s", v.File)
	}
}
