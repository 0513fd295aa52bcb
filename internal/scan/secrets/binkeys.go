package secrets

import (
	"crypto/x509"
	"encoding/pem"

	"golang.org/x/crypto/pkcs12"
)

// Private keys are also stored in binary form (outside review R3, cases 44, 74, 74b): a DER
// key (openssl rsa -outform DER, openssl genpkey -outform DER: PKCS#1, PKCS#8 or SEC1) or a
// PKCS#12 bundle without a password, under any name. A file that is one of these as a whole
// (its first ASN.1 SEQUENCE spans the file) and that Go's parsers take as an unencrypted
// private key is searched as the PEM text of that key, so that the private-key rule reports it
// (its excerpt is the BEGIN line only). A PKCS#12 bundle with a password holds an encrypted
// key, as a passphrase-protected PEM does: no finding. PKCS#12 is opened with the legacy
// algorithms only (x/crypto/pkcs12: a SHA-1 MAC, 3DES or RC2 bags, which OpenSSL writes with
// -legacy and Java's keytool and Windows have long written); OpenSSL 3's default (PBES2 with
// AES, a SHA-256 MAC) and a key in a plain keyBag are read by binkeys_pkcs12.go.

// maxBinaryKey bounds the files looked at: a DER key or a PKCS#12 bundle is a few KiB.
const maxBinaryKey = 64 << 10

// binaryKeyPEM is the PEM text of the private key b starts with (b being the whole file), or
// "". What follows the key's SEQUENCE (a newline an editor or echo added, zeros to a block's
// end, any bytes) does not matter: OpenSSL's DER readers take the first element and leave the
// rest, so `openssl pkey -inform DER` loads the key.
func binaryKeyPEM(b []byte) string {
	if len(b) < 16 || len(b) > maxBinaryKey || b[0] != 0x30 {
		return ""
	}
	n := derLength(b)
	if n < 16 || n > len(b) {
		return ""
	}
	b = b[:n]
	var out []byte
	switch {
	case parses(func() error { _, err := x509.ParsePKCS1PrivateKey(b); return err }):
		out = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: b})
	case parses(func() error { _, err := x509.ParsePKCS8PrivateKey(b); return err }):
		out = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	case parses(func() error { _, err := x509.ParseECPrivateKey(b); return err }):
		out = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b})
	default:
		blocks, err := pkcs12.ToPEM(b, "")
		if err != nil {
			return pkcs12EmptyPasswordKeys(b) // OpenSSL 3's algorithms (binkeys_pkcs12.go)
		}
		for _, p := range blocks {
			if p.Type == "PRIVATE KEY" || p.Type == "RSA PRIVATE KEY" || p.Type == "EC PRIVATE KEY" {
				out = append(out, pem.EncodeToMemory(&pem.Block{Type: p.Type, Bytes: p.Bytes})...)
			}
		}
	}
	return string(out)
}

// parses runs a parser of untrusted bytes; a panic in it is a refusal.
func parses(f func() error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f() == nil
}

// derLength is the length of the ASN.1 element b starts with, header included (-1 when its
// header does not read: an indefinite or over-long length).
func derLength(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	l := int(b[1])
	if l < 0x80 {
		return 2 + l
	}
	n := l & 0x7f
	if n == 0 || n > 3 || len(b) < 2+n {
		return -1
	}
	l = 0
	for _, c := range b[2 : 2+n] {
		l = l<<8 | int(c)
	}
	return 2 + n + l
}
