// Package scan is the one streaming pass over the bytes of every regular file of every readable
// filesystem in an image, each filesystem walked alone (so that a file a mount point hides is
// searched too), and over their extended attributes. Scanners (secrets, malware, integrity
// manifest) plug into it: each gets a worker per goroutine and, per file, a sink that receives
// the file's bytes in order. Files are read sequentially in large chunks; a file stops being
// read as soon as no sink wants more of it. What each sink did with each file goes into the
// pass's Ledger: searched, opened as a container, skipped with a reason, or unseen.
//
// When a volume's reader takes hints (Prefetcher: a blob behind a raw or fixed VHD image), the
// pass tells it, a batch of files ahead of the workers, where the data they read next lies, and
// reads ahead of a file read on past that: behind a blob's latency, many small files then cost a
// few large concurrent requests instead of a round trip each. A hint is never a read: a file
// whose read fails is unseen, whatever became of its hint.
package scan

import (
	"bytes"
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
	// Path names the file the way a user of the running system finds it: its path there
	// ("/etc/app.conf", "/boot/grub/grub.cfg" on a /boot partition); a file of a filesystem
	// that nothing mounts, or one that a mount point of another filesystem hides (the root's own
	// /boot/creds.ini under a /boot partition), is "partition N:/path", its path in its
	// partition. An extended attribute is "PATH [xattr NAME]", a symbolic link's target as
	// stored "PATH [symlink target]".
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
	// Xattr is the attribute's name ("user.comment") when the "file" is the value of an
	// extended attribute of Path's inode; only scanners in Options.Xattrs get those.
	Xattr string
	// Symlink: the "file" is the target a symbolic link stores (bytes of the filesystem, which
	// a secret may be written into as into a file); only scanners in Options.Xattrs get those.
	Symlink bool
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

// Decliner is implemented by a Worker that names why its last Begin took no sink for a
// non-empty file ("an allowed path: /var/lib/apt/lists/ (a default)"): the ledger counts the
// declined files under that reason instead of ReasonDeclined.
type Decliner interface {
	Declined() string
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

// Accounted is implemented by a Sink that says, after End, what it did with the file. A sink
// that does not implement it counts as having searched a file it received whole; one that
// stopped reading early (ErrEnough) without saying why leaves the rest of the file unseen.
type Accounted interface {
	Outcome() Outcome
}

// Explained is implemented by an Accounted sink that names why it skipped a file ("unchanged
// distribution file (package digest)"), for the ledger.
type Explained interface {
	Reason() string
}

// Limited is implemented by an Accounted sink that searched a file with less than all it has
// (the credential scanner searches what package managers generate with its specific rules
// only): the ledger counts the file as searched, and under that reason as searched in part.
type Limited interface {
	Limit() string
}

// HoleSink is implemented by a Sink that can be told of a run of zero bytes without receiving
// them: Hole(n) stands for n zeros at the current offset, a hole of a sparse file (a range no
// extent maps, or an unwritten one). When every sink still reading a file implements it, the
// pass skips the file's holes of a chunk or more instead of reading them; the zeros count as
// received for the ledger. A 1 TiB size field over a few blocks then costs the blocks.
type HoleSink interface {
	Hole(n int64) error
}

// dataFinder is a file reader that knows where its data is (filesystem.ExtentReader).
type dataFinder interface {
	DataAfter(off int64) int64
}

// deliverPiece is the most of a later chunk a sink is handed at once: progress is told between
// pieces. The first read is handed whole (the credential scanner sniffs containers and
// encodings from it).
const deliverPiece = 128 << 10

// ErrEnough is returned by Sink.Write when the sink has seen all it needs of a file.
var ErrEnough = errors.New("scan: enough of this file")

// Options tune the pass.
type Options struct {
	Workers int // default: the number of CPUs
	// FirstChunk is the size of a file's first read, so that binary files cost one small read
	// (default 64 KiB); later reads are Chunk bytes (default 1 MiB).
	FirstChunk, Chunk int
	// Progress, when set, is called from the pass's goroutines with the bytes done and in all,
	// after every chunk read (so that it moves on a large file too) and for what was not read.
	Progress func(done, total int64)
	// Xattrs names the scanners that also get every extended attribute of every inode (of the
	// filesystems whose reader has them), each value as a file of its own named
	// "PATH [xattr NAME]", and the target every symbolic link stores, named
	// "PATH [symlink target]"; the others see only files.
	Xattrs []string
	// NoPrefetch: the volumes' readers get no hints of the files read next (see Prefetcher);
	// for measuring what the hints save.
	NoPrefetch bool
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
	// Ledger is what the pass did with every file, per filesystem and scanner.
	Ledger *Ledger `json:"ledger,omitempty"`
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
	fs   int // the filesystem's index in the ledger
}

// maxErrors bounds the errors kept; a corrupt filesystem could otherwise produce one per file.
const maxErrors = 200

// SymlinkSuffix ends the name of a symbolic link's target searched as a file: "PATH [symlink target]".
const SymlinkSuffix = " [symlink target]"

// skippedXattrs are attributes whose value is not searched as a file of its own: ext4 keeps
// the tail of an inline file in system.data, and that is searched as the file's content.
var skippedXattrs = map[string]bool{"system.data": true}

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
	p := &pass{st: &Stats{Unseen: map[string]int64{}, Ledger: &Ledger{}}, img: img, xattrs: map[string]bool{}}
	for _, s := range scanners {
		p.names = append(p.names, s.Name())
	}
	for _, n := range opts.Xattrs {
		p.xattrs[n] = true
	}
	files, err := p.walk(ctx, img, opts.Workers)
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

// pass is one run's statistics, ledger and the errors its goroutines record.
type pass struct {
	st     *Stats
	img    *inspect.Image
	fss    []inspect.Filesystem
	names  []string        // the scanners' names
	xattrs map[string]bool // the scanners that get extended attributes
	mu     sync.Mutex      // st.Errors, st.Unseen and st.Ledger
}

// addErr records something a scanner (or, with Scanner "", every scanner) did not see, on
// filesystem fs of the ledger.
func (p *pass) addErr(fs int, e FileError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Unseen[e.Scanner]++
	if len(p.st.Errors) < maxErrors {
		p.st.Errors = append(p.st.Errors, e)
	}
	fl := p.st.Ledger.Filesystems[fs]
	for _, n := range p.names {
		if e.Scanner == "" || e.Scanner == n {
			fl.tally(n).unseen(e)
		}
	}
}

// account records in the ledger what a scanner did with a whole file.
func (p *pass) account(fs int, scanner string, o Outcome, reason string, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.st.Ledger.Filesystems[fs].tally(scanner)
	switch o {
	case Searched:
		t.Searched.Files++
		t.Searched.Bytes += size
		if reason != "" {
			t.Limited = addReason(t.Limited, reason, 1, size)
		}
	case Opened:
		t.Opened.Files++
		t.Opened.Bytes += size
	default:
		t.skip(reason, size)
	}
}

// newLedger adds a filesystem's entry to the ledger, with a tally for every scanner, and
// returns its index.
func (p *pass) newLedger(fl *FilesystemLedger) int {
	for _, n := range p.names {
		fl.tally(n)
	}
	p.st.Ledger.Filesystems = append(p.st.Ledger.Filesystems, fl)
	return len(p.st.Ledger.Filesystems) - 1
}

// entry is a regular file (or an extended attribute) the walk found, to be opened and streamed.
type entry struct {
	fs   int    // index into p.fss and the ledger
	path string // the path in the filesystem's own tree
	ino  uint64 // for an extended attribute: the inode that holds it
	link string // for a symbolic link's target: the target, as stored
	file File
}

// walk lists the regular files of every filesystem, each filesystem alone (metadata only, so
// that progress knows the total before any content is read), and the extended attributes the
// scanners that want them will read; partitions that could not be read and directories the walk
// could not enter are recorded as unseen. Each filesystem's metadata is first read workers at a
// time (Tree.Prefetch), so that the walk, one directory after another, finds it in the caches:
// behind a blob's latency the walk otherwise waits one round trip per directory.
func (p *pass) walk(ctx context.Context, img *inspect.Image, workers int) ([]entry, error) {
	var files []entry
	for _, u := range img.Unread {
		name := inspect.PartitionName(u.Partition) // "partition 2 LV vg0/swap" for a logical volume
		i := p.newLedger(&FilesystemLedger{Name: fmt.Sprintf("%s (%s)", name, u.Partition.Kind), Partition: u.Partition.Number, Unread: u.Reason})
		p.addErr(i, FileError{Path: name + ":/", Error: u.Reason})
	}
	for _, a := range img.UnreadAreas {
		i := p.newLedger(&FilesystemLedger{Name: a.Name, Unread: a.Reason})
		p.addErr(i, FileError{Path: a.Name, Error: a.Reason})
	}
	wantXattrs := len(p.xattrs) > 0
	p.fss = img.Filesystems()
	for _, f := range p.fss {
		fl := &FilesystemLedger{Name: f.Label(), MountedAt: f.MountedAt}
		if f.Partition != nil {
			fl.Partition = f.Partition.Number
		}
		li := p.newLedger(fl)
		p.st.Filesystems++
		xv, _ := f.Volume.(filesystem.XattrVolume)
		if !wantXattrs {
			xv = nil
		}
		// xattrGap records an inode whose attributes could not be listed
		xattrGap := func(name string, err error) {
			for n := range p.xattrs {
				p.addErr(li, FileError{Path: name + " [xattrs]", Scanner: n, Error: "extended attributes not read: " + err.Error()})
			}
		}
		seenIno := map[uint64]bool{}
		// xattrs lists an inode's attributes (once per inode, whatever its hard links) as
		// entries; an area that cannot be read is unseen by the scanners that search them
		xattrs := func(p2 string, name string, ino uint64) {
			if xv == nil || seenIno[ino] {
				return
			}
			seenIno[ino] = true
			xs, err := xv.Xattrs(ino)
			if err != nil {
				xattrGap(name, err)
			}
			for _, x := range xs {
				if skippedXattrs[x.Name] {
					continue
				}
				fe := File{Path: name + " [xattr " + x.Name + "]", Location: f.Location(p2) + " [xattr " + x.Name + "]", Size: int64(len(x.Value)), Xattr: x.Name}
				files = append(files, entry{fs: li, path: p2, ino: ino, file: fe})
				fl.Xattrs++
				fl.XattrBytes += fe.Size
				p.st.Bytes += fe.Size
			}
		}
		if xv != nil {
			name, _ := img.SeenAs(f, "")
			if st, err := f.Tree.Stat("."); err != nil {
				xattrGap(name, err)
			} else if ino, ok := st.Sys().(*filesystem.Inode); ok {
				xattrs("", name, ino.Ino)
			}
		}
		f.Tree.Prefetch(ctx, "", workers)
		err := f.Tree.Walk("", func(path string, d fs.DirEntry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() && xv == nil && (!wantXattrs || d.Type()&fs.ModeSymlink == 0) {
				return nil
			}
			name, hidden := img.SeenAs(f, path)
			info, err := d.Info()
			if err != nil {
				if d.Type().IsRegular() {
					p.addErr(li, FileError{Path: name, Error: err.Error()})
				} else {
					xattrGap(name, err) // only its attributes are lost here
				}
				return nil
			}
			ino, _ := info.Sys().(*filesystem.Inode)
			if ino != nil {
				xattrs(path, name, ino.Ino)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// the target is a few bytes, read now (the walk is the tree's only user here)
				target, err := f.Tree.ReadLink(path)
				if err != nil {
					for n := range p.xattrs {
						p.addErr(li, FileError{Path: name + SymlinkSuffix, Scanner: n, Error: "symbolic link's target not read: " + err.Error()})
					}
					return nil
				}
				if target != "" {
					fe := File{Path: name + SymlinkSuffix, Location: f.Location(path) + SymlinkSuffix, Size: int64(len(target)), Symlink: true}
					files = append(files, entry{fs: li, path: path, link: target, file: fe})
					fl.Symlinks++
					fl.SymlinkBytes += fe.Size
					p.st.Bytes += fe.Size
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fe := File{Path: name, Location: f.Location(path), Size: info.Size(), Mode: info.Mode()}
			if f.Partition != nil {
				fe.FSSize = f.Partition.Size
			}
			if ino != nil {
				fe.UID, fe.GID = ino.UID, ino.GID
			}
			files = append(files, entry{fs: li, path: path, file: fe})
			fl.Files++
			fl.Bytes += fe.Size
			if hidden {
				fl.Hidden++
			}
			p.st.Files++
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
					name, _ := img.SeenAs(f, strings.TrimPrefix(d.Path, "/"))
					p.addErr(li, FileError{Path: name, Error: "directory not read: " + d.Err.Error()})
				}
			} else {
				name, _ := img.SeenAs(f, "")
				p.addErr(li, FileError{Path: name, Error: "walk stopped: " + err.Error()})
			}
		}
	}
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
// that want it; it records the bytes read and reports progress as every chunk is read.
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
				n := p.scanFile(ctx, j, ws, scanners, first, buf, progress)
				read.Add(n)
			}
		}(workers[i])
	}
	// The producer opens the files (resolving paths walks the tree's caches, which are not
	// shared between goroutines) and reads the extended attributes; the workers only read.
	// the attributes of one inode are consecutive entries: read once for all of them
	type inode struct {
		fs  int
		ino uint64
	}
	var xKey inode
	var xVals []filesystem.Xattr
	var xErr error
	// prepare opens one entry for the workers; what cannot be opened is recorded
	prepare := func(e entry) (job, bool) {
		if e.file.Symlink {
			r := strings.NewReader(e.link)
			e.file.Data = r
			return job{file: e.file, r: r, fs: e.fs}, true
		}
		if e.file.Xattr != "" {
			if k := (inode{e.fs, e.ino}); k != xKey {
				xKey = k
				xv := p.fss[p.fsIndex(e.fs)].Volume.(filesystem.XattrVolume)
				xVals, xErr = xv.Xattrs(e.ino)
			}
			var val []byte
			found := false
			for _, x := range xVals {
				if x.Name == e.file.Xattr {
					val, found = x.Value, true
					break
				}
			}
			if !found || int64(len(val)) != e.file.Size {
				for n := range p.xattrs {
					p.addErr(e.fs, FileError{Path: e.file.Path, Scanner: n, Error: fmt.Sprintf("extended attribute changed between the walk and the read: %v", xErr)})
				}
				progress(e.file.Size)
				return job{}, false
			}
			r := bytes.NewReader(val)
			e.file.Data = r
			return job{file: e.file, r: r, fs: e.fs}, true
		}
		r, _, err := p.fss[p.fsIndex(e.fs)].Tree.OpenReaderAt(e.path)
		if err != nil {
			p.addErr(e.fs, FileError{Path: e.file.Path, Error: err.Error()})
			progress(e.file.Size)
			return job{}, false
		}
		e.file.Data = r
		return job{file: e.file, r: r, fs: e.fs}, true
	}
	// The files are opened a batch at a time, and the first bytes the workers will read of each
	// file of a batch (FirstChunk+Chunk, its first two reads) are hinted to its volume's reader
	// (Prefetcher) coalesced, one batch ahead of the workers: on a blob the data of many small
	// files then comes in a few large concurrent requests instead of one round trip per file.
	ph := &prefetcher{perFile: int64(opts.FirstChunk + opts.Chunk), live: map[Prefetcher]bool{}}
	next := 0
	fill := func() []job {
		var batch []job
		var hinted, size int64
		for next < len(files) && len(batch) < prefetchFiles && hinted < prefetchWindow && size < prefetchReadBytes && ctx.Err() == nil {
			j, ok := prepare(files[next])
			next++
			if ok {
				batch = append(batch, j)
				hinted += min(j.file.Size, ph.perFile)
				size += j.file.Size
			}
		}
		if !opts.NoPrefetch {
			ph.hint(batch)
		}
		return batch
	}
	for cur := fill(); len(cur) > 0 && ctx.Err() == nil; {
		ahead := fill() // hinted while the workers read cur
		for _, j := range cur {
			if ctx.Err() != nil {
				break
			}
			jobs <- j
		}
		cur = ahead
	}
	close(jobs)
	wg.Wait()
	p.st.BytesRead = read.Load()
}

