package secrets

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Outside review R3 (44, 74, 74b): private keys in binary form, made by openssl, under names
// that say nothing, are found, PKCS#12 bundles with an empty password in OpenSSL 3's default
// form (PBES2, AES) and with the key in a plain keyBag among them (R3 case 74c); a
// certificate, an encrypted PKCS#8 key, a PKCS#12 bundle with a password and one of
// certificates only are not findings; a key followed by other bytes (a newline, zeros, junk:
// OpenSSL reads the first element and loads it) is found.
func TestBinaryPrivateKeys(t *testing.T) {
	needTool(t, "openssl")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		c := exec.Command("openssl", args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v %s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
	run("rsa", "-in", "rsa.pem", "-outform", "DER", "-traditional", "-out", "rsa-pkcs1.der")
	run("pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out", "rsa-pkcs8.der")
	run("genpkey", "-algorithm", "ED25519", "-outform", "DER", "-out", "ed25519.der")
	run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-outform", "DER", "-out", "ec.der")
	run("req", "-x509", "-new", "-key", "rsa.pem", "-subj", "/CN=x", "-days", "1", "-outform", "DER", "-out", "cert.der")
	run("req", "-x509", "-new", "-key", "rsa.pem", "-subj", "/CN=x", "-days", "1", "-out", "cert.pem")
	// the legacy algorithms (SHA-1 MAC, 3DES): what Go's pkcs12 opens; OpenSSL 3's default
	// (PBES2, AES, a SHA-256 MAC) is not opened
	run("pkcs12", "-export", "-legacy", "-inkey", "rsa.pem", "-in", "cert.pem", "-passout", "pass:", "-out", "bundle-nopass.p12")
	run("pkcs12", "-export", "-inkey", "rsa.pem", "-in", "cert.pem", "-passout", "pass:s3cret", "-out", "bundle-pass.p12")
	run("pkcs8", "-topk8", "-in", "rsa.pem", "-outform", "DER", "-passout", "pass:s3cret", "-out", "rsa-enc.der")
	// OpenSSL 3's defaults with an empty password (PBES2: PBKDF2 with HMAC-SHA-256, AES-256-CBC),
	// the key in a plain keyBag (-keypbe NONE), SHA-1 as PBKDF2's PRF with AES-128, and a
	// bundle of certificates only
	run("pkcs12", "-export", "-inkey", "rsa.pem", "-in", "cert.pem", "-passout", "pass:", "-out", "bundle-aes-nopass.p12")
	run("pkcs12", "-export", "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-inkey", "rsa.pem", "-in", "cert.pem", "-passout", "pass:", "-out", "bundle-plain.p12")
	run("pkcs12", "-export", "-keypbe", "AES-128-CBC", "-macalg", "sha1", "-inkey", "rsa.pem", "-in", "cert.pem", "-passout", "pass:", "-out", "bundle-aes128-nopass.p12")
	run("pkcs12", "-export", "-nokeys", "-in", "cert.pem", "-passout", "pass:", "-out", "certs-only.p12")
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{
		"rsa-pkcs1.der": true, "rsa-pkcs8.der": true, "ed25519.der": true, "ec.der": true, "bundle-nopass.p12": true,
		"bundle-aes-nopass.p12": true, "bundle-plain.p12": true, "bundle-aes128-nopass.p12": true,
		"cert.der": false, "bundle-pass.p12": false, "rsa-enc.der": false, "certs-only.p12": false,
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		p := "/opt/app/tls-bundle" // a name that says nothing
		r := scanWith(t, s, p, b)
		got := false
		for _, f := range r.found {
			if f.Rule == "private-key" && f.Line == 1 {
				got = true
			}
			if len(f.Excerpt) > 60 {
				t.Errorf("%s: the excerpt is long: %q", file, f.Excerpt)
			}
		}
		if got != want {
			t.Errorf("%s: found %v, want %v: %+v", file, got, want, r.found)
		}
		for _, pad := range []string{"\n", "\r\n", "\x00\x00\x00\x00", " \t\n", "x", "\x8f junk after the key \x01"} {
			if got := binaryKeyPEM(append(append([]byte(nil), b...), pad...)) != ""; got != want {
				t.Errorf("%s followed by %q: taken as a key %v, want %v", file, pad, got, want)
			}
		}
	}
}

func FuzzBinaryKeyPEM(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{0x30, 0x82, 0x00, 0x05, 0x02, 0x01, 0x00, 0x02, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) { _ = binaryKeyPEM(b) })
}
