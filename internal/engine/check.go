// Package engine is the one path from an image to a verdict, shared by the post-processor and
// the command line: open and inspect the image, run the content pass, evaluate the plan's rules,
// apply its waivers and fail_on threshold, and write its reports. The plan (internal/plan) is
// built before; the engine decides nothing about configuration.
package engine

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/version"
	"github.com/marketready/packer-plugin-marketplace/internal/winreg"
)

// InspectError means the image could not be opened or read (exit status 2).
type InspectError struct {
	Path string
	Err  error
}

func (e *InspectError) Error() string { return fmt.Sprintf("cannot inspect %s: %v", e.Path, e.Err) }
func (e *InspectError) Unwrap() error { return e.Err }

// blobScanWorkers is how many files the content pass reads at once from a blob: as many as the
// reader makes requests at once (a variable so that BenchmarkBlobLatency can compare).
var blobScanWorkers = (*blob.Reader).Parallel

// Check checks the image at path, a local file or an https:// URL of a blob in Azure Storage
// (a SAS URL, or a URL the default Azure credential can read) read with range requests, as the
// plan says.
func Check(path string, p *plan.Plan) (*report.Report, error) {
	return CheckWithProgress(path, p, nil)
}

// CheckWithProgress is Check that calls progress with the bytes done and in all while the
// content pass runs.
func CheckWithProgress(path string, p *plan.Plan, progress func(done, total int64)) (*report.Report, error) {
	var img *inspect.Image
	var remote *blob.Reader
	if blob.IsURL(path) {
		r, err := blob.Open(context.Background(), path, p.Blob())
		if err != nil {
			return nil, &InspectError{Path: blob.Redact(path), Err: err}
		}
		d, err := image.New(r.Name(), r, r.Size())
		if err == nil {
			img, err = inspect.FromDisk(d)
		}
		if err != nil {
			return nil, &InspectError{Path: r.Name(), Err: err}
		}
		remote = r
	} else {
		var err error
		if img, err = inspect.Open(path); err != nil {
			return nil, &InspectError{Path: path, Err: err}
		}
	}
	defer img.Close()
	opts := scan.Options{Progress: progress}
	if remote != nil {
		// a remote read waits on the network far longer than on the CPU: more files in flight
		// keep the blob reader's concurrent requests busy
		opts.Workers = blobScanWorkers(remote)
	}
	content, err := ScanContent(context.Background(), img, p, opts)
	if err != nil {
		return nil, err
	}
	r := Evaluate(img, p, content)
	if remote != nil {
		st := remote.Stats()
		r.Image.Blob = &report.BlobInfo{URL: remote.Name(), Requests: st.Requests, Retries: st.Retries, Bytes: st.Bytes}
	}
	if sbom := p.SBOM(); sbom != "" {
		if err := WriteSBOM(img, sbom); err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, "CycloneDX SBOM of the installed packages written to "+sbom)
	}
	return r, nil
}

// Evaluate runs the profiles' rules on an inspected image; content is what ScanContent found
// (nil when the pass did not run).
func Evaluate(img *inspect.Image, p *plan.Plan, content *rules.Content) *report.Report {
	rs := p.Rules()
	ctx := &rules.Context{Image: img, Options: p.Options(), Content: content}
	r := &report.Report{
		Tool:     "packer-plugin-marketplace",
		Version:  version.PluginVersion.FormattedVersion(),
		Image:    imageInfo(img),
		Profiles: p.Profiles(),
		FailOn:   p.FailOn().String(),
		Summary:  map[string]int{},
		Notes:    img.Notes,
	}
	for _, rule := range rs {
		res := rule.Run(ctx)
		f := report.Finding{
			Rule: rule.ID, Title: rule.Title, Status: res.Status, Severity: rule.Severity,
			Profiles: rule.Profiles, Source: rule.Source, Certification: rule.Cert,
			Message: res.Message, Actual: res.Actual, Required: res.Required,
			Evidence: res.Evidence, Fix: rule.Fix, PredictedCertification: rules.Predict(rule.Cert, res),
		}
		if f.Evidence == nil {
			f.Evidence = []rules.Evidence{}
		}
		if w, ok := p.Waiver(rule.ID); ok && (res.Status == rules.Fail || res.Status == rules.Warn || res.Status == rules.Error) {
			f.Status = rules.Waived
			f.Waiver = &w
		}
		// A rule that could not be evaluated proves nothing: it blocks whatever its severity.
		f.Blocking = f.Status == rules.Fail && rule.Severity >= p.FailOn() || f.Status == rules.Error
		r.Summary[string(f.Status)]++
		r.Findings = append(r.Findings, f)
	}
	if h, err := img.Hives(); err == nil {
		for _, hv := range []*winreg.Hive{h.Software, h.System, h.SAM} {
			if hv != nil && hv.Dirty {
				r.Notes = append(r.Notes, fmt.Sprintf("registry hive %s was not flushed when the disk was captured: its transaction logs (.LOG1/.LOG2) may hold newer values than this offline read sees; capture after a clean shutdown", hv.Name()))
			}
		}
	}
	for _, w := range p.Waivers() {
		if !p.HasRule(w.Rule) {
			r.Notes = append(r.Notes, fmt.Sprintf("waiver for %s has no effect: the rule is not in profile(s) %s", w.Rule, strings.Join(p.Profiles(), ", ")))
		}
	}
	if content != nil && content.Stats != nil {
		st := content.Stats
		r.Content = &report.ContentInfo{Filesystems: st.Filesystems, Files: st.Files, Bytes: st.Bytes, BytesRead: st.BytesRead,
			Seconds: st.Duration.Seconds(), Errors: len(st.Errors), Summary: st.Summary()}
		for _, e := range st.Errors {
			r.Notes = append(r.Notes, fmt.Sprintf("content scan: %s: %s", e.Path, e.Error))
		}
	}
	r.Compliant = len(r.Blocking()) == 0
	redactReport(r)
	reads, bytes := img.Disk.SourceStats()
	r.Image.ReadRequests, r.Image.BytesRead = reads, bytes
	return r
}