// Prefetcher is implemented by a volume's reader that can be told which of its bytes will be
// read soon: the partition of a blob's raw or fixed VHD image (partition.Section, then
// image.Disk, then blob.Reader, each translating the offsets). Prefetch is a hint, never a
// read: it returns at once, and a read of those bytes still returns its own error. It reports
// whether hints are used at all (false for a local file, or a container format that maps the disk
// through tables); Prefetch(0, 0) asks that alone.
type Prefetcher interface {
	Prefetch(off, n int64) bool
}

// The producer's batches: at most prefetchFiles files, prefetchWindow bytes hinted and
// prefetchReadBytes bytes of the files' sizes (so that what the workers read of one batch before
// they reach the next batch, hinted meanwhile, cannot push its pages out of a blob reader's
// cache); hints closer than prefetchGap on the volume are one range.
const (
	prefetchFiles     = 1024
	prefetchWindow    = 16 << 20
	prefetchReadBytes = 64 << 20
	prefetchGap       = 16 << 10
)

// prefetcher turns a batch of opened files into coalesced hints for their volumes' readers.
type prefetcher struct {
	perFile int64                // the bytes of a file hinted: its first reads
	live    map[Prefetcher]bool  // whether a volume's reader uses hints
	ranges  map[Prefetcher][]rng // reused between batches
}

