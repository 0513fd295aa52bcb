package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// recordHash is a RECORD's hash field for b: sha256= and the digest in urlsafe base64 without
// padding (the wheel spec).
func recordHash(b string) string {
	sum := sha256.Sum256([]byte(b))
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// imageScan runs the scanner forImage makes (the digests read from the image, in the
// background) over an image: its findings by path and the pass's stats.
func imageScan(t *testing.T, img string) (map[string][]Finding, *scan.Stats, *Scanner) {
	t.Helper()
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	sc, err := forImage(im, scan.Config{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	s := sc.(*Scanner)
	st, err := scan.Run(context.Background(), im, scan.Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]Finding{}
	for _, f := range s.Findings() {
		found[f.Path] = append(found[f.Path], f)
	}
	return found, st, s
}

// skippedFor is how many files the ledger counts as skipped for reason.
func skippedFor(st *scan.Stats, s *Scanner, reason string) int64 {
	for _, r := range st.Ledger.Totals(s.Name()).Skipped {
		if r.Reason == reason {
			return r.Files
		}
	}
	return 0
}

// The hash encoding against Python's, the language pip is written in: urlsafe base64 of the
// SHA-256, padding stripped (pip/_internal/utils/wheel.py rehash).
func TestRecordHashIsPythons(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	in := "EMRFS_RETRY_COUNT_KEY = 'fs.s3.consistent.retryCount'\n"
	cmd := exec.Command("python3", "-c", "import sys,hashlib,base64;b=sys.stdin.buffer.read();print('sha256='+base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode())")
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != recordHash(in) {
		t.Fatalf("python says %s, recordHash %s", got, recordHash(in))
	}
}

// Issue 24 (pip): the files of a pip-installed distribution its RECORD lists with their
// SHA-256 are skipped, with the ledger's reason, whatever their path (a quoted one with a
// comma, a script in bin/ reached by ../); a file whose hash differs is searched and its key
// found; a distribution whose RECORD does not parse has its files searched.
func TestPipRecordSkipsUnchangedFiles(t *testing.T) {
	const site = "/usr/local/lib/python3.11/dist-packages"
	unchanged := "EMRFS_RETRY_COUNT_KEY = 'fs.s3.consistent.retryCount'\n" + awsKeys
	changed := "# edited after install\n" + awsKeys
	script := "#!/usr/bin/python3\n# " + awsKeys
	record := "botocore/x.py," + recordHash(unchanged) + ",120\n" +
		"botocore/y.py," + recordHash("the file as pip installed it\n") + ",29\n" +
		`"botocore/data/a,b.json",` + recordHash(unchanged) + ",120\n" +
		"../../../bin/aws," + recordHash(script) + ",60\n" +
		"botocore/__pycache__/x.cpython-311.pyc,,\n" +
		"botocore-1.34.0.dist-info/RECORD,,\n"
	// a RECORD with an unterminated quote: nothing of it is used
	broken := "boto3/z.py," + recordHash(unchanged) + ",120\n\"boto3/w.py,sha256=abc,3\n"
	img := testfixture.Variant(t, testfixture.Change{
		site + "/botocore/x.py":                    unchanged,
		site + "/botocore/y.py":                    changed,
		site + "/botocore/data/a,b.json":           unchanged,
		"/usr/local/bin/aws":                       script,
		site + "/botocore-1.34.0.dist-info/RECORD": record,
		site + "/boto3/z.py":                       unchanged,
		site + "/boto3-1.34.0.dist-info/RECORD":    broken,
	})
	found, st, s := imageScan(t, img)
	if len(st.Errors) > 0 {
		t.Errorf("scan errors: %+v", st.Errors)
	}
	for _, p := range []string{site + "/botocore/x.py", site + "/botocore/data/a,b.json", "/usr/local/bin/aws"} {
		if len(found[p]) > 0 {
			t.Errorf("%s: unchanged, but searched: %+v", p, found[p])
		}
	}
	for _, p := range []string{site + "/botocore/y.py", site + "/boto3/z.py"} {
		if !(result{found: found[p]}).foundAWS(t, p) {
			t.Errorf("%s: not searched (found %+v)", p, found)
		}
	}
	if n := skippedFor(st, s, pipUnchangedReason); n != 3 {
		t.Errorf("ledger: %d files skipped as %q, want 3 (%+v)", n, pipUnchangedReason, st.Ledger.Totals(s.Name()))
	}
}

// The venvs' and interpreters' site directories are all looked in; a RECORD's paths are made
// in-image paths relative to the site directory that holds it, and only those below the
// installation prefix (/usr, /usr/local, the venv) are taken.
func TestPipRecordSiteDirectories(t *testing.T) {
	content := "x = 1\n"
	ch := testfixture.Change{}
	dirs := []string{
		"/usr/lib/python3/dist-packages", "/usr/lib/python3.12/site-packages", "/usr/lib64/python3.9/site-packages",
		"/usr/local/lib/python3.11/site-packages", "/opt/tool/lib/python3.10/site-packages",
		"/opt/app/venv/lib/python3.11/site-packages", "/srv/web/lib/python3.11/site-packages",
		"/home/dev/env/lib/python3.12/site-packages",
	}
	for _, d := range dirs {
		ch[d+"/pkg-1.0.dist-info/RECORD"] = "pkg/m.py," + recordHash(content) + ",6\n../../../bin/tool," + recordHash(content) + ",6\n" +
			"../../../../etc/outside.conf," + recordHash(content) + ",6\n/etc/absolute.conf," + recordHash(content) + ",6\n"
	}
	// not a site directory: not read
	ch["/var/tmp/lib/python3.11/site-packages/pkg-1.0.dist-info/RECORD"] = "pkg/m.py," + recordHash(content) + ",6\n"
	ch["/usr/lib/ruby/site-packages/pkg-1.0.dist-info/RECORD"] = "pkg/m.py," + recordHash(content) + ",6\n"
	img := testfixture.Variant(t, ch)
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	got := PipRecordDigests(im.Root)
	want := recordHex(content)
	for _, d := range dirs {
		if got[d+"/pkg/m.py"] != want {
			t.Errorf("%s: not read (%v)", d, got)
		}
		bin := d[:strings.Index(d, "/lib")] + "/bin/tool"
		if got[bin] != want {
			t.Errorf("%s: the script is not at %s (%v)", d, bin, got)
		}
	}
	for p := range got {
		if strings.HasPrefix(p, "/var/tmp/") || strings.HasPrefix(p, "/usr/lib/ruby/") || strings.HasSuffix(p, ".conf") {
			t.Errorf("a RECORD outside the site directories, or an entry outside the prefix, was taken: %s", p)
		}
	}
}

func recordHex(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// A RECORD that does not parse is an error naming the file and the line.
func TestParseRecordErrors(t *testing.T) {
	const name = "/usr/lib/python3/dist-packages/x-1.dist-info/RECORD"
	ok := "x/a.py," + recordHash("a") + ",1\n"
	for in, want := range map[string]string{
		ok + "x/b.py,sha256=not base64!,1\n": name + ": line 2: ",
		ok + ok + "x/c.py,1\n":               name + ": line 3: want path,hash,size, got 2 fields",
		ok + "\"x/d.py,sha256=abc,3\n":       name + ": parse error on line 2",
		ok + "x/e.py,sha256=" + base64.RawURLEncoding.EncodeToString([]byte("short")) + ",5\n": name + ": line 2: ",
	} {
		_, err := parseRecord(name, "/usr/lib/python3/dist-packages", "/usr", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
	got, err := parseRecord(name, "/usr/lib/python3/dist-packages", "/usr", []byte(ok+"\"x/q,r.py\","+recordHash("b")+",1\nx/s.py,sha512=abc,1\nx/t.pyc,,\n"))
	if err != nil || len(got) != 2 || got["/usr/lib/python3/dist-packages/x/q,r.py"] != recordHex("b") {
		t.Errorf("got %v, %v", got, err)
	}
}

// Whatever a RECORD holds, reading it returns digests or an error, never a panic.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("x/a.py," + recordHash("a") + ",1\n\"x/q,r.py\",,\n../../../bin/x,sha256=,\n"))
	f.Add([]byte("\"x,\n\"\"\n,,,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseRecord("/RECORD", "/usr/lib/python3/dist-packages", "/usr", b)
		if err == nil {
			for p, sum := range got {
				if len(sum) != 64 || !strings.HasPrefix(p, "/") {
					t.Fatalf("%q -> %q", p, sum)
				}
			}
		}
	})
}
