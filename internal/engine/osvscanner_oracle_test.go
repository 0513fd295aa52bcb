package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/osv"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// osvScanner is the pinned osv-scanner (scripts/get-tools.sh osv-scanner).
func osvScanner(t *testing.T) string {
	p := filepath.Join(testfixture.RepoRoot(), ".tools", "bin", "osv-scanner")
	if _, err := os.Stat(p); err != nil {
		t.Skip("osv-scanner is not built (scripts/get-tools.sh osv-scanner; make test builds it)")
	}
	return p
}

// versionsAround makes versions just below, at and above v in dpkg's order.
func versionsAround(v string) (below, above string) {
	return v + "~pre1", v + "+fix1"
}

// generatedRecords makes records for the installed source packages: fixed above or below the
// installed version, introduced after it, last_affected at and below it, explicit versions
// lists, several ranges, other releases, withdrawn records; a fixed seed.
func generatedRecords(seed int64, sources map[string]string, eco string) []string {
	r := rand.New(rand.NewSource(seed))
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	now := time.Now().UTC().Format(time.RFC3339)
	for i, n := range names {
		v := sources[n]
		below, above := versionsAround(v)
		var events string
		var versions []string
		ecosystem := eco
		withdrawn := ""
		switch r.Intn(10) {
		case 0:
			events = `{"introduced": "0"}, {"fixed": "` + above + `"}`
		case 1:
			events = `{"introduced": "0"}, {"fixed": "` + below + `"}`
		case 2:
			events = `{"introduced": "` + above + `"}`
		case 3:
			events = `{"introduced": "0"}, {"last_affected": "` + v + `"}`
		case 4:
			events = `{"introduced": "0"}, {"last_affected": "` + below + `"}`
		case 5:
			events = `{"introduced": "0"}, {"fixed": "` + below + `"}, {"introduced": "` + v + `"}, {"fixed": "` + above + `"}`
		case 6:
			events = `{"introduced": "0"}, {"fixed": "` + above + `"}`
			ecosystem = "Debian:11"
		case 7:
			versions = []string{below, v}
			events = `{"introduced": "` + above + `"}`
		case 8:
			events = `{"introduced": "0"}, {"fixed": "` + above + `"}`
			withdrawn = `"withdrawn": "` + now + `", `
		default:
			events = `{"introduced": "0"}`
		}
		vs, _ := json.Marshal(versions)
		if versions == nil {
			vs = []byte("[]")
		}
		out = append(out, fmt.Sprintf(`{"id": "GEN-%d-%04d", "modified": %q, %s"affected": [{"package": {"ecosystem": %q, "name": %q},
 "ranges": [{"type": "ECOSYSTEM", "events": [%s]}], "versions": %s}]}`, seed, i, now, withdrawn, ecosystem, n, events, vs))
	}
	return out
}

