package testfixture

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// FaultProxy is an HTTP proxy in front of a storage endpoint that misbehaves on purpose: of the
// range GETs it forwards, some get a 503, some are cut off half-way through the body, some are
// delayed. Other requests pass through untouched.
type FaultProxy struct {
	URL                    string // the proxy's base URL (http://127.0.0.1:PORT)
	Requests, Faults, Cuts atomic.Int64
	done                   chan struct{} // closed when the test ends
}

// NewFaultProxy starts a proxy forwarding to target (scheme://host:port): range request n gets
// a 503 when n%5 == 1, loses the second half of its body when n%5 == 3, and waits 50 ms first
// when n%7 == 0.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	return newProxy(t, target, func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64, resp *http.Response) bool {
		if n%5 != 3 {
			return false
		}
		p.Cuts.Add(1)
		body, _ := io.ReadAll(resp.Body)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection is closed mid-body
	}, func(p *FaultProxy, w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n%7 == 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if n%5 == 1 {
			p.Faults.Add(1)
			http.Error(w, "injected fault", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
}

// newProxy starts a proxy that forwards every request to target. Range GETs are numbered from
// 1: before forwarding, early may answer request n itself (returning true); once the upstream
// answered with success, body may write the response itself (returning true).
func newProxy(t testing.TB, target string, body func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64, resp *http.Response) bool,
	early func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64) bool) *FaultProxy {
	t.Helper()
	up, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{}
	done := make(chan struct{})
	p.done = done
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranged := r.Method == http.MethodGet && (r.Header.Get("x-ms-range") != "" || r.Header.Get("Range") != "")
		n := int64(0)
		if ranged {
			n = p.Requests.Add(1)
			if early != nil && early(p, w, r, n) {
				return
			}
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host, out.Host = up.Scheme, up.Host, up.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		if ranged && resp.StatusCode/100 == 2 && body != nil && body(p, w, r, n, resp) {
			return
		}
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	p.URL = srv.URL
	return p
}

// Via rewrites a blob URL to go through the proxy.
func (p *FaultProxy) Via(t testing.TB, blobURL string) string {
	u, err := url.Parse(blobURL)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(p.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return u.String()
}

// NewStallingProxy starts a proxy forwarding to target whose every second range GET sends the
// first 64 KiB of its body and then, when reset is true, drops the connection, or else stops
// sending while keeping the connection open until the client gives up.
func NewStallingProxy(t testing.TB, target string, reset bool) *FaultProxy {
	return newProxy(t, target, func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64, resp *http.Response) bool {
		if n%2 != 0 {
			return false
		}
		p.Cuts.Add(1)
		io.CopyN(w, resp.Body, 64<<10)
		w.(http.Flusher).Flush()
		if reset {
			panic(http.ErrAbortHandler)
		}
		select { // silence, the connection held open until the client leaves or the test ends
		case <-r.Context().Done():
		case <-p.done:
		}
		return true
	}, nil)
}

// NewLatencyProxy starts a proxy forwarding to target that holds every range GET for delay
// before forwarding it, as a storage account far away does.
func NewLatencyProxy(t testing.TB, target string, delay time.Duration) *FaultProxy {
	return newProxy(t, target, func(*FaultProxy, http.ResponseWriter, *http.Request, int64, *http.Response) bool { return false },
		func(*FaultProxy, http.ResponseWriter, *http.Request, int64) bool {
			time.Sleep(delay)
			return false
		})
}

// NewRangeIgnoringProxy starts a proxy forwarding to target that answers every range GET as a
// server that ignores Range does: 200 OK with the blob from byte 0 (as many bytes as were
// asked for), no Content-Range.
func NewRangeIgnoringProxy(t testing.TB, target string) *FaultProxy {
	return newProxy(t, target, nil, func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64) bool {
		start, end, ok := requestedRange(r)
		if !ok {
			return false
		}
		p.Faults.Add(1)
		forwardRange(t, w, r, target, 0, end-start, http.StatusOK, false)
		return true
	})
}

// NewWrongRangeProxy starts a proxy forwarding to target that answers every range GET with
// the bytes 512 further on, and says so: 206 with the Content-Range of what it sent, not of
// what was asked.
func NewWrongRangeProxy(t testing.TB, target string) *FaultProxy {
	return newProxy(t, target, nil, func(p *FaultProxy, w http.ResponseWriter, r *http.Request, n int64) bool {
		start, end, ok := requestedRange(r)
		if !ok {
			return false
		}
		p.Faults.Add(1)
		forwardRange(t, w, r, target, start+512, end+512, http.StatusPartialContent, true)
		return true
	})
}

// requestedRange is the byte range of a range GET (x-ms-range or Range: bytes=START-END).
func requestedRange(r *http.Request) (start, end int64, ok bool) {
	h := r.Header.Get("x-ms-range")
	if h == "" {
		h = r.Header.Get("Range")
	}
	if _, err := fmt.Sscanf(h, "bytes=%d-%d", &start, &end); err != nil || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// forwardRange asks target for bytes start..end of the request's blob and answers the client
// with them under status; with contentRange the answer carries the upstream's Content-Range
// (of the bytes sent), else none.
func forwardRange(t testing.TB, w http.ResponseWriter, r *http.Request, target string, start, end int64, status int, contentRange bool) {
	up, _ := url.Parse(target)
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = up.Scheme, up.Host, up.Host
	out.Header.Del("Range")
	out.Header.Set("x-ms-range", fmt.Sprintf("bytes=%d-%d", start, end))
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if !contentRange {
		w.Header().Del("Content-Range")
	}
	w.WriteHeader(status)
	io.Copy(w, resp.Body)
}
