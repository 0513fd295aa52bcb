package ec2launch

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// utf16File is text as the Task Scheduler writes it: UTF-16LE with a byte-order mark.
func utf16File(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TaskXML is a task definition with the given Settings/Enabled and BootTrigger/Enabled ("" leaves
// the element out; "none" leaves the trigger out).
func TaskXML(settings, boot string) string {
	s := `<?xml version="1.0" encoding="UTF-16"?>` + "\r\n" + `<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Triggers>`
	switch boot {
	case "none":
	case "":
		s += `<BootTrigger/>`
	default:
		s += `<BootTrigger><Enabled>` + boot + `</Enabled></BootTrigger>`
	}
	s += `</Triggers><Settings>`
	if settings != "" {
		s += `<Enabled>` + settings + `</Enabled>`
	}
	return s + `</Settings><Actions Context="Author"><Exec><Command>C:\Windows\System32\cmd.exe</Command></Exec></Actions></Task>`
}

func TestParseTask(t *testing.T) {
	for _, c := range []struct {
		settings, boot   string
		enabled, trigger bool
	}{
		{"", "", true, true},
		{"true", "true", true, true},
		{"false", "", false, true},
		{" 0 ", "1", false, true},
		{"", "false", true, false},
		{"", "none", true, false},
	} {
		for _, enc := range []string{"utf-16", "utf-8"} {
			x := TaskXML(c.settings, c.boot)
			b := utf16File(x)
			if enc == "utf-8" {
				b = []byte(strings.Replace(x, "UTF-16", "UTF-8", 1))
			}
			got, err := ParseTask("task", b)
			if err != nil || got.Enabled != c.enabled || got.BootTrigger != c.trigger {
				t.Errorf("%s settings %q boot %q: %+v %v", enc, c.settings, c.boot, got, err)
			}
		}
	}
	for _, bad := range []string{TaskXML("maybe", ""), "<Task><Settings>", "not xml", `<Other/>`} {
		_, err := ParseTask("Tasks/x", utf16File(bad))
		if err == nil || !strings.Contains(err.Error(), "Tasks/x") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := ParseTask("t", make([]byte, MaxTaskFile+1)); err == nil {
		t.Error("an over-long task file is read")
	}
}

func FuzzParseTask(f *testing.F) {
	f.Add(utf16File(TaskXML("false", "")))
	f.Add([]byte(TaskXML("", "none")))
	f.Add([]byte{0xFF, 0xFE, '<', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseTask("fuzz", b) // must not panic or hang; errors are fine
	})
}
