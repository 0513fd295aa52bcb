// Package redact hides credentials in text that quotes an image or a URL: passwords in URLs
// (scheme://user:PASSWORD@host), secret query parameters (a SAS token's sig=, token=, ...),
// and password-like assignments (password=..., psk: ...). Every message, report and log line
// that may quote image content or a user's URL goes through Text, so that no output prints a
// credential whole.
package redact

import (
	"io"
	"regexp"
	"strings"
)

// Mask replaces a hidden value.
const Mask = "<redacted>"

// queryKeys are query parameters whose values are credentials (a SAS token's sig, ...).
var queryKeys = `(?:password|passwd|pwd|pass|passphrase|psk|secret|client_secret|token|access_token|refresh_token|api_key|apikey|access_key|secret_key|sig|signature|auth|authorization|credential|credentials|key|code)`

// assignKeys are names whose assigned values are credentials (root_password=, "psk": ...).
var assignKeys = `(?:password|passwd|pwd|_pass|passphrase|psk|secret|client_secret|token|access_token|refresh_token|api_key|apikey|access_key|secret_key|access_key_secret|accountkey)`

var (
	// scheme://user:password@ — the password ends at the last "@" before the host
	userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#@:'"<>]*):([^\s/?#'"<>]*)@`)
	// ?sig=VALUE or &token=VALUE (also ;-separated, as in a cmdline's ds= value)
	queryParam = regexp.MustCompile(`(?i)([?&;]` + queryKeys + `=)([^&;#\s'"<>]+)`)
	// password=VALUE, password: VALUE, "password": "VALUE"; and, as .netrc and wpa_supplicant
	// write them, password VALUE, psk VALUE
	// (within one line: a table's "... empty password" must not swallow the next line's start)
	assignment = regexp.MustCompile(`(?i)(\b[a-z0-9_.-]*` + assignKeys + `["']?[ \t]*[:=][ \t]*["']?|\b(?:password|psk)[ \t]+["']?)([^\s"',;&]+)`)
)

// Text returns s with every credential it recognises replaced by Mask. Use it on text taken
// from an image or a user (a configuration line, a command line, a URL), before it enters a
// sentence: its password-like assignment detector ("password VALUE", "psk: VALUE") cannot tell
// a value from the words of a finished sentence that follow "password".
func Text(s string) string {
	if s == "" {
		return s
	}
	s = URLs(s)
	s = assignment.ReplaceAllStringFunc(s, func(m string) string {
		sub := assignment.FindStringSubmatch(m)
		if strings.HasPrefix(sub[2], Mask) || placeholder(sub[2]) {
			return m
		}
		return sub[1] + Mask
	})
	return s
}

// URLs returns s with the credentials of URLs replaced by Mask: the password of a
// scheme://user:PASSWORD@host and the values of secret query parameters (?sig=, &token=, and
// ;-separated ones). These shapes never occur in prose, so URLs is safe on a finished sentence
// (a rule's message that may quote an image): it hides what a sentence quotes without
// rewriting its words.
func URLs(s string) string {
	if s == "" {
		return s
	}
	s = userinfo.ReplaceAllString(s, "${1}:"+Mask+"@")
	return queryParam.ReplaceAllStringFunc(s, func(m string) string {
		sub := queryParam.FindStringSubmatch(m)
		if sub[2] == Mask {
			return m
		}
		return sub[1] + Mask
	})
}

// placeholder: values that are not credentials but the words around them ("password
// authentication", "key ring", a rule's own text), so that messages stay readable.
func placeholder(v string) bool {
	l := strings.ToLower(strings.Trim(v, `"'()[]{}.`))
	switch l {
	case "", "yes", "no", "true", "false", "none", "null", "is", "are", "was", "in", "of", "for", "to", "and", "or", "the", "a", "an",
		"set", "not", "found", "files", "file", "hash", "hashes", "authentication", "login", "policy", "file(s)", "with", "without":
		return true
	}
	return strings.HasPrefix(l, "<") || strings.HasPrefix(l, "$") || strings.HasPrefix(l, "%")
}

// Writer returns a writer that redacts each write to w (callers write whole messages).
func Writer(w io.Writer) io.Writer { return writer{w} }

type writer struct{ w io.Writer }

func (r writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Error returns err with its text redacted (nil stays nil).
func Error(err error) error {
	if err == nil {
		return nil
	}
	if t := Text(err.Error()); t != err.Error() {
		return redactedError{t, err}
	}
	return err
}

// redactedError prints the redacted text; errors.Is/As still see the original chain.
type redactedError struct {
	text string
	err  error
}

func (e redactedError) Error() string { return e.text }
func (e redactedError) Unwrap() error { return e.err }
