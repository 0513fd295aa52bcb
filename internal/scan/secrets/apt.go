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
// version's epoch colon written %3a. Only the packages in the cache are looked for: an index
// lists tens of thousands (Debian's main one is ~50 MB), streamed, not held; an image whose
// cache is empty has no index read.
func AptArchiveDigests(root *filesystem.Tree) map[string]string {
	cached := map[string]bool{}
	if ents, err := root.ReadDir("var/cache/apt/archives"); err == nil {
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".deb") {
				cached[e.Name()] = true
			}
		}
	}
	if len(cached) == 0 {
		return nil
	}
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
		readIndex(root, "var/lib/apt/lists/"+name, cached, out)
	}
	return out
}

// readIndex adds the digests of the cached archives a package index lists to out. An index it
// cannot read, or larger than maxPackageIndex, adds nothing (those packages are searched).
func readIndex(root *filesystem.Tree, name string, cached map[string]bool, out map[string]string) {
	f, err := root.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() > maxPackageIndex {
		return
	}
	var r io.Reader = bufio.NewReaderSize(f, 256<<10)
	if strings.HasSuffix(name, ".gz") {
		z, err := gzip.NewReader(r)
		if err != nil {
			return
		}
		r = io.LimitReader(z, maxPackageIndex)
	}
	parsePackages(r, cached, out)
}

// parsePackages adds to out the archives of a Packages index that are in cached (every one
// when cached is nil), by their path in apt's cache.
func parsePackages(r io.Reader, cached map[string]bool, out map[string]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	// the fields of the stanza being read, in buffers reused from stanza to stanza
	var pkg, version, arch, file, sum, key []byte
	add := func(name []byte) {
		if cached == nil || cached[string(name)] {
			out[aptCacheDir+string(name)] = strings.ToLower(string(sum))
		}
	}
	flush := func() {
		if len(sum) == 64 {
			if len(pkg) > 0 && len(version) > 0 && len(arch) > 0 {
				key = append(append(key[:0], pkg...), '_')
				key = append(key, bytes.ReplaceAll(version, []byte(":"), []byte("%3a"))...)
				key = append(append(append(key, '_'), arch...), ".deb"...)
				add(key)
			}
			if len(file) > 0 {
				add([]byte(path.Base(string(file))))
			}
		}
		pkg, version, arch, file, sum = pkg[:0], version[:0], arch[:0], file[:0], sum[:0]
	}
	field := func(line []byte, name string, dst *[]byte) bool {
		if len(line) > len(name)+2 && string(line[:len(name)]) == name && line[len(name)] == ':' && line[len(name)+1] == ' ' {
			*dst = append((*dst)[:0], line[len(name)+2:]...)
			return true
		}
		return false
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			flush()
			continue
		}
		_ = field(line, "Package", &pkg) || field(line, "Version", &version) || field(line, "Architecture", &arch) ||
			field(line, "Filename", &file) || field(line, "SHA256", &sum)
	}
	flush()
}
