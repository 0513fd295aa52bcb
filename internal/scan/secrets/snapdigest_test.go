package secrets

import (
	"crypto/sha3"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// squashfsSnap is a snap as snapcraft makes one: a squashfs (mksquashfs) of a tree with
// meta/snap.yaml.
func squashfsSnap(t *testing.T, name string) []byte {
	t.Helper()
	needTool(t, "mksquashfs")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "meta"), 0o755)
	os.WriteFile(filepath.Join(src, "meta", "snap.yaml"), []byte("name: "+name+"\nversion: '1.0'\n"), 0o644)
	os.WriteFile(filepath.Join(src, "config.ini"), []byte(awsKeys), 0o644)
	out := filepath.Join(dir, name+".snap")
	if b, err := exec.Command("mksquashfs", src, out, "-noappend", "-comp", "gzip", "-no-progress", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapDigest is the snap's SHA3-384 in base64url without padding, by openssl and basenc (the
// oracle for snapd's asserts.SnapFileSHA3_384), checked against Go's.
func snapDigest(t *testing.T, b []byte) string {
	t.Helper()
	needTool(t, "openssl")
	needTool(t, "basenc")
	cmd := exec.Command("sh", "-c", "openssl dgst -sha3-384 -binary | basenc --base64url")
	cmd.Stdin = strings.NewReader(string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	d := strings.TrimRight(strings.TrimSpace(string(out)), "=")
	sum := sha3.Sum384(b)
	if go_ := base64.RawURLEncoding.EncodeToString(sum[:]); go_ != d {
		t.Fatalf("openssl says %s, Go %s", d, go_)
	}
	return d
}

// revisionAssertion is a snap-revision assertion as the store signs it (the signature made up:
// it is not verified).
func revisionAssertion(digest string, size int) string {
	return "type: snap-revision\nauthority-id: canonical\nsnap-sha3-384: " + digest +
		"\ndeveloper-id: canonical\nsnap-id: 99T7MUlRhtI3U0QFgl5mXXESAiSwt776\nsnap-revision: 1\nsnap-size: " +
		strconv.Itoa(size) + "\ntimestamp: 2024-01-01T00:00:00.000000Z\nsign-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n\n" +
		"AcLBUgQAAQoABgUCZbRZxQAKCRDgT5vottzAEhvqD/9oEeahRuI3VVRfdSGb\nq9q2sVTQ0dyxOTz4WglXo8dB1rh8g2tJX3zOpfMTS9nGzE8f0ZRpHzO1ep5H\n"
}

// seedAssertions is a seed's bundle: an account key (with a body that holds a line like a
// snap-revision's header, skipped by its body-length), a declaration with a multi-line header,
// then the revision.
func seedAssertions(digest string, size int) string {
	body := "type: snap-revision\nsnap-sha3-384: " + strings.Repeat("A", 64) + "\nsnap-size: 1\n\nAcbBTQRWhcGAARAA"
	return "type: account-key\nauthority-id: canonical\npublic-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n" +
		"body-length: " + strconv.Itoa(len(body)) + "\nsign-key-sha3-384: -CvQKAwRQ5h3Ffn10FILJoEZUXOv6km9FwA80-Rcj-f-6jadQ89VRswHNiEB9Lxk\n\n" +
		body + "\n\nAcLDXAQAAQoABgUCV2R7\n\n" +
		"type: snap-declaration\nauthority-id: canonical\nseries: 16\nsnap-id: 99T7MUlRhtI3U0QFgl5mXXESAiSwt776\nplugs:\n  snapd-control:\n    allow-installation: true\nsnap-name: core\n\nAcLBUgQAAQoABgUC\n\n" +
		revisionAssertion(digest, size)
}

// unseen is the pass's error for the file at p, "" if none.
func unseen(st *scan.Stats, p string) string {
	for _, e := range st.Errors {
		if e.Path == p {
			return e.Error
		}
	}
	return ""
}

// Issue 24 (snaps): a .snap in snapd's directories whose SHA3-384 and size a snap-revision
// assertion in the image lists, in snapd's store layout or the seed's, is skipped with the
// ledger's reason; the same squashfs changed by one byte, or with another size asserted, or
// outside snapd's directories, is named as not seen again.
func TestSnapRevisionSkipsStoreSnaps(t *testing.T) {
	core, lxd := squashfsSnap(t, "core"), squashfsSnap(t, "lxd")
	dc, dl := snapDigest(t, core), snapDigest(t, lxd)
	changed := append([]byte(nil), core...)
	changed[len(changed)-1] ^= 1 // the padding: still a squashfs
	const revs = "/var/lib/snapd/assertions/asserts-v0/snap-revision/"
	img := testfixture.Variant(t, testfixture.Change{
		"/var/lib/snapd/snaps/core_16.snap":            string(core),
		"/var/lib/snapd/snaps/core_17.snap":            string(changed),
		revs + dc + "/active":                          revisionAssertion(dc, len(core)),
		"/var/lib/snapd/seed/snaps/lxd_2.snap":         string(lxd),
		"/var/lib/snapd/seed/assertions/model.assert":  seedAssertions(dl, len(lxd)),
		"/opt/snaps/core_16.snap":                      string(core),
		"/var/lib/snapd/seed/assertions/broken.assert": revisionAssertion(dl, len(lxd))[:40],
	})
	_, st, s := imageScan(t, img)
	for _, p := range []string{"/var/lib/snapd/snaps/core_16.snap", "/var/lib/snapd/seed/snaps/lxd_2.snap"} {
		if e := unseen(st, p); e != "" {
			t.Errorf("%s: an unchanged snap, but: %s", p, e)
		}
	}
	for _, p := range []string{"/var/lib/snapd/snaps/core_17.snap", "/opt/snaps/core_16.snap"} {
		if e := unseen(st, p); !strings.Contains(e, p+": a squashfs image, which this checker does not open") {
			t.Errorf("%s: error %q, want it named as a squashfs not opened (all %+v)", p, e, st.Errors)
		}
	}
	if n := skippedFor(st, s, snapUnchangedReason); n != 2 {
		t.Errorf("ledger: %d files skipped as %q, want 2 (%+v)", n, snapUnchangedReason, st.Ledger.Totals(s.Name()))
	}
}

// The size a snap-revision asserts is compared too: the right digest with another size is not
// the store's snap.
func TestSnapRevisionSizeMustMatch(t *testing.T) {
	core := squashfsSnap(t, "core")
	dc := snapDigest(t, core)
	img := testfixture.Variant(t, testfixture.Change{
		"/var/lib/snapd/snaps/core_16.snap":                                    string(core),
		"/var/lib/snapd/assertions/asserts-v0/snap-revision/" + dc + "/active": revisionAssertion(dc, len(core)+1),
	})
	_, st, _ := imageScan(t, img)
	if e := unseen(st, "/var/lib/snapd/snaps/core_16.snap"); !strings.Contains(e, "a squashfs image, which this checker does not open") {
		t.Errorf("error %q, want the snap named as not opened", e)
	}
}

// The assertions are read as snapd's decoder reads them: a body skipped by its body-length,
// multi-line headers, several to a file; one that does not parse is an error naming the file and
// the offset, those before it kept; the store layout's optional-key directory is read too.
func TestParseAssertions(t *testing.T) {
	d := base64.RawURLEncoding.EncodeToString(make([]byte, 48))
	out := map[string]int64{}
	if err := parseAssertions("/seed/a.assert", []byte(seedAssertions(d, 4096)), out); err != nil || len(out) != 1 || out[d] != 4096 {
		t.Fatalf("%v %v", out, err)
	}
	for in, want := range map[string]string{
		revisionAssertion(d, 1) + "\n" + "type: snap-revision\nsnap-size: x\n\nsig": "/f: offset ",
		"type: snap-revision\nsnap-sha3-384: abc\nsnap-size: 1\n\nsig":              `/f: offset 0: snap-sha3-384 "abc" is not a SHA3-384 in base64url`,
		"type: account-key\nbody-length: 99\n\nshort":                               `/f: offset 0: body-length "99" beyond the file`,
		"type: snap-revision":  "/f: offset 0: assertion headers with no blank line",
		"no colon here\n\nsig": "/f: offset 0: header line 1",
	} {
		out := map[string]int64{}
		err := parseAssertions("/f", []byte(in), out)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
	out = map[string]int64{}
	_ = parseAssertions("/f", []byte(revisionAssertion(d, 1)+"\ntype: snap-revision\nsnap-size: x\n\nsig"), out)
	if out[d] != 1 {
		t.Errorf("the assertion before the broken one was dropped: %v", out)
	}
}

// Whatever an assertion file holds, reading it adds digests or returns an error, never a panic.
func FuzzParseAssertions(f *testing.F) {
	d := base64.RawURLEncoding.EncodeToString(make([]byte, 48))
	f.Add([]byte(seedAssertions(d, 10)))
	f.Add([]byte("type: a\nbody-length: 3\n\nabc\n\nsig\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseAssertions("/f", b, map[string]int64{})
	})
}

// snapd's store layout: one directory per primary key, an optional key's non-default value a
// further "0:VALUE" directory, the assertion in active or active.N (a newer format).
func TestSnapRevisionStoreLayout(t *testing.T) {
	a := base64.RawURLEncoding.EncodeToString(make([]byte, 48))
	b := strings.Repeat("b", 64)
	c := strings.Repeat("c", 64)
	const revs = "/var/lib/snapd/assertions/asserts-v0/snap-revision/"
	img := testfixture.Variant(t, testfixture.Change{
		revs + a + "/active":                  revisionAssertion(a, 1),
		revs + b + "/0:global-upload/active":  revisionAssertion(b, 2),
		revs + c + "/active.1":                revisionAssertion(c, 3),
		revs + "other/inactive":               revisionAssertion(strings.Repeat("d", 64), 4),
		"/var/lib/snapd/seed/assertions/x.ok": revisionAssertion(strings.Repeat("e", 64), 5),
	})
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	got := SnapRevisionDigests(im.Root)
	if len(got) != 3 || got[a] != 1 || got[b] != 2 || got[c] != 3 {
		t.Errorf("got %v", got)
	}
}