type rng struct{ off, end int64 }

// hint tells the volume readers of the files in batch where the first perFile bytes of each
// file's data are (inline data, holes and unwritten extents need no read), merged into ranges on
// each volume, and gives each such file a reader that hints what follows as it is read.
func (h *prefetcher) hint(batch []job) {
	if h.ranges == nil {
		h.ranges = map[Prefetcher][]rng{}
	}
	for k := range h.ranges {
		h.ranges[k] = h.ranges[k][:0]
	}
	for i := range batch {
		j := &batch[i]
		er, pf := h.hintable(j.r)
		if er == nil {
			continue
		}
		want := min(er.Size, h.perFile)
		h.ranges[pf] = extentRanges(h.ranges[pf], er, 0, want)
		a := &aheadReader{er: er, pf: pf, hinted: want}
		j.r, j.file.Data = a, a
	}
	for pf, rs := range h.ranges {
		hintMerged(pf, rs)
	}
}

// hintable returns a file's extent reader and its volume's Prefetcher when the volume takes
// hints.
func (h *prefetcher) hintable(r io.ReaderAt) (*filesystem.ExtentReader, Prefetcher) {
	er, ok := r.(*filesystem.ExtentReader)
	if !ok || er.BlockSize <= 0 {
		return nil, nil
	}
	pf, ok := er.R.(Prefetcher)
	if !ok {
		return nil, nil
	}
	live, seen := h.live[pf]
	if !seen {
		live = pf.Prefetch(0, 0)
		h.live[pf] = live
	}
	if !live {
		return nil, nil
	}
	return er, pf
}

