package pkgdb

import (
	"bytes"
	"strings"
)

// ParseDpkgStatus parses dpkg's status file (RFC 822-style stanzas) and keeps the packages whose
// Status is "install ok installed" (or any "* ok installed"/"half-configured" state that has files).
func ParseDpkgStatus(data []byte) ([]Package, error) {
	var out []Package
	for _, stanza := range bytes.Split(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		var p Package
		status := ""
		for _, line := range strings.Split(string(stanza), "\n") {
			if line == "" || line[0] == ' ' || line[0] == '\t' {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "Package":
				p.Name = v
			case "Version":
				p.Version = v
			case "Architecture":
				p.Arch = v
			case "Status":
				status = v
			case "Source":
				// "Source: name" or "Source: name (version)" when the source's version
				// differs (binNMUs, packages built from another version's source)
				name, ver, _ := strings.Cut(v, " ")
				p.Source = name
				ver = strings.TrimSpace(ver)
				if strings.HasPrefix(ver, "(") && strings.HasSuffix(ver, ")") {
					p.SourceVersion = strings.TrimSpace(ver[1 : len(ver)-1])
				}
			}
		}
		if p.Name == "" {
			continue
		}
		f := strings.Fields(status)
		if status == "" || len(f) == 3 && (f[2] == "installed" || f[2] == "half-configured" || f[2] == "unpacked" || f[2] == "triggers-awaited" || f[2] == "triggers-pending") {
			out = append(out, p)
		}
	}
	return out, nil
}
