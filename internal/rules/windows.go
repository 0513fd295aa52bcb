package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/windows"

	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// Windows evidence paths are shown from the drive the volume is in a running VM.
func winPath(p string) string { return "C:/" + strings.TrimPrefix(p, "/") }

// windowsCheck wraps a check that needs the Windows system volume.
func windowsCheck(check func(*Context, *filesystem.Tree) Result) func(*Context) Result {
	return func(c *Context) Result {
		if c.Image.Windows == nil {
			return Result{Status: Error, Message: inspect.ErrNoWindows.Error()}
		}
		return check(c, c.Image.Windows)
	}
}

// anyOS wraps a check that works on a Linux root or a Windows volume alike.
func anyOS(check func(*Context) Result) func(*Context) Result {
	return func(c *Context) Result {
		if c.Image.Root == nil && c.Image.Windows == nil {
			return Result{Status: Error, Message: inspect.ErrNoLinuxRoot.Error() + "; " + inspect.ErrNoWindows.Error()}
		}
		return check(c)
	}
}

// hivesCheck wraps a check that reads the registry.
func hivesCheck(check func(*Context, *windows.Hives) Result) func(*Context) Result {
	return windowsCheck(func(c *Context, _ *filesystem.Tree) Result {
		h, err := c.Image.Hives()
		if err != nil {
			return errResult(err)
		}
		return check(c, h)
	})
}

// MinWindowsServerBuild is Windows Server 2016, the oldest release Azure still offers as a
// marketplace base.
const MinWindowsServerBuild = 14393

var windowsServerReleases = map[int]string{14393: "2016", 17763: "2019", 20348: "2022", 26100: "2025"}

var _ = register(&Rule{
	ID:        "windows-server-edition",
	Title:     "Windows Server, a release Azure offers as a base image (2016 or later)",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Windows: base the image on an Azure-provided Windows Server image)",
	Rationale: "Marketplace Windows images must derive from a Windows Server image Azure provides; client editions and retired releases are refused.",
	Fix:       "Build from a current Windows Server image of the Azure Marketplace (MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2 or later).",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		v, err := h.ReadVersion()
		if err != nil {
			return errResult(err)
		}
		ev := Evidence{Path: winPath(windows.SoftwareHive), Detail: `Microsoft\Windows NT\CurrentVersion: ` + v.String() + ", installation type " + v.InstallationType}
		var r Result
		switch {
		case !v.IsServer():
			r = fail(fmt.Sprintf("%s is not a Windows Server edition", v.ProductName), ev)
		case v.Build < MinWindowsServerBuild:
			r = fail(fmt.Sprintf("%s (build %d) is older than Windows Server 2016", v.ProductName, v.Build), ev)
		default:
			rel := windowsServerReleases[v.Build]
			if rel == "" {
				rel = fmt.Sprintf("build %d", v.Build)
			}
			r = pass(fmt.Sprintf("%s (Windows Server %s)", v.ProductName, rel), ev)
		}
		r.Actual, r.Required = v.String(), "Windows Server 2016 (build 14393) or later"
		return r
	}),
})

// MaxUpdateAge is how old the newest installed update may be: a month's Patch Tuesday plus
// two weeks to build and submit.
const MaxUpdateAge = 45 * 24 * time.Hour

var _ = register(&Rule{
	ID:        "windows-updates-current",
	Title:     "Security updates installed within the last 45 days",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Windows: all latest security updates installed)",
	Rationale: "Microsoft publishes security updates monthly; an image whose newest installed update is older than a cycle misses at least one.",
	Fix:       "Install the updates during the build (marketplace-harden's `windows-update` step, which reboots as needed).",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		last, where, err := h.LastUpdateInstall()
		if err != nil {
			return errResult(err)
		}
		if last.IsZero() {
			r := warn("no record of an installed update was found (Component Based Servicing packages, Windows Update results)")
			r.Actual, r.Required = "unknown", "an update installed within 45 days"
			return r
		}
		age := time.Since(last)
		ev := Evidence{Path: winPath(windows.SoftwareHive), Detail: where + ": " + last.Format(time.RFC3339)}
		r := pass(fmt.Sprintf("newest update installed %s (%d days ago)", last.Format("2006-01-02"), int(age.Hours()/24)), ev)
		if age > MaxUpdateAge {
			r = fail(fmt.Sprintf("newest update installed %s, %d days ago", last.Format("2006-01-02"), int(age.Hours()/24)), ev)
		}
		r.Actual, r.Required = last.Format("2006-01-02"), "an update installed within 45 days"
		return r
	}),
})

