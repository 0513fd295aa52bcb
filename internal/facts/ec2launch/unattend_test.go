package ec2launch

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf16"
)

// hidden is a password as Windows SIM hides it: base64 of UTF-16LE password+elem.
func hidden(password, elem string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(password + elem)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// answerFile is an unattend.xml whose oobeSystem Shell-Setup component holds inner.
func answerFile(inner string) string {
	return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\r\n" +
		"  <settings pass=\"oobeSystem\">\r\n    <component name=\"Microsoft-Windows-Shell-Setup\" processorArchitecture=\"amd64\">\r\n" +
		inner + "    </component>\r\n  </settings>\r\n</unattend>\r\n"
}

func adminPassword(value, plainText string) string {
	return "      <UserAccounts>\r\n        <AdministratorPassword>\r\n          <Value>" + value + "</Value>\r\n" +
		"          <PlainText>" + plainText + "</PlainText>\r\n        </AdministratorPassword>\r\n      </UserAccounts>\r\n"
}

func TestParseAnswerFile(t *testing.T) {
	const secret = "Build-Time-Pa55"
	localAccount := func(group, value, plainText string) string {
		return "      <UserAccounts>\r\n        <LocalAccounts>\r\n          <LocalAccount wcm:action=\"add\">\r\n" +
			"            <Password>\r\n              <PlainText>" + plainText + "</PlainText>\r\n              <Value>" + value + "</Value>\r\n            </Password>\r\n" +
			"            <Group>" + group + "</Group>\r\n            <Name>packer</Name>\r\n          </LocalAccount>\r\n        </LocalAccounts>\r\n      </UserAccounts>\r\n"
	}
	for _, c := range []struct {
		name    string
		in      []byte
		want    int // passwords found
		line    int
		length  int
		hidden  bool
		admin   bool
		setting string
	}{
		{"clear text", []byte(answerFile(adminPassword(secret, "true"))), 1, 7, len(secret), false, true, "AdministratorPassword"},
		{"no PlainText is clear text", []byte(answerFile("      <UserAccounts><AdministratorPassword><Value>" + secret + "</Value></AdministratorPassword></UserAccounts>\r\n")), 1, 5, len(secret), false, true, "AdministratorPassword"},
		// Microsoft's example (Unattended Windows Setup Reference, UserAccounts): "pw"
		{"hidden, Microsoft's example", []byte(answerFile(adminPassword("cAB3AEEAZABtAGkAbgBpAHMAdAByAGEAdABvAHIAUABhAHMAcwB3AG8AcgBkAA==", "false"))), 1, 7, 2, true, true, "AdministratorPassword"},
		{"hidden, PlainText in another case", []byte(answerFile(adminPassword(hidden(secret, "AdministratorPassword"), "False"))), 1, 7, len(secret), true, true, "AdministratorPassword"},
		{"hidden with the wrong suffix", []byte(answerFile(adminPassword(hidden(secret, "Password"), "false"))), 1, 7, -1, true, true, "AdministratorPassword"},
		{"hidden, not base64", []byte(answerFile(adminPassword("not base64!", "false"))), 1, 7, -1, true, true, "AdministratorPassword"},
		{"blank", []byte(answerFile(adminPassword("", "true"))), 1, 7, 0, false, true, "AdministratorPassword"},
		{"deleted by Setup", []byte(answerFile(adminPassword(SensitiveDataDeleted, "false"))), 0, 0, 0, false, false, ""},
		{"no UserAccounts", []byte(answerFile("      <TimeZone>UTC</TimeZone>\r\n")), 0, 0, 0, false, false, ""},
		{"local administrator, hidden, PlainText first", []byte(answerFile(localAccount("Administrators", hidden(secret, "Password"), "false"))), 1, 10, len(secret), true, true, `LocalAccount "packer" (group "Administrators")`},
		{"local user", []byte(answerFile(localAccount("Users", secret, "true"))), 1, 10, len(secret), false, false, `group "Users"`},
		{"autologon", []byte(answerFile("      <AutoLogon>\r\n        <Password>\r\n          <Value>" + secret + "</Value>\r\n        </Password>\r\n        <Username>Administrator</Username>\r\n        <Enabled>true</Enabled>\r\n      </AutoLogon>\r\n")),
			1, 7, len(secret), false, true, `AutoLogon/Password (user "Administrator")`},
		{"a LocalAccount outside LocalAccounts", []byte(answerFile("      <UserAccounts><LocalAccount><Password><Value>" + secret + "</Value></Password></LocalAccount></UserAccounts>\r\n")),
			1, 5, len(secret), false, false, "LocalAccount/Password"},
		{"UTF-16LE with a BOM", utf16File(strings.Replace(answerFile(adminPassword(secret, "true")), "utf-8", "utf-16", 1)), 1, 7, len(secret), false, true, "AdministratorPassword"},
		{"UTF-16LE without a BOM", utf16File(strings.Replace(answerFile(adminPassword(secret, "true")), "utf-8", "utf-16", 1))[2:], 1, 7, len(secret), false, true, "AdministratorPassword"},
		{"UTF-16BE with a BOM", utf16BE(strings.Replace(answerFile(adminPassword(secret, "true")), "utf-8", "utf-16", 1)), 1, 7, len(secret), false, true, "AdministratorPassword"},
		{"UTF-8 with a BOM", append([]byte{0xEF, 0xBB, 0xBF}, answerFile(adminPassword(secret, "true"))...), 1, 7, len(secret), false, true, "AdministratorPassword"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, err := ParseAnswerFile(EC2ConfigAnswer, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != c.want {
				t.Fatalf("%d passwords %+v, want %d", len(ps), ps, c.want)
			}
			if c.want == 0 {
				return
			}
			p := ps[0]
			if p.Line != c.line || p.Length != c.length || p.Hidden != c.hidden || p.Admin != c.admin || !strings.Contains(p.Setting, c.setting) {
				t.Errorf("%+v; want line %d length %d hidden %v admin %v setting %q", p, c.line, c.length, c.hidden, c.admin, c.setting)
			}
			if d := p.Describe(); strings.Contains(d, secret) || !strings.Contains(d, `sysprep2008.xml line`) {
				t.Errorf("description %q: the password, or no file and line", d)
			}
		})
	}
	for _, c := range []struct{ name, in, want string }{
		{"not XML", answerFile(adminPassword(secret, "true"))[:200], "not XML"},
		{"Value twice", answerFile("<UserAccounts><AdministratorPassword><Value>a</Value>\r\n<Value>b</Value></AdministratorPassword></UserAccounts>"), "line 6: <Value> of <AdministratorPassword> given twice"},
		{"nested past the bound", "<unattend>\n" + strings.Repeat("<a>", maxXMLDepth) + strings.Repeat("</a>", maxXMLDepth) + "</unattend>", "line 2: elements nested more than 64 deep"},
		{"a value past the bound", answerFile(adminPassword(strings.Repeat("x", maxXMLValue+1), "true")), "longer than"},
		{"over the size bound", "<!--" + strings.Repeat("x", MaxSettingsFile) + "-->", "larger than"},
		{"another encoding", strings.Replace(answerFile(""), "utf-8", "iso-8859-5", 1), "encoding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAnswerFile(EC2ConfigAnswer, []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `sysprep2008.xml`) {
				t.Errorf("error %v, want one naming the file and %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the password is in %v", err)
			}
		})
	}
	// exactly at the bounds is read
	if _, err := ParseAnswerFile(EC2ConfigAnswer, []byte("<unattend>\n"+strings.Repeat("<a>", maxXMLDepth-1)+strings.Repeat("</a>", maxXMLDepth-1)+"</unattend>")); err != nil {
		t.Errorf("nested %d deep: %v", maxXMLDepth, err)
	}
	if ps, err := ParseAnswerFile(EC2ConfigAnswer, []byte(answerFile(adminPassword(strings.Repeat("x", maxXMLValue), "true")))); err != nil || len(ps) != 1 || ps[0].Length != maxXMLValue {
		t.Errorf("a value of %d bytes: %+v, %v", maxXMLValue, ps, err)
	}
}

