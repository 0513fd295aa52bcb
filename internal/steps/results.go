package steps

import (
	"fmt"
	"strconv"
	"strings"
)

// Status of a step after a run.
const (
	StatusDone    = "done"    // ran; Changes says what it changed (none: already compliant)
	StatusSkipped = "skipped" // did not apply here; Reason says why
	StatusFailed  = "failed"  // exited non-zero
)

// Result is one step's outcome, parsed from the script's output.
type Result struct {
	Step     string   `json:"step"`
	Status   string   `json:"status"`
	Changes  []string `json:"changes"`
	Reason   string   `json:"reason,omitempty"`
	ExitCode int      `json:"exit_code,omitempty"`
	// Restarts counts the guest restarts the step asked for (Windows updates).
	Restarts int `json:"restarts,omitempty"`
}

// Collector reads the script's output line by line and builds the per-step results.
type Collector struct {
	Results  []*Result
	Finished bool   // the script reached its end
	Aborted  string // why the script stopped early, if it did
	// Reboot is why the script stopped to have the guest restarted (exit 3010), if it did;
	// the provisioner clears it before each run.
	Reboot string
	byStep map[string]*Result
}

// NewCollector returns an empty collector.
func NewCollector() *Collector { return &Collector{byStep: map[string]*Result{}} }

func (c *Collector) result(step string) *Result {
	r, ok := c.byStep[step]
	if !ok {
		r = &Result{Step: step, Status: StatusDone, Changes: []string{}}
		c.byStep[step] = r
		c.Results = append(c.Results, r)
	}
	return r
}

// Line consumes one line of output and reports whether it was a protocol line (MP|kind|step|text)
// rather than output meant for people.
func (c *Collector) Line(line string) bool {
	if !strings.HasPrefix(line, "MP|") {
		return false
	}
	parts := strings.SplitN(strings.TrimSuffix(line, "\r"), "|", 4)
	if len(parts) != 4 {
		return false
	}
	kind, step, text := parts[1], parts[2], parts[3]
	switch kind {
	case "change":
		r := c.result(step)
		r.Changes = append(r.Changes, text)
	case "skip":
		r := c.result(step)
		r.Status, r.Reason = StatusSkipped, text
	case "end":
		r := c.result(step)
		if code, err := strconv.Atoi(text); err == nil && code != 0 {
			r.Status, r.ExitCode = StatusFailed, code
		}
	case "reboot":
		r := c.result(step)
		r.Restarts++
		c.Reboot = text
	case "abort":
		c.Aborted = text
	case "done":
		c.Finished = true
	default:
		return false
	}
	return true
}

// Changed counts the changes of all steps.
func (c *Collector) Changed() int {
	n := 0
	for _, r := range c.Results {
		n += len(r.Changes)
	}
	return n
}

// Failed returns the failed steps.
func (c *Collector) Failed() []*Result {
	var out []*Result
	for _, r := range c.Results {
		if r.Status == StatusFailed {
			out = append(out, r)
		}
	}
	return out
}

// Summary is a short table of the results, one line per step.
func (c *Collector) Summary() string {
	var b strings.Builder
	for _, r := range c.Results {
		switch r.Status {
		case StatusSkipped:
			fmt.Fprintf(&b, "%-14s skipped: %s\n", r.Step, r.Reason)
		case StatusFailed:
			fmt.Fprintf(&b, "%-14s FAILED (exit %d)\n", r.Step, r.ExitCode)
		default:
			if len(r.Changes) == 0 {
				fmt.Fprintf(&b, "%-14s done, nothing to change\n", r.Step)
			} else {
				fmt.Fprintf(&b, "%-14s done, %d change(s)\n", r.Step, len(r.Changes))
			}
		}
	}
	return b.String()
}
