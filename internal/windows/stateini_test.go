package windows

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16le(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func utf16be(s string) []byte {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

const gen = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"

// State.ini as GetPrivateProfileString(L"State", L"ImageState") reads it.
func TestImageStateAsGetPrivateProfileString(t *testing.T) {
	for _, c := range []struct {
		name  string
		data  []byte
		value string
		line  int
		found bool
	}{
		{"UTF-16LE with its mark", utf16le("[State]\r\nImageState=" + gen + "\r\n"), gen, 2, true},
		{"UTF-16BE with its mark", utf16be("[State]\r\nImageState=" + gen + "\r\n"), gen, 2, true},
		{"UTF-8 with its mark", append([]byte{0xEF, 0xBB, 0xBF}, "[State]\nImageState="+gen+"\n"...), gen, 2, true},
		{"ANSI", []byte("[State]\nImageState=" + gen), gen, 2, true},
		{"names without case, blanks trimmed", []byte("  [state]  \n\t imagestate \t=\t " + gen + " \x1a\n"), gen, 2, true},
		{"quotes on both ends", []byte("[State]\nImageState=\"" + gen + "\"\n"), gen, 2, true},
		{"a quote on one end", []byte("[State]\nImageState=\"" + gen + "\n"), "\"" + gen, 2, true},
		{"the first key wins", []byte("[State]\nImageState=" + gen + "\nImageState=IMAGE_STATE_COMPLETE\n"), gen, 2, true},
		{"the first key wins (other order)", []byte("[State]\nImageState=IMAGE_STATE_COMPLETE\nImageState=" + gen + "\n"), "IMAGE_STATE_COMPLETE", 2, true},
		{"only the first [State] is searched", []byte("[State]\nOther=1\n[State]\nImageState=" + gen + "\n"), "", 0, false},
		{"another section", []byte("[Other]\nImageState=" + gen + "\n"), "", 0, false},
		{"before any section", []byte("ImageState=" + gen + "\n[State]\n"), "", 0, false},
		{"a comment", []byte("[State]\n;ImageState=" + gen + "\n"), "", 0, false},
		{"a section name with blanks inside the brackets", []byte("[ State ]\nImageState=" + gen + "\n"), "", 0, false},
		{"no '='", []byte("[State]\nImageState\nImageState=" + gen + "\n"), "", 2, false},
		{"a NUL ends the value", []byte("[State]\nImageState=IMAGE_STATE_COMPLETE\x00" + gen + "\n"), "IMAGE_STATE_COMPLETE", 2, true},
		{"UTF-16 without a mark is ANSI to Windows", []byte(strings.Join(strings.Split("[State]\r\nImageState="+gen+"\r\n", ""), "\x00")), "", 0, false},
		{"CR only", []byte("[State]\rImageState=" + gen + "\r"), gen, 2, true},
		{"a no-break space is a blank in 1252", []byte("[State]\nImageState=\xa0" + gen + "\n"), gen, 2, true},
		{"0x85 is not a blank in 1252", []byte("[State]\nImageState=\x85" + gen + "\n"), "\u2026" + gen, 2, true},
	} {
		v, err := ParseINIValue(c.data, "State", "ImageState")
		if err != nil || v.Value != c.value || v.Line != c.line || v.Found != c.found {
			t.Errorf("%s: %+v %v, want %q line %d found %v", c.name, v, err, c.value, c.line, c.found)
		}
	}
}

// A line over MaxINILine characters or a file over MaxINIFile bytes is an error naming the
// line and its byte offset; exactly at the bounds is read.
func TestINIBounds(t *testing.T) {
	head := "[State]\r\n"
	long := utf16le(head + "X=" + strings.Repeat("a", MaxINILine) + "\r\nImageState=" + gen + "\r\n")
	_, err := ParseINIValue(long, "State", "ImageState")
	if err == nil || !strings.Contains(err.Error(), "line 2 (at byte offset 20)") {
		t.Errorf("a line over %d characters: %v", MaxINILine, err)
	}
	exact := utf16le(head + "X=" + strings.Repeat("a", MaxINILine-4) + "\r\nImageState=" + gen + "\r\n")
	if v, err := ParseINIValue(exact, "State", "ImageState"); err != nil || v.Value != gen {
		t.Errorf("a line of exactly %d characters: %+v %v", MaxINILine, v, err)
	}
	if _, err := ParseINIValue(make([]byte, MaxINIFile+1), "State", "ImageState"); err == nil {
		t.Errorf("a file over %d bytes read", MaxINIFile)
	}
	if _, err := ParseINIValue([]byte(strings.Repeat("\n", MaxINIFile)), "State", "ImageState"); err != nil {
		t.Errorf("a file of exactly %d bytes: %v", MaxINIFile, err)
	}
}

func FuzzParseINIValue(f *testing.F) {
	for _, s := range [][]byte{utf16le("[State]\r\nImageState=" + gen + "\r\n"), utf16be("[State]\nImageState=x"), []byte("[State]\nImageState=\"a\"\n[x"), {0xFF, 0xFE, 0x00, 0xD8, 0x41}, {0xEF, 0xBB, 0xBF, 0xff}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseINIValue(data, "State", "ImageState")
		if err == nil && v.Found && v.Line < 1 {
			t.Fatalf("found without a line: %+v", v)
		}
	})
}

func TestParseHosts(t *testing.T) {
	got, err := ParseHosts("hosts", []byte("# comment\r\n  # indented comment\r\n\r\n10.0.0.5   build.internal  ci\r\n127.0.0.1\n"))
	if err != nil || len(got) != 2 || got[0].Line != 4 || got[0].Names != "build.internal ci" || got[1].Line != 5 || got[1].Names != "" {
		t.Errorf("ParseHosts = %+v, %v", got, err)
	}
	if _, err := ParseHosts("hosts", make([]byte, MaxHostsFile+1)); err == nil {
		t.Error("a HOSTS file over the bound was read")
	}
	if _, err := ParseHosts("hosts", make([]byte, MaxHostsFile)); err != nil {
		t.Errorf("a HOSTS file at the bound: %v", err)
	}
}