// RestrictedAccountNames are the user names Azure refuses for the admin account and that
// applications must not depend on.
var RestrictedAccountNames = []string{"administrator", "admin", "root"}

func accounts(h *windows.Hives) ([]windows.Account, Result, bool) {
	acc, err := h.Accounts()
	if err != nil {
		return nil, errResult(err), false
	}
	return acc, Result{}, true
}

var _ = register(&Rule{
	ID:        "windows-no-restricted-account-names",
	Title:     "No enabled local account named administrator, admin or root",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Windows: applications must not rely on restricted user names)",
	Rationale: "Azure does not allow these names for the account it creates at deployment; an image whose software expects them breaks, and an enabled well-known name invites password guessing.",
	Fix:       "Disable or rename the account (`Disable-LocalUser`), or remove it with marketplace-harden's `remove_users`.",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		acc, r, ok := accounts(h)
		if !ok {
			return r
		}
		var ev []Evidence
		for _, a := range acc {
			if !a.Disabled && containsFold(RestrictedAccountNames, a.Name) {
				ev = append(ev, Evidence{Path: winPath(windows.SAMHive), Detail: fmt.Sprintf("%s (RID %d) is enabled", Quote(a.Name), a.RID)})
			}
		}
		if len(ev) > 0 {
			r = fail(fmt.Sprintf("%d enabled account(s) with a restricted name", len(ev)), ev...)
		} else {
			r = pass(fmt.Sprintf("none of %d local accounts with a restricted name is enabled", len(acc)))
		}
		r.Actual, r.Required = fmt.Sprintf("%d enabled", len(ev)), "none enabled"
		return r
	}),
})

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

var _ = register(&Rule{
	ID:       "windows-accounts-locked",
	Title:    "Local accounts are disabled (no account with a password ships enabled)",
	Severity: High,
	Source:   "Azure Marketplace image security recommendations (Windows: only locked accounts, no default passwords)",
	Rationale: "Every deployment of the image would share an enabled account's password. Azure creates the administrator at deployment " +
		"from the customer's input (on the built-in administrator, RID 500, which is reported as a warning when left enabled).",
	Fix: "Disable the accounts the build created (`Disable-LocalUser`) or remove them (marketplace-harden `remove_users`); list accounts " +
		"the image must ship enabled in `allowed_users`.",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		acc, r, ok := accounts(h)
		if !ok {
			return r
		}
		var bad, builtin []Evidence
		for _, a := range acc {
			if a.Disabled || containsFold(c.Options.AllowedUsers, a.Name) {
				continue
			}
			pw := "with a password"
			if !a.HasPassword {
				pw = "with an EMPTY password"
			}
			e := Evidence{Path: winPath(windows.SAMHive), Detail: fmt.Sprintf("%s (RID %d) is enabled %s", Quote(a.Name), a.RID, pw)}
			if a.RID == 500 {
				builtin = append(builtin, e)
			} else {
				bad = append(bad, e)
			}
		}
		switch {
		case len(bad) > 0:
			r = fail(fmt.Sprintf("%d enabled local account(s)", len(bad)), append(bad, builtin...)...)
		case len(builtin) > 0:
			r = warn("the built-in administrator (RID 500) is enabled; Azure renames it and sets its password at deployment", builtin...)
		default:
			r = pass(fmt.Sprintf("all %d local accounts are disabled", len(acc)))
		}
		r.Actual, r.Required = fmt.Sprintf("%d enabled", len(bad)+len(builtin)), "none enabled"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "windows-os-volume-not-encrypted",
	Title:     "No BitLocker-encrypted volume in the image (encryption is applied at deployment)",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations and Azure VM security practices (BitLocker on OS and data drives, through Azure Disk Encryption at deploy time); certification FAQ, Windows test case 10 BitLocker Drive Encryption (not supported on the OS disk)",
	Cert:      &CertTest{Name: "BitLocker Drive Encryption", Level: "Failed"},
	Rationale: "A VHD encrypted with a key of the build machine cannot be provisioned; Azure encrypts at deployment (Azure Disk Encryption or encryption at host).",
	Fix:       "Turn BitLocker off before capture (`manage-bde -off C:`) and document Azure Disk Encryption for customers.",
	Check: func(c *Context) Result {
		var ev []Evidence
		for _, p := range c.Image.Table.Partitions {
			if p.Kind == partition.KindBitLocker {
				ev = append(ev, Evidence{Path: c.Image.Source, Detail: fmt.Sprintf("partition %d is BitLocker-encrypted", p.Number)})
			}
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d BitLocker volume(s)", len(ev)), ev...)
		}
		return pass("no BitLocker volume; encryption is left to Azure at deployment")
	},
})

