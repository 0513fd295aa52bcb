package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// When stderr is not a terminal (a CI log) the command prints a progress line every interval
// of the content pass, each on a line of its own, without --progress too; --quiet silences it.
func TestProgressLinesInALog(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = time.Millisecond
	// a pass of some tens of milliseconds, so that the ticker runs during it even on a loaded
	// machine (the dirty image's pass took a few milliseconds: a tick could miss it entirely)
	img := testfixture.Variant(t, testfixture.Change{"srv/log.txt": strings.Repeat("2026-12-03 12:00:00 request served in 3 ms\n", 400_000)})
	_, _, errs := run(img)
	lines := strings.Count(errs, ": content scan ")
	if lines < 2 || strings.Contains(errs, "\r") || !strings.Contains(errs, displayName(img)+": content scan 100% (") {
		t.Errorf("%d progress lines:\n%s", lines, errs)
	}
	if _, _, errs := run("--quiet", img); strings.Contains(errs, "content scan") {
		t.Errorf("--quiet printed progress:\n%s", errs)
	}
	// at the default interval a short pass prints nothing; --progress adds the last line
	progressEvery = time.Hour
	if _, _, errs := run(img); strings.Contains(errs, "content scan") {
		t.Errorf("a short pass printed progress:\n%s", errs)
	}
	if _, _, errs := run("--progress", img); strings.Count(errs, "content scan") != 1 || !strings.Contains(errs, "100%") {
		t.Errorf("--progress:\n%s", errs)
	}
}

// On a terminal the line is redrawn whenever bytes moved and 100 ms passed, not once per
// percent: on a large image a percent takes minutes.
func TestProgressBarMovesWithTheBytes(t *testing.T) {
	var buf bytes.Buffer
	b := &progressBar{w: &buf, name: "big.raw"}
	const total = 100 << 30
	b.set(1<<20, total)
	b.set(1<<20, total) // nothing moved
	time.Sleep(barRedraw + 10*time.Millisecond)
	b.set(2<<20, total) // the same percent, later: drawn
	b.set(3<<20, total) // too soon: not drawn
	b.stop()
	if n := strings.Count(buf.String(), "\r"); n != 3 {
		t.Errorf("%d draws, want 3 (two moves and the last line):\n%q", n, buf.String())
	}
	if !strings.Contains(buf.String(), "2.0 MiB of 100.0 GiB") || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("%q", buf.String())
	}
}
