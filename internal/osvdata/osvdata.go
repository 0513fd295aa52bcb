// Package osvdata finds the OSV data a check judges with: a dump or directory the user gave,
// or an ecosystem's dump downloaded from a URL (by default OSV's public bucket) into a cache and
// reused while fresh. Every download has a deadline, honours cancellation, retries what another
// attempt can mend, and asks conditionally (ETag, Last-Modified). Data that is not fresh
// enough, with no way to refresh it, is an error: the verdict never rests on stale advisories.
package osvdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/marketready/packer-plugin-marketplace/internal/atomicfile"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
	"github.com/marketready/packer-plugin-marketplace/internal/osv"
)

// Defaults.
const (
	DefaultMaxAge = 24 * time.Hour
	// MaxDownload bounds a dump (OSV's largest distribution dumps are a few hundred MB).
	MaxDownload = 8 << 30
)

// Options say where the data is and how fresh it must be.
type Options struct {
	// Location is vulnerability_db: a local all.zip, a directory of OSV JSON records, or an
	// https URL of a dump. Empty: DefaultURL(dump).
	Location string
	// DefaultURL gives the URL of an ecosystem's dump when Location is empty.
	DefaultURL func(dump string) string
	MaxAge     time.Duration // default DefaultMaxAge
	CacheDir   string        // default $XDG_CACHE_HOME/packer-plugin-marketplace/osv
	// Client makes the requests (default: a client with the system's roots); Timeout bounds
	// one whole download (default 15 minutes), IdleTimeout a stall (default 60 s); Retries is
	// how many times a failed attempt is repeated (default 3).
	Client      *http.Client
	Timeout     time.Duration
	IdleTimeout time.Duration
	Retries     int
	Now         func() time.Time
}

// Loaded is the data and what it rests on.
type Loaded struct {
	DB *osv.DB
	// Source is where the data came from (a path, or the URL with its query redacted), Date
	// when it was made (the download's Last-Modified, else when it was fetched; a file's
	// modification time), Note how it was obtained ("downloaded", "cached, fetched …").
	Source string
	Date   time.Time
	Note   string
}

// IsURL reports whether a vulnerability_db value is a URL rather than a path.
func IsURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// CheckURL refuses what the data must not come over: anything but https, except to a loopback
// address (a local mirror, the tests).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("vulnerability data URL: %v", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
			return nil
		}
		return fmt.Errorf("vulnerability data URL %s: plain http is refused (use https)", blob.Redact(raw))
	}
	return fmt.Errorf("vulnerability data URL %s: not an http(s) URL", blob.Redact(raw))
}

func (o *Options) defaults() {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
}

// DefaultCacheDir is $XDG_CACHE_HOME/packer-plugin-marketplace/osv (os.UserCacheDir).
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "packer-plugin-marketplace", "osv"), nil
}

// Load reads the release's records (f) of the ecosystem dump named dump.
func Load(ctx context.Context, dump string, f osv.Filter, o Options) (*Loaded, error) {
	o.defaults()
	loc := o.Location
	if loc == "" {
		if o.DefaultURL == nil {
			return nil, errors.New("no vulnerability data location")
		}
		loc = o.DefaultURL(dump)
	}
	if IsURL(loc) {
		return download(ctx, dump, loc, f, o)
	}
	st, err := os.Stat(loc)
	if err != nil {
		return nil, fmt.Errorf("vulnerability_db %s: %w", loc, err)
	}
	var l *Loaded
	if st.IsDir() {
		db, err := osv.ReadDir(loc, f)
		if err != nil {
			return nil, err
		}
		date, err := newestFile(loc)
		if err != nil {
			return nil, err
		}
		l = &Loaded{DB: db, Source: loc, Date: date, Note: "a directory of OSV records"}
	} else {
		db, err := readZipFile(loc, f)
		if err != nil {
			return nil, err
		}
		l = &Loaded{DB: db, Source: loc, Date: st.ModTime(), Note: "an OSV dump"}
	}
	if age := o.Now().Sub(l.Date); age > o.MaxAge {
		return nil, fmt.Errorf("vulnerability_db %s is %s old, more than vulnerability_db_max_age (%s): refresh it, or raise the maximum age", loc, age.Round(time.Minute), o.MaxAge)
	}
	return l, nil
}

func readZipFile(p string, f osv.Filter) (*osv.DB, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return osv.ReadZip(p, fh, st.Size(), f)
}

// newestFile is the latest modification time of the record files under dir (osv.RecordFiles,
// the files osv.ReadDir reads).
func newestFile(dir string) (time.Time, error) {
	_, infos, err := osv.RecordFiles(dir)
	var newest time.Time
	for _, info := range infos {
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
	}
	return newest, err
}

// meta is what the cache remembers of a download.
type meta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Fetched      time.Time `json:"fetched"`
}

func (m meta) date() time.Time {
	if t, err := http.ParseTime(m.LastModified); err == nil {
		return t
	}
	return m.Fetched
}

