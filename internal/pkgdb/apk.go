package pkgdb

import "strings"

// ParseApkInstalled parses Alpine's /lib/apk/db/installed (P: name, V: version, A: arch,
// o: origin).
func ParseApkInstalled(data []byte) []Package {
	var out []Package
	var p Package
	flush := func() {
		if p.Name != "" {
			out = append(out, p)
		}
		p = Package{}
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if line == "" {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		switch line[0] {
		case 'P':
			p.Name = line[2:]
		case 'V':
			p.Version = line[2:]
		case 'A':
			p.Arch = line[2:]
		case 'o':
			p.Source = line[2:] // the origin: the APKBUILD the package was built from
		}
	}
	flush()
	return out
}
