// Package secrets finds hard-coded credentials in the files of an image. Detection is gitleaks'
// maintained rule set (used as a library, ~220 rules: private keys, AWS and Alibaba AccessKeys,
// tokens of common services, generic API keys) plus rules for what a marketplace image leaks
// that gitleaks does not cover: Azure storage keys and SAS tokens, GCP service-account files,
// URLs with passwords, password assignments in configuration files and the credential files of
// common tools (.netrc, .pgpass, .my.cnf, .git-credentials).
//
// Findings carry the path, line, rule and a redacted excerpt: a secret is never reported whole.
// Every byte of every file is searched, or named as not seen: text as it is, UTF-16 text
// decoded, and binary bytes as strings(1) sees them (strings.go); NULs and zero runs never end
// the search. Containers are recognised by content and every member is searched as a file of
// its own (archive.go); what is recognised but not opened is not seen, with its reason. Files
// dpkg installed and that are unchanged are skipped by digest (they are the distribution's, not
// the publisher's), and so is a container member identical to one; encrypted private keys and
// obvious placeholders are not findings, and findings can be allowed by path or fingerprint.
package secrets

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/regexp"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Finding is one credential found. It never holds the secret itself.
type Finding struct {
	Path        string `json:"path"`
	Line        int    `json:"line"`
	Rule        string `json:"rule"`        // gitleaks' rule ID, or one of ours
	Description string `json:"description"` // what kind of secret
	Excerpt     string `json:"excerpt"`     // the first characters and the length only
	// Fingerprint identifies the secret wherever it is, for allow_fingerprints: a keyed digest
	// (HMAC-SHA256 under the fingerprint key) of rule and value, so that a report's reader
	// cannot confirm a guessed value without the key.
	Fingerprint string `json:"fingerprint"`
}

// Options tune the scanner.
type Options struct {
	// AllowPaths are in-image path patterns whose files are not reported: path.Match globs
	// ("/opt/app/test/*.pem"), or directories ending in "/" or "/**" for everything below.
	AllowPaths []string
	// AllowFingerprints are Finding.Fingerprint values accepted as not secret.
	AllowFingerprints []string
	// Vendor maps in-image paths to the MD5 their package manager recorded (pkgdb.DpkgDigests):
	// a file with that digest is skipped.
	Vendor map[string]string
	// PackageArchives maps in-image paths of downloaded packages (apt's cache) to the SHA-256
	// their package index lists (AptArchiveDigests): an archive with that digest is skipped.
	PackageArchives map[string]string
	// PipRecords maps in-image paths of files pip installed to the SHA-256 (hex) the RECORD of
	// their distribution lists (PipRecordDigests): a file with that digest is skipped.
	PipRecords map[string]string
	// SnapRevisions maps the SHA3-384 digests (base64url) of the snap-revision assertions in the
	// image to the snap size they assert (SnapRevisionDigests): a .snap in snapd's directories
	// with that digest and size is skipped.
	SnapRevisions map[string]int64
	// FingerprintKey keys the fingerprints (default: FingerprintKey()).
	FingerprintKey []byte
	// Initramfs, when set, is given the listing initrd.List would make of each file read
	// whole as an initramfs, by its path (initrd_listing.go): the driver rules take it
	// instead of decompressing the file again.
	Initramfs InitramfsFunc
	// readDigests, when set (forImage), makes Vendor and PackageArchives from the image's
	// package databases in the background from New on (see digestReaders).
	readDigests *digestReaders
}

// digestReaders read an image's package digests while the detector is built and the pass walks
// the filesystems (one goroutine each; on two cores the walk would otherwise leave one idle):
// a worker is made only once Vendor is there (every file's Begin looks it up, and so does every
// container member), and a file in apt's cache (aptCacheDir, where every PackageArchives key
// lies) is begun only once PackageArchives is there. What they return is what Options would
// have held: the digests are the same, only read earlier.
type digestReaders struct {
	vendor, archives, pip func() map[string]string
	snaps                 func() map[string]int64
}

// pendingDigests is the digests being read in the background, and when each is there.
type pendingDigests struct {
	vendor, archives, pip                map[string]string
	snaps                                map[string]int64
	vendorReady, archivesReady, pipReady chan struct{}
	snapsReady                           chan struct{}
	vendorOnce, archivesOnce, pipOnce    sync.Once
	snapsOnce                            sync.Once
}

// FingerprintKeyEnv names the environment variable that sets the fingerprint key.
const FingerprintKeyEnv = "MARKETPLACE_FINGERPRINT_KEY"

// FingerprintKey is the key fingerprints are computed with when none is given: the value of
// MARKETPLACE_FINGERPRINT_KEY, else a random key kept in the user's configuration directory
// (packer-plugin-marketplace/fingerprint.key, created on first use), so that fingerprints are
// stable for one user on one machine; CI sets the variable from a secret to share them. The
// note says where the key came from.
func FingerprintKey() (key []byte, note string, err error) {
	if v := os.Getenv(FingerprintKeyEnv); v != "" {
		return []byte(v), "fingerprint key from $" + FingerprintKeyEnv, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return nil, "", fmt.Errorf("no fingerprint key: set %s (%v)", FingerprintKeyEnv, err)
	}
	p := filepath.Join(dir, "packer-plugin-marketplace", "fingerprint.key")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 16 {
		return b, "fingerprint key from " + p, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, "", fmt.Errorf("no fingerprint key: set %s or make %s writable (%v)", FingerprintKeyEnv, filepath.Dir(p), err)
	}
	// O_EXCL: of two checks starting at once, one writes the key and both read it
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, "", err
		}
		return b, "fingerprint key created in " + p, nil
	}
	if b, rerr := os.ReadFile(p); rerr == nil && len(b) >= 16 {
		return b, "fingerprint key from " + p, nil
	}
	return nil, "", fmt.Errorf("no fingerprint key: set %s (%v)", FingerprintKeyEnv, err)
}

// DefaultAllowPaths are what package managers, depmod and snapd generate (package indexes, the
// package database's file lists, digests and status, module indexes, store assertions): full of
// words the generic rules take for credentials, so their files are searched with the rules that
// name a credential by its own shape only (genericRules left out: Scanner.strictDetector); and
// the SSH host keys, which no-ssh-host-keys reports, are not searched. A pattern the publisher
// adds (secrets_allow_paths) is not searched at all; the ledger counts the files it declined
// under it. Package maintainer scripts in /var/lib/dpkg/info are searched in full, and so are
// documentation and certificates: the files a package installed unchanged are skipped by their
// recorded digest (Options.Vendor), and what else lies there (a key dropped in /etc/ssl/certs
// or /usr/share/doc) is the publisher's. debconf's config.dat and passwords.dat are searched.
var DefaultAllowPaths = []string{
	// the host keys ssh-keygen -A writes, which no-ssh-host-keys reports: not a copy of one
	"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ecdsa_key.pub",
	"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_dsa_key", "/etc/ssh/ssh_host_dsa_key.pub",
	"/var/lib/dpkg/info/*.list", "/var/lib/dpkg/info/*.md5sums", "/var/lib/dpkg/info/*.conffiles",
	"/var/lib/dpkg/info/*.shlibs", "/var/lib/dpkg/info/*.symbols", "/var/lib/dpkg/info/*.triggers",
	"/var/lib/dpkg/info/*.templates", "/var/lib/dpkg/info/format",
	"/var/lib/dpkg/status", "/var/lib/dpkg/status-old", "/var/lib/dpkg/available", "/var/lib/dpkg/available-old",
	"/var/lib/dpkg/diversions", "/var/lib/dpkg/diversions-old", "/var/lib/dpkg/statoverride", "/var/lib/dpkg/statoverride-old",
	"/var/lib/dpkg/alternatives/", "/var/lib/dpkg/triggers/",
	"/var/lib/apt/lists/", "/var/lib/rpm/", "/var/lib/dnf/", "/lib/apk/db/",
	"/var/cache/debconf/templates.dat", "/var/cache/debconf/templates.dat-old",
	// snapd's store assertions: public keys and digests (sign-key-sha3-384:)
	"/var/lib/snapd/assertions/", "/var/lib/snapd/seed/assertions/",
	"/usr/lib/modules/*/modules.*", "/lib/modules/*/modules.*",
}

