package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ScriptCommit is the commit of digitalocean/marketplace-partners whose scripts/99-img-check.sh
// is the oracle (v. 1.8.1 of the script).
const ScriptCommit = "65b85d4c7af1ad3341313e859c0ee439a4b1c195"

// Check is one check DigitalOcean's script makes, in its terms, and the rules of the
// digitalocean profile that decide the same thing.
type Check struct {
	Key    string
	Name   string // the script's own words (its PASS or FAIL message, short)
	Reads  string // what the script reads, and how it decides
	Levels string // the verdicts it gives
	Rules  []string
	// SilentPass: the script prints nothing when the check passes (it reports problems only).
	SilentPass bool
}

// Checks are the script's checks at ScriptCommit, in the order it runs them.
var Checks = []Check{
	{Key: "os", Name: "Supported Operating System Detected", Levels: "FAIL, PASS",
		Reads: "`NAME` of /etc/os-release (sourced as shell) when it is a file, else `lsb_release -si` when `type` finds the command on PATH (Debian's lsb-release-minimal prints /usr/lib/os-release's ID, capitalised; a file that cannot run prints nothing; decided from the disk the same way, any other lsb_release is an error here), else /etc/lsb-release, /etc/debian_version, /etc/SuSe-release (names nothing), /etc/redhat-release, uname; compared with Ubuntu, Debian (any NAME containing it), CentOS Linux, CentOS Stream, Rocky Linux, AlmaLinux, CloudLinux",
		Rules: []string{"do-supported-distribution"}},
	{Key: "release", Name: "Supported Release Detected", Levels: "FAIL, PASS",
		Reads: "`VERSION_ID` from the same files, compared with the script's list per distribution (Ubuntu 16.04 to 24.04, Debian 9 to 13, CentOS Linux 6 to 8, CentOS Stream 8 and 9, Rocky/Alma/CloudLinux 8 and 9)",
		Rules: []string{"do-supported-version", "supported-release"}},
	{Key: "cloud-init", Name: "Cloud-init is installed", Levels: "FAIL, PASS",
		Reads: "`hash cloud-init`: a cloud-init command on PATH",
		Rules: []string{"cloud-init-enabled"}},
	{Key: "firewall", Name: "Firewall service is active", Levels: "WARN, PASS",
		Reads: "the running system: `ufw status` (Ubuntu; Debian when ufw is installed), `systemctl is-active firewalld` or csf (RHEL family), `lsmod` for ip_tables (Debian otherwise)",
		Rules: []string{"firewall-enabled"}},
	{Key: "updates", Name: "There are no pending security updates for this image", Levels: "FAIL, PASS",
		Reads: "`apt-get -y update`, then the lines of `apt-get --just-print upgrade` that mention \"security\", halved (Debian, Ubuntu); `yum check-update --security` (RHEL family)",
		Rules: []string{"security-updates-installed"}},
	{Key: "logs", Name: "Log archives and un-cleared log files in /var/log", Levels: "WARN", SilentPass: true,
		Reads: "the top of /var/log only: rotated archives `*-????????` and `*.[0-9]`, and `*.log` files over 50 bytes (lfd.log without its reset lines; cpanel-install.log ignored)",
		Rules: []string{"empty-logs"}},
	{Key: "users-password", Name: "User has no password set (each user with UID 1000 or more)", Levels: "FAIL, PASS", SilentPass: true,
		Reads: "accounts of /etc/passwd with UID 1000 or more (but nobody, centos, nfsnobody); their /etc/shadow field must be exactly `!`, `!!` or `*`",
		Rules: []string{"locked-accounts"}},
	{Key: "authorized-keys", Name: "No populated authorized_keys file", Levels: "FAIL", SilentPass: true,
		Reads: "~/.ssh/authorized_keys over 50 bytes, of root and of each user's /home/USER (the users' are never read: see the differences)",
		Rules: []string{"no-ssh-keys"}},
	{Key: "private-key", Name: "No private key file", Levels: "FAIL (WARN when empty)", SilentPass: true,
		Reads: "~/.ssh/id_rsa, of root and each user (the users' never read)",
		Rules: []string{"no-ssh-keys"}},
	{Key: "known-hosts", Name: "No populated known_hosts file", Levels: "WARN", SilentPass: true,
		Reads: "~/.ssh/known_hosts over 50 bytes, of root and each user (the users' never read)",
		Rules: []string{"no-ssh-keys"}},
	{Key: "ssh-other", Name: "No other file in the .ssh directory", Levels: "WARN", SilentPass: true,
		Reads: "any other entry `~/.ssh/*` lists, of root and each user (the users' never read)",
		Rules: []string{"no-ssh-dir-files"}},
	{Key: "bash-history", Name: "Bash History appears to have been cleared", Levels: "FAIL, PASS",
		Reads: "the size of /root/.bash_history and /home/USER/.bash_history of each user: under 200 bytes passes",
		Rules: []string{"bash-history-cleared"}},
	{Key: "root-password", Name: "User root has no password set", Levels: "FAIL, PASS",
		Reads: "root's /etc/shadow field: exactly `!`, `!!` or `*` passes",
		Rules: []string{"locked-accounts"}},
	{Key: "agent", Name: "DigitalOcean directory detected", Levels: "FAIL, PASS",
		Reads: "`[ -d /opt/digitalocean ]`",
		Rules: []string{"do-agent-removed"}},
}

