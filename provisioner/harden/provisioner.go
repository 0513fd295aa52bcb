//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

// Package harden is the marketplace-harden provisioner: it renders the selected hardening and
// cleanup steps into one script (POSIX sh for Linux guests, PowerShell for Windows guests),
// uploads it once to a private directory on the guest, runs it once (with sudo, or as an
// elevated scheduled task on Windows when asked), streams its output and reports a result per
// step. On Windows, a step that needs a restart (updates) has the guest restarted and the same
// script run again, up to windows_update_max_reboots times.
package harden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
)

// DefaultExecuteCommand runs the script as root with sudo (non-interactive).
const DefaultExecuteCommand = "sudo -n env MP_CLEANUP=1 sh '{{.Path}}'"

// DefaultWindowsExecuteCommand runs the PowerShell script on a Windows guest.
const DefaultWindowsExecuteCommand = `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{{.Path}}"`

// exitRestart is what the Windows script exits with when a step asked for a restart
// (ERROR_SUCCESS_REBOOT_REQUIRED).
const exitRestart = 3010

// Config is the provisioner's configuration.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The profile whose steps run by default, in the vocabulary `marketplace-check` uses:
	// `azure-linux`, `azure-windows`, `alibaba`, `alibaba-windows`, `aws`, `aws-windows`,
	// `digitalocean` or `oracle`. Default: Azure's profile for
	// the guest OS. A Windows profile sets `os = "windows"`, `azure-linux` sets `os = "linux"`. The
	// old spelling `azure` (and `alibaba` for a Windows guest) still works and is reported as
	// deprecated.
	Profile string `mapstructure:"profile"`
	// The guest's operating system, `linux` or `windows`. Default: `windows` when the build
	// connects over WinRM, a Windows profile is chosen or a Windows-only option is set, `linux`
	// otherwise.
	OS string `mapstructure:"os"`
	// Run exactly these steps instead of the profile's. They still run in the order of the step
	// table.
	Steps []string `mapstructure:"steps"`
	// Leave these steps out, e.g. `["patch"]` when updates are applied elsewhere.
	SkipSteps []string `mapstructure:"skip_steps"`
	// Change nothing; every step reports what it would change (`would remove
	// /root/.bash_history`, `would edit /etc/ssh/sshd_config`, `would run: update-grub`).
	DryRun bool `mapstructure:"dry_run"`
	// Absolute guest paths that no step may remove, truncate or edit, nor their contents, nor
	// their parent directories (Windows paths such as `C:\app\data` on Windows).
	KeepPaths []string `mapstructure:"keep_paths"`
	// Accounts the `accounts` step deletes with `userdel -r` (on Windows: the local accounts and
	// their profiles). The account Packer is connected as cannot be listed (use `deprovision`);
	// `root` cannot be listed. When a `keep_paths` entry lies in such an account's home, the
	// account is deleted without `-r` and its home emptied around the kept paths.
	RemoveUsers []string `mapstructure:"remove_users"`
	// Application data and cache paths the `clean-paths` step empties (directories keep existing,
	// files are removed). System directories such as `/etc` or `/var` are refused, after `.` and
	// `..` are applied. On Windows the path is normalised as Windows resolves it (`/`, `.`, `..`,
	// trailing dots and spaces), and the result is refused when it is a drive root, a system
	// folder (`C:\Windows`, `Program Files`, `ProgramData`, `Users`, `Users\Default`,
	// `Users\Public`) or lies under `Windows\System32`, `SysWOW64`, `WinSxS` or `servicing`; 8.3
	// short names (`PROGRA~1`) and streams are refused. The script gets the normalised path.
	CleanPaths []string `mapstructure:"clean_paths"`
	// Leave the host firewall enabled: the `firewall` step does not run. Waive the checker's
	// `firewall-disabled` rule with the same reason.
	KeepFirewall bool `mapstructure:"keep_firewall"`
	// Also turn off swap on the resource disk (`ResourceDisk.EnableSwap=n` in
	// `/etc/waagent.conf`). Off by default: the `swap` step removes swap from the OS disk only,
	// as Microsoft recommends resource-disk swap and the certification passes it. The
	// `azure-agent` step likewise leaves `AutoUpdate.Enabled` at the agent's default (on) and
	// changes it only when it is explicitly set to something else.
	NoResourceDiskSwap bool `mapstructure:"no_resource_disk_swap"`
	// Add `rootdelay=300` to the kernel command line even on images whose initramfs is made by
	// initramfs-tools (Debian, Ubuntu). Off by default: initramfs-tools sleeps the whole delay
	// before it mounts the root, so every VM would boot five minutes late, while the
	// certification self-test only reports a Warning without it (dracut, on RHEL and SUSE, waits
	// at most that long, and gets the parameter). The checker passes its absence there and
	// predicts the self-test's Warning.
	KernelRootdelay bool `mapstructure:"kernel_rootdelay"`
	// Run `waagent -force -deprovision+user` as the very last step. It deletes the user Packer is
	// connected as, so no provisioner can run after this one; Packer's shutdown command must not
	// need that user's `sudo` rights (use `shutdown_command` with the builder's default root
	// access, or let the builder stop the VM).
	Deprovision bool `mapstructure:"deprovision"`
	// `abort` (default): a failing step stops the script and fails the build with the step's
	// name. `continue`: the remaining steps run, the failure is reported, the build goes on.
	OnError string `mapstructure:"on_error"`
	// How the uploaded script runs. `{{.Path}}` is its path and `{{.Dir}}` its private
	// directory. Default on Linux `sudo -n env MP_CLEANUP=1 sh '{{.Path}}'`; when Packer connects
	// as root use `env MP_CLEANUP=1 sh '{{.Path}}'`; when sudo needs a password,
	// `echo 'password' | sudo -S env MP_CLEANUP=1 sh '{{.Path}}'`. `MP_CLEANUP=1` makes the script
	// remove its directory when it ends. Default on Windows
	// `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{{.Path}}"`.
	ExecuteCommand string `mapstructure:"execute_command"`
	// Where the private directory for the script is created on the guest. Default `/tmp` on
	// Linux, `C:/Windows/Temp` on Windows.
	RemoteFolder string `mapstructure:"remote_folder"`
	// Write the per-step results as JSON to this local path:
	// `{"finished": true, "changes": 31, "steps": [{"step": "history", "status": "done",
	// "changes": ["removed /root/.bash_history"]}]}`. A step that had the guest restarted carries
	// `"restarts": N` (on Windows, `windows-update`).
	ResultsFile string `mapstructure:"results_file"`

	// Windows: generalize with sysprep (`/generalize /oobe /quit /mode:vm`) as the last step and
	// wait for `IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE`.
	Sysprep bool `mapstructure:"sysprep"`
	// Windows: how long sysprep may take to reach the generalized state. Default `30m`.
	SysprepTimeout time.Duration `mapstructure:"sysprep_timeout"`
	// Windows: inbound firewall rules, by display name or rule ID, that the `firewall` step
	// leaves enabled (e.g. your application's port).
	KeepFirewallRules []string `mapstructure:"keep_firewall_rules"`
	// Windows: how many restarts `windows-update` may ask for before the build fails. Default 5.
	WindowsUpdateMaxReboots int `mapstructure:"windows_update_max_reboots"`
	// Windows: how long to wait for the guest to answer after a restart. Default `30m`.
	RestartTimeout time.Duration `mapstructure:"restart_timeout"`
	// Windows: run the script as this user through a scheduled task, the way Packer's
	// `powershell` provisioner does. `SYSTEM` needs no password. Over WinRM the Windows Update API
	// refuses the remote session (`E_ACCESSDENIED`), so `windows-update` needs this.
	ElevatedUser string `mapstructure:"elevated_user"`
	// Windows: the password of `elevated_user` (not for `SYSTEM`).
	ElevatedPassword string `mapstructure:"elevated_password"`

	ctx interpolate.Context
}