// UnsupportedFeatures are Windows Server roles and features (Install-WindowsFeature names)
// that Microsoft's "server software support for Azure virtual machines" lists as not
// supported in Azure VMs.
var UnsupportedFeatures = map[string]string{
	"DHCP":                 "DHCP Server",
	"Hyper-V":              "Hyper-V (supported only nested, on sizes that allow it)",
	"ADRMS":                "Rights Management Services",
	"WDS":                  "Windows Deployment Services",
	"BitLocker":            "BitLocker Drive Encryption on the OS disk",
	"ISNS":                 "Internet Storage Name Server",
	"Multipath-IO":         "Multipath I/O",
	"NLB":                  "Network Load Balancing",
	"PNRP":                 "Peer Name Resolution Protocol",
	"SNMP-Service":         "SNMP Services",
	"Storage-Mgr-SANS":     "Storage Manager for SANs",
	"WINS":                 "Windows Internet Name Service",
	"Wireless-Networking":  "Wireless LAN Service",
	"Routing":              "Routing (RRAS)",
	"DirectAccess-VPN":     "DirectAccess and VPN (RRAS)",
	"Failover-Clustering":  "",
	"RSAT-Clustering-Mgmt": "",
}

var _ = register(&Rule{
	ID:       "windows-no-failover-clustering",
	Title:    "The Failover Clustering feature is not installed",
	Severity: Low,
	Source: "self-test 1.1.6 Failover Cluster (required value \"Failover Clustering feature is disabled\"); certification FAQ, Windows test cases " +
		"(learn.microsoft.com/azure/marketplace/azure-vm-certification-faq)",
	Rationale: "The self-test's Windows case Failover Cluster requires the feature to be disabled, and the FAQ lists it among the Windows test " +
		"cases. Azure has since come to support failover clusters on shared disks, so the rule only warns, while predicting the Failed result " +
		"the documented test gives.",
	Fix:  "Remove the feature (`Uninstall-WindowsFeature Failover-Clustering`) unless the application needs a cluster; then expect to explain it to certification.",
	Cert: &CertTest{SelfTestID: "1.1.6", Name: "Failover Cluster", Level: "Failed"},
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		feats, err := h.InstalledFeatures()
		if err != nil {
			return errResult(err)
		}
		ev := Evidence{Path: winPath(windows.SoftwareHive), Detail: `ServerManager\ServicingStorage\ServerComponentCache\Failover-Clustering`}
		if slices.Contains(feats, "Failover-Clustering") {
			r := warn("the Failover Clustering feature is installed: the self-test's Failover Cluster case requires it disabled", ev)
			r.Actual, r.Required, r.Predicted = "Enabled", "Failover Clustering feature is disabled", "Failed"
			return r
		}
		r := pass("the Failover Clustering feature is not installed")
		r.Actual, r.Required = "Disabled", "Failover Clustering feature is disabled"
		return r
	}),
})

