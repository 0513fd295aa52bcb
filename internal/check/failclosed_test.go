package check

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The secrets every fail-closed test plants: an AWS key and a password.
const plantedSecrets = "AWS_ACCESS_KEY_ID=AKIAZ4QK7W2N5XR3TY6P\npassword = Sup3rS3cretPassw0rd\n"

func finding(t *testing.T, r *report.Report, id string) report.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Rule == id {
			return f
		}
	}
	t.Fatalf("no finding %s", id)
	return report.Finding{}
}

// A directory nested deeper than the walk follows used to stop the whole content walk: the
// scan noted it and no-hardcoded-credentials passed with "0 text files searched", so an image
// holding an AWS key was COMPLIANT. Now the walk goes on past it, and what it could not enter
// makes the rule an error that names it.
func TestDeepNestingDoesNotSilenceTheScan(t *testing.T) {
	deep := "/srv/" + strings.Repeat("d/", 140)
	cfg := Config{Profiles: []string{"azure-linux"}}

	// the only secret is below the nesting limit: not found, so not a pass either
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{deep + "app.env": plantedSecrets}), cfg)
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || !f.Blocking || r.Compliant {
		t.Fatalf("secret below a too-deep directory: %s (blocking %v, compliant %v): %s", f.Status, f.Blocking, r.Compliant, f.Message)
	}
	if !strings.Contains(f.Message, "/srv/d/d/") || !strings.Contains(f.Message, "nested deeper") {
		t.Errorf("the error does not name the directory it could not read: %s", f.Message)
	}

	// a secret elsewhere is still found: the walk went on
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{deep + "x": "x\n", "/opt/app/.env": plantedSecrets}), cfg)
	f = finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Fail || !strings.Contains(f.Message, "could not be read") {
		t.Errorf("secret beside a too-deep directory: %s: %s", f.Status, f.Message)
	}
}

// debugfs runs one debugfs request (e2fsprogs) on an image.
func debugfs(t *testing.T, img, request string) string {
	t.Helper()
	debugfs := "debugfs"
	if _, err := exec.LookPath(debugfs); err != nil {
		debugfs = "/usr/sbin/debugfs"
		if _, err := os.Stat(debugfs); err != nil {
			debugfs = "/sbin/debugfs"
		}
	}
	out, err := exec.Command(debugfs, "-R", request, img).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs %s: %v\n%s", request, err, out)
	}
	return string(out)
}

// dirBlocks lists a directory's blocks, as byte offsets in the image.
func dirBlocks(t *testing.T, img, dir string) []int64 {
	t.Helper()
	size := int64(0)
	for _, l := range strings.Split(debugfs(t, img, "stats"), "\n") {
		if v, ok := strings.CutPrefix(l, "Block size:"); ok {
			size, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if size == 0 {
		t.Fatal("debugfs stats: no block size")
	}
	out := debugfs(t, img, "blocks "+dir)
	var blocks []int64
	for _, w := range strings.Fields(string(out)) {
		if n, err := strconv.ParseInt(w, 10, 64); err == nil {
			blocks = append(blocks, n*size)
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("debugfs found no blocks for %s:\n%s", dir, out)
	}
	return blocks
}

// Property: whatever is written over the directory blocks on the way to a planted secret, the
// verdict is never COMPLIANT and the credential rule never passes: either the secret is found,
// or what could not be read makes the rule an error.
func TestCorruptDirectoryBlocksNeverPass(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/opt/app/conf/app.env": plantedSecrets})
	orig, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	var targets []int64
	for _, d := range []string{"/", "/opt", "/opt/app", "/opt/app/conf"} {
		targets = append(targets, dirBlocks(t, img, d)...)
	}
	const block = 1024 // the smallest ext4 block: the start of every directory block
	cfg := Config{Profiles: []string{"azure-linux"}}
	rng := rand.New(rand.NewPCG(15, 2026))
	trials := 40
	if testing.Short() {
		trials = 8
	}
	for trial := range trials {
		b := append([]byte(nil), orig...)
		off := targets[rng.IntN(len(targets))]
		kind := trial % 4
		switch kind {
		case 0: // zeros
			clear(b[off : off+block])
		case 1: // random bytes
			for i := off; i < off+block; i++ {
				b[i] = byte(rng.UintN(256))
			}
		case 2: // an empty-looking first entry over the whole block
			clear(b[off : off+block])
			b[off+4], b[off+5] = 0x00, 0x04
		case 3: // a few flipped bytes inside the entries
			for range 8 {
				b[off+int64(rng.IntN(block))] ^= byte(1 + rng.UintN(255))
			}
		}
		p := fmt.Sprintf("%s/trial%d.raw", t.TempDir(), trial)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := File(p, cfg)
		if err != nil {
			continue // could not inspect at all: exit 2, never compliant
		}
		f := finding(t, r, "no-hardcoded-credentials")
		if f.Status == rules.Pass || r.Compliant {
			t.Errorf("trial %d (offset %d, corruption %d): credential rule %s, compliant %v: %s", trial, off, kind, f.Status, r.Compliant, f.Message)
		}
	}
}

// Rule evidence that quotes the image (a kernel command line, a network file) goes through the
// same redaction as the credential rule: no report format prints the password it holds.
func TestEvidenceNeverPrintsAPassword(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{
		"/boot/grub/grub.cfg": "set default=0\nmenuentry 'Debian GNU/Linux' {\n" +
			"\tlinux\t/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=ttyS0 " +
			"ds=nocloud-net;s=https://seed:Cmd1inePw@seed.example.com/ db=mysql://app:MyPw0rdX@db:3306/app\n" +
			"\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n",
		"/etc/netplan/60-wifi.yaml": "network:\n  wifis: {wlan0: {match: {macaddress: \"00:15:5d:01:02:03\"}, access-points: {corp: {password: \"NetPl4nPw\"}}}}\n",
	})
	dir := t.TempDir()
	r := mustCheck(t, img, Config{Profiles: []string{"azure-linux"}})
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Fail {
		t.Fatalf("kernel-cmdline: %s", f.Status)
	}
	if f := finding(t, r, "no-mac-pinned-network"); f.Status != rules.Fail {
		t.Fatalf("no-mac-pinned-network: %s", f.Status)
	}
	out := Outputs{}
	if err := out.ForFormats(dir, []string{"json", "junit", "mscert", "sarif"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(r, out); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	r.WriteTable(&all)
	for _, p := range []string{out.JSON, out.JUnit, out.MSCert, out.SARIF} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, pw := range []string{"Cmd1inePw", "MyPw0rdX", "NetPl4nPw"} {
		if strings.Contains(all.String(), pw) {
			t.Errorf("a report prints the password %s", pw)
		}
	}
	if !strings.Contains(all.String(), "seed.example.com") {
		t.Error("the redacted evidence lost the rest of the command line")
	}
}