func checkByKey(k string) (Check, bool) {
	for _, c := range Checks {
		if c.Key == k {
			return c, true
		}
	}
	return Check{}, false
}

// Verdict is the script's verdict on one check for one image: the worst of the lines it
// printed for it (FAIL over WARN over PASS); Silent when it printed none (a check that only
// reports problems then passed).
type Verdict struct {
	Status string `json:"status"` // pass, warn, fail
	Silent bool   `json:"silent,omitempty"`
	Lines  int    `json:"lines,omitempty"`
}

func (v Verdict) String() string {
	if v.Silent {
		return v.Status + " (nothing reported)"
	}
	return v.Status
}

// ImageRun is the script's verdicts on one image, by check key.
type ImageRun struct {
	Name     string             `json:"name"`
	Verdicts map[string]Verdict `json:"verdicts"`
}

// Run is what the page records of a run of the script: its commit and its verdicts per image.
type Run struct {
	Commit string     `json:"commit"`
	Images []ImageRun `json:"images"`
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")
var verdictLine = regexp.MustCompile(`^\[(PASS|WARN|FAIL| OK )\] (.*)$`)

// lineChecks says which check a line of the script's output is about, by its words; the first
// match wins. "ssh" is the script's "[ OK ]" for a home without keys or without .ssh, which
// passes every .ssh check. "" ignores the line.
var lineChecks = []struct{ words, key string }{
	{"is not a supported Operating System Version", "release"},
	{"Supported Release Detected", "release"},
	{"is not a supported Operating System", "os"},
	{"Supported Operating System Detected", "os"},
	{"Cloud-init is installed", "cloud-init"},
	{"of cloud-init was found", "cloud-init"},
	{"Firewall service (", "firewall"},
	{"No firewall is configured", "firewall"},
	{"no pending security updates", "updates"},
	{"security updates available", "updates"},
	{"Log archive ", "logs"},
	{"un-cleared log file", "logs"},
	{"has no password set", "password"},
	{"has a password set", "password"},
	{"authorized_keys file", "authorized-keys"},
	{"private key file", "private-key"},
	{"has a file in their .ssh directory", "ssh-other"},
	{"known_hosts file", "known-hosts"},
	{"has no SSH keys present", "ssh"},
	{"does not have an .ssh directory", "ssh"},
	{"Bash History", "bash-history"},
	{"DigitalOcean directory detected", "agent"},
	{"DigitalOcean Monitoring agent was not found", "agent"},
	{"does not have a directory in /home", ""},
}

var rank = map[string]int{"pass": 0, "warn": 1, "fail": 2}

// ParseTranscript reads the script's output (its colours stripped) into a verdict per check. A
// verdict line it does not know is an error, and so is a run that did not reach the summary:
// the script would have changed, or stopped.
func ParseTranscript(text string) (map[string]Verdict, error) {
	out := map[string]Verdict{}
	section := ""
	complete := false
	add := func(key, status string) {
		v := out[key]
		if v.Lines == 0 || rank[status] > rank[v.Status] {
			v.Status = status
		}
		v.Lines++
		out[key] = v
	}
	for i, l := range strings.Split(ansi.ReplaceAllString(text, ""), "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.Contains(l, "Checking all user-created accounts"):
			section = "users"
		case strings.Contains(l, "Checking the root account"):
			section = "root"
		case strings.HasPrefix(l, "Scan Complete"):
			complete = true
		}
		m := verdictLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		status := map[string]string{"PASS": "pass", " OK ": "pass", "WARN": "warn", "FAIL": "fail"}[m[1]]
		key, known := "", false
		for _, lc := range lineChecks {
			if strings.Contains(m[2], lc.words) {
				key, known = lc.key, true
				break
			}
		}
		switch {
		case !known:
			return nil, fmt.Errorf("line %d: a verdict of no known check: %q", i+1, l)
		case key == "":
		case key == "password" && section == "root":
			add("root-password", status)
		case key == "password" && section == "users":
			add("users-password", status)
		case key == "password":
			return nil, fmt.Errorf("line %d: a password verdict outside the accounts' sections: %q", i+1, l)
		case key == "ssh":
			for _, k := range []string{"authorized-keys", "private-key", "known-hosts", "ssh-other"} {
				add(k, status)
			}
		case key == "bash-history" && section == "":
			return nil, fmt.Errorf("line %d: a Bash history verdict outside the accounts' sections: %q", i+1, l)
		default:
			add(key, status)
		}
	}
	if !complete {
		return nil, errors.New("the script did not reach its summary (no \"Scan Complete\")")
	}
	for _, c := range Checks {
		if _, ok := out[c.Key]; ok {
			continue
		}
		if !c.SilentPass {
			return nil, fmt.Errorf("the script gave no verdict for %q, which it always reports", c.Name)
		}
		out[c.Key] = Verdict{Status: "pass", Silent: true}
	}
	return out, nil
}

