package boot

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grubScriptOracleCases sizes the generated corpus of TestGrubScriptMatchesGrubScriptCheck.
const grubScriptOracleCases = 600

// genGrubScript writes a GRUB script from the pieces its lexer and parser are strict or lenient
// about: comments where a word starts and inside words, quotes and escapes, variable references
// good and bad, braces, pipes and redirections, ';' and empty commands, reserved words, and the
// compound commands (if, for, while, menuentry, submenu, function), empty and not.
func genGrubScript(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	// or is good, or one time in thirty one of the bad forms
	or := func(good string, bad ...string) string {
		if r.IntN(30) == 0 {
			return pick(bad...)
		}
		return good
	}
	word := func() string {
		if r.IntN(60) > 0 {
			return pick("ro", "quiet", "console=ttyS0", "/vmlinuz", "root=UUID=x", "a#b", "x=1", "'q w'", `"d $x"`, `"${y}"`, "$1", "$?", "${10}", `\#`, "--", "!", "[", "]", "=", "then", "fi")
		}
		return pick("#c", "${}", "$", "a$", "${a-b}", "$-", "{", "}", "a{", "}b", "|", "&", ">", "<", "[[", "]]", `"open`, "'open", `\`, `"$"`, "$$", `a\|b`, `"a|b"`, "'${'", "${_a}", "$x$y")
	}
	var simple func() string
	simple = func() string {
		parts := []string{pick("echo", "linux", "set", "insmod", "search", "initrd", "x=1", "true", "[", "load_env")}
		for i := r.IntN(4); i > 0; i-- {
			parts = append(parts, word())
		}
		return strings.Join(parts, pick(" ", " ", "\t"))
	}
	sep := func() string { return or(pick("\n", "; ", ";", "\n\n", " ;\n"), ";;", " ; ;") }
	var command func(depth int, inFunc bool) string
	body := func(depth int, inFunc bool) string {
		var b strings.Builder
		n := 1 + r.IntN(2)
		if r.IntN(30) == 0 {
			n = 0 // an empty body
		}
		for i := n; i > 0; i-- {
			b.WriteString(command(depth+1, inFunc))
			if i > 1 || r.IntN(6) > 0 {
				b.WriteString(sep())
			} else {
				b.WriteString(" ") // no delimiter before the closing word
			}
		}
		return b.String()
	}
	command = func(depth int, inFunc bool) string {
		if depth > 1 {
			return simple()
		}
		switch r.IntN(9) {
		case 0:
			s := "if " + pick("true", "[ a = a ]", "false", "[ -n \"$x\" ]") + sep() + "then" + pick(" ", "\n") + body(depth, inFunc)
			if r.IntN(3) == 0 {
				s += "elif true" + sep() + "then " + body(depth, inFunc)
			}
			if r.IntN(3) == 0 {
				s += "else" + pick(" ", "\n") + body(depth, inFunc)
			}
			return s + or("fi", "")
		case 1:
			return or(pick("for i in a b", "while true", "until false"), "for i", "for 1 in a") + sep() + "do " + body(depth, inFunc) + or("done", "")
		case 2, 3:
			kw := pick("menuentry", "menuentry", "submenu")
			return kw + " " + pick("'Debian'", "x", "\"a b\"", "") + pick("", " --class os", " --id e") + " {" + pick(" ", "\n") + body(depth, inFunc) + or(pick("}", " }", "\n}"), "} x", "")
		case 4:
			return "function " + or(pick("f", "g"), "\"f\"", "f g", "") + " {" + pick(" ", "\n") + body(depth, true) + or(pick("}", " }", "\n}"), "")
		default:
			return simple()
		}
	}
	var b strings.Builder
	for i := 1 + r.IntN(2); i > 0; i-- {
		b.WriteString(command(0, false))
		b.WriteString(sep())
	}
	if r.IntN(30) == 0 {
		b.WriteString(pick("\\\n", "# end", "'", "\\"))
	}
	return b.String()
}

var syntaxErrorLine = regexp.MustCompile(`Syntax error at line (\d+)`)

// grubScriptCheck runs grub-script-check on a script when it is installed: an error when GRUB
// refuses it, or when our parser disagrees.
func grubScriptCheck(t *testing.T, script string) error {
	_, ours := parseGrub("script", []byte(script))
	check, err := exec.LookPath("grub-script-check")
	if err != nil {
		return ours
	}
	p := filepath.Join(t.TempDir(), "script.cfg")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		return err
	}
	out, _ := exec.Command(check, p).CombinedOutput()
	if syntaxErrorLine.Match(out) || ours != nil {
		return fmt.Errorf("grub-script-check: %s; ours: %v", strings.TrimSpace(string(out)), ours)
	}
	return nil
}

// TestGrubScriptMatchesGrubScriptCheck compares the lexer and parser (what GRUB would refuse
// to run) with GRUB's own, run as grub-script-check (grub-common 2.06), on generated scripts:
// each is refused by both or by neither.
func TestGrubScriptMatchesGrubScriptCheck(t *testing.T) {
	check, err := exec.LookPath("grub-script-check")
	if err != nil {
		t.Skip("grub-script-check not installed (apt-get install grub-common)")
	}
	r := rand.New(rand.NewPCG(26, 4))
	dir := t.TempDir()
	refused, bad := 0, 0
	for i := 0; i < grubScriptOracleCases; i++ {
		script := genGrubScript(r)
		p := filepath.Join(dir, fmt.Sprintf("s%d.cfg", i))
		if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(check, p).CombinedOutput()
		grubRefuses := syntaxErrorLine.Match(out)
		_, ours := parseGrub("s.cfg", []byte(script))
		if grubRefuses != (ours != nil) {
			bad++
			if bad <= 25 {
				t.Errorf("case %d %q: grub-script-check: %s; ours: %v", i, script, strings.TrimSpace(string(out)), ours)
			}
			continue
		}
		if grubRefuses {
			refused++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d generated scripts disagree", bad, grubScriptOracleCases)
	}
	t.Logf("%d generated scripts agree with grub-script-check (%d refused by both)", grubScriptOracleCases, refused)
}
