package secrets_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The secrets an image build and its first boot leave behind, each in the file and format it
// is left in: each is found by its rule on its line, with the whole secret (the fingerprint is
// the keyed digest of exactly that value), and never printed.
func TestFindsProvisioningAndBuildSecrets(t *testing.T) {
	const ppk = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: build@ci\nPublic-Lines: 2\n" +
		"AAAAC3NzaC1lZDI1NTE5AAAAIJ3mZxTqK8\nbW4vN2pR7sYh\nPrivate-Lines: 1\nAAAAIHx8Kq2Zm9Vt4LpR7sYhBn3WcE6dFgJk\nPrivate-MAC: 0a1b2c\n"
	cases := []struct {
		path, content, rule, secret string
		line                        int
	}{
		{"/var/lib/waagent/ovf-env.xml", "<?xml version=\"1.0\"?>\n<ns0:Environment>\n<ns1:UserName>azureuser</ns1:UserName>\n<ns1:UserPassword>Azur3Pr0v!sion</ns1:UserPassword>\n</ns0:Environment>\n",
			"azure-ovf-user-password", "Azur3Pr0v!sion", 4},
		{"/var/lib/waagent/ovf-env-custom.xml", "<Environment>\n<CustomData>I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogaHVudGVyMg==</CustomData>\n</Environment>\n",
			"azure-ovf-custom-data", "I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogaHVudGVyMg==", 2},
		{"/var/lib/cloud/instance/user-data.txt", "#cloud-config\nusers:\n  - name: deploy\n    plain_text_passwd: Cl0udInitPw\n",
			"cloud-init-password", "Cl0udInitPw", 4},
		{"/var/lib/cloud/instances/i-1/vendor-data.txt", "#cloud-config\nchpasswd:\n  list: |\n    root:R00tByCh9asswd\n  expire: false\n",
			"cloud-init-chpasswd", "R00tByCh9asswd", 4},
		{"/etc/shadow-", "root:$6$Qx7pLm2v$hfA148H6ia/It5dZo8hjW8CRYuob44FdpY6.3UZWgcybmAmBrNytysaxoqz6RwBCNz4JE7RIcOGwPX4W084Ir0:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
			"password-file-backup-hash", "$6$Qx7pLm2v$hfA148H6ia/It5dZo8hjW8CRYuob44FdpY6.3UZWgcybmAmBrNytysaxoqz6RwBCNz4JE7RIcOGwPX4W084Ir0", 1},
		{"/root/preseed.cfg", "d-i passwd/root-login boolean true\nd-i passwd/root-password password Pr3seedR00t\nd-i passwd/root-password-again password Pr3seedR00t\n",
			"preseed-password", "Pr3seedR00t", 2},
		{"/var/log/installer/cdebconf/questions.dat", "Name: passwd/user-password\nTemplate: password\nOwners: d-i\nValue: Inst4llerPw\n\n",
			"installer-debconf-password", "Inst4llerPw", 1},
		{"/root/anaconda-ks.cfg", "lang en_US.UTF-8\nrootpw --plaintext K1ckst4rtPw\n", "kickstart-password", "K1ckst4rtPw", 2},
		{"/opt/ignition/config.ign", "{\"passwd\": {\"users\": [{\"name\": \"core\", \"passwordHash\": \"$y$j9T$abcdefgh$ijklmnopqrstu\"}]}}\n",
			"ignition-password-hash", "$y$j9T$abcdefgh$ijklmnopqrstu", 1},
		{"/etc/NetworkManager/system-connections/office.nmconnection", "[connection]\nid=office\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=W1f1Passphrase\n",
			"network-secret", "W1f1Passphrase", 5},
		{"/home/tester/keys/deploy.ppk", ppk, "putty-private-key", "AAAAIHx8Kq2Zm9Vt4LpR7sYhBn3WcE6dFgJk", 1},
		{"/var/www/html/wp-config.php", "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_PASSWORD', 'WpDbPassw0rd' );\n",
			"php-define-secret", "WpDbPassw0rd", 3},
		{"/opt/shop/shop/settings.py", "DEBUG = False\nSECRET_KEY = 'dj4ngo-s3cr3t-k3y-v4lue'\n", "django-secret", "dj4ngo-s3cr3t-k3y-v4lue", 2},
		{"/opt/app/cache.yaml", "cache:\n  url: redis://:R3disPassw0rd@cache.internal:6379/0\n", "url-with-password", "R3disPassw0rd", 2},
		{"/root/.bash_history", "ls\nmysql -uroot -pMyCl1Passw0rd shop\n", "command-line-password", "MyCl1Passw0rd", 2},
		{"/home/tester/.bash_history", "sshpass -p 'Sshp4ssW0rd' ssh build@10.0.0.5\n", "command-line-password", "Sshp4ssW0rd", 1},
		{"/home/tester/.zsh_history", "curl -u deploy:CurlPassw0rd https://repo.internal/upload\n", "command-line-password", "CurlPassw0rd", 1},
		{"/opt/app/app.yaml", "database:\n  password: |\n    Bl0ckSc4larPw\n  user: app\n", "password-assignment", "Bl0ckSc4larPw", 2},
		{"/opt/app/hash.ini", "[db]\npassword = abc#Def9xyz\n", "password-assignment", "abc#Def9xyz", 2},
	}
	change := testfixture.Change{
		// the value on the next line is a key, not the password: nothing to report
		"/opt/app/empty.yaml": "database:\n  password:\n  user: app\n",
	}
	for _, c := range cases {
		change[c.path] = c.content
	}
	key := []byte("provisioning-test-key")
	found := scanImage(t, testfixture.Variant(t, change), secrets.Options{AllowPaths: secrets.DefaultAllowPaths, FingerprintKey: key})
	byPath := map[string][]secrets.Finding{}
	for _, f := range found {
		byPath[f.Path] = append(byPath[f.Path], f)
		for _, c := range cases {
			if strings.Contains(f.Excerpt+f.Description, c.secret) {
				t.Errorf("%s:%d (%s) prints a secret: %q", f.Path, f.Line, f.Rule, f.Excerpt)
			}
		}
	}
	if fs := byPath["/opt/app/empty.yaml"]; len(fs) > 0 {
		t.Errorf("the next YAML key was reported as the password: %+v", fs)
	}
	for _, c := range cases {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(c.rule + "\x00" + c.secret))
		want := hex.EncodeToString(mac.Sum(nil)[:8])
		ok := false
		for _, f := range byPath[c.path] {
			if f.Rule == c.rule && f.Line == c.line && f.Fingerprint == want {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: want %s on line %d with the whole secret; got %+v", c.path, c.rule, c.line, byPath[c.path])
		}
	}
}