// Image describes a fixture image the comparison judges.
type Image struct {
	Name, What string
}

// Images are the images compared, in the page's order: the repository's two fixtures, and the
// digitalocean profile's own pair (testfixture.MarketplaceFixtures).
var Images = []Image{
	{"clean", "`clean.raw` of scripts/make-fixtures.sh: the compliant Debian 12 image (GPT, XFS root, /boot and the ESP mounted), built for Azure: no cloud-init, no firewall"},
	{"dirty", "`dirty.raw` of scripts/make-fixtures.sh: every Linux rule of the older profiles broken once (password hashes, keys, a long root history, a build syslog, old openssl)"},
	{"digitalocean-clean", "the digitalocean profile's clean image (testfixture.MarketplaceFixtures): the compliant tree with cloud-init installed and enabled at boot, ufw installed and enabled"},
	{"digitalocean-dirty", "the digitalocean profile's dirty image: one problem planted per check (Ubuntu 24.10, cloud-init.disabled, ufw ENABLED=no, an auth.log, root's hash, authorized_keys and .ssh/config, a 250-byte history, /opt/digitalocean, old openssl)"},
	{"script-quirks", "the compliant tree where the script judges otherwise than DigitalOcean means (testfixture.DigitalOceanScriptQuirks): root and a user `deploy` (UID 1000) locked by `passwd -l` (`!$6$...`), and deploy's authorized_keys holding a key"},
}

type reasonKey struct{ check, rule, image string }

