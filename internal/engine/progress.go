package engine

import (
	"fmt"
	"sync"
	"time"
)

// ProgressEvery is how often a ProgressLog prints a line unless told otherwise.
const ProgressEvery = 10 * time.Second

// ProgressLog prints the content pass's progress as lines, for output that is not a terminal
// (a CI log): one every Every from the pass's first report until Stop, whether bytes moved or
// not (a stalled pass says so by its unchanged figures), and a last one at Stop when it printed
// any or Final is set. Set is the pass's scan.Options.Progress; it is safe for concurrent use.
type ProgressLog struct {
	Print func(line string)
	Name  string        // the image, as messages name it
	Every time.Duration // default ProgressEvery
	Final bool          // print the last line even when the pass was too short for any other

	mu          sync.Mutex
	start       time.Time
	done, total int64
	printed     bool
	stopped     bool
	stop        chan struct{}
	ended       chan struct{}
}

// Set records the bytes done and in all; the first call starts the clock and the lines.
func (l *ProgressLog) Set(done, total int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop == nil {
		l.start = time.Now()
		l.stop, l.ended = make(chan struct{}), make(chan struct{})
		every := l.Every
		if every <= 0 {
			every = ProgressEvery
		}
		go l.tick(every)
	}
	l.done, l.total = max(l.done, done), total
}

func (l *ProgressLog) tick(every time.Duration) {
	defer close(l.ended)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.line()
		case <-l.stop:
			return
		}
	}
}

func (l *ProgressLog) line() {
	l.mu.Lock()
	s := FormatProgress(l.Name, l.done, l.total, time.Since(l.start))
	l.printed = true
	l.mu.Unlock()
	l.Print(s)
}

// Stop ends the lines (if they started) and prints the last one.
func (l *ProgressLog) Stop() {
	l.mu.Lock()
	if l.stop == nil || l.stopped {
		l.mu.Unlock()
		return
	}
	l.stopped = true
	stop, ended := l.stop, l.ended
	l.mu.Unlock()
	close(stop)
	<-ended
	l.mu.Lock()
	last := l.printed || l.Final
	l.mu.Unlock()
	if last {
		l.line()
	}
}

// FormatProgress is one progress line: the share and bytes done, the rate so far and the time
// left at that rate, e.g. "disk.raw: content scan 42% (1.4 of 3.3 GiB, 118.2 MiB/s, 17s left)".
func FormatProgress(name string, done, total int64, elapsed time.Duration) string {
	pct := int64(100)
	if total > 0 {
		pct = min(done*100/total, 100)
	}
	s := fmt.Sprintf("%s: content scan %3d%% (%s of %s", name, pct, sizeString(done), sizeString(total))
	secs := elapsed.Seconds()
	switch {
	case done >= total:
		s += fmt.Sprintf(", done in %s)", elapsed.Round(time.Second))
	case done > 0 && secs > 0:
		rate := float64(done) / secs
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		s += fmt.Sprintf(", %s/s, %s left)", sizeString(int64(rate)), left.Round(time.Second))
	default:
		s += ", nothing read yet)"
	}
	return s
}

// sizeString prints a byte count in the largest binary unit under which it is at least 1.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
