package harden

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// fakeWindows plays a Windows guest behind a communicator: it keeps what is uploaded, answers
// the provisioner's PowerShell commands, runs "the script" by printing what a real run prints
// (asking for a restart on the first run), and restarts when told to.
type fakeWindows struct {
	mu       sync.Mutex
	uploads  map[string]string
	commands []string
	boots    int
	runs     int
	restarts int
	// restartsWanted is how many runs end by asking for a restart.
	restartsWanted int
}

func decodePS(cmd string) string {
	i := strings.Index(cmd, "-EncodedCommand ")
	if i < 0 {
		return ""
	}
	b, _ := base64.StdEncoding.DecodeString(cmd[i+len("-EncodedCommand "):])
	u := make([]uint16, len(b)/2)
	for j := range u {
		u[j] = binary.LittleEndian.Uint16(b[2*j:])
	}
	return string(utf16.Decode(u))
}

func (g *fakeWindows) Start(ctx context.Context, rc *packer.RemoteCmd) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commands = append(g.commands, rc.Command)
	out := func(s string) {
		if rc.Stdout != nil {
			io.WriteString(rc.Stdout, s)
		}
	}
	ps := decodePS(rc.Command)
	switch {
	case strings.Contains(ps, "New-Item -ItemType Directory"), strings.HasPrefix(ps, "Remove-Item"):
		out("ok\r\n")
		rc.SetExited(0)
	case strings.Contains(ps, "LastBootUpTime"):
		out(fmt.Sprintf("2026-11-24T08:%02d:00.0000000Z\r\n", g.boots))
		rc.SetExited(0)
	case strings.HasPrefix(rc.Command, "shutdown.exe /r"):
		g.restarts++
		g.boots++
		rc.SetExited(0)
	case strings.Contains(rc.Command, "harden.ps1") || strings.Contains(rc.Command, "packer-elevated-shell-"):
		g.runs++
		out("==> windows-update\r\n")
		if g.runs <= g.restartsWanted {
			out(fmt.Sprintf("MP|change|windows-update|installed 2026-11 Cumulative Update (run %d)\r\n", g.runs))
			out("MP|reboot|windows-update|1 update(s) installed; a restart completes them\r\nMP|end|windows-update|0\r\n")
			rc.SetExited(3010)
			return nil
		}
		out("    no security, critical, rollup or definition update is missing\r\nMP|end|windows-update|0\r\n")
		out("==> history\r\nMP|change|history|removed PowerShell history C:\\Users\\packer\\AppData\\Roaming\\Microsoft\\Windows\\PowerShell\\PSReadLine\\ConsoleHost_history.txt\r\nMP|end|history|0\r\n")
		out("MP|done|-|all\r\n")
		rc.SetExited(0)
	default:
		rc.SetExited(1)
	}
	return nil
}

func (g *fakeWindows) Upload(path string, r io.Reader, _ *os.FileInfo) error {
	b, err := io.ReadAll(r)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.uploads[path] = string(b)
	return err
}
func (g *fakeWindows) UploadDir(string, string, []string) error   { return fmt.Errorf("not used") }
func (g *fakeWindows) Download(string, io.Writer) error           { return fmt.Errorf("not used") }
func (g *fakeWindows) DownloadDir(string, string, []string) error { return fmt.Errorf("not used") }

func prepareWindows(t *testing.T, raw map[string]interface{}) *Provisioner {
	t.Helper()
	var p Provisioner
	if err := p.Prepare(raw); err != nil {
		t.Fatal(err)
	}
	p.pollInterval = 1
	return &p
}