// Scanner is the secret scanner; it is a scan.Scanner.
type Scanner struct {
	opts     Options
	det      *fastDetector // gitleaks' detector, searching by literals first (prefilter.go)
	allowFP  map[string]bool
	mu       sync.Mutex
	findings []Finding
	searched int64 // files searched (members of containers included)
	vendor   int64 // skipped as unmodified distribution files
	binary   int64 // of the searched, those searched as the strings of binary bytes
	archives int64 // opened as containers
	// helpers are the slots of the goroutines that search fragments of large files beside the
	// workers (parallel.go); helped counts the fragments they searched
	helpers chan struct{}
	helped  atomic.Int64
	// pending is set when the package digests are read in the background (Options.readDigests)
	pending *pendingDigests
	// strict is the detector without the generic rules, built from det's rules on first use
	// (shared by the copies tests make of a Scanner)
	strict *lazyDetector
}

// New builds the detector from gitleaks' default rules plus ours.
func New(opts Options) (*Scanner, error) {
	var pending *pendingDigests
	if r := opts.readDigests; r != nil {
		pending = &pendingDigests{vendorReady: make(chan struct{}), archivesReady: make(chan struct{}),
			pipReady: make(chan struct{}), snapsReady: make(chan struct{})}
		go func() {
			defer close(pending.vendorReady)
			pending.vendor = r.vendor()
		}()
		go func() {
			defer close(pending.archivesReady)
			pending.archives = r.archives()
		}()
		go func() {
			defer close(pending.pipReady)
			if r.pip != nil {
				pending.pip = r.pip()
			}
		}()
		go func() {
			defer close(pending.snapsReady)
			if r.snaps != nil {
				pending.snaps = r.snaps()
			}
		}()
	}
	det, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		return nil, fmt.Errorf("loading gitleaks' rules: %w", err)
	}
	cfg := det.Config
	for _, r := range extraRules() {
		cfg.Rules[r.RuleID] = r
		cfg.OrderedRules = append(cfg.OrderedRules, r.RuleID)
		for _, k := range r.Keywords {
			cfg.Keywords[strings.ToLower(k)] = struct{}{}
		}
	}
	searchEveryPath(&cfg)
	det = detect.NewDetector(cfg)
	if len(opts.FingerprintKey) == 0 {
		key, _, err := FingerprintKey()
		if err != nil {
			return nil, err
		}
		opts.FingerprintKey = key
	}
	s := &Scanner{opts: opts, det: newFastDetector(det), strict: &lazyDetector{cfg: cfg}, allowFP: map[string]bool{},
		helpers: make(chan struct{}, runtime.GOMAXPROCS(0)), pending: pending}
	for _, f := range opts.AllowFingerprints {
		s.allowFP[f] = true
	}
	return s, nil
}

// genericRules are the rules that find a credential by the words around it rather than by its
// own shape: the files under the default allow paths (package indexes, dpkg's lists, module
// indexes) are full of such words and are searched without them.
var genericRules = map[string]bool{"generic-api-key": true, "password-assignment": true, "passwd-assignment": true,
	"command-line-password": true, "url-with-password": true}

// lazyDetector is a detector without genericRules, built from cfg on first use.
type lazyDetector struct {
	cfg  config.Config
	once sync.Once
	det  *fastDetector
}

// strictDetector is the detector without genericRules.
func (s *Scanner) strictDetector() *fastDetector {
	l := s.strict
	l.once.Do(func() {
		c := l.cfg
		c.Rules = map[string]config.Rule{}
		c.OrderedRules = nil
		c.Keywords = map[string]struct{}{}
		for _, id := range l.cfg.OrderedRules {
			r, ok := l.cfg.Rules[id]
			if !ok || genericRules[id] {
				continue
			}
			c.Rules[id] = r
			c.OrderedRules = append(c.OrderedRules, id)
			for _, k := range r.Keywords {
				c.Keywords[strings.ToLower(k)] = struct{}{}
			}
		}
		l.det = newFastDetector(detect.NewDetector(c))
	})
	return l.det
}

// RuleCount is the number of detection rules.
func (s *Scanner) RuleCount() int { return len(s.det.Config.Rules) }

func extraRules() []config.Rule {
	configFile := regexp.MustCompile(`(?i)(\.(conf|cfg|ini|env|properties|ya?ml|json|xml|toml|cnf|config|sh|nmconnection)$|(^|/)\.env(\.[\w.-]+)?$|^/etc/|^/var/lib/cloud/|(^|/)(user|vendor)-data(\.txt)?$)`)
	cloudInit := regexp.MustCompile(`^/var/lib/cloud/|^/etc/cloud/|(^|/)(user|vendor)-data(\.txt|\.ya?ml)?$|(^|/)cloud-config\.ya?ml$`)
	return append([]config.Rule{
		{RuleID: "azure-storage-account-key", Description: "Azure storage account key",
			Regex: regexp.MustCompile(`(?i)AccountKey=([A-Za-z0-9+/]{86}==)`), SecretGroup: 1, Keywords: []string{"accountkey="}},
		{RuleID: "azure-sas-token", Description: "Azure shared access signature (SAS) token",
			Regex: regexp.MustCompile(`[?&]sig=([A-Za-z0-9%+/=]{30,})`), SecretGroup: 1, Keywords: []string{"sig="}},
		{RuleID: "gcp-service-account", Description: "GCP service-account key file",
			Regex: regexp.MustCompile(`"private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----[^"]{64,})"`), SecretGroup: 1, Keywords: []string{"private_key"}},
		// an AWS access key ID packed among other strings without a separator (string constants
		// of a Go or Rust binary, an SQLite row): gitleaks' aws-access-token wants a word
		// boundary on both sides; here any character that cannot continue the ID bounds it
		// (a finding aws-access-token also makes is dropped: searchFragment)
		{RuleID: awsPackedRule, Description: "AWS access key ID packed among other strings (a binary's constants, a database row)",
			Regex:       regexp.MustCompile(`(?:^|[^A-Z0-9])((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Z0-9]|$)`),
			SecretGroup: 1, Keywords: []string{"akia", "asia", "abia", "acca", "a3t"}},
		{RuleID: "url-with-password", Description: "URL with an embedded password (database URL, Git remote)",
			Regex: regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'"]*:([^/\s:@'"]{3,})@[^\s'"]`), SecretGroup: 1, Keywords: []string{"://"}},
		// the value: on the same line (a "#" inside it is part of it; " #" starts a comment), or, for
		// a YAML block scalar (password: |), on the next line; never the next key
		{RuleID: "password-assignment", Description: "password assigned in a configuration file",
			Regex:       regexp.MustCompile(`(?i)\b[\w.-]*?(?:password|db_pass|secret_key|access_key_secret|client_secret)\b["']?[ \t]*[:=][ \t]*(?:[|>][-+]?[ \t]*\r?\n[ \t]+)?["']?([^\s"';,][^\s"';,]{3,})`),
			SecretGroup: 1, Keywords: []string{"pass", "secret"}, Path: configFile},
		// "passwd:" names a database in nsswitch.conf: only "passwd = value" is an assignment
		{RuleID: "passwd-assignment", Description: "password assigned in a configuration file",
			Regex:       regexp.MustCompile(`(?i)(?:\b|_)(?:passwd|pwd)\b["']?\s*=\s*["']?([^\s"'#;,]{4,})`),
			SecretGroup: 1, Keywords: []string{"passwd", "pwd"}, Path: configFile},
		{RuleID: "netrc-password", Description: ".netrc password",
			Regex: regexp.MustCompile(`(?m)\bpassword\s+(\S+)`), SecretGroup: 1, Path: regexp.MustCompile(`(^|/)[._]netrc$`)},
		{RuleID: "pgpass-password", Description: ".pgpass password",
			Regex: regexp.MustCompile(`(?m)^[^#:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:([^\n]+)$`), SecretGroup: 1, Path: regexp.MustCompile(`(^|/)\.pgpass$`)},
		{RuleID: "mysql-client-password", Description: ".my.cnf password",
			Regex: regexp.MustCompile(`(?m)^\s*password\s*=\s*["']?([^\s"']+)`), SecretGroup: 1, Path: regexp.MustCompile(`(^|/)\.my\.cnf$|/etc/mysql/debian\.cnf$`)},
	}, provisioningRules(cloudInit)...)
}