// reasons explain each verdict of ours that differs from the script's on the fixture images.
// A difference with no reason here, or a reason for a row that agrees, makes the page an error.
var reasons = map[reasonKey]string{
	{"firewall", "firewall-enabled", "dirty"}:                   "the script asks the running kernel (`lsmod`, since ufw's command is absent), which a chroot of the disk does not have; decided here from the disk: ufw `ENABLED=yes` and ufw.service enabled at boot",
	{"firewall", "firewall-enabled", "digitalocean-clean"}:      "the script asks `ufw status`, which reads the running kernel's rules and cannot answer in a chroot of the disk; decided here from the disk: ufw `ENABLED=yes` and ufw.service enabled at boot",
	{"cloud-init", "cloud-init-enabled", "digitalocean-dirty"}:  "the script only looks the command up on PATH; /etc/cloud/cloud-init.disabled keeps cloud-init from running at boot, so the Droplet never gets the customer's key",
	{"logs", "empty-logs", "dirty"}:                             "the script reads only the top of /var/log, and only `*.log` over 50 bytes and rotated archives: /var/log/syslog, with the build's log lines, is neither; empty-logs warns on any file with content",
	{"private-key", "no-ssh-keys", "dirty"}:                     "the script never reads a user's .ssh (it lists it with the glob inside double quotes) and looks for id_rsa only: /home/tester/.ssh/id_ed25519 is a private key",
	{"known-hosts", "no-ssh-keys", "dirty"}:                     "the script never reads a user's .ssh (the quoted glob): /home/tester/.ssh/known_hosts; no-ssh-keys fails a known_hosts, the script only warns",
	{"private-key", "no-ssh-keys", "digitalocean-dirty"}:        "one rule, several of the script's checks: no-ssh-keys judges authorized_keys, private keys and known_hosts together, and fails here for root's authorized_keys, which the script's authorized_keys check fails too",
	{"known-hosts", "no-ssh-keys", "digitalocean-dirty"}:        "one rule, several of the script's checks: no-ssh-keys fails here for root's authorized_keys (see the authorized_keys row); there is no known_hosts",
	{"users-password", "locked-accounts", "script-quirks"}:      "the script's error: deploy's field is `!$6$...`, locked by `passwd -l` (no password matches a hash behind a `!`), but the script passes only `!`, `!!` and `*`; DigitalOcean means no usable password",
	{"root-password", "locked-accounts", "script-quirks"}:       "the script's error: root's field is `!$6$...`, locked, which the script takes for a password (it passes only `!`, `!!` and `*`)",
	{"authorized-keys", "no-ssh-keys", "script-quirks"}:         "the script's error: it lists a user's .ssh with the glob inside double quotes, which names a file called `*`, so it never reads /home/deploy/.ssh and says \"no SSH keys present\"; /home/deploy/.ssh/authorized_keys holds a key that opens every Droplet",
	{"private-key", "no-ssh-keys", "script-quirks"}:             "one rule, several of the script's checks: no-ssh-keys fails here for deploy's authorized_keys (see the authorized_keys row); there is no private key",
	{"known-hosts", "no-ssh-keys", "script-quirks"}:             "one rule, several of the script's checks: no-ssh-keys fails here for deploy's authorized_keys (see the authorized_keys row); there is no known_hosts",
	{"users-password", "locked-accounts", "digitalocean-dirty"}: "one rule, two of the script's checks: locked-accounts judges every account together, and fails here for root's password hash, which the script's root check fails too; there is no user with UID 1000 or more",
}

// Row is one line of the comparison: a check, an image, the script's verdict and ours by a rule.
type Row struct {
	Check  Check
	Image  string
	DO     Verdict
	Rule   string
	Ours   string // the finding's status; "" when the report has no finding of the rule
	Agrees bool
	Reason string
}

// Ours is our verdicts on one image: each finding's status (pass, warn, fail, error,
// not-applicable; only the first three can agree with the script) by rule ID.
type Ours map[string]string

