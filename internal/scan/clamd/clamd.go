// Package clamd streams the files of an image to a running ClamAV daemon (clamd) with the
// INSTREAM command, one connection per scan worker held open with IDSESSION, and collects what
// clamd finds. Files larger than clamd's StreamMaxLength are not sent (clamd would refuse them);
// they are counted so that the report can say what was not scanned.
package clamd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Detection is one infected file.
type Detection struct {
	Path      string `json:"path"`
	Signature string `json:"signature"`
}

// DefaultMaxStream is clamd's default StreamMaxLength (25 MiB).
const DefaultMaxStream = 25 << 20

// Scanner sends every file to clamd; it is a scan.Scanner.
type Scanner struct {
	network, address string
	maxStream        int64
	timeout          time.Duration
	version          string

	mu        sync.Mutex
	found     []Detection
	scanned   int64
	oversized []string
	// failures counts the failed files since the last good one; broken, once set, is why the
	// scanner gave up (clamd stopped answering): every later file fails at once with it,
	// instead of costing a timeout each
	failures int
	broken   error
}

// DefaultTimeout bounds each exchange with clamd (a write, or the wait for a verdict).
const DefaultTimeout = time.Minute

// maxFailures is how many files in a row may fail before the scanner stops trying clamd.
const maxFailures = 5

// Address is where clamd listens, parsed.
type Address struct {
	Network string // "unix" or "tcp"
	Addr    string // the socket path, or host:port
}

func (a Address) String() string { return a.Network + "://" + a.Addr }

// ParseAddress reads "unix:///run/clamav/clamd.ctl", "tcp://host:3310", a socket path or
// "host:port".
func ParseAddress(addr string) (Address, error) {
	switch {
	case strings.HasPrefix(addr, "unix://") && len(addr) > len("unix://"):
		return Address{"unix", strings.TrimPrefix(addr, "unix://")}, nil
	case strings.HasPrefix(addr, "tcp://") && len(addr) > len("tcp://"):
		return Address{"tcp", strings.TrimPrefix(addr, "tcp://")}, nil
	case strings.HasPrefix(addr, "/"):
		return Address{"unix", addr}, nil
	case strings.Contains(addr, ":") && !strings.Contains(addr, "://"):
		return Address{"tcp", addr}, nil
	}
	return Address{}, fmt.Errorf("clamd address %q: want unix:///path/to/clamd.ctl, tcp://host:port, a socket path or host:port", addr)
}

// New parses addr and connects (see Connect) with the default timeout.
func New(addr string, maxStream int64) (*Scanner, error) {
	a, err := ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	return Connect(a, maxStream, DefaultTimeout)
}

