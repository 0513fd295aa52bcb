package secrets

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
)

// tool runs a shell tool with stdin as its input, the way the outside review made its planted
// files; the test is skipped when the tool is absent.
func tool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s: %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String()
}

// py runs a Python 3 program on stdin (skipped without python3).
func py(t *testing.T, stdin, prog string) string {
	t.Helper()
	return tool(t, stdin, "python3", "-c", prog)
}

// foundEncoded checks that the AWS key of awsKeys is found in content, on line want, and that
// encodedValues names the decoding how for it.
func foundEncoded(t *testing.T, s *Scanner, path, content string, want int, how string) {
	t.Helper()
	r := scanWith(t, s, path, []byte(content))
	ok := false
	for _, f := range r.found {
		if f.Rule == "aws-access-token" && strings.Contains(f.Description, "encoded") {
			ok = true
			if f.Line != want {
				t.Errorf("on line %d, want %d", f.Line, want)
			}
		}
		if strings.Contains(f.Excerpt, awsKeyID) {
			t.Errorf("the excerpt prints the key: %q", f.Excerpt)
		}
	}
	if !ok {
		t.Errorf("not found: %+v", r.found)
	}
	named := false
	for _, v := range encodedValues(content) {
		if strings.Contains(v.text, awsKeyID) {
			named = named || strings.Contains(v.how, how)
			if !strings.Contains(v.how, how) {
				t.Logf("decoded as %q", v.how)
			}
		}
	}
	if !named {
		t.Errorf("no value decoded as %q", how)
	}
}