// provisioningRules find what an image build and its first boot leave: the Azure agent's
// provisioning file, cloud-init's instance data, installer answer files, password-file backups,
// Wi-Fi and VPN secrets, PuTTY keys, application settings and passwords on command lines.
func provisioningRules(cloudInit *regexp.Regexp) []config.Rule {
	return []config.Rule{
		{RuleID: "azure-ovf-user-password", Description: "Azure provisioning password (ovf-env.xml UserPassword)",
			Regex: regexp.MustCompile(`<(?:[\w-]+:)?UserPassword>([^<]{1,})</`), SecretGroup: 1, Keywords: []string{"userpassword>"}},
		{RuleID: "azure-ovf-custom-data", Description: "Azure provisioning custom data (ovf-env.xml CustomData, often holding secrets)",
			Regex: regexp.MustCompile(`<(?:[\w-]+:)?CustomData>([A-Za-z0-9+/=\s]{8,})</`), SecretGroup: 1, Keywords: []string{"customdata>"}},
		{RuleID: "cloud-init-password", Description: "password in cloud-init data (passwd, plain_text_passwd, hashed_passwd)",
			Regex:       regexp.MustCompile(`(?i)\b(?:plain_text_passwd|hashed_passwd|passwd)[ \t]*:[ \t]*["']?([^\s"'#]{4,})`),
			SecretGroup: 1, Keywords: []string{"passwd"}, Path: cloudInit},
		{RuleID: "cloud-init-chpasswd", Description: "password in a cloud-init chpasswd list (user:password)",
			Regex:       regexp.MustCompile(`(?m)^[ \t]+(?:-[ \t]+)?[a-z_][a-z0-9_.-]*:([^\s:]{4,})[ \t]*$`),
			SecretGroup: 1, Path: cloudInit},
		{RuleID: "password-file-backup-hash", Description: "password hash in a backup of the password files (shadow-, gshadow-)",
			Regex:       regexp.MustCompile(`(?m)^[^:\s]+:(\$(?:1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[^:\s]{8,}):`),
			SecretGroup: 1, Path: regexp.MustCompile(`(^|/)(g?shadow-|g?shadow\.(bak|old|orig|save|dpkg-old|rpmsave)|g?shadow~)$|/passwd-backups?/`)},
		{RuleID: "preseed-password", Description: "password in a Debian installer answer file (preseed, debconf)",
			Regex:       regexp.MustCompile(`(?m)^[ \t]*d-i[ \t]+passwd/[\w-]*password(?:-again|-crypted)?[ \t]+password[ \t]+(\S+)`),
			SecretGroup: 1, Keywords: []string{"passwd/"}},
		{RuleID: "installer-debconf-password", Description: "password in the installer's debconf database",
			Regex:       regexp.MustCompile(`(?m)^Name: [\w-]+/[\w-]*password[\w-]*\nTemplate: password\n(?:[A-Z][\w-]*: [^\n]*\n)*?Value: (\S+)`),
			SecretGroup: 1, Keywords: []string{"template: password"}},
		{RuleID: "kickstart-password", Description: "password in a Kickstart file (rootpw, user --password)",
			Regex:       regexp.MustCompile(`(?m)^[ \t]*(?:rootpw(?:[ \t]+--(?:plaintext|iscrypted|allow-ssh))*[ \t]+|user[ \t][^\n]*--password[= ])([^\s-][^\s]{3,})`),
			SecretGroup: 1, Keywords: []string{"rootpw", "--password"}, Path: regexp.MustCompile(`(?i)(^|/)(anaconda-ks|original-ks|[\w.-]*\.ks)(\.cfg)?$|kickstart`)},
		{RuleID: "ignition-password-hash", Description: "password hash in an Ignition config (passwordHash)",
			Regex: regexp.MustCompile(`"passwordHash"\s*:\s*"([^"]{8,})"`), SecretGroup: 1, Keywords: []string{"passwordhash"}},
		{RuleID: "network-secret", Description: "Wi-Fi or VPN secret (NetworkManager psk, wpa_supplicant)",
			Regex:       regexp.MustCompile(`(?m)^[ \t]*(?:psk|wep-key\d|leap-password|private-key-password|password-raw)[ \t]*=[ \t]*"?([^\s"]{4,})`),
			SecretGroup: 1, Path: regexp.MustCompile(`\.nmconnection$|/NetworkManager/system-connections/|wpa_supplicant[^/]*\.conf$`)},
		{RuleID: "putty-private-key", Description: "unencrypted PuTTY private key (.ppk)",
			Regex:       regexp.MustCompile(`PuTTY-User-Key-File-[23]: [^\n]+\r?\nEncryption: none\r?\n(?:[^\n]*\n){1,40}?Private-Lines: \d+\r?\n([A-Za-z0-9+/=]{16,})`),
			SecretGroup: 1, Keywords: []string{"putty-user-key-file"}},
		{RuleID: "php-define-secret", Description: "secret in a PHP define() (DB_PASSWORD, WordPress keys and salts)",
			Regex:       regexp.MustCompile(`define\(\s*['"]([A-Z_]*(?:PASSWORD|PASS|SECRET|_KEY|_SALT))['"]\s*,\s*['"]([^'"]{4,})['"]`),
			SecretGroup: 2, Keywords: []string{"define("}, Path: regexp.MustCompile(`\.php\d?$`)},
		{RuleID: "django-secret", Description: "Django SECRET_KEY or database PASSWORD in settings",
			Regex:       regexp.MustCompile(`(?m)(?:^SECRET_KEY|['"]PASSWORD['"])\s*[:=]\s*['"]([^'"]{4,})['"]`),
			SecretGroup: 1, Keywords: []string{"secret_key", "password"}, Path: regexp.MustCompile(`\.py$`)},
		{RuleID: "command-line-password", Description: "password on a command line (mysql -p, sshpass -p, curl -u, --password=)",
			Regex:       regexp.MustCompile(`(?:\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]*?[ \t]-p|\bsshpass[ \t]+-p[ \t]*|\bcurl\b[^\n]*?[ \t](?:-u|--user)[ \t]+['"]?[^:\s'"]+:|[ \t]--password[= ])['"]?([^\s'"@]{3,})`),
			SecretGroup: 1, Keywords: []string{"mysql", "mariadb", "sshpass", "curl", "--password"}},
	}
}

// Findings returns what was found, sorted by path and line.
func (s *Scanner) Findings() []Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Finding(nil), s.findings...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// Counts says how many files were searched (binary: of them, how many as the strings of binary
// bytes) and skipped as unchanged distribution files, for the report.
func (s *Scanner) Counts() (searched, vendor, binary int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.searched, s.vendor, s.binary
}

