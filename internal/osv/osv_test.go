package osv

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
)

func TestRealUSN(t *testing.T) {
	db, err := ReadDir("testdata/ubuntu", Filter{Ecosystems: []string{"Ubuntu:22.04:LTS"}})
	if err != nil {
		t.Fatal(err)
	}
	rs := db.For("openssl")
	if len(rs) != 1 || rs[0].ID != "USN-6986-1" || db.Kept != 1 || db.Read != 1 {
		t.Fatalf("records %+v, db %+v", rs, db)
	}
	if db.Newest.Format("2006-01-02") != "2026-04-27" {
		t.Errorf("newest modified %v", db.Newest)
	}
	var jammy Affected
	for _, a := range rs[0].Affected {
		if a.Package.Ecosystem == "Ubuntu:22.04:LTS" {
			jammy = a
		}
	}
	for _, c := range []struct {
		v        string
		affected bool
		fixed    string
	}{
		{"3.0.2-0ubuntu1.17", true, "3.0.2-0ubuntu1.18"},
		{"3.0.2-0ubuntu1.18", false, ""},
		{"3.0.2-0ubuntu1.19", false, ""},
		{"3.0.2-0ubuntu1.10", true, "3.0.2-0ubuntu1.18"},
		{"1.1.1l-1ubuntu1", true, "3.0.2-0ubuntu1.18"},
	} {
		got, err := jammy.Evaluate(c.v, pkgver.SchemeDebian)
		if err != nil || got.Affected != c.affected || got.Fixed != c.fixed {
			t.Errorf("Evaluate(%s) = %+v, %v; want affected=%v fixed=%q", c.v, got, err, c.affected, c.fixed)
		}
	}
	// another release's records are not kept
	db, err = ReadDir("testdata/ubuntu", Filter{Ecosystems: []string{"Ubuntu:20.04:LTS"}})
	if err != nil || len(db.For("openssl")) != 0 || db.Decoded != 0 {
		t.Fatalf("20.04: %+v %v", db, err)
	}
}

func affected(events ...Event) Affected {
	return Affected{Package: Package{Ecosystem: "Debian:12", Name: "p"}, Ranges: []Range{{Type: "ECOSYSTEM", Events: events}}}
}

func TestEvaluateEvents(t *testing.T) {
	intro := func(v string) Event { return Event{Introduced: v} }
	fix := func(v string) Event { return Event{Fixed: v} }
	last := func(v string) Event { return Event{LastAffected: v} }
	limit := func(v string) Event { return Event{Limit: v} }
	for _, c := range []struct {
		name     string
		a        Affected
		v        string
		affected bool
		fixed    string
	}{
		{"before fix", affected(intro("0"), fix("1.2-1")), "1.1-1", true, "1.2-1"},
		{"at fix", affected(intro("0"), fix("1.2-1")), "1.2-1", false, ""},
		{"tilde before fix", affected(intro("0"), fix("1.2-1")), "1.2~rc1-1", true, "1.2-1"},
		{"before introduced", affected(intro("1.0"), fix("2.0")), "0.9", false, ""},
		{"at introduced", affected(intro("1.0"), fix("2.0")), "1.0", true, "2.0"},
		{"second interval", affected(intro("0"), fix("2"), intro("3"), fix("5")), "4", true, "5"},
		{"between intervals", affected(intro("0"), fix("2"), intro("3"), fix("5")), "2.5", false, ""},
		{"first interval", affected(intro("0"), fix("2"), intro("3"), fix("5")), "1", true, "2"},
		{"unsorted events", affected(fix("5"), intro("3"), fix("2"), intro("0")), "4", true, "5"},
		{"last_affected at", affected(intro("0"), last("1.5")), "1.5", true, ""},
		{"last_affected above", affected(intro("0"), last("1.5")), "1.6", false, ""},
		{"no fix", affected(intro("0")), "99", true, ""},
		{"limit below", affected(intro("0"), limit("2")), "3", false, ""},
		{"limit above", affected(intro("0"), limit("2")), "1", true, ""},
		{"limit star", affected(intro("0"), limit("*")), "9", true, ""},
		{"at limit", affected(intro("0"), limit("2")), "2", false, ""},
		{"reintroduced at its fix", affected(intro("0"), fix("2"), intro("2"), fix("4")), "2", true, "4"},
		{"epoch", affected(intro("0"), fix("1:1.0-1")), "2.0-1", true, "1:1.0-1"},
		{"listed version", Affected{Versions: []string{"1.0-1"}}, "1.0-1", true, ""},
		{"listed version equal by order", Affected{Versions: []string{"1.0-1"}}, "0:1.0-1", true, ""},
		{"not listed", Affected{Versions: []string{"1.0-1"}}, "1.0-2", false, ""},
		{"git range skipped", Affected{Ranges: []Range{{Type: "GIT", Events: []Event{intro("0")}}}}, "1", false, ""},
	} {
		got, err := c.a.Evaluate(c.v, pkgver.SchemeDebian)
		if err != nil || got.Affected != c.affected || got.Fixed != c.fixed {
			t.Errorf("%s: Evaluate(%s) = %+v, %v; want affected=%v fixed=%q", c.name, c.v, got, err, c.affected, c.fixed)
		}
	}
}

