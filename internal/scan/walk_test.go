package scan_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// part is one partition of a test disk: an ext4 filesystem made from a tree.
type part struct {
	uuid  string
	files map[string]string
	// xattrs are user attributes set on the tree's files before mke2fs -d copies them
	xattrs map[string][2]string
	links  map[string]string // hard links: new path → existing path
}

// multiDisk makes an MBR disk whose partitions hold real ext4 filesystems (mke2fs -d), 16 MiB
// each from 1 MiB on, in order.
func multiDisk(t *testing.T, parts ...part) string {
	t.Helper()
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.raw")
	script := "label: dos\n"
	var imgs []string
	for i, p := range parts {
		tree := filepath.Join(dir, fmt.Sprintf("tree%d", i))
		for path, content := range p.files {
			full := filepath.Join(tree, filepath.FromSlash(strings.TrimPrefix(path, "/")))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(tree, 0o755); err != nil {
			t.Fatal(err)
		}
		for path, old := range p.links {
			if err := os.Link(filepath.Join(tree, old), filepath.Join(tree, path)); err != nil {
				t.Fatal(err)
			}
		}
		for path, x := range p.xattrs {
			if err := syscall.Setxattr(filepath.Join(tree, filepath.FromSlash(strings.TrimPrefix(path, "/"))), x[0], []byte(x[1]), 0); err != nil {
				t.Fatalf("setxattr %s %s: %v", path, x[0], err)
			}
		}
		imgs = append(imgs, testfixture.Filesystem(t, "ext4", tree, "16M", "-U", p.uuid, "-b", "4096"))
		script += fmt.Sprintf("start=%dMiB, size=16MiB, type=83\n", 1+16*i)
	}
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, int64(2+16*len(parts))<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sfdisk", "-q", disk)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	cmd.Stdin = strings.NewReader(script)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, b)
	}
	for i, img := range imgs {
		if b, err := exec.Command("dd", "if="+img, "of="+disk, "bs=1M", fmt.Sprintf("seek=%d", 1+16*i), "conv=notrunc", "status=none").CombinedOutput(); err != nil {
			t.Fatalf("dd: %v\n%s", err, b)
		}
	}
	return disk
}

const (
	rootUUID = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	bootUUID = "4b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
	docUUID  = "5c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f"
)

// threeParts is a root, a /boot and a /usr/share/doc partition; the root keeps files of its own
// under both mount points, and carries a user attribute.
func threeParts(t *testing.T) string {
	return multiDisk(t,
		part{uuid: rootUUID, files: map[string]string{
			"/etc/fstab":             "UUID=" + rootUUID + " / ext4 defaults 0 1\nUUID=" + bootUUID + " /boot ext4 defaults 0 2\nUUID=" + docUUID + " /usr/share/doc ext4 defaults 0 2\n",
			"/etc/app.conf":          "x=1\n",
			"/boot/creds.ini":        "hidden under /boot\n",
			"/usr/share/doc/old.txt": "hidden under /usr/share/doc\n",
			"/bootstrap.txt":         "beside /boot, not under it\n",
		}, xattrs: map[string][2]string{"/etc/app.conf": {"user.note", "attribute value"}, "/etc": {"user.dir", "on a directory"}},
			links: map[string]string{"/etc/app.conf.link": "/etc/app.conf"}},
		part{uuid: bootUUID, files: map[string]string{"/grub/grub.cfg": "set timeout=1\n"}},
		part{uuid: docUUID, files: map[string]string{"/pkg/README": "docs\n"}},
	)
}

// recorder keeps every file it is given (Path, Location, and for attributes their name); with
// outcome set its sinks say what they did.
type recorder struct {
	name    string
	mu      sync.Mutex
	files   map[string]scan.File
	outcome func(f *scan.File) (scan.Outcome, string, bool) // outcome, reason, accounted
	stopAt  int64                                           // with > 0, ErrEnough after that many bytes
	decline func(f *scan.File) bool
}

