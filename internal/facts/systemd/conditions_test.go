package systemd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// condUnit is a unit named test.service with the given [Unit] settings ("Key=Value" each).
func condUnit(settings ...string) *Unit {
	u := &Unit{Name: "test.service", Path: "/etc/systemd/system/test.service"}
	for i, s := range settings {
		k, v, _ := strings.Cut(s, "=")
		u.Settings = append(u.Settings, Setting{File: u.Path, UnitSetting: sysconf.UnitSetting{Line: i + 2, Section: "Unit", Key: k, Value: v}})
	}
	return u
}

// condTree writes files under a new root: "-> X" a link, "x:" an executable file with the rest,
// "dir:" a directory.
func condTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(body, "-> "):
			err = os.Symlink(strings.TrimPrefix(body, "-> "), h)
		case strings.HasPrefix(body, "x:"):
			err = os.WriteFile(h, []byte(strings.TrimPrefix(body, "x:")), 0o755)
		case body == "dir:":
			err = os.MkdirAll(h, 0o755)
		default:
			err = os.WriteFile(h, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Conditions as systemd 252 tests them, on the image, for a VM's first boot.
func TestConditions(t *testing.T) {
	files := map[string]string{
		"/etc/present":               "x",
		"/etc/empty":                 "",
		"/etc/tool":                  "x:#!/bin/sh\n",
		"/etc/dir/f":                 "x",
		"/etc/hidden/.keep":          "",
		"/etc/hidden/a.dpkg-old":     "",
		"/etc/emptydir":              "dir:",
		"/etc/link":                  "-> dir",
		"/etc/dangling":              "-> nothing",
		"/etc/os-release":            "ID=debian\nVERSION_ID=\"12\"\n",
		"/etc/fstab":                 "UUID=1 / ext4 defaults 0 1\nUUID=2 /srv ext4 defaults 0 2\n",
		"/usr/lib/tmpfiles.d/x.conf": "# made at boot\nd /var/lib/made 0755 root root -\n",
		"/srv/data":                  "x",
	}
	files["/etc/chain/l0"] = "-> ../present"
	for i := 1; i <= 40; i++ {
		files[fmt.Sprintf("/etc/chain/l%d", i)] = fmt.Sprintf("-> l%d", i-1)
	}
	root := condTree(t, files)
	for _, c := range []struct {
		name     string
		settings []string
		more     map[string]string
		holds    Tri
		mention  string
	}{
		{"none", nil, nil, True, ""},
		{"exists", []string{"ConditionPathExists=/etc/present"}, nil, True, ""},
		{"missing", []string{"ConditionPathExists=/etc/absent"}, nil, False, "test.service:2"},
		{"negated", []string{"ConditionPathExists=!/etc/present"}, nil, False, "/etc/present exists"},
		{"negated missing", []string{"ConditionPathExists=!/etc/absent"}, nil, True, ""},
		{"dangling link does not exist", []string{"ConditionPathExists=/etc/dangling"}, nil, False, ""},
		{"but is a symlink", []string{"ConditionPathIsSymbolicLink=/etc/dangling"}, nil, True, ""},
		{"link followed to a directory", []string{"ConditionPathIsDirectory=/etc/link", "ConditionPathExists=/etc/link/f"}, nil, True, ""},
		{"a file is no directory", []string{"ConditionPathIsDirectory=/etc/present"}, nil, False, "a file"},
		{"trigger: one holds", []string{"ConditionPathExists=|/etc/absent", "ConditionPathExists=|/etc/present"}, nil, True, ""},
		{"trigger: none holds", []string{"ConditionPathExists=|/etc/absent", "ConditionPathExists=|!/etc/present"}, nil, False, "none of its triggering"},
		{"trigger holds, non-trigger fails", []string{"ConditionPathExists=|/etc/present", "ConditionFileNotEmpty=/etc/empty"}, nil, False, "0 bytes"},
		{"empty assignment resets all conditions", []string{"ConditionPathExists=/etc/absent", "ConditionFileNotEmpty=", "ConditionPathExists=/etc/present"}, nil, True, ""},
		{"the reset leaves asserts", []string{"AssertPathExists=/etc/absent", "ConditionPathExists="}, nil, False, "AssertPathExists"},
		{"assert fails", []string{"AssertFileIsExecutable=/etc/present"}, nil, False, "mode 0644"},
		{"executable", []string{"ConditionFileIsExecutable=/etc/tool"}, nil, True, ""},
		{"not empty", []string{"ConditionFileNotEmpty=/etc/present"}, nil, True, ""},
		{"hidden and backup files do not count", []string{"ConditionDirectoryNotEmpty=/etc/hidden"}, nil, False, "empty"},
		{"directory not empty", []string{"ConditionDirectoryNotEmpty=/etc/dir"}, nil, True, ""},
		{"empty directory", []string{"ConditionDirectoryNotEmpty=/etc/emptydir"}, nil, False, ""},
		{"relative path ignored", []string{"ConditionPathExists=etc/absent"}, nil, True, ""},
		{"blank after ! makes a relative path", []string{"ConditionPathExists=! /etc/present"}, nil, True, ""},
		{"blank after | makes a relative path", []string{"ConditionPathExists=| /etc/absent"}, nil, True, ""},
		{"dot-dot ignored", []string{"ConditionPathExists=/etc/../absent"}, nil, True, ""},
		{"specifier", []string{"ConditionPathExists=/etc/%N"}, map[string]string{"/etc/test": "x"}, True, ""},
		{"specifier not resolved", []string{"ConditionPathExists=/etc/%H"}, nil, Unknown, "%H"},
		{"glob", []string{"ConditionPathExistsGlob=/etc/d*/f"}, nil, True, ""},
		{"glob: a leading dot is not matched by *", []string{"ConditionPathExistsGlob=/etc/hidden/*keep"}, nil, False, "matches nothing"},
		{"glob: literal dot", []string{"ConditionPathExistsGlob=/etc/hidden/.k*"}, nil, True, ""},
		{"40 links are followed", []string{"ConditionPathExists=/etc/chain/l39"}, nil, True, ""},
		{"41 links are not (ELOOP)", []string{"ConditionPathExists=/etc/chain/l40"}, nil, False, ""},
		{"glob: braces", []string{"ConditionPathExistsGlob=/etc/{absent,d{x,i}r}/f"}, nil, True, ""},
		{"glob: an unmatched brace is literal", []string{"ConditionPathExistsGlob=/etc/{present"}, nil, False, ""},
		{"glob: a name with a slash after it need not be a directory", []string{"ConditionPathExistsGlob=/etc/present{/}"}, nil, True, ""},
		{"runtime paths are not decided", []string{"ConditionPathExists=/run/foo"}, nil, Unknown, "/run"},
		{"a path fstab mounts is not decided", []string{"ConditionPathExists=!/srv/data"}, nil, Unknown, "/etc/fstab"},
		{"what tmpfiles creates is not decided", []string{"ConditionPathExists=/var/lib/made"}, nil, Unknown, "x.conf:2"},
		{"what tmpfiles creates where a glob looks is not decided", []string{"ConditionPathExistsGlob=!/var/lib/m*"}, nil, Unknown, "x.conf:2"},
		{"first boot: machine-id missing", []string{"ConditionFirstBoot=yes"}, nil, True, ""},
		{"first boot: uninitialized", []string{"ConditionFirstBoot=yes"}, map[string]string{"/etc/machine-id": "uninitialized\n"}, True, ""},
		{"first boot: set", []string{"ConditionFirstBoot=yes"}, map[string]string{"/etc/machine-id": "0123456789abcdef0123456789abcdef\n"}, False, "machine-id"},
		{"first boot: empty is not first boot in 252", []string{"ConditionFirstBoot=true"}, map[string]string{"/etc/machine-id": ""}, False, ""},
		{"first boot: not a boolean fails even negated", []string{"ConditionFirstBoot=!maybe"}, nil, False, "boolean"},
		{"virtualization yes", []string{"ConditionVirtualization=yes"}, nil, True, ""},
		{"virtualization !container", []string{"ConditionVirtualization=!container"}, nil, True, ""},
		{"virtualization no", []string{"ConditionVirtualization=no"}, nil, False, ""},
		{"virtualization private-users", []string{"ConditionVirtualization=private-users"}, nil, False, ""},
		{"hypervisor unknown", []string{"ConditionVirtualization=kvm"}, nil, Unknown, "hypervisor"},
		{"string prefixes skip blanks", []string{"ConditionVirtualization=| ! no"}, nil, True, ""},
		{"os-release", []string{"ConditionOSRelease=ID=debian VERSION_ID=12"}, nil, True, ""},
		{"os-release mismatch", []string{"ConditionOSRelease=ID=ubuntu"}, nil, False, "/etc/os-release"},
		{"os-release fnmatch", []string{"ConditionOSRelease=ID$=deb*"}, nil, True, ""},
		{"os-release versions", []string{"ConditionOSRelease=VERSION_ID>=11"}, nil, True, ""},
		{"unknown kinds are named", []string{"ConditionKernelCommandLine=quiet"}, nil, Unknown, "ConditionKernelCommandLine"},
		{"a failure decides over an unknown", []string{"ConditionKernelCommandLine=quiet", "ConditionPathExists=/etc/absent"}, nil, False, "/etc/absent"},
		{"an unknown trigger with a holding one", []string{"ConditionHost=|x", "ConditionPathExists=|/etc/present"}, nil, True, ""},
		{"an unknown trigger with failing ones", []string{"ConditionHost=|x", "ConditionPathExists=|/etc/absent"}, nil, Unknown, "ConditionHost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := root
			if c.more != nil {
				m := map[string]string{}
				for k, v := range files {
					m[k] = v
				}
				for k, v := range c.more {
					m[k] = v
				}
				r = condTree(t, m)
			}
			res, err := EvaluateConditions(FromDir(r), condUnit(c.settings...))
			if err != nil {
				t.Fatal(err)
			}
			if res.Holds != c.holds || !strings.Contains(res.String(), c.mention) {
				t.Errorf("holds %v (%s), want %v mentioning %q", res.Holds, res, c.holds, c.mention)
			}
		})
	}
}