// Provisioner implements packer.Provisioner.
type Provisioner struct {
	config Config
	script string
	// windowsScript is the PowerShell script; windowsErr why it could not be rendered when the
	// guest OS is only known at run time.
	windowsScript string
	windowsErr    error
	linuxErr      error
	comm          packer.Communicator
	// pollInterval is how often a restarting guest is asked whether it is back.
	pollInterval time.Duration
}

// ConfigSpec implements packer.Provisioner.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Options turns the configuration into step options for a guest OS.
func (c *Config) Options(os string) steps.Options {
	return steps.Options{
		OS: os, ProfileName: c.Profile, Steps: c.Steps, SkipSteps: c.SkipSteps, KeepFirewall: c.KeepFirewall, NoResourceDiskSwap: c.NoResourceDiskSwap,
		KernelRootdelay: c.KernelRootdelay,
		Deprovision:     c.Deprovision, DryRun: c.DryRun, ContinueOnError: c.OnError == "continue",
		KeepPaths: c.KeepPaths, RemoveUsers: c.RemoveUsers, CleanPaths: c.CleanPaths,
		Sysprep: c.Sysprep, SysprepTimeoutMinutes: int((c.SysprepTimeout + time.Minute - 1) / time.Minute),
		KeepFirewallRules: c.KeepFirewallRules,
		Version:           version.PluginVersion.FormattedVersion(),
	}
}