func (r *recorder) Name() string                    { return r.name }
func (r *recorder) NewWorker() (scan.Worker, error) { return r, nil }
func (r *recorder) Close() error                    { return nil }
func (r *recorder) Begin(f *scan.File) (scan.Sink, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.files[f.Path]; dup {
		panic("seen twice: " + f.Path)
	}
	r.files[f.Path] = *f
	if r.decline != nil && r.decline(f) {
		return nil, nil
	}
	s := &recSink{r: r, f: f}
	if r.outcome != nil {
		if o, reason, ok := r.outcome(f); ok {
			return &accSink{recSink: s, o: o, reason: reason}, nil
		}
	}
	return s, nil
}

type recSink struct {
	r *recorder
	f *scan.File
	n int64
}

func (s *recSink) Write(p []byte) error {
	s.n += int64(len(p))
	if s.r.stopAt > 0 && s.n >= s.r.stopAt {
		return scan.ErrEnough
	}
	return nil
}
func (s *recSink) End() error { return nil }

type accSink struct {
	*recSink
	o      scan.Outcome
	reason string
}

func (s *accSink) Outcome() scan.Outcome { return s.o }
func (s *accSink) Reason() string        { return s.reason }

func newRecorder(name string) *recorder { return &recorder{name: name, files: map[string]scan.File{}} }

