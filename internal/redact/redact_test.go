package redact

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, c := range []struct{ in, secret, keep string }{
		{"https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sig=SECRETSIG%2B1", "SECRETSIG", "sv=2021-08-06"},
		{"Get \"https://127.0.0.1:9/c/x.vhd?sv=1&sig=SECRET\": dial tcp 127.0.0.1:9: connect: connection refused", "SECRET", "connection refused"},
		{"https://user:hunter2pw@example.com/x", "hunter2pw", "user:"},
		{"ds=nocloud-net;s=https://u:Cmd1inePw@seed.example.com/ console=ttyS0", "Cmd1inePw", "console=ttyS0"},
		{"mysql://app:MyPw0rd!@db:3306/app", "MyPw0rd", "db:3306"},
		{"redis://:EmptyUserPw@cache:6379", "EmptyUserPw", "cache:6379"},
		{`          password: "Wifi-Pa55"`, "Wifi-Pa55", "password"},
		{"psk=Wpa2SecretKey", "Wpa2SecretKey", "psk="},
		{"root_password=TopSecret1 quiet", "TopSecret1", "quiet"},
		{`{"client_secret": "abcDEF123"}`, "abcDEF123", "client_secret"},
	} {
		got := Text(c.in)
		if strings.Contains(got, c.secret) || !strings.Contains(got, c.keep) || !strings.Contains(got, Mask) {
			t.Errorf("Text(%q) = %q", c.in, got)
		}
	}
	for _, keep := range []string{
		"PasswordAuthentication no", "no password hash", "3 file(s) could not be read", "console=ttyS0 earlyprintk=ttyS0 rootdelay=300",
		"https://example.com/path?x=1", "key ring is empty",
		// a report table: a line ending in "password" must not hide the next line's first word
		"PASS    high      locked-accounts            No account has a usable or empty password\nPASS    critical  no-hardcoded-credentials",
		"password:\n  - item",
	} {
		if got := Text(keep); got != keep {
			t.Errorf("Text(%q) = %q: changed text that holds no credential", keep, got)
		}
	}
}

func FuzzText(f *testing.F) {
	f.Add("https://u:p@h/x?sig=s")
	f.Add("password=secret")
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if Text(out) != out {
			t.Errorf("not idempotent: %q -> %q -> %q", s, out, Text(out))
		}
	})
}

// URLs hides what only a URL can carry and leaves prose alone, even prose that says "password".
func TestURLsLeavesSentencesAlone(t *testing.T) {
	for _, c := range []struct{ in, secret, keep string }{
		{"https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sig=SECRETSIG%2B1", "SECRETSIG", "sv=2021-08-06"},
		{"ds=nocloud-net;s=https://u:Cmd1inePw@seed.example.com/ console=ttyS0", "Cmd1inePw", "seed.example.com"},
		{"missing earlyprintk in: root=/dev/sda1 db=mysql://app:MyPw0rdX@db:3306/app", "MyPw0rdX", "db:3306"},
	} {
		if got := URLs(c.in); strings.Contains(got, c.secret) || !strings.Contains(got, c.keep) || !strings.Contains(got, Mask) {
			t.Errorf("URLs(%q) = %q", c.in, got)
		}
	}
	for _, keep := range []string{
		"1 account(s) can log in with a password (Microsoft's suite would pass it: it only fails a password hash in /etc/shadow)",
		"account bob has an empty password", "psk files: 2", "password authentication is on",
	} {
		if got := URLs(keep); got != keep {
			t.Errorf("URLs(%q) = %q: rewrote a sentence", keep, got)
		}
	}
}

func FuzzURLs(f *testing.F) {
	f.Add("https://u:p@h/x?sig=s")
	f.Add("a password Microsoft's")
	f.Fuzz(func(t *testing.T, s string) {
		out := URLs(s)
		if URLs(out) != out {
			t.Errorf("not idempotent: %q -> %q -> %q", s, out, URLs(out))
		}
		if Text(out) != Text(s) {
			t.Errorf("Text after URLs differs: %q vs %q", Text(out), Text(s))
		}
	})
}