// windowsOnly reports whether an option that only Windows guests use is set.
func (c *Config) windowsOnly() bool {
	return c.Sysprep || len(c.KeepFirewallRules) > 0 || c.ElevatedUser != "" || c.WindowsUpdateMaxReboots != 0
}

// windowsPaths reports whether keep_paths or clean_paths name Windows paths (C:\...).
func (c *Config) windowsPaths() bool {
	for _, p := range append(append([]string{}, c.KeepPaths...), c.CleanPaths...) {
		if len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
			return true
		}
	}
	return false
}

// ElevatedUser implements guestexec.ElevatedProvisioner.
func (p *Provisioner) ElevatedUser() string { return p.config.ElevatedUser }

// ElevatedPassword implements guestexec.ElevatedProvisioner.
func (p *Provisioner) ElevatedPassword() string { return p.config.ElevatedPassword }

// Communicator implements guestexec.ElevatedProvisioner.
func (p *Provisioner) Communicator() packer.Communicator { return p.comm }

// Prepare decodes the configuration and renders the script, so that mistakes show at
// `packer validate` time.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "marketplace-harden",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
		InterpolateFilter:  &interpolate.RenderFilter{Exclude: []string{"execute_command", "elevated_password"}},
	}, raws...)
	if err != nil {
		return err
	}
	var errs []error
	// a profile names its guest OS; `alibaba` is also the old spelling of Alibaba's profile for any
	// guest, so it leaves the OS to the connection
	if prof, ok := profile.Lookup(p.config.Profile); ok && p.config.OS == "" && prof.Name != prof.Marketplace {
		p.config.OS = prof.OS
	}
	switch p.config.OnError {
	case "":
		p.config.OnError = "abort"
	case "abort", "continue":
	default:
		errs = append(errs, fmt.Errorf("on_error must be abort or continue, not %q", p.config.OnError))
	}
	switch p.config.OS {
	case "":
		if p.config.windowsOnly() {
			p.config.OS = steps.OSWindows
		}
	case steps.OSLinux, steps.OSWindows:
	default:
		errs = append(errs, fmt.Errorf("os must be linux or windows, not %q", p.config.OS))
	}
	if p.config.SysprepTimeout == 0 {
		p.config.SysprepTimeout = 30 * time.Minute
	}
	if p.config.RestartTimeout == 0 {
		p.config.RestartTimeout = 30 * time.Minute
	}
	if p.config.WindowsUpdateMaxReboots == 0 {
		p.config.WindowsUpdateMaxReboots = 5
	}
	if p.config.WindowsUpdateMaxReboots < 0 || p.config.SysprepTimeout < 0 || p.config.RestartTimeout < 0 {
		errs = append(errs, errors.New("windows_update_max_reboots, sysprep_timeout and restart_timeout must not be negative"))
	}
	if p.config.ElevatedPassword != "" && p.config.ElevatedUser == "" {
		errs = append(errs, errors.New("elevated_password is set without elevated_user"))
	}
	// the script of each possible guest OS; with os unset, the options are checked against the
	// OS they look written for (Windows paths: Windows, otherwise Linux), and a build that turns
	// out to run the other OS fails at run time, naming the mismatch
	var linuxErr error
	if p.config.OS != steps.OSWindows {
		p.script, linuxErr = steps.Render(p.config.Options(steps.OSLinux))
	}
	if p.config.OS != steps.OSLinux {
		p.windowsScript, p.windowsErr = steps.Render(p.config.Options(steps.OSWindows))
	}
	switch {
	case p.config.OS == steps.OSLinux && linuxErr != nil:
		errs = append(errs, linuxErr)
	case p.config.OS == steps.OSWindows && p.windowsErr != nil:
		errs = append(errs, p.windowsErr)
	case p.config.OS == "" && p.config.windowsPaths() && p.windowsErr != nil:
		errs = append(errs, p.windowsErr)
	case p.config.OS == "" && !p.config.windowsPaths() && linuxErr != nil:
		// most likely a Linux build; a Windows one (WinRM) with these options fails at run time
		errs = append(errs, linuxErr)
	}
	p.linuxErr = linuxErr
	if len(errs) > 0 {
		return fmt.Errorf("marketplace-harden: %w", errors.Join(errs...))
	}
	return nil
}