// redactReport hides credentials in everything of the report that quotes the image (messages,
// values, evidence, notes: a kernel command line or a network file may hold a password), as
// the credential rule does for what it finds, so that no report format prints one whole.
func redactReport(r *report.Report) {
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message, f.Actual, f.Required = redact.Text(f.Message), redact.Text(f.Actual), redact.Text(f.Required)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			e.Path, e.Detail = redact.Text(e.Path), redact.Text(e.Detail)
		}
	}
	for i := range r.Notes {
		r.Notes[i] = redact.Text(r.Notes[i])
	}
	r.Image.Path = redact.Text(r.Image.Path)
}

func imageInfo(img *inspect.Image) report.ImageInfo {
	d := img.Disk
	info := report.ImageInfo{Path: d.Name, Format: d.Format, Variant: d.Variant, VirtualSize: d.VirtualSize,
		FileSize: d.FileSize, PartitionTable: img.Table.Scheme, Partitions: []report.PartitionInfo{}}
	for _, p := range img.Table.Partitions {
		info.Partitions = append(info.Partitions, report.PartitionInfo{Number: p.Number, Start: p.Start, Size: p.Size,
			Type: p.TypeID, Kind: string(p.Kind), UUID: p.FSUUID, Label: p.FSLabel})
	}
	if p := img.RootPartition; p != nil {
		info.Root = fmt.Sprintf("partition %d (%s)", p.Number, p.Kind)
		for _, m := range img.Mounts {
			info.Mounts = append(info.Mounts, report.MountInfo{Path: m.Path, Partition: m.Partition.Number, Spec: m.Spec})
		}
		sort.Slice(info.Mounts, func(i, j int) bool { return info.Mounts[i].Path < info.Mounts[j].Path })
		rel := img.OSRelease()
		info.OS, info.OSName, info.OSVersion = rel.PrettyName, rel.Name, rel.VersionID
		info.Kernel = img.BootKernel()
	}
	if p := img.WindowsPartition; p != nil && img.RootPartition == nil {
		info.Root = fmt.Sprintf("partition %d (%s, the Windows volume C:)", p.Number, p.Kind)
		if h, err := img.Hives(); err == nil {
			if v, err := h.ReadVersion(); err == nil {
				info.OS, info.OSName = v.String(), v.ProductName
				if v.Build > 0 {
					info.OSVersion = fmt.Sprintf("build %d.%d", v.Build, v.UBR)
				}
			}
		}
	}
	return info
}

// WriteReports writes the report files the plan names, creating parent directories.
func WriteReports(r *report.Report, out plan.Reports) error {
	for _, f := range []struct {
		path  string
		write func(*report.Report, io.Writer) error
	}{
		{out.JSON, (*report.Report).WriteJSON},
		{out.JUnit, (*report.Report).WriteJUnit},
		{out.MSCert, (*report.Report).WriteMSCert},
		{out.SARIF, (*report.Report).WriteSARIF},
	} {
		if f.path == "" {
			continue
		}
		if err := writeFile(f.path, func(w io.Writer) error { return f.write(r, w) }); err != nil {
			return err
		}
	}
	return nil
}