// Archives is how many containers were opened and their members searched.
func (s *Scanner) Archives() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.archives
}

// Name implements scan.Scanner.
func (s *Scanner) Name() string { return "secrets" }

// NewWorker implements scan.Scanner.
func (s *Scanner) NewWorker() (scan.Worker, error) {
	if p := s.pending; p != nil {
		p.vendorOnce.Do(func() {
			<-p.vendorReady
			s.opts.Vendor = p.vendor
		})
	}
	return &worker{s: s}, nil
}

// aptCacheDir is where apt keeps the packages it downloaded: the PackageArchives that
// AptArchiveDigests makes name files there only.
const aptCacheDir = "/var/cache/apt/archives/"

// packageArchive is the digest PackageArchives has for the file at loc; with the digests read
// in the background, a file in apt's cache waits for them (and no other file reads them).
func (s *Scanner) packageArchive(loc string) (string, bool) {
	if p := s.pending; p != nil {
		if !strings.HasPrefix(loc, aptCacheDir) {
			return "", false
		}
		p.archivesOnce.Do(func() {
			<-p.archivesReady
			s.opts.PackageArchives = p.archives
		})
	}
	want, ok := s.opts.PackageArchives[loc]
	return want, ok
}

// pipRecord is the SHA-256 (hex) a pip RECORD lists for the file at loc; with the digests read
// in the background, the first file looked up waits for them (a RECORD may name a file anywhere:
// a script in bin/, data in share/).
func (s *Scanner) pipRecord(loc string) (string, bool) {
	if p := s.pending; p != nil {
		p.pipOnce.Do(func() {
			<-p.pipReady
			s.opts.PipRecords = p.pip
		})
	}
	want, ok := s.opts.PipRecords[loc]
	return want, ok
}

// snapRevisions is the set of snap-revision digests a .snap in snapd's directories is looked
// up in (nil for any other file); with the digests read in the background, only such a snap
// waits for them.
func (s *Scanner) snapRevisions(loc string) map[string]int64 {
	if !isSnapFile(loc) {
		return nil
	}
	if p := s.pending; p != nil {
		p.snapsOnce.Do(func() {
			<-p.snapsReady
			s.opts.SnapRevisions = p.snaps
		})
	}
	return s.opts.SnapRevisions
}

// A file is searched in fragments of at most fragmentBytes and fragmentLines, cut at line ends,
// each repeating the last overlapLines (at most overlapBytes) of the one before so that a
// secret spanning lines (a PEM key is ~50) is whole in one of them. Memory is bounded by a
// fragment whatever the file's size, and the time by a constant per fragment: gitleaks finds a
// match's line by walking the fragment's line offsets, which is quadratic over a whole file.
// 64 KiB rather than 32: the overlap, searched twice, is then an eighth of a fragment instead of
// a quarter (12 % less CPU on the ordinary text, BenchmarkPrefilter's user time).
const (
	fragmentBytes = 64 << 10
	fragmentLines = 1024
	overlapBytes  = 8 << 10
	overlapLines  = 80
)

// vendorHold is how much of a file the package manager recorded is held, unsearched, until its
// digest says whether it is unmodified. A file of the image (one with Data) is held without its
// bytes being kept: it is only hashed as it streams and, if its digest does not match, read
// again from Data at End and searched then, in one piece as if it had been kept (an unchanged
// one, the usual case, costs its digest only, no copy; a changed one two reads). A larger one is
// searched again from Data in 1 MiB pieces (catchUp). A container's member (no Data) is held in
// memory, up to vendorHold; a larger one is searched as it streams and its findings dropped at
// End if the digest matches.
const vendorHold = 16 << 20

type worker struct {
	s    *Scanner
	md5  hash.Hash
	frag []byte // the unsearched tail of the current file (and the overlap before it)
	sha  hash.Hash
	buf  []byte // reads of a container's members
	raw  []byte // the bytes of a vendor member held for its digest; a changed vendor file's, read again
	back []byte // reads of a changed vendor file read again at End (catchUp)
	// declined is why the last Begin took no sink (the allow pattern), for the ledger
	declined string
	// sha3 hashes snaps (snapRevisions)
	sha3 hash.Hash
}

func (w *worker) Close() error { return nil }

func (w *worker) Begin(f *scan.File) (scan.Sink, error) {
	loc := f.Location
	if loc == "" {
		loc = f.Path // a member of an archive, or a file a test made
	}
	w.declined = ""
	if f.Size == 0 {
		return nil, nil
	}
	strict := ""
	if a := allowedBy(loc, w.s.opts.AllowPaths); a != "" {
		if !slices.Contains(DefaultAllowPaths, a) {
			w.declined = "an allowed path: " + a + " (secrets_allow_paths)"
			return nil, nil
		}
		if strings.HasPrefix(a, "/etc/ssh/ssh_host_") {
			w.declined = "an allowed path: " + a + " (a default of the checker: no-ssh-host-keys reports it)"
			return nil, nil
		}
		// what package managers generate is searched with the rules that name a credential by
		// its own shape (a key ID, a private key block), not the generic ones its text is full of
		strict = a
	}
	k := w.begin(f)
	k.strict, k.strictBy = strict != "", strict
	// only a file the package manager recorded can be skipped as unmodified: hash only those
	if want, ok := w.s.opts.Vendor[loc]; ok {
		if w.md5 == nil {
			w.md5 = md5.New()
		}
		w.md5.Reset()
		k.vendorMD5 = want
		k.holding = true
		k.digest = w.md5
	}
	if want, ok := w.s.packageArchive(loc); ok && k.vendorMD5 == "" {
		// a package apt downloaded, with the digest its package index lists: unchanged, it is
		// the distribution's archive
		if w.sha == nil {
			w.sha = sha256.New()
		}
		w.sha.Reset()
		k.vendorMD5, k.digest, k.holding = want, w.sha, true
		k.why = "unchanged package archive (apt index SHA-256)"
	}
	if k.vendorMD5 == "" {
		if want, ok := w.s.pipRecord(loc); ok {
			// a file pip installed, with the SHA-256 its distribution's RECORD lists
			if w.sha == nil {
				w.sha = sha256.New()
			}
			w.sha.Reset()
			k.vendorMD5, k.digest, k.holding = want, w.sha, true
			k.why = pipUnchangedReason
		}
	}
	if revs := w.s.snapRevisions(loc); len(revs) > 0 && k.vendorMD5 == "" {
		// a snap: its SHA3-384 is looked up among the snap-revision assertions at End (its name
		// does not matter, its digest does); vendorMD5 only marks it as a file with a digest
		if w.sha3 == nil {
			w.sha3 = newSnapHash()
		}
		w.sha3.Reset()
		k.vendorMD5, k.digest, k.holding, k.snaps = snapDigestPending, w.sha3, true, revs
		k.why = snapUnchangedReason
	}
	return k, nil
}

// begin starts the sink of a file, which may be a container.
func (w *worker) begin(f *scan.File) *sink {
	w.frag, w.raw = w.frag[:0], w.raw[:0]
	return &sink{w: w, f: f, seen: map[string]bool{}, sniff: true, last: -1}
}

