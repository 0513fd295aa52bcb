package testfixture

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// OSVRecords writes OSV records (JSON texts) into a new directory, one file each, and returns
// it: a vulnerability_db for tests. The files are written now, so the data is fresh. With no
// records it holds one inert record (no affected package), so that the directory has a date.
func OSVRecords(t testing.TB, records ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeOSVRecords(dir, records); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeOSVRecords(dir string, records []string) error {
	if len(records) == 0 {
		records = []string{InertOSVRecord()}
	}
	for i, r := range records {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("record-%03d.json", i)), []byte(r), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// InertOSVRecord affects nothing: data with a date and no advisory.
func InertOSVRecord() string {
	return `{"id": "MARKETPLACE-TEST-0", "modified": "` + time.Now().UTC().Format(time.RFC3339) + `", "summary": "test data: affects nothing", "affected": []}`
}

// OSVDump is an all.zip of the records, as OSV publishes a dump.
func OSVDump(records ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i, r := range records {
		f, _ := w.Create(fmt.Sprintf("record-%03d.json", i))
		f.Write([]byte(r))
	}
	w.Close()
	return b.Bytes()
}

// MainWithInertVulnerabilityDB is a TestMain for the packages that check the images they make:
// it runs the tests with $MARKETPLACE_VULNERABILITY_DB pointing at fresh data that affects no
// package (there is no network here), so that security-updates-installed passes on them; the
// tests of that rule give their own data. It exits with the tests' status.
func MainWithInertVulnerabilityDB(m *testing.M) {
	done := UseInertVulnerabilityDB()
	code := m.Run()
	done()
	os.Exit(code)
}

// UseInertVulnerabilityDB points $MARKETPLACE_VULNERABILITY_DB at fresh data that affects no
// package: the images the tests make are then judged up to date, offline. It returns the
// cleanup.
func UseInertVulnerabilityDB() func() {
	dir, err := os.MkdirTemp("", "marketplace-osv-")
	if err != nil {
		panic(err)
	}
	if err := writeOSVRecords(dir, nil); err != nil {
		panic(err)
	}
	os.Setenv("MARKETPLACE_VULNERABILITY_DB", dir)
	return func() { os.RemoveAll(dir) }
}

// DemoOpenSSLRecord is the fixture advisory of the demo and tests (testdata/osv/, which the
// demo's server serves): openssl in Debian 12 fixed in 3.0.11-1~deb12u2 (the clean fixture's
// 3.0.14 has the fix; the dirty fixture's 0.9.8o does not). It is test data, not a real advisory.
func DemoOpenSSLRecord() string {
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "testdata", "osv", "DEMO-OPENSSL-1.json"))
	if err != nil {
		panic(err)
	}
	return string(b)
}