// guestOS is the configured OS, or the one the build's communicator implies.
func (p *Provisioner) guestOS(generatedData map[string]interface{}) string {
	if p.config.OS != "" {
		return p.config.OS
	}
	if t, _ := generatedData["ConnType"].(string); t == "winrm" {
		return steps.OSWindows
	}
	return steps.OSLinux
}

// Provision uploads and runs the script, then reports the results.
func (p *Provisioner) Provision(ctx context.Context, ui packer.Ui, comm packer.Communicator, generatedData map[string]interface{}) error {
	mode := ""
	if p.config.DryRun {
		mode = " (dry run: nothing is changed)"
	}
	guest := p.guestOS(generatedData)
	prof, note, err := p.config.Options(guest).Profile()
	if err != nil {
		return fmt.Errorf("marketplace-harden: %w", err)
	}
	if note != "" {
		ui.Say("marketplace-harden: deprecated: " + note)
	}
	ui.Say(fmt.Sprintf("marketplace-harden: profile %s, %s guest%s", prof.Name, guest, mode))
	if guest == steps.OSWindows {
		return p.provisionWindows(ctx, ui, comm)
	}
	if p.linuxErr != nil {
		return fmt.Errorf("marketplace-harden: the guest is Linux, but the options do not fit a Linux guest: %w", p.linuxErr)
	}
	if p.script == "" {
		return fmt.Errorf("marketplace-harden: os = %q but the build connects over %v", p.config.OS, generatedData["ConnType"])
	}

	// a private directory: mktemp -d creates it 0700
	folder := p.config.RemoteFolder
	if folder == "" {
		folder = "/tmp"
	}
	dir, err := runCapture(ctx, comm, fmt.Sprintf("mktemp -d %s/marketplace-harden.XXXXXXXX", shQuote(strings.TrimRight(folder, "/"))))
	if err != nil {
		return fmt.Errorf("marketplace-harden: creating a private directory on the guest: %w", err)
	}
	remote := dir + "/harden.sh"
	fi := scriptInfo{size: int64(len(p.script))}
	var info os.FileInfo = fi
	if err := comm.Upload(remote, strings.NewReader(p.script), &info); err != nil {
		return fmt.Errorf("marketplace-harden: uploading the script: %w", err)
	}
	p.config.ctx.Data = map[string]string{"Path": remote, "Dir": dir}
	command := p.config.ExecuteCommand
	if command == "" {
		command = DefaultExecuteCommand
	}
	command, err = interpolate.Render(command, &p.config.ctx)
	if err != nil {
		return fmt.Errorf("marketplace-harden: execute_command: %w", err)
	}
	collector := steps.NewCollector()
	status, err := runScript(ctx, ui, comm, fmt.Sprintf("chmod 0700 %s && %s", shQuote(remote), command), collector)
	if err != nil {
		return fmt.Errorf("marketplace-harden: starting the script: %w", err)
	}
	return p.report(ui, collector, status, "is sudo available without a password? see execute_command")
}