// extentRanges appends to rs the volume ranges that hold the written data of the file bytes
// [from, to) of er.
func extentRanges(rs []rng, er *filesystem.ExtentReader, from, to int64) []rng {
	to = min(to, er.Size)
	bs := er.BlockSize
	if from >= to || bs <= 0 {
		return rs
	}
	lblk := uint64(from / bs)
	i := sort.Search(len(er.Extents), func(i int) bool {
		return er.Extents[i].Logical+er.Extents[i].Length > lblk
	})
	for _, e := range er.Extents[i:] {
		if e.Logical > uint64(to/bs) {
			break // sorted: the rest lies past what is hinted
		}
		ls := int64(e.Logical) * bs
		if ls >= to {
			break
		}
		if e.Unwritten || e.Physical < 0 || e.Physical >= er.VolSize {
			continue // zeros, or data a read will find corrupt
		}
		// the extent's bytes within [from, to), in file offsets
		a := max(ls, from)
		blocks := min(e.Length, uint64((to-ls+bs-1)/bs))
		b := min(ls+int64(blocks)*bs, to)
		if a >= b {
			continue
		}
		start := e.Physical + (a - ls)
		if start >= er.VolSize {
			continue
		}
		rs = append(rs, rng{start, min(start+(b-a), er.VolSize)})
	}
	return rs
}

