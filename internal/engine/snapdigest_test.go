package engine

import (
	"crypto/sha3"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 24 (snaps): every Ubuntu cloud image has snaps, squashfs images the credential scan
// does not open. One the store's snap-revision assertion in the image vouches for (SHA3-384 and
// size) is skipped, and the credential rule passes; without the assertion it errors naming the
// snap.
func TestStoreSnapDoesNotBlockTheCredentialRule(t *testing.T) {
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("mksquashfs is not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "meta"), 0o755)
	os.WriteFile(filepath.Join(src, "meta", "snap.yaml"), []byte("name: core22\nversion: '20240111'\n"), 0o644)
	out := filepath.Join(dir, "core22.snap")
	if b, err := exec.Command("mksquashfs", src, out, "-noappend", "-no-progress", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v %s", err, b)
	}
	snap, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha3.Sum384(snap)
	digest := base64.RawURLEncoding.EncodeToString(sum[:])
	assertion := "type: snap-revision\nauthority-id: canonical\nsnap-sha3-384: " + digest +
		"\ndeveloper-id: canonical\nsnap-id: amcUKQILKXHHTlmSa7NMdnXSx02dNeeT\nsnap-revision: 1122\nsnap-size: " +
		strconv.Itoa(len(snap)) + "\ntimestamp: 2024-01-11T00:00:00.000000Z\nsign-key-sha3-384: BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul\n\nAcLBUgQAAQoABgUCZaA\n"
	const path = "/var/lib/snapd/snaps/core22_1122.snap"

	// the assertion's sign-key-sha3-384 (the store key's public digest) looks like a generic
	// API key: snapd's assertions are a default allow path, searched without the generic rules
	cfg := walkCfg
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{
		path: string(snap),
		"/var/lib/snapd/assertions/asserts-v0/snap-revision/" + digest + "/active": assertion,
	}), cfg)
	if f := finding(t, r, "no-hardcoded-credentials"); f.Status != rules.Pass {
		t.Errorf("with its assertion: credential rule %s: %s", f.Status, f.Message)
	}

	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{path: string(snap)}), cfg)
	f := finding(t, r, "no-hardcoded-credentials")
	var evidence []string
	for _, e := range f.Evidence {
		evidence = append(evidence, e.Path+": "+e.Detail)
	}
	if f.Status != rules.Error || !strings.Contains(strings.Join(evidence, "\n")+f.Message, path) {
		t.Errorf("without an assertion: credential rule %s: %s %q", f.Status, f.Message, evidence)
	}
}
