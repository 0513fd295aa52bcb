package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No output of a check of a URL whose read fails prints its SAS signature or its password:
// not the error (net/http quotes the whole URL), not the verdict line, not a report.
func TestURLSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	for _, url := range []string{
		"https://127.0.0.1:9/c/x.vhd?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIGNATURE%2Bx",
		"https://deployer:hunter2pw@127.0.0.1:9/c/x.vhd",
		"http://127.0.0.1:9/c/x.vhd?sig=SECRETSIGNATURE",
	} {
		var out, errs bytes.Buffer
		json := filepath.Join(dir, "r.json")
		status := Check([]string{"--quiet", "--json", json, url}, &out, &errs)
		if status != ExitCannot {
			t.Errorf("%s: exit %d, want %d", url, status, ExitCannot)
		}
		all := out.String() + errs.String()
		if b, err := os.ReadFile(json); err == nil {
			all += string(b)
		}
		for _, secret := range []string{"SECRETSIGNATURE", "hunter2pw"} {
			if strings.Contains(all, secret) {
				t.Errorf("%s: the output prints %s:\n%s", url, secret, all)
			}
		}
		if !strings.Contains(errs.String(), "127.0.0.1:9") {
			t.Errorf("the error does not say which host failed:\n%s", errs.String())
		}
	}
}
