package rules

import (
	"fmt"
	"strings"

	systemdfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// agentPackages are the distribution package names of the Azure Linux agent.
var agentPackages = []string{"walinuxagent", "waagent", "WALinuxAgent", "python3-azure-linux-agent"}

// agentMinVersion is the oldest agent the certification accepts.
const agentMinVersion = "2.2.41" // the self-test (test 39) requires 2.2.41 or later

var _ = register(&Rule{
	ID:        "azure-agent",
	Title:     "Azure Linux agent installed from the distribution package, recent and enabled at boot",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: latest Azure Linux agent from the distribution package) and the certification notes (service enabled at boot)",
	Rationale: "Provisioning, extensions and the certification's own probe depend on the agent; an agent that is installed but not enabled never starts.",
	Fix:       "Install the distribution's agent package (walinuxagent / WALinuxAgent) and enable its service (systemctl enable walinuxagent or waagent); marketplace-harden's `azure-agent` step does this.",
	Cert:      &CertTest{ID: "200.3.3.4", SelfTestID: "39", Name: "Linux Agent Version", Level: "Failed", LISA: "verify_waagent_version"},
	Check: linux(func(c *Context) Result {
		res := Result{Required: "WALinuxAgent >= " + agentMinVersion + ", service enabled"}
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		pkg, ok := pkgdb.Newest(inv.Find(agentPackages...))
		if !ok {
			res.Status, res.Actual = Fail, "agent package not installed"
			res.Message = "the Azure Linux agent package is not installed"
			res.Evidence = []Evidence{{Path: inv.Path, Detail: "none of " + strings.Join(agentPackages, ", ") + " is installed"}}
			if fi, _ := c.stat("/usr/sbin/waagent"); fi != nil {
				res.Evidence = append(res.Evidence, Evidence{Path: "/usr/sbin/waagent", Detail: "a waagent binary exists but not from a distribution package"})
			}
			return res
		}
		var problems []Evidence
		res.Evidence = append(res.Evidence, Evidence{Path: inv.Path, Detail: fmt.Sprintf("package %s %s", pkg.Name, pkg.Version)})
		res.Actual = "WALinuxAgent " + pkgdb.Upstream(pkg.Version)
		if pkgdb.CompareVersions(pkgdb.Upstream(pkg.Version), agentMinVersion) < 0 {
			problems = append(problems, Evidence{Path: inv.Path, Detail: fmt.Sprintf("agent %s is older than %s", pkg.Version, agentMinVersion)})
		}
		conf, err := c.read("/etc/waagent.conf")
		if err != nil {
			return errResult(err)
		}
		if conf == nil {
			problems = append(problems, Evidence{Path: "/etc/waagent.conf", Detail: "missing"})
		}
		enabled, err := c.agentEnabled()
		if err != nil {
			return errResult(err)
		}
		if enabled == "" {
			problems = append(problems, Evidence{Path: "/etc/systemd/system", Detail: "walinuxagent.service / waagent.service is not enabled for boot"})
		} else {
			res.Evidence = append(res.Evidence, Evidence{Path: enabled, Detail: "service enabled at boot"})
		}
		if len(problems) > 0 {
			res.Status = Fail
			res.Message = fmt.Sprintf("the agent (%s %s) is installed but not ready for certification", pkg.Name, pkg.Version)
			res.Evidence = append(problems, res.Evidence...)
			return res
		}
		res.Status, res.Message = Pass, fmt.Sprintf("%s %s installed, auto-updating, enabled", pkg.Name, pkg.Version)
		return res
	}),
})

var _ = register(&Rule{
	ID:        "agent-auto-update",
	Title:     "The Azure Linux agent updates itself (AutoUpdate.Enabled is not turned off)",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: latest Azure Linux agent); self-test 51 Auto Update (passes with the setting commented out: the agent's default is on)",
	Rationale: "An agent that does not update itself falls behind the platform's extensions and fixes; the self-test fails an explicit AutoUpdate.Enabled=n. Left unset or commented out, the agent's default (on) applies and the test passes.",
	Fix:       "Remove the AutoUpdate.Enabled=n line from /etc/waagent.conf or set it to y; marketplace-harden's `azure-agent` step does this.",
	Cert:      &CertTest{SelfTestID: "51", Name: "Auto Update", Level: "Failed"},
	Check: linux(func(c *Context) Result {
		conf, err := c.read("/etc/waagent.conf")
		if err != nil {
			return errResult(err)
		}
		res := Result{Required: "Yes"}
		if conf == nil {
			res.Status, res.Message, res.Actual = NotApplicable, "no /etc/waagent.conf: the azure-agent rule reports the agent", ""
			return res
		}
		kv, err := sysconf.ReadKeyValue(conf)
		if err != nil {
			return errResult(fmt.Errorf("/etc/waagent.conf: %w", err))
		}
		s, ok := sysconf.Last(kv, "AutoUpdate.Enabled")
		switch {
		case !ok:
			res.Status, res.Message, res.Actual = Pass, "AutoUpdate.Enabled is not set: the agent's default (on) applies", "AutoUpdate.Enabled unset (default y)"
			res.Evidence = []Evidence{{Path: "/etc/waagent.conf", Detail: "no AutoUpdate.Enabled line"}}
		case strings.EqualFold(s.Value, "y"):
			res.Status, res.Message, res.Actual = Pass, "AutoUpdate.Enabled=y", "AutoUpdate.Enabled=y"
			res.Evidence = []Evidence{{Path: "/etc/waagent.conf", Line: s.Line, Detail: "AutoUpdate.Enabled=y"}}
		default:
			res.Status, res.Message, res.Actual = Fail, "the agent's auto-update is turned off", Quote("AutoUpdate.Enabled="+s.Value)
			res.Evidence = []Evidence{{Path: "/etc/waagent.conf", Line: s.Line, Detail: Quote("AutoUpdate.Enabled="+s.Value) + " (must be y or unset)"}}
		}
		return res
	}),
})

// agentEnabled returns the link that starts the Azure agent at boot (its systemd unit, else a
// SysV rc link), "" when none does.
func (c *Context) agentEnabled() (string, error) {
	units, err := c.enabledUnits()
	if err != nil {
		return "", err
	}
	enabled := ""
	for _, u := range []string{"walinuxagent.service", "waagent.service"} {
		// started at boot, and a unit file systemd can start (a link to nothing starts nothing)
		if st, ok := units[u]; ok && st.Found {
			enabled = startedWhere(st)
		}
	}
	if enabled != "" {
		return enabled, nil
	}
	for _, n := range []string{"walinuxagent", "waagent"} {
		l, err := systemdfacts.SysVStart(systemdfacts.FromImage(c.Image), n)
		if err != nil {
			return "", err
		}
		if l != "" {
			enabled = l
		}
	}
	return enabled, nil
}