// Outside review of ENC2: an AWS credentials file written in each of the encodings people use,
// made with the tools they use, is decoded and found on the line its encoded form starts.
func TestEncodedFormatsAreDecoded(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	creds := awsKeys
	pre := "#!/bin/sh\n# restore the backup profile\n"
	cases := []struct {
		name, how string
		make      func(t *testing.T) string
	}{
		{"base32", "base32", func(t *testing.T) string { return tool(t, creds, "base32") }},
		{"base32, lower-case", "base32", func(t *testing.T) string { return strings.ToLower(tool(t, creds, "base32")) }},
		{"base32, one line", "base32", func(t *testing.T) string {
			return "CREDS=" + base32.StdEncoding.EncodeToString([]byte(creds)) + "\n"
		}},
		{"xxd", "hex-dump", func(t *testing.T) string { return tool(t, creds, "xxd") }},
		{"xxd -g1", "hex-dump", func(t *testing.T) string { return tool(t, creds, "xxd", "-g1") }},
		{"xxd -c 24", "hex-dump", func(t *testing.T) string { return tool(t, creds, "xxd", "-c", "24") }},
		{"xxd -p", "hex", func(t *testing.T) string { return tool(t, creds, "xxd", "-p") }},
		{"hexdump -C", "hex-dump", func(t *testing.T) string { return tool(t, creds, "hexdump", "-C") }},
		{"hexdump", "hex-dump", func(t *testing.T) string { return tool(t, creds, "hexdump") }},
		{"od -An -tx1", "hex-dump", func(t *testing.T) string { return tool(t, creds, "od", "-An", "-tx1") }},
		{"od -tx1", "hex-dump", func(t *testing.T) string { return tool(t, creds, "od", "-tx1") }},
		{"od -x", "hex-dump", func(t *testing.T) string { return tool(t, creds, "od", "-x") }},
		{"colon hex", "colon-hex", func(t *testing.T) string {
			return "fp=" + py(t, creds, "import sys; print(':'.join('%02x' % b for b in sys.stdin.buffer.read()))")
		}},
		{"printf \\x escapes", "backslash", func(t *testing.T) string {
			return "printf '" + py(t, creds, "import sys; print(''.join('\\\\x%02x' % b for b in sys.stdin.buffer.read()), end='')") + "' > ~/.aws/credentials\n"
		}},
		{"octal escapes", "backslash", func(t *testing.T) string {
			return "printf '" + py(t, creds, "import sys; print(''.join('\\\\%03o' % b for b in sys.stdin.buffer.read()), end='')") + "' > c\n"
		}},
		{"JSON \\u escapes", "backslash", func(t *testing.T) string {
			return "{\"credentials\": \"" + py(t, creds, "import sys; print(''.join('\\\\u%04x' % ord(c) for c in sys.stdin.read()), end='')") + "\"}\n"
		}},
		{"HTML decimal references", "HTML", func(t *testing.T) string {
			return "<pre>" + py(t, creds, "import sys; print(''.join('&#%d;' % ord(c) for c in sys.stdin.read()), end='')") + "</pre>\n"
		}},
		{"HTML hex references", "HTML", func(t *testing.T) string {
			return "<pre>" + py(t, creds, "import sys; print(''.join('&#x%x;' % ord(c) for c in sys.stdin.read()), end='')") + "</pre>\n"
		}},
		{"urllib.parse.quote", "percent", func(t *testing.T) string {
			return "curl -d data=" + py(t, creds, "import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read()))")
		}},
		{"urllib.parse.quote_plus", "percent", func(t *testing.T) string {
			return "body=" + py(t, creds, "import sys, urllib.parse; print(urllib.parse.quote_plus(sys.stdin.read()))")
		}},
		{"shell continuation", "continuations", func(t *testing.T) string {
			return "export AWS_ACCESS_KEY_ID=" + awsKeyID[:9] + "\\\n" + awsKeyID[9:] + "\nexport AWS_SECRET_ACCESS_KEY=x\n"
		}},
		{"indented shell continuation", "continuations", func(t *testing.T) string {
			return "if true; then\n    export AWS_ACCESS_KEY_ID=" + awsKeyID[:7] + "\\\n        " + awsKeyID[7:15] + "\\\r\n        " + awsKeyID[15:] + "\nfi\n"
		}},
		{"YAML literal block", "YAML block", func(t *testing.T) string {
			return "apiVersion: v1\ndata:\n  credentials: |\n" + wrap(base64.StdEncoding.EncodeToString([]byte(creds)), 20, "    ", "\n") + "kind: ConfigMap\n"
		}},
		{"YAML folded block", "YAML block", func(t *testing.T) string {
			b := base64.StdEncoding.EncodeToString([]byte(creds))
			return "creds: >-\n  " + b[:10] + "\n  " + b[10:37] + "\n\n  " + b[37:] + "\nother: 1\n"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.make(t)
			content := pre + body
			want := 3 // the encoded form's first line
			if strings.HasPrefix(c.name, "indented") {
				want = 4
			}
			if strings.HasPrefix(c.name, "YAML literal") {
				want = 6
			}
			if strings.HasPrefix(c.name, "YAML folded") {
				want = 4
			}
			foundEncoded(t, s, "/opt/app/restore.sh", content, want, c.how)
		})
	}
}

