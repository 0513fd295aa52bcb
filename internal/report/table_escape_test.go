package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// A file name, a note, a label or a ledger line holding terminal control sequences (R1's
// x\e[2J\e[32mPASS\e[0m.conf) is written escaped: the table drives no terminal and no line of it
// is forged. Every field of the table goes through termSafe.
func TestTableEscapesControlCharacters(t *testing.T) {
	evil := "x\x1b[2J\x1b[32mPASS\x1b[0m.conf"
	r := &Report{
		Image: ImageInfo{Path: "/img/" + evil, Format: "raw", PartitionTable: "gpt", Root: "partition 2\x07",
			OS: "Debian\u202e", Partitions: []PartitionInfo{{Number: 1, Kind: "ext4", Label: "l\x1b]0;t\x07"}}},
		Findings: []Finding{{
			Rule: "no-hardcoded-credentials", Title: "Title\u009b2J\x9b", Status: rules.Fail, Severity: rules.Critical,
			Message:  "found in " + evil + "\nPASS critical fake line",
			Evidence: []rules.Evidence{{Path: "/srv/" + evil, Line: 3, Detail: "AWS key \xff\xfe"}},
			Fix:      "remove " + evil,
		}},
		Notes: []string{"note " + evil},
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !utf8.ValidString(out) {
		t.Errorf("the table holds bytes that are not UTF-8:\n%q", out)
	}
	for _, c := range []string{"\x1b", "\x07", "\x9b", "\u009b", "\u202e", "\xff"} {
		if strings.Contains(out, c) {
			t.Errorf("the table holds %q raw:\n%s", c, out)
		}
	}
	if strings.Contains(out, "\nPASS critical fake line") {
		t.Errorf("a newline in a message forged a line of the table:\n%s", out)
	}
	for _, want := range []string{`/srv/x\x1b[2J\x1b[32mPASS\x1b[0m.conf:3: AWS key \xff\xfe`, `Debian\u202e`, `Title\u009b2J\x9b`, `note x\x1b[2J`, `label "l\x1b]0;t\a"`, `fake line`} {
		if !strings.Contains(out, want) {
			t.Errorf("the table does not name %s:\n%s", want, out)
		}
	}
}

// Text without anything to escape is written as it is (no copy, the same bytes), U+FFFD and
// other printable non-ASCII characters included.
func TestTermSafeKeepsPrintableText(t *testing.T) {
	for _, s := range []string{"", "/etc/app.conf", `C:\Windows`, "café ünïcode 日本 \ufffd", "partition 3:/x [xattr user.k]"} {
		if got := termSafe(s); got != s {
			t.Errorf("termSafe(%q) = %q", s, got)
		}
	}
	for in, want := range map[string]string{"a\tb": `a\x09b`, "\x7f": `\x7f`, "\u0085": `\u0085`, "\u2066x\u2069": `\u2066x\u2069`, "a\xc3": `a\xc3`} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
