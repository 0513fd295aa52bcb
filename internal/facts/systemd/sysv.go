package systemd

import (
	"fmt"
	"io/fs"
)

// SysVStart is the SysV init start link (/etc/rc[2345].d/S[0-9][0-9]NAME, of an existing
// /etc/init.d/NAME, executable under systemd) that starts name at boot, "" when none does.
// Under systemd (its binary in the image) systemd-sysv-generator runs a SysV script only when
// no native unit of the same name is on the unit search path (UnitDirs): then the native
// unit's links decide, and the rc link starts nothing.
func SysVStart(src Source, name string) (string, error) {
	hasSystemd := false
	for _, p := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		fi, err := src.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		hasSystemd = hasSystemd || fi != nil
	}
	if hasSystemd {
		for _, d := range UnitDirs {
			fi, err := src.Lstat(d + "/" + name + ".service")
			if err != nil {
				return "", fmt.Errorf("%s/%s.service: %w", d, name, err)
			}
			if fi != nil {
				return "", nil
			}
		}
	}
	// systemd-sysv-generator makes a unit only of an executable regular file in /etc/init.d
	// (enumerate_sysv follows symlinks), and ignores an rc link whose script is not one
	// (src/sysv-generator/sysv-generator.c set_dependencies_from_rcnd, systemd@03e6b71c0627);
	// without systemd, a link whose script is gone starts nothing either
	script, err := src.Lstat("/etc/init.d/" + name)
	if err != nil {
		return "", fmt.Errorf("/etc/init.d/%s: %w", name, err)
	}
	switch {
	case script == nil:
		return "", nil
	case script.Mode()&fs.ModeSymlink != 0: // followed by the generator: counted
	case !script.Mode().IsRegular(), hasSystemd && script.Mode().Perm()&0o100 == 0:
		return "", nil
	}
	// the start runlevels: rc2.d, rc3.d and rc4.d start with multi-user.target, rc5.d with
	// graphical.target (the generator's rcnd_table); "S" and two decimal digits
	for _, lvl := range []string{"2", "3", "4", "5"} {
		m, err := src.Glob("/etc/rc" + lvl + ".d/S[0-9][0-9]" + name)
		if err != nil {
			return "", err
		}
		if len(m) > 0 {
			return m[0], nil
		}
	}
	return "", nil
}
