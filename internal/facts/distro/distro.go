// Package distro is the distribution an image is, as DigitalOcean's Marketplace image check
// names it: getDistro of scripts/99-img-check.sh (digitalocean/marketplace-partners, commit
// 65b85d4), decided from the disk. The script is read, never copied. It tries, in order:
//
//   - /etc/os-release when `[ -f ]` holds (a regular file, links followed): NAME and VERSION_ID,
//     the file sourced as shell;
//   - else the lsb_release command, when `type lsb_release` finds one on PATH: `lsb_release -si`
//     and `lsb_release -sr` (bash's `type` also finds a file that is not executable, when no
//     executable one comes first: running it fails, and name and version are empty);
//   - else /etc/lsb-release: DISTRIB_ID and DISTRIB_RELEASE;
//   - else /etc/debian_version: "Debian" and the file's text;
//   - else /etc/SuSe-release: nothing (the script's branch is `:`, so name and version are empty);
//   - else /etc/redhat-release: its third blank-separated field up to the first dot is the version,
//     and "CentOS Linux" the name when the first field (up to a dot) is CentOS (no name otherwise);
//   - else uname: "Linux".
//
// The lsb_release branch runs a program of the image, so it is decided by what that program is.
// Debian 12 and later ship lsb-release-minimal (package lsb-release 12.x, a POSIX sh script;
// https://salsa.debian.org/gioele/lsb-release-minimal, 12.0): it sources /etc/os-release, else
// /usr/lib/os-release, when a regular file; -si prints ID with its first letter upper-cased, or
// NAME when NAME and ID differ only in case, "n/a" when empty; -sr prints VERSION_ID, "n/a" when
// empty. Since this branch runs only when /etc/os-release is not a file, it reads
// /usr/lib/os-release. Any other lsb_release (Debian 11's and Ubuntu's Python lsb_release, which
// asks apt-cache policy in some cases; redhat-lsb-core's shell script) is not modelled: what it
// prints is not known offline, so the fact has a problem and the rules that judge it are ERRORs.
package distro

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Origin is which of the script's branches named the distribution.
type Origin string

const (
	OSRelease     Origin = "/etc/os-release"
	LSBRelease    Origin = "lsb_release"
	LSBFile       Origin = "/etc/lsb-release"
	DebianVersion Origin = "/etc/debian_version"
	SuSERelease   Origin = "/etc/SuSe-release"
	RedHatRelease Origin = "/etc/redhat-release"
	Uname         Origin = "uname"
)

// ScriptPath is the PATH `type lsb_release` searches: root's on Debian and Ubuntu (the script
// runs as root on the Droplet it checks).
var ScriptPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// Facts is the distribution as the script names it.
type Facts struct {
	Name, Version string
	From          Origin
	// Path is the file the name was read from ("" for uname); for LSBRelease it is the file
	// lsb_release reads ("" when it reads none), Command the program.
	Path    string
	Command string
	// Detail says what was read, in the file's words.
	Detail   string
	Problems problems.List
}

// Err joins the problems: the name the script would print is then unknown.
func (f *Facts) Err() error { return f.Problems.Err() }

// Named says whether a file or lsb_release named the distribution (not uname's "Linux").
func (f *Facts) Named() bool { return f.From != Uname }

// Of returns the image's distribution as DigitalOcean's script names it, read once per image.
func Of(img *inspect.Image) *Facts {
	return img.Memo("facts/distro", func() any { return Read(systemd.FromImage(img)) }).(*Facts)
}

// isFile is `[ -f p ]`: it exists and, links followed, is a regular file. The Source's Lstat
// does not follow a final link, so a link is followed through the directory entry the tree
// resolves (ReadFile follows links too).
func isFile(src systemd.Source, p string) (bool, error) {
	fi, err := stat(src, p)
	return fi != nil && fi.Mode().IsRegular(), err
}

