package secrets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// maxPackageIndex bounds a package index read whole (Debian's main amd64 index is ~50 MB).
const maxPackageIndex = 256 << 20

// AptArchiveDigests maps the packages in apt's cache (/var/cache/apt/archives/NAME.deb) to the
// SHA-256 the package indexes apt downloaded list for them (/var/lib/apt/lists/*_Packages, plain
// or gzip): a cached package with that digest is the distribution's archive, skipped like the
// files dpkg installed unchanged. The cache names a package PACKAGE_VERSION_ARCH.deb, the
// version's epoch colon written %3a.
func AptArchiveDigests(root *filesystem.Tree) map[string]string {
	ents, err := root.ReadDir("var/lib/apt/lists")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, "_Packages") && !strings.HasSuffix(name, "_Packages.gz") {
			continue
		}
		b, err := root.ReadFile("var/lib/apt/lists/"+name, maxPackageIndex)
		if err != nil {
			continue
		}
		var r io.Reader = bytes.NewReader(b)
		if strings.HasSuffix(name, ".gz") {
			z, err := gzip.NewReader(r)
			if err != nil {
				continue
			}
			r = io.LimitReader(z, maxPackageIndex)
		}
		parsePackages(r, out)
	}
	return out
}

// parsePackages adds the archives of a Packages index to out.
func parsePackages(r io.Reader, out map[string]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pkg, version, arch, file, sum string
	flush := func() {
		if sum != "" && len(sum) == 64 {
			if pkg != "" && version != "" && arch != "" {
				out["/var/cache/apt/archives/"+pkg+"_"+strings.ReplaceAll(version, ":", "%3a")+"_"+arch+".deb"] = sum
			}
			if file != "" {
				out["/var/cache/apt/archives/"+path.Base(file)] = sum
			}
		}
		pkg, version, arch, file, sum = "", "", "", "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch k {
		case "Package":
			pkg = v
		case "Version":
			version = v
		case "Architecture":
			arch = v
		case "Filename":
			file = v
		case "SHA256":
			sum = strings.ToLower(v)
		}
	}
	flush()
}
