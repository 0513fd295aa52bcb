package rules

import (
	"fmt"

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
