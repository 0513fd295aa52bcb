package clamd

import (
	"fmt"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

func init() { scan.Register(scan.Source{Kind: scan.Malware, New: forImage}) }

// forImage connects to the configured clamd; without one there is no malware scan.
func forImage(_ *inspect.Image, cfg scan.Config) (scan.Scanner, error) {
	c := cfg.Clamd
	if c == nil {
		return nil, nil
	}
	return Connect(Address{Network: c.Network, Addr: c.Address}, c.MaxStream, c.Timeout)
}

// Result implements scan.Reporter: the infected files, and the files too large to send.
func (s *Scanner) Result() scan.Result {
	scanned, oversized := s.Counts()
	r := scan.Result{Kind: scan.Malware, Scanner: s.Name(), Tool: s.Version(),
		Scope: fmt.Sprintf("%d files scanned", scanned), Unjudged: oversized}
	for _, d := range s.Detections() {
		r.Findings = append(r.Findings, scan.Finding{Path: d.Path, Detail: d.Signature})
	}
	return r
}