// A unit whose condition fails is in Units with what it pulls in, which runs; the unit itself
// does not run, the verdict naming the drop-in and line.
func TestRunsSkippedUnit(t *testing.T) {
	root := condTree(t, map[string]string{
		"/usr/lib/systemd/system/a.service":                     "[Unit]\nWants=b.service\n[Service]\nExecStart=/bin/true\n",
		"/usr/lib/systemd/system/b.service":                     "[Service]\nExecStart=/bin/true\n",
		"/etc/systemd/system/a.service.d/c.conf":                "[Unit]\nConditionPathExists=/etc/absent\n",
		"/etc/systemd/system/multi-user.target.wants/a.service": "-> /usr/lib/systemd/system/a.service",
	})
	b := ReadBoot(FromDir(root))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if _, v := b.Runs("a.service"); v.Runs != False || !strings.Contains(v.Why, "/etc/systemd/system/a.service.d/c.conf:2") || !strings.Contains(v.Why, "skips") {
		t.Errorf("a.service: %+v", v)
	}
	if s, ok := b.Has("a.service"); !ok {
		t.Errorf("a.service not in Units: %+v", s)
	}
	if _, v := b.Runs("b.service"); v.Runs != True {
		t.Errorf("b.service, pulled in by a skipped unit: %+v", v)
	}
	if _, v := b.Runs("c.service"); v.Runs != False {
		t.Errorf("c.service, not pulled in: %+v", v)
	}
}