var _ = register(&Rule{
	ID:       "windows-supported-roles",
	Title:    "No Windows Server role or feature that Azure does not support",
	Severity: Medium,
	Source:   "Azure Marketplace image security recommendations (Windows: minimal roles, features, services and ports); certification FAQ, Windows test cases 5 to 17 (DHCP, Hyper-V, Remote Access, RMS, WDS, iSNS, MPIO, NLB, PNRP, SNMP, WINS, Wireless LAN)",
	Cert:     &CertTest{Name: "Windows test cases: unsupported server roles and features", Level: "Failed"},
	Rationale: "Roles such as DHCP Server, WDS or NLB do not work on Azure's network and are not supported there; " +
		"every installed role widens the attack surface. The installed roles are listed in the evidence.",
	Fix: "Remove the role (`Uninstall-WindowsFeature NAME`) or waive the rule with the reason the image needs it.",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		feats, err := h.InstalledFeatures()
		if err != nil {
			return errResult(err)
		}
		var bad []Evidence
		for _, f := range feats {
			if desc, ok := UnsupportedFeatures[f]; ok && desc != "" {
				bad = append(bad, Evidence{Path: winPath(windows.SoftwareHive), Detail: fmt.Sprintf("%s installed: %s is not supported in Azure", f, desc)})
			}
		}
		installed := Evidence{Path: winPath(windows.SoftwareHive), Detail: "installed roles and features: " + strings.Join(feats, ", ")}
		if len(feats) == 0 {
			installed.Detail = "no role or feature recorded by Server Manager"
		}
		var r Result
		if len(bad) > 0 {
			r = fail(fmt.Sprintf("%d unsupported role(s) or feature(s) installed", len(bad)), append(bad, installed)...)
		} else {
			r = pass(fmt.Sprintf("%d role(s) and feature(s) installed, none unsupported", len(feats)), installed)
		}
		r.Actual, r.Required = fmt.Sprintf("%d unsupported", len(bad)), "none unsupported"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "windows-automatic-updates",
	Title:     "Automatic updates on (AUOptions 3 or 4, NoAutoUpdate not set)",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Windows: security updates set to automatic)",
	Rationale: "Customers' VMs must keep installing security updates; an image that turns automatic updates off leaves every deployment behind.",
	Fix:       `Set HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU: NoAutoUpdate=0, AUOptions=4 (marketplace-harden's ` + "`auto-updates`" + ` step).`,
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		p, err := h.ReadAutoUpdate()
		if err != nil {
			return errResult(err)
		}
		ev := Evidence{Path: winPath(windows.SoftwareHive), Detail: fmt.Sprintf(`Policies\Microsoft\Windows\WindowsUpdate\AU: NoAutoUpdate=%v AUOptions=%d`, p.NoAutoUpdate, p.AUOptions)}
		var r Result
		switch {
		case p.NoAutoUpdate:
			r = fail("automatic updates are turned off by policy (NoAutoUpdate=1)", ev)
		case !p.Set:
			r = warn("no automatic-updates policy is set; Windows' default applies (download, then notify or install per edition)")
		case p.AUOptions == 3 || p.AUOptions == 4:
			r = pass(fmt.Sprintf("automatic updates on (AUOptions=%d)", p.AUOptions), ev)
		default:
			r = fail(fmt.Sprintf("AUOptions=%d does not install updates automatically", p.AUOptions), ev)
		}
		r.Actual, r.Required = fmt.Sprintf("NoAutoUpdate=%v AUOptions=%d", p.NoAutoUpdate, p.AUOptions), "AUOptions 3 or 4"
		return r
	}),
})

