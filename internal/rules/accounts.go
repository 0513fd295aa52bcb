package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	accountfacts "github.com/marketready/packer-plugin-marketplace/internal/facts/accounts"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

var _ = register(&Rule{
	ID:        "locked-accounts",
	Title:     "No account has a usable or empty password",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: only required, locked accounts); Alibaba Cloud image best practices (no default passwords); LISA AzureImageStandard verify_no_pre_exist_users (a password hash in /etc/shadow)",
	Cert:      &CertTest{Name: "No pre-existing users", Level: "Failed", LISA: "verify_no_pre_exist_users"},
	Rationale: "A password baked into an image is the same on every VM made from it; an empty one lets anyone in.",
	Fix:       "Lock every password: `passwd -l USER` (or `usermod -p '*' USER`); marketplace-harden's `accounts` step does this.",
	Check: linux(func(c *Context) Result {
		facts := accountfacts.Of(c.Image)
		if facts.ShadowErr != nil {
			return errResult(facts.ShadowErr)
		}
		if facts.PasswdErr != nil {
			return errResult(facts.PasswdErr)
		}
		var ev []Evidence
		hashes := false // a password hash in /etc/shadow: what Microsoft's suite fails
		for _, e := range facts.Shadow {
			if e.Status == sysconf.PasswordLocked {
				continue
			}
			d := fmt.Sprintf("account %s has an %s", Quote(e.Name), e.Status)
			if e.Status == sysconf.PasswordUsable {
				hashes = true
				d = fmt.Sprintf("account %s has a usable password hash (%s)", Quote(e.Name), Quote(e.Scheme))
			}
			ev = append(ev, Evidence{Path: "/etc/shadow", Line: e.Line, Detail: d})
		}
		for _, e := range facts.PasswdPasswords {
			if e.Status != sysconf.PasswordLocked {
				ev = append(ev, Evidence{Path: "/etc/passwd", Line: e.Line, Detail: fmt.Sprintf("account %s has an %s in /etc/passwd itself", Quote(e.Name), e.Status)})
			}
		}
		if !facts.ShadowExists && !facts.PasswdExists {
			return fail("neither /etc/shadow nor /etc/passwd exists", Evidence{Path: "/etc/shadow", Detail: "missing"})
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d account(s) can log in with a password", len(ev)), listing(ev, 20)...)
			if !hashes {
				// stricter than LISA, by policy: it only fails a password hash in /etc/shadow
				r.Predicted = "Passed"
				r.Message += " (Microsoft's suite would pass it: it only fails a password hash in /etc/shadow)"
			}
			return r
		}
		return pass("every password is locked")
	}),
})

var _ = register(&Rule{
	ID:        "single-uid0",
	Title:     "Only root has UID 0",
	Severity:  Critical,
	Source:    "Azure Marketplace image security recommendations (Linux: no backdoors)",
	Rationale: "A second UID 0 account is a classic backdoor: it is root under another name. /etc/passwd is read as glibc's files module reads it: a line with fewer than seven fields counts (`toor::0:0` is UID 0 with an empty password and /bin/sh), a UID is a number as strtoul reads it (`x: 0:` is UID 0), and a line over 64 KiB makes the rule an error.",
	Fix:       "Delete the account (`userdel NAME`) or give it its own UID; list it in marketplace-harden's `remove_users`.",
	Check: linux(func(c *Context) Result {
		pw, err := c.passwd()
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, e := range pw {
			if e.UID == 0 && e.Name != "root" && !e.Compat {
				ev = append(ev, Evidence{Path: "/etc/passwd", Line: e.Line, Detail: fmt.Sprintf("account %s has UID 0", Quote(e.Name))})
			}
		}
		if len(ev) > 0 {
			return fail("accounts other than root have UID 0", ev...)
		}
		return pass("only root has UID 0")
	}),
})

var _ = register(&Rule{
	ID:        "no-extra-users",
	Title:     "No login accounts beyond the ones the image is meant to ship",
	Severity:  Medium,
	Source:    "Alibaba Cloud image best practices (remove unneeded users from /etc/passwd and /etc/shadow)",
	Rationale: "Build and test accounts left in an image become accounts on every instance.",
	Fix:       "Delete them (`userdel -r NAME`, marketplace-harden `remove_users`), or list the intended ones in `allowed_users`.",
	Check: linux(func(c *Context) Result {
		pw, err := c.passwd()
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, e := range pw {
			if e.UID < 1000 || e.UID == 65534 || slices.Contains(c.Options.AllowedUsers, e.Name) {
				continue
			}
			ev = append(ev, Evidence{Path: "/etc/passwd", Line: e.Line, Detail: Quotef("account %s (UID %d, shell %s)", e.Name, e.UID, e.Shell)})
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d human account(s) not in allowed_users", len(ev)), ev...)
		}
		return pass("no human accounts beyond allowed_users")
	}),
})

var targetpwLine = regexp.MustCompile(`^\s*Defaults\b.*\btargetpw\b`)

// lisaTargetpw is what Microsoft's suite looks for in /etc/sudoers.
var lisaTargetpw = regexp.MustCompile(`^Defaults\s+targetpw`)

var _ = register(&Rule{
	ID:        "sudo-no-targetpw",
	Title:     "sudo does not ask for the target user's password (no `Defaults targetpw`)",
	Severity:  Medium,
	Source:    "LISA AzureImageStandard verify_default_targetpw",
	Cert:      &CertTest{Name: "Defaults targetpw", Level: "Failed", LISA: "verify_default_targetpw"},
	Rationale: "With targetpw, sudo asks for root's password instead of the user's own; an Azure VM's root has no password, so the deploying user cannot use sudo. Microsoft's suite fails it. /etc/sudoers and the files it includes (@includedir, #includedir) are read: stricter than LISA, which reads /etc/sudoers alone.",
	Fix:       "Remove or comment out `Defaults targetpw` in /etc/sudoers and /etc/sudoers.d/*; marketplace-harden never adds it.",
	Check: linux(func(c *Context) Result {
		files, err := accountfacts.Sudoers(systemd.FromImage(c.Image))
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, f := range files {
			for i, l := range f.Lines {
				if targetpwLine.MatchString(l) && !strings.Contains(l, "!targetpw") {
					ev = append(ev, Evidence{Path: f.Path, Line: i + 1, Detail: Quote(strings.TrimSpace(l))})
				}
			}
		}
		if len(ev) > 0 {
			r := fail("sudo is set to ask for the target user's password", ev...)
			// LISA reads /etc/sudoers alone, for "Defaults targetpw" at the start of a line
			r.Predicted = "Passed"
			for _, e := range ev {
				if e.Path == "/etc/sudoers" && lisaTargetpw.MatchString(e.Detail) {
					r.Predicted = ""
				}
			}
			return r
		}
		return pass(fmt.Sprintf("no Defaults targetpw in %d sudoers file(s)", len(files)))
	}),
})
