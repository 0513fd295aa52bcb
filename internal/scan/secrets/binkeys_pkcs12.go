package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"hash"
)

// A PKCS#12 bundle whose key anyone can take: OpenSSL 3 writes `openssl pkcs12 -export
// -passout pass:` (an empty password) with its default algorithms, which x/crypto/pkcs12 does
// not open: the key in a pkcs8ShroudedKeyBag encrypted with PBES2 (PBKDF2 with HMAC-SHA-256,
// AES-256-CBC), the certificates in an encryptedData content of the same scheme, a SHA-256 MAC
// (RFC 7292 sections 4 and 4.2; RFC 8018 sections 6.2 and A.2; OpenSSL 3.0 apps/pkcs12.c and
// crypto/pkcs12/p12_add.c). And `-keypbe NONE` leaves the key in a plain keyBag. The bundle's
// structure is read here (PFX, AuthenticatedSafe, SafeContents, SafeBag): a keyBag's key is
// taken as it is; a shrouded key, and a bag list inside PBES2-encrypted data, are decrypted
// with the empty password; what decrypts to a private key Go parses (the padding, then
// PKCS#8, must hold: a wrong password does not) is searched as its PEM, as binaryKeyPEM's
// other forms are. A bundle with a real password stays an encrypted key: no finding, as for a
// passphrase-protected PEM (see ignore in secrets.go).

var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidSafeContents   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

// pbkdf2PRFs are the PRFs of PBKDF2-params (RFC 8018 A.2): hmacWithSHA1 is the default.
var pbkdf2PRFs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,
	"1.2.840.113549.2.8":  sha256.New224,
	"1.2.840.113549.2.9":  sha256.New,
	"1.2.840.113549.2.10": sha512.New384,
	"1.2.840.113549.2.11": sha512.New,
}

// aesCBCKeys are the AES-CBC encryption schemes of PBES2 (NIST OIDs) and their key sizes.
var aesCBCKeys = map[string]int{
	"2.16.840.1.101.3.4.1.2":  16,
	"2.16.840.1.101.3.4.1.22": 24,
	"2.16.840.1.101.3.4.1.42": 32,
}

// Bounds on what one bundle may cost: the PBKDF2 iterations of all its decryptions together
// (OpenSSL writes 2048 per bag, Java 10000; 2^20 iterations of HMAC-SHA-256 take about half a
// second), how deep safeContentsBags nest, how many bags are read.
const (
	maxPBKDF2Iterations = 1 << 20
	maxP12Depth         = 4
	maxP12Bags          = 256
)

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type p12SafeBag struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"tag:0,explicit"`
	Attrs asn1.RawValue `asn1:"optional"`
}

type p12Algorithm struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type p12EncryptedData struct {
	Version int
	Info    struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   p12Algorithm
		Content     []byte `asn1:"tag:0,optional"`
	}
}

type p12EncryptedKey struct {
	Algorithm p12Algorithm
	Data      []byte
}

type pbes2Params struct {
	KDF    p12Algorithm
	Scheme p12Algorithm
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int          `asn1:"optional"`
	PRF        p12Algorithm `asn1:"optional"`
}

// unmarshalWhole reads the DER element b holds into v, and nothing after it.
func unmarshalWhole(b []byte, v any) bool {
	rest, err := asn1.Unmarshal(b, v)
	return err == nil && len(rest) == 0
}

// pkcs12EmptyPasswordKeys is the PEM text of each private key of the PFX b that a keyBag holds
// or that the empty password decrypts, or "".
func pkcs12EmptyPasswordKeys(b []byte) string {
	var pfx p12PFX
	if !unmarshalWhole(b, &pfx) || pfx.Version != 3 || !pfx.AuthSafe.ContentType.Equal(oidData) {
		return ""
	}
	var authSafe []byte
	if !unmarshalWhole(pfx.AuthSafe.Content.Bytes, &authSafe) {
		return ""
	}
	var contents []p12ContentInfo
	if !unmarshalWhole(authSafe, &contents) {
		return ""
	}
	var out []byte
	bags, budget := 0, maxPBKDF2Iterations
	for _, ci := range contents {
		var safe []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if !unmarshalWhole(ci.Content.Bytes, &safe) {
				continue
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed p12EncryptedData
			if !unmarshalWhole(ci.Content.Bytes, &ed) {
				continue
			}
			safe = pbes2Decrypt(ed.Info.Algorithm, ed.Info.Content, &budget)
		}
		if safe != nil {
			out = append(out, safeBagKeys(safe, 0, &bags, &budget)...)
		}
	}
	return string(out)
}

// safeBagKeys is the PEM of the private keys of the SafeContents b.
func safeBagKeys(b []byte, depth int, bags, budget *int) []byte {
	var list []p12SafeBag
	if depth > maxP12Depth || !unmarshalWhole(b, &list) {
		return nil
	}
	var out []byte
	for _, bag := range list {
		if *bags++; *bags > maxP12Bags {
			return out
		}
		var key []byte
		switch {
		case bag.ID.Equal(oidKeyBag):
			key = bag.Value.Bytes
		case bag.ID.Equal(oidShroudedKeyBag):
			var ek p12EncryptedKey
			if unmarshalWhole(bag.Value.Bytes, &ek) {
				key = pbes2Decrypt(ek.Algorithm, ek.Data, budget)
			}
		case bag.ID.Equal(oidSafeContents):
			out = append(out, safeBagKeys(bag.Value.Bytes, depth+1, bags, budget)...)
		}
		if key != nil && parses(func() error { _, err := x509.ParsePKCS8PrivateKey(key); return err }) {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
		}
	}
	return out
}

// pbes2Decrypt decrypts data encrypted by alg, when alg is PBES2 with PBKDF2 and AES-CBC, with
// the empty password; nil when it is not, when the padding does not hold (another password), or
// when its iterations are more than what is left of budget (which they are taken from).
func pbes2Decrypt(alg p12Algorithm, data []byte, budget *int) []byte {
	var p pbes2Params
	if !alg.Algorithm.Equal(oidPBES2) || !unmarshalWhole(alg.Parameters.FullBytes, &p) || !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil
	}
	var kdf pbkdf2Params
	if !unmarshalWhole(p.KDF.Parameters.FullBytes, &kdf) || kdf.Iterations < 1 || kdf.Iterations > *budget {
		return nil
	}
	prf := sha1.New
	if len(kdf.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = pbkdf2PRFs[kdf.PRF.Algorithm.String()]; !ok {
			return nil
		}
	}
	size, ok := aesCBCKeys[p.Scheme.Algorithm.String()]
	var iv []byte
	if !ok || (kdf.KeyLength != 0 && kdf.KeyLength != size) || !unmarshalWhole(p.Scheme.Parameters.FullBytes, &iv) ||
		len(iv) != aes.BlockSize || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil
	}
	*budget -= kdf.Iterations
	key, err := pbkdf2.Key(prf, "", kdf.Salt, kdf.Iterations, size)
	if err != nil {
		return nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	n := int(plain[len(plain)-1])
	if n == 0 || n > aes.BlockSize {
		return nil
	}
	for _, c := range plain[len(plain)-n:] {
		if int(c) != n {
			return nil
		}
	}
	return plain[:len(plain)-n]
}
