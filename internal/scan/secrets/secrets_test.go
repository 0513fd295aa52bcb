package secrets_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/scan"
	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// sshKey makes a real OpenSSH private key with ssh-keygen, with or without a passphrase.
func sshKey(t *testing.T, passphrase string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key")
	if b, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "build@ci", "-f", p).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, b)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	awsKeyID     = "AKIAZ4QK7W2N5XR3TY6P"
	azureKey     = "UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA/TkB/yOaGglfIPk5VlDPk4C47bIkprJIoekk6P0K4uGpSSozBfGA=="
	pgPassword   = "PgP4ssw0rd!x"
	urlPassword  = "S3cr3tPgPass"
	netrcPass    = "n3tRcP4ssw0rd"
	iniPassword  = "Sup3rS3cretPassw0rd"
	gitToken     = "ghx7Rk2mQp9Lw4Zt8Vb3Nc6Yd1Hf5Js0"
	mysqlPass    = "My5qlR00tPw"
	sasSignature = "jLYQkA%2BeNH%2BuiG3GUHeV7HRcTD%2FLLrLHPhSTTIZ%2B4Fc%3D"
)

func scanImage(t *testing.T, img string, opts secrets.Options) []secrets.Finding {
	t.Helper()
	im, err := inspect.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	s, err := secrets.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := scan.Run(context.Background(), im, scan.Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Errors) > 0 {
		t.Errorf("scan errors: %v", st.Errors)
	}
	return s.Findings()
}

func TestFindsEachKindAndNeverPrintsTheSecret(t *testing.T) {
	plain, encrypted := sshKey(t, ""), sshKey(t, "a passphrase")
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/.env":                "AWS_ACCESS_KEY_ID=" + awsKeyID + "\n",
		"/opt/app/config.yaml":         "database_url: postgres://app:" + urlPassword + "@db.internal:5432/app\n",
		"/opt/app/settings.ini":        "[database]\npassword = " + iniPassword + "\n; password = example-in-a-comment\npassword2 = ${DB_PASSWORD}\n",
		"/etc/app/storage.conf":        "conn=DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net\n",
		"/opt/app/blob.txt":            "https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sp=r&sig=" + sasSignature + "\n",
		"/root/.netrc":                 "machine example.com login me password " + netrcPass + "\n",
		"/home/tester/.pgpass":         "db.internal:5432:*:app:" + pgPassword + "\n",
		"/home/tester/.ssh/id_ed25519": plain,
		"/home/tester/.ssh/id_enc":     encrypted,
		"/etc/nsswitch.conf":           "passwd:         files systemd\ngroup:          files\n",
		"/opt/app/blob.bin":            "\x00\x01binary " + awsKeyID + "\n",
		"/opt/app/sa.json": `{"type": "service_account", "project_id": "shop", "private_key_id": "0123",
  "private_key": "-----BEGIN PRIVATE KEY-----\n` + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 3) + `\n-----END PRIVATE KEY-----\n",
  "client_email": "deploy@shop.iam.gserviceaccount.com"}`,
		"/root/.git-credentials": "https://deploy:" + gitToken + "@git.example.com\n",
		"/home/tester/.my.cnf":   "[client]\nuser = app\npassword = " + mysqlPass + "\n",
	})
	found := scanImage(t, img, secrets.Options{AllowPaths: secrets.DefaultAllowPaths})
	want := map[string]string{
		"/opt/app/.env":                "aws-access-token",
		"/opt/app/blob.bin":            "aws-access-token", // binary files are searched as their strings
		"/opt/app/config.yaml":         "url-with-password",
		"/opt/app/settings.ini":        "password-assignment",
		"/etc/app/storage.conf":        "azure-storage-account-key",
		"/opt/app/blob.txt":            "azure-sas-token",
		"/root/.netrc":                 "netrc-password",
		"/home/tester/.pgpass":         "pgpass-password",
		"/home/tester/.ssh/id_ed25519": "private-key",
		"/opt/app/sa.json":             "gcp-service-account",
		"/root/.git-credentials":       "url-with-password",
		"/home/tester/.my.cnf":         "mysql-client-password",
	}
	got := map[string]bool{}
	for _, f := range found {
		got[f.Path+" "+f.Rule] = true
		for _, secret := range []string{awsKeyID, azureKey, pgPassword, urlPassword, netrcPass, iniPassword, sasSignature, plain[40:80], gitToken, mysqlPass, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"} {
			if strings.Contains(f.Excerpt, secret) || strings.Contains(f.Description, secret) {
				t.Errorf("%s:%d (%s) prints the secret: %q", f.Path, f.Line, f.Rule, f.Excerpt)
			}
		}
		if f.Line < 1 && f.Path != "/opt/app/blob.bin" || f.Fingerprint == "" {
			t.Errorf("finding without line or fingerprint: %+v", f)
		}
		switch f.Path {
		case "/home/tester/.ssh/id_enc", "/etc/nsswitch.conf":
			t.Errorf("false positive: %+v", f)
		case "/opt/app/settings.ini":
			if f.Line != 2 {
				t.Errorf("the commented-out or placeholder assignment was reported: %+v", f)
			}
		}
	}
	for p, rule := range want {
		if !got[p+" "+rule] {
			t.Errorf("%s: no %s finding; got %+v", p, rule, found)
		}
	}
}

func TestAllowListsAndVendorFiles(t *testing.T) {
	content := "[db]\npassword = " + iniPassword + "\n"
	img := testfixture.Variant(t, testfixture.Change{
		"/opt/app/settings.ini":     content,
		"/opt/app/test/fixture.ini": content,
		"/etc/vendor/default.ini":   content,
	})
	all := scanImage(t, img, secrets.Options{})
	if len(all) != 3 {
		t.Fatalf("want 3 findings, got %+v", all)
	}
	sum := md5.Sum([]byte(content))
	found := scanImage(t, img, secrets.Options{
		AllowPaths: []string{"/opt/app/test/"},
		Vendor:     map[string]string{"/etc/vendor/default.ini": hex.EncodeToString(sum[:])},
	})
	if len(found) != 1 || found[0].Path != "/opt/app/settings.ini" {
		t.Fatalf("allow_paths or the vendor digest did not apply: %+v", found)
	}
	if f := scanImage(t, img, secrets.Options{AllowFingerprints: []string{found[0].Fingerprint}}); len(f) != 0 {
		t.Errorf("allow_fingerprints: the same secret is still reported: %+v", f)
	}
}
