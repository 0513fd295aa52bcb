package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// Outside review R1, M8: a credential stored encoded is decoded and found, on the line of the
// encoded run; base64 (standard, URL-safe, padded or not, wrapped in quotes or after a pipe) and
// hex; what decodes to bytes that are not text (a digest, an image, a certificate's body) is not
// searched again, and the secret is never printed.
func TestEncodedSecretsAreDecoded(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(awsKeys))
	url := base64.RawURLEncoding.EncodeToString([]byte("{\"key\": \"" + awsKeyID + "\", \"secret\": \"" + awsSecret + "\"}\n>>>"))
	hx := hex.EncodeToString([]byte(awsKeys))
	for _, c := range []struct{ name, path, content string }{
		{"a base64 line piped to base64 -d", "/opt/app/setup.sh", "#!/bin/sh\nmkdir -p ~/.aws\necho " + b64 + " | base64 -d > ~/.aws/credentials\n"},
		{"quoted in YAML", "/opt/app/values.yaml", "aws:\n  credentials: \"" + b64 + "\"\n"},
		{"URL-safe, unpadded", "/opt/app/token.txt", "x\ny\nTOKEN=" + url + "\n"},
		{"hex", "/opt/app/dump.env", "CREDS_HEX=" + hx + "\n"},
		{"at the start of the chunk", "/opt/app/b64", b64},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := scanWith(t, s, c.path, []byte(c.content))
			want := 0
			lineOf := func(run string) int { return 1 + strings.Count(c.content[:strings.Index(c.content, run)], "\n") }
			for _, run := range []string{b64, url, hx} {
				if strings.Contains(c.content, run) {
					want = lineOf(run)
				}
			}
			ok := false
			for _, f := range r.found {
				if f.Rule == "aws-access-token" && strings.Contains(f.Description, "encoded") {
					ok = true
					if f.Line != want {
						t.Errorf("on line %d, the encoded run is on line %d", f.Line, want)
					}
				}
				if strings.Contains(f.Excerpt, awsKeyID) || strings.Contains(f.Excerpt, awsSecret) || strings.Contains(f.Excerpt, b64[:40]) {
					t.Errorf("the excerpt prints the secret: %q", f.Excerpt)
				}
			}
			if !ok {
				t.Errorf("not found: %+v", r.found)
			}
		})
	}
	// the same bytes one character short of the run length, and runs that are not text
	short := base64.StdEncoding.EncodeToString([]byte("password = hunter2hunter2"))[:minEncodedRun-1]
	for _, c := range []struct{ name, content string }{
		{"a sha256 digest", "sum=" + strings.Repeat("9f86d081884c7d659a2feaa0c55ad015", 2) + "\n"},
		{"a random token", "k=" + base64.StdEncoding.EncodeToString([]byte{0x8f, 0x01, 0xfe, 0x33, 0x90, 0x12, 0xaa, 0xcd, 0xef, 0x00, 0x7f, 0x80, 0x81, 0x9a, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60}) + "\n"},
		{"short of the run length", "v=" + short + "\n"},
	} {
		if d := encodedValues(c.content); len(d) != 0 {
			t.Errorf("%s: decoded %q", c.name, d)
		}
	}
	// exactly the run length decodes
	exact := base64.StdEncoding.EncodeToString([]byte("password = hunter2hunter2"))[:minEncodedRun]
	if d := encodedValues("v=" + exact + "\n"); len(d) != 1 {
		t.Errorf("a run of %d characters: %q", minEncodedRun, d)
	}
}

// The sampling finds every run of minEncodedRun characters wherever it lies against the
// sampled offsets, and never reads past the chunk.
func TestEncodedRunsAtEveryOffset(t *testing.T) {
	run := base64.StdEncoding.EncodeToString([]byte("user=admin password=s3cr3t-value!"))[:minEncodedRun]
	for pad := 0; pad < 2*encodedSample; pad++ {
		chunk := strings.Repeat(" ", pad) + run + " tail"
		if d := encodedValues(chunk); len(d) != 1 {
			t.Fatalf("run at offset %d: %q", pad, d)
		}
		if d := encodedValues(strings.Repeat(" ", pad) + run); len(d) != 1 {
			t.Fatalf("run at offset %d, at the end: %q", pad, d)
		}
	}
}

