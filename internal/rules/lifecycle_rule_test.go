package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/lifecycle"
)

func TestJudgeRelease(t *testing.T) {
	defer func(f func() time.Time) { today = f }(today)
	rel := lifecycle.Release{Name: "Debian 11 (bullseye)", End: time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC), Support: "Debian LTS", Source: "https://wiki.debian.org/LTS"}
	for _, c := range []struct {
		now  string
		want Status
		in   string
	}{
		{"2026-09-01T00:00:00Z", Fail, "reached the end of its Debian LTS on 2026-08-31"},
		{"2026-08-31T12:00:00Z", Warn, "in 0 days"}, // the last day is still supported
		{"2026-06-03T00:00:00Z", Warn, "in 90 days"},
		{"2026-06-02T23:59:00Z", Pass, "until 2026-08-31"},
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		today = func() time.Time { return now }
		r := judgeRelease(rel, Evidence{})
		if r.Status != c.want || !strings.Contains(r.Message, c.in) {
			t.Errorf("%s: %s %q", c.now, r.Status, r.Message)
		}
	}
}