func TestWindowsRestartsForUpdatesAndRunsAgain(t *testing.T) {
	results := filepath.Join(t.TempDir(), "results.json")
	p := prepareWindows(t, map[string]interface{}{"results_file": results, "keep_paths": []string{`C:\app`}})
	g := &fakeWindows{uploads: map[string]string{}, restartsWanted: 2}
	ui, out := newUI()
	// no os option: the WinRM communicator says it is Windows
	if err := p.Provision(context.Background(), ui, g, map[string]interface{}{"ConnType": "winrm"}); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	if len(g.uploads) != 1 {
		t.Fatalf("%d uploads, want the script once: %v", len(g.uploads), g.uploads)
	}
	var remote, script string
	for remote, script = range g.uploads {
	}
	if !strings.HasPrefix(remote, "C:/Windows/Temp/marketplace-harden-") || !strings.HasSuffix(remote, "/harden.ps1") || !strings.HasPrefix(script, "\ufeff") {
		t.Errorf("uploaded %s (BOM %v)", remote, strings.HasPrefix(script, "\ufeff"))
	}
	if !strings.Contains(script, `$MpKeep = @('C:\app')`) || !strings.Contains(script, "Mp-Step 'windows-update'") {
		t.Error("the uploaded script is not the rendered PowerShell")
	}
	ps := filepath.Join(t.TempDir(), "harden.ps1")
	os.WriteFile(ps, []byte(strings.TrimPrefix(script, "\ufeff")), 0o644)
	testfixture.PowerShellSyntax(t, ps)

	if g.runs != 3 || g.restarts != 2 {
		t.Errorf("%d runs and %d restarts, want 3 and 2", g.runs, g.restarts)
	}
	last := decodePS(g.commands[len(g.commands)-1])
	if !strings.HasPrefix(last, "Remove-Item -LiteralPath '"+strings.TrimSuffix(remote, "/harden.ps1")+"'") {
		t.Errorf("the script's folder is not removed at the end: %q", last)
	}
	for _, want := range []string{"restarting the guest (1 update(s) installed; a restart completes them), restart 1 of at most 5", "the guest is back", "[history] removed PowerShell history"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("UI output lacks %q:\n%s", want, out)
		}
	}
	var got struct {
		Finished bool
		Steps    []struct {
			Step     string
			Changes  []string
			Restarts int
		}
	}
	b, _ := os.ReadFile(results)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Finished || len(got.Steps) != 2 || got.Steps[0].Restarts != 2 || len(got.Steps[0].Changes) != 2 {
		t.Errorf("results: %s", b)
	}
}

func TestWindowsGivesUpAfterMaxReboots(t *testing.T) {
	p := prepareWindows(t, map[string]interface{}{"os": "windows", "windows_update_max_reboots": 1})
	g := &fakeWindows{uploads: map[string]string{}, restartsWanted: 10}
	ui, out := newUI()
	err := p.Provision(context.Background(), ui, g, map[string]interface{}{"ConnType": "ssh"})
	if err == nil || !strings.Contains(err.Error(), "raise windows_update_max_reboots") {
		t.Fatalf("got %v\n%s", err, out)
	}
	if g.restarts != 1 {
		t.Errorf("%d restarts, want 1", g.restarts)
	}
}

func TestWindowsElevatedRunUploadsTheWrapperAndRemovesIt(t *testing.T) {
	p := prepareWindows(t, map[string]interface{}{"elevated_user": "SYSTEM", "dry_run": true})
	g := &fakeWindows{uploads: map[string]string{}}
	ui, out := newUI()
	if err := p.Provision(context.Background(), ui, g, nil); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	var wrapper string
	for path := range g.uploads {
		if strings.Contains(path, "packer-elevated-shell-") {
			wrapper = path
		}
	}
	if wrapper == "" || len(g.uploads) != 2 {
		t.Fatalf("uploads %v: want the script and the elevated wrapper", g.uploads)
	}
	if !strings.Contains(g.uploads[wrapper], "SYSTEM") {
		t.Error("the wrapper does not run as SYSTEM")
	}
	last := decodePS(g.commands[len(g.commands)-1])
	if !strings.Contains(last, wrapper) || !strings.Contains(last, "(Join-Path $env:SystemRoot 'Temp\\packer-") {
		t.Errorf("the elevated wrapper and its log are not removed: %q", last)
	}
	f := filepath.Join(t.TempDir(), "cleanup.ps1")
	os.WriteFile(f, []byte(last), 0o644)
	testfixture.PowerShellSyntax(t, f)
	for _, s := range g.uploads {
		if strings.Contains(s, "$MpDryRun = $true") {
			return
		}
	}
	t.Error("dry_run did not reach the script")
}

func TestWindowsOptionsAreValidated(t *testing.T) {
	for _, raw := range []map[string]interface{}{
		{"os": "windows", "keep_paths": []string{"/opt/app"}},
		{"sysprep": true, "clean_paths": []string{`C:\Windows`}},
		{"os": "macos"},
		{"elevated_password": "x"},
	} {
		var p Provisioner
		if err := p.Prepare(raw); err == nil {
			t.Errorf("accepted %v", raw)
		}
	}
	// with os unset, Linux-looking options are checked as Linux ones; a WinRM build with them
	// fails at run time, naming the mismatch
	p := prepareWindows(t, map[string]interface{}{"keep_paths": []string{"/opt/app"}})
	ui, _ := newUI()
	err := p.Provision(context.Background(), ui, &fakeWindows{uploads: map[string]string{}}, map[string]interface{}{"ConnType": "winrm"})
	if err == nil || !strings.Contains(err.Error(), "do not fit a Windows guest") {
		t.Errorf("got %v", err)
	}
}
