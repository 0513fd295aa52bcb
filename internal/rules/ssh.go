package rules

import (
	"fmt"
	"slices"
	"strings"

	sshdfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/sshd"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/sshkeys"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"

	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

var _ = register(&Rule{
	ID:        "sshd-installed",
	Title:     "An SSH server is installed",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: include an SSH server by default)",
	Rationale: "Azure's provisioning and customers' first login go through SSH.",
	Fix:       "Install the distribution's OpenSSH server package (openssh-server).",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		if inv, err := c.Image.Packages(); err == nil {
			for _, p := range inv.Find("openssh-server", "dropbear", "dropbear-bin") {
				ev = append(ev, Evidence{Path: inv.Path, Detail: fmt.Sprintf("package %s %s", p.Name, p.Version)})
			}
		}
		for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/sshd"} {
			if fi, err := c.stat(p); err == nil && fi != nil && fi.Mode().IsRegular() {
				ev = append(ev, Evidence{Path: p, Detail: "sshd binary present"})
			}
		}
		if len(ev) == 0 {
			return fail("no SSH server package or sshd binary found", Evidence{Path: "/usr/sbin/sshd", Detail: "missing"})
		}
		return pass("SSH server installed", ev...)
	}),
})

var _ = register(&Rule{
	ID:        "ssh-client-alive-interval",
	Title:     "sshd sends keep-alives: the effective ClientAliveInterval is 180",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: set ClientAliveInterval to 180); LISA AzureImageStandard verify_client_active_interval (sshd -T, fails unset or outside 1..235); self-test 46 Client Alive Interval (Warning for 120, recommended 180)",
	Rationale: "Azure's load balancers drop idle TCP flows after 4 minutes; 180 s keep-alives hold the session. Microsoft's test reads the effective value as `sshd -T` computes it (Include files and the first value win), so a drop-in counts as much as the main file; the value is read in sshd's time format (`3m` is 180, `1m30s` 90). sshd's command line counts too: the ExecStart of ssh.service or sshd.service as systemd finds it (/etc over /run over /usr/lib, drop-ins resetting ExecStart=) with its EnvironmentFile= expanded (/etc/default/ssh's SSHD_OPTS), so `-o ClientAliveInterval=0` there wins over the file's global lines, as `sshd -T -o` shows.",
	Fix:       "Set `ClientAliveInterval 180` in /etc/ssh/sshd_config or a drop-in it includes (and remove conflicting earlier values); marketplace-harden's `ssh-keepalive` step does this and validates with `sshd -t`.",
	Cert:      &CertTest{ID: "200.3.3.1", SelfTestID: "46", Name: "Client Alive Interval", Level: "Failed", LISA: "verify_client_active_interval"},
	Check: linux(func(c *Context) Result {
		facts := sshdfacts.Of(c.Image)
		if err := facts.Err(); err != nil {
			return errResult(err) // every file sshd reads that was not read, named
		}
		var worst Result
		for i, cfg := range facts.Configs {
			r := clientAliveInterval(cfg)
			if i == 0 || severityOf(r.Status) > severityOf(worst.Status) {
				worst = r
			}
		}
		return worst
	}),
})

// severityOf orders the outcomes of one judgement over several facts: the worst is reported.
func severityOf(s Status) int {
	return map[Status]int{Pass: 0, NotApplicable: 0, Warn: 1, Fail: 2, Error: 3}[s]
}

