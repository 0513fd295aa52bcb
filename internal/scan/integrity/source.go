package integrity

import (
	"fmt"
	"os"
	"path/filepath"
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

// Finish implements scan.Finisher: it writes the baseline where the configuration says, with
// complete = false and the unread paths when the pass did not read everything.
func (s *Scanner) Finish(img *inspect.Image, st *scan.Stats) error {
	m := s.Manifest(img.Source, time.Now())
	if n, ex := st.Missed(s.Name()); n > 0 {
		m.Complete, m.Unread, m.UnreadCount = false, ex, n
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(s.path)
	if err != nil {
		return err
	}
	if err := m.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	return f.Close()
}