func FuzzEncodedRuns(f *testing.F) {
	f.Add("x=" + base64.StdEncoding.EncodeToString([]byte(awsKeys)))
	f.Add(strings.Repeat("A", 100) + "==")
	f.Add(strings.Repeat("0f", 40))
	f.Fuzz(func(t *testing.T, chunk string) {
		for _, d := range encodedValues(chunk) {
			if d.line < 1 || d.line > 1+strings.Count(chunk, "\n") {
				t.Fatalf("line %d of a %d-line chunk", d.line, 1+strings.Count(chunk, "\n"))
			}
			if len(d.text) > len(chunk) {
				t.Fatalf("%d bytes decoded from %d", len(d.text), len(chunk))
			}
		}
	})
}

// wrap cuts s into lines of n characters, each prefixed by indent.
func wrap(s string, n int, indent, eol string) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(indent + s[:n] + eol)
		s = s[n:]
	}
	b.WriteString(indent + s + eol)
	return b.String()
}

// Outside review R3: base64 wrapped over lines (base64's 76 columns, openssl's 64, CRLF, in an
// indented YAML block) is decoded as one value, whatever line the key falls on; base64 of gzip
// (cloud-init's gz+b64), of UTF-16LE (powershell -EncodedCommand) and of base64 are decoded
// too. Each finding is on the block's first line.
func TestWrappedAndLayeredEncodings(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	creds := "# profile used by the nightly s3 backup job, rotated each quarter by the platform team\n" + awsKeys
	b64 := base64.StdEncoding.EncodeToString([]byte(creds))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(creds))
	zw.Close()
	u16 := make([]byte, 0, 2*len(awsKeys))
	for _, c := range []byte("$env:AWS = '" + awsKeyID + "'; $s = '" + awsSecret + "'") {
		u16 = append(u16, c, 0)
	}
	for _, c := range []struct{ name, path, content string }{
		{"base64, 76 columns", "/opt/app/creds.b64", wrap(b64, 76, "", "\n")},
		{"openssl base64, 64 columns", "/opt/app/creds.txt", "x\n" + wrap(b64, 64, "", "\n")},
		{"CRLF", "/opt/app/creds.txt", wrap(b64, 64, "", "\r\n")},
		{"an indented YAML block", "/opt/app/values.yaml", "secret:\n  data: |\n" + wrap(b64, 76, "    ", "\n") + "other: 1\n"},
		{"gz+b64", "/var/lib/cloud/instance/user-data.txt", "#cloud-config\nwrite_files:\n- path: /root/.aws/credentials\n  encoding: gz+b64\n  content: " + base64.StdEncoding.EncodeToString(gz.Bytes()) + "\n"},
		{"powershell -EncodedCommand", "/opt/app/run.cmd", "powershell.exe -EncodedCommand " + base64.StdEncoding.EncodeToString(u16) + "\n"},
		{"base64 of base64", "/opt/app/twice.txt", "v=" + base64.StdEncoding.EncodeToString([]byte(b64)) + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := scanWith(t, s, c.path, []byte(c.content))
			ok := false
			for _, f := range r.found {
				ok = ok || f.Rule == "aws-access-token" && strings.Contains(f.Description, "encoded")
			}
			if !ok {
				t.Errorf("not found: %+v", r.found)
			}
		})
	}
	// the key straddles every line break position of a 64-column block: found wherever it falls
	for pad := 0; pad < 64; pad += 7 {
		text := strings.Repeat("#", pad) + "\n" + awsKeys
		if d := encodedValues(wrap(base64.StdEncoding.EncodeToString([]byte(text)), 64, "", "\n")); len(d) != 1 || !strings.Contains(d[0].text, awsKeyID) {
			t.Errorf("pad %d: %q", pad, d)
		}
	}
	// two values of one width on consecutive lines, the second not text: the first still decodes
	one := base64.StdEncoding.EncodeToString([]byte("password = hunter2hunter2hunter2!"))[:44]
	two := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff, 0x00, 0x81}, 11))
	if d := encodedValues(one + "\n" + two + "\n"); len(d) != 1 {
		t.Errorf("a text line beside a binary one: %q", d)
	}
}