func TestEvaluateRefusesWhatCannotBeOrdered(t *testing.T) {
	for _, c := range []struct {
		a Affected
		v string
	}{
		{affected(Event{Introduced: "0"}, Event{Fixed: "not a version"}), "1.0"},
		{affected(Event{Introduced: "0"}, Event{Fixed: "1.0"}), "x1.0"},
		{affected(Event{Fixed: "1.0"}), "0.5"},
		{Affected{Ranges: []Range{{Type: "WEIRD", Events: []Event{{Introduced: "0"}}}}}, "1"},
	} {
		if got, err := c.a.Evaluate(c.v, pkgver.SchemeDebian); err == nil {
			t.Errorf("Evaluate(%s) on %+v = %+v, want an error", c.v, c.a, got)
		}
	}
}

func TestEventNeedsExactlyOneKind(t *testing.T) {
	for _, s := range []string{`{"introduced":"0","fixed":"1"}`, `{}`, `{"fixed":""}`, `{"other":"1"}`} {
		var e Event
		if err := e.UnmarshalJSON([]byte(s)); err == nil {
			t.Errorf("%s accepted as %+v", s, e)
		}
	}
}

func TestParseErrorsNameFileAndOffset(t *testing.T) {
	_, err := Parse("x.json", []byte(`{"id": "A", "affected": [ {"package": 5} ]}`))
	var oe *Error
	if !errors.As(err, &oe) || oe.Name != "x.json" || oe.Offset == 0 {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse("y.json", []byte(`{"affected": []}`)); err == nil || !strings.Contains(err.Error(), "y.json") {
		t.Errorf("record without id: %v", err)
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for n, s := range files {
		f, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(s))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const dsa = `{"id": "DSA-1-1", "modified": "2026-01-02T00:00:00Z", "aliases": ["CVE-2026-1"],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}]},
  {"package": {"ecosystem": "Debian:11", "name": "openssl"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u2"}]}]}]}`

func TestReadZip(t *testing.T) {
	data := zipOf(t, map[string]string{
		"DSA-1-1.json": dsa,
		"DLA-2-1.json": `{"id": "DLA-2-1", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:11", "name": "curl"}}]}`,
		"BROKEN.json":  `{"id": "B", "affected": [`, // not Debian:12: never decoded
		"WD-1.json":    `{"id": "WD-1", "modified": "2026-01-01T00:00:00Z", "withdrawn": "2026-01-03T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}}]}`,
		"README.txt":   "not a record",
		"DSA-3-1.json": `{"id": "DSA-3-1", "modified": "2025-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}}]}`,
	})
	db, err := ReadZip("all.zip", bytes.NewReader(data), int64(len(data)), Filter{
		Ecosystems: []string{"Debian:12"},
		Package:    func(n string) bool { return n == "openssl" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if db.Read != 5 || db.Decoded != 3 || db.Kept != 1 || db.Withdrawn != 1 {
		t.Errorf("db = %+v", db)
	}
	if rs := db.For("openssl"); len(rs) != 1 || rs[0].ID != "DSA-1-1" {
		t.Errorf("openssl: %+v", rs)
	}
	if len(db.For("zlib")) != 0 {
		t.Error("a package the filter does not keep was kept")
	}
	// a member that may match and is broken is an error naming it
	bad := zipOf(t, map[string]string{"DSA-9-1.json": `{"id": "DSA-9-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": 7}}]}`})
	_, err = ReadZip("all.zip", bytes.NewReader(bad), int64(len(bad)), Filter{Ecosystems: []string{"Debian:12"}})
	if err == nil || !strings.Contains(err.Error(), "all.zip!DSA-9-1.json") {
		t.Errorf("broken member: %v", err)
	}
}

func TestReadDirErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"id": "A", "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"}}], "modified": 3}`), 0o644)
	_, err := ReadDir(dir, Filter{Ecosystems: []string{"Debian:12"}})
	if err == nil || !strings.Contains(err.Error(), "a.json") {
		t.Fatalf("err = %v", err)
	}
}

func TestFilterPrefixes(t *testing.T) {
	rec := `{"id": "RHSA-1", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9::appstream", "name": "openssl"}}]}`
	data := zipOf(t, map[string]string{"RHSA-1.json": rec})
	for _, c := range []struct {
		f    Filter
		kept int
	}{
		{Filter{Prefixes: []string{"Red Hat:enterprise_linux:9::"}}, 1},
		{Filter{Prefixes: []string{"Red Hat:enterprise_linux:8::"}}, 0},
		{Filter{Ecosystems: []string{"Red Hat:enterprise_linux:9"}}, 0},
	} {
		db, err := ReadZip("all.zip", bytes.NewReader(data), int64(len(data)), c.f)
		if err != nil || db.Kept != c.kept {
			t.Errorf("%+v: kept %d, %v; want %d", c.f, db.Kept, err, c.kept)
		}
	}
}

func TestEcosystem(t *testing.T) {
	for _, c := range []struct {
		s      string
		base   string
		scheme pkgver.Scheme
		ok     bool
	}{
		{"Debian:12", "Debian", pkgver.SchemeDebian, true},
		{"Ubuntu:22.04:LTS", "Ubuntu", pkgver.SchemeDebian, true},
		{"Alpine:v3.20", "Alpine", pkgver.SchemeAlpine, true},
		{"Red Hat:enterprise_linux:9::baseos", "Red Hat", pkgver.SchemeRPM, true},
		{"Rocky Linux:9", "Rocky Linux", pkgver.SchemeRPM, true},
		{"npm", "npm", "", false},
	} {
		e := ParseEcosystem(c.s)
		s, ok := e.Scheme()
		if e.Base != c.base || s != c.scheme || ok != c.ok || e.String() != c.s {
			t.Errorf("%s: %+v %s %v", c.s, e, s, ok)
		}
	}
}

// TestReadDirFollowsLinkedRecords: a record reached by a symbolic link is read (its dump would
// otherwise lose it silently); a link to a directory, whose records would go unread, is an error.
func TestReadDirFollowsLinkedRecords(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "DSA-1-1.json"), []byte(dsa), 0o644)
	os.Symlink(filepath.Join(elsewhere, "DSA-1-1.json"), filepath.Join(dir, "DSA-1-1.json"))
	db, err := ReadDir(dir, Filter{Ecosystems: []string{"Debian:12"}})
	if err != nil || len(db.For("openssl")) != 1 {
		t.Fatalf("linked record: %+v %v", db, err)
	}
	os.Symlink(elsewhere, filepath.Join(dir, "more"))
	if _, err := ReadDir(dir, Filter{Ecosystems: []string{"Debian:12"}}); err == nil || !strings.Contains(err.Error(), "more") {
		t.Fatalf("a linked directory: %v", err)
	}
}
