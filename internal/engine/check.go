// Package engine is the one path from an image to a verdict, shared by the post-processor and
// the command line: open and inspect the image, run the content pass, evaluate the plan's rules,
// apply its waivers and fail_on threshold, and write its reports. The plan (internal/plan) is
// built before; the engine decides nothing about configuration: the one choice that depends on
// the image, the profile when none was given, is plan.ForGuest's rule, which the engine applies
// to the guest OS it found.
package engine

import (
	"context"
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/atomicfile"
	"io"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/image"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/redact"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
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

// blobPrefetch: the content pass tells a blob's reader which files' data it reads next
// (scan.Prefetcher), so that small files come in a few large concurrent requests; a variable so
// that the latency benchmark can time the pass without it.
var blobPrefetch = true

// Check checks the image at path, a local file or an https:// URL of a blob in Azure Storage
// (a SAS URL, or a URL the default Azure credential can read) read with range requests, as the
// plan says.
func Check(path string, p *plan.Plan) (*report.Report, error) {
	return CheckContext(context.Background(), path, p, nil)
}

// CheckWithProgress is Check that calls progress with the bytes done and in all while the
// content pass runs.
func CheckWithProgress(path string, p *plan.Plan, progress func(done, total int64)) (*report.Report, error) {
	return CheckContext(context.Background(), path, p, progress)
}

// CheckContext is CheckWithProgress under ctx: when ctx ends, every read of a blob, the content
// pass and the blob reader's retries stop, and the check returns ctx's error (wrapped). A plan
// that would write a file over the image is refused before the image is opened.
func CheckContext(ctx context.Context, path string, p *plan.Plan, progress func(done, total int64)) (*report.Report, error) {
	if err := p.CheckInputs(path); err != nil {
		return nil, err
	}
	r, err := check(ctx, path, p, progress)
	if ctx.Err() != nil {
		// what failed because of the cancellation (a read, a rule) is not a verdict
		return nil, fmt.Errorf("checking %s: %w", blob.Redact(path), context.Cause(ctx))
	}
	return r, err
}

func check(ctx context.Context, path string, p *plan.Plan, progress func(done, total int64)) (*report.Report, error) {
	var img *inspect.Image
	var remote *blob.Reader
	if blob.IsURL(path) {
		r, err := blob.Open(ctx, path, p.Blob())
		if err != nil {
			return nil, &InspectError{Path: blob.Redact(path), Err: err}
		}
		defer r.Close()
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
	// the one place where the image decides the profile (plan.ForGuest documents the rule)
	p, guestNote, err := p.ForGuest(GuestOS(img))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", blob.Redact(path), err)
	}
	opts := scan.Options{Progress: progress}
	if remote != nil {
		// a remote read waits on the network far longer than on the CPU: more files in flight
		// keep the blob reader's concurrent requests busy
		opts.Workers = blobScanWorkers(remote)
		opts.NoPrefetch = !blobPrefetch
	}
	content, err := ScanContent(ctx, img, p, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fpNotes := allowFingerprints(content, p)
	vulns := LoadVulnerabilities(ctx, img, p)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := evaluate(img, p, content, vulns)
	if guestNote != "" {
		r.Notes = append([]string{guestNote}, r.Notes...)
	}
	r.Notes = append(r.Notes, fpNotes...)
	if remote != nil {
		st := remote.Stats()
		r.Image.Blob = &report.BlobInfo{URL: remote.Name(), Requests: st.Requests, Retries: st.Retries, Bytes: st.Bytes}
	}
	if sbom := p.SBOM(); sbom != "" {
		if err := WriteSBOM(img, sbom, sbomAdvisories(vulns)...); err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, "CycloneDX SBOM of the installed packages written to "+sbom)
	}
	return r, nil
}

// allowFingerprints applies the plan's secrets_allow_fingerprints to the credential findings
// (the scanner is not given them, so that what matched nothing can be told), says in each
// remaining finding how its fingerprint was keyed, and returns the notes: how the fingerprints
// were keyed (where the key came from, never the key) and each allow-listed fingerprint that
// matched nothing, which is what a fingerprint copied from a report made under another key does.
func allowFingerprints(content *rules.Content, p *plan.Plan) []string {
	res := content.Result(scan.Secrets)
	if res == nil {
		return nil
	}
	from := p.FingerprintKeyFrom()
	if from == "" {
		from = "the default key"
		if _, note, err := secrets.FingerprintKey(); err == nil {
			from = strings.TrimPrefix(note, "fingerprint key ")
			from = "the key " + from
		}
	} else {
		from = "the key from " + from
	}
	allow := map[string]bool{}
	for _, fp := range p.AllowFingerprints() {
		allow[fp] = false
	}
	kept := res.Findings[:0:0]
	for _, f := range res.Findings {
		if fp := f.Fingerprint; fp != "" {
			if _, ok := allow[fp]; ok {
				allow[fp] = true
				continue
			}
			f.Detail += " (keyed with " + from + ")"
		}
		kept = append(kept, f)
	}
	res.Findings = kept
	notes := []string{"credential fingerprints are keyed with " + from + ": a fingerprint in secrets_allow_fingerprints matches only under the same key"}
	for _, fp := range p.AllowFingerprints() {
		if !allow[fp] {
			notes = append(notes, fmt.Sprintf("secrets_allow_fingerprints: %s matched no credential in the image; fingerprints are keyed with %s, and one copied from a report made under another key (another machine's per-user key file) never matches: give the same key with fingerprint_key, --fingerprint-key-env or $%s", fp, from, secrets.FingerprintKeyEnv))
			allow[fp] = true // named once
		}
	}
	return notes
}

// GuestOS is the guest OS the image holds: profile.Linux when a Linux root filesystem was found,
// else profile.Windows when a Windows system volume was, else "".
func GuestOS(img *inspect.Image) string {
	switch {
	case img.RootPartition != nil:
		return profile.Linux
	case img.WindowsPartition != nil:
		return profile.Windows
	}
	return ""
}

// Evaluate runs the profiles' rules on an inspected image; content is what ScanContent found
// (nil when the pass did not run).
func Evaluate(img *inspect.Image, p *plan.Plan, content *rules.Content) *report.Report {
	return evaluate(img, p, content, LoadVulnerabilities(context.Background(), img, p))
}

// evaluate is Evaluate with the advisories fact loaded.
func evaluate(img *inspect.Image, p *plan.Plan, content *rules.Content, vulns *rules.Vulnerabilities) *report.Report {
	rs := p.Rules()
	ctx := &rules.Context{Image: img, Options: p.Options(), Content: content, Vulnerabilities: vulns}
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
			Profiles: rule.Profiles(), Source: rule.Source, Certification: rule.Cert,
			Message: res.Message, Actual: res.Actual, Required: res.Required,
			Evidence: res.Evidence, Fix: rule.Fix, PredictedCertification: rules.Predict(rule.Cert, res),
		}
		if f.Evidence == nil {
			f.Evidence = []rules.Evidence{}
		}
		checks := rules.ChecksOf(rule.ID, p.Profiles())
		var judging []string
		for _, c := range checks {
			f.Checks = append(f.Checks, report.MarketCheck{Profile: c.Profile, Level: c.Level.String(), ID: c.ID, Name: c.Name, Source: c.Source, Running: c.Running})
			judging = append(judging, c.Profile)
		}
		// A violation that every selected profile counts as advisory is a warning: the
		// marketplace only warns. An error stays an error.
		if res.Status == rules.Fail && rules.Advisory(checks) {
			f.Status = rules.Warn
			f.Message = "advisory in " + strings.Join(judging, ", ") + ": " + f.Message
		}
		// A waiver accepts a known failure or warning. It never covers an error: a rule that
		// could not be evaluated may hide any failure, including the one the waiver was not
		// written for.
		if w, ok := p.Waiver(rule.ID); ok {
			switch res.Status {
			case rules.Fail, rules.Warn:
				f.Status = rules.Waived
				f.Waiver = &w
			case rules.Error:
				r.Notes = append(r.Notes, fmt.Sprintf("the waiver for %s does not cover its error: a rule that could not be evaluated blocks, waived or not", rule.ID))
			}
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
		r.Content = report.ContentFrom(st)
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

// redactReport hides credentials in what the report quotes and no rule attributed. A rule
// quotes the image values it puts in its message, Actual and evidence with rules.Quote (the
// full redaction, applied to the value before it enters the sentence); the finished sentences
// here get only the URL detectors (a URL's password, a secret query parameter), which cannot
// take a rule's own words for a credential, as a net for a value no rule quoted. What no rule
// wrote (an evidence path: a file name in the image; the notes, which quote the image; the
// image's path, a user's URL) gets the full redaction.
func redactReport(r *report.Report) {
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message, f.Actual, f.Required = redact.URLs(f.Message), redact.URLs(f.Actual), redact.URLs(f.Required)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			e.Path, e.Detail = redact.Text(e.Path), redact.URLs(e.Detail)
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

// WriteReports writes the report files the plan names, creating parent directories. Each is
// written to a temporary file beside it and renamed into place, so that a failed write leaves
// the previous file, never a truncated one.
func WriteReports(r *report.Report, out plan.Reports) error {
	for _, f := range []struct {
		path  string
		write func(*report.Report, io.Writer) error
	}{
		{out.JSON, (*report.Report).WriteJSON},
		{out.JUnit, (*report.Report).WriteJUnit},
		{out.MSCert, (*report.Report).WriteMSCert},
		{out.AlibabaDetection, (*report.Report).WriteAlibabaDetection},
		{out.SARIF, (*report.Report).WriteSARIF},
	} {
		if f.path == "" {
			continue
		}
		if err := atomicfile.Write(f.path, func(w io.Writer) error { return f.write(r, w) }); err != nil {
			return err
		}
	}
	return nil
}