// Ordinary text full of the signs the decoders look for decodes to nothing, and a scan of it
// finds nothing: word lists and constants in the base32 alphabet, a dump of a binary, URLs
// with %20, JSON with \u00e9, digests, MAC addresses, a Makefile's continuations.
func TestEncodedFormatsNoFalseValues(t *testing.T) {
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(24))
	bin := make([]byte, 4096)
	rng.Read(bin)
	cases := []struct {
		name    string
		content func(t *testing.T) string
		none    bool // encodedValues decodes nothing at all
	}{
		{"a base32-looking word list", func(t *testing.T) string {
			return "ABANDON\nABILITY\nABSTRACT\nTHEQUICKBROWNFOXJUMPSOVERTHELAZYDOGTHEQUICKBROWNFOX\nMAXIMUMRETRIESEXCEEDEDWHILEWAITINGFORLOCKRELEASE = 3\n"
		}, true},
		{"an xxd dump of a binary", func(t *testing.T) string { return tool(t, string(bin), "xxd") }, false},
		{"a hexdump -C of a binary", func(t *testing.T) string { return tool(t, string(bin), "hexdump", "-C") }, false},
		{"URLs with %20", func(t *testing.T) string {
			return strings.Repeat("GET /search?q=hello%20world%20and%20more%20words&redirect=https%3A%2F%2Fexample.com%2Fcb%3Fx%3D1 HTTP/1.1\n", 20)
		}, true},
		{"JSON with \\u00e9", func(t *testing.T) string {
			return strings.Repeat(`{"name":"Caf\u00e9 Cr\u00e8me","desc":"R\u00e9sum\u00e9 d\u00e9j\u00e0 \u003cb\u003e \u00e9\u00e8\u00ea\u00eb\u00e9\u00e8\u00ea\u00eb\u00e9"}`+"\n", 20)
		}, true},
		{"hex digests", func(t *testing.T) string {
			return strings.Repeat("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  /usr/lib/libfoo.so.1\n", 20)
		}, true},
		{"MAC addresses and a fingerprint", func(t *testing.T) string {
			return "eth0 52:54:00:12:34:56\nSHA256 Fingerprint=5B:64:E6:F1:A7:9C:21:3D:80:0A:17:7C:5E:90:C4:D2:13:37:AA:BB:CC:DD:EE:FF:01:02:03:04:05:06:07:08\n"
		}, true},
		{"a Makefile's continuations", func(t *testing.T) string {
			return "install:\n\tapt-get install -y \\\n\t\tcurl \\\n\t\tgit\nFLAGS = -O2 \\\n  -Wall\n"
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			content := c.content(t)
			if d := encodedValues(content); c.none && len(d) != 0 {
				t.Errorf("decoded %q", d)
			}
			if r := scanWith(t, s, "/opt/app/data.txt", []byte(content)); len(r.found) != 0 {
				t.Errorf("found %+v", r.found)
			}
		})
	}
}

// hasKey says whether one of the values decoded from chunk holds the AWS key ID.
func hasKey(chunk string) bool {
	for _, v := range encodedValues(chunk) {
		if strings.Contains(v.text, awsKeyID) {
			return true
		}
	}
	return false
}

