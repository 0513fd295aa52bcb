package testfixture

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Clamd is a real ClamAV daemon started for one test.
type Clamd struct {
	Address string // unix:///.../clamd.sock
}

// ClamdServer starts Debian's clamd in the foreground on a private socket with a signature
// database made here (there is no internet for freshclam): one MD5 signature per file content
// in signatures, named by its key. It is stopped when the test ends.
func ClamdServer(t testing.TB, signatures map[string][]byte) *Clamd {
	t.Helper()
	bin, err := exec.LookPath("clamd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/clamd"); err2 != nil {
			t.Fatalf("clamd not found (apt-get install clamav-daemon; .ci/run does)")
		}
		bin = "/usr/sbin/clamd"
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	var hdb []byte
	for name, content := range signatures {
		sum := md5.Sum(content)
		hdb = fmt.Appendf(hdb, "%s:%d:%s\n", hex.EncodeToString(sum[:]), len(content), name)
	}
	if err := os.WriteFile(filepath.Join(db, "marketplace-test.hdb"), hdb, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	cfg := fmt.Sprintf("LocalSocket %s\nDatabaseDirectory %s\nTemporaryDirectory %s\nLogFile %s\nForeground yes\n"+
		"StreamMaxLength 25M\nMaxThreads 4\nUser root\n", sock, db, dir, filepath.Join(dir, "clamd.log"))
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf)
	out, _ := os.Create(filepath.Join(dir, "clamd.out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := waitListening("unix", sock, 60*time.Second); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "clamd.out"))
		t.Fatalf("clamd did not start: %v\n%s", err, b)
	}
	return &Clamd{Address: "unix://" + sock}
}

// PlantedMalware is the content scripts/make-fixtures.sh plants in the dirty image as
// /usr/local/bin/xmrig-helper; DirtyClamd's clamd knows it as Marketplace.Test.Planted.
const PlantedMalware = "marketplace-check test payload: planted by make-fixtures.sh\n"

// DirtyClamd starts a clamd whose only signature matches the dirty image's planted file.
func DirtyClamd(t testing.TB) *Clamd {
	return ClamdServer(t, map[string][]byte{"Marketplace.Test.Planted": []byte(PlantedMalware)})
}
