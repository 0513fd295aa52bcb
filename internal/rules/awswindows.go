package rules

import (
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/ec2launch"
	"github.com/marketready/packer-plugin-marketplace/internal/windows"
)

// The documents the EC2 launch agent rule cites.
const (
	awsWindowsAMIGuidelines = "Amazon EC2 User Guide, best practices for shared Windows AMIs (\"For instances launched from current " +
		"generation AMIs, ensure that the latest launch agent is installed\"; EC2Config for Windows before Windows Server 2016), " +
		"https://docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/windows-amis-guidelines.html"
	awsLaunchAgents = "Amazon EC2 User Guide, Windows launch agents (compare EC2Config: legacy OS only; EC2Launch v1: Windows Server " +
		"2016 and 2019; EC2Launch v2: Windows Server 2016 to 2025), https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configure-launch-agents.html"
)

// The Windows Server builds AWS's table of launch agents turns on.
const (
	buildWindowsServer2016 = 14393
	buildWindowsServer2022 = 20348
)

// launchAgentVerdict is one agent found, judged.
type launchAgentVerdict struct {
	agent  string
	status Status
	why    string
	ev     []Evidence
}

// judgeService judges an agent that is a Windows service: it must start at boot and its
// program must be on the volume.
func judgeService(s *ec2launch.Service, supported bool, supportNote string) launchAgentVerdict {
	v := launchAgentVerdict{agent: s.Agent}
	reg := Evidence{Path: winPath(windows.SystemHive), Detail: fmt.Sprintf("%s: %s, ImagePath %s", s.Key, s.StartName(), Quote(s.ImagePath))}
	v.ev = append(v.ev, reg)
	switch {
	case !s.StartsAtBoot():
		v.status, v.why = Fail, fmt.Sprintf("the %s service is %s: the service control manager does not start it at boot", s.Agent, s.StartName())
	case s.Program == "":
		v.status, v.why = Fail, fmt.Sprintf("the %s service's program (%s) is not on the system volume", s.Agent, Quote(s.ImagePath))
	case !supported:
		v.ev = append(v.ev, Evidence{Path: winPath(s.Program), Detail: "the service's program"})
		v.status, v.why = Warn, fmt.Sprintf("%s starts at boot, but %s", s.Agent, supportNote)
	default:
		v.ev = append(v.ev, Evidence{Path: winPath(s.Program), Detail: "the service's program"})
		v.status, v.why = Pass, fmt.Sprintf("%s starts at boot (service %s, Automatic)", s.Agent, s.Key)
	}
	return v
}

var _ = register(&Rule{
	ID:       "ec2-launch-agent",
	Title:    "An EC2 Windows launch agent starts at first boot (EC2Launch v2; EC2Launch v1 or EC2Config where AWS supports them)",
	Severity: High,
	Source:   awsWindowsAMIGuidelines + "; " + awsLaunchAgents,
	Rationale: "On EC2 the launch agent sets the administrator password that GetPasswordData returns, runs the user data, sets the " +
		"computer name, routes to the instance metadata and KMS, extends the system partition and activates Windows; an AMI without one " +
		"starts an instance nobody can log on to. Decided as Windows decides it: EC2Launch v2 and EC2Config are services, started at " +
		"boot when their key under SYSTEM\\ControlSetNNN\\Services (the current control set) has Start 2 (Automatic) and their " +
		"ImagePath names a program that is on the volume (tried as CreateProcess tries an unquoted path); EC2Launch v1 is PowerShell " +
		"scripts that run at boot only from their scheduled task \"Amazon Ec2 Launch - Instance Initialization\", enabled and with an " +
		"enabled boot trigger (its task definition under Windows\\System32\\Tasks, as the Task Scheduler reads it). An agent AWS does not " +
		"list for the image's Windows version (EC2Launch v1 after Windows Server 2019, EC2Config from Windows Server 2016 on, EC2Launch " +
		"v2 before 2016) only warns: AWS's table says what it supports, not that the agent fails. Whether it is AWS's latest version is " +
		"not decided offline.",
	Fix: "Install EC2Launch v2 (AmazonEC2Launch.msi) and leave its service Automatic; run `EC2Launch.exe sysprep --shutdown` to " +
		"generalize. With EC2Launch v1, run InitializeInstance.ps1 -Schedule before capture.",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		f, err := ec2launch.Read(c.Image.Windows, h)
		if err != nil {
			return errResult(err)
		}
		ver, err := h.ReadVersion()
		if err != nil {
			return errResult(err)
		}
		return judgeLaunchAgents(f, ver)
	}),
})

