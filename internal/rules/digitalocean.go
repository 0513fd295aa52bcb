package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/distro"
	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// The checks of DigitalOcean's Marketplace image validation script that no other rule covers.
// The script is read, never copied: digitalocean/marketplace-partners at commit 65b85d4,
// scripts/99-img-check.sh (docs/digitalocean.md lists every check it makes and how each is
// judged here).

// doScript is where DigitalOcean states these checks.
const doScript = "DigitalOcean Marketplace image validation script (digitalocean/marketplace-partners@65b85d4:scripts/99-img-check.sh)"

// BashHistoryLimit is DigitalOcean's bound: a .bash_history of this many bytes or more is not
// "cleared" (the script passes a size below 200).
const BashHistoryLimit = 200

// doDistro is the distribution as DigitalOcean's script names it (internal/facts/distro), with
// the evidence of where it was read; ok is false when no file or lsb_release named it (the script
// then falls back to uname, "Linux"), err when what the script would name is unknown.
func (c *Context) doDistro() (d *distro.Facts, from Evidence, ok bool, err error) {
	d = distro.Of(c.Image)
	if err := d.Err(); err != nil {
		return d, Evidence{}, false, err
	}
	from = Evidence{Path: d.Path, Detail: Quote(d.Detail)}
	if d.From == distro.LSBRelease {
		from = Evidence{Path: d.Command, Detail: Quote("lsb_release -si, -sr: " + d.Detail)}
	}
	return d, from, d.Named(), nil
}

// doRelease is one distribution DigitalOcean's script accepts and the versions it accepts.
type doRelease struct {
	name     string // NAME as the script compares it
	contains bool   // the script matches NAME by a regular expression that finds it anywhere ("Debian GNU/Linux")
	versions []string
	major    bool // versions are majors: "9.5" is 9 (the script's unanchored 8.*/9.* patterns mean it)
}

// doReleases are the distributions and releases the script accepts at commit 65b85d4.
var doReleases = []doRelease{
	{name: "Ubuntu", versions: []string{"16.04", "18.04", "20.04", "22.04", "22.10", "24.04"}},
	{name: "Debian", contains: true, versions: []string{"9", "10", "11", "12", "13"}},
	{name: "CentOS Linux", versions: []string{"6", "7", "8"}},
	{name: "CentOS Stream", versions: []string{"8", "9"}},
	{name: "Rocky Linux", versions: []string{"8", "9"}, major: true},
	{name: "AlmaLinux", versions: []string{"8", "9"}, major: true},
	{name: "CloudLinux", versions: []string{"8", "9"}, major: true},
}

func (r doRelease) matches(name string) bool {
	if r.contains {
		return strings.Contains(name, r.name)
	}
	return name == r.name
}

// accepts says whether the script accepts the version. Rocky Linux, AlmaLinux and CloudLinux
// are judged by their major version: the script's patterns (`8\.`, `8.*`, unanchored) mean 8
// and 9, though they also match any version with an 8 in it ("10.8"): that is not followed.
func (r doRelease) accepts(version string) bool {
	if r.major {
		major, _, _ := strings.Cut(version, ".")
		return slices.Contains(r.versions, major)
	}
	return slices.Contains(r.versions, version)
}

func doSupported(name string) (doRelease, bool) {
	for _, r := range doReleases {
		if r.matches(name) {
			return r, true
		}
	}
	return doRelease{}, false
}

func doDistributionNames() string {
	var out []string
	for _, r := range doReleases {
		out = append(out, r.name+" "+strings.Join(r.versions, ", "))
	}
	return strings.Join(out, "; ")
}

