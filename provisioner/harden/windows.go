package harden

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/hashicorp/packer-plugin-sdk/guestexec"
	"github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
)

var _ guestexec.ElevatedProvisioner = (*Provisioner)(nil)

// psCommand runs a PowerShell snippet through -EncodedCommand, which needs no quoting in
// cmd.exe (WinRM) or in OpenSSH's default shell on Windows.
func psCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// elevatedWrapperRe finds the wrapper script guestexec uploads for an elevated run, and
// elevatedLogRe the log file that wrapper has the scheduled task write.
var (
	elevatedWrapperRe = regexp.MustCompile(`-file "([^"]+packer-elevated-shell-[^"]+\.ps1)"`)
	elevatedLogRe     = regexp.MustCompile(`%SYSTEMROOT%/Temp/(packer-[0-9a-f-]+\.out)`)
)

// uploadRecorder keeps the last file uploaded through it, so that the provisioner learns the
// name of the log file the SDK's elevated wrapper writes (and removes it afterwards).
type uploadRecorder struct {
	packer.Communicator
	last string
}

func (u *uploadRecorder) Upload(path string, r io.Reader, fi *os.FileInfo) error {
	var b strings.Builder
	err := u.Communicator.Upload(path, io.TeeReader(r, &b), fi)
	u.last = b.String()
	return err
}

// provisionWindows uploads the PowerShell script once and runs it, restarting the guest and
// running it again while a step asks for a restart.
func (p *Provisioner) provisionWindows(ctx context.Context, ui packer.Ui, comm packer.Communicator) error {
	if p.windowsErr != nil {
		return fmt.Errorf("marketplace-harden: the build connects over WinRM, so the guest is Windows, but the options do not fit a Windows guest: %w", p.windowsErr)
	}
	rec := &uploadRecorder{Communicator: comm}
	p.comm = rec
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	folder := p.config.RemoteFolder
	if folder == "" {
		folder = "C:/Windows/Temp"
	}
	dir := strings.TrimRight(folder, `/\`) + "/marketplace-harden-" + hex.EncodeToString(rnd[:])
	if _, err := runCapture(ctx, comm, psCommand("New-Item -ItemType Directory -Force -Path "+steps.PSQuote(dir)+" | Out-Null; Write-Output ok")); err != nil {
		return fmt.Errorf("marketplace-harden: creating a private directory on the guest: %w", err)
	}
	remote := dir + "/harden.ps1"
	// a byte-order mark makes Windows PowerShell read the script as UTF-8
	script := "\ufeff" + p.windowsScript
	var info os.FileInfo = scriptInfo{size: int64(len(script))}
	if err := comm.Upload(remote, strings.NewReader(script), &info); err != nil {
		return fmt.Errorf("marketplace-harden: uploading the script: %w", err)
	}
	command := p.config.ExecuteCommand
	if command == "" {
		command = DefaultWindowsExecuteCommand
	}
	p.config.ctx.Data = map[string]string{"Path": remote, "Dir": dir}
	command, err := interpolate.Render(command, &p.config.ctx)
	if err != nil {
		return fmt.Errorf("marketplace-harden: execute_command: %w", err)
	}
	// PowerShell expressions naming what to remove afterwards
	cleanup := []string{steps.PSQuote(dir)}
	if p.config.ElevatedUser != "" {
		if command, err = guestexec.GenerateElevatedRunner(command, p); err != nil {
			return fmt.Errorf("marketplace-harden: preparing the elevated run: %w", err)
		}
		if m := elevatedWrapperRe.FindStringSubmatch(command); m != nil {
			cleanup = append(cleanup, steps.PSQuote(m[1]))
		}
		if m := elevatedLogRe.FindStringSubmatch(rec.last); m != nil {
			cleanup = append(cleanup, "(Join-Path $env:SystemRoot "+steps.PSQuote(`Temp\`+m[1])+")")
		}
	}
	defer p.removeWindows(ctx, ui, comm, cleanup)

	collector := steps.NewCollector()
	for restarts := 0; ; restarts++ {
		collector.Reboot, collector.Finished = "", false
		status, err := runScript(ctx, ui, comm, command, collector)
		if err != nil {
			return fmt.Errorf("marketplace-harden: starting the script: %w", err)
		}
		if status != exitRestart || collector.Reboot == "" {
			return p.report(ui, collector, status, "see the output above; over WinRM, Windows Update and some cmdlets need elevated_user")
		}
		if restarts >= p.config.WindowsUpdateMaxReboots {
			ui.Say("marketplace-harden: results\n" + collector.Summary())
			return fmt.Errorf("marketplace-harden: the guest asked for a restart %d times (%s); raise windows_update_max_reboots if updates need more", restarts+1, collector.Reboot)
		}
		ui.Say(fmt.Sprintf("marketplace-harden: restarting the guest (%s), restart %d of at most %d", collector.Reboot, restarts+1, p.config.WindowsUpdateMaxReboots))
		if err := p.restartWindows(ctx, ui, comm); err != nil {
			return fmt.Errorf("marketplace-harden: %w", err)
		}
	}
}

// removeWindows deletes what the provisioner put on the guest (paths are PowerShell
// expressions): its directory, and the elevated wrapper and its log. A failure is reported, not
// fatal: the checker's temp rule flags a leftover.
func (p *Provisioner) removeWindows(ctx context.Context, ui packer.Ui, comm packer.Communicator, paths []string) {
	cmd := "Remove-Item -LiteralPath " + strings.Join(paths, ", ") + " -Recurse -Force -ErrorAction SilentlyContinue; Write-Output ok"
	if _, err := runCapture(ctx, comm, psCommand(cmd)); err != nil {
		ui.Error(fmt.Sprintf("marketplace-harden: could not remove %s from the guest: %v", strings.Join(paths, ", "), err))
	}
}

// bootTimeCommand prints when the guest last booted; a new value means a restart happened.
var bootTimeCommand = psCommand("(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')")

// restartWindows restarts the guest and waits until it has booted again and answers.
func (p *Provisioner) restartWindows(ctx context.Context, ui packer.Ui, comm packer.Communicator) error {
	before, err := runCaptureTimeout(ctx, comm, bootTimeCommand, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("reading the guest's boot time before the restart: %w", err)
	}
	cmd := &packer.RemoteCmd{Command: `shutdown.exe /r /f /t 5 /c "marketplace-harden: restarting to finish Windows updates"`}
	if err := comm.Start(ctx, cmd); err != nil {
		return fmt.Errorf("restarting the guest: %w", err)
	}
	// 1190: a shutdown is already scheduled, which restarts it all the same
	if st := cmd.Wait(); st != 0 && st != 1190 {
		return fmt.Errorf("shutdown /r exited with %d", st)
	}
	interval := p.pollInterval
	if interval == 0 {
		interval = 15 * time.Second
	}
	deadline := time.Now().Add(p.config.RestartTimeout)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		now, err := runCaptureTimeout(ctx, comm, bootTimeCommand, 2*time.Minute)
		if err == nil && now != before {
			ui.Say("marketplace-harden: the guest is back (booted " + now + ")")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the guest did not answer within restart_timeout (%s) after the restart (last: %v)", p.config.RestartTimeout, err)
		}
	}
}

// runCaptureTimeout is runCapture that gives up after d: a command sent while the guest goes
// down can hang until the communicator's own timeout.
func runCaptureTimeout(ctx context.Context, comm packer.Communicator, command string, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type res struct {
		out string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		out, err := runCapture(ctx, comm, command)
		ch <- res{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return "", errors.New("no answer from the guest")
	}
}
