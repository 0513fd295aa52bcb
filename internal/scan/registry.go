package scan

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// Kind names a kind of content a rule can need from the pass; a scanner package registers the
// Source that provides it, and the engine runs the sources the plan's rules need without naming
// any of them (the packages register themselves when internal/scan/scanners is imported).
type Kind string

// The kinds of content.
const (
	Secrets   Kind = "secrets"   // credentials in file contents
	Malware   Kind = "malware"   // a malware scanner's verdict on every file
	Integrity Kind = "integrity" // the file-integrity baseline (SHA-256 of every file)
)

// SearchesXattrs says whether the scanner of this kind also gets every extended attribute's
// value as a file of its own (Options.Xattrs): a credential can be stored in one (setfattr -n
// user.token); the malware verdict and the integrity baseline are about files' contents.
func (k Kind) SearchesXattrs() bool { return k == Secrets }

// Config is what the check's plan asks of the content scanners; each reads its own fields.
type Config struct {
	SecretsAllowPaths        []string
	SecretsAllowFingerprints []string
	// FingerprintKey keys the credential fingerprints (secrets.Options.FingerprintKey); empty:
	// secrets.FingerprintKey(), the environment or the per-user key file.
	FingerprintKey []byte
	// Clamd is the malware scanner to stream files to; nil for none.
	Clamd *ClamdConfig
	// Manifest is where the integrity baseline is written ("" for none).
	Manifest string
}

// ClamdConfig is a clamd to stream every file to.
type ClamdConfig struct {
	Network, Address string        // "unix" or "tcp", and the socket path or host:port
	MaxStream        int64         // clamd's StreamMaxLength in bytes
	Timeout          time.Duration // each exchange with clamd
}

// Source makes the scanner of one kind of content for an image.
type Source struct {
	Kind Kind
	// New returns the scanner, or nil when the configuration leaves this kind off (a malware
	// scan without a clamd address, a baseline without a path).
	New func(img *inspect.Image, cfg Config) (Scanner, error)
}

var (
	sourcesMu sync.Mutex
	sources   = map[Kind]Source{}
)

// Register makes a source known; a kind registered twice is a programming error.
func Register(s Source) {
	sourcesMu.Lock()
	defer sourcesMu.Unlock()
	if _, dup := sources[s.Kind]; dup {
		panic(fmt.Sprintf("scan: content kind %q registered twice", s.Kind))
	}
	sources[s.Kind] = s
}

// SourceOf returns the registered source of a kind.
func SourceOf(k Kind) (Source, bool) {
	sourcesMu.Lock()
	defer sourcesMu.Unlock()
	s, ok := sources[k]
	return s, ok
}

// Reporter is a Scanner that says what it found once the pass is over.
type Reporter interface {
	Scanner
	Result() Result
}

// Artifact is a Scanner that makes a file once the pass is over (the integrity baseline): it
// says where and how to write it, and the engine writes it as it writes the reports.
type Artifact interface {
	Scanner
	Artifact(img *inspect.Image, st *Stats) (path string, write func(io.Writer) error)
}

// Result is what a scanner reports to the rules: what it looked at and what it found. A rule
// reads it by Kind; nothing in it holds a secret in full.
type Result struct {
	Kind    Kind
	Scanner string // the scanner's name in Stats (Stats.Missed)
	Tool    string // what did the scanning, as it names itself ("ClamAV 1.0.7/27000/...")
	Scope   string // what it looked at, for the verdict's message
	// Findings are what it found, each at a path (and a line where it has one).
	Findings []Finding
	// Unjudged are files it was given but could not judge (over clamd's stream limit): no
	// clean verdict can rest on them.
	Unjudged []string
}

// Finding is one thing a scanner found; Detail is already redacted.
type Finding struct {
	Path   string
	Line   int
	Detail string
	// Fingerprint identifies the secret wherever it is, for an allow list (a keyed digest,
	// never the secret); empty when the scanner has none.
	Fingerprint string
}
