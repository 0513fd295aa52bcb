package encryption

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// LUKS containers in files, and units that open dm-crypt volumes at boot. systemd-cryptsetup
// takes a regular file as crypttab's device and attaches it to a loop device itself
// (src/cryptsetup/cryptsetup.c attach_luks_or_plain_or_bitlk_by_*, which crypt_init's the
// path, and libcryptsetup lib/setup.c crypt_init/device_alloc, which sets up a loop device for
// a file; systemd 252, cryptsetup 2.6); cryptsetup open does the same for a file named on its
// command line. A file's header sectors are read as a partition's (Probe).

// FileVolume is where a crypttab line or a unit names a file of the image.
type FileVolume struct {
	Path   string
	Source string // "/etc/crypttab:3", "vault.service (/etc/systemd/system/vault.service:4)"
}

// UnitOpen is a command a unit linked from a wants or requires directory runs that opens a
// dm-crypt volume: cryptsetup open (luksOpen, create, plainOpen, ...) or systemd-cryptsetup
// attach.
type UnitOpen struct {
	Unit    string
	Setting systemd.Setting
	Device  string // "" when the command line does not say
}

// cryptsetupOpens are cryptsetup's actions that map a device (cryptsetup 2.6 src/cryptsetup.c
// action_types: open and its aliases).
var cryptsetupOpens = []string{"open", "luksOpen", "create", "plainOpen", "loopaesOpen", "tcryptOpen", "bitlkOpen", "fvault2Open"}

// cryptsetupValueOptions are cryptsetup's options that take the next word as their value.
var cryptsetupValueOptions = []string{"-M", "--type", "-d", "--key-file", "-c", "--cipher", "-s", "--key-size", "-h", "--hash",
	"-S", "--key-slot", "--header", "-o", "--offset", "-p", "--skip", "-l", "--keyfile-size", "--keyfile-offset",
	"--token-id", "--token-type", "-t", "--timeout", "-T", "--tries", "--master-key-file", "--volume-key-file", "--integrity", "--sector-size"}

