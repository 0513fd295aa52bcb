package ec2launch

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
)

// Task is what the Task Scheduler reads of a registered task's definition (the task XML under
// Windows\System32\Tasks, schema http://schemas.microsoft.com/windows/2004/02/mit/task): whether
// the task is enabled (Settings/Enabled, true when absent) and whether a boot trigger (an
// enabled BootTrigger, "At startup") starts it.
type Task struct {
	Enabled     bool
	BootTrigger bool
}

// MaxTaskFile bounds a task definition read (Windows writes a few KiB).
const MaxTaskFile = 1 << 20

type taskXML struct {
	XMLName  xml.Name `xml:"Task"`
	Triggers struct {
		Boot []struct {
			Enabled *string `xml:"Enabled"`
		} `xml:"BootTrigger"`
	} `xml:"Triggers"`
	Settings struct {
		Enabled *string `xml:"Enabled"`
	} `xml:"Settings"`
}

// xsBool reads an xs:boolean ("true", "false", "1", "0", surrounding spaces allowed); absent is
// def.
func xsBool(s *string, def bool) (bool, error) {
	if s == nil {
		return def, nil
	}
	switch strings.TrimSpace(*s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not an xs:boolean", *s)
}

// ParseTask reads a task definition: UTF-16LE with its byte-order mark, as the Task Scheduler
// writes it, or UTF-8. An error names the file and, for XML it cannot read, the byte offset.
func ParseTask(name string, b []byte) (Task, error) {
	if len(b) > MaxTaskFile {
		return Task{}, byteio.Corrupt(name, MaxTaskFile, "task definition larger than %d bytes", MaxTaskFile)
	}
	text := b
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		text = []byte(byteio.UTF16(b[2:]))
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		text = b[3:]
	}
	d := xml.NewDecoder(bytes.NewReader(text))
	// the declaration says UTF-16 for a file already decoded here
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-16", "utf-16le", "utf-8", "us-ascii":
			return r, nil
		}
		return nil, fmt.Errorf("encoding %q", charset)
	}
	var x taskXML
	if err := d.Decode(&x); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return Task{}, byteio.Corrupt(name, d.InputOffset(), "task definition: line %d: %s", se.Line, se.Msg)
		}
		return Task{}, byteio.Corrupt(name, d.InputOffset(), "task definition: %v", err)
	}
	var t Task
	var err error
	if t.Enabled, err = xsBool(x.Settings.Enabled, true); err != nil {
		return Task{}, byteio.Corrupt(name, 0, "Settings/Enabled: %v", err)
	}
	for _, bt := range x.Triggers.Boot {
		on, err := xsBool(bt.Enabled, true)
		if err != nil {
			return Task{}, byteio.Corrupt(name, 0, "BootTrigger/Enabled: %v", err)
		}
		t.BootTrigger = t.BootTrigger || on
	}
	return t, nil
}