// ReadOurs reads the rules' statuses from a JSON report of `check --format json`.
func ReadOurs(data []byte) (Ours, error) {
	var rep struct {
		Profiles []string `json:"profiles"`
		Findings []struct {
			Rule   string `json:"rule"`
			Status string `json:"status"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, err
	}
	if len(rep.Profiles) != 1 || rep.Profiles[0] != "digitalocean" {
		return nil, fmt.Errorf("the report is of the profiles %v, not of digitalocean alone", rep.Profiles)
	}
	out := Ours{}
	for _, f := range rep.Findings {
		out[f.Rule] = f.Status
	}
	return out, nil
}

// Rows compares the script's verdicts with our reports, image by image.
func Rows(run Run, ours map[string]Ours) ([]Row, error) {
	var rows []Row
	var problems []string
	used := map[reasonKey]bool{}
	byName := map[string]ImageRun{}
	for _, im := range run.Images {
		byName[im.Name] = im
	}
	for _, c := range Checks {
		for _, im := range Images {
			dr, ok := byName[im.Name]
			if !ok {
				return nil, fmt.Errorf("no run of the script on the %s image", im.Name)
			}
			rep := ours[im.Name]
			if rep == nil {
				return nil, fmt.Errorf("no report of ours on the %s image", im.Name)
			}
			v, ok := dr.Verdicts[c.Key]
			if !ok {
				return nil, fmt.Errorf("%s: no verdict of the script for %q", im.Name, c.Name)
			}
			for _, rule := range c.Rules {
				row := Row{Check: c, Image: im.Name, DO: v, Rule: rule}
				row.Ours = rep[rule]
				if row.Ours == "" {
					problems = append(problems, fmt.Sprintf("%s: our report has no finding of %s (is it in the digitalocean profile?)", im.Name, rule))
				}
				row.Agrees = row.Ours == v.Status
				k := reasonKey{c.Key, rule, im.Name}
				row.Reason, ok = reasons[k]
				used[k] = ok
				switch {
				case !row.Agrees && !ok:
					problems = append(problems, fmt.Sprintf("%s, %s: the script says %s, %s says %s, and no reason is documented", im.Name, c.Name, v.Status, rule, row.Ours))
				case row.Agrees && ok:
					problems = append(problems, fmt.Sprintf("%s, %s: %s now agrees with the script, but a difference is documented", im.Name, c.Name, rule))
				}
				rows = append(rows, row)
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return rows, errors.New(strings.Join(problems, "\n"))
	}
	return rows, nil
}

const recordStart, recordEnd = "<!-- digitalocean-run\n", "\n-->\n"

// Page is docs/digitalocean.md: the script's checks, the comparison table, the documented
// differences, and the record of the script's verdicts (which the test reads back to judge the
// page against our current verdicts).
func Page(run Run, ours map[string]Ours) (string, error) {
	run.Commit = ScriptCommit
	rows, err := Rows(run, ours)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("<!-- Generated by `make digitalocean DO_SRC=...` (scripts/do-img-check.sh, internal/cmd/do-compare). Do not edit: `go test ./internal/cmd/do-compare/` fails when our verdicts no longer match this page. -->\n")
	b.WriteString("# DigitalOcean's own checker, compared\n\n")
	fmt.Fprintf(&b, "DigitalOcean's Marketplace judges an image with its validation script, run as root on a Droplet made from the image:\n"+
		"[`scripts/99-img-check.sh`](https://github.com/digitalocean/marketplace-partners/blob/%s/scripts/99-img-check.sh) of\n"+
		"digitalocean/marketplace-partners at commit `%s` (v. 1.8.1; it is Apache-2.0 and is not copied here).\n"+
		"`make digitalocean DO_SRC=<checkout>` (scripts/do-img-check.sh) unpacks each image below with this checker's own readers,\n"+
		"runs the script as root in a chroot of the tree, reads its verdict per check, and compares it with the verdict of\n"+
		"`check --profile digitalocean` on the same image. The script reads; the chroot is a copy.\n\n", ScriptCommit, ScriptCommit)
	b.WriteString("What the chroot gives the script: bash and the commands it calls (cat, wc, ls, cut, head, sort, sed, grep, awk, date,\n" +
		"sleep, mkdir, chmod, uname, apt-get) copied from the host into `/.do-oracle` with their libraries, first on PATH, and\n" +
		"`/dev/null`. It does not give it a cloud-init, ufw, firewall-cmd, systemctl, lsmod or yum: those it finds in the image\n" +
		"or not at all, and nothing of the host's running state (no /proc). apt reads the image's dpkg status and, instead of\n" +
		"the network, a local archive holding the test advisories' fixed openssl (3.0.11-1~deb12u2) in a `bookworm-security`\n" +
		"suite, the same fact testfixture.MarketplaceOSVRecords give security-updates-installed here: both judge one piece of\n" +
		"test data, not the real archive.\n\n")
	b.WriteString("## The images\n\n")
	for _, im := range Images {
		fmt.Fprintf(&b, "- **%s**: %s\n", im.Name, im.What)
	}
	b.WriteString("\n## What the script checks\n\n| Check (the script's words) | What it reads | Verdicts | Rules here |\n|---|---|---|---|\n")
	for _, c := range Checks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Name, c.Reads, c.Levels, codes(c.Rules))
	}
	b.WriteString("\n## Verdicts, check by check\n\n" +
		"DigitalOcean's verdict is the worst line the script printed for the check (FAIL, WARN, PASS); \"nothing reported\"\n" +
		"is a check that only prints problems and printed none. Ours is the rule's status in the digitalocean profile (an\n" +
		"advisory rule's violation is a warning, as the script's WARN).\n\n" +
		"| Check | Image | DigitalOcean | Ours | Rule | Agreement |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		agree := "agrees"
		if !r.Agrees {
			agree = "differs: " + r.Reason
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` | %s |\n", r.Check.Name, r.Image, r.DO, r.Ours, r.Rule, agree)
	}
	b.WriteString("\n## Where the script is wrong, or judges less than DigitalOcean means\n\n" + differences + "\n")
	rec, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return "", err
	}
	b.WriteString(recordStart + string(rec) + recordEnd)
	return b.String(), nil
}