// Encoded secrets are decoded and searched: a Kubernetes Secret's base64 data and a kubeconfig's
// client-key-data (a base64 PEM key).
func TestFindsBase64EncodedSecrets(t *testing.T) {
	pem := sshKey(t, "")
	kubeconfig := "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: " +
		base64.StdEncoding.EncodeToString([]byte(pem)) + "\n"
	img := testfixture.Variant(t, testfixture.Change{
		"/etc/kubernetes/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: " +
			base64.StdEncoding.EncodeToString([]byte("K8sS3cretPassw0rd")) + "\n",
		"/root/.kube/config": kubeconfig,
	})
	found := scanImage(t, img, secrets.Options{AllowPaths: secrets.DefaultAllowPaths})
	got := map[string]string{}
	for _, f := range found {
		got[f.Path] += f.Rule + " "
		if strings.Contains(f.Excerpt, "K8sS3cretPassw0rd") || strings.Contains(f.Excerpt, pem[40:80]) {
			t.Errorf("%s prints the secret: %q", f.Path, f.Excerpt)
		}
	}
	if !strings.Contains(got["/etc/kubernetes/secret.yaml"], "password-assignment") {
		t.Errorf("the Secret's base64 password was not found: %v", got)
	}
	if !strings.Contains(got["/root/.kube/config"], "private-key") {
		t.Errorf("the kubeconfig's client-key-data was not found: %v", got)
	}
}
