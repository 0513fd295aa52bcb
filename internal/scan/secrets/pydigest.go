package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
)

// Bounds of the pip RECORD reading: a RECORD read whole (botocore's, the largest seen, is
// ~2 MiB), its lines, the distributions looked at and the directories read looking for them.
const (
	maxRecordBytes   = 16 << 20
	maxRecordLines   = 500_000
	maxDistributions = 20_000
	maxSiteDirReads  = 4_096
	maxPipEntries    = 2_000_000 // all RECORDs' entries together (an AWS CLI install has ~30,000)
)

// pipUnchangedReason is the ledger's reason for a file a pip RECORD lists with its SHA-256:
// the image's own record of what pip installed, the same trust as dpkg's md5sums.
const pipUnchangedReason = "unchanged file of a pip-installed distribution (RECORD SHA-256)"

// PipRecordDigests maps the files of the Python distributions pip (or any installer following
// the wheel spec) installed in the image to the SHA-256, hex, their RECORD lists. Each installed
// distribution has SITE/NAME-VERSION.dist-info/RECORD (PEP 376, PEP 627 and the packaging
// guide's "Recording installed projects": CSV lines path,sha256=<urlsafe base64 without
// padding>,size, the path relative to SITE, ../ reaching scripts in bin/; the RECORD's own
// line and compiled .pyc lines have no hash), as pip's installer writes it
// (pip/_internal/operations/install/wheel.py, pip 24: get_csv_rows_for_installed makes each
// row's path relative to the lib directory with _fs_to_record_path, a relpath, so files of the
// other schemes come out as ../; pip only warns of rows longer than three fields, here such a
// RECORD is not used). The site
// directories looked in are the interpreters' (/usr/lib, /usr/lib64, /usr/local/lib,
// python3*/site-packages and dist-packages) and virtual environments' below /opt, /srv and
// /home/* (DIR/lib/python3*/site-packages and DIR/SUB/lib/python3*/site-packages). A RECORD
// that cannot be read or parsed adds nothing: that distribution's files are searched.
func PipRecordDigests(root *filesystem.Tree) map[string]string {
	out := map[string]string{}
	budget := maxSiteDirReads
	readDir := func(name string) []string {
		if budget <= 0 {
			return nil
		}
		budget--
		ents, err := root.ReadDir(name)
		if err != nil {
			return nil
		}
		var dirs []string
		for _, e := range ents {
			if e.IsDir() { // a symbolic link (a venv's lib64 -> lib) is not followed: the walk does not
				dirs = append(dirs, e.Name())
			}
		}
		return dirs
	}
	libs := []string{"usr/lib", "usr/lib64", "usr/local/lib", "usr/local/lib64"}
	bases := []string{"opt", "srv"}
	for _, u := range readDir("home") {
		bases = append(bases, "home/"+u)
	}
	for _, b := range bases {
		for _, a := range readDir(b) {
			libs = append(libs, b+"/"+a+"/lib")
			for _, s := range readDir(b + "/" + a) {
				if s != "lib" {
					libs = append(libs, b+"/"+a+"/"+s+"/lib")
				}
			}
		}
	}
	dists := 0
	for _, lib := range libs {
		for _, py := range readDir(lib) {
			if !strings.HasPrefix(py, "python3") {
				continue
			}
			for _, site := range []string{"site-packages", "dist-packages"} {
				dir := lib + "/" + py + "/" + site
				for _, d := range readDir(dir) {
					if !strings.HasSuffix(d, ".dist-info") || dists >= maxDistributions {
						continue
					}
					dists++
					name := "/" + dir + "/" + d + "/RECORD"
					data, err := root.ReadFile(name[1:], maxRecordBytes)
					if err != nil {
						continue
					}
					if digests, err := parseRecord(name, "/"+dir, "/"+path.Dir(lib), data); err == nil {
						for p, sum := range digests {
							if len(out) >= maxPipEntries {
								return out // the rest are searched
							}
							out[p] = sum
						}
					}
				}
			}
		}
	}
	return out
}

// parseRecord reads a RECORD (named for errors) of the site directory site, below the
// installation prefix prefix (/usr, /usr/local, a venv's directory): the in-image paths of the
// entries with a sha256 hash, to the hash in hex. Entries with no hash (the RECORD itself, .pyc
// files) or another algorithm are left out (searched), and so are those outside the prefix: the
// wheel's schemes (purelib, platlib, scripts, headers, data) all install below it, and a RECORD
// naming /etc/shadow through ../ is not an installer's. A line that does not parse,
// a sha256 that is not 32 bytes of urlsafe base64, or more than maxRecordLines lines is an error
// naming the file and line, and nothing of the RECORD is used.
func parseRecord(name, site, prefix string, data []byte) (map[string]string, error) {
	if len(data) > maxRecordBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxRecordBytes)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	out := map[string]string{}
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err) // csv's ParseError names the line
		}
		line, _ := r.FieldPos(0)
		if n > maxRecordLines {
			return nil, fmt.Errorf("%s: line %d: more than %d entries", name, line, maxRecordLines)
		}
		if len(rec) != 3 || rec[0] == "" {
			return nil, fmt.Errorf("%s: line %d: want path,hash,size, got %d fields", name, line, len(rec))
		}
		algo, value, ok := strings.Cut(rec[1], "=")
		if rec[1] == "" || !ok || algo != "sha256" {
			continue // no hash, or one this checker does not compute: searched
		}
		sum, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("%s: line %d: %q is not a SHA-256 in urlsafe base64", name, line, rec[1])
		}
		p := rec[0]
		if !strings.HasPrefix(p, "/") {
			p = path.Join(site, p) // relative to the site directory; Join cleans ../
		}
		if p = path.Clean(p); !strings.HasPrefix(p, prefix+"/") {
			continue
		}
		out[p] = hex.EncodeToString(sum)
	}
}
