// Package blob reads an Azure Storage blob (the VHD page blob an azure-arm build captures, or
// any blob behind a SAS URL) as an io.ReaderAt with HTTP range requests, so that the checker
// opens a 30-128 GiB disk in the cloud without downloading it.
//
// Reads go through a cache of small pages (filesystem metadata is read many times in small
// pieces). A read fetches only the pages it lacks, each contiguous run of them with one range
// request, so a small file costs a small request and a large one a few large ones; a read smaller
// than MinFetch is widened to MinFetch over the missing pages after it (metadata is read in
// neighbouring pieces). Concurrent requests are bounded, and every request is retried with
// backoff on 5xx, throttling, connection resets,
// stalls and short bodies, a bounded number of times. Every attempt has deadlines: one for the
// whole attempt and one for silence while its body streams, so a connection that stops sending
// fails the attempt instead of hanging the check. Requests and bytes are counted for the report.
//
// A caller that knows what it will read next (the content pass, the data of the files its
// workers open next) says so with Prefetch: the pages are fetched in the background, each run of
// missing pages with one request, so that many small files cost a few large concurrent requests
// instead of one round trip each. A prefetch is only a hint: its failure is never a read's error.
package blob

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	PageSize   int64 // the cache's unit (default 4 KiB)
	MinFetch   int64 // a smaller read is widened to this many bytes of missing pages after it (default 64 KiB)
	MaxFetch   int64 // the largest range one request asks for (default 4 MiB)
	CacheBytes int64 // pages kept (default 256 MiB)
	Parallel   int   // concurrent range requests (default 8)
	MaxRetries int32 // per request (default 6)
	RetryDelay time.Duration
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
	// ctx ends when the caller's context does or Close is called: every attempt and every
	// backoff waits on it
	ctx    context.Context
	cancel context.CancelFunc

	sem chan struct{}
	// fetches are the background fetches running; closed (under mu) stops new ones
	fetches sync.WaitGroup
	closed  bool

	mu       sync.Mutex
	pages    map[int64]*page
	lru      *list.List // of *page, most recent first
	maxPages int

	requests, retries, bytes atomic.Int64
	// prefetching is the bytes of prefetch fetches not finished yet (bounded by maxPrefetch)
	prefetching atomic.Int64
	// seq maps the page after a widened fetch to the widening it got (under mu), so that a
	// small read that begins there is read ahead further: metadata read in order
	seq map[int64]int64
}

// A small read that goes on where the last widened fetch ended is widened twice as far, up to
// maxSeqFetch; seq remembers at most maxSeqStreams such places.
const (
	maxSeqFetch   = 1 << 20
	maxSeqStreams = 64
)

// page is one PageSize piece of the blob, filled by the fetch that created it.
type page struct {
	idx  int64
	f    *fetch
	data []byte // set before f.ready closes, when f.err is nil
	elem *list.Element
}

// fetch is one range request filling a run of pages.
type fetch struct {
	ready chan struct{}
	err   error
	// prefetch: started by Prefetch, not by a read; a read that finds it failed asks again
	prefetch bool
}

// prefetchFailed is what readPages returns when a page it waited for was being fetched by a
// failed prefetch: the pages are forgotten, and ReadAt asks for them again itself, so that the
// error a read returns comes from a request made for it.
type prefetchFailed struct{ err error }

func (e *prefetchFailed) Error() string { return e.err.Error() }
func (e *prefetchFailed) Unwrap() error { return e.err }

