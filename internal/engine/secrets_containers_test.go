package engine

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The live-looking AWS key pair issue 24 plants once per case.
const (
	issue24KeyID  = "AKIAQ3XL7RJ5Z2WVNB4K"
	issue24Secret = "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"
	issue24Keys   = "[default]\naws_access_key_id = " + issue24KeyID + "\naws_secret_access_key = " + issue24Secret + "\n"
)

// run runs a command in dir and fails the test with its output when it fails.
func run(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// shell runs a shell pipeline in dir and returns its standard output.
func shell(t *testing.T, dir, script string) []byte {
	t.Helper()
	return run(t, dir, "sh", "-c", script)
}

// tree writes files (path: content) under a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Issue 24's cases 1–7 and 10b, each planted once in a real image the fixture helpers make,
// each built the way the issue writes it (the tools make the archives where a tool can): the
// credential rule FAILs and names every one, ARCHIVE!/MEMBER inside containers; no secret is
// printed.
func TestIssue24CredentialCasesEndToEnd(t *testing.T) {
	keys := tree(t, map[string]string{"BOOT-INF/classes/application.properties": issue24Keys, "etc/creds.ini": issue24Keys, "home/app/credentials": issue24Keys})

	// 4: an executable Spring Boot jar: a launcher script, then the zip (zip -A fixes its offsets)
	shell(t, keys, "zip -qr app.zip BOOT-INF && printf '#!/bin/sh\\nexec java -jar \"$0\" \"$@\"\\nexit 0\\n' > app.jar && cat app.zip >> app.jar && zip -qA app.jar")
	jar, _ := os.ReadFile(filepath.Join(keys, "app.jar"))
	// 5: a tar member with typeflag 7 (contiguous file), zip entries whose mode says symlink or FIFO
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "etc/creds.ini", Mode: 0o644, Size: int64(len(issue24Keys)), Typeflag: tar.TypeCont})
	tw.Write([]byte(issue24Keys))
	tw.Close()
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	for name, mode := range map[string]uint32{"link.ini": 0o120777, "fifo.ini": 0o010644} {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, CreatorVersion: 3 << 8, ExternalAttrs: mode << 16}
		f, _ := zw.CreateHeader(h)
		f.Write([]byte(issue24Keys))
	}
	zw.Close()
	// 6: .tar.bz2 by tar
	tbz := shell(t, keys, "tar -cjf - etc")
	// 7: an initramfs as initramfs-tools makes one: an uncompressed early cpio (microcode),
	// then the main cpio compressed with zstd
	early := tree(t, map[string]string{"kernel/x86/microcode/GenuineIntel.bin": "\x01\x00\x00\x00microcode\x00\xff"})
	initrd := append(shell(t, early, "find . | LC_ALL=C sort | cpio --quiet -o -H newc"),
		shell(t, keys, "find etc | cpio --quiet -o -H newc | zstd -q -c")...)
	// 10b: an ext4 filesystem image stored as a file
	ext4, err := os.ReadFile(testfixture.Filesystem(t, "ext4", filepath.Join(keys, "home"), "8M"))
	if err != nil {
		t.Fatal(err)
	}
	var u16 []byte // 3: UTF-16LE, no byte-order mark, a non-ASCII first character
	for _, c := range utf16.Encode([]rune("é réglages\r\n" + strings.ReplaceAll(issue24Keys, "\n", "\r\n"))) {
		u16 = append(u16, byte(c), byte(c>>8))
	}

	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/notes.txt":              "ok\n" + strings.Repeat("\x00", 70000) + issue24Keys, // 1
		"/opt/app/creds":                  "\x00\x00" + issue24Keys,                             // 2
		"/opt/app/settings.txt":           string(u16),                                          // 3
		"/opt/app/app.jar":                string(jar),                                          // 4
		"/opt/app/backup.tar":             tarBuf.String(),                                      // 5
		"/opt/app/links.zip":              zipBuf.String(),                                      // 5
		"/root/backup.tar.bz2":            string(tbz),                                          // 6
		"/boot/initrd.img-6.1.0-18-amd64": string(initrd),                                       // 7
		"/var/backups/home.img":           string(ext4),                                         // 10b
	})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Fail {
		t.Fatalf("no-hardcoded-credentials: %s: %s", f.Status, f.Message)
	}
	named := map[string]bool{}
	for _, e := range f.Evidence {
		named[e.Path] = true
		if strings.Contains(e.Detail, issue24KeyID) || strings.Contains(e.Detail, issue24Secret) {
			t.Errorf("%s: a secret is printed: %s", e.Path, e.Detail)
		}
	}
	for _, p := range []string{
		"/opt/app/notes.txt",
		"/opt/app/creds",
		"/opt/app/settings.txt",
		"/opt/app/app.jar!/BOOT-INF/classes/application.properties",
		"/opt/app/backup.tar!/etc/creds.ini",
		"/opt/app/links.zip!/link.ini",
		"/opt/app/links.zip!/fifo.ini",
		"/root/backup.tar.bz2!/etc/creds.ini",
		"/boot/initrd.img-6.1.0-18-amd64!/etc/creds.ini",
		"/var/backups/home.img!/app/credentials",
	} {
		if !named[p] {
			t.Errorf("%s is not named; evidence: %v", p, named)
		}
	}
}

// What is recognised but not opened (a 7z archive, an encrypted zip entry) makes the credential
// rule an ERROR that names it with its reason, never a PASS.
func TestUnopenedContainerMakesTheCredentialRuleError(t *testing.T) {
	dir := tree(t, map[string]string{"creds.ini": issue24Keys})
	enc := shell(t, dir, "zip -q -P s3cret - creds.ini")
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/vault.7z":  "7z\xbc\xaf\x27\x1c\x00\x04" + strings.Repeat("\x5a", 200),
		"/opt/app/crypt.zip": string(enc),
	})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	f := finding(t, r, "no-hardcoded-credentials")
	if f.Status != rules.Error || r.Compliant {
		t.Fatalf("no-hardcoded-credentials: %s (compliant %v): %s", f.Status, r.Compliant, f.Message)
	}
	for _, want := range []string{"/opt/app/vault.7z", "7z archive", "/opt/app/crypt.zip!/creds.ini", "encrypted"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("the error does not say %q: %s", want, f.Message)
		}
	}
}
