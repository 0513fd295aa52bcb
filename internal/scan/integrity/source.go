package integrity

import (
	"io"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

func init() {
	scan.Register(scan.Source{Kind: scan.Integrity, New: func(_ *inspect.Image, cfg scan.Config) (scan.Scanner, error) {
		if cfg.Manifest == "" {
			return nil, nil
		}
		return &Scanner{path: cfg.Manifest}, nil
	}})
}

// Artifact implements scan.Artifact: the baseline, written where the configuration says, with
// complete = false and the unread paths when the pass did not read everything.
func (s *Scanner) Artifact(img *inspect.Image, st *scan.Stats) (string, func(io.Writer) error) {
	m := s.Manifest(img.Source, time.Now())
	if n, ex := st.Missed(s.Name()); n > 0 {
		m.Complete, m.Unread, m.UnreadCount = false, ex, n
	}
	return s.path, m.Write
}