// readTries bounds how many times ReadAt asks again for a chunk whose pages a failed prefetch
// held (a prefetch made again meanwhile could fail again).
const readTries = 3

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
	if opts.PageSize <= 0 {
		opts.PageSize = 4 << 10
	}
	if opts.MinFetch <= 0 {
		opts.MinFetch = 64 << 10
	}
	if opts.MaxFetch < opts.PageSize {
		opts.MaxFetch = max(4<<20, opts.PageSize)
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
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
	if u.Scheme == "http" && u.Query().Get("sig") != "" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: refusing a SAS URL over http://: its signature would travel in clear text; use https://", Redact(rawURL))
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
	rctx, cancel := context.WithCancel(ctx)
	r := &Reader{name: Redact(rawURL), client: c, opts: opts, ctx: rctx, cancel: cancel,
		sem: make(chan struct{}, opts.Parallel), pages: map[int64]*page{}, lru: list.New(), seq: map[int64]int64{},
		maxPages: int(max(opts.CacheBytes/opts.PageSize, 1))}
	var size *int64
	err = r.retry(func(actx context.Context, _ func()) error {
		props, err := c.GetProperties(actx, nil)
		if err == nil {
			size = props.ContentLength
		}
		return err
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: reading the blob's properties: %w", r.name, err)
	}
	if size == nil || *size < 0 {
		cancel()
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
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return r.ctx.Err()
			}
			delay = min(2*delay, 5*time.Second)
		}
		if err := r.ctx.Err(); err != nil {
			return err // cancelled, or closed: no new request
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
	var ae *answerError
	if errors.As(err, &ae) {
		return false // a server that answered another range will do so again
	}
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

// Parallel is how many range requests the reader makes at once.
func (r *Reader) Parallel() int { return r.opts.Parallel }

// Stats returns the request counters.
func (r *Reader) Stats() Stats {
	return Stats{Requests: r.requests.Load(), Retries: r.retries.Load(), Bytes: r.bytes.Load()}
}

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", r.name, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rest := r.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	n := 0
	tries := 0
	// one pass per at most MaxFetch bytes: a huge p never pins more than that many pages
	for n < len(want) {
		chunk := want[n:min(len(want), n+int(r.opts.MaxFetch))]
		got, err := r.readPages(chunk, off+int64(n))
		n += got
		if err != nil {
			var pf *prefetchFailed
			if errors.As(err, &pf) {
				if tries++; tries < readTries {
					continue // the failed prefetch's pages are forgotten: this read asks for them
				}
				err = pf.err
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readPages fills p (within the blob) from the cache, fetching the pages it lacks: each run of
// missing pages with one request, a read smaller than MinFetch widened over the missing pages
// that follow it.
func (r *Reader) readPages(p []byte, off int64) (int, error) {
	ps := r.opts.PageSize
	first, last := off/ps, (off+int64(len(p))-1)/ps
	lastPage := (r.size - 1) / ps
	need := make([]*page, 0, last-first+1)
	r.mu.Lock()
	var run []*page
	startRun := func() {
		if len(run) == 0 {
			return
		}
		r.startLocked(run)
		run = nil
	}
	for idx := first; idx <= last; idx++ {
		if pg, ok := r.pages[idx]; ok {
			r.lru.MoveToFront(pg.elem)
			need = append(need, pg)
			startRun()
			continue
		}
		pg := &page{idx: idx}
		run = append(run, pg)
		need = append(need, pg)
		if int64(len(run))*ps >= r.opts.MaxFetch {
			startRun()
		}
	}
	// widen a small read over the missing pages after it (neighbouring metadata); a read that
	// begins where an earlier widened fetch ended (an inode table read in order) gets twice
	// that fetch's widening, up to maxSeqFetch
	if len(run) > 0 && int64(len(p)) < r.opts.MinFetch {
		widen := r.opts.MinFetch
		if w, ok := r.seq[run[0].idx]; ok {
			widen = max(min(2*w, maxSeqFetch, r.opts.MaxFetch), r.opts.MinFetch)
			delete(r.seq, run[0].idx)
		}
		for idx := last + 1; idx <= lastPage && int64(len(run))*ps < widen; idx++ {
			if _, ok := r.pages[idx]; ok {
				break
			}
			run = append(run, &page{idx: idx})
		}
		if len(r.seq) >= maxSeqStreams {
			clear(r.seq) // forget the old streams
		}
		r.seq[run[len(run)-1].idx+1] = widen
	}
	startRun()
	r.mu.Unlock()

	n := 0
	for _, pg := range need {
		<-pg.f.ready
		if pg.f.err != nil {
			if pg.f.prefetch {
				return n, &prefetchFailed{pg.f.err}
			}
			return n, pg.f.err
		}
		pos := off + int64(n)
		start := int(pos - pg.idx*ps)
		if start >= len(pg.data) {
			return n, io.ErrUnexpectedEOF
		}
		n += copy(p[n:], pg.data[start:])
	}
	return n, nil
}

// forget drops the pages of a failed fetch that are still cached, so that a later read asks
// again instead of getting the failure from the cache.
func (r *Reader) forget(run []*page) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pg := range run {
		if r.pages[pg.idx] == pg {
			delete(r.pages, pg.idx)
			r.lru.Remove(pg.elem)
		}
	}
}

// maxPrefetch bounds the bytes Prefetch has asked for and not yet received, a fraction of the
// cache, so that prefetched pages are not evicted before they are read: a hint beyond it is
// dropped (the read fetches those bytes itself).
func (r *Reader) maxPrefetch() int64 { return max(r.opts.CacheBytes/4, r.opts.MaxFetch) }

// Prefetch starts fetching the bytes [off, off+n) of the blob in the background, for reads
// that will soon ask for them, and returns at once (true: the reader prefetches). The pages
// already cached or being fetched are not asked for again; each run of the missing ones is one
// request of at most MaxFetch bytes, made under the same bound on concurrent requests, retries,
// deadlines and Content-Range verification as a read's. The bytes in flight are bounded (a
// quarter of the cache): what would go past the bound is not prefetched. A failed prefetch
// reports nothing: its pages are forgotten, and a read that wanted them asks again, so that the
// error a read returns is its own. After Close, or once the reader's context ends, it does
// nothing.
func (r *Reader) Prefetch(off, n int64) bool {
	end := min(off+max(n, 0), r.size)
	off = max(off, 0)
	if off >= end {
		return true
	}
	ps := r.opts.PageSize
	first, last := off/ps, (end-1)/ps
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.ctx.Err() != nil {
		return true
	}
	budget := r.maxPrefetch() - r.prefetching.Load()
	var run []*page
	var runBytes int64
	startRun := func() {
		if len(run) > 0 {
			r.prefetching.Add(runBytes)
			r.startFetchLocked(run, true)
		}
		budget -= runBytes
		run, runBytes = nil, 0
	}
	for idx := first; idx <= last; idx++ {
		if _, ok := r.pages[idx]; ok {
			startRun()
			continue
		}
		sz := min(ps, r.size-idx*ps)
		if runBytes+sz > budget {
			break // over the bound: the rest is left to the reads
		}
		run = append(run, &page{idx: idx})
		runBytes += sz
		if runBytes >= r.opts.MaxFetch {
			startRun()
		}
	}
	startRun()
	return true
}

// startLocked registers a run of consecutive missing pages and fetches them with one request
// in the background; r.mu is held.
func (r *Reader) startLocked(run []*page) { r.startFetchLocked(run, false) }

// startFetchLocked is startLocked for a read (prefetch false) or for Prefetch, whose bytes are
// counted in r.prefetching until the fetch ends.
func (r *Reader) startFetchLocked(run []*page, prefetch bool) {
	f := &fetch{ready: make(chan struct{}), prefetch: prefetch}
	var runBytes int64
	if prefetch {
		for _, pg := range run {
			runBytes += min(r.opts.PageSize, r.size-pg.idx*r.opts.PageSize)
		}
	}
	for _, pg := range run {
		pg.f = f
		pg.elem = r.lru.PushFront(pg)
		r.pages[pg.idx] = pg
	}
	for r.lru.Len() > r.maxPages {
		old := r.lru.Back().Value.(*page)
		r.lru.Remove(old.elem)
		delete(r.pages, old.idx)
	}
	if r.closed {
		f.err = fmt.Errorf("%s: %w", r.name, ErrClosed)
		r.prefetching.Add(-runBytes)
		close(f.ready)
		return
	}
	r.fetches.Add(1)
	go func() {
		defer r.fetches.Done()
		defer close(f.ready)
		defer r.prefetching.Add(-runBytes)
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			f.err = fmt.Errorf("%s: %w", r.name, r.ctx.Err())
			r.forget(run)
			return
		}
		defer func() { <-r.sem }()
		// each page has its own buffer: a page kept in the cache pins 4 KiB, not the request
		ps := r.opts.PageSize
		off := run[0].idx * ps
		bufs := make([][]byte, len(run))
		for i := range bufs {
			bufs[i] = make([]byte, min(ps, r.size-run[i].idx*ps))
		}
		if err := r.fetchRange(off, bufs); err != nil {
			f.err = err
			r.forget(run)
			return
		}
		for i, pg := range run {
			pg.data = bufs[i]
		}
	}()
}

// fetchRange downloads the bytes at off into bufs, one after the other, with one range request,
// retrying a body that fails or comes back short.
func (r *Reader) fetchRange(off int64, bufs [][]byte) error {
	var count int64
	for _, b := range bufs {
		count += int64(len(b))
	}
	err := r.retry(func(ctx context.Context, alive func()) error {
		var raw *http.Response
		resp, err := r.client.DownloadStream(policy.WithCaptureResponse(ctx, &raw), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: off, Count: count}})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := r.checkAnswer(raw, resp.ContentRange, off, count); err != nil {
			return err
		}
		body := aliveReader{resp.Body, alive}
		r.requests.Add(1)
		var got int64
		for _, b := range bufs {
			n, err := io.ReadFull(body, b)
			got += int64(n)
			if err != nil {
				r.bytes.Add(got)
				return fmt.Errorf("short body: %d of %d bytes: %w", got, count, err)
			}
		}
		r.bytes.Add(got)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: reading bytes %d-%d: %w", r.name, off, off+count-1, err)
	}
	return nil
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

// ErrClosed is the error of a read of a closed Reader.
var ErrClosed = errors.New("blob reader closed")

// Close cancels the reader's requests in flight and their retries, and waits for them to end:
// no request is made after Close returns, and later reads fail with ErrClosed (or the
// cancellation).
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.fetches.Wait()
	return nil
}

// answerError is an answer that does not hold the bytes asked for: another attempt would get
// the same answer.
type answerError struct{ msg string }

func (e *answerError) Error() string { return e.msg }

// checkAnswer verifies that a response to a range request holds the range asked for: 206
// Partial Content with a Content-Range of exactly the bytes off..off+count-1 of a blob of the
// size Open read, or 200 OK when the range asked for is the whole blob. A server that ignores
// Range answers 200 from byte 0; read as if it had answered, its bytes would land at the wrong
// offset.
func (r *Reader) checkAnswer(raw *http.Response, contentRange *string, off, count int64) error {
	if raw == nil {
		return &answerError{"no HTTP response to check"}
	}
	end := off + count - 1
	switch raw.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		if off == 0 && count == r.size && raw.ContentLength == r.size {
			return nil // the whole blob, as asked
		}
		return &answerError{fmt.Sprintf("the server answered HTTP 200 with the whole blob (Content-Length %d) to a request for bytes %d-%d: it ignores Range", raw.ContentLength, off, end)}
	default:
		return &answerError{fmt.Sprintf("the server answered HTTP %d to a range request", raw.StatusCode)}
	}
	cr := ""
	if contentRange != nil {
		cr = *contentRange
	}
	start, last, total, ok := parseContentRange(cr)
	if !ok {
		return &answerError{fmt.Sprintf("HTTP 206 without a valid Content-Range (%q)", cr)}
	}
	if start != off || last != end || total != r.size {
		return &answerError{fmt.Sprintf("the server answered Content-Range %q, not bytes %d-%d/%d", cr, off, end, r.size)}
	}
	return nil
}

// parseContentRange parses a Content-Range of a satisfied byte range, "bytes START-END/TOTAL"
// (RFC 9110, 14.4) with a known total, in its canonical form only (decimal, no sign, no leading
// zeros, no spaces but the one after "bytes"), with START <= END < TOTAL.
func parseContentRange(s string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	r, t, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, 0, false
	}
	var okA, okB, okT bool
	start, okA = decimal(a)
	end, okB = decimal(b)
	total, okT = decimal(t)
	if !okA || !okB || !okT || start > end || end >= total {
		return 0, 0, 0, false
	}
	return start, end, total, true
}

// decimal parses a non-negative decimal integer in canonical form (no sign, no leading zero)
// that fits an int64.
func decimal(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' || len(s) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// loopback reports whether host is this machine (the Azurite emulator in tests): a signature
// sent there in clear text does not cross a network.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