// judgeLaunchAgents takes the best of the agents found: one that starts and that AWS supports on
// this Windows passes.
func judgeLaunchAgents(f ec2launch.Facts, ver windows.Version) Result {
	build := ver.Build
	var found []launchAgentVerdict
	if f.V2 != nil {
		found = append(found, judgeService(f.V2, build >= buildWindowsServer2016,
			fmt.Sprintf("AWS lists EC2Launch v2 for Windows Server 2016 and later, and this is build %d", build)))
	}
	if f.V1Scripts || f.V1Task {
		v := launchAgentVerdict{agent: ec2launch.V1}
		if f.V1Scripts {
			v.ev = append(v.ev, Evidence{Path: winPath(ec2launch.V1Script), Detail: "EC2Launch v1's instance initialization script"})
		}
		if f.V1Task {
			v.ev = append(v.ev, Evidence{Path: winPath(ec2launch.V1Task), Detail: "EC2Launch v1's scheduled task"})
		}
		switch {
		case !f.V1Task:
			v.status, v.why = Fail, "EC2Launch v1's scripts are installed but its scheduled task is not registered (InitializeInstance.ps1 -Schedule was not run): nothing runs them at boot"
		case !f.V1Scripts:
			v.status, v.why = Fail, "EC2Launch v1's scheduled task is registered but its script "+winPath(ec2launch.V1Script)+" is missing"
		case !f.V1TaskDef.Enabled:
			v.status, v.why = Fail, "EC2Launch v1's scheduled task is disabled: nothing runs it at boot (InitializeInstance.ps1 -Schedule enables it before capture)"
		case !f.V1TaskDef.BootTrigger:
			v.status, v.why = Fail, "EC2Launch v1's scheduled task has no enabled boot trigger (At startup): nothing runs it at boot"
		case build < buildWindowsServer2016 || build >= buildWindowsServer2022:
			v.status, v.why = Warn, fmt.Sprintf("EC2Launch v1 is scheduled to run at boot, but AWS lists it for Windows Server 2016 and 2019 only, and this is build %d", build)
		default:
			v.status, v.why = Pass, "EC2Launch v1 is scheduled to run at boot"
		}
		found = append(found, v)
	}
	if f.EC2Config != nil {
		found = append(found, judgeService(f.EC2Config, build < buildWindowsServer2016,
			fmt.Sprintf("AWS lists EC2Config for Windows before Windows Server 2016 only, and this is build %d: install EC2Launch v2", build)))
	}
	if len(found) == 0 {
		r := fail("no EC2 launch agent: no EC2Launch or Ec2Config service, no EC2Launch v1 scripts",
			Evidence{Path: winPath(windows.SystemHive), Detail: `no Services\EC2Launch or Services\Ec2Config in the current control set`})
		r.Actual, r.Required = "none", "EC2Launch v2 starting at boot"
		return r
	}
	rank := map[Status]int{Fail: 0, Warn: 1, Pass: 2}
	best := found[0]
	for _, v := range found[1:] {
		if rank[v.status] > rank[best.status] {
			best = v
		}
	}
	r := Result{Status: best.status, Message: best.why, Actual: best.agent, Required: "EC2Launch v2 starting at boot"}
	if best.status == Fail {
		r.Actual = best.agent + " not starting"
	}
	r.Evidence = append(r.Evidence, best.ev...)
	for _, v := range found {
		if v.agent == best.agent {
			continue
		}
		r.Evidence = append(r.Evidence, Evidence{Detail: "also: " + v.why})
		r.Evidence = append(r.Evidence, v.ev...)
	}
	return r
}

// awsMarketplaceAMIPolicies is the AWS Marketplace policy the password rule enforces.
const awsMarketplaceAMIPolicies = "AWS Marketplace, AMI-based product requirements, general access policies (\"AMIs must not use fixed " +
	"passwords for administrative access. AMIs must use a randomized password instead.\"), " +
	"https://docs.aws.amazon.com/marketplace/latest/userguide/product-and-ami-policies.html"

// awsLaunchAgentSettings are the documents of the agents' password settings.
const awsLaunchAgentSettings = "Amazon EC2 User Guide for Windows: EC2Launch v2 settings (setAdminAccount, the state directory's " +
	".run-once), Configuring EC2Launch (LaunchConfig.json adminPasswordType), the EC2Config service (Config.xml plug-in " +
	"Ec2SetPassword, BundleConfig.xml AutoSysprep and SetPasswordAfterSysprep), Sysprep with EC2Config (sysprep2008.xml, " +
	"ScramblePassword.exe) (awsdocs/amazon-ec2-user-guide-windows: doc_source/ec2launch-v2-settings.md, ec2launch.md, " +
	"ec2config-service.md, ami-create-standard.md); Microsoft, Windows Setup Automation Overview (implicit answer file search " +
	"order) and the Unattended Windows Setup Reference (Microsoft-Windows-Shell-Setup UserAccounts, AutoLogon)"