// hintMerged sorts rs and hints them to pf, ranges closer than prefetchGap as one.
func hintMerged(pf Prefetcher, rs []rng) {
	if len(rs) == 0 {
		return
	}
	sort.Slice(rs, func(a, b int) bool { return rs[a].off < rs[b].off })
	cur := rs[0]
	for _, r := range rs[1:] {
		if r.off <= cur.end+prefetchGap {
			cur.end = max(cur.end, r.end)
			continue
		}
		pf.Prefetch(cur.off, cur.end-cur.off)
		cur = r
	}
	pf.Prefetch(cur.off, cur.end-cur.off)
}

// The read-ahead of a file read past what its batch hinted: a window of aheadMin bytes,
// doubling up to aheadMax.
const (
	aheadMin = 1 << 20
	aheadMax = 4 << 20
)

// aheadReader is the reader of a file whose volume takes hints: a read that comes within half
// a window of what is hinted (reading on sequentially: the workers' chunks of a large file, a
// container decompressed through File.Data at End) hints the next window, so that those bytes
// are on their way while the current ones are searched. A read past what is hinted (a jump to
// an archive's directory at its end) hints nothing, and read-ahead starts again from there.
type aheadReader struct {
	er     *filesystem.ExtentReader
	pf     Prefetcher
	mu     sync.Mutex
	hinted int64 // the file's bytes before this are hinted
	window int64
	rs     []rng
}