type sink struct {
	w         *worker
	f         *scan.File
	n         int64     // bytes handed to the search so far (text, decoded UTF-16 or strings)
	vendorMD5 string    // the digest the package manager recorded (MD5, or SHA-256 for a package archive)
	digest    hash.Hash // and the hash that computes it
	holding   bool      // a vendor file not yet searched, waiting for the digest (its bytes in w.raw when it has no Data)
	// strict: a file under a default allow path (strictBy), searched with the specific rules
	// only (Scanner.strictDetector)
	strict   bool
	strictBy string
	// snaps, for a snap, are the snap-revision digests its SHA3-384 is looked up in (vendorMD5
	// is then snapDigestPending); why is the ledger's reason when the digest matches
	snaps map[string]int64
	why   string
	// deferred: a vendor file too large to hold, only hashed so far; its first at bytes are
	// read again from f.Data and searched if it turns out changed (catchUp)
	deferred bool
	at       int64
	// line is the 0-based line number of w.frag[0]; overlap is how many bytes at the start of
	// w.frag were already searched as the previous fragment's tail
	line    int
	overlap int
	// seen are the findings of the previous fragment that lie in its overlap, not to be
	// reported twice; found are this file's findings
	seen  map[string]bool
	found []Finding
	// pending are the fragments cut and not yet merged, oldest first (parallel.go); peak is the
	// most there were after a fragment was cut
	pending []*fragJob
	peak    int
	// utf16 is the file's encoding when it is UTF-16 text (Windows tools write it); its bytes are
	// searched as UTF-8, carry holding what a read split (an odd byte, a high surrogate)
	utf16 utf16Order
	carry []byte
	began bool
	// sniff: the file may be a container (false for what a container could not open: it is
	// searched as bytes); container is what it is, opened (through f.Data) at End
	sniff     bool
	container containerKind
	// strs is set once the file holds a byte text does not (NUL, a control character, a zero
	// run, a UTF-16 code unit zero): from there on its bytes are searched as their strings, and
	// the lines of the search from strsLine on are strings, not lines of the file
	strs     *extractor
	strsLine int
	last     int    // the last byte searched as text, -1 none
	rawRun   int    // UTF-16 files: the printable ASCII bytes that end the last read
	rawTail  []byte // and the last bytes of that read
	outcome  scan.Outcome
	// holeHashed is how many zeros of holes the digest took (bounded by maxHoleHash); declined:
	// the file was a package's, but a hole too large to hash made the sink give up the digest
	// and search the file instead
	holeHashed int64
	declined   bool
}

// Outcome implements scan.Accounted: what End did with the file.
func (k *sink) Outcome() scan.Outcome { return k.outcome }

// Limit implements scan.Limited: a file of what package managers generate was searched with
// the specific rules only, so the ledger says which default pattern took the generic rules off.
func (k *sink) Limit() string {
	if !k.strict {
		return ""
	}
	return "with the specific rules only, no generic ones (" + k.strictBy + ", a default of the checker)"
}

func (k *sink) Write(p []byte) error {
	if !k.began {
		k.began = true
		if k.sniff {
			// by its first bytes; and by its end (a zip's directory, a VHD footer) or its
			// superblock, unless it is a package's file: that costs a read, and an unchanged one
			// is skipped whatever it is (a changed one is looked at again at End)
			kind := sniffHead(p)
			if kind == notContainer && k.vendorMD5 == "" {
				ra := k.f.Data
				if int64(len(p)) >= k.f.Size {
					ra = bytes.NewReader(p) // the whole file is here
				}
				kind = sniffContainer(p, ra, k.f.Size)
			}
			if kind == notContainer {
				kind = byName(k.f.Path)
			}
			if kind.recognised() {
				k.container = kind
				if k.vendorMD5 == "" {
					return scan.ErrEnough // opened at End
				}
				// a package's container is opened only when its digest says it was changed
			}
		}
		if k.container == notContainer {
			k.utf16 = detectUTF16(p)
		}
		if k.container == notContainer && k.vendorMD5 == "" && int64(len(p)) >= k.f.Size {
			// a DER key or a PKCS#12 bundle as the whole file: searched as its PEM (binkeys.go)
			if text := binaryKeyPEM(p); text != "" {
				k.binaryKey(text)
			}
		}
	}
	k.at += int64(len(p))
	if k.vendorMD5 != "" {
		k.digest.Write(p) // the digest is of the file's bytes
	}
	if k.container != notContainer || k.deferred {
		return nil
	}
	if k.holding {
		// a vendor file's bytes wait, unsearched, for the digest (most are unchanged): a file of
		// the image's are read again if it changed, a member's are kept. While it is held,
		// k.at counts its bytes (a hole ends the holding).
		if k.at <= vendorHold {
			if k.f.Data == nil {
				k.w.raw = append(k.w.raw, p...)
			}
			return nil
		}
		if k.f.Data != nil {
			// too large to hold: hashed to its end, and searched at End only if changed
			k.holding, k.deferred = false, true
			k.w.raw = k.w.raw[:0]
			return nil
		}
		// no random access: search as it streams, decide at the end (a member's held bytes are
		// in memory: release cannot fail)
		if err := k.release(k.at - int64(len(p))); err != nil {
			return err
		}
	}
	k.take(p)
	return nil
}

// take searches the next bytes of the file, as text, UTF-16 text or strings.
func (k *sink) take(p []byte) {
	switch {
	case k.strs != nil:
		k.put(k.strs.feed(k.w.frag, p))
	case k.utf16 != notUTF16:
		k.writeUTF16(p)
	default:
		k.writeText(p)
	}
}

// catchUp ends the deferral of a vendor file: its first end bytes, only hashed so far, are read
// again from f.Data and searched, as the pass handed them (a read that fails is an error: the
// file is then not seen).
func (k *sink) catchUp(end int64) error {
	k.deferred = false
	if k.w.back == nil {
		k.w.back = make([]byte, 1<<20)
	}
	for off := int64(0); off < end; {
		b := k.w.back[:min(int64(len(k.w.back)), end-off)]
		n, err := k.f.Data.ReadAt(b, off)
		if n > 0 {
			k.take(b[:n])
			off += int64(n)
		}
		if n < len(b) {
			return k.rereadError(off, err)
		}
	}
	return nil
}

// rereadError is a short read of a changed package file read again (catchUp, release) at off:
// the file is then not seen.
func (k *sink) rereadError(off int64, err error) error {
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: reading the changed package file again to search it, at offset %d of %d: %w", k.f.Path, off, k.f.Size, err)
}

// release stops holding a vendor file's first end bytes and searches them, in one piece: those
// kept in w.raw, or, for a file of the image, those read again from its Data (a read that fails
// is an error: the file is then not seen).
func (k *sink) release(end int64) error {
	k.holding = false
	held := k.w.raw
	if k.f.Data != nil {
		if int64(cap(held)) < end {
			held = make([]byte, end)
		}
		held = held[:end]
		if n, err := k.f.Data.ReadAt(held, 0); n < len(held) {
			k.w.raw = held[:0]
			return k.rereadError(int64(n), err)
		}
	}
	k.w.raw = nil // take may not append to what it reads
	k.take(held)
	k.w.raw = held[:0]
	return nil
}

// writeText takes bytes of a text file up to the first byte text does not hold; from there on
// the file is searched as its strings.
func (k *sink) writeText(p []byte) {
	i := 0
	for i < len(p) && !binaryByte(p[i]) {
		i++
	}
	if i > 0 {
		k.last = int(p[i-1])
	}
	k.put(append(k.w.frag, p[:i]...))
	if i == len(p) {
		return
	}
	k.toStrings()
	if k.last >= 0 {
		// the last text byte may begin a UTF-16 run ("A\0K\0..."): the extractor starts at it
		k.strs.prev = k.last
	}
	k.put(k.strs.feed(k.w.frag, p[i:]))
}

// writeUTF16 takes bytes of a UTF-16 text file, decoded; a read that does not look like UTF-16
// text (a code unit zero, or printable ASCII bytes in a row: ASCII text, or bytes that decode
// as CJK characters and hide ASCII) switches the file to its strings, from the end of the
// last read on.
func (k *sink) writeUTF16(p []byte) {
	text := k.decodeUTF16(p)
	run, ascii := k.rawRun, false
	for _, c := range p {
		if textByte(c) {
			run++
			ascii = ascii || run >= minRun
		} else {
			run = 0
		}
	}
	if !ascii && bytes.IndexByte(text, 0) < 0 {
		k.rawRun = run
		k.rawTail = append(k.rawTail[:0], p[max(0, len(p)-4*minRun):]...)
		k.put(append(k.w.frag, text...))
		return
	}
	k.toStrings()
	dst := k.strs.feed(k.w.frag, k.rawTail)
	k.put(k.strs.feed(dst, p))
}