// Each gate decides at its boundary.
func TestEncodedFormatBoundaries(t *testing.T) {
	esc := func(s, format string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, format, s[i])
		}
		return b.String()
	}
	// the boundaries are written out: a test in terms of the constants would move with them
	const hidden, percents, secretRun, colonBytes, dumpGroups, dumpBytes = 8, 3, 16, 16, 4, 16
	// eight consecutive escapes of letters and digits; seven are left alone
	for _, f := range []string{`\x%02x`, `\u%04x`, `\%03o`, "&#%d;", "&#x%x;"} {
		if !hasKey("v=\"" + esc(awsKeyID[:hidden], f) + awsKeyID[hidden:] + "\"\n") {
			t.Errorf("%s: %d escapes not decoded", f, hidden)
		}
		if hasKey("v=\"" + awsKeyID[:1] + esc(awsKeyID[1:hidden], f) + awsKeyID[hidden:] + "\"\n") {
			t.Errorf("%s: %d escapes decoded", f, hidden-1)
		}
	}
	// %-encoding: minPercent escapes, the gate escape touching a run of minSecretRun
	long := awsKeyID[:secretRun]
	short := awsKeyID[:secretRun-1]
	pct := func(run string, escapes int) string {
		return "d=id%3D" + run + strings.Repeat("%2C", escapes-1) + "\n"
	}
	if got := encodedValues(pct(long, percents)); len(got) != 1 || got[0].text != "d=id="+long+strings.Repeat(",", percents-1)+"\n" {
		t.Errorf("%d escapes beside %d characters: %q", percents, secretRun, got)
	}
	if got := encodedValues(pct(long, percents-1)); len(got) != 0 {
		t.Errorf("%d escapes: %q", percents-1, got)
	}
	if got := encodedValues(pct(short, percents)); len(got) != 0 {
		t.Errorf("beside %d characters: %q", secretRun-1, got)
	}
	if got := encodedValues(pct(strings.Repeat("A", secretRun), percents)); len(got) != 0 {
		t.Errorf("beside letters alone: %q", got)
	}
	// colon hex: minColonBytes bytes of text, and one fewer
	colon := func(s string) string {
		h := esc(s, "%02x:")
		return "x " + h[:len(h)-1] + " y\n"
	}
	text := "password=hunter2hunter2hunter2"
	if d := encodedValues(colon(text[:colonBytes])); len(d) != 1 || d[0].text != text[:colonBytes]+"\n" {
		t.Errorf("%d colon-hex bytes: %q", colonBytes, d)
	}
	if d := encodedValues(colon(text[:colonBytes-1])); len(d) != 0 {
		t.Errorf("%d colon-hex bytes: %q", colonBytes-1, d)
	}
	// a dump: minDumpGroups groups on its first line, and minDumpBytes bytes
	dump := func(data string, perLine int) string {
		var b strings.Builder
		for off := 0; off < len(data); off += perLine {
			fmt.Fprintf(&b, "%08x:", off)
			for _, c := range []byte(data[off:min(len(data), off+perLine)]) {
				fmt.Fprintf(&b, " %02x", c)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	if !hasKey(dump(awsKeys, dumpGroups)) {
		t.Errorf("a dump of %d groups a line is not read", dumpGroups)
	}
	if hasKey(dump(awsKeys, dumpGroups-1)) {
		t.Errorf("a dump of %d groups a line is read", dumpGroups-1)
	}
	if d := encodedValues(dump(text[:dumpBytes], 8)); len(d) != 1 || d[0].text != text[:dumpBytes]+"\n" {
		t.Errorf("a dump of %d bytes: %q", dumpBytes, d)
	}
	if d := encodedValues(dump(text[:dumpBytes-1], 8)); len(d) != 0 {
		t.Errorf("a dump of %d bytes: %q", dumpBytes-1, d)
	}
	// base32 wrapped at 76 columns whose last line is six characters of padding and 26 of
	// data: the key straddles the last two lines
	b32text := strings.Repeat("#", 85) + "id=" + awsKeyID + "\n#\n"
	if !hasKey(wrap(base32.StdEncoding.EncodeToString([]byte(b32text)), 76, "", "\n")) {
		t.Errorf("a base32 block's padded last line is not joined")
	}
	// an offset out of sequence ends the dump
	broken := strings.Replace(dump(awsKeys, 8), "00000028:", "00000029:", 1)
	if hasKey(broken) {
		t.Errorf("a dump with a broken offset is read past it")
	}
	// a YAML block: two lines at least; a continuation after a blank cuts no word
	b64 := base64.StdEncoding.EncodeToString([]byte(awsKeys))
	if got := lineValues("k: |\n  " + b64[:40] + "\n  " + b64[40:] + "\n"); len(got) != 1 {
		t.Errorf("a YAML block of two lines: %q", got)
	}
	if got := lineValues("k: |\n  " + b64 + "\n"); len(got) != 0 {
		t.Errorf("a YAML block of one line: %q", got)
	}
	if hasKey("X=" + awsKeyID[:9] + " \\\n" + awsKeyID[9:] + "\n") {
		t.Errorf("a continuation after a blank is joined")
	}
}

// A base64 run longer than a fragment (a line is cut inside it, at any offset) and longer than
// maxEncodedRun (decoded in windows) is decoded to its end, whatever its alignment.
func TestLongEncodedRuns(t *testing.T) {
	filler := strings.Repeat("# the nightly backup profile, kept for the restore job\n", 1<<15)
	for _, n := range []int{200 << 10, maxEncodedRun + maxEncodedRun/2} {
		text := filler[:n] + awsKeys
		b64 := base64.StdEncoding.EncodeToString([]byte(text))
		for lead := 0; lead < 4; lead++ {
			line := "CREDS" + strings.Repeat("=", lead) + ":" + b64 + "\n"
			if !hasKey(line) {
				t.Errorf("%d bytes, lead %d: the key at the end is not decoded", n, lead)
			}
		}
	}
	s, err := New(Options{FingerprintKey: []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(filler[:300<<10] + awsKeys))
	for lead := 0; lead < 4; lead++ {
		content := "#!/bin/sh\nCREDS" + strings.Repeat("x", lead) + "=" + b64 + "\n"
		r := scanWith(t, s, "/opt/app/big.sh", []byte(content))
		ok := false
		for _, f := range r.found {
			ok = ok || f.Rule == "aws-access-token" && f.Line == 2
		}
		if !ok {
			t.Errorf("lead %d: not found past the first fragment: %+v", lead, r.found)
		}
	}
}

func FuzzEscapedValues(f *testing.F) {
	f.Add(`v="\x41\x4b\x49\x41\x51\x33\x58\x4c"` + "\n&#65;&#x4b;&#73;&#65;&#81;&#51;&#88;&#76;\n")
	f.Add("d=id%3DAKIAQ3XL7RJ5Z2WVNB4K%0A%2C\n5b:64:65:66:61:75:6c:74:5d:0a:61:77:73:5f:61:63\n")
	f.Add(`\u0041\u004b\ud83d\ude00\U0001F600\101\102\103\104\105\106\107\110`)
	f.Fuzz(func(t *testing.T, chunk string) {
		for _, d := range escapedValues(chunk) {
			checkValue(t, chunk, d)
		}
	})
}

func FuzzDumpValues(f *testing.F) {
	f.Add("00000000: 5b64 6566 6175 6c74 5d0a 6177 735f 6163  [default].aws_ac\n00000010: 6365 7373  cess\n")
	f.Add("00000000  5b 64 65 66 61 75 6c 74  5d 0a 61 77 73 5f 61 63  |[default].aws_ac|\n*\n00000040  41 41\n00000042\n")
	f.Add(" 5b 64 65 66 61 75 6c 74 5d 0a 61 77 73 5f 61 63\n 63 65 73 73\n")
	f.Add("0000000 645b 6665 7561 746c 0a5d 7761 5f73 6361\n0000020 6563 7373\n0000024\n")
	f.Fuzz(func(t *testing.T, chunk string) {
		for _, d := range lineValues(chunk) {
			checkValue(t, chunk, d)
		}
	})
}

func FuzzJoinedValues(f *testing.F) {
	f.Add("export K=AKIAQ3XL7\\\n    RJ5Z2WVNB4K\\\r\nx\n")
	f.Add("k: |-\n  W2RlZmF1bHRdCmF3c19hY2Nlc3Nf\n  a2V5X2lkID0gQUtJQVEzWEw3UkoK\n\nz: 1\n")
	f.Fuzz(func(t *testing.T, chunk string) {
		for _, d := range lineValues(chunk) {
			checkValue(t, chunk, d)
		}
	})
}

func FuzzBase32Runs(f *testing.F) {
	f.Add("C=" + base32.StdEncoding.EncodeToString([]byte(awsKeys)))
	f.Add(strings.ToLower(base32.StdEncoding.EncodeToString([]byte(awsKeys))) + "======\n")
	f.Fuzz(func(t *testing.T, chunk string) {
		for _, d := range alphabetRuns(chunk) {
			checkValue(t, chunk, d)
		}
	})
}

// checkValue: a decoded value is on a line of the chunk, is text, and is bounded by the chunk
// (a dump's '*' repeats lines, up to maxEncodedRun bytes; gzip inflates up to maxGunzipped).
func checkValue(t *testing.T, chunk string, d encValue) {
	t.Helper()
	if d.line < 1 || d.line > 1+strings.Count(chunk, "\n") {
		t.Fatalf("line %d of a %d-line chunk", d.line, 1+strings.Count(chunk, "\n"))
	}
	if len(d.text) > 3*len(chunk)+1 && len(d.text) > maxEncodedRun+1 {
		t.Fatalf("%d bytes decoded from %d", len(d.text), len(chunk))
	}
	if d.how == "" {
		t.Fatalf("a value without its decoding: %q", d.text)
	}
}