var _ = register(&Rule{
	ID:       "windows-firewall",
	Title:    "Firewall on for every profile, no custom inbound allow rule enabled",
	Severity: Medium,
	Source:   "Azure Marketplace image security recommendations (Windows: firewall rules disabled unless needed)",
	Rationale: "Inbound rules the build added (test ports, tools) stay open on every deployment. Windows' own rules (named by a resource " +
		"reference, such as Remote Desktop) are left alone; the firewall itself must stay on.",
	Fix: "Disable the rules the build added (`Disable-NetFirewallRule -Name ...`; marketplace-harden's `firewall` step keeps only " +
		"`keep_firewall_rules`) and enable the profiles (`Set-NetFirewallProfile -Enabled True`).",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		profiles, err := h.FirewallProfiles()
		if err != nil {
			return errResult(err)
		}
		rules, err := h.FirewallRules()
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		names := make([]string, 0, len(profiles))
		for n := range profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if !profiles[n] {
				ev = append(ev, Evidence{Path: winPath(windows.SystemHive), Detail: n + " profile: firewall disabled (EnableFirewall=0)"})
			}
		}
		custom := 0
		for _, fr := range rules {
			if fr.Active && fr.Dir == "In" && fr.Action == "Allow" && !fr.Builtin() {
				custom++
				d := "inbound allow rule " + Quote(strconv.Quote(fr.Name)) + " enabled"
				if fr.Ports != "" {
					d += ", ports " + Quote(fr.Ports)
				}
				ev = append(ev, Evidence{Path: winPath(windows.SystemHive), Detail: d + " (rule " + Quote(fr.ID) + ")"})
			}
		}
		r := pass(fmt.Sprintf("firewall on; %d rules, none a custom enabled inbound allow rule", len(rules)))
		if len(ev) > 0 {
			r = fail(fmt.Sprintf("%d finding(s): disabled profiles or custom inbound allow rules", len(ev)), listing(ev, 30)...)
		}
		r.Actual, r.Required = fmt.Sprintf("%d custom inbound allow rule(s)", custom), "firewall on, no custom inbound allow rule"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "windows-hosts-default",
	Title:     "The HOSTS file holds no entries",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Windows: remove HOSTS entries)",
	Rationale: "Entries added during the build (test servers, internal names) would redirect customers' traffic.",
	Fix:       "Reset the file to Windows' comment-only default (marketplace-harden's `hosts` step).",
	Check: windowsCheck(func(c *Context, t *filesystem.Tree) Result {
		const hosts = "Windows/System32/drivers/etc/hosts"
		b, err := t.ReadFile(hosts, windows.MaxHostsFile)
		if errors.Is(err, fs.ErrNotExist) {
			return pass("no HOSTS file")
		}
		if err != nil {
			return errResult(err)
		}
		entries, err := windows.ParseHosts(winPath(hosts), b)
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		for _, e := range entries {
			ev = append(ev, Evidence{Path: winPath(hosts), Line: e.Line, Detail: "entry for " + Quote(e.Names)})
		}
		r := pass("the HOSTS file holds only comments")
		if len(ev) > 0 {
			r = fail(fmt.Sprintf("%d HOSTS entries", len(ev)), listing(ev, 30)...)
		}
		r.Actual, r.Required = fmt.Sprintf("%d entries", len(ev)), "no entries"
		return r
	}),
})

// MaxEventLogRecords is how many records a cleared log may hold by capture time: clearing
// writes one (event 104 or 1102), and sysprep and the shutdown after it write a few dozen.
const MaxEventLogRecords = 200