// toStrings switches the file to strings mode: the text so far ends its line.
func (k *sink) toStrings() {
	w := k.w
	if len(w.frag) > 0 && w.frag[len(w.frag)-1] != '\n' {
		w.frag = append(w.frag, '\n')
	}
	k.strsLine = k.line + bytes.Count(w.frag, []byte{'\n'})
	k.strs = newExtractor()
}

// put takes w.frag with new bytes appended, and searches its whole fragments.
func (k *sink) put(frag []byte) {
	w := k.w
	k.n += int64(len(frag) - len(w.frag))
	w.frag = frag
	k.flush(false)
}

// utf16Order says whether and how a file is UTF-16 text.
type utf16Order int

const (
	notUTF16 utf16Order = iota
	utf16LE
	utf16BE
	utf32LE // UTF-32 (four bytes a character) is read by the same path: its units are runes
	utf32BE
)

// wide says whether o is UTF-32.
func (o utf16Order) wide() bool { return o == utf32LE || o == utf32BE }

// detectUTF16 recognises UTF-16 text by its byte-order mark, or, without one, by the pattern of
// the whole first read (a file's first 64 KiB, or all of a smaller one): no code unit zero, and
// at least half the code units printable ASCII characters, each followed (LE) or preceded (BE)
// by a zero byte, whatever the first character is. A file taken for UTF-16 that is not goes to
// its strings at the first read that shows it (writeUTF16).
func detectUTF16(p []byte) utf16Order {
	if o := detectUTF32(p); o != notUTF16 {
		return o
	}
	switch {
	case len(p) >= 2 && p[0] == 0xff && p[1] == 0xfe:
		return utf16LE
	case len(p) >= 2 && p[0] == 0xfe && p[1] == 0xff:
		return utf16BE
	}
	n := len(p) &^ 1
	if n < 16 {
		return notUTF16
	}
	le, be := 0, 0
	for i := 0; i < n; i += 2 {
		switch {
		case p[i] == 0 && p[i+1] == 0:
			return notUTF16
		case p[i+1] == 0 && textByte(p[i]):
			le++
		case p[i] == 0 && textByte(p[i+1]):
			be++
		}
	}
	switch units := n / 2; {
	case le*2 >= units && le > be:
		return utf16LE
	case be*2 >= units && be > le:
		return utf16BE
	}
	return notUTF16
}

// detectUTF32 recognises UTF-32 text as detectUTF16 does UTF-16 (issue #24, M7): by its
// byte-order mark (FF FE 00 00, 00 00 FE FF: checked before UTF-16's, which the first begins
// with), or by the whole first read: no unit zero, and at least half the units printable ASCII
// characters in their low byte, the other three zero. Without this, "A\0\0\0K\0\0\0" would
// be binary bytes whose strings hold no run of ASCII.
func detectUTF32(p []byte) utf16Order {
	switch {
	case len(p) >= 4 && p[0] == 0xff && p[1] == 0xfe && p[2] == 0 && p[3] == 0:
		return utf32LE
	case len(p) >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xfe && p[3] == 0xff:
		return utf32BE
	}
	n := len(p) &^ 3
	if n < 32 {
		return notUTF16
	}
	le, be := 0, 0
	for i := 0; i < n; i += 4 {
		switch {
		case p[i]|p[i+1]|p[i+2]|p[i+3] == 0:
			return notUTF16
		case p[i+1]|p[i+2]|p[i+3] == 0 && textByte(p[i]):
			le++
		case p[i]|p[i+1]|p[i+2] == 0 && textByte(p[i+3]):
			be++
		}
	}
	switch units := n / 4; {
	case le*2 >= units && le > be:
		return utf32LE
	case be*2 >= units && be > le:
		return utf32BE
	}
	return notUTF16
}

// decodeUTF32 is decodeUTF16 for UTF-32: four bytes a rune, a partial unit kept for the next
// call; a unit that is no Unicode scalar value decodes as U+FFFD.
func (k *sink) decodeUTF32(p []byte) []byte {
	b := append(k.carry, p...)
	out := make([]byte, 0, len(b)/4)
	i := 0
	for ; i+3 < len(b); i += 4 {
		var u uint32
		if k.utf16 == utf32LE {
			u = uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
		} else {
			u = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		}
		if k.n == 0 && i == 0 && u == 0xfeff {
			continue
		}
		r := rune(u)
		if u > unicode.MaxRune || !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		out = utf8.AppendRune(out, r)
	}
	k.carry = append(k.carry[:0:0], b[i:]...)
	return out
}

// decodeUTF16 turns the next bytes of a UTF-16 file into UTF-8, keeping an odd byte or a high
// surrogate that a read split for the next call; a byte-order mark is dropped.
func (k *sink) decodeUTF16(p []byte) []byte {
	if k.utf16.wide() {
		return k.decodeUTF32(p)
	}
	b := append(k.carry, p...)
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if k.utf16 == utf16LE {
			units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
		} else {
			units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
		}
	}
	k.carry = append(k.carry[:0:0], b[len(units)*2:]...)
	if n := len(units); n > 0 && utf16.IsSurrogate(rune(units[n-1])) && units[n-1] < 0xdc00 {
		// a high surrogate waits for its low half
		hi := units[n-1]
		units = units[:n-1]
		if k.utf16 == utf16LE {
			k.carry = append([]byte{byte(hi), byte(hi >> 8)}, k.carry...)
		} else {
			k.carry = append([]byte{byte(hi >> 8), byte(hi)}, k.carry...)
		}
	}
	if k.n == 0 && len(units) > 0 && units[0] == 0xfeff {
		units = units[1:]
	}
	out := make([]byte, 0, len(units))
	for _, r := range utf16.Decode(units) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// flush searches the whole fragments in w.frag; at the end of the file (last) it also
// searches what is left.
func (k *sink) flush(last bool) {
	w := k.w
	for len(w.frag) > k.overlap {
		cut := fragmentEnd(w.frag, k.overlap)
		if cut < 0 {
			if !last {
				return // not a whole fragment yet
			}
			cut = len(w.frag)
		}
		chunk := w.frag[:cut]
		// the chunk's last lines are searched again at the start of the next fragment, which
		// starts at line nextLine
		ov := overlapStart(chunk)
		nextLine := k.line + bytes.Count(chunk[:ov], []byte{'\n'})
		k.submit(chunk, nextLine, last && cut == len(w.frag))
		k.line = nextLine
		k.overlap = cut - ov
		w.frag = append(w.frag[:0], w.frag[ov:]...)
	}
	if last {
		w.frag, k.overlap = w.frag[:0], 0
	}
}

// fragmentEnd is where the next fragment of b ends: after the last newline within
// fragmentBytes and fragmentLines, past the searched overlap; a line longer than a fragment is
// cut inside it. It is -1 when b does not yet hold a whole fragment.
func fragmentEnd(b []byte, overlap int) int {
	limit := min(len(b), fragmentBytes)
	end, lines := 0, 0
	for lines < fragmentLines {
		i := bytes.IndexByte(b[end:limit], '\n')
		if i < 0 {
			break
		}
		end += i + 1
		lines++
	}
	full := len(b) >= fragmentBytes || lines == fragmentLines
	switch {
	case !full:
		return -1
	case end > overlap:
		return end
	default:
		return fragmentBytes // one line longer than a fragment
	}
}