// Connect connects once to check that clamd answers (PING, VERSION), so that an unreachable or
// wrong address fails before the pass starts. maxStream is clamd's StreamMaxLength (0: 25 MiB);
// timeout bounds each exchange with clamd (0: DefaultTimeout).
func Connect(a Address, maxStream int64, timeout time.Duration) (*Scanner, error) {
	network, address := a.Network, a.Addr
	addr := a.String()
	if maxStream <= 0 {
		maxStream = DefaultMaxStream
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s := &Scanner{network: network, address: address, maxStream: maxStream, timeout: timeout}
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if reply, err := c.command("PING"); err != nil || reply != "PONG" {
		return nil, fmt.Errorf("clamd at %s does not answer PING (got %q): %v", addr, reply, err)
	}
	c2, err := s.dial()
	if err != nil {
		return nil, err
	}
	defer c2.Close()
	if v, err := c2.command("VERSION"); err == nil {
		s.version = v
	}
	return s, nil
}

// Version is what clamd said of itself ("ClamAV 1.0.7/27000/...").
func (s *Scanner) Version() string { return s.version }

// Detections are the infected files, by path.
func (s *Scanner) Detections() []Detection {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Detection(nil), s.found...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Counts are the files sent to clamd and those too large to send.
func (s *Scanner) Counts() (scanned int64, oversized []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scanned, append([]string(nil), s.oversized...)
}

// Name implements scan.Scanner.
func (s *Scanner) Name() string { return "clamd" }

// NewWorker opens this worker's clamd session.
func (s *Scanner) NewWorker() (scan.Worker, error) {
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	if err := c.send("IDSESSION"); err != nil {
		c.Close()
		return nil, err
	}
	return &worker{s: s, c: c}, nil
}

type conn struct {
	net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

func (s *Scanner) dial() (*conn, error) {
	c, err := net.DialTimeout(s.network, s.address, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("clamd is unreachable at %s %s: %w (is clamd running, and is clamd_address right?)", s.network, s.address, err)
	}
	return &conn{Conn: c, r: bufio.NewReader(c), timeout: s.timeout}, nil
}

// send writes a NUL-terminated ("z"-prefixed) command.
func (c *conn) send(cmd string) error {
	c.SetDeadline(time.Now().Add(c.timeout))
	_, err := c.Write([]byte("z" + cmd + "\x00"))
	return err
}

// reply reads one NUL-terminated reply.
func (c *conn) reply() (string, error) {
	c.SetDeadline(time.Now().Add(c.timeout))
	s, err := c.r.ReadString(0)
	if err != nil {
		return "", fmt.Errorf("reading clamd's reply: %w", err)
	}
	return strings.TrimSuffix(s, "\x00"), nil
}

func (c *conn) command(cmd string) (string, error) {
	if err := c.send(cmd); err != nil {
		return "", err
	}
	return c.reply()
}

type worker struct {
	s  *Scanner
	c  *conn
	id int
}

func (w *worker) Close() error {
	if w.c == nil {
		return nil
	}
	w.c.send("END")
	return w.c.Close()
}

// failed records a file clamd did not scan; after a timeout, or maxFailures files in a row,
// the scanner gives up on clamd. It returns err.
func (s *Scanner) failed(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures++
	var ne net.Error
	if s.broken == nil && (s.failures >= maxFailures || errors.As(err, &ne) && ne.Timeout()) {
		s.broken = err
	}
	return err
}

func (s *Scanner) gaveUp() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return fmt.Errorf("not scanned: clamd stopped answering earlier in the pass (%v)", s.broken)
	}
	return nil
}

// Begin starts an INSTREAM for the file, reconnecting if clamd ended the session.
func (w *worker) Begin(f *scan.File) (scan.Sink, error) {
	if f.Size > w.s.maxStream {
		w.s.mu.Lock()
		w.s.oversized = append(w.s.oversized, f.Path)
		w.s.mu.Unlock()
		return nil, nil
	}
	if err := w.s.gaveUp(); err != nil {
		return nil, err
	}
	if w.c == nil {
		nw, err := w.s.NewWorker()
		if err != nil {
			return nil, w.s.failed(err)
		}
		*w = *nw.(*worker)
	}
	if err := w.c.send("INSTREAM"); err != nil {
		w.drop()
		return nil, w.s.failed(err)
	}
	w.id++
	return &sink{w: w, f: f}, nil
}

// drop forgets a broken session; the next file opens a new one.
func (w *worker) drop() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
	w.id = 0
}

type sink struct {
	w      *worker
	f      *scan.File
	failed error
}

// maxChunk bounds one INSTREAM chunk (clamd reads them into a buffer of this order).
const maxChunk = 1 << 20

func (k *sink) Write(p []byte) error {
	for len(p) > 0 && k.failed == nil {
		n := min(len(p), maxChunk)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(n))
		k.w.c.SetDeadline(time.Now().Add(k.w.c.timeout))
		if _, err := k.w.c.Write(append(hdr[:], p[:n]...)); err != nil {
			k.failed = err
		}
		p = p[n:]
	}
	return k.failed
}

func (k *sink) End() error {
	w := k.w
	if k.failed == nil {
		_, k.failed = w.c.Write([]byte{0, 0, 0, 0})
	}
	if k.failed != nil {
		w.drop()
		return w.s.failed(fmt.Errorf("streaming to clamd: %w", k.failed))
	}
	reply, err := w.c.reply()
	if err != nil {
		w.drop()
		return w.s.failed(err)
	}
	// in a session, replies are "<id>: stream: OK" / "<id>: stream: <signature> FOUND"
	if _, rest, ok := strings.Cut(reply, ": "); ok && strings.HasPrefix(rest, "stream:") {
		reply = rest
	}
	result := strings.TrimSpace(strings.TrimPrefix(reply, "stream:"))
	w.s.mu.Lock()
	switch {
	case result == "OK":
		w.s.scanned++
		w.s.failures = 0
	case strings.HasSuffix(result, " FOUND"):
		w.s.scanned++
		w.s.failures = 0
		w.s.found = append(w.s.found, Detection{Path: k.f.Path, Signature: strings.TrimSuffix(result, " FOUND")})
	case strings.Contains(result, "size limit exceeded"):
		w.s.oversized = append(w.s.oversized, k.f.Path)
		w.drop()
	default:
		w.s.mu.Unlock()
		w.drop()
		// "... ERROR", or anything clamd is not known to say: the file was not scanned
		return w.s.failed(errors.New("clamd did not scan it: " + strings.TrimSpace(string(bytes.TrimSpace([]byte(result))))))
	}
	w.s.mu.Unlock()
	return nil
}
