package rules_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

const (
	agentConfigPath = "ProgramData/Amazon/EC2Launch/config/agent-config.yml"
	launchConfig    = "ProgramData/Amazon/EC2-Windows/Launch/Config/LaunchConfig.json"
	ec2ConfigXML    = "Program Files/Amazon/Ec2ConfigService/Settings/Config.xml"
	fixedPassword   = "Corp-Build-Pa55!"
)

// adminAccount is an agent-config.yml whose preReady setAdminAccount has the given password
// mapping lines (line 6 is the first of them).
func adminAccount(password string) []byte {
	return []byte("version: 1.0\r\nconfig:\r\n- stage: preReady\r\n  tasks:\r\n  - task: setAdminAccount\r\n    inputs:\r\n      password:\r\n" + password)
}

// ec2SetPassword is EC2Config's Config.xml with plug-in Ec2SetPassword in state.
func ec2SetPassword(state string) []byte {
	return []byte("<?xml version=\"1.0\" standalone=\"yes\"?>\r\n<Ec2ConfigurationSettings>\r\n  <Plugins>\r\n    <Plugin>\r\n      <Name>Ec2SetPassword</Name>\r\n" +
		"      <State>" + state + "</State>\r\n    </Plugin>\r\n  </Plugins>\r\n</Ec2ConfigurationSettings>\r\n")
}