// ReadAt implements io.ReaderAt.
func (a *aheadReader) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	a.mu.Lock()
	if off > a.hinted {
		a.hinted, a.window = end, 0 // a jump
	} else if a.hinted < a.er.Size && end > a.hinted-max(a.window, aheadMin)/2 {
		a.window = min(max(2*a.window, aheadMin), aheadMax)
		from := max(a.hinted, end)
		a.rs = extentRanges(a.rs[:0], a.er, from, from+a.window)
		hintMerged(a.pf, a.rs)
		a.hinted = min(from+a.window, a.er.Size)
	}
	a.mu.Unlock()
	return a.er.ReadAt(p, off)
}

// DataAfter is the file's DataAfter (holes are told, not read).
func (a *aheadReader) DataAfter(off int64) int64 { return a.er.DataAfter(off) }

// fsIndex maps a ledger index to the index of its filesystem in p.fss: the ledger lists the
// unread partitions and areas first.
func (p *pass) fsIndex(ledger int) int { return ledger - len(p.img.Unread) - len(p.img.UnreadAreas) }

// scanFile streams one file to the sinks that want it, accounts for what each did with it, and
// returns the bytes read; progress moves with every chunk.
func (p *pass) scanFile(ctx context.Context, j job, ws []Worker, scanners []Scanner, first, buf []byte, progress func(int64)) int64 {
	type active struct {
		name   string
		sink   Sink
		got    int64 // bytes the sink took
		done   bool  // it wants no more
		failed bool  // an error is recorded for this file and scanner
	}
	var sinks []*active
	allHoleSinks := func(sinks []*active) bool {
		for _, a := range sinks {
			if _, ok := a.sink.(HoleSink); !ok && !a.done {
				return false
			}
		}
		return true
	}
	for i, w := range ws {
		name := scanners[i].Name()
		if (j.file.Xattr != "" || j.file.Symlink) && !p.xattrs[name] {
			continue
		}
		s, err := w.Begin(&j.file)
		switch {
		case err != nil:
			p.addErr(j.fs, FileError{Path: j.file.Path, Scanner: name, Error: err.Error()})
		case s != nil:
			sinks = append(sinks, &active{name: name, sink: s})
		case j.file.Size == 0:
			p.account(j.fs, name, Searched, "", 0) // nothing to search
		default:
			reason := ReasonDeclined
			if d, ok := w.(Decliner); ok && d.Declined() != "" {
				reason = d.Declined()
			}
			p.account(j.fs, name, Skipped, reason, j.file.Size)
		}
	}
	// deliver hands the next n bytes of the file (send: written, or told as a hole) to every
	// sink that still wants it and returns how many still do; a sink's error other than
	// ErrEnough is recorded once
	deliver := func(n int64, send func(Sink) error) (wanting int) {
		for _, a := range sinks {
			if a.done {
				continue
			}
			err := send(a.sink)
			a.got += n
			if err != nil {
				a.done = true
				if !errors.Is(err, ErrEnough) && !a.failed {
					a.failed = true
					p.addErr(j.fs, FileError{Path: j.file.Path, Scanner: a.name, Error: err.Error()})
				}
				continue
			}
			wanting++
		}
		return wanting
	}
	df, _ := j.r.(dataFinder)
	var off int64
	for len(sinks) > 0 && off < j.file.Size && ctx.Err() == nil {
		if df != nil && allHoleSinks(sinks) {
			if n := df.DataAfter(off) - off; n >= int64(len(buf)) {
				// a hole of a chunk or more: told, not read
				off += n
				progress(n)
				if deliver(n, func(s Sink) error { return s.(HoleSink).Hole(n) }) == 0 {
					break
				}
				continue
			}
		}
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
					p.addErr(j.fs, FileError{Path: j.file.Path, Scanner: a.name, Error: fmt.Sprintf("read at offset %d of %d: %v", off+int64(n), j.file.Size, err)})
				}
			}
			b = b[:n]
		}
		// a chunk goes to the sinks in pieces, progress told before each, so that progress
		// moves while a slow sink searches a chunk (a 1 MiB chunk of random base64 can take
		// seconds on a loaded machine; a piece stays well under the 2 s the pass promises)
		wanting, most := 1, deliverPiece
		if off == 0 {
			most = len(b) // the first read is seen whole, whatever its size
		}
		for rest := b; len(rest) > 0 && wanting > 0; {
			piece := rest[:min(len(rest), most)]
			rest = rest[len(piece):]
			off += int64(len(piece))
			progress(int64(len(piece)))
			wanting = deliver(int64(len(piece)), func(s Sink) error { return s.Write(piece) })
		}
		if wanting == 0 || short {
			break // nobody wants more, or the rest of the file cannot be read
		}
	}
	// What was not read (nobody wanted it, or it could not be read: recorded) is done once the
	// sinks have ended; a sink that reads the file itself at End (a container opened there, a
	// .tar.gz unpacked and searched) moves progress through it as it reads (endReader).
	var er *endReader
	if rest := j.file.Size - off; rest > 0 {
		if j.file.Data != nil && len(sinks) > 0 {
			er = &endReader{r: j.file.Data, size: j.file.Size, held: rest, progress: progress}
			j.file.Data = er
		} else {
			progress(rest)
		}
	}
	defer func() {
		if er != nil {
			er.release()
		}
	}()
	for _, a := range sinks {
		if err := a.sink.End(); err != nil && !a.failed {
			a.failed = true
			p.addErr(j.fs, FileError{Path: j.file.Path, Scanner: a.name, Error: err.Error()})
		}
		acc, ok := a.sink.(Accounted)
		switch {
		case ok:
			// an error recorded for a container names what inside it was not seen; the
			// container itself was still opened
			o := acc.Outcome()
			if a.failed && o != Opened {
				continue
			}
			reason := ReasonSkipped
			if ex, ok := a.sink.(Explained); ok && o == Skipped {
				reason = ex.Reason()
			}
			if o == Searched {
				reason = ""
				if l, ok := a.sink.(Limited); ok {
					reason = l.Limit()
				}
			}
			p.account(j.fs, a.name, o, reason, j.file.Size)
		case a.failed:
		case a.got == j.file.Size:
			p.account(j.fs, a.name, Searched, "", j.file.Size)
		default:
			p.addErr(j.fs, FileError{Path: j.file.Path, Scanner: a.name,
				Error: fmt.Sprintf("the scanner stopped reading at byte %d of %d and did not account for the rest", a.got, j.file.Size)})
		}
	}
	return off
}

