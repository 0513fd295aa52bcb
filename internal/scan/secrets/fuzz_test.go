package secrets

import "testing"

// FuzzEncryptedKey: the OpenSSH key header parser takes arbitrary file content and must never
// panic.
func FuzzEncryptedKey(f *testing.F) {
	f.Add("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n")
	f.Add("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHI=\n-----END")
	f.Fuzz(func(t *testing.T, s string) {
		encryptedKey(s)
		firstLine(s)
		placeholder(s)
		allowed(s, []string{"/a/", "/b/*", s})
	})
}

func TestEncryptedKey(t *testing.T) {
	if encryptedKey("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n") {
		t.Error("cipher none reported as encrypted")
	}
	if !encryptedKey("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHI=\n-----END OPENSSH PRIVATE KEY-----") {
		t.Error("aes256-ctr not reported as encrypted")
	}
	if !encryptedKey("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----") {
		t.Error("PKCS#8 encrypted key not reported as encrypted")
	}
}
