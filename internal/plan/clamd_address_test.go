package plan

import (
	"strings"
	"testing"
)

// A clamd address that packer validate accepts can be dialled: every malformed one fails New
// with the option's name.
func TestClamdAddressValidated(t *testing.T) {
	for addr, want := range map[string]string{
		"tcp://localhost":              "missing port",
		"nonsense::::":                 "too many colons",
		"tcp://:3310":                  "no host",
		"tcp://host:0":                 "port \"0\"",
		"tcp://host:65536":             "port \"65536\"",
		"tcp://host:http":              "port \"http\"",
		"host:-1":                      "port \"-1\"",
		"tcp://a/b:3310":               "no host",
		"unix://relative.ctl":          "not absolute",
		"unix:///run/clamav/":          "names a directory",
		"/" + strings.Repeat("s", 107): "longer than",
		"unix:///a\x00b":               "NUL",
		"ftp://host:21":                "want unix://",
	} {
		_, err := New(Choices{Content: ContentChoices{ClamdAddress: addr}})
		if err == nil || !strings.Contains(err.Error(), "clamd_address: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming clamd_address with %q", addr, err, want)
		}
	}
	if _, err := New(Choices{Flags: true, Content: ContentChoices{ClamdAddress: "tcp://localhost"}}); err == nil || !strings.Contains(err.Error(), "--clamd: ") {
		t.Errorf("CLI: %v", err)
	}
	for _, addr := range []string{"tcp://127.0.0.1:3310", "tcp://[::1]:3310", "localhost:1", "clamav.internal:65535",
		"unix:///run/clamav/clamd.ctl", "/run/clamav/clamd.ctl", "/" + strings.Repeat("s", 106)} {
		if _, err := New(Choices{Content: ContentChoices{ClamdAddress: addr}}); err != nil {
			t.Errorf("%q: %v", addr, err)
		}
	}
}