// openCommand reads one command: the device it opens, and whether it opens one at all.
func openCommand(c sysconf.ExecCommand) (device string, ok bool) {
	base := path.Base(c.Path)
	var pos []string
	for i := 1; i < len(c.Argv); i++ {
		a := c.Argv[i]
		switch {
		case a == "--":
			pos = append(pos, c.Argv[i+1:]...)
			i = len(c.Argv)
		case slices.Contains(cryptsetupValueOptions, a):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	switch base {
	case "cryptsetup":
		if len(pos) == 0 || !slices.Contains(cryptsetupOpens, pos[0]) {
			return "", false
		}
		if pos[0] == "create" { // the old syntax: create NAME DEVICE
			if len(pos) > 2 {
				return pos[2], true
			}
			return "", true
		}
		if len(pos) > 1 {
			return pos[1], true
		}
		return "", true
	case "systemd-cryptsetup":
		// systemd-cryptsetup attach VOLUME SOURCE-DEVICE [KEY-FILE] [OPTIONS]
		if len(pos) == 0 || pos[0] != "attach" {
			return "", false
		}
		if len(pos) > 2 {
			return pos[2], true
		}
		return "", true
	}
	return "", false
}

// maxOpenScript bounds a shell script a unit runs, read for the cryptsetup commands in it.
const maxOpenScript = 1 << 20

// shellScriptText is the text of the shell script p, or "" when p is no shell script (a binary,
// or nothing); a script larger than maxOpenScript is an error.
func shellScriptText(src systemd.Source, p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", nil
	}
	head, size, err := src.Head(p, 256)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if !sysconf.ShellScript(head) {
		return "", nil
	}
	if size > maxOpenScript {
		return "", fmt.Errorf("%s: a shell script larger than %d bytes (not read)", p, maxOpenScript)
	}
	b, _, err := src.Head(p, maxOpenScript)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return string(b), nil
}

// readUnitOpens lists the commands of the services boot starts (systemd.Boot: every wants and
// requires directory, Wants=/Requires=, rc-local.service for an executable /etc/rc.local) that
// open a dm-crypt volume: directly, through sh -c, or in a shell script they run.
func readUnitOpens(img *inspect.Image, f *Facts) {
	src := systemd.FromImage(img)
	boot := systemd.BootOf(img)
	if err := boot.Err(); err != nil {
		f.Problems = append(f.Problems, fmt.Errorf("units started at boot (they may open dm-crypt volumes): %w", err))
	}
	var names []string
	for _, n := range boot.Names() {
		if strings.HasSuffix(n, ".service") {
			names = append(names, n)
		}
	}
	for _, n := range names {
		u, err := systemd.LoadInstance(src, n)
		if err != nil {
			f.Problems = append(f.Problems, err)
			continue
		}
		if !u.Found() {
			continue
		}
		for _, key := range []string{"ExecStartPre", "ExecStart", "ExecStartPost"} {
			for _, s := range u.Values("Service", key) {
				cmds, err := sysconf.SplitExec(s.Value)
				if err != nil {
					f.Problems = append(f.Problems, fmt.Errorf("%s:%d: %s: %w", s.File, s.Line, s.Key, err))
					continue
				}
				for _, c := range cmds {
					// the command, the commands of sh -c's script, or those of a shell script it runs
					run := []sysconf.ExecCommand{c}
					var more []sysconf.ShellCommand
					if script, ok := sysconf.ShellArgument(c); ok {
						run, more = nil, sysconf.ShellCommands(script)
					} else if systemd.VendorProgram(s.File, c.Path) {
						// a distribution's unit running the distribution's program: not opened
					} else if text, err := shellScriptText(src, c.Path); err != nil {
						f.Problems = append(f.Problems, fmt.Errorf("%s:%d: %s: %w", s.File, s.Line, s.Key, err))
					} else if text != "" {
						more = sysconf.ShellCommands(text)
					}
					for _, sc := range more {
						run = append(run, sc.ExecCommand)
					}
					for _, c := range run {
						if dev, ok := openCommand(c); ok {
							f.UnitOpens = append(f.UnitOpens, UnitOpen{Unit: n, Setting: s, Device: dev})
						}
					}
				}
			}
		}
	}
}

// readFileVolumes probes the files crypttab's lines and the units' commands name: a path
// outside /dev that is a file of the image. A file that does not exist is left (the line
// itself is evidence); one that does not read is a problem naming it.
func readFileVolumes(img *inspect.Image, f *Facts) {
	var files []FileVolume
	for _, e := range f.Crypttab {
		files = append(files, FileVolume{Path: e.Device, Source: fmt.Sprintf("%s:%d", Crypttab, e.Line)})
	}
	for _, u := range f.UnitOpens {
		files = append(files, FileVolume{Path: u.Device, Source: fmt.Sprintf("%s (%s:%d)", u.Unit, u.Setting.File, u.Setting.Line)})
	}
	seen := map[string]bool{}
	for _, fv := range files {
		if !strings.HasPrefix(fv.Path, "/") || strings.HasPrefix(path.Clean(fv.Path), "/dev/") {
			continue // UUID=, LABEL=, a device node: the partitions and LVs probed above
		}
		if seen[path.Clean(fv.Path)] {
			continue
		}
		seen[path.Clean(fv.Path)] = true
		name, err := img.Root.Resolve(rel(fv.Path))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s (named by %s): %w", fv.Path, fv.Source, err))
			continue
		}
		name = rel(name)
		fi, err := img.Root.Stat(name)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s (named by %s): %w", fv.Path, fv.Source, err))
			continue
		}
		if !fi.Mode().IsRegular() {
			continue // a directory or special file: nothing cryptsetup attaches
		}
		ra, size, err := img.Root.OpenReaderAt(name)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s (named by %s): %w", fv.Path, fv.Source, err))
			continue
		}
		h, ok, err := Probe(ra, size)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Errorf("%s (named by %s): %w", fv.Path, fv.Source, err))
			continue
		}
		if ok {
			f.Volumes = append(f.Volumes, Volume{File: fv.Path,
				Where:  fmt.Sprintf("file %s, named by %s, header at offset %#x", fv.Path, fv.Source, h.Offset),
				Header: h})
		}
	}
}