// A condition that could not be read is an error of the verdict naming the path, never a
// verdict.
func TestConditionUnreadable(t *testing.T) {
	root := condTree(t, map[string]string{
		"/usr/lib/systemd/system/a.service":                     "[Unit]\nConditionPathExists=/etc/secret/x\n[Service]\nExecStart=/bin/true\n",
		"/etc/systemd/system/multi-user.target.wants/a.service": "-> /usr/lib/systemd/system/a.service",
	})
	src := FromDir(root)
	lstat := src.Lstat
	src.Lstat = func(p string) (fs.FileInfo, error) {
		if p == "/etc/secret" {
			return nil, os.ErrPermission
		}
		return lstat(p)
	}
	b := ReadBoot(src)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	_, v := b.Runs("a.service")
	if v.Runs != Unknown || v.Err == nil || !strings.Contains(v.Err.Error(), "/etc/secret") || !errors.Is(v.Err, os.ErrPermission) {
		t.Errorf("verdict %+v", v)
	}
}

// A glob reading more entries than its bound is undecided, never a cut answer; at the bound it
// is decided. tmpfiles.d over its bound is an error.
func TestConditionBounds(t *testing.T) {
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("/d/f%d", i)] = "x"
	}
	files["/usr/lib/tmpfiles.d/a.conf"] = "d /x\nd /y\n"
	root := condTree(t, files)
	defer func(g, l int) { maxGlobEntries, maxTmpfilesLines = g, l }(maxGlobEntries, maxTmpfilesLines)
	maxGlobEntries = 10
	res, err := EvaluateConditions(FromDir(root), condUnit("ConditionPathExistsGlob=/d/nomatch*"))
	if err != nil || res.Holds != False {
		t.Errorf("at the glob bound: %v %v", res, err)
	}
	maxGlobEntries = 9
	res, err = EvaluateConditions(FromDir(root), condUnit("ConditionPathExistsGlob=/d/nomatch*"))
	if err != nil || res.Holds != Unknown || !strings.Contains(res.String(), "more than 9") {
		t.Errorf("over the glob bound: %v %v", res, err)
	}
	maxTmpfilesLines = 3 // two lines and the empty one after the last newline
	if _, err := EvaluateConditions(FromDir(root), condUnit("ConditionPathExists=/a")); err != nil {
		t.Errorf("at the tmpfiles bound: %v", err)
	}
	maxTmpfilesLines = 2
	if _, err := EvaluateConditions(FromDir(root), condUnit("ConditionPathExists=/a")); err == nil || !strings.Contains(err.Error(), "a.conf:3") {
		t.Errorf("over the tmpfiles bound: %v", err)
	}
}
