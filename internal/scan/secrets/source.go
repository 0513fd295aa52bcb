package secrets

import (
	"fmt"
	"slices"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

func init() { scan.Register(scan.Source{Kind: scan.Secrets, New: forImage}) }

// forImage is the credential scanner of an image: the default allowed paths plus the
// configured ones, the files dpkg installed unchanged skipped by their recorded digest, and
// the packages in apt's cache by the digest apt's package index lists, the files pip installed
// unchanged by their distribution's RECORD, and the snaps by their snap-revision assertions.
func forImage(img *inspect.Image, cfg scan.Config) (scan.Scanner, error) {
	var digests *digestReaders
	if root := img.Root; root != nil {
		// read in the background while the detector is built and the pass walks (Options.readDigests)
		digests = &digestReaders{
			vendor:   func() map[string]string { return pkgdb.DpkgDigests(root) },
			archives: func() map[string]string { return AptArchiveDigests(root) },
			pip:      func() map[string]string { return PipRecordDigests(root) },
			snaps:    func() map[string]int64 { return SnapRevisionDigests(root) },
		}
	}
	// the listing of each initramfs the search reads whole is left in the image's memo, where
	// the driver rules (which run after the content pass) find it: decompressed once
	shared := func(path string, l *initrd.Shared) {
		img.Memo(initrd.SharedKey(path), func() any { return l })
	}
	return New(Options{AllowPaths: append(slices.Clone(DefaultAllowPaths), cfg.SecretsAllowPaths...),
		AllowFingerprints: cfg.SecretsAllowFingerprints, readDigests: digests,
		FingerprintKey: cfg.FingerprintKey, Initramfs: shared})
}

// Result implements scan.Reporter: every finding, redacted, and what was searched.
func (s *Scanner) Result() scan.Result {
	searched, vendor, binary := s.Counts()
	scope := fmt.Sprintf("%d files searched with %d rules (%d of them binary, searched as their strings; %d unchanged distribution files skipped by digest: dpkg's, apt's, pip's RECORDs, snap-revision assertions)",
		searched, s.RuleCount(), binary, vendor)
	if n := s.Archives(); n > 0 {
		scope += fmt.Sprintf("; %d container(s) opened (archives, compressed streams, disk images), their members counted as files", n)
	}
	r := scan.Result{Kind: scan.Secrets, Scanner: s.Name(), Scope: scope}
	for _, f := range s.Findings() {
		r.Findings = append(r.Findings, scan.Finding{Path: f.Path, Line: f.Line,
			Detail:      fmt.Sprintf("%s (%s): %s; fingerprint %s", f.Description, f.Rule, f.Excerpt, f.Fingerprint),
			Fingerprint: f.Fingerprint})
	}
	return r
}
