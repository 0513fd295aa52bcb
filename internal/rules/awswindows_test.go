package rules_test

import (
	"fmt"
	"testing"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

const (
	ec2LaunchImagePath = `"%ProgramFiles%\Amazon\EC2Launch\EC2Launch.exe" service`
	ec2ConfigImagePath = `C:\Program Files\Amazon\Ec2ConfigService\Ec2Config.exe` // unquoted, as its installer writes it
	ec2ConfigProgram   = "Program Files/Amazon/Ec2ConfigService/Ec2Config.exe"
	ec2LaunchV1Script  = "ProgramData/Amazon/EC2-Windows/Launch/Scripts/InitializeInstance.ps1"
	ec2LaunchV1Task    = "Windows/System32/Tasks/Amazon Ec2 Launch - Instance Initialization"
)

// taskFile is a task definition as the Task Scheduler writes it (UTF-16LE with a byte-order
// mark): enabled or not, started at boot or not.
func taskFile(enabled, atBoot bool) []byte {
	trigger := ""
	if atBoot {
		trigger = "<BootTrigger><Enabled>true</Enabled></BootTrigger>"
	}
	x := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-16"?>`+"\r\n"+`<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">`+
		`<Triggers>%s</Triggers><Settings><Enabled>%v</Enabled></Settings><Actions Context="Author"><Exec><Command>C:\Windows\System32\cmd.exe</Command>`+
		`<Arguments>/C powershell.exe -File "C:\ProgramData\Amazon\EC2-Windows\Launch\Scripts\InitializeInstance.ps1"</Arguments></Exec></Actions></Task>`, trigger, enabled)
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(x)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// windowsBuild is SOFTWARE text that makes the image another Windows Server release.
func windowsBuild(product string, build int) string {
	return fmt.Sprintf("[%s\\Microsoft\\Windows NT\\CurrentVersion]\n\"ProductName\"=\"%s\"\n\"CurrentBuild\"=\"%d\"\n\"CurrentBuildNumber\"=\"%d\"\n\n",
		winimage.HivePrefix, product, build, build)
}

// The launch agent as Windows starts it, on real images winimage builds (NTFS, hives written by
// hivexregedit).
func TestEC2LaunchAgent(t *testing.T) {
	pe := winimage.PEHeader(0x8664)
	v1 := func(task []byte) map[string][]byte {
		return map[string][]byte{ec2LaunchV1Script: []byte("# EC2Launch v1\r\n"), ec2LaunchV1Task: task}
	}
	v1Files := v1(taskFile(true, true))
	ws2019 := windowsBuild("Windows Server 2019 Datacenter", 17763)
	ec2config := winimage.ServiceReg("Ec2Config", 2, ec2ConfigImagePath)
	for _, c := range []struct {
		name   string
		o      winimage.Options
		status rules.Status
		text   string
	}{
		{"the compliant image: EC2Launch v2", winimage.Options{}, rules.Pass, "EC2Launch v2 starts at boot"},
		{"the dirty image: none", winimage.Options{Dirty: true}, rules.Fail, "no EC2 launch agent"},
		{"none", winimage.Options{NoEC2Launch: true}, rules.Fail, "no EC2 launch agent"},
		{"v2 disabled", winimage.Options{SystemReg: winimage.ServiceReg("EC2Launch", 4, ec2LaunchImagePath)}, rules.Fail, "is Disabled"},
		{"v2 manual", winimage.Options{SystemReg: winimage.ServiceReg("EC2Launch", 3, ec2LaunchImagePath)}, rules.Fail, "is Manual"},
		{"v2 with no Start value", winimage.Options{NoEC2Launch: true, SystemReg: winimage.ServiceReg("EC2Launch", -1, ec2LaunchImagePath)}, rules.Fail, "no Start value"},
		{"v2 service, program missing", winimage.Options{NoEC2Launch: true, SystemReg: winimage.ServiceReg("EC2Launch", 2, ec2LaunchImagePath)}, rules.Fail, "is not on the system volume"},
		{"v2 program on another drive", winimage.Options{NoEC2Launch: true, SystemReg: winimage.ServiceReg("EC2Launch", 2, `"D:\Amazon\EC2Launch\EC2Launch.exe" service`),
			Files: map[string][]byte{"Amazon/EC2Launch/EC2Launch.exe": pe}}, rules.Fail, "is not on the system volume"},
		// the service key in a control set Windows does not boot (Select\Current is 1)
		{"v2 in ControlSet002 only", winimage.Options{NoEC2Launch: true, Files: map[string][]byte{winimage.EC2LaunchProgram: pe},
			SystemReg: fmt.Sprintf("[%s\\ControlSet002\\Services\\EC2Launch]\n\"Start\"=dword:00000002\n\"ImagePath\"=\"C:\\\\Program Files\\\\Amazon\\\\EC2Launch\\\\EC2Launch.exe\"\n\n", winimage.HivePrefix)},
			rules.Fail, "no EC2 launch agent"},
		// service names are matched as Windows matches them, regardless of case
		{"v2 under a lowercase key", winimage.Options{NoEC2Launch: true, Files: map[string][]byte{winimage.EC2LaunchProgram: pe},
			SystemReg: winimage.ServiceReg("ec2launch", 2, ec2LaunchImagePath)}, rules.Pass, "EC2Launch v2 starts at boot"},
		{"v2 before Windows Server 2016", winimage.Options{SoftwareReg: windowsBuild("Windows Server 2012 R2 Datacenter", 9600)}, rules.Warn, "AWS lists EC2Launch v2 for Windows Server 2016 and later"},
		{"v1 on Windows Server 2019", winimage.Options{NoEC2Launch: true, Files: v1Files, SoftwareReg: windowsBuild("Windows Server 2019 Datacenter", 17763)},
			rules.Pass, "EC2Launch v1 is scheduled"},
		{"v1 on Windows Server 2022", winimage.Options{NoEC2Launch: true, Files: v1Files}, rules.Warn, "Windows Server 2016 and 2019 only"},
		{"v1, its task disabled", winimage.Options{NoEC2Launch: true, Files: v1(taskFile(false, true)), SoftwareReg: ws2019}, rules.Fail, "scheduled task is disabled"},
		{"v1, its task not at boot", winimage.Options{NoEC2Launch: true, Files: v1(taskFile(true, false)), SoftwareReg: ws2019}, rules.Fail, "no enabled boot trigger"},
		{"v1, its task unreadable", winimage.Options{NoEC2Launch: true, Files: v1([]byte("<Task><Settings>")), SoftwareReg: ws2019}, rules.Error, "Amazon Ec2 Launch - Instance Initialization"},
		{"v1 without its scheduled task", winimage.Options{NoEC2Launch: true, Files: map[string][]byte{ec2LaunchV1Script: []byte("#\r\n")},
			SoftwareReg: windowsBuild("Windows Server 2019 Datacenter", 17763)}, rules.Fail, "scheduled task is not registered"},
		{"EC2Config on Windows Server 2012 R2", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: map[string][]byte{ec2ConfigProgram: pe},
			SoftwareReg: windowsBuild("Windows Server 2012 R2 Datacenter", 9600)}, rules.Pass, "EC2Config starts at boot"},
		{"EC2Config on Windows Server 2022", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: map[string][]byte{ec2ConfigProgram: pe}},
			rules.Warn, "install EC2Launch v2"},
		// the best agent decides; the broken one is still named
		{"v2 disabled, EC2Config on 2012 R2", winimage.Options{SystemReg: winimage.ServiceReg("EC2Launch", 4, ec2LaunchImagePath) + ec2config,
			Files: map[string][]byte{ec2ConfigProgram: pe}, SoftwareReg: windowsBuild("Windows Server 2012 R2 Datacenter", 9600)}, rules.Pass, "also: the EC2Launch v2 service is Disabled"},
		{"SYSTEM hive unreadable", winimage.Options{Files: map[string][]byte{"Windows/System32/config/SYSTEM": []byte("not a hive")}}, rules.Error, "SYSTEM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			judge(t, testfixture.WindowsImage(t, c.o), "ec2-launch-agent", c.status, c.text)
		})
	}
}
