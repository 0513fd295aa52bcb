//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

// Package harden is the marketplace-harden provisioner: it renders the selected hardening and
// cleanup steps into one POSIX sh script, uploads it once to a private directory on the guest,
// runs it once with sudo, streams its output and reports a result per step.
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
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/marketready/packer-plugin-marketplace/internal/steps"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
)

// DefaultExecuteCommand runs the script as root with sudo (non-interactive).
const DefaultExecuteCommand = "sudo -n env MP_CLEANUP=1 sh '{{.Path}}'"

// Config is the provisioner's configuration.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// Which marketplace's steps run by default: `azure` (default) or `alibaba`.
	Profile string `mapstructure:"profile"`
	// Run exactly these steps (in catalogue order) instead of the profile's.
	Steps []string `mapstructure:"steps"`
	// Leave these steps out.
	SkipSteps []string `mapstructure:"skip_steps"`
	// Report what each step would change and change nothing.
	DryRun bool `mapstructure:"dry_run"`
	// Paths that no step may remove, truncate or edit (nor their parents).
	KeepPaths []string `mapstructure:"keep_paths"`
	// Accounts the `accounts` step deletes with their home directories.
	RemoveUsers []string `mapstructure:"remove_users"`
	// Business data and cache paths the `clean-paths` step empties.
	CleanPaths []string `mapstructure:"clean_paths"`
	// Leave the host firewall enabled (drops the `firewall` step).
	KeepFirewall bool `mapstructure:"keep_firewall"`
	// Run `waagent -force -deprovision+user` as the last step. It removes the user Packer is
	// connected as: nothing can run on the guest after it.
	Deprovision bool `mapstructure:"deprovision"`
	// `abort` (default): a failing step stops the script and fails the build. `continue`: the
	// remaining steps still run and the failure is reported without failing the build.
	OnError string `mapstructure:"on_error"`
	// How the script is run; `{{.Path}}` is the uploaded script. Default:
	// `sudo -n env MP_CLEANUP=1 sh '{{.Path}}'`.
	ExecuteCommand string `mapstructure:"execute_command"`
	// Where the private directory for the script is created on the guest. Default `/tmp`.
	RemoteFolder string `mapstructure:"remote_folder"`
	// Write the per-step results as JSON to this local path.
	ResultsFile string `mapstructure:"results_file"`

	ctx interpolate.Context
}

// Provisioner implements packersdk.Provisioner.
type Provisioner struct {
	config Config
	script string
}

// ConfigSpec implements packersdk.Provisioner.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Options turns the configuration into step options.
func (c *Config) Options() steps.Options {
	return steps.Options{
		Profile: c.Profile, Steps: c.Steps, SkipSteps: c.SkipSteps, KeepFirewall: c.KeepFirewall,
		Deprovision: c.Deprovision, DryRun: c.DryRun, ContinueOnError: c.OnError == "continue",
		KeepPaths: c.KeepPaths, RemoveUsers: c.RemoveUsers, CleanPaths: c.CleanPaths,
		Version: version.PluginVersion.FormattedVersion(),
	}
}

// Prepare decodes the configuration and renders the script, so that mistakes show at
// `packer validate` time.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "marketplace-harden",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
		InterpolateFilter:  &interpolate.RenderFilter{Exclude: []string{"execute_command"}},
	}, raws...)
	if err != nil {
		return err
	}
	var errs []error
	if p.config.Profile == "" {
		p.config.Profile = "azure"
	}
	switch p.config.OnError {
	case "":
		p.config.OnError = "abort"
	case "abort", "continue":
	default:
		errs = append(errs, fmt.Errorf("on_error must be abort or continue, not %q", p.config.OnError))
	}
	if p.config.ExecuteCommand == "" {
		p.config.ExecuteCommand = DefaultExecuteCommand
	}
	if p.config.RemoteFolder == "" {
		p.config.RemoteFolder = "/tmp"
	}
	if p.script, err = steps.Render(p.config.Options()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("marketplace-harden: %w", errors.Join(errs...))
	}
	return nil
}

// Provision uploads and runs the script, then reports the results.
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	mode := ""
	if p.config.DryRun {
		mode = " (dry run: nothing is changed)"
	}
	ui.Say(fmt.Sprintf("marketplace-harden: profile %s%s", p.config.Profile, mode))

	// a private directory: mktemp -d creates it 0700
	dir, err := runCapture(ctx, comm, fmt.Sprintf("mktemp -d %s/marketplace-harden.XXXXXXXX", shQuote(strings.TrimRight(p.config.RemoteFolder, "/"))))
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
	command, err := interpolate.Render(p.config.ExecuteCommand, &p.config.ctx)
	if err != nil {
		return fmt.Errorf("marketplace-harden: execute_command: %w", err)
	}
	collector := steps.NewCollector()
	stdout := &lineWriter{fn: func(line string) {
		if !collector.Line(line) {
			ui.Message(line)
		} else if strings.HasPrefix(line, "MP|change|") {
			parts := strings.SplitN(line, "|", 4)
			ui.Message(fmt.Sprintf("    [%s] %s", parts[2], parts[3]))
		}
	}}
	stderr := &lineWriter{fn: func(line string) { ui.Error(line) }}
	cmd := &packersdk.RemoteCmd{Command: fmt.Sprintf("chmod 0700 %s && %s", shQuote(remote), command), Stdout: stdout, Stderr: stderr}
	if err := comm.Start(ctx, cmd); err != nil {
		return fmt.Errorf("marketplace-harden: starting the script: %w", err)
	}
	status := cmd.Wait()
	stdout.Flush()
	stderr.Flush()

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
		return fmt.Errorf("marketplace-harden: the script exited with status %d before finishing (is sudo available without a password? see execute_command)", status)
	}
	return nil
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
func runCapture(ctx context.Context, comm packersdk.Communicator, command string) (string, error) {
	var out, errb strings.Builder
	cmd := &packersdk.RemoteCmd{Command: command, Stdout: &out, Stderr: &errb}
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