var _ = register(&Rule{
	ID:       "do-supported-distribution",
	Title:    "The distribution is one DigitalOcean's Marketplace accepts",
	Severity: High,
	Source:   doScript + ": the supported operating systems",
	Rationale: "DigitalOcean's Marketplace takes images of a fixed list of distributions: Ubuntu, Debian, CentOS Linux, CentOS Stream, Rocky Linux, " +
		"AlmaLinux and CloudLinux. The distribution is named as the script names it: NAME of /etc/os-release when that is a file, else " +
		"what `lsb_release -si` prints when bash's `type` finds the command on root's PATH (Debian's lsb-release-minimal: ID of /usr/lib/os-release, " +
		"capitalised, or its NAME when the two differ only in case; a file of that name that cannot run prints nothing; any other lsb_release cannot " +
		"be run offline and makes the rule an error), else " +
		"DISTRIB_ID of /etc/lsb-release, else Debian for /etc/debian_version, else nothing for /etc/SuSe-release, else CentOS Linux for a " +
		"/etc/redhat-release whose first word is CentOS; a Debian is any NAME containing \"Debian\", as the script matches it. An image none of " +
		"these names fails, as the script fails the `Linux` its uname fallback gives.",
	Fix: "Build the image on one of the distributions DigitalOcean lists (do-supported-version lists the releases).",
	Check: linux(func(c *Context) Result {
		d, from, ok, err := c.doDistro()
		if err != nil {
			return errResult(err)
		}
		if !ok {
			return fail("no /etc/os-release, lsb_release, /etc/lsb-release, /etc/debian_version, /etc/SuSe-release or /etc/redhat-release names the distribution (the script's uname gives \"Linux\")",
				Evidence{Path: "/etc/os-release", Detail: "missing"})
		}
		r := Result{Actual: Quote(d.Name), Required: "Ubuntu, Debian, CentOS Linux, CentOS Stream, Rocky Linux, AlmaLinux or CloudLinux", Evidence: []Evidence{from}}
		if _, ok := doSupported(d.Name); !ok {
			r.Status, r.Message = Fail, Quotef("%q is not a distribution DigitalOcean's Marketplace accepts", d.Name)
			return r
		}
		r.Status, r.Message = Pass, Quotef("%s is a distribution DigitalOcean's Marketplace accepts", d.Name)
		return r
	}),
})

var _ = register(&Rule{
	ID:       "do-supported-version",
	Title:    "The distribution's release is one DigitalOcean's Marketplace accepts",
	Severity: High,
	Source:   doScript + ": the supported releases",
	Rationale: "DigitalOcean's Marketplace takes these releases (commit 65b85d4): " + doDistributionNames() + ". The version is VERSION_ID of " +
		"/etc/os-release (or `lsb_release -sr`, DISTRIB_RELEASE, /etc/debian_version, /etc/redhat-release's, as for do-supported-distribution), compared as the script " +
		"compares it: exactly, except Rocky Linux, AlmaLinux and CloudLinux, whose major version decides (`9.5` is 9). The list still holds releases " +
		"past their vendor's end (Ubuntu 16.04, 18.04, 22.10, Debian 9, 10, CentOS Linux 6 to 8): supported-release fails those.",
	Fix: "Rebuild the image on a release DigitalOcean lists that its vendor still supports.",
	Check: linux(func(c *Context) Result {
		d, from, ok, err := c.doDistro()
		if err != nil {
			return errResult(err)
		}
		if !ok {
			return fail("no /etc/os-release, lsb_release, /etc/lsb-release, /etc/debian_version, /etc/SuSe-release or /etc/redhat-release names the release (the script's uname gives \"Linux\")",
				Evidence{Path: "/etc/os-release", Detail: "missing"})
		}
		r := Result{Actual: Quote(strings.TrimSpace(d.Name + " " + d.Version)), Evidence: []Evidence{from}}
		rel, ok := doSupported(d.Name)
		if !ok {
			r.Status, r.Message, r.Required = Fail, Quotef("%q is not a distribution DigitalOcean's Marketplace accepts: no release of it is", d.Name), "a release DigitalOcean lists"
			return r
		}
		r.Required = rel.name + " " + strings.Join(rel.versions, ", ")
		if !rel.accepts(d.Version) {
			r.Status, r.Message = Fail, Quotef("%s %q is not a release DigitalOcean's Marketplace accepts (%s)", d.Name, d.Version, strings.Join(rel.versions, ", "))
			return r
		}
		r.Status, r.Message = Pass, Quotef("%s %s is a release DigitalOcean's Marketplace accepts", d.Name, d.Version)
		return r
	}),
})