// Summary is a one-line description of a pass for reports.
func (s *Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d files (%d bytes) in %d filesystem(s), %d bytes read, in %s", s.Files, s.Bytes, s.Filesystems, s.BytesRead, s.Duration.Round(time.Millisecond))
	if s.Ledger != nil {
		var hidden, xattrs, links int64
		for _, f := range s.Ledger.Filesystems {
			hidden += f.Hidden
			xattrs += f.Xattrs
			links += f.Symlinks
		}
		if hidden > 0 {
			fmt.Fprintf(&b, "; %d file(s) under mount points (searched, named partition N:/path)", hidden)
		}
		if xattrs > 0 {
			fmt.Fprintf(&b, "; %d extended attribute(s)", xattrs)
		}
		if links > 0 {
			fmt.Fprintf(&b, "; %d symbolic link target(s)", links)
		}
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "; %d file(s) could not be read", len(s.Errors))
	}
	return b.String()
}

// endReader is a file's Data while its sinks end: each read moves the pass's progress by its
// share of the part the pass did not read (held × read ÷ size; reads beyond size in all move
// nothing more), so that progress goes on while a sink unpacks and searches a container at End
// instead of standing still until it is done. release counts what is left.
type endReader struct {
	r          io.ReaderAt
	size, held int64
	progress   func(int64)
	mu         sync.Mutex
	read, told int64
}

func (e *endReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if n > 0 {
		e.mu.Lock()
		e.read = min(e.size, e.read+int64(n))
		share := int64(float64(e.held) * float64(e.read) / float64(e.size))
		d := min(share, e.held) - e.told
		e.told += max(d, 0)
		e.mu.Unlock()
		if d > 0 {
			e.progress(d)
		}
	}
	return n, err
}

// release counts what the reads did not.
func (e *endReader) release() {
	e.mu.Lock()
	d := e.held - e.told
	e.told = e.held
	e.mu.Unlock()
	if d > 0 {
		e.progress(d)
	}
}
