package osvdata

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
)

const record = `{"id": "DSA-1-1", "modified": "2026-11-30T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}]}]}`

func dump(t *testing.T) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	m, _ := w.Create("DSA-1-1.json")
	m.Write([]byte(record))
	w.Close()
	return b.Bytes()
}

var filter = osv.Filter{Ecosystems: []string{"Debian:12"}}

// server serves the dump with an ETag and Last-Modified, answers conditional requests, and
// fails the first failures requests with 503.
type server struct {
	*httptest.Server
	requests, conditional atomic.Int32
	failures              atomic.Int32
	modified              time.Time
}

func newServer(t *testing.T, data []byte, modified time.Time) *server {
	s := &server{modified: modified}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.failures.Load() > 0 {
			s.failures.Add(-1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", s.modified.UTC().Format(http.TimeFormat))
		if r.Header.Get("If-None-Match") == `"v1"` {
			s.conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestDownloadCacheAndConditionalRefresh(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := newServer(t, dump(t), now.Add(-time.Hour))
	cache := t.TempDir()
	o := Options{Location: s.URL + "/Debian/all.zip?token=SECRET", CacheDir: cache, Client: s.Client(), Now: func() time.Time { return now }}
	l, err := Load(context.Background(), "Debian", filter, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.DB.For("openssl")) != 1 || l.Note != "downloaded" || !l.Date.Equal(now.Add(-time.Hour)) || strings.Contains(l.Source, "SECRET") {
		t.Fatalf("%+v", l)
	}
	// fresh: no request at all
	if l, err = Load(context.Background(), "Debian", filter, o); err != nil || s.requests.Load() != 1 || !strings.HasPrefix(l.Note, "cached") {
		t.Fatalf("second load: %+v %v, %d requests", l, err, s.requests.Load())
	}
	// a day later the cache is stale: a conditional request, answered 304 — but the server's
	// copy is then 25 hours old, older than the maximum age: an error, not a stale verdict
	later := now.Add(24 * time.Hour)
	o.Now = func() time.Time { return later }
	if _, err := Load(context.Background(), "Debian", filter, o); err == nil || !strings.Contains(err.Error(), "vulnerability_db_max_age") {
		t.Fatalf("stale on the server: %v", err)
	}
	if s.conditional.Load() != 1 {
		t.Fatalf("conditional requests: %d", s.conditional.Load())
	}
	// the server has a newer copy: downloaded again
	s.modified = later.Add(-time.Minute)
	o.Location = s.URL + "/Debian/all.zip?token=SECRET"
	os.Remove(filepath.Join(cache, "Debian", "meta.json"))
	if l, err = Load(context.Background(), "Debian", filter, o); err != nil || l.Note != "downloaded" {
		t.Fatalf("refresh: %+v %v", l, err)
	}
}

func TestDownloadRetriesThenFailsClosed(t *testing.T) {
	now := time.Now()
	s := newServer(t, dump(t), now)
	s.failures.Store(2)
	o := Options{Location: s.URL + "/all.zip", CacheDir: t.TempDir(), Client: s.Client(), Retries: 3}
	if _, err := Load(context.Background(), "Debian", filter, o); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if s.requests.Load() != 3 {
		t.Errorf("requests %d, want 3", s.requests.Load())
	}
	s.failures.Store(100)
	o.CacheDir = t.TempDir()
	o.Retries = 1
	_, err := Load(context.Background(), "Debian", filter, o)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "vulnerability_scan = false") {
		t.Fatalf("server down: %v", err)
	}
}

func TestDownloadHonoursCancellationAndDeadline(t *testing.T) {
	block := make(chan struct{})
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("PK"))
		w.(http.Flusher).Flush()
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := Load(ctx, "Debian", filter, Options{Location: s.URL + "/all.zip", CacheDir: t.TempDir(), Client: s.Client()})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled download: %v after %s", err, time.Since(start))
	}
	// a stall past the idle timeout ends the attempt
	start = time.Now()
	_, err = Load(context.Background(), "Debian", filter, Options{Location: s.URL + "/all.zip", CacheDir: t.TempDir(), Client: s.Client(), IdleTimeout: 200 * time.Millisecond, Retries: 1})
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("stalled download: %v after %s", err, time.Since(start))
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip": true,
		"http://127.0.0.1:8080/all.zip":                                     true,
		"http://localhost/all.zip":                                          true,
		"http://mirror.example.com/all.zip":                                 false,
		"ftp://x/all.zip":                                                   false,
	} {
		if err := CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%s) = %v", u, err)
		}
	}
}

func TestLocalDataMustBeFresh(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "all.zip")
	os.WriteFile(zipPath, dump(t), 0o644)
	now := time.Now()
	if l, err := Load(context.Background(), "Debian", filter, Options{Location: zipPath}); err != nil || len(l.DB.For("openssl")) != 1 {
		t.Fatalf("fresh file: %+v %v", l, err)
	}
	old := now.Add(-25 * time.Hour)
	os.Chtimes(zipPath, old, old)
	if _, err := Load(context.Background(), "Debian", filter, Options{Location: zipPath}); err == nil || !strings.Contains(err.Error(), "vulnerability_db_max_age") {
		t.Fatalf("day-old file: %v", err)
	}
	if _, err := Load(context.Background(), "Debian", filter, Options{Location: zipPath, MaxAge: 48 * time.Hour}); err != nil {
		t.Fatalf("within a raised maximum age: %v", err)
	}
	recs := filepath.Join(dir, "records")
	os.MkdirAll(recs, 0o755)
	os.WriteFile(filepath.Join(recs, "DSA-1-1.json"), []byte(record), 0o644)
	if l, err := Load(context.Background(), "Debian", filter, Options{Location: recs}); err != nil || len(l.DB.For("openssl")) != 1 {
		t.Fatalf("directory: %+v %v", l, err)
	}
	if _, err := Load(context.Background(), "Debian", filter, Options{Location: filepath.Join(dir, "missing.zip")}); err == nil {
		t.Fatal("a missing file loaded")
	}
}
