// Package sshd is the effective sshd configuration of an image as `sshd -T` resolves it for the
// sshd the system really starts: the service unit found as systemd finds it (ssh.service,
// sshd.service; /etc over /run over /usr/lib, drop-ins, ExecStart= reset), its command line with
// the environment systemd passes (Environment=, EnvironmentFile= such as /etc/default/ssh's
// SSHD_OPTS), sshd's own options (-f FILE, -o Key=Value), then the configuration file with its
// Includes and Match blocks. A -o option is read before the file, so it wins over the file's
// global lines, and a matching Match block still wins over it (TestEffectiveAgreesWithSshdT).
package sshd

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// DefaultConfig is the file sshd reads without -f.
const DefaultConfig = "/etc/ssh/sshd_config"

// Units are the service names sshd runs under, in the order they are looked for.
var Units = []string{"ssh.service", "sshd.service"}

// Config is one way sshd is started and the configuration it then has.
type Config struct {
	Unit       string // the unit file whose ExecStart starts sshd ("" when no unit was found)
	ExecStart  systemd.Setting
	Args       []string // sshd's argv after argv[0], expanded
	ConfigFile string   // what sshd reads: DefaultConfig or -f's file
	// Directives are the command line's -o options (File the unit or the environment file that
	// holds them, Match "") followed by the configuration file's lines with their Includes.
	Directives []sysconf.SSHDirective
	Options    int  // how many of Directives are -o options
	Missing    bool // the configuration file does not exist: sshd will not start
}

// FirstGlobal is the value sshd -T prints for key on a connection no Match selects.
func (c *Config) FirstGlobal(key string) (sysconf.SSHDirective, bool) {
	return sysconf.FirstGlobal(c.Directives, key)
}

// Facts is every configuration sshd is started with, and what could not be read.
type Facts struct {
	Configs  []*Config
	Problems problems.List // each a file sshd (or systemd for it) reads that was not read, or a refusal
}

// Err joins the problems: what depended on them is unknown.
func (f *Facts) Err() error { return f.Problems.Err() }

// Of returns the image's sshd facts, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/sshd", func() any { return ReadBoot(systemd.FromImage(img), systemd.BootOf(img)) }).(*Facts)
}

// Read reads the facts from a source.
func Read(src systemd.Source) *Facts { return ReadBoot(src, systemd.ReadBoot(src)) }

// ReadBoot reads the facts from a source whose boot units are already known (Of passes the
// image's memoized systemd.BootOf, so the boot is not walked twice).
func ReadBoot(src systemd.Source, boot *systemd.Boot) *Facts {
	f := &Facts{}
	seen := map[string]bool{}
	for _, name := range startedUnits(boot, f) {
		u, err := systemd.LoadUnit(src, name)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		if !u.Found() || seen[u.Path] {
			continue
		}
		seen[u.Path] = true
		f.fromUnit(src, u)
	}
	if len(f.Configs) == 0 {
		f.Configs = append(f.Configs, f.config(src, &Config{ConfigFile: DefaultConfig}))
	}
	return f
}

// startedUnits are the units whose sshd is judged: ssh.service and sshd.service, the
// per-connection template of a socket boot starts (ssh.socket with Accept=yes runs
// ssh@.service), and every other service boot starts (systemd.ReadBoot), whose ExecStart may
// run an sshd of its own (fromUnit skips the ones that do not). A boot that could not be read
// is a problem: an sshd started from an unread unit would go unjudged.
func startedUnits(boot *systemd.Boot, f *Facts) []string {
	names := append([]string(nil), Units...)
	f.Problems = append(f.Problems, boot.Problems...)
	// a socket whose Condition*=/Assert*= fail on the image is skipped and listens for nobody;
	// one not decided offline is judged as running (its sshd's configuration is checked), one
	// that could not be read is a problem
	for _, sock := range []string{"ssh.socket", "sshd.socket"} {
		_, run := boot.Runs(sock)
		if run.Err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s: %w", sock, run.Err))
		}
		if run.Runs != systemd.False {
			names = append(names, strings.TrimSuffix(sock, ".socket")+"@.service")
		}
	}
	for _, n := range boot.Names() {
		if strings.HasSuffix(n, ".service") && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

func (f *Facts) fromUnit(src systemd.Source, u *systemd.Unit) {
	starts := u.Values("Service", "ExecStart")
	var sshds []systemd.Setting
	var cmds []sysconf.ExecCommand
	for _, s := range starts {
		cs, err := sysconf.SplitExec(s.Value)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s:%d: ExecStart: %w", s.File, s.Line, err))
			return
		}
		for _, c := range cs {
			if path.Base(c.Path) == "sshd" {
				sshds, cmds = append(sshds, s), append(cmds, c)
			}
		}
	}
	if len(sshds) == 0 {
		return // a unit of that name that does not run sshd
	}
	env, err := systemd.LoadEnvironment(src, u)
	if err != nil {
		f.Problems = append(f.Problems, err)
		return
	}
	for _, ef := range env.Files {
		if ef.Missing && !ef.Optional {
			f.Problems = append(f.Problems, fmt.Errorf("%s:%d: EnvironmentFile=%s does not exist: systemd refuses to start %s", ef.Setting.File, ef.Setting.Line, ef.Path, u.Name))
		}
	}
	for i, c := range cmds {
		args, from := sysconf.ExpandExecEnvFrom(c, env.Vars)
		cfg := &Config{Unit: u.Path, ExecStart: sshds[i], ConfigFile: DefaultConfig}
		if len(args) > 0 {
			args, from = args[1:], from[1:]
		}
		cfg.Args = args
		a := sysconf.ParseSSHDArgs(args)
		for _, p := range a.Problems {
			f.Problems = append(f.Problems, fmt.Errorf("%s:%d: sshd refuses its command line (%s)", sshds[i].File, sshds[i].Line, p))
		}
		if a.ConfigFile != "" {
			cfg.ConfigFile = path.Join("/", a.ConfigFile)
		}
		for _, o := range a.Options {
			k, v, ok := sysconf.SSHDOption(o)
			if !ok {
				continue
			}
			if bad := refusedOption(k, v); bad != "" {
				f.Problems = append(f.Problems, fmt.Errorf("%s:%d: sshd refuses -o %s (%s): it will not start", sshds[i].File, sshds[i].Line, o, bad))
				continue
			}
			if k == "match" || k == "include" {
				f.Problems = append(f.Problems, fmt.Errorf("%s:%d: sshd refuses -o %s (%s directive not supported as a command-line option)", sshds[i].File, sshds[i].Line, o, k))
				continue
			}
			d := sysconf.SSHDirective{File: sshds[i].File, Line: sshds[i].Line, Key: k, Value: v}
			// an option from an expanded variable: point at where the variable is set
			for j, w := range args {
				if (w == o || w == "-o"+o) && from[j] != "" {
					if org, ok := env.Origin[from[j]]; ok {
						d.File, d.Line = org.File, org.Line
					}
				}
			}
			cfg.Directives = append(cfg.Directives, d)
			cfg.Options++
		}
		f.Configs = append(f.Configs, f.config(src, cfg))
	}
}