func download(ctx context.Context, dump, raw string, f osv.Filter, o Options) (*Loaded, error) {
	if err := CheckURL(raw); err != nil {
		return nil, err
	}
	shown := blob.Redact(raw)
	dir := o.CacheDir
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("the vulnerability data cache: %w", err)
		}
		dir = d
	}
	dir = filepath.Join(dir, cacheName(dump))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("the vulnerability data cache: %w", err)
	}
	zipPath, metaPath := filepath.Join(dir, "all.zip"), filepath.Join(dir, "meta.json")
	var m meta
	if b, err := os.ReadFile(metaPath); err == nil {
		if json.Unmarshal(b, &m) != nil || m.URL != raw {
			m = meta{}
		}
	}
	_, zipErr := os.Stat(zipPath)
	haveCache := m.URL == raw && zipErr == nil
	note := ""
	switch {
	case haveCache && o.Now().Sub(m.Fetched) <= o.MaxAge && o.Now().Sub(m.date()) <= o.MaxAge:
		note = "cached, fetched " + m.Fetched.UTC().Format(time.RFC3339)
	default:
		nm, changed, err := fetch(ctx, raw, zipPath, haveCache, m, o)
		if err != nil {
			stale := ""
			if haveCache {
				stale = fmt.Sprintf(" (the cached copy was fetched %s, more than vulnerability_db_max_age %s ago)", m.Fetched.UTC().Format(time.RFC3339), o.MaxAge)
			}
			return nil, fmt.Errorf("downloading the vulnerability data %s: %w%s; set vulnerability_db to a local OSV dump, or vulnerability_scan = false to skip the rule", shown, err, stale)
		}
		m = nm
		if b, err := json.Marshal(m); err == nil {
			// a cache whose record could not be written is downloaded again next time
			atomicfile.Write(metaPath, func(w io.Writer) error { _, err := w.Write(b); return err })
		}
		note = "downloaded"
		if !changed {
			note = "cached, unchanged on the server"
		}
	}
	if age := o.Now().Sub(m.date()); age > o.MaxAge {
		return nil, fmt.Errorf("the vulnerability data %s was made %s ago, more than vulnerability_db_max_age (%s)", shown, age.Round(time.Minute), o.MaxAge)
	}
	db, err := readZipFile(zipPath, f)
	if err != nil {
		return nil, fmt.Errorf("the vulnerability data downloaded from %s: %w", shown, err)
	}
	db.Source = shown
	return &Loaded{DB: db, Source: shown, Date: m.date(), Note: note}, nil
}

func cacheName(dump string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, dump)
}

// fetch downloads raw into path (through a temporary file), conditionally when the cache has
// a copy; changed is false when the server answered 304.
func fetch(ctx context.Context, raw, path string, conditional bool, m meta, o Options) (meta, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var last error
	delay := 500 * time.Millisecond
	for attempt := 0; attempt <= o.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return m, false, errors.Join(last, context.Cause(ctx))
			case <-time.After(delay):
			}
			delay *= 2
		}
		nm, changed, retry, err := fetchOnce(ctx, raw, path, conditional, m, o)
		if err == nil {
			return nm, changed, nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return m, false, last
}

func fetchOnce(ctx context.Context, raw, path string, conditional bool, m meta, o Options) (meta, bool, bool, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(o.IdleTimeout, cancel)
	defer idle.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, raw, nil)
	if err != nil {
		return m, false, false, err
	}
	if conditional {
		if m.ETag != "" {
			req.Header.Set("If-None-Match", m.ETag)
		}
		if m.LastModified != "" {
			req.Header.Set("If-Modified-Since", m.LastModified)
		}
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return m, false, true, redactErr(err, raw)
	}
	defer resp.Body.Close()
	now := o.Now()
	switch {
	case resp.StatusCode == http.StatusNotModified && conditional:
		m.Fetched = now
		if lm := resp.Header.Get("Last-Modified"); lm != "" {
			m.LastModified = lm
		}
		return m, false, false, nil
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return m, false, true, fmt.Errorf("HTTP %s", resp.Status)
	default:
		return m, false, false, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > MaxDownload {
		return m, false, false, fmt.Errorf("the dump is %d bytes, more than %d", resp.ContentLength, int64(MaxDownload))
	}
	// the dump replaces the cached one whole, or not at all
	retry := false
	err = atomicfile.Write(path, func(w io.Writer) error {
		n, err := io.Copy(w, &idleReader{r: io.LimitReader(resp.Body, MaxDownload+1), idle: idle, d: o.IdleTimeout})
		switch {
		case err != nil:
			retry = true
			return fmt.Errorf("after %d bytes: %w", n, redactErr(err, raw))
		case n > MaxDownload:
			return fmt.Errorf("the dump is more than %d bytes", int64(MaxDownload))
		case resp.ContentLength >= 0 && n != resp.ContentLength:
			retry = true
			return fmt.Errorf("short body: %d of %d bytes", n, resp.ContentLength)
		}
		return nil
	})
	if err != nil {
		return m, false, retry, err
	}
	return meta{URL: raw, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Fetched: now}, true, false, nil
}

// idleReader holds off the idle timer while bytes arrive.
type idleReader struct {
	r    io.Reader
	idle *time.Timer
	d    time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.idle.Reset(r.d)
	}
	return n, err
}

// redactErr keeps a URL's query (a token) out of an error's text.
func redactErr(err error, raw string) error {
	s := err.Error()
	if strings.Contains(s, raw) {
		return errors.New(strings.ReplaceAll(s, raw, blob.Redact(raw)))
	}
	if u, perr := url.Parse(raw); perr == nil && u.RawQuery != "" && strings.Contains(s, u.RawQuery) {
		return errors.New(strings.ReplaceAll(s, u.RawQuery, "<redacted>"))
	}
	return err
}
