package secrets

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

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

// FuzzFragments: cutting any text into fragments covers it whole and makes progress: each cut
// lies past the searched overlap and within the text, each overlap starts inside its chunk, and
// the next fragment always ends further on.
func FuzzFragments(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), 0)
	f.Add(make([]byte, 40000), 100)
	long := make([]byte, 40000) // one newline, early: the whole chunk is the overlap
	long[4476] = '\n'
	f.Add(long, 9)
	f.Add([]byte(strings.Repeat("x\n", 200)+"-----BEGIN RSA PRIVATE KEY-----\n"+strings.Repeat("QUFB\n", 20000)), 0)
	f.Fuzz(func(t *testing.T, b []byte, overlap int) {
		if overlap < 0 || overlap > max(overlapBytes, pemOverlapBytes) || overlap > len(b) {
			overlap = 0
		}
		cut := fragmentEnd(b, overlap)
		if cut < 0 {
			return // not a whole fragment yet
		}
		if cut <= overlap || cut > len(b) || cut > fragmentBytes {
			t.Fatalf("fragmentEnd(%d bytes, overlap %d) = %d", len(b), overlap, cut)
		}
		ov := overlapStart(b[:cut])
		if ov < 0 || ov > cut || cut-ov > max(overlapBytes, pemOverlapBytes) {
			t.Fatalf("overlapStart of a %d-byte chunk = %d", cut, ov)
		}
		// the next fragment ends past what this one searched
		if next := fragmentEnd(b[ov:], cut-ov); next >= 0 && next <= cut-ov {
			t.Fatalf("no progress: the fragment after [0,%d) with overlap from %d ends at %d", cut, ov, ov+next)
		}
	})
}

// decodedInTwo decodes b as order whole and in two pieces cut at cut, and fails unless both give
// valid UTF-8 of at most maxOut bytes and the pieces give the whole's text (or, when prefixOK, a
// prefix of it: a lone trailing high surrogate the whole turned into U+FFFD).
func decodedInTwo(t *testing.T, order utf16Order, b []byte, cut, maxOut int, prefixOK bool) {
	whole := &sink{utf16: order}
	want := whole.decodeUTF16(b)
	if cut < 0 || cut > len(b) {
		cut = len(b) / 2
	}
	split := &sink{utf16: order}
	got := split.decodeUTF16(b[:cut])
	split.n += int64(len(got))
	got = append(got, split.decodeUTF16(b[cut:])...)
	if !utf8.Valid(got) {
		t.Fatalf("invalid UTF-8 from %x", b)
	}
	if len(got) > maxOut {
		t.Fatalf("%d bytes of UTF-8 from %d bytes", len(got), len(b))
	}
	if !bytes.Equal(want, got) && !(prefixOK && bytes.HasPrefix(want, got)) {
		t.Fatalf("split at %d: %q, whole: %q", cut, got, want)
	}
}

// UTF-16 decoding in pieces gives what decoding the whole gives, wherever the pieces are cut,
// and never panics on odd lengths or lone surrogates.
func FuzzUTF16(f *testing.F) {
	f.Add([]byte("\xff\xfep\x00a\x00s\x00s\x00=\x00=\xd8\x00\xdc\n\x00"), 3, false)
	f.Add([]byte("\xfe\xff\x00p\x00a\xd8\x3d"), 1, true)
	f.Fuzz(func(t *testing.T, b []byte, cut int, bigEndian bool) {
		order := utf16LE
		if bigEndian {
			order = utf16BE
		}
		decodedInTwo(t, order, b, cut, 3*len(b)+3, true)
	})
}

// UTF-32 decoding in pieces gives what decoding the whole gives, wherever the pieces are cut,
// and never panics on partial units or values past U+10FFFF.
func FuzzUTF32(f *testing.F) {
	f.Add([]byte("\xff\xfe\x00\x00p\x00\x00\x00a\x00\x00\x00\xff\xff\x11\x00"), 5, false)
	f.Add([]byte("\x00\x00\xfe\xff\x00\x00\xd8\x00\x00\x00\x00p"), 2, true)
	f.Fuzz(func(t *testing.T, b []byte, cut int, bigEndian bool) {
		order := utf32LE
		if bigEndian {
			order = utf32BE
		}
		decodedInTwo(t, order, b, cut, len(b)+3, false)
	})
}

