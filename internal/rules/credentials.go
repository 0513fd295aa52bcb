package rules

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"regexp"
	"strings"
)

// credentialRoots are where hard-coded credentials are looked for.
var credentialRoots = []string{"/etc", "/root", "/home", "/opt", "/srv", "/var/www", "/usr/local/etc", "/usr/local/bin"}

const maxCredentialFile = 1 << 20

// configExts are the file types where "password = ..." is a real assignment.
var configExts = map[string]bool{".conf": true, ".cfg": true, ".ini": true, ".env": true, ".properties": true,
	".yaml": true, ".yml": true, ".json": true, ".xml": true, ".toml": true, ".cnf": true, ".sh": true, ".config": true}

var configNames = map[string]bool{".netrc": true, ".pgpass": true, ".my.cnf": true, ".git-credentials": true, ".env": true, "credentials": true}

// secretDetector finds one kind of secret in a line and returns the matched secret text.
type secretDetector struct {
	kind       string
	re         *regexp.Regexp
	group      int  // which submatch is the secret
	configOnly bool // only in configuration files
}

var secretDetectors = []secretDetector{
	{kind: "private key (PEM/OpenSSH)", re: regexp.MustCompile(`-----BEGIN ((RSA|DSA|EC|OPENSSH) )?PRIVATE KEY-----`)},
	{kind: "AWS access key ID", re: regexp.MustCompile(`\b((?:AKIA|ASIA)[0-9A-Z]{16})\b`), group: 1},
	{kind: "Alibaba Cloud AccessKey ID", re: regexp.MustCompile(`\b(LTAI[0-9A-Za-z]{12,24})\b`), group: 1},
	{kind: "Azure storage account key", re: regexp.MustCompile(`AccountKey=([A-Za-z0-9+/]{40,}={0,2})`), group: 1},
	{kind: "Azure SAS token", re: regexp.MustCompile(`[?&]sig=([A-Za-z0-9%+/=]{20,})`), group: 1},
	{kind: "password assignment", re: regexp.MustCompile(`(?i)\b(?:password|db_pass|db_password|secret|secret_key|access_key_secret|client_secret)\b["']?\s*[:=]\s*["']?([^\s"'#;,]{4,})`), group: 1, configOnly: true},
	// "passwd:" and "pwd:" name things in nsswitch.conf and friends: only "passwd = value" counts
	{kind: "password assignment", re: regexp.MustCompile(`(?i)\b(?:passwd|pwd)\b["']?\s*=\s*["']?([^\s"'#;,]{4,})`), group: 1, configOnly: true},
	{kind: "URL with embedded password", re: regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s:@]{3,})@`), group: 1},
}

// shippedExamples are demonstration values that distributions ship in their default
// configuration files (OpenSSL's CMP "insta" test-server section in /etc/ssl/openssl.cnf).
var shippedExamples = map[string]bool{"pass:insta": true}

// placeholder reports values that are obviously not real secrets.
func placeholder(v string) bool {
	l := strings.ToLower(v)
	if shippedExamples[l] {
		return true
	}
	if strings.HasPrefix(l, "$") || strings.HasPrefix(l, "%(") || strings.HasPrefix(l, "<") ||
		strings.HasPrefix(l, "{{") || strings.Trim(l, "*x.") == "" {
		return true
	}
	switch l {
	case "none", "null", "false", "true", "empty", "required", "optional", "string", "yes", "no", "prompt":
		return true
	}
	return false
}

// Redact shows only the first four characters and the length of a secret.
func Redact(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return fmt.Sprintf("%s… (%d chars)", s[:4], len(s))
}

var _ = register(&Rule{
	ID:        "no-hardcoded-credentials",
	Title:     "No hard-coded credentials (private keys, cloud AccessKeys, passwords in config files)",
	Profiles:  []string{profAlibaba},
	Severity:  Critical,
	Source:    "rules.md L20 (ALI: no hard-coded credentials: DB passwords, API/Access keys, private keys)",
	Rationale: "A credential in an image is handed to every customer and cannot be rotated per instance.",
	Fix:       "Remove the credential and rotate it; have the application read secrets at deploy time (cloud-init, a key vault, RAM roles).",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		for _, root := range credentialRoots {
			err := c.walkFiles(root, func(p string, fi iofs.FileInfo) error {
				if fi.Size() == 0 || fi.Size() > maxCredentialFile || p == "/etc/shadow" || p == "/etc/gshadow" {
					return nil
				}
				data, err := c.Image.ReadFile(p)
				if err != nil {
					return err
				}
				if bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
					return nil // binary
				}
				isConfig := configExts[path.Ext(p)] || configNames[path.Base(p)] || strings.HasPrefix(p, "/etc/")
				for i, line := range strings.Split(string(data), "\n") {
					t := strings.TrimSpace(line)
					comment := strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "//")
					for _, d := range secretDetectors {
						// commented-out assignments are examples; keys and tokens count anywhere
						if d.configOnly && (!isConfig || comment) {
							continue
						}
						m := d.re.FindStringSubmatch(line)
						if m == nil {
							continue
						}
						detail := d.kind
						if d.group > 0 {
							if placeholder(m[d.group]) {
								continue
							}
							detail += ": " + Redact(m[d.group])
						}
						ev = append(ev, Evidence{Path: p, Line: i + 1, Detail: detail})
					}
				}
				return nil
			})
			if err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return errResult(err)
			}
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d hard-coded credential(s) found", len(ev)), listing(ev, 30)...)
		}
		return pass("no credentials found under " + strings.Join(credentialRoots, ", "))
	}),
})