// singleArgument are keywords sshd takes exactly one argument for ("garbage at end of line"
// otherwise, OpenSSH 8.7 and later).
var singleArgument = map[string]bool{
	"clientaliveinterval": true, "clientalivecountmax": true, "maxauthtries": true, "maxsessions": true,
	"passwordauthentication": true, "permitrootlogin": true, "pubkeyauthentication": true, "permitemptypasswords": true,
	"kbdinteractiveauthentication": true, "challengeresponseauthentication": true, "usepam": true, "logingracetime": true,
	"x11forwarding": true, "loglevel": true,
}

// refusedOption says why sshd refuses a -o line ("" when it takes it): a keyword that is not a
// word (a quote inside the option: `-o "K V"` passed as one word through ${VAR}), a missing
// argument, or more than one where the keyword takes one.
func refusedOption(k, v string) string {
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "not a keyword: " + k
		}
	}
	switch f := strings.Fields(v); {
	case len(f) == 0:
		return "no argument after keyword " + k
	case len(f) > 1 && singleArgument[k]:
		return "garbage at end of line"
	}
	return ""
}

// config reads the configuration file and its Includes after the command line's options.
func (f *Facts) config(src systemd.Source, c *Config) *Config {
	data, err := src.ReadFile(c.ConfigFile)
	if err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", c.ConfigFile, err))
		return c
	}
	if data == nil {
		c.Missing = true
		return c
	}
	ds, errs := sysconf.ExpandSSHD(c.ConfigFile, sysconf.SSHDSource{Read: src.Read, Glob: src.Glob})
	f.Problems = append(f.Problems, errs...)
	c.Directives = append(c.Directives, ds...)
	return c
}

// FromCommandLine reports whether d is one of the command line's -o options.
func (c *Config) FromCommandLine(d sysconf.SSHDirective) bool {
	for _, x := range c.Directives[:c.Options] {
		if x == d {
			return true
		}
	}
	return false
}

// KeyFile is a file sshd reads an account's authorized keys from, and the directive naming it.
type KeyFile struct {
	User      string
	Path      string
	Directive sysconf.SSHDirective
}

// AuthorizedKeysFiles expands every AuthorizedKeysFile directive of every configuration (global,
// on the command line or inside a Match: either lets some login in) for every account, as sshd
// expands it: %% %h %u %U, and a relative path is under the home.
func (f *Facts) AuthorizedKeysFiles(accounts []sysconf.PasswdEntry) []KeyFile {
	var out []KeyFile
	for _, c := range f.Configs {
		for _, d := range c.Directives {
			if d.Key != "authorizedkeysfile" {
				continue
			}
			for _, tmpl := range strings.Fields(d.Value) {
				if strings.EqualFold(tmpl, "none") {
					continue
				}
				for _, e := range accounts {
					if e.Compat || e.Name == "" {
						continue
					}
					p := ExpandTokens(tmpl, e)
					if !strings.HasPrefix(p, "/") {
						p = path.Join(e.Home, p)
					}
					out = append(out, KeyFile{User: e.Name, Path: path.Clean(p), Directive: d})
				}
			}
		}
	}
	return out
}

// ExpandTokens expands sshd_config's AuthorizedKeysFile tokens for an account.
func ExpandTokens(s string, e sysconf.PasswdEntry) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(e.Home)
		case 'u':
			b.WriteString(e.Name)
		case 'U':
			fmt.Fprint(&b, e.UID)
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
