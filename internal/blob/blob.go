// Package blob reads an Azure Storage blob (the VHD page blob an azure-arm build captures, or
// any blob behind a SAS URL) as an io.ReaderAt with HTTP range requests, so that the checker
// opens a 30-128 GiB disk in the cloud without downloading it.
//
// Reads go through a cache of fixed-size blocks (filesystem metadata is read many times in
// small pieces), sequential reads trigger read-ahead of the next blocks, concurrent requests are
// bounded, and every request is retried with backoff on 5xx, throttling, connection resets,
// stalls and short bodies, a bounded number of times. Every attempt has deadlines: one for the
// whole attempt and one for silence while its body streams, so a connection that stops sending
// fails the attempt instead of hanging the check. Requests and bytes are counted for the report.
package blob

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/marketready/packer-plugin-marketplace/internal/redact"
)

// Options tune the reader; zero values take the defaults.
type Options struct {
	BlockSize   int64 // bytes per range request and cache entry (default 1 MiB)
	CacheBlocks int   // blocks kept (default 256: 256 MiB at the default block size)
	ReadAhead   int   // blocks fetched ahead of a sequential reader (default 8)
	Parallel    int   // concurrent range requests (default 8)
	MaxRetries  int32 // per request (default 6)
	RetryDelay  time.Duration
	// TryTimeout bounds one attempt, headers and body (default 2 minutes); IdleTimeout bounds
	// the silence while a body streams (default 30 seconds).
	TryTimeout, IdleTimeout time.Duration
	// Transport replaces the HTTP client (tests put a fault-injecting proxy in front of it).
	Transport policy.Transporter
}

// Stats count what was asked of the service.
type Stats struct {
	Requests int64 // range GETs that returned data
	Retries  int64 // extra attempts made because of a short or failed body
	Bytes    int64 // bytes transferred
}

// Reader is an io.ReaderAt over a blob. It is safe for concurrent use.
type Reader struct {
	name   string
	client *blob.Client
	size   int64
	opts   Options
	ctx    context.Context

	sem chan struct{}

	mu       sync.Mutex
	blocks   map[int64]*block
	lru      *list.List // of *block, most recent first
	lastRead int64      // the block index of the last read, for read-ahead
	seqRun   int64      // how many reads in a row were of the next block

	requests, retries, bytes atomic.Int64
}

type block struct {
	idx   int64
	data  []byte
	err   error
	ready chan struct{}
	elem  *list.Element
}

// IsURL reports whether s names a blob rather than a local file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// Redact hides a URL's query (a SAS token is a credential) and any password in it, for
// messages and reports.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "<SAS redacted>"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	return strings.Replace(u.String(), "%3CSAS%20redacted%3E", "<SAS redacted>", 1)
}

// Open connects to the blob at rawURL: with the SAS token in its query when there is one, else
// with azidentity's default credential chain (environment, workload identity, managed identity,
// Azure CLI). It reads the blob's size with one HEAD request.
func Open(ctx context.Context, rawURL string, opts Options) (*Reader, error) {
	if opts.BlockSize <= 0 {
		opts.BlockSize = 1 << 20
	}
	if opts.CacheBlocks <= 0 {
		opts.CacheBlocks = 256
	}
	if opts.ReadAhead < 0 {
		opts.ReadAhead = 0
	} else if opts.ReadAhead == 0 {
		opts.ReadAhead = 8
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 6
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 200 * time.Millisecond
	}
	if opts.TryTimeout <= 0 {
		opts.TryTimeout = 2 * time.Minute
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Second
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: not a blob URL", Redact(rawURL))
	}
	// the SDK does not retry: fetch and properties do, a bounded number of times (retries
	// inside retries made a 5xx blob take minutes to fail)
	copts := &blob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: -1, TryTimeout: opts.TryTimeout},
	}}
	if opts.Transport != nil {
		copts.Transport = opts.Transport
	}
	var c *blob.Client
	if u.Query().Get("sig") != "" {
		c, err = blob.NewClientWithNoCredential(rawURL, copts)
	} else {
		cred, cerr := azidentity.NewDefaultAzureCredential(nil)
		if cerr != nil {
			return nil, fmt.Errorf("%s has no SAS token and no Azure credential is available: %w", Redact(rawURL), cerr)
		}
		c, err = blob.NewClient(rawURL, cred, copts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Redact(rawURL), err)
	}
	r := &Reader{name: Redact(rawURL), client: c, opts: opts, ctx: ctx,
		sem: make(chan struct{}, opts.Parallel), blocks: map[int64]*block{}, lru: list.New(), lastRead: -2}
	var size *int64
	err = r.retry(func(actx context.Context, _ func()) error {
		props, err := c.GetProperties(actx, nil)
		if err == nil {
			size = props.ContentLength
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: reading the blob's properties: %w", r.name, err)
	}
	if size == nil {
		return nil, fmt.Errorf("%s: the service did not say how large the blob is", r.name)
	}
	r.size = *size
	return r, nil
}

// retry runs one request up to MaxRetries+1 times with backoff, each attempt under its own
// TryTimeout; attempt gets the attempt's context and a function to call whenever bytes
// arrive, which holds off the IdleTimeout. Errors that another attempt cannot mend (a 403,
// a 404) end it at once. The error returned names the last failure, never the URL's query.
func (r *Reader) retry(attempt func(ctx context.Context, alive func()) error) error {
	var last error
	delay := r.opts.RetryDelay
	for n := int32(0); n <= r.opts.MaxRetries; n++ {
		if n > 0 {
			r.retries.Add(1)
			select {
			case <-time.After(delay):
			case <-r.ctx.Done():
				return r.ctx.Err()
			}
			delay = min(2*delay, 5*time.Second)
		}
		actx, cancel := context.WithTimeout(r.ctx, r.opts.TryTimeout)
		var stalled atomic.Bool
		idle := time.AfterFunc(r.opts.IdleTimeout, func() { stalled.Store(true); cancel() })
		err := attempt(actx, func() { idle.Reset(r.opts.IdleTimeout) })
		idle.Stop()
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		if err == nil {
			return nil
		}
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		switch {
		case stalled.Load():
			last = fmt.Errorf("no data for %s", r.opts.IdleTimeout)
		case timedOut:
			last = fmt.Errorf("no complete answer within %s", r.opts.TryTimeout)
		default:
			last = describe(err)
		}
		if !retryable(err) {
			return last
		}
	}
	return fmt.Errorf("failed after %d attempts: %w", r.opts.MaxRetries+1, last)
}

// retryable: a throttled, failed or timed-out request may succeed when tried again; an
// answer such as 403 or 404 will not change.
func retryable(err error) bool {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case 408, 429, 500, 502, 503, 504:
			return true
		}
		return false
	}
	// nothing listens there: trying again in a few seconds will not change that
	return !errors.Is(err, syscall.ECONNREFUSED)
}

