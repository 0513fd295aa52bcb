package check

import (
	"io"
	"sync"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/marketready/packer-plugin-marketplace/internal/engine"
)

// progressBar shows the content scan's progress with Packer's own bar (Ui.TrackProgress). The
// bar tracks a stream; here the stream yields as many (empty) bytes as the scan has done, so
// the bar advances with the scan from whichever goroutine reports.
type progressBar struct {
	ui   packer.Ui
	name string
	// say prints the one line that replaces the bar for a pass under minBar bytes
	say func(string)

	once     sync.Once
	mu       sync.Mutex
	cond     *sync.Cond
	done     int64 // bytes the scan has done
	fed      int64 // bytes handed to the bar
	closed   bool
	finished chan struct{}
	// small: the pass is under minBar bytes, shown by one line at Close instead of the bar
	small bool
	total int64
	start time.Time
}

// minBar is the smallest pass Packer's bar is drawn for: the bar counts whole MiB, and under
// one it showed "(0 of 0 MiB)".
const minBar = 1 << 20

func newProgressBar(ui packer.Ui, name string, say func(string)) *progressBar {
	if bu, ok := ui.(*packer.BasicUi); ok && bu.PB == nil {
		ui = nil // a UI without a progress tracker (tests): no bar
	}
	b := &progressBar{ui: ui, name: name, say: say, finished: make(chan struct{}), start: time.Now()}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Set records progress; the first call, which knows the total, starts the bar.
func (b *progressBar) Set(done, total int64) {
	b.once.Do(func() {
		b.mu.Lock()
		b.total, b.small = total, total < minBar
		b.mu.Unlock()
		if b.ui == nil || total < minBar {
			close(b.finished)
			return
		}
		go func() {
			defer close(b.finished)
			rc := b.ui.TrackProgress(b.name, 0, total, pump{b})
			io.Copy(io.Discard, rc)
			rc.Close()
		}()
	})
	b.mu.Lock()
	if done > b.done {
		b.done = done
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// Close ends the bar (if it was started) and waits for it.
func (b *progressBar) Close() {
	b.mu.Lock()
	b.closed = true
	b.cond.Broadcast()
	b.mu.Unlock()
	started := true
	b.once.Do(func() { started = false; close(b.finished) })
	if started {
		<-b.finished
	}
	b.mu.Lock()
	small, done, total := b.small, b.done, b.total
	b.small = false // said once
	b.mu.Unlock()
	if small && b.say != nil {
		b.say(engine.FormatProgress(b.name, done, total, time.Since(b.start)))
	}
}

type pump struct{ b *progressBar }

func (p pump) Read(buf []byte) (int, error) {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.fed >= b.done && !b.closed {
		b.cond.Wait()
	}
	if b.fed >= b.done {
		return 0, io.EOF
	}
	n := int(min(int64(len(buf)), b.done-b.fed))
	clear(buf[:n])
	b.fed += int64(n)
	return n, nil
}

func (p pump) Close() error { return nil }