// report prints the per-step results, writes results_file and decides the build's fate.
func (p *Provisioner) report(ui packer.Ui, collector *steps.Collector, status int, hint string) error {
	ui.Say("marketplace-harden: results\n" + collector.Summary())
	if p.config.ResultsFile != "" {
		if err := writeResults(p.config.ResultsFile, collector); err != nil {
			return fmt.Errorf("marketplace-harden: %w", err)
		}
	}
	failed := collector.Failed()
	switch {
	case len(failed) > 0 && p.config.OnError == "abort":
		return fmt.Errorf("marketplace-harden: step %s failed (exit %d); see its output above", failed[0].Step, failed[0].ExitCode)
	case len(failed) > 0:
		ui.Error(fmt.Sprintf("marketplace-harden: %d step(s) failed; on_error = \"continue\" lets the build go on", len(failed)))
	case status != 0 || !collector.Finished:
		return fmt.Errorf("marketplace-harden: the script exited with status %d before finishing (%s)", status, hint)
	}
	return nil
}

// runScript starts a command on the guest, sends protocol lines to the collector and the rest
// to the UI, and returns the exit status.
func runScript(ctx context.Context, ui packer.Ui, comm packer.Communicator, command string, collector *steps.Collector) (int, error) {
	stdout := &lineWriter{fn: func(line string) {
		if !collector.Line(line) {
			ui.Message(line)
		} else if strings.HasPrefix(line, "MP|change|") || strings.HasPrefix(line, "MP|reboot|") {
			parts := strings.SplitN(line, "|", 4)
			ui.Message(fmt.Sprintf("    [%s] %s", parts[2], parts[3]))
		}
	}}
	stderr := &lineWriter{fn: func(line string) { ui.Error(line) }}
	cmd := &packer.RemoteCmd{Command: command, Stdout: stdout, Stderr: stderr}
	if err := comm.Start(ctx, cmd); err != nil {
		return 0, err
	}
	status := cmd.Wait()
	stdout.Flush()
	stderr.Flush()
	return status, nil
}

func writeResults(path string, c *steps.Collector) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]any{"finished": c.Finished, "changes": c.Changed(), "steps": c.Results}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// runCapture runs a short command and returns its trimmed standard output.
func runCapture(ctx context.Context, comm packer.Communicator, command string) (string, error) {
	var out, errb strings.Builder
	cmd := &packer.RemoteCmd{Command: command, Stdout: &out, Stderr: &errb}
	if err := comm.Start(ctx, cmd); err != nil {
		return "", err
	}
	if st := cmd.Wait(); st != 0 {
		return "", fmt.Errorf("%s: exit %d: %s", command, st, strings.TrimSpace(errb.String()))
	}
	s := strings.TrimSpace(out.String())
	if s == "" || strings.ContainsAny(s, "\n'") {
		return "", fmt.Errorf("%s printed %q", command, s)
	}
	return s, nil
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// lineWriter calls fn for each complete line written to it.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.fn(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Flush passes on a last line without a newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.fn(string(w.buf))
		w.buf = nil
	}
}

var _ io.Writer = (*lineWriter)(nil)

// scriptInfo describes the uploaded script to communicators that honour a file mode.
type scriptInfo struct{ size int64 }

func (s scriptInfo) Name() string       { return "harden.sh" }
func (s scriptInfo) Size() int64        { return s.size }
func (s scriptInfo) Mode() os.FileMode  { return 0o700 }
func (s scriptInfo) ModTime() time.Time { return time.Time{} }
func (s scriptInfo) IsDir() bool        { return false }
func (s scriptInfo) Sys() interface{}   { return nil }
