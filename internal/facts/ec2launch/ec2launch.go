// Package ec2launch is which Amazon EC2 Windows launch agent an image carries, decided from the
// disk as Windows decides whether it runs at first boot. EC2Launch v2 and EC2Config are Windows
// services: the service control manager starts a service at boot when its key under
// SYSTEM\ControlSetNNN\Services has Start 2 (automatic), and runs the program its ImagePath
// names. EC2Launch v1 is PowerShell scripts that run at boot only from the scheduled task
// "Amazon Ec2 Launch - Instance Initialization" (InitializeInstance.ps1 -Schedule registers it),
// a task file under Windows\System32\Tasks. The names and paths are AWS's: the services are
// EC2Launch and Ec2Config ("sc delete ec2launch", "sc delete ec2config" in "Windows Service
// administration for EC2Launch v2 and EC2Config agents"), installed as C:\Program
// Files\Amazon\EC2Launch\EC2Launch.exe and C:\Program Files\Amazon\Ec2ConfigService\Ec2Config.exe;
// EC2Launch v1 under C:\ProgramData\Amazon\EC2-Windows\Launch (Amazon EC2 User Guide, "Windows
// launch agents on Amazon EC2 Windows instances",
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configure-launch-agents.html).
package ec2launch

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/windows"
)

// The agents' names as AWS gives them.
const (
	V2        = "EC2Launch v2"
	V1        = "EC2Launch v1"
	EC2Config = "EC2Config"
)

// Service start types (the Start value of a service key).
const (
	StartBoot      = 0
	StartSystem    = 1
	StartAutomatic = 2
	StartManual    = 3
	StartDisabled  = 4
)

// Paths on the system volume (as the checker names them, without the drive).
const (
	V1Script = "ProgramData/Amazon/EC2-Windows/Launch/Scripts/InitializeInstance.ps1"
	V1Task   = "Windows/System32/Tasks/Amazon Ec2 Launch - Instance Initialization"
)

// serviceNames are the service keys of the agents that are services.
var serviceNames = map[string]string{V2: "EC2Launch", EC2Config: "Ec2Config"}

// Service is an agent's service key.
type Service struct {
	Agent string
	Key   string // SYSTEM\ControlSetNNN\Services\NAME, for evidence
	// Start is the start type; HasStart is false when the key has no Start value (the service
	// control manager does not start such a service).
	Start    uint64
	HasStart bool
	// ImagePath is the command line the service runs; Program the path on the system volume of
	// the program it starts (the first candidate that exists, as CreateProcess tries them), ""
	// when none exists there.
	ImagePath string
	Program   string
}

// StartsAtBoot: the service control manager starts it at boot.
func (s *Service) StartsAtBoot() bool { return s.HasStart && s.Start == StartAutomatic }

// StartName is the start type in the Services console's words.
func (s *Service) StartName() string {
	if !s.HasStart {
		return "no Start value"
	}
	switch s.Start {
	case StartBoot, StartSystem:
		return fmt.Sprintf("start type %d (a driver's, not a service's)", s.Start)
	case StartAutomatic:
		return "Automatic"
	case StartManual:
		return "Manual"
	case StartDisabled:
		return "Disabled"
	}
	return fmt.Sprintf("start type %d", s.Start)
}

// Facts is what the image holds of each agent.
type Facts struct {
	V2, EC2Config *Service // nil: no service key
	// V1Scripts: EC2Launch v1's InitializeInstance.ps1 is on the volume; V1Task: its scheduled
	// task is registered, with its definition in V1TaskDef.
	V1Scripts, V1Task bool
	V1TaskDef         Task
}

