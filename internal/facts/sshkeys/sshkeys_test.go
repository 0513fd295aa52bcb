package sshkeys

import (
	"errors"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

const blob = "AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Q"

const cloudInit = `no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo 'Please login as the user \"ubuntu\" rather than the user \"root\".';echo;sleep 10;exit 142" ssh-ed25519 ` + blob + " ubuntu\n"

// Each line as sshd 9.2 reads it: a key (with its forced command and whether it forwards
// ports) or a line sshd skips.
func TestLinesAsSshdReadsThem(t *testing.T) {
	for _, c := range []struct {
		line     string
		key      bool
		command  string
		forwards bool
		redirect bool
	}{
		{line: "ssh-ed25519 " + blob + " c", key: true, forwards: true},
		{line: "  \tssh-ed25519 " + blob, key: true, forwards: true},
		{line: "ssh-ed25519\t" + blob, key: true, forwards: true},
		{line: "# ssh-ed25519 " + blob},
		{line: "  # ssh-ed25519 " + blob},
		{line: "ssh-ed25519"},                                     // no blank after the type
		{line: "ssh-ed25519 "},                                    // no blob
		{line: "RSA " + blob, key: true, forwards: true},          // short name, any case
		{line: "ed25519 " + blob, key: true, forwards: true},      // short name, any case
		{line: "rsa-sha2-512 " + blob, key: true, forwards: true}, // a signature name
		{line: "foo-key " + blob},
		// options
		{line: cloudInit, key: true, command: `echo 'Please login as the user "ubuntu" rather than the user "root".';echo;sleep 10;exit 142`, redirect: true},
		{line: `restrict,command="echo 'Please login as the user \"a\" rather than the user \"root\".';echo;sleep 10" ssh-rsa ` + blob, key: true,
			command: `echo 'Please login as the user "a" rather than the user "root".';echo;sleep 10`, redirect: true},
		// a forced redirect that still forwards ports lets a tunnel in
		{line: `command="echo 'Please login as the user \"a\" rather than the user \"root\".';echo;sleep 10" ssh-rsa ` + blob, key: true,
			command: `echo 'Please login as the user "a" rather than the user "root".';echo;sleep 10`, forwards: true},
		// restrict then port-forwarding re-enabled
		{line: `restrict,port-forwarding,command="x" ssh-rsa ` + blob, key: true, command: "x", forwards: true},
		// the redirect in the comment of a key without options: a full login
		{line: "ssh-ed25519 " + blob + ` command="echo 'Please login as the user \"a\" rather than the user \"root\".';echo;sleep 10"`, key: true, forwards: true},
		// the redirect followed by a shell
		{line: `no-port-forwarding,command="echo 'Please login as the user \"a\" rather than the user \"root\".';echo;sleep 10;exec bash" ssh-rsa ` + blob, key: true,
			command: `echo 'Please login as the user "a" rather than the user "root".';echo;sleep 10;exec bash`},
		{line: `NO-PORT-FORWARDING,Command="a b" ssh-rsa ` + blob, key: true, command: "a b"},
		{line: `command="a \"b\" c" ssh-rsa ` + blob, key: true, command: `a "b" c`, forwards: true},
		{line: `from="10.0.0.0/8",environment="A=b c",tunnel="1",permitopen="h:1",expiry-time="20300101" ssh-rsa ` + blob, key: true, forwards: true},
		{line: `pty,no-pty,user-rc,no-user-rc,cert-authority,touch-required,no-touch-required,verify-required ssh-rsa ` + blob, key: true, forwards: true},
		// refused options: sshd skips the line
		{line: `command="a",command="b" ssh-rsa ` + blob},
		{line: `command=a ssh-rsa ` + blob},
		{line: `command="a ssh-rsa ` + blob},
		{line: `bogus ssh-rsa ` + blob},
		{line: `no-restrict ssh-rsa ` + blob},
		{line: `ptyx ssh-rsa ` + blob},
		{line: `pty, ssh-rsa ` + blob, key: true, forwards: true}, // a comma then a blank ends the options
		{line: `pty;no-pty ssh-rsa ` + blob},
		{line: `command ="a" ssh-rsa ` + blob},
		// options but no key after them
		{line: `command="a" ` + blob},
		{line: `command="a"`},
	} {
		f, err := Parse("k", []byte(c.line+"\n"))
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		if got := len(f.Keys) == 1; got != c.key {
			t.Errorf("%q: key %v, want %v (skipped %+v)", c.line, got, c.key, f.Skipped)
			continue
		}
		if !c.key {
			continue
		}
		k := f.Keys[0]
		if k.Options.Command != c.command || k.Options.PortForwarding != c.forwards || k.LoginRedirect() != c.redirect || f.RedirectOnly() != c.redirect {
			t.Errorf("%q: command %q forwards %v redirect %v, want %q %v %v", c.line, k.Options.Command, k.Options.PortForwarding, k.LoginRedirect(), c.command, c.forwards, c.redirect)
		}
	}
}

// A file redirects only when every key does and it has one; lines are numbered, a NUL ends a
// line as it ends sshd's C string, and the bounds are errors naming the file and offset.
func TestFileBoundsAndRedirectOnly(t *testing.T) {
	f, err := Parse("k", []byte(cloudInit+"# c\n\n"+cloudInit))
	if err != nil || !f.RedirectOnly() || len(f.Keys) != 2 || f.Keys[1].Line != 4 {
		t.Fatalf("two redirects: %+v %v", f, err)
	}
	f, _ = Parse("k", []byte(cloudInit+"ssh-ed25519 "+blob+"\n"))
	if f.RedirectOnly() {
		t.Error("a redirect and a plain key: redirect only")
	}
	f, _ = Parse("k", []byte("# only comments\n\nbogus line\n"))
	if f.RedirectOnly() || len(f.Skipped) != 1 || f.Skipped[0].Line != 3 {
		t.Errorf("no keys: %+v", f)
	}
	// "command=\"x\"\x00 ..." : sshd's line ends at the NUL, so the key after it is not read
	f, _ = Parse("k", []byte("ssh-ed25519\x00 "+blob+"\n"))
	if len(f.Keys) != 0 {
		t.Errorf("a NUL after the type: %+v", f.Keys)
	}
	line := "ssh-ed25519 " + blob + " " + strings.Repeat("c", MaxLine) + "\n"
	_, err = Parse("/root/.ssh/authorized_keys", []byte(cloudInit+line))
	var long *sysconf.LineTooLongError
	if !errors.As(err, &long) || long.Line != 2 || long.Offset != int64(len(cloudInit)) || !strings.Contains(err.Error(), "/root/.ssh/authorized_keys") {
		t.Errorf("a line over %d bytes: %v", MaxLine, err)
	}
	exact := "ssh-ed25519 " + blob + " " + strings.Repeat("c", MaxLine-len("ssh-ed25519 "+blob+" ")-1) + "\n"
	if f, err := Parse("k", []byte(exact)); err != nil || len(f.Keys) != 1 {
		t.Errorf("a line of exactly %d bytes: %v", MaxLine, err)
	}
	if _, err := Parse("k", make([]byte, MaxFile+1)); err == nil {
		t.Errorf("a file over %d bytes read", MaxFile)
	}
	if _, err := Parse("k", []byte(strings.Repeat("\n", MaxFile))); err != nil {
		t.Errorf("a file of exactly %d bytes: %v", MaxFile, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{cloudInit, "ssh-rsa " + blob, `command="a\"b",pty ssh-rsa x`, `"`, `a"b c"d ssh-rsa x`, "#\n\x00\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("k", data)
		if err != nil {
			return
		}
		for _, k := range file.Keys {
			if k.Line < 1 || k.Offset < 0 || k.Offset >= int64(len(data)) {
				t.Fatalf("key %+v out of the file", k)
			}
			if k.LoginRedirect() && (!k.Options.HasCommand || k.Options.PortForwarding) {
				t.Fatalf("redirect without a command or with forwarding: %+v", k)
			}
		}
	})
}