func merge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// The password of the agent that runs, on real images winimage builds: the compliant image has
// EC2Launch v2 with AWS's example agent-config.yml (type random).
func TestEC2LaunchRandomPassword(t *testing.T) {
	pe := winimage.PEHeader(0x8664)
	v1 := map[string][]byte{ec2LaunchV1Script: []byte("# EC2Launch v1\r\n"), ec2LaunchV1Task: taskFile(true, true)}
	ws2019 := windowsBuild("Windows Server 2019 Datacenter", 17763)
	ec2config := winimage.ServiceReg("Ec2Config", 2, ec2ConfigImagePath)
	ec2configFiles := map[string][]byte{ec2ConfigProgram: pe}
	bom := []byte{0xEF, 0xBB, 0xBF}
	for _, c := range []struct {
		name   string
		o      winimage.Options
		status rules.Status
		text   string
	}{
		{"the compliant image: v2, random", winimage.Options{}, rules.Pass, "password type random"},
		{"the dirty image: no agent", winimage.Options{Dirty: true}, rules.Fail, "no launch agent runs: nothing randomizes the password"},
		{"v2 static", winimage.Options{Files: map[string][]byte{agentConfigPath: adminAccount("        type: static\r\n        data: " + fixedPassword + "\r\n")}},
			rules.Fail, "a password of 16 characters"},
		{"v2 doNothing", winimage.Options{Files: map[string][]byte{agentConfigPath: adminAccount("        type: doNothing\r\n")}}, rules.Fail, "doNothing"},
		{"v2 without setAdminAccount", winimage.Options{Files: map[string][]byte{agentConfigPath: []byte("version: 1.0\r\nconfig:\r\n- stage: postReady\r\n  tasks:\r\n  - task: startSsm\r\n")}},
			rules.Fail, "no setAdminAccount task in stage preReady"},
		{"v2 .run-once", winimage.Options{Files: map[string][]byte{"ProgramData/Amazon/EC2Launch/state/.run-once": nil}}, rules.Fail, `state\.run-once is there`},
		{"v2 .runonce", winimage.Options{Files: map[string][]byte{"ProgramData/Amazon/EC2Launch/state/.runonce": nil}}, rules.Fail, "skips once-tasks"},
		{"v2 state.json only", winimage.Options{Files: map[string][]byte{"ProgramData/Amazon/EC2Launch/state/state.json": []byte("{}")}}, rules.Pass, "password type random"},
		{"v2 JSON form with a BOM (get-agent-config -f json | Out-File -Encoding UTF8)", winimage.Options{Files: map[string][]byte{agentConfigPath: append(bom,
			`{"version":"1.0","config":[{"stage":"preReady","tasks":[{"task":"setAdminAccount","inputs":{"password":{"type":"random"}}}]}]}`...)}}, rules.Pass, "password type random"},
		{"v2 JSON form, static", winimage.Options{Files: map[string][]byte{agentConfigPath: append(bom,
			`{"config":[{"stage":"preReady","tasks":[{"task":"setAdminAccount","inputs":{"password":{"type":"static","data":"`+fixedPassword+`"}}}]}]}`...)}}, rules.Fail, "password type static"},
		{"v2 UTF-16 (Out-File's default)", winimage.Options{Files: map[string][]byte{agentConfigPath: utf16LE(string(adminAccount("        type: random\r\n")))}}, rules.Warn, "UTF-16"},
		{"v2 type in another case", winimage.Options{Files: map[string][]byte{agentConfigPath: adminAccount("        type: Random\r\n")}}, rules.Warn, `spells the type "Random"`},
		{"v2 config missing", winimage.Options{NoEC2Launch: true, SystemReg: winimage.ServiceReg("EC2Launch", 2, ec2LaunchImagePath),
			Files: map[string][]byte{winimage.EC2LaunchProgram: pe}}, rules.Warn, "has no settings file"},
		{"v2 config not YAML", winimage.Options{Files: map[string][]byte{agentConfigPath: []byte("config: [\r\n")}}, rules.Error, "agent-config.yml"},
		{"v2 config unreadable (over the size bound)", winimage.Options{Files: map[string][]byte{agentConfigPath: []byte("#" + strings.Repeat("x", 1<<20))}}, rules.Error, "agent-config.yml"},
		{"v2 config a directory", winimage.Options{NoEC2Launch: true, SystemReg: winimage.ServiceReg("EC2Launch", 2, ec2LaunchImagePath),
			Files: map[string][]byte{winimage.EC2LaunchProgram: pe, agentConfigPath + "/x": nil}}, rules.Error, "agent-config.yml"},
		// the service does not start: it sets nothing, whatever its settings say
		{"v2 disabled", winimage.Options{SystemReg: winimage.ServiceReg("EC2Launch", 4, ec2LaunchImagePath)}, rules.Fail, "no launch agent runs"},
		{"v1 Random", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: merge(v1, map[string][]byte{launchConfig: []byte("{\r\n  \"adminPasswordType\": \"Random\"\r\n}\r\n")})},
			rules.Pass, "adminPasswordType is Random"},
		{"v1 Specify", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: merge(v1, map[string][]byte{launchConfig: []byte("{\r\n  \"adminPasswordType\": \"Specify\",\r\n  \"adminPassword\": \"" + fixedPassword + "\"\r\n}\r\n")})},
			rules.Fail, "a password of 16 characters"},
		{"v1 DoNothing", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: merge(v1, map[string][]byte{launchConfig: []byte(`{"adminPasswordType": "DoNothing"}`)})},
			rules.Fail, "DoNothing"},
		{"v1 without the key", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: merge(v1, map[string][]byte{launchConfig: []byte(`{"setWallpaper": true}`)})},
			rules.Fail, "no adminPasswordType"},
		{"v1 not JSON", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: merge(v1, map[string][]byte{launchConfig: []byte("{\r\n\"adminPasswordType\": Random}")})},
			rules.Error, "LaunchConfig.json: line 2"},
		// the scripts without their scheduled task do not run
		{"v1 Random, not scheduled", winimage.Options{NoEC2Launch: true, SoftwareReg: ws2019, Files: map[string][]byte{ec2LaunchV1Script: []byte("#\r\n"),
			launchConfig: []byte(`{"adminPasswordType": "Random"}`)}}, rules.Fail, "no launch agent runs"},
		{"EC2Config Enabled", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles, map[string][]byte{ec2ConfigXML: ec2SetPassword("Enabled")})},
			rules.Pass, "Ec2SetPassword is Enabled"},
		{"EC2Config Disabled", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles, map[string][]byte{ec2ConfigXML: ec2SetPassword("Disabled")})},
			rules.Fail, "Ec2SetPassword is Disabled"},
		// config.xml as the brief names it: NTFS names match regardless of case
		{"EC2Config disabled, lowercase name", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{"Program Files/Amazon/Ec2ConfigService/Settings/config.xml": ec2SetPassword("Disabled")})}, rules.Fail, "Disabled"},
		// both agents run: the one that leaves a password set decides
		{"v2 random and EC2Config disabled", winimage.Options{SystemReg: ec2config, Files: merge(ec2configFiles, map[string][]byte{ec2ConfigXML: ec2SetPassword("Disabled")})},
			rules.Fail, "also: EC2Launch v2's setAdminAccount has password type random"},
		// BundleConfig.xml: read when EC2Config runs Sysprep itself (AutoSysprep Yes, as the instance is bundled)
		{"EC2Config Enabled, BundleConfig without AutoSysprep", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Enabled"), bundleConfigXML: bundleConfig("No", "No")})}, rules.Pass, "read only when EC2Config runs Sysprep"},
		{"EC2Config Enabled, AutoSysprep without a password after it", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Enabled"), bundleConfigXML: bundleConfig("Yes", "No")})}, rules.Warn, "which one wins is not documented"},
		{"EC2Config Disabled, AutoSysprep with a random password after it", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Disabled"), bundleConfigXML: bundleConfig("Yes", "Yes")})}, rules.Warn, "not known offline"},
		{"EC2Config Disabled, AutoSysprep without a password after it, sysprep2008.xml's password", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Disabled"), bundleConfigXML: bundleConfig("Yes", "No"), ec2ConfigAnswer: answerFile(adminPassword(fixedPassword, "true"))})},
			rules.Fail, `UserAccounts/AdministratorPassword: a password of 16 characters in clear text in C:\Program Files\Amazon\Ec2ConfigService\sysprep2008.xml line 7`},
		{"EC2Config Disabled, AutoSysprep without a password after it, no answer password", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Disabled"), bundleConfigXML: bundleConfig("Yes", "No"), ec2ConfigAnswer: answerFile("")})}, rules.Fail, "ScramblePassword.exe"},
		{"EC2Config, BundleConfig not XML", winimage.Options{NoEC2Launch: true, SystemReg: ec2config, Files: merge(ec2configFiles,
			map[string][]byte{ec2ConfigXML: ec2SetPassword("Enabled"), bundleConfigXML: []byte("<BundleConfig>\r\n<Property>")})}, rules.Error, "BundleConfig.xml"},
		// answer files: a password there is set by Windows Setup and readable by anyone with the image
		{"v2 random, Panther's cached answer file with a hidden local administrator", winimage.Options{Files: map[string][]byte{
			"Windows/Panther/unattend.xml": utf16LE(string(answerFile(localAccount("Administrators", hiddenPassword(fixedPassword, "Password"), "false"))))}},
			rules.Fail, `LocalAccounts/LocalAccount "packer" (group "Administrators") Password: a password of 16 characters base64-encoded`},
		{"v2 random, Panther's answer file after Setup deleted the password", winimage.Options{Files: map[string][]byte{
			"Windows/Panther/unattend.xml": answerFile(adminPassword("*SENSITIVE*DATA*DELETED*", "false"))}}, rules.Pass, "password type random"},
		{"v2 doNothing, the answer file's password", winimage.Options{Files: map[string][]byte{agentConfigPath: adminAccount("        type: doNothing\r\n"),
			"Windows/System32/Sysprep/Unattend.xml": answerFile(adminPassword(fixedPassword, "true"))}}, rules.Fail, `System32\Sysprep\Unattend.xml line 7`},
		{"v2 random, a blank password in the volume's root answer file", winimage.Options{Files: map[string][]byte{
			"Autounattend.xml": answerFile(adminPassword("", "true"))}}, rules.Warn, "a blank password"},
		{"v2 random, a hidden password that does not decode", winimage.Options{Files: map[string][]byte{
			"ProgramData/Amazon/EC2Launch/sysprep/unattend.xml": answerFile(adminPassword(fixedPassword, "false"))}}, rules.Warn, "does not decode"},
		{"v2 random, an answer file that is not XML", winimage.Options{Files: map[string][]byte{
			"Windows/Panther/Unattend/Unattend.xml": []byte("<unattend>\r\n<settings>")}}, rules.Error, `Panther\Unattend\Unattend.xml`},
		// HKLM\System\Setup!UnattendFile names an answer file anywhere on the volume
		{"v2 random, the registry's answer file", winimage.Options{SystemReg: fmt.Sprintf("[%s\\Setup]\n\"UnattendFile\"=\"C:\\\\Build\\\\answers.xml\"\n\n", winimage.HivePrefix),
			Files: map[string][]byte{"Build/answers.xml": answerFile(adminPassword(fixedPassword, "true"))}}, rules.Fail, `C:\Build\answers.xml line 7`},
		{"v2 random, an answer file the registry does not name", winimage.Options{Files: map[string][]byte{"Build/answers.xml": answerFile(adminPassword(fixedPassword, "true"))}},
			rules.Pass, "password type random"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := judge(t, testfixture.WindowsImage(t, c.o), "ec2-launch-random-password", c.status, c.text)
			all := res.Message
			for _, e := range res.Evidence {
				all += "\n" + e.Detail
			}
			if strings.Contains(all, fixedPassword) {
				t.Errorf("the password is in the result: %q", all)
			}
		})
	}
}

// The evidence names the file and the line of the setting.
func TestEC2LaunchRandomPasswordEvidence(t *testing.T) {
	img, err := inspect.Open(testfixture.WindowsImage(t, winimage.Options{Files: map[string][]byte{
		agentConfigPath: adminAccount("        type: static\r\n        data: " + fixedPassword + "\r\n")}}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, _ := rules.ByID("ec2-launch-random-password")
	res := r.Run(&rules.Context{Image: img})
	if len(res.Evidence) == 0 || res.Evidence[0].Path != "C:/"+agentConfigPath || res.Evidence[0].Line != 8 ||
		!strings.Contains(res.Evidence[0].Detail, `setAdminAccount password type "static"`) {
		t.Errorf("evidence %+v, want agent-config.yml line 8, the static type", res.Evidence)
	}
}

const (
	bundleConfigXML = "Program Files/Amazon/Ec2ConfigService/Settings/BundleConfig.xml"
	ec2ConfigAnswer = "Program Files/Amazon/Ec2ConfigService/sysprep2008.xml"
)

// bundleConfig is EC2Config's BundleConfig.xml with AutoSysprep and SetPasswordAfterSysprep.
func bundleConfig(auto, spas string) []byte {
	return []byte("<?xml version=\"1.0\" standalone=\"yes\"?>\r\n<BundleConfig>\r\n  <Property>\r\n    <Name>AutoSysprep</Name>\r\n    <Value>" + auto +
		"</Value>\r\n  </Property>\r\n  <Property>\r\n    <Name>SetPasswordAfterSysprep</Name>\r\n    <Value>" + spas + "</Value>\r\n  </Property>\r\n</BundleConfig>\r\n")
}

// answerFile is an answer file whose oobeSystem Shell-Setup component holds inner (line 5 is
// its first line).
func answerFile(inner string) []byte {
	return []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\r\n" +
		"  <settings pass=\"oobeSystem\">\r\n    <component name=\"Microsoft-Windows-Shell-Setup\" processorArchitecture=\"amd64\">\r\n" +
		inner + "    </component>\r\n  </settings>\r\n</unattend>\r\n")
}

// adminPassword is UserAccounts with an AdministratorPassword (its Value on line 7).
func adminPassword(value, plainText string) string {
	return "      <UserAccounts>\r\n        <AdministratorPassword>\r\n          <Value>" + value + "</Value>\r\n" +
		"          <PlainText>" + plainText + "</PlainText>\r\n        </AdministratorPassword>\r\n      </UserAccounts>\r\n"
}

// localAccount is UserAccounts with a local account "packer" in group.
func localAccount(group, value, plainText string) string {
	return "      <UserAccounts>\r\n        <LocalAccounts>\r\n          <LocalAccount>\r\n            <Password>\r\n              <Value>" + value +
		"</Value>\r\n              <PlainText>" + plainText + "</PlainText>\r\n            </Password>\r\n            <Group>" + group +
		"</Group>\r\n            <Name>packer</Name>\r\n          </LocalAccount>\r\n        </LocalAccounts>\r\n      </UserAccounts>\r\n"
}

// hiddenPassword is a password as Windows SIM hides it (PlainText false): base64 of the
// UTF-16LE password followed by the element's name.
func hiddenPassword(password, elem string) string {
	return base64.StdEncoding.EncodeToString(utf16LE(password + elem)[2:])
}

// An answer file's password and BundleConfig.xml's settings are evidence with their file and
// line, the password never in it.
func TestEC2LaunchRandomPasswordAnswerEvidence(t *testing.T) {
	img, err := inspect.Open(testfixture.WindowsImage(t, winimage.Options{NoEC2Launch: true,
		SystemReg: winimage.ServiceReg("Ec2Config", 2, ec2ConfigImagePath),
		Files: map[string][]byte{ec2ConfigProgram: winimage.PEHeader(0x8664), ec2ConfigXML: ec2SetPassword("Disabled"),
			bundleConfigXML: bundleConfig("Yes", "No"), ec2ConfigAnswer: answerFile(adminPassword(hiddenPassword(fixedPassword, "AdministratorPassword"), "false"))}}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r, _ := rules.ByID("ec2-launch-random-password")
	res := r.Run(&rules.Context{Image: img})
	if res.Status != rules.Fail {
		t.Errorf("%s: %s", res.Status, res.Message)
	}
	want := map[string]bool{
		"C:/" + ec2ConfigAnswer + ":7:UserAccounts/AdministratorPassword: a password of 16 characters base64-encoded": false,
		"C:/" + bundleConfigXML + ":5:AutoSysprep \"Yes\"":                                                            false,
		"C:/" + bundleConfigXML + ":9:SetPasswordAfterSysprep \"No\"":                                                 false,
		"C:/" + ec2ConfigXML + ":4:plug-in Ec2SetPassword State":                                                      false,
	}
	for _, e := range res.Evidence {
		for k := range want {
			if strings.HasPrefix(fmt.Sprintf("%s:%d:%s", e.Path, e.Line, e.Detail), k) {
				want[k] = true
			}
		}
		if strings.Contains(e.Detail, fixedPassword) || strings.Contains(e.Detail, hiddenPassword(fixedPassword, "AdministratorPassword")) {
			t.Errorf("the password is in %+v", e)
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("no evidence %q in %+v", k, res.Evidence)
		}
	}
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