// Read reads the agents' services from the SYSTEM hive's current control set and their files
// from the system volume t. What could not be read is an error: the agent is then unknown.
func Read(t *filesystem.Tree, h *windows.Hives) (Facts, error) {
	var f Facts
	cs, err := h.ControlSet()
	if err != nil {
		return f, err
	}
	for agent, name := range serviceNames {
		key := cs + `\Services\` + name
		k, err := h.System.Key(key)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return f, err
		}
		s := &Service{Agent: agent, Key: `SYSTEM\` + cs + `\Services\` + k.Name}
		if s.Start, s.HasStart, err = windows.NumberValue(h.System, key, "Start"); err != nil {
			return f, err
		}
		if s.ImagePath, err = windows.StringValue(h.System, key, "ImagePath"); err != nil {
			return f, err
		}
		for _, p := range ProgramCandidates(s.ImagePath) {
			ok, err := isFile(t, p)
			if err != nil {
				return f, err
			}
			if ok {
				s.Program = p
				break
			}
		}
		if agent == V2 {
			f.V2 = s
		} else {
			f.EC2Config = s
		}
	}
	if f.V1Scripts, err = isFile(t, V1Script); err != nil {
		return f, err
	}
	if f.V1Task, err = isFile(t, V1Task); err != nil || !f.V1Task {
		return f, err
	}
	b, err := t.ReadFile(V1Task, MaxTaskFile)
	if err != nil {
		return f, err
	}
	f.V1TaskDef, err = ParseTask(V1Task, b)
	return f, err
}

func isFile(t *filesystem.Tree, p string) (bool, error) {
	fi, err := t.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.Mode().IsRegular(), nil
}

// environment is what a service's REG_EXPAND_SZ ImagePath expands on the system volume (the
// values of a default installation on C:).
var environment = map[string]string{
	"systemroot": `C:\Windows`, "windir": `C:\Windows`, "systemdrive": `C:`,
	"programfiles": `C:\Program Files`, "programw6432": `C:\Program Files`, "programfiles(x86)": `C:\Program Files (x86)`,
	"programdata": `C:\ProgramData`, "allusersprofile": `C:\ProgramData`,
}

// maxImagePath bounds the command line read (the service control manager's own limit is far
// below it).
const maxImagePath = 32 << 10

// ProgramCandidates are the paths on the system volume (slash-separated, no drive) that an
// ImagePath may start, in the order CreateProcess tries them: a quoted program is the quoted
// text; an unquoted one is tried at each space ("C:\Program.exe" before "C:\Program
// Files\...\x.exe"), ".exe" added to a name without an extension. %VAR% is expanded as on a
// default installation; \SystemRoot\ and \??\ prefixes are the kernel's spellings of the
// same paths. A program on another drive is no candidate: it is not on the system volume.
func ProgramCandidates(imagePath string) []string {
	s := strings.TrimSpace(imagePath)
	if len(s) > maxImagePath {
		return nil
	}
	s = expand(s)
	var tries []string
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			tries = []string{s[1:]}
		} else {
			tries = []string{s[1 : 1+end]}
		}
	} else {
		for i := 0; i < len(s); i++ {
			if s[i] == ' ' || s[i] == '\t' {
				tries = append(tries, s[:i])
			}
		}
		tries = append(tries, s)
	}
	var out []string
	for _, p := range tries {
		if v, ok := onSystemVolume(p); ok {
			if !strings.Contains(v[strings.LastIndexByte(v, '/')+1:], ".") {
				v += ".exe"
			}
			out = append(out, v)
		}
	}
	return out
}

// expand replaces %NAME% by its value; an unknown or unterminated one stays.
func expand(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if v, ok := environment[strings.ToLower(name)]; ok {
			b.WriteString(s[:i])
			b.WriteString(v)
		} else {
			b.WriteString(s[:i+2+j])
		}
		s = s[i+2+j:]
	}
	b.WriteString(s)
	return b.String()
}

// onSystemVolume maps a Windows path on C: to the volume's slash-separated path.
func onSystemVolume(p string) (string, bool) {
	p = strings.TrimPrefix(strings.ReplaceAll(p, `/`, `\`), `\??\`)
	if len(p) >= 12 && strings.EqualFold(p[:12], `\SystemRoot\`) {
		p = `C:\Windows\` + p[12:]
	}
	if len(p) < 4 || !strings.EqualFold(p[:3], `C:\`) {
		return "", false
	}
	var parts []string
	for _, c := range strings.Split(p[3:], `\`) {
		switch c {
		case "", ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "/"), true
}