// stat follows links, up to the kernel's 40; nil when the path (or a link's target) is missing.
func stat(src systemd.Source, p string) (fs.FileInfo, error) {
	for range 41 {
		fi, err := src.Lstat(p)
		if err != nil || fi == nil || fi.Mode()&fs.ModeSymlink == 0 {
			return fi, err
		}
		t, err := src.ReadLink(p)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(t, "/") {
			t = p[:strings.LastIndex(p, "/")+1] + t
		}
		p = t
	}
	return nil, nil // ELOOP: not a file
}

// Read names the distribution from an image's files, in the script's order.
func Read(src systemd.Source) *Facts {
	f := &Facts{}
	fail := func(p string, err error) *Facts {
		f.Problems = append(f.Problems, fmt.Errorf("%s: %w", p, err))
		return f
	}
	vars := func(p string, keys ...string) ([]string, error) {
		data, err := src.ReadFile(p)
		if err != nil {
			return nil, err
		}
		s, err := sysconf.ReadShellVars(data)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(keys))
		for i, k := range keys {
			v, _ := sysconf.Last(s, k)
			out[i] = v.Value
		}
		return out, nil
	}
	if ok, err := isFile(src, "/etc/os-release"); err != nil {
		return fail("/etc/os-release", err)
	} else if ok {
		v, err := vars("/etc/os-release", "NAME", "VERSION_ID")
		if err != nil {
			return fail("/etc/os-release", err)
		}
		f.Name, f.Version, f.From, f.Path = v[0], v[1], OSRelease, "/etc/os-release"
		f.Detail = fmt.Sprintf("NAME=%s VERSION_ID=%s", v[0], v[1])
		return f
	}
	cmd, executable, err := lookPath(src, "lsb_release")
	if err != nil {
		return fail("lsb_release", err)
	}
	if cmd != "" && !executable {
		// `type` finds it, running it fails: $(lsb_release -si) and -sr are empty
		f.From, f.Command = LSBRelease, cmd
		f.Detail = cmd + " is not executable: `type` finds it, running it fails and prints nothing"
		return f
	}
	if cmd != "" {
		f.From, f.Command = LSBRelease, cmd
		minimal, err := isLSBReleaseMinimal(src, cmd)
		if err != nil {
			return fail(cmd, err)
		}
		if !minimal {
			return fail(cmd, fmt.Errorf("an lsb_release other than Debian's lsb-release-minimal: what `lsb_release -si` prints is not known offline"))
		}
		// the minimal one: /etc/os-release is not a file here, so /usr/lib/os-release if it is
		var id, name, version string
		const usrLib = "/usr/lib/os-release"
		if ok, err := isFile(src, usrLib); err != nil {
			return fail(usrLib, err)
		} else if ok {
			v, err := vars(usrLib, "ID", "NAME", "VERSION_ID")
			if err != nil {
				return fail(usrLib, err)
			}
			id, name, version = v[0], v[1], v[2]
			f.Path = usrLib
			f.Detail = fmt.Sprintf("ID=%s NAME=%s VERSION_ID=%s, as %s prints them", id, name, version, cmd)
		} else {
			f.Detail = cmd + " reads no os-release: it prints n/a"
		}
		f.Name, f.Version = MinimalID(id, name), orNA(version)
		return f
	}
	if ok, err := isFile(src, "/etc/lsb-release"); err != nil {
		return fail("/etc/lsb-release", err)
	} else if ok {
		v, err := vars("/etc/lsb-release", "DISTRIB_ID", "DISTRIB_RELEASE")
		if err != nil {
			return fail("/etc/lsb-release", err)
		}
		f.Name, f.Version, f.From, f.Path = v[0], v[1], LSBFile, "/etc/lsb-release"
		f.Detail = fmt.Sprintf("DISTRIB_ID=%s DISTRIB_RELEASE=%s", v[0], v[1])
		return f
	}
	for _, o := range []Origin{DebianVersion, SuSERelease, RedHatRelease} {
		p := string(o)
		ok, err := isFile(src, p)
		if err != nil {
			return fail(p, err)
		}
		if !ok {
			continue
		}
		f.From, f.Path = o, p
		if o == SuSERelease {
			f.Detail = "the script names nothing for it"
			return f
		}
		data, err := src.ReadFile(p)
		if err != nil {
			return fail(p, err)
		}
		if o == DebianVersion {
			// $(cat): the text without its trailing newlines
			text := strings.TrimRight(string(data), "\n")
			f.Name, f.Version, f.Detail = "Debian", text, text
			return f
		}
		f.Name, f.Version = redHat(data)
		f.Detail = strings.TrimRight(string(data), "\n")
		return f
	}
	f.Name, f.From, f.Detail = "Linux", Uname, "uname -s"
	return f
}

