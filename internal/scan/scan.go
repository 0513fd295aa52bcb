// Package scan is the one streaming pass over the bytes of every regular file of every readable
// filesystem in an image. Scanners (secrets, malware, integrity manifest) plug into it: each
// gets a worker per goroutine and, per file, a sink that receives the file's bytes in order.
// Files are read sequentially in large chunks; a file stops being read as soon as no sink wants
// more of it (binary files are dropped by the secret scanner after their first block).
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// File is one regular file of the image.
type File struct {
	// Path is the file's path in the running system ("/etc/app.conf"); files of a filesystem that
	// no fstab line mounts are named "partition N:/path".
	Path string
	// Location is where the file really lives: its path in its own filesystem, prefixed with
	// "partition N:" unless that filesystem is the root. Allow lists and the vendor-digest skip
	// match it, never Path, so that a partition mounted over an allowed directory is not allowed.
	Location string
	Size     int64
	Mode     fs.FileMode
	UID      uint32
	GID      uint32
	// FSSize is the size of the filesystem holding the file: a file larger than that is sparse
	// (or its size field is corrupt), and most of it is holes.
	FSSize int64
	// Data gives random access to the file's bytes, for a scanner that reads a file in its own
	// order (an archive's directory is at its end); nil for a file inside an archive.
	Data io.ReaderAt
}

// Scanner is one kind of content check.
type Scanner interface {
	Name() string
	// NewWorker returns the state of one goroutine of the pass (a clamd connection, buffers).
	NewWorker() (Worker, error)
}

// Worker is one goroutine's share of a Scanner.
type Worker interface {
	// Begin returns the sink for a file's bytes, or nil when this scanner has no use for them.
	Begin(f *File) (Sink, error)
	Close() error
}

// Sink receives a file's bytes in order, then End. A Write returning ErrEnough means the sink
// wants no more of this file; End is still called.
type Sink interface {
	Write(p []byte) error
	End() error
}

// Outcome is what a sink did with a whole file, for the content ledger.
type Outcome int

const (
	// Searched: every byte of the file was searched (as text, decoded UTF-16, or as the strings
	// of a binary file).
	Searched Outcome = iota
	// Opened: the file was recognised as a container (archive, compressed stream, disk or
	// filesystem image) and its members were searched as files of their own; a member that
	// could not be opened is reported by End's error, naming it.
	Opened
	// Skipped: the file was not searched for a sound reason that the scanner states in its
	// result (an unchanged distribution file, proven by the package database's digest).
	Skipped
)

// Accounted is implemented by a Sink that says, after End, what it did with the file.
type Accounted interface {
	Outcome() Outcome
}

// ErrEnough is returned by Sink.Write when the sink has seen all it needs of a file.
var ErrEnough = errors.New("scan: enough of this file")

// Options tune the pass.
type Options struct {
	Workers int // default: the number of CPUs
	// FirstChunk is the size of a file's first read, so that binary files cost one small read
	// (default 64 KiB); later reads are Chunk bytes (default 1 MiB).
	FirstChunk, Chunk int
	// Progress, when set, is called from the pass's goroutines with the bytes done and in all.
	Progress func(done, total int64)
}

// FileError is a file or directory that could not be read or scanned; the pass goes on, but
// what it names was not seen: the rules that depend on a scanner it concerns cannot pass.
type FileError struct {
	Path string `json:"path"`
	// Scanner is the scanner that could not handle the file; empty when nobody could (a
	// directory that could not be walked, a file that could not be opened or read).
	Scanner string `json:"scanner,omitempty"`
	Error   string `json:"error"`
}

// Stats describes a finished pass.
type Stats struct {
	Filesystems int           `json:"filesystems"`
	Files       int64         `json:"files"`
	Bytes       int64         `json:"bytes"`      // the regular files' total size
	BytesRead   int64         `json:"bytes_read"` // what the scanners needed of it
	Duration    time.Duration `json:"duration_ns"`
	// Errors lists the first maxErrors things not seen; Unseen counts them all, by scanner
	// ("" for what no scanner saw).
	Errors []FileError      `json:"errors,omitempty"`
	Unseen map[string]int64 `json:"unseen,omitempty"`
}

