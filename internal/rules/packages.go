package rules

import (
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

// minPackageRule builds a rule that needs one of names installed at version >= min.
func minPackageRule(id, what, min string, names []string, sev Severity, cert *CertTest) *Rule {
	return &Rule{
		ID:        id,
		Title:     minTitle(what, min),
		Profiles:  []string{profAzureLinux},
		Severity:  sev,
		Source:    "rules.md L9 (AZ Linux: OpenSSL >= 1.0, Python >= 2.6, pyasn1)",
		Rationale: "The Azure Linux agent and the platform's provisioning need " + what + ".",
		Fix:       fmt.Sprintf("Install the distribution's %s package (%s).", what, strings.Join(names, " or ")),
		Cert:      cert,
		Check: linux(func(c *Context) Result {
			inv, err := c.Image.Packages()
			if err != nil {
				return errResult(err)
			}
			pkgs := inv.Find(names...)
			best, ok := pkgdb.Newest(pkgs)
			res := Result{Required: what + " >= " + min}
			if !ok {
				res.Status, res.Actual = Fail, what+" not installed"
				res.Message = what + " is not installed"
				res.Evidence = []Evidence{{Path: inv.Path, Detail: "none of " + strings.Join(names, ", ") + " is installed"}}
				return res
			}
			res.Actual = what + " " + pkgdb.Upstream(best.Version)
			res.Evidence = []Evidence{{Path: inv.Path, Detail: fmt.Sprintf("package %s %s", best.Name, best.Version)}}
			if min != "" && pkgdb.CompareVersions(pkgdb.Upstream(best.Version), min) < 0 {
				res.Status, res.Message = Fail, fmt.Sprintf("%s %s is older than %s", what, best.Version, min)
				return res
			}
			res.Status, res.Message = Pass, fmt.Sprintf("%s %s", best.Name, best.Version)
			return res
		}),
	}
}

var (
	_ = register(minPackageRule("openssl-version", "OpenSSL", "1.0",
		[]string{"openssl", "openssl-libs", "libssl*", "openssl1.1", "openssl3"}, High,
		&CertTest{SelfTestID: "44", Name: "OpenSSL Version", Level: "Failed", LISA: "verify_openssl_version"}))
	_ = register(minPackageRule("python-version", "Python", "2.6",
		[]string{"python", "python2*", "python3", "python3.*", "python3-libs", "platform-python", "python-base"}, High,
		&CertTest{SelfTestID: "45", Name: "Python Version", Level: "Failed", LISA: "verify_python_version"}))
	_ = register(minPackageRule("pyasn1-installed", "pyasn1", "",
		[]string{"python3-pyasn1", "python-pyasn1", "py3-asn1", "py3-pyasn1"}, Low, nil))
)

func minTitle(what, min string) string {
	if min == "" {
		return what + " is installed"
	}
	return fmt.Sprintf("%s %s or later is installed", what, min)
}