// overlapStart is where the overlap kept from a searched fragment begins: the start of its
// last overlapLines lines, within its last overlapBytes (inside a line when no newline is that
// close to the end); or, when a PEM private key begins in the chunk's last pemOverlapBytes and
// does not end in it, the start of its BEGIN line, so that the key (gitleaks' private-key rule
// wants BEGIN and END in one fragment) is whole in the next fragment: an 8192-bit RSA key is 99
// lines, a 16384-bit one 6.4 KiB more than that.
func overlapStart(chunk []byte) int {
	lo := max(0, len(chunk)-overlapBytes)
	at := len(chunk)
	for n := 0; n < overlapLines && at > lo+1; n++ {
		i := bytes.LastIndexByte(chunk[lo:at-1], '\n')
		if i < 0 {
			break
		}
		at = lo + i + 1
	}
	if at == len(chunk) {
		at = lo
	}
	if p := openPEMKey(chunk); p >= 0 && p < at && p > 0 {
		return p
	}
	return at
}

// pemOverlapBytes and pemOverlapLines bound the overlap kept for a PEM private key that has not
// ended: at most a quarter of a fragment, so a fragment always moves on by three quarters.
const (
	pemOverlapBytes = fragmentBytes / 4
	pemOverlapLines = fragmentLines / 4
)

// openPEMKey is the start of the line of the last "-----BEGIN ... PRIVATE KEY" (ASCII case
// folded, as gitleaks' rule matches it) in the chunk's last pemOverlapBytes and pemOverlapLines
// that no "-----END" follows, or -1. Only the dashes are looked for first: text without five in
// a row costs one forward search.
func openPEMKey(chunk []byte) int {
	lo, win := pemWindow(chunk)
	// Forward over the runs of dashes, each found by the (vectorised) forward search and taken
	// at its last five, where a backward search would meet it: the last run that opens a
	// private key's block or closes a block decides (a backward search for "-----", on every
	// fragment, cost 3 % of a text image's check).
	open := -1
	for from := 0; ; {
		i := bytes.Index(win[from:], []byte("-----"))
		if i < 0 {
			return open
		}
		j := from + i + 5
		for j < len(win) && win[j] == '-' {
			j++
		}
		rest := win[j:]
		switch {
		case hasFoldedPrefix(rest, "end"):
			open = -1 // a marker that closes a block
		case hasFoldedPrefix(rest, "begin"):
			line := rest
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			if bytes.Contains(bytes.ToUpper(line), []byte("PRIVATE KEY")) {
				open = lo + bytes.LastIndexByte(win[:j-5], '\n') + 1
			}
		}
		from = j
	}
}

// pemWindow is the part of a chunk an open key is looked for in, and where it starts: the
// chunk's last pemOverlapBytes, of those its last pemOverlapLines lines.
func pemWindow(chunk []byte) (lo int, win []byte) {
	lo = max(0, len(chunk)-pemOverlapBytes)
	win = chunk[lo:]
	if bytes.Count(win, []byte{'\n'}) > pemOverlapLines {
		at := len(win)
		for n := 0; n < pemOverlapLines; n++ {
			at = bytes.LastIndexByte(win[:at-1], '\n') + 1
			if at <= 0 {
				break
			}
		}
		lo += at
		win = chunk[lo:]
	}
	return lo, win
}

// hasFoldedPrefix says whether b starts with lower, its ASCII letters compared case-folded.
func hasFoldedPrefix(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if foldASCII[b[i]] != lower[i] {
			return false
		}
	}
	return true
}

// base64 values are decoded where they are known to hold secrets: the data of a Kubernetes
// Secret and a kubeconfig's *-data keys (client-key-data holds a private key). Decoding every
// base64-looking run (gitleaks' MaxDecodeDepth) would search most text twice.
var (
	encodedContext = regexp.MustCompile(`(?m)^kind:\s*["']?Secret\b|-data:`)
	encodedValue   = regexp.MustCompile(`(?m)^([ \t]*(?:-[ \t]+)?)([\w.-]+):[ \t]+["']?([A-Za-z0-9+/]{12,}={0,2})["']?[ \t]*\r?$`)
)

// decodedValue is a decoded base64 value as "key: value" text, on the 1-based line of its
// fragment where the encoded value is.
type decodedValue struct {
	text string
	line int
}

// decodedValues returns the base64 values of a fragment holding a Kubernetes Secret or a
// kubeconfig, decoded (those that decode to text).
func decodedValues(chunk string) []decodedValue {
	// a literal look first: the pattern is anchored per line, and this runs on every fragment
	if !strings.Contains(chunk, "-data:") && !strings.Contains(chunk, "Secret") || !encodedContext.MatchString(chunk) {
		return nil
	}
	var out []decodedValue
	for _, m := range encodedValue.FindAllStringSubmatchIndex(chunk, -1) {
		raw, err := base64.StdEncoding.DecodeString(chunk[m[6]:m[7]])
		if err != nil || !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
			continue
		}
		line := 1 + strings.Count(chunk[:m[0]], "\n")
		out = append(out, decodedValue{text: chunk[m[4]:m[5]] + ": " + string(raw) + "\n", line: line})
	}
	return out
}

func (k *sink) End() (err error) {
	s := k.w.s
	if k.container != notContainer {
		if k.unchanged() {
			k.outcome = scan.Skipped
			s.count(&s.vendor)
			return nil
		}
		if k.f.Data == nil {
			return fmt.Errorf("%s: a %s, but there is no random access to open it with", k.f.Path, k.container)
		}
		u := &unpacking{top: k.f.Path}
		err := k.w.openTop(u, k.f.Path, k.container, k.f.Data, k.f.Size)
		if errors.Is(err, errNotContainer) {
			// its first bytes only looked like a container: its bytes are searched
			k.outcome = scan.Searched
			return k.w.searchPlain(u, k.f.Path, k.f.Size, io.NewSectionReader(k.f.Data, 0, k.f.Size))
		}
		k.outcome = scan.Opened
		s.count(&s.archives)
		return errors.Join(err, u.err())
	}
	if k.unchanged() {
		k.drain() // what a large one had searched as it streamed is dropped
		k.w.frag, k.w.raw = k.w.frag[:0], k.w.raw[:0]
		k.outcome = scan.Skipped
		s.count(&s.vendor)
		return nil
	}
	if k.deferred {
		if err := k.catchUp(k.at); err != nil {
			k.drain()
			k.w.frag = k.w.frag[:0]
			return err
		}
	}
	if k.holding {
		if err := k.release(k.at); err != nil {
			k.drain()
			k.w.frag = k.w.frag[:0]
			return err
		}
	}
	if k.strs != nil {
		k.put(k.strs.close(k.w.frag))
	}
	k.flush(true)
	k.drain()
	k.outcome = scan.Searched
	s.count(&s.searched)
	if k.strs != nil {
		s.count(&s.binary)
	}
	var opened error
	if (k.vendorMD5 != "" || k.declined) && k.sniff && k.f.Data != nil {
		// a changed package file that its first bytes do not say is a container may say so by
		// its end: its members are searched too
		head := make([]byte, min(k.f.Size, sniffBytes))
		if n, _ := k.f.Data.ReadAt(head, 0); n == len(head) {
			if kind := sniffContainer(head, k.f.Data, k.f.Size); kind.recognised() {
				u := &unpacking{top: k.f.Path}
				if err := k.w.openTop(u, k.f.Path, kind, k.f.Data, k.f.Size); !errors.Is(err, errNotContainer) {
					k.outcome = scan.Opened
					s.count(&s.archives)
					opened = errors.Join(err, u.err())
				}
			}
		}
	}
	defer func() {
		if opened != nil {
			err = errors.Join(err, opened)
		}
	}()
	if len(k.found) == 0 {
		return nil
	}
	// a secret the strings of binary data repeat is reported once
	named := map[string]bool{}
	for _, f := range k.found {
		if f.Line > 0 {
			named[f.Rule+"\x00"+f.Fingerprint] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range k.found {
		key := f.Rule + "\x00" + f.Fingerprint
		if f.Line == 0 {
			if named[key] {
				continue
			}
			named[key] = true
		}
		if !s.allowFP[f.Fingerprint] {
			s.findings = append(s.findings, f)
		}
	}
	return nil
}

func (s *Scanner) count(c *int64) {
	s.mu.Lock()
	*c++
	s.mu.Unlock()
}

func (s *Scanner) finding(p string, f report.Finding) Finding {
	secret := f.Secret
	if secret == "" {
		secret = f.Match
	}
	mac := hmac.New(sha256.New, s.opts.FingerprintKey)
	mac.Write([]byte(f.RuleID + "\x00" + secret))
	sum := mac.Sum(nil)
	excerpt := Redact(secret)
	if f.RuleID == "private-key" || f.RuleID == "gcp-service-account" {
		excerpt = firstLine(secret) + " (" + fmt.Sprint(len(secret)) + " chars)"
	}
	return Finding{Path: p, Line: f.StartLine + 1, Rule: f.RuleID, Description: f.Description,
		Excerpt: excerpt, Fingerprint: hex.EncodeToString(sum[:8])}
}

// firstLine is a PEM block's header line, which names the key type and reveals nothing.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\n\\"); i > 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "-----"); i >= 0 {
		if j := strings.Index(s[i+5:], "-----"); j >= 0 {
			return s[i : i+5+j+5]
		}
	}
	return Redact(s)
}