// clientAliveInterval judges the effective ClientAliveInterval of one way sshd is started.
func clientAliveInterval(cfg *sshdfacts.Config) Result {
	if cfg.Missing {
		return Result{Status: Fail, Message: "no " + cfg.ConfigFile, Actual: "sshd_config missing", Required: "ClientAliveInterval 180",
			Evidence: []Evidence{{Path: cfg.ConfigFile, Detail: "missing"}}}
	}
	res := Result{Required: "ClientAliveInterval 180"}
	eff, ok := cfg.FirstGlobal("clientaliveinterval")
	for _, d := range cfg.Directives {
		if d.Key == "clientaliveinterval" && d.Match != "" && !sysconf.MatchesAll(d.Match) {
			res.Evidence = append(res.Evidence, Evidence{Path: d.File, Line: d.Line, Detail: fmt.Sprintf("ClientAliveInterval %s inside Match %s (applies to those connections only)", Quote(d.Value), Quote(d.Match))})
		}
	}
	if !ok {
		res.Status, res.Message, res.Actual = Fail, "ClientAliveInterval is not set (sshd's default 0 sends no keep-alives)", "ClientAliveInterval not set"
		res.Evidence = append([]Evidence{{Path: cfg.ConfigFile, Detail: "no global ClientAliveInterval in sshd_config or its Includes"}}, res.Evidence...)
		return res
	}
	v, err := sysconf.ParseSSHDTime(eff.Value) // sshd's time format: "3m" is 180
	res.Actual = "ClientAliveInterval " + Quote(eff.Value)
	detail := "effective value: ClientAliveInterval " + Quote(eff.Value)
	where := fmt.Sprintf("%s:%d", eff.File, eff.Line)
	if cfg.FromCommandLine(eff) {
		detail += fmt.Sprintf(" (-o on sshd's command line: ExecStart at %s:%d; it wins over %s)", cfg.ExecStart.File, cfg.ExecStart.Line, cfg.ConfigFile)
		where = fmt.Sprintf("sshd -o, %s:%d", eff.File, eff.Line)
	}
	res.Evidence = append([]Evidence{{Path: eff.File, Line: eff.Line, Detail: detail}}, res.Evidence...)
	switch {
	case err != nil:
		res.Status, res.Message = Fail, fmt.Sprintf("ClientAliveInterval %s is not a time value sshd accepts (%v): sshd refuses the configuration", Quote(eff.Value), err)
	case v < 1 || v > 235:
		res.Status, res.Message = Fail, fmt.Sprintf("effective ClientAliveInterval %s is outside 1..235 (180 is recommended)", Quote(eff.Value))
		if cfg.FromCommandLine(eff) {
			res.Message += fmt.Sprintf(" (set on sshd's command line, %s)", where)
		}
	case v != 180:
		res.Status, res.Message = Warn, fmt.Sprintf("effective ClientAliveInterval %d is accepted (1..235), but the certification report warns on any value other than the recommended 180", v)
	default:
		res.Status, res.Message = Pass, fmt.Sprintf("effective ClientAliveInterval 180 (%s)", where)
		if eff.Value != "180" {
			res.Message = fmt.Sprintf("effective ClientAliveInterval %s, 180 seconds (%s)", Quote(eff.Value), where)
		}
	}
	return res
}

// authorizedKeysFiles is every file the effective sshd configurations' AuthorizedKeysFile names
// for every account of /etc/passwd. An sshd configuration file that could not be read is an
// error (its key files are unknown).
func (c *Context) authorizedKeysFiles() ([]sshdfacts.KeyFile, error) {
	facts := sshdfacts.Of(c.Image)
	if err := facts.Err(); err != nil {
		return nil, err
	}
	pw, err := c.passwd()
	if err != nil {
		return nil, err
	}
	return facts.AuthorizedKeysFiles(pw), nil
}

// loginRedirectOnly reads an authorized_keys file as sshd reads it (facts/sshkeys) and says
// whether its keys only redirect the login: every key sshd would take carries the cloud images'
// forced command that prints "Please login as the user ... rather than the user root" and ends
// the session, and forwards no ports. Such a file lets nobody in (LISA accepts it too). A file
// that could not be read, or past the reader's bounds, is an error.
func (c *Context) loginRedirectOnly(p string) (bool, error) {
	f, err := sshkeys.Read(systemd.FromImage(c.Image), p)
	if err != nil || f == nil {
		return false, err
	}
	return f.RedirectOnly(), nil
}