// Every filesystem is walked alone: the root's own files under the mount points are searched,
// named by their partition; the mounted partitions' files are named by their mount path, with
// their own location for the allow lists; attributes go to the scanners that asked for them.
func TestEveryFilesystemAlone(t *testing.T) {
	img, err := inspect.Open(threeParts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if len(img.Mounts) != 2 {
		t.Fatalf("mounts %+v", img.Mounts)
	}
	secrets, other := newRecorder("secrets"), newRecorder("other")
	st, err := scan.Run(context.Background(), img, scan.Options{Xattrs: []string{"secrets"}}, secrets, other)
	if err != nil || len(st.Errors) > 0 {
		t.Fatalf("%v %v", err, st.Errors)
	}
	want := map[string]string{ // Path → Location
		"/etc/app.conf":                      "/etc/app.conf",
		"partition 1:/boot/creds.ini":        "/boot/creds.ini",
		"partition 1:/usr/share/doc/old.txt": "/usr/share/doc/old.txt",
		"/boot/grub/grub.cfg":                "partition 2:/grub/grub.cfg",
		"/usr/share/doc/pkg/README":          "partition 3:/pkg/README",
		"/etc/app.conf [xattr user.note]":    "/etc/app.conf [xattr user.note]",
	}
	for p, loc := range want {
		f, ok := secrets.files[p]
		if !ok {
			t.Errorf("%s was not given to the scanner", p)
			continue
		}
		if f.Location != loc {
			t.Errorf("%s: location %q, want %q", p, f.Location, loc)
		}
	}
	if f := secrets.files["/etc/app.conf [xattr user.note]"]; f.Xattr != "user.note" || f.Size != int64(len("attribute value")) {
		t.Errorf("attribute: %+v", f)
	}
	attrs := 0
	for p := range secrets.files {
		if strings.Contains(p, "[xattr") {
			attrs++ // once per inode, not per hard link
		}
	}
	if attrs != 2 {
		t.Errorf("%d attributes given, want 2", attrs)
	}
	for p := range other.files {
		if strings.Contains(p, "[xattr") {
			t.Errorf("%s given to a scanner that does not search attributes", p)
		}
	}
	if len(other.files) != len(secrets.files)-2 {
		t.Errorf("files %d, with attributes %d", len(other.files), len(secrets.files))
	}
	if len(st.Ledger.Filesystems) != 3 {
		t.Fatalf("ledger %+v", st.Ledger.Filesystems)
	}
	root := st.Ledger.Filesystems[0]
	if root.Hidden != 2 || root.Xattrs != 2 || !strings.Contains(root.Name, "root filesystem") {
		t.Errorf("root ledger %+v", root)
	}
	if boot := st.Ledger.Filesystems[1]; boot.MountedAt != "/boot" || boot.Partition != 2 || boot.Hidden != 0 {
		t.Errorf("boot ledger %+v", boot)
	}
	tot := st.Ledger.Totals("secrets")
	if tot.Searched.Files != st.Files+2 || tot.Unseen != 0 {
		t.Errorf("secrets totals %+v (files %d)", tot, st.Files)
	}
}

// What each sink did is in the ledger: searched, opened, skipped with its reason, declined; a
// sink that stops early without accounting for the rest leaves the file unseen, so the
// scanner's Missed count (what makes a rule an error) is not zero; the ledger's unseen counts
// add up to Missed.
func TestLedgerOutcomes(t *testing.T) {
	img, err := inspect.Open(threeParts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	acc := newRecorder("acc")
	acc.outcome = func(f *scan.File) (scan.Outcome, string, bool) {
		switch {
		case strings.HasSuffix(f.Path, "grub.cfg"):
			return scan.Opened, "", true
		case strings.HasSuffix(f.Path, "README"):
			return scan.Skipped, "unchanged distribution file", true
		case strings.HasSuffix(f.Path, "fstab"):
			return 0, "", false // not accounted, read whole: searched
		}
		return scan.Searched, "", true
	}
	acc.decline = func(f *scan.File) bool { return strings.HasSuffix(f.Path, "creds.ini") }
	early := newRecorder("early")
	early.stopAt = 3
	// reads of 2 bytes: a sink that stops after 3 has taken 4, the whole of a file of 4 or less
	st, err := scan.Run(context.Background(), img, scan.Options{FirstChunk: 2, Chunk: 2}, acc, early)
	if err != nil {
		t.Fatal(err)
	}
	a := st.Ledger.Totals("acc")
	if a.Opened.Files != 1 || a.Unseen != 0 || len(a.Skipped) != 2 || a.Searched.Files != st.Files-3 {
		t.Errorf("acc totals %+v (files %d)", a, st.Files)
	}
	for _, s := range a.Skipped {
		if s.Reason != "unchanged distribution file" && s.Reason != scan.ReasonDeclined || s.Files != 1 {
			t.Errorf("skipped %+v", s)
		}
	}
	if n, _ := st.Missed("acc"); n != 0 {
		t.Errorf("acc missed %d", n)
	}
	e := st.Ledger.Totals("early")
	n, ex := st.Missed("early")
	// every file longer than 4 bytes was stopped early: unseen
	long := 0
	for _, f := range early.files {
		if f.Size > 4 {
			long++
		}
	}
	if long == 0 || e.Unseen != int64(long) || n != e.Unseen || len(ex) == 0 || !strings.Contains(ex[0].Error, "did not account for the rest") {
		t.Errorf("early: ledger unseen %d, missed %d, long files %d: %v", e.Unseen, n, long, ex)
	}
	// the sum over filesystems is what Missed says, for every scanner
	for _, name := range []string{"acc", "early"} {
		var sum int64
		for _, f := range st.Ledger.Filesystems {
			for _, tl := range f.Scanners {
				if tl.Scanner == name {
					sum += tl.Unseen
				}
			}
		}
		if n, _ := st.Missed(name); n != sum {
			t.Errorf("%s: ledger unseen %d, Missed %d", name, sum, n)
		}
	}
}

// A partition that cannot be read is a ledger entry of its own, unseen by every scanner.
func TestUnreadPartitionInLedger(t *testing.T) {
	disk := threeParts(t)
	// overwrite the third partition's start with a LUKS header magic
	f, err := os.OpenFile(disk, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(append([]byte("LUKS\xba\xbe\x00\x01"), make([]byte, 4096)...), 33<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	img, err := inspect.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r := newRecorder("secrets")
	st, err := scan.Run(context.Background(), img, scan.Options{}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Unread) != 1 {
		t.Fatalf("unread %+v", img.Unread)
	}
	fl := st.Ledger.Filesystems[0]
	if fl.Unread == "" || fl.Partition != 3 || fl.Scanners[0].Unseen != 1 {
		t.Errorf("ledger %+v", fl)
	}
	if n, _ := st.Missed("secrets"); n != 1 {
		t.Errorf("missed %d", n)
	}
}

// progressSink notes, at every Write of the big file, how far the pass's progress had got.
type progressSink struct {
	mu   sync.Mutex
	now  func() int64
	seen []int64
}

func (p *progressSink) Name() string                    { return "progress" }
func (p *progressSink) NewWorker() (scan.Worker, error) { return p, nil }
func (p *progressSink) Close() error                    { return nil }
func (p *progressSink) Begin(f *scan.File) (scan.Sink, error) {
	if !strings.HasSuffix(f.Path, "big.log") {
		return nil, nil
	}
	return p, nil
}
func (p *progressSink) Write([]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, p.now())
	return nil
}
func (p *progressSink) End() error { return nil }

// Progress moves with every chunk read, not once a file is finished: a large file that takes
// minutes to search does not freeze it.
func TestProgressMovesWithinAFile(t *testing.T) {
	img, err := inspect.Open(multiDisk(t, part{uuid: rootUUID, files: map[string]string{
		"/etc/fstab":   "UUID=" + rootUUID + " / ext4 defaults 0 1\n",
		"/var/big.log": strings.Repeat("a line of an application log\n", 20000),
	}}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var mu sync.Mutex
	var done, total int64
	ps := &progressSink{now: func() int64 { mu.Lock(); defer mu.Unlock(); return done }}
	st, err := scan.Run(context.Background(), img, scan.Options{Workers: 1, FirstChunk: 4096, Chunk: 64 << 10, Progress: func(d, tot int64) {
		mu.Lock()
		done, total = max(done, d), tot
		mu.Unlock()
	}}, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.seen) < 9 {
		t.Fatalf("%d writes", len(ps.seen))
	}
	for i := 1; i < len(ps.seen); i++ {
		if ps.seen[i] <= ps.seen[i-1] {
			t.Fatalf("progress did not move between chunks %d and %d of one file: %v", i-1, i, ps.seen)
		}
	}
	if done != total || total != st.Bytes {
		t.Errorf("progress ended at %d of %d (bytes %d)", done, total, st.Bytes)
	}
}

// holeSink counts what it is written and what it is told are holes.
type holeSink struct {
	mu            sync.Mutex
	written, hole int64
	plain         bool // a sink that wants the zeros themselves
}

func (h *holeSink) Name() string {
	if h.plain {
		return "plain"
	}
	return "holes"
}
func (h *holeSink) NewWorker() (scan.Worker, error) { return h, nil }
func (h *holeSink) Close() error                    { return nil }
func (h *holeSink) Begin(f *scan.File) (scan.Sink, error) {
	if !strings.HasSuffix(f.Path, "sparse.img") {
		return nil, nil
	}
	if h.plain {
		return plainSink{h}, nil
	}
	return h, nil
}
func (h *holeSink) Write(p []byte) error {
	h.mu.Lock()
	h.written += int64(len(p))
	h.mu.Unlock()
	return nil
}
func (h *holeSink) Hole(n int64) error { h.mu.Lock(); h.hole += n; h.mu.Unlock(); return nil }
func (h *holeSink) End() error         { return nil }

type plainSink struct{ h *holeSink }

func (p plainSink) Write(b []byte) error { return p.h.Write(b) }
func (p plainSink) End() error           { return nil }

// The holes of a sparse file are told to sinks that take holes, not read: a 256 MiB file with
// two written blocks costs those blocks; the ledger counts it searched whole. A sink that wants
// the zeros gets them, and then nobody skips.
func TestSparseHolesAreToldNotRead(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "var", "sparse.img")
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(full)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("head\n"), 0)
	f.WriteAt([]byte("tail\n"), 200<<20)
	f.Truncate(256 << 20)
	f.Close()
	img := testfixture.Filesystem(t, "ext4", dir, "16M", "-b", "4096")
	disk, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	h := &holeSink{}
	st, err := scan.Run(context.Background(), disk, scan.Options{}, h)
	if err != nil || len(st.Errors) > 0 {
		t.Fatalf("%v %v", err, st.Errors)
	}
	if h.written > 4<<20 || h.written+h.hole != 256<<20 {
		t.Errorf("written %d, holes %d, of %d", h.written, h.hole, 256<<20)
	}
	if tot := st.Ledger.Totals("holes"); tot.Searched.Files == 0 || tot.Unseen != 0 {
		t.Errorf("ledger %+v", tot)
	}
	h2, plain := &holeSink{}, &holeSink{plain: true}
	if _, err := scan.Run(context.Background(), disk, scan.Options{}, h2, plain); err != nil {
		t.Fatal(err)
	}
	if plain.written != 256<<20 || h2.written != 256<<20 || h2.hole != 0 {
		t.Errorf("with a sink that wants zeros: %d and %d written, %d holes", plain.written, h2.written, h2.hole)
	}
}
