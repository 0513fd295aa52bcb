package ec2launch

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// agentConfig is an agent-config.yml whose preReady stage has the given setAdminAccount inputs.
func agentConfig(password string) string {
	return "version: 1.0\nconfig:\n- stage: boot\n  tasks:\n  - task: extendRootPartition\n- stage: preReady\n  tasks:\n" +
		"  - task: setDnsSuffix\n    inputs:\n      suffixes:\n      - $REGION.ec2-utilities.amazonaws.com\n" +
		"  - task: setAdminAccount\n    inputs:\n      password:\n" + password
}

func utf16BE(s string) []byte {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func TestParseAgentConfig(t *testing.T) {
	const secret = "Hunter2-Fixed!"
	for _, c := range []struct {
		name      string
		in        []byte
		kind      PasswordKind
		line      int
		uncertain bool
		length    int
		why       string
	}{
		{"random", []byte(agentConfig("        type: random\n")), Random, 15, false, -1, "type random"},
		{"static", []byte(agentConfig("        type: static\n        data: " + secret + "\n")), Fixed, 15, false, len(secret), "password of 14 characters"},
		{"static, no data", []byte(agentConfig("        type: static\n")), Undecided, 15, false, 0, "static with no data"},
		{"doNothing", []byte(agentConfig("        type: doNothing\n")), Kept, 15, false, -1, "doNothing"},
		{"unknown type", []byte(agentConfig("        type: generated\n")), Undecided, 15, false, -1, "none AWS documents"},
		{"no type", []byte(agentConfig("        length: 12\n")), Undecided, 12, false, -1, "no type"},
		{"type in other case", []byte(agentConfig("        type: Random\n")), Random, 15, true, -1, `spells the type "Random"`},
		{"key in other case", []byte(agentConfig("        Type: random\n")), Random, 15, true, -1, "other case"},
		{"no setAdminAccount", []byte("version: 1.0\nconfig:\n- stage: preReady\n  tasks:\n  - task: setDnsSuffix\n"), Kept, 0, false, -1, "no setAdminAccount task in stage preReady"},
		{"setAdminAccount in postReady", []byte("config:\n- stage: postReady\n  tasks:\n  - task: setAdminAccount\n    inputs:\n      password:\n        type: random\n"),
			Kept, 0, false, -1, "a stage AWS does not allow"},
		{"empty", []byte(""), Kept, 0, false, -1, "empty"},
		{"random, then static", []byte(agentConfig("        type: random\n  - task: setAdminAccount\n    inputs:\n      password:\n        type: static\n        data: x\n")),
			Fixed, 19, false, 1, "2 setAdminAccount tasks"},
		// ec2launch get-agent-config -f json, written back by Out-File -Encoding UTF8 (a BOM)
		{"JSON with a UTF-8 BOM", append([]byte{0xEF, 0xBB, 0xBF}, `{"version":"1.0","config":[{"stage":"preReady","tasks":[{"task":"setAdminAccount","inputs":{"password":{"type":"random"}}}]}]}`...),
			Random, 1, false, -1, "type random"},
		{"JSON static", []byte("{\n \"config\": [\n  {\n   \"stage\": \"preReady\",\n   \"tasks\": [\n    {\"task\": \"setAdminAccount\", \"inputs\": {\"password\": {\"type\": \"static\", \"data\": \"" + secret + "\"}}}\n   ]\n  }\n ]\n}\n"),
			Fixed, 6, false, len(secret), "password of 14"},
		{"UTF-16LE with a BOM", utf16File(agentConfig("        type: random\n")), Random, 15, true, -1, "UTF-16"},
		{"UTF-16BE with a BOM", utf16BE(agentConfig("        type: static\n        data: abc\n")), Fixed, 15, true, 3, "password of 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParseAgentConfig(V2Config, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != c.kind || p.Line != c.line || (p.Uncertain != "") != c.uncertain || p.Length != c.length || !strings.Contains(p.Why+" "+p.Uncertain, c.why) {
				t.Errorf("%+v; want kind %d line %d uncertain %v length %d why %q", p, c.kind, c.line, c.uncertain, c.length, c.why)
			}
			if strings.Contains(p.Why+p.Setting+p.Uncertain, secret) {
				t.Errorf("the password is in %+v", p)
			}
		})
	}
}

func TestParseAgentConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"not YAML", []byte("config:\n- stage: preReady\n  tasks: [\n"), "not YAML"},
		{"UTF-16 without a BOM", utf16File(agentConfig("        type: random\n"))[2:], "NUL bytes without a byte-order mark"},
		{"config a mapping", []byte("config:\n  stage: preReady\n"), "line 2: config is not a sequence"},
		{"tasks a string", []byte("config:\n- stage: preReady\n  tasks: setAdminAccount\n"), "line 3: tasks of stage"},
		{"password a string", []byte(agentConfig("        random\n")), "line 15: setAdminAccount's inputs.password is not a mapping"},
		{"type twice", []byte(agentConfig("        type: random\n        type: static\n")), "line 16: key type given twice (also line 15)"},
		{"nested past yaml.v3's bound", []byte("config: " + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "\n"), "exceeded max depth"},
		{"over the size bound", []byte("#" + strings.Repeat("x", MaxSettingsFile)), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAgentConfig(V2Config, c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `agent-config.yml`) {
				t.Errorf("error %v, want one naming the file and %q", err, c.want)
			}
		})
	}
}

func TestParseLaunchConfig(t *testing.T) {
	const secret = "S3cret-Password"
	for _, c := range []struct {
		name   string
		in     string
		kind   PasswordKind
		line   int
		length int
		why    string
	}{
		{"Random", "{\n  \"setComputerName\": false,\n  \"adminPasswordType\": \"Random\"\n}\n", Random, 3, -1, "Random"},
		{"names and values in any case", "{\"AdminPasswordType\": \"random\", \"AdminPassword\": \"\"}", Random, 1, -1, "Random"},
		{"Specify", "{\n\"adminPasswordType\": \"Specify\",\n\"adminPassword\": \"" + secret + "\"\n}", Fixed, 2, len(secret), "15 characters written in clear text in adminPassword (line 3)"},
		{"Specify, no password", "{\"adminPasswordType\": \"Specify\"}", Undecided, 1, -1, "no adminPassword"},
		{"DoNothing", "{\"adminPasswordType\": \"DoNothing\"}", Kept, 1, -1, "DoNothing"},
		{"no adminPasswordType", "{\"setWallpaper\": true}", Kept, 0, -1, "no adminPasswordType"},
		{"unknown", "{\"adminPasswordType\": \"Generate\"}", Undecided, 1, -1, "none AWS documents"},
		{"UTF-16 with a BOM", string(utf16File("{\"adminPasswordType\": \"Random\"}")), Random, 1, -1, "Random"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParseLaunchConfig(V1Config, []byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != c.kind || p.Line != c.line || p.Length != c.length || !strings.Contains(p.Why+" "+p.Setting, c.why) {
				t.Errorf("%+v; want kind %d line %d length %d why %q", p, c.kind, c.line, c.length, c.why)
			}
			if strings.Contains(p.Why+p.Setting, secret) {
				t.Errorf("the password is in %+v", p)
			}
		})
	}
	for _, c := range []struct{ name, in, want string }{
		{"not JSON", "{\n\"adminPasswordType\": Random\n}", "line 2: not JSON"},
		{"twice in other case", "{\"adminPasswordType\": \"Random\",\n\"AdminPasswordType\": \"Specify\"}", "line 2: adminpasswordtype given twice"},
		{"not a string", "{\"adminPasswordType\": 1}", "is not a string"},
		{"an array", "[]", "not a JSON object"},
		{"trailing", "{} {}", "more after"},
		{"over the size bound", "{\"a\": \"" + strings.Repeat("x", MaxSettingsFile) + "\"}", "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseLaunchConfig(V1Config, []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "LaunchConfig.json") {
				t.Errorf("error %v, want one naming the file and %q", err, c.want)
			}
		})
	}
}

