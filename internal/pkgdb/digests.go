package pkgdb

import (
	"bufio"
	"bytes"
	"strings"
)

// maxDigestFile bounds one dpkg md5sums file.
const maxDigestFile = 64 << 20

// DpkgDigests returns the MD5 digest dpkg recorded for every file it installed
// (/var/lib/dpkg/info/*.md5sums) and for every conffile (the status file's Conffiles), keyed by
// the file's absolute in-image path. A file whose content still has that digest is the
// distribution's, unmodified. Images without dpkg give an empty map.
//
// Only the md5sums of a package the status file lists with its files on disk count (dpkg's
// info directory may hold a PKG.md5sums of no installed package: it vouches for nothing), by the
// names dpkg gives them (PKG.md5sums, or PKG:ARCH.md5sums for a Multi-Arch: same package); an
// image without a readable status file gives an empty map (every file is then searched).
func DpkgDigests(fsys FS) map[string]string {
	out := map[string]string{}
	status, err := fsys.ReadFile("var/lib/dpkg/status", maxDBBytes)
	if err != nil {
		return out
	}
	pkgs, _ := ParseDpkgStatus(status)
	installed := map[string]bool{}
	for _, p := range pkgs {
		installed[p.Name] = true
		if p.Arch != "" {
			installed[p.Name+":"+p.Arch] = true
		}
	}
	ents, err := fsys.ReadDir("var/lib/dpkg/info")
	if err != nil {
		return out
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".md5sums")
		if !ok || !installed[name] {
			continue
		}
		data, err := fsys.ReadFile("var/lib/dpkg/info/"+e.Name(), maxDigestFile)
		if err != nil {
			continue
		}
		parseMD5Sums(data, out)
	}
	parseConffiles(status, out)
	return out
}

// parseMD5Sums reads "digest  relative/path" lines.
func parseMD5Sums(data []byte, out map[string]string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		sum, p, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 32 || p == "" {
			continue
		}
		addDigest(out, "/"+strings.TrimPrefix(p, "/"), sum)
	}
}

// addDigest records a digest under the path dpkg names and, for /bin, /sbin and /lib*, under
// /usr as well: on merged-/usr systems those are links into /usr, where a walk finds the files.
func addDigest(out map[string]string, p, sum string) {
	out[p] = sum
	for _, d := range []string{"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"} {
		if strings.HasPrefix(p, d) {
			out["/usr"+p] = sum
			break
		}
	}
}

// parseConffiles reads the " /etc/path digest [obsolete]" continuation lines of Conffiles fields.
func parseConffiles(data []byte, out map[string]string) {
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "Conffiles:"):
			in = true
		case in && strings.HasPrefix(line, " "):
			f := strings.Fields(line)
			if len(f) >= 2 && strings.HasPrefix(f[0], "/") && len(f[1]) == 32 {
				addDigest(out, f[0], f[1])
			}
		default:
			in = false
		}
	}
}
