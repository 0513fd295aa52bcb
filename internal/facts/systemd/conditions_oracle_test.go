package systemd

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The evaluation agrees with systemd's own: `systemd-analyze condition` (systemd 252) tests
// the same generated condition lists on generated trees. Its --root= does not reach the path
// tests in 252 (condition_test_path_* test the host's paths), so it is given the trees' host
// paths and the evaluator the tree as an image. Lists the evaluator leaves undecided are not
// compared (path conditions on a tree without fstab, tmpfiles.d or runtime paths are all
// decided, which the test checks).
func TestConditionsAgreeWithSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	rng := rand.New(rand.NewSource(252))
	names := []string{"a", "b", "c", "d/e", "d/.h", "d/f~", "g/x.dpkg-old", "g/.k", "l1", "l2", "l3", "ex", "em", "dd"}
	kinds := []string{"PathExists", "PathExistsGlob", "PathIsDirectory", "PathIsSymbolicLink", "DirectoryNotEmpty", "FileNotEmpty", "FileIsExecutable", "PathIsMountPoint", "PathIsReadWrite"}
	globs := []string{"/d/*", "/d/.*", "/g/*", "/?", "/l*/e", "/d/[!e]", "/[ab]", "/*/e", "/nope*", "/g/x.*", "/l\\1",
		"/{a,b}", "/d/{e,.h}", "/{d,g}/*", "/{}", "/{l1,nope}/e", "/{a", "/x{,y}", "/{d/{e,z},q}", "/l{1,2}/", "/\\{a,b}", "/a{/}", "/l1{/}", "/d/e{/}"}
	compared := 0
	for round := range 30 {
		root := t.TempDir()
		// the tree: each name a directory, a file (empty, not, executable), a relative link
		// (to a name or nothing) or absent
		for _, n := range names {
			h := filepath.Join(root, n)
			if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
				t.Fatal(err)
			}
			switch rng.Intn(7) {
			case 0:
				err = os.MkdirAll(h, 0o755)
			case 1:
				err = os.WriteFile(h, nil, 0o644)
			case 2:
				err = os.WriteFile(h, []byte("x"), 0o644)
			case 3:
				err = os.WriteFile(h, []byte("x"), 0o755)
			case 4:
				target := names[rng.Intn(len(names))]
				if strings.Contains(n, "/") {
					target = "../" + target
				}
				err = os.Symlink(target, h)
			case 5:
				err = os.Symlink("missing", h)
			}
			if err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
		for range 8 {
			var settings, args []string
			for range 1 + rng.Intn(4) {
				kind := kinds[rng.Intn(len(kinds))]
				p := "/" + names[rng.Intn(len(names))]
				if rng.Intn(4) == 0 {
					p += "/e"
				}
				if kind == "PathExistsGlob" {
					p = globs[rng.Intn(len(globs))]
				}
				if kind == "PathIsReadWrite" && rng.Intn(2) == 0 {
					p = "/nope"
				}
				if kind == "PathIsMountPoint" {
					p = "/nope/x"
				}
				switch rng.Intn(12) {
				case 0:
					p += "/" // simplified away
				case 1:
					p = "/d/.." + p // not normalized: ignored
				case 2:
					p = strings.Replace(p, "/", "//", 1)
				}
				prefix := []string{"", "!", "|", "|!", "| ", "! ", ""}[rng.Intn(7)]
				key := "Condition"
				if rng.Intn(5) == 0 {
					key = "Assert"
				}
				settings = append(settings, key+kind+"="+prefix+p)
				args = append(args, key+kind+"="+prefix+root+p)
				if rng.Intn(8) == 0 { // an empty assignment: the whole list of its kind is reset
					settings = append(settings, key+kinds[rng.Intn(len(kinds))]+"=")
					args = append(args, settings[len(settings)-1])
				}
			}
			u := condUnit(settings...)
			res, err := EvaluateConditions(FromDir(root), u)
			if err != nil {
				t.Fatalf("round %d %v: %v", round, settings, err)
			}
			cmd := exec.Command(analyze, append([]string{"condition"}, args...)...)
			text, err := cmd.CombinedOutput()
			holds := err == nil
			if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
				t.Fatalf("%v: %v %s", args, err, text)
			}
			if res.Holds == Unknown {
				// only PathIsReadWrite on an existing path is undecided here
				if res.Deciding == nil || res.Deciding.Type != "PathIsReadWrite" {
					t.Errorf("round %d %v: undecided: %s", round, settings, res)
				}
				continue
			}
			compared++
			if (res.Holds == True) != holds {
				t.Errorf("round %d %v: evaluated %s (%s); systemd-analyze: %s", round, settings, res.Holds, res, text)
			}
		}
	}
	if compared < 120 {
		t.Errorf("only %d lists compared", compared)
	}
}