var _ = register(&Rule{
	ID:        "no-ssh-keys",
	Title:     "No SSH keys or known_hosts in any home directory",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: remove test SSH keys and known_hosts); Alibaba Cloud image best practices (clean .ssh); LISA AzureImageStandard verify_no_pre_exist_users (authorized_keys of any account but the deployer, unless it only redirects the login)",
	Rationale: "An authorized_keys file left in an image is a key that opens every VM made from it; private keys and known_hosts leak the build environment. The homes looked into are /root, /home/*, and the home of every account with UID 0, UID 1000 and above, or a shell a session runs in (a UID 998 account with /bin/bash counts); the files the effective sshd configuration's AuthorizedKeysFile names (`/etc/ssh/keys/%u`, global or inside a Match) are read for every account. A file whose every key only redirects the login is accepted; keys are read as sshd 9.2 reads the file (options before the key, their quoting, `#` only at a line's start, so a redirect written in a key's comment is no option), and the redirect must be the forced command alone (cloud-init's `echo 'Please login as the user ...';echo;sleep 10;exit 142`) with port forwarding off. A key file that could not be read or has a line over 64 KiB is an error.",
	Fix:       "Remove ~/.ssh/authorized_keys, id_*, known_hosts for root and every user (marketplace-harden `ssh-keys`).",
	Cert:      &CertTest{Name: "No pre-existing users", Level: "Failed", LISA: "verify_no_pre_exist_users"},
	Check: linux(func(c *Context) Result {
		homes, err := c.homes()
		if err != nil {
			return errResult(err)
		}
		var ev, accepted []Evidence
		authorized := 0 // authorized_keys files: what Microsoft's suite fails
		for _, h := range homes {
			dir := h.Dir + "/.ssh"
			ents, err := c.readDir(dir)
			if err != nil {
				return errResult(err)
			}
			allowed := slices.Contains(c.Options.AllowedUsers, h.User)
			for _, e := range ents {
				n := e.Name()
				kind := ""
				switch {
				case slices.Contains(requirements.UserKeyFiles, n):
					kind = n
				case strings.HasPrefix(n, "id_") && strings.HasSuffix(n, ".pub"):
					kind = "public key"
				case strings.HasPrefix(n, "id_"):
					kind = "private key"
				}
				if kind == "" {
					continue
				}
				p := dir + "/" + n
				if strings.HasPrefix(n, "authorized_keys") {
					// an account the image is meant to ship keeps its key (LISA excludes the
					// deployer); a key that only says "log in as the user ..." lets nobody in
					if allowed {
						accepted = append(accepted, Evidence{Path: p, Detail: fmt.Sprintf("%s of %s, in allowed_users", kind, h.User)})
						continue
					}
					if redirect, err := c.loginRedirectOnly(p); err != nil {
						return errResult(err)
					} else if redirect {
						accepted = append(accepted, Evidence{Path: p, Detail: fmt.Sprintf("%s of %s: only the \"Please login as the user\" redirect", kind, h.User)})
						continue
					}
				}
				ev = append(ev, Evidence{Path: p, Detail: fmt.Sprintf("%s of %s", kind, h.User)})
				if n == "authorized_keys" {
					authorized++
				}
			}
		}
		// the files sshd's AuthorizedKeysFile names (e.g. /etc/ssh/keys/%u), for every account
		seen := map[string]bool{}
		for _, e := range ev {
			seen[e.Path] = true
		}
		for _, e := range accepted {
			seen[e.Path] = true
		}
		configured := 0 // found only through AuthorizedKeysFile
		extra, err := c.authorizedKeysFiles()
		if err != nil {
			return errResult(err)
		}
		for _, k := range extra {
			if seen[k.Path] {
				continue
			}
			seen[k.Path] = true
			fi, err := c.stat(k.Path)
			if err != nil {
				return errResult(err)
			}
			if fi == nil || !fi.Mode().IsRegular() {
				continue
			}
			src := fmt.Sprintf("AuthorizedKeysFile %s at %s:%d", Quote(k.Directive.Value), k.Directive.File, k.Directive.Line)
			if slices.Contains(c.Options.AllowedUsers, k.User) {
				accepted = append(accepted, Evidence{Path: k.Path, Detail: fmt.Sprintf("authorized_keys of %s (%s), in allowed_users", k.User, src)})
				continue
			}
			if redirect, err := c.loginRedirectOnly(k.Path); err != nil {
				return errResult(err)
			} else if redirect {
				accepted = append(accepted, Evidence{Path: k.Path, Detail: fmt.Sprintf("authorized_keys of %s (%s): only the \"Please login as the user\" redirect", k.User, src)})
				continue
			}
			ev = append(ev, Evidence{Path: k.Path, Detail: fmt.Sprintf("authorized_keys of %s (%s)", k.User, src)})
			authorized++
			configured++
		}
		if len(ev) > 0 {
			where := "in home directories"
			if configured > 0 {
				where += fmt.Sprintf(" or where sshd's AuthorizedKeysFile looks (%d)", configured)
			}
			r := fail(fmt.Sprintf("%d SSH key file(s) %s", len(ev), where), listing(ev, 30)...)
			if authorized == 0 {
				// stricter than LISA, by policy: it only fails an authorized_keys file
				r.Predicted = "Passed"
				r.Message += " (Microsoft's suite would pass them: it only fails an authorized_keys file)"
			}
			return r
		}
		return pass(fmt.Sprintf("no SSH keys in %d home directories", len(homes)), listing(accepted, 10)...)
	}),
})

var _ = register(&Rule{
	ID:        "no-ssh-host-keys",
	Title:     "No SSH host keys baked into the image",
	Severity:  Medium,
	Source:    "Microsoft's Linux generalization (waagent -deprovision removes the SSH host keys; they are regenerated at first boot)",
	Rationale: "Every VM made from an image with host keys shares them, so one compromised VM can impersonate all others.",
	Fix:       "Remove /etc/ssh/ssh_host_*_key* (marketplace-harden `ssh-keys`); cloud-init or the Azure agent regenerates them at first boot.",
	Check: linux(func(c *Context) Result {
		m, err := c.glob("/etc/ssh/ssh_host_*key*")
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, p := range m {
			kind := "host private key"
			if strings.HasSuffix(p, ".pub") {
				kind = "host public key"
			}
			ev = append(ev, Evidence{Path: p, Detail: kind})
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d SSH host key file(s)", len(ev)), ev...)
		}
		return pass("no SSH host keys")
	}),
})