// redHat is the script's reading of /etc/redhat-release: `cut -d" " -f3 | cut -d. -f1` for the
// version, `cut -d" " -f1 | cut -d. -f1` compared with CentOS for the name. cut reads every
// line; $(...) joins them with newlines, so only a one-line file gives one word: the first line
// is taken, and a file of more lines compares unequal (no name) and gives a many-line version.
func redHat(data []byte) (name, version string) {
	var firsts, thirds []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		fields := strings.Split(l, " ") // cut -d" ": every space separates
		first, _, _ := strings.Cut(fields[0], ".")
		firsts = append(firsts, first)
		third := ""
		switch {
		case len(fields) == 1: // cut prints a line without the delimiter whole, whatever the field
			third, _, _ = strings.Cut(l, ".")
		case len(fields) > 2:
			third, _, _ = strings.Cut(fields[2], ".")
		}
		thirds = append(thirds, third)
	}
	if strings.Join(firsts, "\n") == "CentOS" {
		name = "CentOS Linux"
	}
	return name, strings.TrimRight(strings.Join(thirds, "\n"), "\n")
}

// MinimalID is what lsb-release-minimal's -si prints for an os-release's ID and NAME: the
// first byte of ID upper-cased (cut -c1 and tr, byte by byte, ASCII letters only), replaced by
// NAME when the two are equal with ASCII letters lower-cased. The script tests NAME with
// `[ "${NAME-x}" != "x" ]`, so a NAME of "x" is taken for an unset one.
func MinimalID(id, name string) string {
	if id != "" && id[0] >= 'a' && id[0] <= 'z' {
		id = string(id[0]-'a'+'A') + id[1:]
	}
	if name != "x" && asciiLower(id) == asciiLower(name) {
		id = name
	}
	return orNA(id)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// lookPath is bash's PATH search as `type` does it (findcmd.c, find_user_command_in_path): the
// first directory holding an executable file of that name (links followed; for root any
// execute bit); when none does, the first file of that name that is not a directory, which
// `type` reports as found and which then fails to run (exec says "Permission denied").
// "" when there is neither.
func lookPath(src systemd.Source, name string) (p string, executable bool, err error) {
	lose := ""
	for _, d := range ScriptPath {
		full := d + "/" + name
		fi, err := stat(src, full)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", full, err)
		}
		if fi == nil || fi.IsDir() {
			continue
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return full, true, nil
		}
		if lose == "" {
			lose = full
		}
	}
	return lose, false, nil
}

// minimalMarks are what lsb-release-minimal's script holds and the other lsb_release programs
// do not: a POSIX sh script that takes the os-release file from /usr/lib and LSB_OS_RELEASE.
var minimalMarks = [][]byte{[]byte("os_release=/usr/lib/os-release"), []byte("LSB_OS_RELEASE")}

// maxScript bounds how much of the program is read to recognise it (the minimal one is 3 KB).
const maxScript = 64 << 10

func isLSBReleaseMinimal(src systemd.Source, p string) (bool, error) {
	head, _, err := src.Head(p, maxScript)
	if err != nil {
		return false, err
	}
	if !bytes.HasPrefix(head, []byte("#!/bin/sh")) {
		return false, nil
	}
	for _, m := range minimalMarks {
		if !bytes.Contains(head, m) {
			return false, nil
		}
	}
	return true, nil
}