// Missed says what a scanner did not see: how many files or directories, and the first of
// them. A scanner whose Missed count is not zero has not proven anything about the image.
func (s *Stats) Missed(scanner string) (int64, []FileError) {
	n := s.Unseen[""] + s.Unseen[scanner]
	var ex []FileError
	for _, e := range s.Errors {
		if e.Scanner == "" || e.Scanner == scanner {
			ex = append(ex, e)
		}
	}
	return n, ex
}

// Summary line of what was missed, naming the first paths.
func MissedSummary(n int64, ex []FileError, max int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d path(s) could not be read", n)
	for i, e := range ex {
		if i == max {
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(e.Path + " (" + e.Error + ")")
	}
	if int64(min(len(ex), max)) < n {
		fmt.Fprintf(&b, "; and %d more", n-int64(min(len(ex), max)))
	}
	return b.String()
}

type job struct {
	file File
	r    io.ReaderAt
}

// maxErrors bounds the errors kept; a corrupt filesystem could otherwise produce one per file.
const maxErrors = 200

// Run walks every filesystem of img and feeds every regular file to the scanners. An error is
// returned only when the pass cannot run at all (a scanner cannot start, the context ends);
// unreadable files are listed in Stats.Errors.
func Run(ctx context.Context, img *inspect.Image, opts Options, scanners ...Scanner) (*Stats, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.FirstChunk <= 0 {
		opts.FirstChunk = 64 << 10
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 1 << 20
	}
	p := &pass{st: &Stats{Unseen: map[string]int64{}}}
	files, err := p.walk(ctx, img)
	if err != nil {
		return nil, err
	}
	workers, err := startWorkers(scanners, opts.Workers)
	defer func() {
		for _, ws := range workers {
			for _, w := range ws {
				w.Close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	p.stream(ctx, files, workers, scanners, opts)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.st.Duration = time.Since(start)
	sort.Slice(p.st.Errors, func(i, j int) bool { return p.st.Errors[i].Path < p.st.Errors[j].Path })
	return p.st, nil
}

// pass is one run's statistics and the errors its goroutines record.
type pass struct {
	st    *Stats
	errMu sync.Mutex
}

// addErr records something a scanner (or, with Scanner "", every scanner) did not see.
func (p *pass) addErr(e FileError) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	p.st.Unseen[e.Scanner]++
	if len(p.st.Errors) < maxErrors {
		p.st.Errors = append(p.st.Errors, e)
	}
}

// entry is a regular file the walk found, to be opened and streamed.
type entry struct {
	fs   inspect.Filesystem
	path string
	file File
}

// walk lists the regular files of every filesystem (metadata only, so that progress knows the
// total before any content is read); partitions that could not be read and directories the walk
// could not enter are recorded as unseen.
func (p *pass) walk(ctx context.Context, img *inspect.Image) ([]entry, error) {
	var files []entry
	for _, u := range img.Unread {
		p.addErr(FileError{Path: fmt.Sprintf("partition %d:/", u.Partition.Number), Error: u.Reason})
	}
	for _, f := range img.Filesystems() {
		p.st.Filesystems++
		err := f.Tree.Walk("", func(path string, d fs.DirEntry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				p.addErr(FileError{Path: f.Prefix + path, Error: err.Error()})
				return nil
			}
			fe := File{Path: f.Prefix + path, Location: f.Prefix + path, Size: info.Size(), Mode: info.Mode()}
			if f.Partition != nil {
				fe.FSSize = f.Partition.Size
			}
			if ino, ok := info.Sys().(*filesystem.Inode); ok {
				fe.UID, fe.GID = ino.UID, ino.GID
			}
			files = append(files, entry{fs: f, path: path, file: fe})
			p.st.Bytes += fe.Size
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// the walk went on past the directories it could not read: each is a gap
			var inc *filesystem.IncompleteWalkError
			if errors.As(err, &inc) {
				for _, d := range inc.Dirs {
					p.addErr(FileError{Path: f.Prefix + strings.TrimPrefix(d.Path, "/"), Error: "directory not read: " + d.Err.Error()})
				}
			} else {
				p.addErr(FileError{Path: f.Prefix, Error: "walk stopped: " + err.Error()})
			}
		}
	}
	p.st.Files = int64(len(files))
	return files, nil
}

// startWorkers gives each of n workers its own worker of every scanner; what it started is
// returned even with an error, so that the caller closes it.
func startWorkers(scanners []Scanner, n int) ([][]Worker, error) {
	workers := make([][]Worker, n)
	for i := range workers {
		for _, s := range scanners {
			w, err := s.NewWorker()
			if err != nil {
				return workers, fmt.Errorf("%s: %w", s.Name(), err)
			}
			workers[i] = append(workers[i], w)
		}
	}
	return workers, nil
}

// stream opens the files in order and hands them to the workers, which read each to the sinks
// that want it; it records the bytes read and reports progress.
func (p *pass) stream(ctx context.Context, files []entry, workers [][]Worker, scanners []Scanner, opts Options) {
	var done, read atomic.Int64
	progress := func(n int64) {
		d := done.Add(n)
		if opts.Progress != nil {
			opts.Progress(d, p.st.Bytes)
		}
	}
	jobs := make(chan job, 4*opts.Workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func(ws []Worker) {
			defer wg.Done()
			first := make([]byte, opts.FirstChunk)
			buf := make([]byte, opts.Chunk)
			for j := range jobs {
				n := scanFile(ctx, j, ws, scanners, first, buf, p.addErr)
				read.Add(n)
				progress(j.file.Size)
			}
		}(workers[i])
	}
	// The producer opens the files (resolving paths walks the tree's caches, which are not
	// shared between goroutines); the workers only read.
	for _, e := range files {
		if ctx.Err() != nil {
			break
		}
		r, _, err := e.fs.Tree.OpenReaderAt(e.path)
		if err != nil {
			p.addErr(FileError{Path: e.file.Path, Error: err.Error()})
			progress(e.file.Size)
			continue
		}
		e.file.Data = r
		jobs <- job{file: e.file, r: r}
	}
	close(jobs)
	wg.Wait()
	p.st.BytesRead = read.Load()
}

// scanFile streams one file to the sinks that want it and returns the bytes read.
func scanFile(ctx context.Context, j job, ws []Worker, scanners []Scanner, first, buf []byte, addErr func(FileError)) int64 {
	type active struct {
		name   string
		sink   Sink
		done   bool
		failed bool // an error is recorded for this file and scanner
	}
	var sinks []*active
	for i, w := range ws {
		s, err := w.Begin(&j.file)
		if err != nil {
			addErr(FileError{Path: j.file.Path, Scanner: scanners[i].Name(), Error: err.Error()})
			continue
		}
		if s != nil {
			sinks = append(sinks, &active{name: scanners[i].Name(), sink: s})
		}
	}
	var off int64
	for len(sinks) > 0 && off < j.file.Size && ctx.Err() == nil {
		b := buf
		if off == 0 {
			b = first
		}
		if rest := j.file.Size - off; rest < int64(len(b)) {
			b = b[:rest]
		}
		n, err := j.r.ReadAt(b, off)
		short := n < len(b)
		if short {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			// the rest of the file is unseen by every sink that still wanted it
			for _, a := range sinks {
				if !a.done {
					a.failed = true
					addErr(FileError{Path: j.file.Path, Scanner: a.name, Error: fmt.Sprintf("read at offset %d of %d: %v", off+int64(n), j.file.Size, err)})
				}
			}
			b = b[:n]
		}
		off += int64(len(b))
		wanting := 0
		for _, a := range sinks {
			if a.done {
				continue
			}
			if err := a.sink.Write(b); err != nil {
				a.done = true
				if !errors.Is(err, ErrEnough) && !a.failed {
					a.failed = true
					addErr(FileError{Path: j.file.Path, Scanner: a.name, Error: err.Error()})
				}
				continue
			}
			wanting++
		}
		if wanting == 0 || short {
			break // nobody wants more, or the rest of the file cannot be read
		}
	}
	for _, a := range sinks {
		if err := a.sink.End(); err != nil && !a.failed {
			addErr(FileError{Path: j.file.Path, Scanner: a.name, Error: err.Error()})
		}
	}
	return off
}

// Summary is a one-line description of a pass for reports.
func (s *Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d files (%d bytes) in %d filesystem(s), %d bytes read, in %s", s.Files, s.Bytes, s.Filesystems, s.BytesRead, s.Duration.Round(time.Millisecond))
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "; %d file(s) could not be read", len(s.Errors))
	}
	return b.String()
}
