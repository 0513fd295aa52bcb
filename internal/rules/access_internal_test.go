package rules

import (
	"strings"
	"testing"
)

func TestRootKeysRestricted(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq x"
	for _, c := range []struct {
		data       string
		keys       int
		restricted bool
	}{
		{"", 0, false},
		{"# only a comment\n", 0, false},
		{key + "\n", 1, false},
		{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \"opc\" rather than the user \"root\".';echo;sleep 10;exit 142" ` + key + "\n", 1, true},
		{`no-port-forwarding,no-agent-forwarding,no-x11-forwarding,command="sleep 10" ` + key + "\n" + key + "\n", 2, false},
		{`no-port-forwarding,no-agent-forwarding,command="x,no-X11-forwarding" ` + key + "\n", 1, false}, // inside the quotes: no option
		{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding ` + key + "\n", 1, false},
		{`restrict,command="echo no" ` + key + "\n", 1, true},                                                         // restrict turns every forwarding off
		{`restrict,port-forwarding,command="echo no" ` + key + "\n", 1, false},                                        // and an option after it turns one back on
		{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="x" ` + key + "\n#" + key + "\n", 1, true}, // a comment is not a key
	} {
		n, ok, err := rootKeysRestricted("/root/.ssh/authorized_keys", []byte(c.data))
		if err != nil || n != c.keys || ok != c.restricted {
			t.Errorf("%q: %d keys, restricted %v; want %d, %v", c.data, n, ok, c.keys, c.restricted)
		}
	}
}

func FuzzRootKeysRestricted(f *testing.F) {
	f.Add([]byte(`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo \"x\"" ssh-ed25519 AAAA k` + "\n"))
	f.Add([]byte("command=\"unterminated ssh-rsa AAAA\n\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, ok, err := rootKeysRestricted("/root/.ssh/authorized_keys", data)
		if err == nil && (ok && n == 0 || n > strings.Count(string(data), "\n")+1) {
			t.Errorf("%d keys, restricted %v", n, ok)
		}
	})
}