var _ = register(&Rule{
	ID:       "windows-event-logs-cleared",
	Title:    "Event logs cleared during the build (no log over 200 records)",
	Severity: Medium,
	Source:   "Azure Marketplace image security recommendations (Windows: remove log files) and Alibaba Cloud image best practices (wevtutil cl)",
	Rationale: "Event logs record the build: user names, IPs, commands. A log cleared at the end of the build holds its clear " +
		"event and what sysprep and the shutdown wrote; one never cleared holds thousands of records.",
	Fix: "Clear every log as late as possible (`wevtutil el | % { wevtutil cl $_ }`; marketplace-harden's `event-logs` step, which clears System last).",
	Check: windowsCheck(func(c *Context, t *filesystem.Tree) Result {
		logs, err := windows.EventLogs(t)
		if err != nil {
			return errResult(err)
		}
		var ev []Evidence
		var total uint64
		for _, l := range logs {
			total += l.Records
			if l.Records > MaxEventLogRecords {
				ev = append(ev, Evidence{Path: winPath(l.Path), Detail: fmt.Sprintf("%d records", l.Records)})
			}
		}
		r := pass(fmt.Sprintf("%d event logs, %d records in all, none over %d", len(logs), total, MaxEventLogRecords))
		if len(ev) > 0 {
			r = fail(fmt.Sprintf("%d event log(s) were not cleared", len(ev)), listing(ev, 30)...)
		}
		r.Actual, r.Required = fmt.Sprintf("%d log(s) over %d records", len(ev), MaxEventLogRecords), "all logs cleared"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "windows-64-bit",
	Title:     "64-bit Windows (machine type of the kernel and system DLLs)",
	Severity:  Critical,
	Source:    "Azure Marketplace image security recommendations (Windows: 64-bit only); self-test 1.1.4 OS Architecture",
	Rationale: "Azure Marketplace accepts 64-bit images only.",
	Cert:      &CertTest{SelfTestID: "1.1.4", Name: "OS Architecture", Level: "Failed"},
	Fix:       "Build from a 64-bit Windows Server image.",
	Check: windowsCheck(func(c *Context, t *filesystem.Tree) Result {
		var ev []Evidence
		bits := ""
		for _, f := range []string{"Windows/System32/ntoskrnl.exe", "Windows/System32/kernel32.dll"} {
			m, err := windows.PEMachine(t, f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return errResult(err)
			}
			name := map[uint16]string{0x8664: "x86-64", 0xAA64: "ARM64", 0x14C: "i386 (32-bit)", 0x1C4: "ARMv7 (32-bit)"}[m]
			if name == "" {
				name = fmt.Sprintf("machine %#x", m)
			}
			ev = append(ev, Evidence{Path: winPath(f), Detail: name})
			if m != 0x8664 && m != 0xAA64 {
				bits = name
			}
		}
		if len(ev) == 0 {
			return errResult(errors.New("neither ntoskrnl.exe nor kernel32.dll was found under Windows/System32"))
		}
		r := pass("system binaries are 64-bit", ev...)
		if bits != "" {
			r = fail("system binaries are "+bits, ev...)
		}
		r.Actual, r.Required = ev[0].Detail, "x86-64 or ARM64"
		return r
	}),
})

// GeneralizedState is the image state sysprep /generalize /oobe leaves.
const GeneralizedState = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"

var _ = register(&Rule{
	ID:        "windows-generalized",
	Title:     "Image generalized with sysprep (" + GeneralizedState + ")",
	Severity:  Critical,
	Source:    "Alibaba Cloud image best practices (sysprep /generalize /oobe); Azure requires generalized images",
	Rationale: "A specialized image keeps the build VM's machine SID, computer name and accounts; Azure cannot provision it as a new VM.",
	Fix:       "Run `sysprep /generalize /oobe /quiet /mode:vm /quit` last and wait for the state (marketplace-harden `sysprep = true`).",
	Check: windowsCheck(func(c *Context, t *filesystem.Tree) Result {
		h, err := c.Image.Hives()
		if err != nil {
			return errResult(err)
		}
		state, err := h.ImageState()
		if err != nil {
			return errResult(err)
		}
		ev := Evidence{Path: winPath(windows.SoftwareHive)}
		if state == "" {
			// older images record it only in State.ini, read as GetPrivateProfileString reads it
			ini, err := windows.ReadImageStateINI(t)
			if err != nil {
				return errResult(err)
			}
			if ini.Found {
				state, ev = ini.Value, Evidence{Path: winPath(windows.StateINI), Line: ini.Line}
			}
		}
		ev.Detail = Quote("ImageState=" + state)
		var r Result
		switch state {
		case GeneralizedState:
			r = pass("generalized", ev)
		case "":
			r = fail("no image state recorded: sysprep has not run")
		default:
			r = fail(state+": not generalized", ev)
		}
		r.Actual, r.Required = state, GeneralizedState
		return r
	}),
})

// SystemProfile is the SYSTEM account's profile, where a script run as SYSTEM (an elevated
// Packer provisioner) leaves its history.
const SystemProfile = "Windows/System32/config/systemprofile"

// userProfiles lists the profile directories under Users (junctions such as "All Users" are
// skipped: they point at directories listed elsewhere) and the SYSTEM profile: the ones the
// provisioner's Mp-Profiles cleans.
func userProfiles(t *filesystem.Tree) ([]string, error) {
	var out []string
	ents, err := t.ReadDir("Users")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, path.Join("Users", e.Name()))
		}
	}
	if st, err := t.Lstat(SystemProfile); err == nil && st.IsDir() {
		out = append(out, SystemProfile)
	}
	return out, nil
}