// differences are the documented ways the rules follow what DigitalOcean means rather than
// what the script does, whether or not the fixtures show them.
const differences = `- **Users' .ssh directories are never read.** checkUsers lists a user's .ssh with the glob inside double quotes: it
  names a file called ` + "`*`" + `, so for every user the script says "has no SSH keys present" whatever the directory holds. The
  rules read every home's .ssh (no-ssh-keys, no-ssh-dir-files): an authorized_keys or a private key of a user fails.
- **A locked hash fails the script.** It passes a shadow field only when it is exactly ` + "`!`, `!!` or `*`" + `: ` + "`!$6$…`" + `
  (what ` + "`passwd -l`" + ` leaves) "has a password set", though no password can match it. locked-accounts passes every field no
  password can match (` + "`!`, `*`" + `, a hash behind a ` + "`!`" + `), and fails a usable hash or an empty field, of every account, not only root and UIDs of 1000 or more.
- **Only id_rsa is a private key to the script.** id_ed25519, id_ecdsa and the rest are "a file in the .ssh directory" (a
  warning); no-ssh-keys fails every id_* key, and a known_hosts, which the script only warns on. An authorized_keys of 50
  bytes or less passes the script (it cannot hold a key); no-ssh-keys fails any authorized_keys that is not the cloud
  images' "Please login as the user" redirect.
- **Logs: the top of /var/log only.** The script warns on rotated archives and on ` + "`*.log`" + ` files over 50 bytes directly in
  /var/log; syslog, messages, journal files and anything in a subdirectory are not read. empty-logs warns (advisory here,
  as the script's WARN) on any file with content under /var/log.
- **Bash history: every login's home.** The script reads /root and /home/USER for UIDs of 1000 or more; bash-history-cleared
  reads every home a login may write to (a home outside /home, an account with a login shell under UID 1000), with the
  script's bound: 200 bytes or more fails. no-shell-history, stricter, is not in this profile.
- **Releases: the list, and the vendors' dates.** do-supported-version follows the script's list; its unanchored patterns
  for Rocky Linux, AlmaLinux and CloudLinux (` + "`8\\.`, `8.*`" + `) would also accept a version with an 8 or a 9 anywhere in it
  (AlmaLinux 10.8): here the major version decides. The list still holds releases past their vendor's end (Ubuntu 16.04,
  18.04, 22.10, Debian 9, 10, CentOS Linux 6 to 8): supported-release, in the profile too, fails those.
- **The running state.** The firewall check asks the running system (` + "`ufw status`, `systemctl is-active`, `lsmod`" + `); the
  profile marks it a running-machine check and firewall-enabled decides it from the disk, as the system will at boot.
  The updates check asks the archive at the time it runs; security-updates-installed judges the OSV advisories of the
  release, from the disk's package database.
- **A missing apt-get passes.** The updates check counts the lines of a pipe: if apt-get cannot run, the count is 0 and the
  script passes. security-updates-installed is an error when its data was not read.
- **cloud-init installed, and enabled.** The script looks the command up on PATH; cloud-init-enabled also fails a
  cloud-init that will not run at boot (cloud-init.disabled, ` + "`cloud-init=disabled`" + ` on the kernel command line, masked units).
`

func codes(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "`" + id + "`"
	}
	return strings.Join(out, ", ")
}

// ReadRecord reads the script's verdicts back from a page Page wrote.
func ReadRecord(page string) (Run, error) {
	var run Run
	i := strings.Index(page, recordStart)
	if i < 0 {
		return run, errors.New("no digitalocean-run record in the page")
	}
	rest := page[i+len(recordStart):]
	j := strings.Index(rest, recordEnd)
	if j < 0 {
		return run, errors.New("the digitalocean-run record is not closed")
	}
	if err := json.Unmarshal([]byte(rest[:j]), &run); err != nil {
		return run, fmt.Errorf("the digitalocean-run record: %w", err)
	}
	if run.Commit != ScriptCommit {
		return run, fmt.Errorf("the record is of the script at %s, not %s", run.Commit, ScriptCommit)
	}
	for _, im := range run.Images {
		for k := range im.Verdicts {
			if _, ok := checkByKey(k); !ok {
				return run, fmt.Errorf("the record's %s image has a verdict of no known check %q", im.Name, k)
			}
		}
	}
	return run, nil
}