// Containers are untrusted bytes: whatever a file holds, searching it (recognising it, opening
// it as zip, tar, cpio, ar, rpm, a compressed stream or a disk image, one container after
// another) returns (an error or not), never panics, and unpacks no more than the limit.
func FuzzArchive(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	s, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	old := maxArchiveUnpacked
	maxArchiveUnpacked = 4 << 20
	defer func() { maxArchiveUnpacked = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		w, _ := s.NewWorker()
		u := &unpacking{top: "fuzz"}
		// as a file of the image (random access), and as a member of a stream
		if kind := sniffContainer(data, bytes.NewReader(data), int64(len(data))); kind.recognised() {
			w.(*worker).openTop(u, "fuzz", kind, bytes.NewReader(data), int64(len(data)))
		}
		w.(*worker).searchMember(u, "fuzz", -1, bytes.NewReader(data), nil, 0)
		w.(*worker).openStream(u, "fuzz", bufio.NewReader(bytes.NewReader(data)), 1, 0)
		zipLocate(bytes.NewReader(data), int64(len(data)))
		if u.unpacked > maxArchiveUnpacked+(64<<10) {
			t.Fatalf("unpacked %d bytes", u.unpacked)
		}
	})
}

// TestKeyBodySpellingEncryptedIsNotEncrypted: an OpenSSH key's comment is inside its base64
// body, so whoever makes the key chooses bytes that spell "ENCRYPTED" there; the key still loads
// without a passphrase and must be reported, as must a PKCS#1 key whose body spells it.
func TestKeyBodySpellingEncryptedIsNotEncrypted(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	word, _ := base64.StdEncoding.DecodeString("ENCRYPTEDxyz")
	var armored string
	for pad := 0; pad < 80 && armored == ""; pad++ {
		blk, err := ssh.MarshalPrivateKey(priv, strings.Repeat("x", pad)+string(word))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(pem.EncodeToMemory(blk)); strings.Contains(s, "ENCRYPTED") {
			armored = s
		}
	}
	if armored == "" {
		t.Fatal("no comment made the body spell ENCRYPTED")
	}
	if _, err := ssh.ParseRawPrivateKey([]byte(armored)); err != nil {
		t.Fatalf("the crafted key does not load without a passphrase: %v", err)
	}
	if encryptedKey(armored) {
		t.Error("an unencrypted OpenSSH key whose body spells ENCRYPTED is taken for an encrypted one")
	}
	r := scanBytes(t, Options{}, "/root/.ssh/id_ed25519", []byte(armored))
	found := false
	for _, f := range r.found {
		found = found || f.Rule == "private-key"
	}
	if !found {
		t.Errorf("the crafted key is not reported: %+v", r.found)
	}
	pkcs1 := "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAENCRYPTEDqh7\n-----END RSA PRIVATE KEY-----"
	if encryptedKey(pkcs1) {
		t.Error("a PKCS#1 key whose body spells ENCRYPTED is taken for an encrypted one")
	}
	if !encryptedKey("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\nMIIE\n-----END RSA PRIVATE KEY-----") {
		t.Error("a traditionally encrypted PEM key (Proc-Type header) is not reported as encrypted")
	}
	if !encryptedKey(`-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\nMIIE\n-----END RSA PRIVATE KEY-----`) {
		t.Error("a traditionally encrypted PEM key in a JSON string is not reported as encrypted")
	}
	// red-team findings: a Proc-Type header without DEK-Info (Go's pem and x509 load the key
	// unencrypted), and a decoy BEGIN line with the header before a real, unencrypted key that the
	// rule's lazy match runs into
	for name, s := range map[string]string{
		"no DEK-Info": "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
		"decoy":       "-----BEGIN X PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
		"in the body": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n-----END RSA PRIVATE KEY-----",
	} {
		if encryptedKey(s) {
			t.Errorf("%s: an unencrypted key is taken for an encrypted one", name)
		}
	}
}