// filesUnder lists the regular files below dir (not following links); nil when dir is absent.
func filesUnder(t *filesystem.Tree, dir string) ([]Evidence, error) {
	var ev []Evidence
	err := regularFiles(t, dir, func(p string, fi fs.FileInfo) error {
		ev = append(ev, Evidence{Path: winPath(p), Detail: fmt.Sprintf("%d bytes", fi.Size())})
		return nil
	})
	return ev, err
}

// profileFiles collects the files under sub (a path inside each profile) of every profile,
// plus the extra machine-wide paths (files or directories).
func profileFiles(t *filesystem.Tree, subs []string, extra ...string) ([]Evidence, error) {
	profiles, err := userProfiles(t)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, p := range profiles {
		for _, s := range subs {
			dirs = append(dirs, path.Join(p, s))
		}
	}
	var ev []Evidence
	for _, d := range append(dirs, extra...) {
		if strings.ContainsAny(d, "*?[") {
			m, err := globFS(t, d)
			if err != nil {
				return nil, err
			}
			for _, f := range m {
				if st, err := t.Lstat(f); err == nil && st.Mode().IsRegular() {
					ev = append(ev, Evidence{Path: winPath(f), Detail: fmt.Sprintf("%d bytes", st.Size())})
				}
			}
			continue
		}
		e, err := filesUnder(t, d)
		if err != nil {
			return nil, err
		}
		ev = append(ev, e...)
	}
	return ev, nil
}

func noFilesRule(id, title string, sev Severity, source, rationale, fix, what string, subs []string, extra ...string) *Rule {
	return register(&Rule{
		ID: id, Title: title, Severity: sev, Source: source, Rationale: rationale, Fix: fix,
		Check: windowsCheck(func(c *Context, t *filesystem.Tree) Result {
			ev, err := profileFiles(t, subs, extra...)
			if err != nil {
				return errResult(err)
			}
			r := pass("no " + what)
			if len(ev) > 0 {
				r = fail(fmt.Sprintf("%d %s", len(ev), what), listing(ev, 30)...)
			}
			r.Actual, r.Required = fmt.Sprintf("%d file(s)", len(ev)), "none"
			return r
		}),
	})
}

var _ = noFilesRule("windows-no-ssh-keys", "No OpenSSH keys in any profile or in ProgramData\\ssh",
	High,
	"Alibaba Cloud image best practices (remove .ssh keys under C:\\Users\\*) and the Azure guidance on test keys",
	"Authorized keys left in the image let their owner into every deployment; host keys would be shared by all of them.",
	"Delete the .ssh directories of every profile and ProgramData\\ssh's keys (marketplace-harden `ssh-keys`); sshd makes new host keys at first start.",
	"SSH key file(s)", requirements.WindowsSSHKeyProfilePaths, requirements.WindowsSSHKeyMachinePaths...)

var _ = noFilesRule("windows-no-cached-credentials", "No saved credentials (cmdkey / Credential Manager) in any profile",
	High,
	"Alibaba Cloud image best practices (remove cached credentials, cmdkey)",
	"Saved credentials of the build (file shares, registries, remote hosts) would ship to every customer.",
	"Delete them with `cmdkey /delete` for each entry of `cmdkey /list` and remove the Credentials folders (marketplace-harden `credentials`).",
	"saved credential file(s)", requirements.WindowsCredentialPaths)

var _ = noFilesRule("windows-no-powershell-history", "No PSReadLine history (ConsoleHost_history.txt) in any profile",
	High,
	"Alibaba Cloud image best practices (Clear-History and delete ConsoleHost_history.txt for every user)",
	"PowerShell histories keep every command typed during the build, often with passwords and keys.",
	"Delete the PSReadLine folder's *_history.txt of every profile as the last step (marketplace-harden `history`).",
	"PowerShell history file(s)", requirements.WindowsHistoryPaths)

var _ = noFilesRule("windows-temp-empty", "Temp folders empty (Windows\\Temp and every profile's AppData\\Local\\Temp)",
	Low,
	"Alibaba Cloud image best practices (temp files, cleanmgr)",
	"Installers and scripts leave files in the temp folders: size, and sometimes secrets, shipped to every customer.",
	"Empty the folders as a late step (marketplace-harden `temp`).",
	"temp file(s)", requirements.WindowsTempPaths, "Windows/Temp")
