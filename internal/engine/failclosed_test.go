package engine

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
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
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}

	// the only secret is below the nesting limit: not found, so not a pass either
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{deep + "app.env": plantedSecrets}), cfg)
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || !f.Blocking || r.Compliant {
		t.Fatalf("secret below a too-deep directory: %s (blocking %v, compliant %v): %s", f.Status, f.Blocking, r.Compliant, f.Message)
	}
	if !strings.Contains(f.Message, "/srv/d/d/") || !strings.Contains(f.Message, "nested deeper") {
		t.Errorf("the error does not name the directory it could not read: %s", f.Message)
	}

	// a secret elsewhere is still found: the walk went on; the integrity baseline says what it lacks
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	cfg.Content.Manifest = manifest
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{deep + "x": "x\n", "/opt/app/.env": plantedSecrets}), cfg)
	if b, err := os.ReadFile(manifest); err != nil || !strings.Contains(string(b), `"complete": false`) || !strings.Contains(string(b), "nested deeper") {
		t.Errorf("the manifest does not say it is incomplete: %v\n%.3000s", err, b)
	}
	f = finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Fail || !strings.Contains(f.Message, "could not be read") {
		t.Errorf("secret beside a too-deep directory: %s: %s", f.Status, f.Message)
	}
}

// debugfsPath finds e2fsprogs' debugfs, which is often not on a user's PATH.
func debugfsPath() string {
	if p, err := exec.LookPath("debugfs"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/debugfs"); err == nil {
		return "/usr/sbin/debugfs"
	}
	return "/sbin/debugfs"
}

// debugfs runs one debugfs request on an image.
func debugfs(t *testing.T, img, request string) string {
	t.Helper()
	out, err := exec.Command(debugfsPath(), "-R", request, img).CombinedOutput()
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
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
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
		r, err := checkFile(p, cfg)
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
			"ds=nocloud-net\\;s=https://seed:Cmd1inePw@seed.example.com/ db=mysql://app:MyPw0rdX@db:3306/app\n" +
			"\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n",
		"/etc/netplan/60-wifi.yaml": "network:\n  wifis: {wlan0: {match: {macaddress: \"00:15:5d:01:02:03\"}, access-points: {corp: {password: \"NetPl4nPw\"}}}}\n",
	})
	dir := t.TempDir()
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Warn || len(f.Evidence) == 0 {
		t.Fatalf("kernel-cmdline: %s (it quotes the command line it warns about)", f.Status)
	}
	if f := finding(t, r, "no-mac-pinned-network"); f.Status != rules.Fail {
		t.Fatalf("no-mac-pinned-network: %s", f.Status)
	}
	p, err := plan.New(plan.Choices{Reports: plan.Reports{Dir: dir, Formats: []string{"json", "junit", "mscert", "sarif"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Reports()
	if err := WriteReports(r, out); err != nil {
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

// fakeClamd answers PING and VERSION like clamd, and every INSTREAM with reply (or never, when
// reply is empty).
func fakeClamd(t *testing.T, reply string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				id := 0
				for {
					cmd, err := r.ReadString(0)
					if err != nil {
						return
					}
					switch strings.TrimSuffix(strings.TrimPrefix(cmd, "z"), "\x00") {
					case "PING":
						c.Write([]byte("PONG\x00"))
					case "VERSION":
						c.Write([]byte("ClamAV 1.0.0-fake/27000\x00"))
					case "INSTREAM":
						id++
						for {
							var hdr [4]byte
							if _, err := io.ReadFull(r, hdr[:]); err != nil {
								return
							}
							n := binary.BigEndian.Uint32(hdr[:])
							if n == 0 {
								break
							}
							if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
								return
							}
						}
						if reply == "" {
							time.Sleep(time.Hour) // never answers
							return
						}
						fmt.Fprintf(c, "%d: %s\x00", id, reply)
					}
				}
			}(c)
		}
	}()
	return "tcp://" + l.Addr().String()
}

// A clamd that answers PING but fails every scan (an ERROR reply, or none at all) used to
// leave no-malware PASS with "0 files scanned", and a silent one cost 2 minutes per file per
// worker. Now the rule is an error naming the files, and a silent clamd ends the pass quickly.
func TestFailingClamdIsAnError(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/opt/app/run.sh": "#!/bin/sh\necho hi\n"})
	for name, reply := range map[string]string{"error reply": "stream: Can't allocate memory ERROR", "no reply": ""} {
		t.Run(name, func(t *testing.T) {
			cfg := plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{ClamdAddress: fakeClamd(t, reply), ClamdTimeout: 2 * time.Second}}
			start := time.Now()
			r := mustCheck(t, img, cfg)
			f := finding(t, r, "no-malware")
			if f.Status != rules.Error || r.Compliant || !strings.Contains(f.Message, "could not be read") || len(f.Evidence) == 0 {
				t.Errorf("no-malware is %s: %s %+v", f.Status, f.Message, f.Evidence)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("the pass took %s against a failing clamd", d)
			}
		})
	}
}

// A credentials file whose inode claims a size of 1 TiB (a corrupt size field, or a sparse
// tail) is searched up to where it stops being text, and the integrity manifest lists it
// without hashing a terabyte of holes.
func TestHugeSizeFieldIsBounded(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/opt/app/app.env": plantedSecrets})
	if out, err := exec.Command(debugfsPath(), "-w", "-R", "sif /opt/app/app.env size 1099511627776", img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs sif: %v\n%s", err, out)
	}
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	start := time.Now()
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}, Content: plan.ContentChoices{Manifest: manifest}})
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("the check took %s", d)
	}
	if f := finding(t, r, "no-hardcoded-credentials"); f.Status != rules.Fail {
		t.Errorf("no-hardcoded-credentials is %s: %s", f.Status, f.Message)
	}
	b, err := os.ReadFile(manifest)
	if err != nil || !strings.Contains(string(b), `"not_hashed": "larger (1099511627776 bytes) than its filesystem`) {
		t.Errorf("manifest: %v\n%.2000s", err, b)
	}
}