// bundleConfig is a BundleConfig.xml with the given AutoSysprep and SetPasswordAfterSysprep
// values ("" leaves the property out).
func bundleConfig(auto, spas string) string {
	s := "<?xml version=\"1.0\" standalone=\"yes\"?>\r\n<BundleConfig>\r\n"
	if auto != "" {
		s += "  <Property>\r\n    <Name>AutoSysprep</Name>\r\n    <Value>" + auto + "</Value>\r\n  </Property>\r\n"
	}
	s += "  <Property>\r\n    <Name>SetRDPCertificate</Name>\r\n    <Value>No</Value>\r\n  </Property>\r\n"
	if spas != "" {
		s += "  <Property>\r\n    <Name>SetPasswordAfterSysprep</Name>\r\n    <Value>" + spas + "</Value>\r\n  </Property>\r\n"
	}
	return s + "</BundleConfig>\r\n"
}

func TestParseBundleConfig(t *testing.T) {
	b, err := ParseBundleConfig(EC2ConfigBundle, []byte(bundleConfig("Yes", "No")))
	if err != nil {
		t.Fatal(err)
	}
	if b.AutoSysprep.Value != "Yes" || b.AutoSysprep.Line != 5 || b.SetPasswordAfterSysprep.Value != "No" || b.SetPasswordAfterSysprep.Line != 13 {
		t.Errorf("%+v", b)
	}
	b, err = ParseBundleConfig(EC2ConfigBundle, utf16File(strings.Replace(bundleConfig("", "yes"), `standalone`, `encoding="utf-16" standalone`, 1)))
	if err != nil || b.AutoSysprep.Found || b.SetPasswordAfterSysprep.Value != "yes" {
		t.Errorf("UTF-16: %+v, %v", b, err)
	}
	for _, c := range []struct{ name, in, want string }{
		{"twice", strings.Replace(bundleConfig("Yes", "No"), "</BundleConfig>", "<Property><Name>AutoSysprep</Name><Value>No</Value></Property>\r\n</BundleConfig>", 1), "line 15: property AutoSysprep given twice (also line 5)"},
		{"another root", "<Ec2ConfigurationSettings/>", "not <BundleConfig>"},
		{"two values", "<BundleConfig><Property><Name>AutoSysprep</Name><Value>No</Value><Value>Yes</Value></Property></BundleConfig>", "two <Value>"},
		{"not closed", "<BundleConfig><Property>", "not XML"},
	} {
		if _, err := ParseBundleConfig(EC2ConfigBundle, []byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "BundleConfig.xml") {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
}

func TestWithBundle(t *testing.T) {
	enabled := Password{Agent: EC2Config, Kind: Random, File: EC2ConfigSettings, Line: 8, Why: "Enabled"}
	disabled := Password{Agent: EC2Config, Kind: Kept, File: EC2ConfigSettings, Line: 8, Why: "Disabled"}
	for _, c := range []struct {
		name   string
		p      Password
		bundle string // "" no file
		kind   PasswordKind
		why    string
	}{
		{"no file", enabled, "", Random, "Enabled"},
		{"enabled, AWS's defaults", enabled, bundleConfig("No", "Yes"), Random, "Enabled"},
		// without AutoSysprep EC2Config runs no Sysprep when the image is made: Config.xml decides
		{"enabled, no password after sysprep, no AutoSysprep", enabled, bundleConfig("No", "No"), Random, "read only when EC2Config runs Sysprep"},
		{"enabled, no password after its AutoSysprep", enabled, bundleConfig("Yes", "No"), Undecided, "which one wins is not documented"},
		{"enabled, random after its AutoSysprep", enabled, bundleConfig("Yes", "Yes"), Random, "Enabled"},
		{"disabled, AWS's defaults", disabled, bundleConfig("No", "Yes"), Kept, "Disabled"},
		{"disabled, random after its AutoSysprep", disabled, bundleConfig("Yes", "Yes"), Undecided, "not known offline"},
		{"disabled, AutoSysprep, SetPasswordAfterSysprep left out (default Yes)", disabled, bundleConfig("Yes", ""), Undecided, "not known offline"},
		{"disabled, no password after its AutoSysprep", disabled, bundleConfig("Yes", "No"), Kept, "ScramblePassword.exe"},
		{"disabled, AutoSysprep, another value", disabled, bundleConfig("Yes", "Maybe"), Undecided, "other than Yes or No"},
		{"disabled, AutoSysprep in another case", disabled, bundleConfig("yes", "No"), Kept, "Disabled"},
		{"disabled, AutoSysprep, SetPasswordAfterSysprep in another case", disabled, bundleConfig("Yes", "no"), Undecided, "other than Yes or No"},
		{"enabled, AutoSysprep in another case, no password after it", enabled, bundleConfig("YES", "No"), Undecided, "other than Yes or No"},
		{"enabled, another AutoSysprep, random after it", enabled, bundleConfig("Maybe", "Yes"), Random, "Enabled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := Bundle{File: EC2ConfigBundle}
			if c.bundle != "" {
				var err error
				if b, err = ParseBundleConfig(EC2ConfigBundle, []byte(c.bundle)); err != nil {
					t.Fatal(err)
				}
			}
			p := WithBundle(c.p, b)
			if p.Kind != c.kind || !strings.Contains(p.Why, c.why) {
				t.Errorf("%+v; want kind %d why %q", p, c.kind, c.why)
			}
			if c.bundle != "" && len(p.More) != 2 {
				t.Errorf("more %+v, want BundleConfig.xml's two settings", p.More)
			}
		})
	}
}

func FuzzParseAnswerFile(f *testing.F) {
	f.Add([]byte(answerFile(adminPassword("x", "true"))))
	f.Add([]byte(bundleConfig("Yes", "No")))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParseAnswerFile(EC2ConfigAnswer, b)
		for _, p := range ps {
			if p.Line < 1 || p.Length < -1 {
				t.Fatalf("%+v", p)
			}
		}
		_ = err
		ParseBundleConfig(EC2ConfigBundle, b)
	})
}