// describe shortens the SDK's multi-line response errors to their status and code, and keeps
// the URL (whose query holds the SAS signature) out of transport errors.
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d %s", re.StatusCode, re.ErrorCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, Redact(ue.URL), ue.Err)
	}
	return errors.New(redact.Text(err.Error()))
}

// Name is the blob's URL without its SAS token.
func (r *Reader) Name() string { return r.name }

// Size is the blob's length in bytes.
func (r *Reader) Size() int64 { return r.size }

// Stats returns the request counters.
func (r *Reader) Stats() Stats {
	return Stats{Requests: r.requests.Load(), Retries: r.retries.Load(), Bytes: r.bytes.Load()}
}

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", r.name, off)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		idx := pos / r.opts.BlockSize
		b, err := r.block(idx)
		if err != nil {
			return n, err
		}
		start := int(pos - idx*r.opts.BlockSize)
		if start >= len(b) {
			return n, io.ErrUnexpectedEOF
		}
		n += copy(p[n:], b[start:])
	}
	return n, nil
}

// block returns block idx, fetching it if needed. A reader that goes on sequentially gets the
// next blocks fetched ahead, more of them the longer its run (1, 2, ... ReadAhead), so that small
// files read whole do not pull in blocks nobody asked for.
func (r *Reader) block(idx int64) ([]byte, error) {
	r.mu.Lock()
	switch idx {
	case r.lastRead + 1:
		r.seqRun++
	case r.lastRead:
	default:
		r.seqRun = 0
	}
	sequential := idx == r.lastRead+1
	r.lastRead = idx
	b, ok := r.blocks[idx]
	if ok {
		r.lru.MoveToFront(b.elem)
	} else {
		b = r.startLocked(idx)
	}
	if sequential {
		for a := int64(1); a <= min(int64(r.opts.ReadAhead), r.seqRun); a++ {
			next := idx + a
			if next*r.opts.BlockSize >= r.size {
				break
			}
			if _, ok := r.blocks[next]; !ok {
				r.startLocked(next)
			}
		}
	}
	r.mu.Unlock()
	<-b.ready
	if b.err != nil {
		r.mu.Lock()
		if r.blocks[idx] == b {
			delete(r.blocks, idx)
			r.lru.Remove(b.elem)
		}
		r.mu.Unlock()
	}
	return b.data, b.err
}

// startLocked registers block idx and fetches it in the background; r.mu is held.
func (r *Reader) startLocked(idx int64) *block {
	b := &block{idx: idx, ready: make(chan struct{})}
	b.elem = r.lru.PushFront(b)
	r.blocks[idx] = b
	for r.lru.Len() > r.opts.CacheBlocks {
		old := r.lru.Back().Value.(*block)
		r.lru.Remove(old.elem)
		delete(r.blocks, old.idx)
	}
	go func() {
		defer close(b.ready)
		r.sem <- struct{}{}
		defer func() { <-r.sem }()
		b.data, b.err = r.fetch(idx)
	}()
	return b
}

// fetch downloads one block, retrying a body that fails or comes back short (the SDK retries
// failed requests; a connection cut while the body streams is seen here).
func (r *Reader) fetch(idx int64) ([]byte, error) {
	off := idx * r.opts.BlockSize
	count := min(r.opts.BlockSize, r.size-off)
	buf := make([]byte, count)
	err := r.retry(func(ctx context.Context, alive func()) error {
		resp, err := r.client.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: count}})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		n, err := io.ReadFull(aliveReader{resp.Body, alive}, buf)
		r.requests.Add(1)
		r.bytes.Add(int64(n))
		if err != nil {
			return fmt.Errorf("short body: %d of %d bytes: %w", n, count, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: reading bytes %d-%d: %w", r.name, off, off+count-1, err)
	}
	return buf, nil
}

// aliveReader calls alive whenever a read returns bytes.
type aliveReader struct {
	r     io.Reader
	alive func()
}

func (a aliveReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.alive()
	}
	return n, err
}

// Close releases nothing the caller must wait for; it exists so that a Reader is an io.Closer.
func (r *Reader) Close() error { return nil }