var _ = register(&Rule{
	ID:       "bash-history-cleared",
	Title:    fmt.Sprintf("Every account's ~/.bash_history is under %d bytes", BashHistoryLimit),
	Severity: High,
	Source:   doScript + ": root's and each user's Bash history",
	Rationale: fmt.Sprintf("DigitalOcean fails a Bash history of %d bytes or more: it leaks the commands of the build. Its script reads "+
		"/root/.bash_history and /home/USER/.bash_history of each account with UID 1000 or more; here every home a login may write to is read "+
		"(/root, /home/*, the homes of UID 0, UID 1000 and above, and of any account with a login shell). The file counts as the script counts "+
		"it (a regular file, through a symbolic link; a link to /dev/null is no history). no-shell-history is stricter: any history with content fails.", BashHistoryLimit),
	Fix: "Delete the histories as the last build step with HISTFILE unset (marketplace-harden's `history` step).",
	Check: linux(func(c *Context) Result {
		homes, err := c.homes()
		if err != nil {
			return errResult(err)
		}
		var ev, under []Evidence
		for _, h := range homes {
			p := path.Join(h.Dir, ".bash_history")
			fi, err := c.stat(p)
			if err != nil {
				return errResult(err)
			}
			if fi == nil || !fi.Mode().IsRegular() {
				continue
			}
			e := Evidence{Path: p, Detail: fmt.Sprintf("Bash history of %s, %d bytes", Quote(h.User), fi.Size())}
			if fi.Size() >= BashHistoryLimit {
				ev = append(ev, e)
			} else {
				under = append(under, e)
			}
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d Bash history file(s) of %d bytes or more", len(ev), BashHistoryLimit), listing(ev, 30)...)
			r.Actual, r.Required = fmt.Sprintf("%d Bash history file(s) not cleared", len(ev)), fmt.Sprintf("every .bash_history under %d bytes", BashHistoryLimit)
			return r
		}
		r := pass(fmt.Sprintf("no Bash history of %d bytes or more in %d home directories", BashHistoryLimit, len(homes)), listing(under, 30)...)
		r.Actual, r.Required = "every .bash_history cleared", fmt.Sprintf("every .bash_history under %d bytes", BashHistoryLimit)
		return r
	}),
})

var _ = register(&Rule{
	ID:       "do-agent-removed",
	Title:    "No /opt/digitalocean directory left from the build (DigitalOcean's droplet agent)",
	Severity: High,
	Source:   doScript + ": the DigitalOcean directory",
	Rationale: "An image built on a Droplet carries DigitalOcean's agents (droplet-agent, do-agent) under /opt/digitalocean; the Marketplace " +
		"fails an image that still has the directory, since each Droplet installs its own. A directory there, or a symbolic link to one, fails.",
	Fix: "Remove the agent and the directory: `apt-get purge droplet-agent` (Debian, Ubuntu), `yum remove droplet-agent` (RHEL family), then " +
		"`rm -rf /opt/digitalocean`.",
	Check: linux(func(c *Context) Result {
		const dir = "/opt/digitalocean"
		fi, err := c.stat(dir)
		if err != nil {
			return errResult(err)
		}
		if fi == nil || !fi.IsDir() {
			return pass("no /opt/digitalocean directory")
		}
		ents, err := c.readDir(dir)
		if err != nil {
			return errResult(err)
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		detail := "directory, empty"
		if len(names) > 0 {
			if len(names) > 10 {
				names = append(names[:10:10], fmt.Sprintf("and %d more", len(ents)-10))
			}
			detail = "directory holding " + Quote(strings.Join(names, ", "))
		}
		return fail("the DigitalOcean directory /opt/digitalocean is in the image", Evidence{Path: dir, Detail: detail})
	}),
})

var _ = register(&Rule{
	ID:       "no-ssh-dir-files",
	Title:    "No other files in any ~/.ssh directory (besides the keys and known_hosts no-ssh-keys judges)",
	Severity: Low,
	Source:   doScript + ": the files of root's and each user's .ssh directory",
	Rationale: "DigitalOcean warns on any file left in a .ssh directory (a client config, an rc file, a socket): it is the build's and " +
		"every Droplet would inherit it. authorized_keys, authorized_keys2, known_hosts, known_hosts.old and id_* are no-ssh-keys' to judge; " +
		"every other entry (hidden ones too, which the script's `*` does not list) is reported. The homes are those no-ssh-keys reads: the " +
		"script's users' .ssh directories are never read (it quotes its glob), which is not followed.",
	Fix: "Empty the .ssh directories of root and every user at the end of the build.",
	Check: linux(func(c *Context) Result {
		homes, err := c.homes()
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, h := range homes {
			dir := h.Dir + "/.ssh"
			ents, err := c.readDir(dir)
			if err != nil {
				return errResult(err)
			}
			for _, e := range ents {
				n := e.Name()
				if slices.Contains(requirements.UserKeyFiles, n) || strings.HasPrefix(n, "id_") {
					continue // no-ssh-keys judges these
				}
				ev = append(ev, Evidence{Path: dir + "/" + n, Detail: fmt.Sprintf("%s in the .ssh directory of %s", kindOf(e.Type()), Quote(h.User))})
			}
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d other file(s) in .ssh directories", len(ev)), listing(ev, 30)...)
		}
		return pass(fmt.Sprintf("no other files in the .ssh directories of %d home directories", len(homes)))
	}),
})