var _ = register(&Rule{
	ID:       "ec2-launch-random-password",
	Title:    "The launch agent that runs sets a random administrator password at the customer's first boot",
	Severity: High,
	Source:   awsMarketplaceAMIPolicies + "; " + awsLaunchAgentSettings,
	Rationale: "A Windows AMI has no fixed administrator password only when the launch agent that runs at first boot generates one and " +
		"encrypts it with the instance's key pair (what GetPasswordData returns). Each agent that starts at boot (as ec2-launch-agent " +
		"decides it) is judged by the settings file it reads: EC2Launch v2's ProgramData\\Amazon\\EC2Launch\\config\\agent-config.yml " +
		"(YAML or JSON, UTF-8 with or without a byte-order mark) must have a setAdminAccount task in stage preReady with " +
		"inputs.password.type random, and its state directory no .run-once (or .runonce) marker, which makes EC2Launch skip once-tasks " +
		"such as setAdminAccount; EC2Launch v1's ProgramData\\Amazon\\EC2-Windows\\Launch\\Config\\LaunchConfig.json must have " +
		"adminPasswordType Random (names and values in any case, as PowerShell reads them); EC2Config's Settings\\Config.xml must " +
		"have plug-in Ec2SetPassword Enabled. EC2Config's Settings\\BundleConfig.xml is read when EC2Config runs Sysprep itself, " +
		"which AutoSysprep Yes has it do when the instance is bundled: then SetPasswordAfterSysprep Yes (AWS's default) gives the " +
		"new instance a random password and No leaves it to the answer file sysprep2008.xml or, without a password there, to " +
		"ScramblePassword.exe, a password nobody is given; with AutoSysprep not Yes, Config.xml decides. A static or Specify " +
		"password (a fixed password, written in clear text: the report gives only its length), doNothing or DoNothing, a missing " +
		"task, key or plug-in, a Disabled plug-in and the run-once marker fail, and so does an image where no agent runs. Answer " +
		"files are read where Windows Setup looks for one (the file HKLM\\System\\Setup!UnattendFile names, " +
		"Windows\\Panther\\Unattend, Windows\\Panther, Windows\\System32\\Sysprep, the volume's root; Unattend.xml or " +
		"Autounattend.xml) and where the agents keep the one their Sysprep passes (EC2Config's sysprep2008.xml, EC2Launch v1's and " +
		"v2's sysprep unattend.xml), UTF-8 or UTF-16 by byte-order mark or XML autodetection: an AdministratorPassword, " +
		"LocalAccount or AutoLogon password Value there (clear text, or PlainText false: base64 of the UTF-16LE password and the " +
		"element's name) fails, whatever the agent does: Windows Setup sets it after Sysprep, before any agent, the agents never " +
		"change other accounts' passwords, and anyone with the image reads it; Setup's *SENSITIVE*DATA*DELETED* is no password. " +
		"A settings or answer file that cannot be read or parsed (over 1 MiB, nested over 64 elements, a value over 64 KiB), or " +
		"that gives a key twice, is an error. What the documents do not decide warns: a missing settings file, a type AWS does not " +
		"document, a static or Specify type without a password (AWS says the agent then generates one when the given one does " +
		"not meet the system requirements), keys or values in another case than AWS's for EC2Launch v2 (a Go program whose parser " +
		"is not published), a UTF-16 agent-config.yml (Go's YAML parsers read it by its byte-order mark; AWS writes UTF-8), " +
		"Ec2SetPassword Enabled with AutoSysprep Yes and SetPasswordAfterSysprep No (two documented switches that disagree), " +
		"Ec2SetPassword Disabled with AutoSysprep Yes and SetPasswordAfterSysprep Yes (random only if the image is bundled by " +
		"EC2Config), and an answer file's blank password or hidden one that does not decode.",
	Fix: "For EC2Launch v2 set `setAdminAccount` with `password: {type: random}` in agent-config.yml's preReady stage and run " +
		"`ec2launch sysprep --shutdown` (or `ec2launch reset`) before capture; for EC2Launch v1 set \"adminPasswordType\": \"Random\" " +
		"and remove adminPassword, then run InitializeInstance.ps1 -Schedule; for EC2Config enable Ec2SetPassword (Ec2 Service " +
		"Properties, Image tab, Random) and leave SetPasswordAfterSysprep Yes before Sysprep. Remove every password from the " +
		"answer files (sysprep2008.xml, unattend.xml): create build accounts in a provisioner and delete them before capture.",
	Check: hivesCheck(func(c *Context, h *windows.Hives) Result {
		f, err := ec2launch.Read(c.Image.Windows, h)
		if err != nil {
			return errResult(err)
		}
		// Windows Setup looks first at the answer file HKLM\System\Setup!UnattendFile names
		pointer, err := windows.StringValue(h.System, "Setup", "UnattendFile")
		if err != nil {
			return errResult(err)
		}
		answers, answerErr := ec2launch.ReadAnswerFiles(c.Image.Windows, pointer)
		return judgeLaunchPasswords(f, func(agent string) (ec2launch.Password, error) {
			return ec2launch.ReadPassword(c.Image.Windows, agent)
		}, answers, answerErr)
	}),
})

