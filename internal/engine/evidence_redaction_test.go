package engine

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// everyFormat renders a report as the table, JSON, JUnit, SARIF and the certification report.
func everyFormat(t *testing.T, r *report.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, write := range map[string]func(*report.Report, *bytes.Buffer) error{
		"table":  func(r *report.Report, b *bytes.Buffer) error { return r.WriteTable(b) },
		"json":   func(r *report.Report, b *bytes.Buffer) error { return r.WriteJSON(b) },
		"junit":  func(r *report.Report, b *bytes.Buffer) error { return r.WriteJUnit(b) },
		"sarif":  func(r *report.Report, b *bytes.Buffer) error { return r.WriteSARIF(b) },
		"mscert": func(r *report.Report, b *bytes.Buffer) error { return r.WriteMSCert(b) },
	} {
		var b bytes.Buffer
		if err := write(r, &b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// A kernel command line with a forbidden parameter that also lacks required ones names every
// problem, not only the forbidden parameter.
func TestEvidenceKernelCmdlineNamesEveryProblem(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{
		"/boot/grub/grub.cfg": "set default=0\nmenuentry 'Debian GNU/Linux' {\n" +
			"\tlinux\t/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=ttyS0 libata.atapi_enabled=0\n" +
			"\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n",
	})
	f := finding(t, mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}}), "kernel-cmdline")
	if f.Status != rules.Fail {
		t.Fatalf("kernel-cmdline: %s: %s", f.Status, f.Message)
	}
	var ev strings.Builder
	for _, e := range f.Evidence {
		ev.WriteString(e.Detail + "\n")
	}
	for _, want := range []string{"libata.atapi_enabled=0", "earlyprintk", "rootdelay"} {
		if !strings.Contains(f.Message, want) || !strings.Contains(f.Actual, want) || !strings.Contains(ev.String(), want) {
			t.Errorf("kernel-cmdline does not name %s:\nmessage: %s\nactual: %s\nevidence:\n%s", want, f.Message, f.Actual, ev.String())
		}
	}
}

// The rule's own words survive the redaction: "can log in with a password (Microsoft's suite
// would pass it ...)" used to read "a password <redacted>'s suite would pass it".
func TestEvidenceLockedAccountsMessageIntact(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{
		"/etc/shadow": "root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\nguest::19800:0:99999:7:::\n",
	})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	f := finding(t, r, "locked-accounts")
	const want = "1 account(s) can log in with a password (Microsoft's suite would pass it: it only fails a password hash in /etc/shadow)"
	if f.Status != rules.Fail || f.Message != want {
		t.Fatalf("locked-accounts: %s: %q, want %q", f.Status, f.Message, want)
	}
	for name, out := range everyFormat(t, r) {
		if strings.Contains(out, "password "+"<redacted>") || strings.Contains(out, "<redacted>'s suite") {
			t.Errorf("%s: the redaction rewrote the rule's text", name)
		}
		if name == "table" || name == "json" || name == "junit" || name == "sarif" {
			if !strings.Contains(out, "Microsoft's suite would pass it") && !strings.Contains(out, "Microsoft&#39;s suite would pass it") && !strings.Contains(out, `Microsoft\u0027s suite would pass it`) {
				t.Errorf("%s does not carry the rule's message whole", name)
			}
		}
	}
}

// Passwords in what the rules quote from the image (a kernel command line, /etc/default/grub, a
// network file) are hidden where the rule quotes them, in every report
// format, while the rest of the quoted line stays readable.
func TestEvidenceRedactsImageValuesInEveryFormat(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{
		"/boot/grub/grub.cfg": "set default=0\nmenuentry 'Debian GNU/Linux' {\n" +
			"\tlinux\t/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=ttyS0 " +
			"root_password=Kp4ssAssign1 ds=nocloud-net\\;s=https://seed:Cmd1inePw@seed.example.com/ libata.atapi_enabled=0\n" +
			"\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n",
		"/etc/default/grub":         "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300 api_key=GrubD3faultKey\"\n",
		"/etc/netplan/60-wifi.yaml": "network:\n  wifis: {wlan0: {match: {macaddress: \"00:15:5d:01:02:03\"}, access-points: {corp: {password: \"NetPl4nPw\"}}}}\n",
	})
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}})
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Fail || len(f.Evidence) == 0 {
		t.Fatalf("kernel-cmdline: %s (it quotes the command line it fails)", f.Status)
	}
	if f := finding(t, r, "no-mac-pinned-network"); f.Status != rules.Fail {
		t.Fatalf("no-mac-pinned-network: %s", f.Status)
	}
	for name, out := range everyFormat(t, r) {
		for _, pw := range []string{"Kp4ssAssign1", "Cmd1inePw", "GrubD3faultKey", "NetPl4nPw"} {
			if strings.Contains(out, pw) {
				t.Errorf("%s prints the secret %s", name, pw)
			}
		}
		if name != "mscert" && !strings.Contains(out, "seed.example.com") {
			t.Errorf("%s: the redacted evidence lost the rest of the command line", name)
		}
	}
}