// ec2configXML is a Config.xml with plug-in Ec2SetPassword in the given state ("none": absent).
func ec2configXML(state string) string {
	s := "<?xml version=\"1.0\" standalone=\"yes\"?>\r\n<Ec2ConfigurationSettings>\r\n  <Plugins>\r\n" +
		"    <Plugin>\r\n      <Name>Ec2SetComputerName</Name>\r\n      <State>Disabled</State>\r\n    </Plugin>\r\n"
	if state != "none" {
		s += "    <Plugin>\r\n      <Name>Ec2SetPassword</Name>\r\n      <State>" + state + "</State>\r\n    </Plugin>\r\n"
	}
	return s + "  </Plugins>\r\n</Ec2ConfigurationSettings>\r\n"
}

func TestParseEC2ConfigSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		kind PasswordKind
		line int
		why  string
	}{
		{"Enabled", []byte(ec2configXML("Enabled")), Random, 8, "Enabled"},
		{"Disabled", []byte(ec2configXML("Disabled")), Kept, 8, "Disabled"},
		{"absent", []byte(ec2configXML("none")), Kept, 0, "no plug-in Ec2SetPassword"},
		{"another state", []byte(ec2configXML("Maybe")), Undecided, 8, "neither"},
		{"UTF-16", utf16File(strings.Replace(ec2configXML("Enabled"), `version="1.0"`, `version="1.0" encoding="utf-16"`, 1)), Random, 8, "Enabled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParseEC2ConfigSettings(EC2ConfigSettings, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != c.kind || p.Line != c.line || !strings.Contains(p.Why, c.why) {
				t.Errorf("%+v; want kind %d line %d why %q", p, c.kind, c.line, c.why)
			}
		})
	}
	for _, c := range []struct{ name, in, want string }{
		{"not XML", "<Ec2ConfigurationSettings><Plugins>\n<Plugin><Name>Ec2SetPassword</Name>", "not XML"},
		{"twice", ec2configXML("Enabled") + "", ""},
		{"nested past the bound", "<Ec2ConfigurationSettings>\n" + strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64) + "</Ec2ConfigurationSettings>", "line 2: elements nested more than 64 deep"},
		{"over the size bound", "<!--" + strings.Repeat("x", MaxSettingsFile) + "-->", "larger than"},
	} {
		in := c.in
		if c.name == "twice" {
			in = strings.Replace(ec2configXML("Enabled"), "  </Plugins>", "    <Plugin><Name>Ec2SetPassword</Name><State>Disabled</State></Plugin>\r\n  </Plugins>", 1)
			c.want = "line 12: plug-in Ec2SetPassword listed twice (also line 8)"
		}
		_, err := ParseEC2ConfigSettings(EC2ConfigSettings, []byte(in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Config.xml") {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
}

func TestRunning(t *testing.T) {
	on := &Service{Agent: V2, Start: StartAutomatic, HasStart: true, Program: "x.exe"}
	for _, c := range []struct {
		f    Facts
		want string
	}{
		{Facts{V2: on}, V2},
		{Facts{V2: &Service{Start: StartManual, HasStart: true, Program: "x.exe"}}, ""},
		{Facts{V2: &Service{Start: StartAutomatic, HasStart: true}}, ""},
		{Facts{V1Scripts: true, V1Task: true, V1TaskDef: Task{Enabled: true, BootTrigger: true}}, V1},
		{Facts{V1Scripts: true, V1Task: true, V1TaskDef: Task{Enabled: false, BootTrigger: true}}, ""},
		{Facts{V1Scripts: true, V1Task: true, V1TaskDef: Task{Enabled: true}}, ""},
		{Facts{V1Task: true, V1TaskDef: Task{Enabled: true, BootTrigger: true}}, ""},
		{Facts{V2: on, EC2Config: on}, V2 + "|" + EC2Config},
	} {
		if got := strings.Join(c.f.Running(), "|"); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

func FuzzParseAgentConfig(f *testing.F) {
	f.Add([]byte(agentConfig("        type: random\n")))
	f.Add([]byte(`{"config":[{"stage":"preReady","tasks":[{"task":"setAdminAccount","inputs":{"password":{"type":"static","data":"x"}}}]}]}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseAgentConfig(V2Config, b)
		if err == nil && p.Kind == Fixed && p.Length < 1 {
			t.Fatalf("a fixed password of %d characters", p.Length)
		}
		ParseLaunchConfig(V1Config, b)
		ParseEC2ConfigSettings(EC2ConfigSettings, b)
	})
}
