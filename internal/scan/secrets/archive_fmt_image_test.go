package secrets_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// issue #24 (FMT): the containers an outside review planted an AWS key pair in and got PASS,
// each built with its real tool and put in an image of the compliant tree: a makeself
// installer, a NoCloud cidata seed (xorriso), a pzstd file, a PDF with a Flate stream and a
// journal (systemd-journal-remote) and a cramfs image (mkfs.cramfs) FAIL naming the member.
func TestFMTContainersInAnImage(t *testing.T) {
	for _, tool := range []string{"makeself", "xorriso", "pzstd", "mkfs.cramfs", "/lib/systemd/systemd-journal-remote"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	const keyID = "AKIAQ3XL7RJ5Z2WVNB4K"
	keys := "[default]\naws_access_key_id = " + keyID + "\naws_secret_access_key = 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\n"
	dir := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", name, err, b)
		}
	}
	write := func(p, content string) string {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("payload/etc/aws.ini", keys)
	write("payload/setup.sh", "#!/bin/sh\n")
	run("makeself", "--quiet", "--nox11", "--xz", filepath.Join(dir, "payload"), filepath.Join(dir, "installer.run"), "x", "./setup.sh")
	write("seed/meta-data", "instance-id: iid-local01\n")
	write("seed/user-data", "#cloud-config\nwrite_files:\n- path: /root/.aws/credentials\n  content: |\n    "+strings.ReplaceAll(keys, "\n", "\n    ")+"\n")
	run("xorriso", "-report_about", "FAILURE", "-outdev", filepath.Join(dir, "seed.iso"), "-volid", "cidata", "-map", filepath.Join(dir, "seed"), "/")
	creds := write("creds", strings.Repeat("# comment line\n", 500)+keys)
	run("pzstd", "-q", creds, "-o", creds+".zst")
	write("fw/etc/aws", keys)
	run("mkfs.cramfs", filepath.Join(dir, "fw"), filepath.Join(dir, "fw.cramfs"))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("BT (" + strings.ReplaceAll(keys, "\n", ") Tj T* (") + ") Tj ET\n"))
	zw.Close()
	pdf := fmt.Sprintf("%%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%%%EOF\n", z.Len(), z.String())
	export := write("entries.export", "__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=cloud-init: "+
		strings.Repeat("provisioning the instance's credentials ", 20)+strings.ReplaceAll(keys, "\n", " ")+strings.Repeat(" step done", 40)+"\n\n")
	run("/lib/systemd/systemd-journal-remote", "--compress=yes", "-o", filepath.Join(dir, "system.journal"), export)
	journal := read(filepath.Join(dir, "system.journal"))
	// (a small zstd frame keeps its literals as they are: its finding's name says it was
	// decoded)
	for name, b := range map[string]string{"installer": read(filepath.Join(dir, "installer.run")), "pdf": pdf, "journal": journal} {
		if strings.Contains(b, keyID) {
			t.Fatalf("%s holds the key as it is: the test would not prove it is opened", name)
		}
	}
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/vendor/installer.run": read(filepath.Join(dir, "installer.run")),
		"/var/lib/cloud/seed.iso":   read(filepath.Join(dir, "seed.iso")),
		"/var/backups/creds.zst":    read(creds + ".zst"),
		"/opt/fw/fw.cramfs":         read(filepath.Join(dir, "fw.cramfs")),
		"/home/admin/handover.pdf":  pdf,
		"/var/log/journal/0123456789abcdef0123456789abcdef/system.journal": journal,
	})
	found, st := scanWithStats(t, img)
	got := map[string]bool{}
	for _, f := range found {
		if f.Rule == "aws-access-token" {
			got[f.Path] = true
		}
	}
	for _, p := range []string{
		"/var/lib/cloud/seed.iso!/user-data",
		"/var/backups/creds.zst!/creds",
		"/home/admin/handover.pdf!stream 4",
		"/opt/fw/fw.cramfs!/etc/aws",
		"/var/log/journal/0123456789abcdef0123456789abcdef/system.journal!/<compressed journal data>",
	} {
		if !got[p] {
			t.Errorf("%s: no finding (found %v)", p, got)
		}
	}
	installer := false
	for p := range got {
		installer = installer || strings.HasPrefix(p, "/opt/vendor/installer.run!@") && strings.HasSuffix(p, "!/etc/aws.ini")
	}
	if !installer {
		t.Errorf("installer: no finding (found %v)", got)
	}
	unseen := map[string]string{}
	for _, e := range st.Errors {
		unseen[e.Path] = e.Error
	}
	if len(unseen) != 0 {
		t.Errorf("errors %+v, want none", st.Errors)
	}
}
