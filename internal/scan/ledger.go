package scan

import (
	"fmt"
	"sort"
	"strings"
)

// Ledger is what the pass did with every file, per filesystem and per scanner: what was
// searched, what was opened as a container, what was skipped and why, and what stayed unseen.
// Everything unseen is also in Stats.Errors and Stats.Unseen (Missed), so that a rule that
// needed the content cannot pass on it: for every scanner, the Unseen counts of the ledger add
// up to what Missed reports.
type Ledger struct {
	Filesystems []*FilesystemLedger `json:"filesystems"`
}

// FilesystemLedger is one filesystem's share of the pass.
type FilesystemLedger struct {
	// Name says which filesystem: "partition 2 (ext4, mounted at /boot)".
	Name      string `json:"name"`
	Partition int    `json:"partition"`
	MountedAt string `json:"mounted_at,omitempty"`
	// Files and Bytes are the regular files walked and their sizes; Hidden counts those that
	// a mount point of another filesystem covers in the running system (searched all the same,
	// named "partition N:/path").
	Files  int64 `json:"files"`
	Bytes  int64 `json:"bytes"`
	Hidden int64 `json:"hidden_files,omitempty"`
	// Xattrs and XattrBytes are the extended attributes given to the scanners that search
	// them, each as a file named "PATH [xattr NAME]".
	Xattrs     int64 `json:"xattrs,omitempty"`
	XattrBytes int64 `json:"xattr_bytes,omitempty"`
	// Symlinks and SymlinkBytes are the symbolic links whose targets were given to the same
	// scanners, each as a file named "PATH [symlink target]".
	Symlinks     int64 `json:"symlinks,omitempty"`
	SymlinkBytes int64 `json:"symlink_bytes,omitempty"`
	// Unread says why nothing of the filesystem could be read (encrypted, a format not read).
	Unread   string          `json:"unread,omitempty"`
	Scanners []*ScannerTally `json:"scanners"`
}

// ScannerTally is what one scanner did with one filesystem's files.
type ScannerTally struct {
	Scanner  string `json:"scanner"`
	Searched Count  `json:"searched"`
	// Limited are the searched files that were searched with less than all the scanner has,
	// by why (the credential scanner's specific rules only, for what package managers write).
	Limited []ReasonCount `json:"searched_limited,omitempty"`
	Opened  Count         `json:"opened"`
	Skipped []ReasonCount `json:"skipped,omitempty"`
	// Unseen counts what this scanner did not see (files, parts of files, members of
	// containers, directories, whole filesystems), each listed in Stats.Errors with its reason
	// (the first maxErrors of them); Examples are the first few.
	Unseen   int64       `json:"unseen"`
	Examples []FileError `json:"unseen_examples,omitempty"`
}

// Count is a number of files and their bytes.
type Count struct {
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
}

// ReasonCount is a Count for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count
}

// maxExamples bounds the unseen examples kept per filesystem and scanner.
const maxExamples = 5

// Why the pass records a file as skipped.
const (
	// ReasonDeclined: the scanner's Begin took no sink for a non-empty file (the credential
	// scanner for an allowed path, clamd for a file over its stream limit, which its verdict
	// names).
	ReasonDeclined = "declined by the scanner (an allowed path, or over its size limit)"
	// ReasonSkipped: an Accounted sink said Skipped without an Explained reason.
	ReasonSkipped = "skipped by the scanner for the reason its result states"
)

func (f *FilesystemLedger) tally(scanner string) *ScannerTally {
	for _, t := range f.Scanners {
		if t.Scanner == scanner {
			return t
		}
	}
	t := &ScannerTally{Scanner: scanner}
	f.Scanners = append(f.Scanners, t)
	return t
}

func (t *ScannerTally) skip(reason string, size int64) {
	t.Skipped = addReason(t.Skipped, reason, 1, size)
}

// addReason adds files and bytes to reason's count in list.
func addReason(list []ReasonCount, reason string, files, bytes int64) []ReasonCount {
	for i := range list {
		if list[i].Reason == reason {
			list[i].Files += files
			list[i].Bytes += bytes
			return list
		}
	}
	return append(list, ReasonCount{Reason: reason, Count: Count{files, bytes}})
}

func (t *ScannerTally) unseen(e FileError) {
	t.Unseen++
	if len(t.Examples) < maxExamples {
		t.Examples = append(t.Examples, e)
	}
}

// Totals adds up one scanner's tallies over every filesystem.
func (l *Ledger) Totals(scanner string) ScannerTally {
	out := ScannerTally{Scanner: scanner}
	if l == nil {
		return out
	}
	for _, f := range l.Filesystems {
		for _, t := range f.Scanners {
			if t.Scanner != scanner {
				continue
			}
			out.Searched.Files += t.Searched.Files
			out.Searched.Bytes += t.Searched.Bytes
			out.Opened.Files += t.Opened.Files
			out.Opened.Bytes += t.Opened.Bytes
			out.Unseen += t.Unseen
			for _, e := range t.Examples {
				if len(out.Examples) < maxExamples {
					out.Examples = append(out.Examples, e)
				}
			}
			for _, s := range t.Skipped {
				out.Skipped = addReason(out.Skipped, s.Reason, s.Files, s.Bytes)
			}
			for _, s := range t.Limited {
				out.Limited = addReason(out.Limited, s.Reason, s.Files, s.Bytes)
			}
		}
	}
	sort.Slice(out.Skipped, func(i, j int) bool { return out.Skipped[i].Reason < out.Skipped[j].Reason })
	sort.Slice(out.Limited, func(i, j int) bool { return out.Limited[i].Reason < out.Limited[j].Reason })
	return out
}

// Scanners lists the scanners the ledger has tallies for, in the order they first appear.
func (l *Ledger) Scanners() []string {
	var out []string
	seen := map[string]bool{}
	if l == nil {
		return nil
	}
	for _, f := range l.Filesystems {
		for _, t := range f.Scanners {
			if !seen[t.Scanner] {
				seen[t.Scanner] = true
				out = append(out, t.Scanner)
			}
		}
	}
	return out
}

// Line is one scanner's totals in one line, for the table report: "secrets: 1200 files
// searched (31.2 MiB), 3 opened as containers, skipped: 50 REASON, 0 unseen" (what was unseen
// is listed, with its reason, in Stats.Errors).
func (t ScannerTally) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d files searched (%s", t.Scanner, t.Searched.Files, size(t.Searched.Bytes))
	for _, s := range t.Limited {
		fmt.Fprintf(&b, "; %d of them %s", s.Files, s.Reason)
	}
	fmt.Fprintf(&b, "), %d opened as containers", t.Opened.Files)
	if len(t.Skipped) > 0 {
		b.WriteString(", skipped:")
		for i, s := range t.Skipped {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " %d %s", s.Files, s.Reason)
		}
	}
	fmt.Fprintf(&b, ", %d unseen", t.Unseen)
	return b.String()
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