// Redact shows the length of a secret and at most its first quarter, never more than four
// characters ("Sup3… (19 chars)", "p… (6 chars)").
func Redact(s string) string {
	show := min(4, len(s)/4)
	for show > 0 && !utf8.RuneStart(s[show]) {
		show-- // never cut a character in two
	}
	if len(s) < 4 {
		return strings.Repeat("*", len(s))
	}
	return fmt.Sprintf("%s… (%d chars)", s[:show], len(s))
}

// variableReference says whether a value is a reference the program that reads it expands:
// "$NAME", "${...}", "$(...)" (shell, compose, systemd), "$$" escapes aside; a password that
// only starts with "$" ("$Kq8!vR2#pLm9xZ") is a value.
func variableReference(v string) bool {
	if !strings.HasPrefix(v, "$") {
		return false
	}
	rest := v[1:]
	if strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, "(") {
		return true
	}
	// NAME, or OpenSSL's SECTION::NAME ($ENV::PASSWORD in openssl.cnf)
	for _, part := range strings.Split(rest, "::") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// allowed reports whether p matches one of the allow patterns.
func allowed(p string, patterns []string) bool { return allowedBy(p, patterns) != "" }

// allowedBy is the first of the allow patterns that p matches, or "".
func allowedBy(p string, patterns []string) string {
	for _, a := range patterns {
		dir := strings.TrimSuffix(strings.TrimSuffix(a, "**"), "/")
		if strings.HasSuffix(a, "/") || strings.HasSuffix(a, "/**") {
			if strings.HasPrefix(p, dir+"/") {
				return a
			}
			continue
		}
		if ok, _ := path.Match(a, p); ok || a == p {
			return a
		}
	}
	return ""
}

// Declined implements scan.Decliner: the allow pattern that declined the last file begun.
func (w *worker) Declined() string { return w.declined }

// ignore drops what is not a usable credential: encrypted private keys, placeholders and
// commented-out example assignments.
func ignore(f report.Finding) bool {
	switch f.RuleID {
	case "private-key":
		return encryptedKey(f.Secret + f.Match)
	case "password-assignment", "passwd-assignment", "netrc-password", "pgpass-password", "mysql-client-password", "url-with-password", "generic-api-key":
		t := strings.TrimSpace(f.Line)
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "//") {
			return true
		}
		return placeholder(f.Secret)
	}
	return false
}

// encryptedKey reports whether a PEM or OpenSSH private key is protected by a passphrase. The
// key is the last BEGIN line of what the private-key rule matched (its lazy match may start at
// an earlier, decoy BEGIN line), and only that key's own armour counts: PKCS#8's label
// "ENCRYPTED PRIVATE KEY"; RFC 1421's headers of a traditionally encrypted key, which come
// right after its BEGIN line, "Proc-Type: 4,ENCRYPTED" and a DEK-Info naming the cipher (OpenSSL
// refuses a Proc-Type without one, and Go's pem and x509 packages load such a key unencrypted);
// an OpenSSH key's cipher name, inside its base64 body. Never the word "ENCRYPTED" elsewhere:
// an OpenSSH key's comment is inside its body, so whoever makes the key can spell it there.
func encryptedKey(pem string) bool {
	pem = strings.ReplaceAll(strings.ReplaceAll(pem, `\r\n`, "\n"), `\n`, "\n") // a key inside a JSON string
	i := strings.LastIndex(strings.ToUpper(pem), "-----BEGIN")
	if i < 0 {
		return false
	}
	block := pem[i:]
	label, rest, _ := strings.Cut(block, "\n")
	switch {
	case strings.Contains(label, "BEGIN ENCRYPTED PRIVATE KEY"):
		return true
	case strings.Contains(label, "BEGIN OPENSSH PRIVATE KEY"):
		return opensshEncrypted(rest)
	}
	procType, dek := false, false
	for _, line := range strings.Split(rest, "\n") {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.ContainsAny(name, " \t") {
			break // the headers end where the base64 body (or a blank line) begins
		}
		value = strings.TrimSpace(value)
		switch name {
		case "Proc-Type":
			procType = strings.ReplaceAll(value, " ", "") == "4,ENCRYPTED"
		case "DEK-Info":
			cipher, _, _ := strings.Cut(value, ",")
			dek = strings.TrimSpace(cipher) != ""
		}
	}
	return procType && dek
}

// opensshEncrypted says whether the body of an OpenSSH private key (what follows its BEGIN
// line) names a cipher other than "none".
func opensshEncrypted(body string) bool {
	if j := strings.Index(body, "-----END"); j >= 0 {
		body = body[:j]
	}
	body = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, body)
	raw, err := base64.StdEncoding.DecodeString(body[:len(body)/4*4])
	if err != nil && len(raw) == 0 {
		return false
	}
	// "openssh-key-v1\0", then the cipher name as a uint32-length string: "none" when unencrypted
	const magic = "openssh-key-v1\x00"
	if !bytes.HasPrefix(raw, []byte(magic)) || len(raw) < len(magic)+4 {
		return false
	}
	rest := raw[len(magic):]
	n := int(rest[0])<<24 | int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3])
	if n <= 0 || n > 64 || len(rest) < 4+n {
		return false
	}
	return string(rest[4:4+n]) != "none"
}

// shippedExamples are demonstration values distributions ship in their default configuration
// (OpenSSL's CMP "insta" test-server section in /etc/ssl/openssl.cnf).
var shippedExamples = map[string]bool{"pass:insta": true}

// placeholder reports values that are obviously not real secrets.
func placeholder(v string) bool {
	l := strings.ToLower(strings.Trim(v, `"'`))
	if shippedExamples[l] {
		return true
	}
	if variableReference(l) || strings.HasPrefix(l, "%(") || strings.HasPrefix(l, "<") ||
		strings.HasPrefix(l, "{{") || strings.HasPrefix(l, "${") || strings.Trim(l, "*x.") == "" {
		return true
	}
	switch l {
	case "none", "null", "false", "true", "empty", "required", "optional", "string", "yes", "no", "prompt", "password", "changeme", "secret":
		return true
	}
	return false
}
