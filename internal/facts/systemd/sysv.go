package systemd

import "fmt"

// SysVStart is the SysV init start link (/etc/rc[235].d/S??NAME) that starts name at boot, ""
// when none does. Under systemd (its binary in the image) systemd-sysv-generator runs a SysV
// script only when no native unit of the same name is on the unit search path (UnitDirs): then
// the native unit's links decide, and the rc link starts nothing.
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
	for _, lvl := range []string{"2", "3", "5"} {
		m, err := src.Glob("/etc/rc" + lvl + ".d/S??" + name)
		if err != nil {
			return "", err
		}
		if len(m) > 0 {
			return m[0], nil
		}
	}
	return "", nil
}
