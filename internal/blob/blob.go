// Package blob reads an Azure Storage blob (the VHD page blob an azure-arm build captures, or
// any blob behind a SAS URL) as an io.ReaderAt with HTTP range requests, so that the checker
// opens a 30-128 GiB disk in the cloud without downloading it.
//
// Reads go through a cache of fixed-size blocks (filesystem metadata is read many times in
// small pieces), sequential reads trigger read-ahead of the next blocks, concurrent requests are
// bounded, and every request is retried with backoff on 5xx, throttling, connection resets and
// short bodies (the SDK's retry policy, plus a check of the body length). Requests and bytes
// are counted for the report.
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
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// Options tune the reader; zero values take the defaults.
type Options struct {
	BlockSize   int64 // bytes per range request and cache entry (default 1 MiB)
	CacheBlocks int   // blocks kept (default 256: 256 MiB at the default block size)
	ReadAhead   int   // blocks fetched ahead of a sequential reader (default 8)
	Parallel    int   // concurrent range requests (default 8)
	MaxRetries  int32 // per request (default 6)
	RetryDelay  time.Duration
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

// Redact hides a URL's query (a SAS token is a credential) for messages and reports.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "<SAS redacted>"
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
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: not a blob URL", Redact(rawURL))
	}
	copts := &blob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: opts.MaxRetries, RetryDelay: opts.RetryDelay, MaxRetryDelay: 10 * time.Second, TryTimeout: 2 * time.Minute},
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
	props, err := c.GetProperties(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the blob's properties: %w", Redact(rawURL), describe(err))
	}
	if props.ContentLength == nil {
		return nil, fmt.Errorf("%s: the service did not say how large the blob is", Redact(rawURL))
	}
	r := &Reader{name: Redact(rawURL), client: c, size: *props.ContentLength, opts: opts, ctx: ctx,
		sem: make(chan struct{}, opts.Parallel), blocks: map[int64]*block{}, lru: list.New(), lastRead: -2}
	return r, nil
}

// describe shortens the SDK's multi-line response errors to their status and code.
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d %s", re.StatusCode, re.ErrorCode)
	}
	return err
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
	var last error
	delay := r.opts.RetryDelay
	for attempt := int32(0); attempt <= r.opts.MaxRetries; attempt++ {
		if attempt > 0 {
			r.retries.Add(1)
			select {
			case <-time.After(delay):
			case <-r.ctx.Done():
				return nil, r.ctx.Err()
			}
			delay = min(2*delay, 10*time.Second)
		}
		resp, err := r.client.DownloadStream(r.ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: count}})
		if err != nil {
			last = describe(err)
			continue
		}
		buf := make([]byte, count)
		n, err := io.ReadFull(resp.Body, buf)
		resp.Body.Close()
		r.requests.Add(1)
		r.bytes.Add(int64(n))
		if err != nil {
			last = fmt.Errorf("short body: %d of %d bytes: %w", n, count, err)
			continue
		}
		return buf, nil
	}
	return nil, fmt.Errorf("%s: reading bytes %d-%d failed after %d attempts: %w", r.name, off, off+count-1, r.opts.MaxRetries+1, last)
}

// Close releases nothing the caller must wait for; it exists so that a Reader is an io.Closer.
func (r *Reader) Close() error { return nil }
