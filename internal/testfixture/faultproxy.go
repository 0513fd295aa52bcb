package testfixture

import (
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
	}, func(p *FaultProxy, w http.ResponseWriter, n int64) bool {
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
	early func(p *FaultProxy, w http.ResponseWriter, n int64) bool) *FaultProxy {
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
			if early != nil && early(p, w, n) {
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
		if ranged && resp.StatusCode/100 == 2 && body(p, w, r, n, resp) {
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
		func(*FaultProxy, http.ResponseWriter, int64) bool {
			time.Sleep(delay)
			return false
		})
}