// TestMatchAgreesWithOSVScanner: on the real Debian image vmdb2 makes and on the demo's dirty
// image, every (source package, advisory) pair we find is what osv-scanner (v2.2.4, offline,
// its dpkg extractor on the unpacked package database) finds with the same dump, and no other.
func TestMatchAgreesWithOSVScanner(t *testing.T) {
	scanner := osvScanner(t)
	if os.Geteuid() != 0 {
		t.Skip("osv-scanner runs chrooted into the unpacked tree, which needs root")
	}
	for _, c := range []struct {
		name, image string
	}{
		{"dirty fixture", testfixture.Path(t, "dirty.raw")},
		{"vmdb2", testfixture.VMDB2Image(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(c.image)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			inv, err := img.Packages()
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string]string{}
			// osv-scanner compares a binary package's own version (a binNMU's +b1, its own
			// epoch: dmsetup 2:1.02.185-2 from lvm2 2.03.16-2) with the source versions the
			// advisories name; we compare the source's version, as Debian's tracker does. Where
			// the two differ the tools disagree by design: those sources are left out of the
			// comparison (TestMatch pins our answer for them).
			divergent := map[string]bool{}
			for _, p := range inv.Packages {
				sources[p.SourceName()] = p.SourceVer()
				if p.Version != p.SourceVer() {
					divergent[p.SourceName()] = true
				}
			}
			// five records per source package, each of a randomly chosen kind
			var records []string
			for seed := int64(1); seed <= 5; seed++ {
				records = append(records, generatedRecords(seed, sources, "Debian:12")...)
			}
			dir := t.TempDir()
			tree := filepath.Join(dir, "tree")
			for _, f := range []string{"/etc/os-release", "/var/lib/dpkg/status"} {
				data, err := img.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				os.MkdirAll(filepath.Join(tree, filepath.Dir(f)), 0o755)
				os.WriteFile(filepath.Join(tree, f), data, 0o644)
			}
			dump := testfixture.OSVDump(records...)
			// osv-scanner's dpkg extractor reads var/lib/dpkg/status relative to the
			// filesystem's root only: it runs chrooted into the tree, with the dump inside
			os.MkdirAll(filepath.Join(tree, "db", "osv-scanner", "Debian"), 0o755)
			os.MkdirAll(filepath.Join(tree, "tmp"), 0o1777)
			os.WriteFile(filepath.Join(tree, "db", "osv-scanner", "Debian", "all.zip"), dump, 0o644)
			bin, err := os.ReadFile(scanner)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(tree, "osv-scanner"), bin, 0o755)

			// ours
			rel, _ := advisories.ReleaseOf("debian", "12")
			db, err := osv.ReadZip("all.zip", bytes.NewReader(dump), int64(len(dump)), rel.Filter)
			if err != nil {
				t.Fatal(err)
			}
			res := advisories.Match(inv, rel, db)
			ours := map[string]bool{}
			for _, f := range append(res.Fixable, res.Unfixed...) {
				ours[f.Source+" "+f.Advisory] = true
			}
			if len(res.Unevaluated) > 0 {
				t.Fatalf("unevaluated: %v", res.Unevaluated)
			}

			// osv-scanner's
			cmd := exec.Command("chroot", tree, "/osv-scanner", "scan", "source", "-r", "--experimental-plugins", "os/dpkg",
				"--experimental-no-default-plugins", "--offline-vulnerabilities", "--local-db-path", "/db", "--format", "json", "/")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
				t.Fatalf("osv-scanner: %v\n%s", err, stderr.String())
			}
			var out struct {
				Results []struct {
					Packages []struct {
						Package struct {
							Name, Version, Ecosystem string
						} `json:"package"`
						Vulnerabilities []struct {
							ID string `json:"id"`
						} `json:"vulnerabilities"`
					} `json:"packages"`
				} `json:"results"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("osv-scanner output: %v\n%s", err, stdout.String())
			}
			theirs := map[string]bool{}
			// osv-scanner names the binary package; its records name the source package: map a
			// record back to the source it names
			bySource := map[string]string{}
			for _, rec := range records {
				r, _ := osv.Parse("r", []byte(rec))
				bySource[r.ID] = r.Affected[0].Package.Name
			}
			packages := 0
			for _, r := range out.Results {
				for _, p := range r.Packages {
					packages++
					for _, v := range p.Vulnerabilities {
						theirs[bySource[v.ID]+" "+v.ID] = true
					}
				}
			}
			if packages == 0 {
				t.Fatalf("osv-scanner found no package:\n%s\n%s", stdout.String(), stderr.String())
			}
			var missing, extra []string
			compared := 0
			for k := range ours {
				if divergent[strings.SplitN(k, " ", 2)[0]] {
					delete(ours, k)
				}
			}
			for k := range theirs {
				if divergent[strings.SplitN(k, " ", 2)[0]] {
					delete(theirs, k)
				}
			}
			for k := range theirs {
				if !ours[k] {
					missing = append(missing, k)
				}
			}
			for k := range ours {
				if !theirs[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing)+len(extra) > 0 {
				t.Errorf("osv-scanner found %d pairs we did not: %s\nwe found %d it did not: %s", len(missing), strings.Join(missing, ", "), len(extra), strings.Join(extra, ", "))
			}
			compared = len(sources) - len(divergent)
			t.Logf("%d source packages (%d compared: %d have binaries of another version), %d records, %d (package, advisory) pairs, all equal",
				len(sources), compared, len(divergent), len(records), len(ours))
			if len(ours) == 0 {
				t.Fatal("no pair at all: the comparison proves nothing")
			}
		})
	}
}
