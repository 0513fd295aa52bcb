package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// minPackageRule builds a rule that needs one of names installed at version >= min and, when
// commands are given, one of those executables present (Microsoft's test runs the command).
func minPackageRule(id, what, min string, names, commands []string, sev Severity, cert *CertTest) *Rule {
	source := "Azure Marketplace image security recommendations (Linux: OpenSSL >= 1.0, Python >= 2.6, pyasn1)"
	if len(commands) > 0 {
		source += "; LISA AzureImageStandard runs `" + path.Base(commands[0]) + " version`, so the command must be installed, not only the library"
	}
	return &Rule{
		ID:        id,
		Title:     minTitle(what, min),
		Severity:  sev,
		Source:    source,
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
			// every problem is named: an old version and a missing command
			var problems, actual []string
			if min != "" && pkgdb.CompareVersions(pkgdb.Upstream(best.Version), min) < 0 {
				problems = append(problems, fmt.Sprintf("%s %s is older than %s", what, best.Version, min))
				actual = append(actual, res.Actual)
			}
			if len(commands) > 0 {
				found := false
				for _, p := range commands {
					fi, err := c.stat(p)
					if err != nil {
						return errResult(err)
					}
					found = found || fi != nil && fi.Mode().IsRegular()
				}
				if !found {
					problems = append(problems, fmt.Sprintf("%s %s is installed as a library, but the %s command is not: Microsoft's test runs it", best.Name, best.Version, path.Base(commands[0])))
					actual = append(actual, what+" command not installed")
					res.Evidence = append(res.Evidence, Evidence{Path: commands[0], Detail: "missing"})
				}
			}
			if len(problems) > 0 {
				res.Status, res.Message, res.Actual = Fail, strings.Join(problems, "; "), strings.Join(actual, "; ")
				return res
			}
			res.Status, res.Message = Pass, fmt.Sprintf("%s %s", best.Name, best.Version)
			return res
		}),
	}
}

var (
	_ = register(minPackageRule("openssl-version", "OpenSSL", "1.0",
		[]string{"openssl", "openssl-libs", "libssl*", "openssl1.1", "openssl3"}, []string{"/usr/bin/openssl", "/bin/openssl"}, High,
		&CertTest{SelfTestID: "44", Name: "OpenSSL Version", Level: "Failed", LISA: "verify_openssl_version"}))
	_ = register(minPackageRule("python-version", "Python", "2.6",
		[]string{"python", "python2*", "python3", "python3.*", "python3-libs", "platform-python", "python-base"}, nil, High,
		&CertTest{SelfTestID: "45", Name: "Python Version", Level: "Failed", LISA: "verify_python_version"}))
	_ = register(minPackageRule("pyasn1-installed", "pyasn1", "",
		[]string{"python3-pyasn1", "python-pyasn1", "py3-asn1", "py3-pyasn1"}, nil, Low, nil))
)

func minTitle(what, min string) string {
	if min == "" {
		return what + " is installed"
	}
	return fmt.Sprintf("%s %s or later is installed", what, min)
}

// omiMinVersion is the first OMI release without the OMIGOD vulnerabilities.
const omiMinVersion = "1.6.8.1"

var _ = register(&Rule{
	ID:        "omi-version",
	Title:     "OMI, if installed, is " + omiMinVersion + " or later (no OMIGOD)",
	Severity:  Critical,
	Source:    "LISA AzureImageStandard verify_omi_version",
	Rationale: "OMI before 1.6.8.1 lets anyone on the network run code as root (OMIGOD, CVE-2021-38647 and others); Microsoft's suite fails it. Not installed passes.",
	Fix:       "Update the omi package to 1.6.8.1 or later, or remove it if nothing needs it.",
	Check: linux(func(c *Context) Result {
		inv, err := c.Image.Packages()
		if err != nil {
			return errResult(err)
		}
		best, ok := pkgdb.Newest(inv.Find("omi"))
		if !ok {
			return pass("OMI is not installed")
		}
		v := strings.ReplaceAll(pkgdb.Upstream(best.Version), "-", ".")
		ev := Evidence{Path: inv.Path, Detail: fmt.Sprintf("package %s %s", best.Name, best.Version)}
		if pkgdb.CompareVersions(v, omiMinVersion) < 0 {
			r := fail(fmt.Sprintf("OMI %s is older than %s: vulnerable to OMIGOD", best.Version, omiMinVersion), ev)
			r.Actual, r.Required = "OMI "+best.Version, "OMI >= "+omiMinVersion
			return r
		}
		return pass(fmt.Sprintf("OMI %s", best.Version), ev)
	}),
})

// essentialKernelConfig are the options Microsoft's suite wants enabled (built in or as a
// module) in the kernel that boots: the watchdog and CIFS (Azure Files).
var essentialKernelConfig = []string{"CONFIG_WATCHDOG", "CONFIG_CIFS"}

var _ = register(&Rule{
	ID:        "kernel-essential-config",
	Title:     "The kernel that boots enables the watchdog and CIFS (CONFIG_WATCHDOG, CONFIG_CIFS)",
	Severity:  Medium,
	Source:    "LISA AzureImageStandard verify_essential_kernel_modules",
	Rationale: "Microsoft's suite fails a kernel without the watchdog framework or CIFS (Azure Files mounts). The boot kernel's /boot/config-RELEASE says how it was built; without that file it cannot be decided offline, which is a warning.",
	Fix:       "Boot a kernel built with CONFIG_WATCHDOG and CONFIG_CIFS (y or m): the distribution's cloud or generic kernel.",
	Check: linux(func(c *Context) Result {
		bk, err := c.bootKernel()
		if err != nil {
			return errResult(err)
		}
		k := bk.release
		if k == "" {
			return warn("no kernel found in /boot: the kernel configuration cannot be checked offline")
		}
		p := "/boot/config-" + k
		data, err := c.read(p)
		if err != nil {
			return errResult(err)
		}
		if data == nil {
			return warn(fmt.Sprintf("%s is missing: whether kernel %s enables %s cannot be decided offline", p, k, strings.Join(essentialKernelConfig, " and ")),
				Evidence{Path: p, Detail: "missing"})
		}
		set := map[string]string{}
		kv, err := sysconf.ReadKeyValue(data)
		if err != nil {
			return errResult(fmt.Errorf("%s: %w", p, err))
		}
		for _, s := range kv {
			set[s.Key] = s.Value
		}
		var missing []string
		for _, o := range essentialKernelConfig {
			if v := set[o]; v != "y" && v != "m" {
				missing = append(missing, o)
			}
		}
		if len(missing) > 0 {
			r := fail(fmt.Sprintf("kernel %s is built without %s", k, strings.Join(missing, " ")), Evidence{Path: p, Detail: "not set: " + strings.Join(missing, ", ")})
			r.Actual, r.Required = "missing "+strings.Join(missing, " "), strings.Join(essentialKernelConfig, " ")+" = y or m"
			return r
		}
		return pass(fmt.Sprintf("kernel %s enables %s", k, strings.Join(essentialKernelConfig, " and ")), Evidence{Path: p})
	}),
})