// judgeLaunchPasswords judges the password of every agent that runs at boot: each sets it in
// turn, so one that leaves a fixed or the image's own password fails the image; and the
// passwords answer files give, which Windows Setup sets before any agent runs and which anyone
// with the image can read.
func judgeLaunchPasswords(f ec2launch.Facts, read func(string) (ec2launch.Password, error), answers []ec2launch.SetupPassword, answerErr error) Result {
	var failed, undecided, random []string
	var errs []string
	var ev []Evidence
	for _, a := range answers {
		e := Evidence{Path: winPath(a.File), Line: a.Line, Detail: a.Describe()}
		ev = append(ev, e)
		switch {
		case a.Length > 0:
			whose := "an administrator's"
			if !a.Admin {
				whose = "a local account's (not in group Administrators)"
			}
			failed = append(failed, a.Describe()+": Windows Setup sets it when it reads the answer file after Sysprep, and anyone with the "+
				"image can read it ("+whose+" fixed password, and a credential left in the image)")
		case a.Length == 0:
			undecided = append(undecided, a.Describe()+": Windows Setup would set a blank password, which the password policy may refuse")
		default:
			undecided = append(undecided, a.Describe()+": what Windows Setup does with it is not decided, and the value is left in the image")
		}
	}
	if answerErr != nil {
		errs = append(errs, answerErr.Error())
	}
	running := f.Running()
	if len(running) == 0 {
		r := fail("no launch agent runs: nothing randomizes the password (see ec2-launch-agent)",
			Evidence{Path: winPath(windows.SystemHive), Detail: "no EC2Launch or Ec2Config service that starts at boot, no scheduled EC2Launch v1"})
		r.Actual, r.Required = "no launch agent", "a random password set at first boot"
		r.Evidence = append(r.Evidence, ev...)
		return r
	}
	for _, agent := range running {
		p, err := read(agent)
		if err != nil {
			errs = append(errs, agent+": "+err.Error())
			ev = append(ev, Evidence{Path: winPath(ec2launch.SettingsFile(agent)), Detail: agent + "'s settings, not read"})
			continue
		}
		detail := p.Setting
		if p.Length >= 0 {
			detail += fmt.Sprintf(" (a password of %d characters)", p.Length)
		}
		if detail == "" {
			detail = agent + "'s settings"
		}
		e := Evidence{Path: winPath(p.File), Line: p.Line, Detail: detail}
		switch {
		case p.Kind == ec2launch.Fixed || p.Kind == ec2launch.Kept:
			failed = append(failed, p.Why)
		case p.Kind == ec2launch.Undecided:
			undecided = append(undecided, p.Why)
		case p.Uncertain != "":
			undecided = append(undecided, p.Why+", but "+p.Uncertain)
		default:
			random = append(random, p.Why)
		}
		if p.Uncertain != "" && p.Kind != ec2launch.Random {
			e.Detail += "; " + p.Uncertain
		}
		ev = append(ev, e)
		for _, m := range p.More {
			ev = append(ev, Evidence{Path: winPath(m.File), Line: m.Line, Detail: m.Setting})
		}
	}
	r := Result{Evidence: ev, Required: "a random password set at first boot"}
	switch {
	case len(failed) > 0:
		r.Status, r.Message, r.Actual = Fail, strings.Join(failed, "; "), "a fixed or the image's own password"
	case len(errs) > 0:
		r.Status, r.Message, r.Actual = Error, Quote(strings.Join(errs, "; ")), "unknown"
	case len(undecided) > 0:
		r.Status, r.Message, r.Actual = Warn, strings.Join(undecided, "; "), "not decided offline"
	default:
		r.Status, r.Message, r.Actual = Pass, strings.Join(random, "; "), "random"
	}
	if r.Status != Error && len(errs) > 0 {
		r.Evidence = append(r.Evidence, Evidence{Detail: "also: " + Quote(strings.Join(errs, "; "))})
	}
	if r.Status != Pass && len(random) > 0 {
		r.Evidence = append(r.Evidence, Evidence{Detail: "also: " + strings.Join(random, "; ")})
	}
	return r
}
