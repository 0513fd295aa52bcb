package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// The ledger of a real pass reaches every report format: per filesystem (the root, the /boot
// partition) and scanner, what was searched, skipped with its reason, and unseen; the table has
// a summary line, the JSON a content_scan.ledger object, SARIF run properties, JUnit suite
// properties.
func TestLedgerInTheReports(t *testing.T) {
	root := walkTree(t, false)
	writeTree(t, root, map[string]string{"/etc/ssh/ssh_host_ed25519_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n", "/boot/old.cfg": "x=1\n"})
	boot := filepath.Join(t.TempDir(), "boot")
	writeTree(t, boot, map[string]string{"/grub/grub.cfg": "set timeout=1\n"})
	// every regular file of the root's own /boot is hidden by the /boot partition
	hidden := int64(0)
	filepath.WalkDir(filepath.Join(root, "boot"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			hidden++
		}
		return nil
	})
	disk := partitionedDisk(t, []string{root, boot}, []string{walkRootUUID, walkBootUUID})
	img, err := inspect.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	p := plan.MustNew(walkCfg)
	content, err := ScanContent(context.Background(), img, p, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(img, p, content)
	r.Content = report.ContentFrom(content.Stats)

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Content struct {
			Ledger scan.Ledger `json:"ledger"`
		} `json:"content_scan"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	l := doc.Content.Ledger
	if len(l.Filesystems) != 2 || l.Filesystems[0].Partition != 1 || l.Filesystems[1].MountedAt != "/boot" || l.Filesystems[0].Hidden != hidden {
		t.Fatalf("ledger filesystems: %s", js.String()[strings.Index(js.String(), `"ledger"`):])
	}
	sec := l.Totals("secrets")
	if sec.Searched.Files == 0 || sec.Unseen != 0 {
		t.Errorf("secrets totals %+v", sec)
	}
	allowed := false
	for _, s := range sec.Skipped {
		allowed = allowed || s.Reason == "an allowed path: /etc/ssh/ssh_host_ed25519_key (a default of the checker: no-ssh-host-keys reports it)" && s.Files > 0
	}
	if !allowed {
		t.Errorf("the host key (a default allow path) is not in the ledger as skipped under its pattern: %+v", sec.Skipped)
	}

	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.String(), "ledger: secrets: ") || !strings.Contains(tb.String(), ", 0 unseen") {
		t.Errorf("table has no ledger line:\n%s", tb.String())
	}
	var sarif bytes.Buffer
	if err := r.WriteSARIF(&sarif); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"contentLedger"`) || !strings.Contains(sarif.String(), `"mounted_at": "/boot"`) {
		t.Errorf("SARIF run properties have no ledger")
	}
	var junit bytes.Buffer
	if err := r.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), `<property name="content.ledger.secrets"`) {
		t.Errorf("JUnit has no ledger property:\n%.2000s", junit.String())
	}
}
