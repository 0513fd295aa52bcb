package ec2launch

import (
	"strings"
	"testing"
)

func TestProgramCandidates(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`"C:\Program Files\Amazon\EC2Launch\EC2Launch.exe" service`, "Program Files/Amazon/EC2Launch/EC2Launch.exe"},
		{`"%ProgramFiles%\Amazon\EC2Launch\EC2Launch.exe"`, "Program Files/Amazon/EC2Launch/EC2Launch.exe"},
		// unquoted: tried at every space, in order
		{`C:\Program Files\Amazon\Ec2ConfigService\Ec2Config.exe`, "Program.exe|Program Files/Amazon/Ec2ConfigService/Ec2Config.exe"},
		{`%SystemRoot%\System32\svchost.exe -k netsvcs`, "Windows/System32/svchost.exe|Windows/System32/svchost.exe -k|Windows/System32/svchost.exe -k netsvcs"},
		{`\SystemRoot\System32\drivers\x.sys`, "Windows/System32/drivers/x.sys"},
		{`\??\C:\Tools\agent`, "Tools/agent.exe"},
		{`c:/a/../b/./prog.exe`, "b/prog.exe"},
		{`"D:\Agent\agent.exe"`, ""},                       // not on the system volume
		{`"C:\Program Files\x.exe`, "Program Files/x.exe"}, // an unterminated quote runs to the end
		{`%UNKNOWN%\x.exe`, ""},
		{``, ""},
		{`C:\`, ""},
	} {
		if got := strings.Join(ProgramCandidates(c.in), "|"); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
	if got := ProgramCandidates(`"C:\` + strings.Repeat("a", maxImagePath) + `"`); got != nil {
		t.Errorf("an over-long ImagePath gives %d candidates", len(got))
	}
}

func TestStart(t *testing.T) {
	for _, c := range []struct {
		s    Service
		boot bool
		name string
	}{
		{Service{Start: 2, HasStart: true}, true, "Automatic"},
		{Service{Start: 3, HasStart: true}, false, "Manual"},
		{Service{Start: 4, HasStart: true}, false, "Disabled"},
		{Service{Start: 1, HasStart: true}, false, "start type 1 (a driver's, not a service's)"},
		{Service{Start: 2}, false, "no Start value"},
	} {
		if c.s.StartsAtBoot() != c.boot || c.s.StartName() != c.name {
			t.Errorf("%+v: boot %v %q", c.s, c.s.StartsAtBoot(), c.s.StartName())
		}
	}
}

func FuzzProgramCandidates(f *testing.F) {
	for _, s := range []string{`"C:\Program Files\Amazon\EC2Launch\EC2Launch.exe" service`, `%SystemRoot%\a b\c`, `\??\C:\..\..\x`, `"%`, `%%%%`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := ProgramCandidates(s)
		if len(out) > len(s)+1 {
			t.Fatalf("%d candidates from %d bytes", len(out), len(s))
		}
		for _, p := range out {
			if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || strings.Contains("/"+p+"/", "/../") {
				t.Fatalf("candidate %q of %q is not a volume path", p, s)
			}
		}
	})
}
