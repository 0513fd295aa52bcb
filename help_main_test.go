package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binary a user runs: help on stdout with status 0 however it is asked for, every command
// listed; Packer's describe still answers with JSON; an unknown command is an error with the help.
func TestTopLevelHelp(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "packer-plugin-marketplace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		c := exec.Command(bin, args...)
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	for _, args := range [][]string{nil, {"--help"}, {"-h"}, {"help"}, {"-help"}} {
		code, out, errs := run(args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: status %d, stderr %q", args, code, errs)
		}
		for _, cmd := range []string{"check", "rules", "harden", "describe", "start"} {
			if !strings.Contains(out, "\n  "+cmd+" ") {
				t.Errorf("%q: %s not listed:\n%s", args, cmd, out)
			}
		}
	}
	for _, c := range []struct {
		cmd  string
		args []string
	}{
		{"check", []string{"check", "--help"}}, {"check", []string{"check", "-h"}}, {"check", []string{"help", "check"}},
		{"rules", []string{"rules", "--help"}}, {"harden", []string{"harden", "--help"}}, {"harden", []string{"help", "harden"}},
	} {
		code, out, errs := run(c.args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: packer-plugin-marketplace "+c.cmd) || !strings.Contains(out, "flags:") {
			t.Errorf("%q: status %d\nstdout %q\nstderr %q", c.args, code, out, errs)
		}
	}
	code, out, _ := run("describe")
	var d struct {
		PostProcessors []string `json:"post_processors"`
		Provisioners   []string `json:"provisioners"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.PostProcessors) != 1 || d.PostProcessors[0] != "check" || d.Provisioners[0] != "harden" {
		t.Errorf("describe: %d %q", code, out)
	}
	if code, out, errs := run("chekc"); code != 2 || out != "" || !strings.Contains(errs, `unknown command "chekc"`) || !strings.Contains(errs, "  check ") {
		t.Errorf("unknown command: %d %q %q", code, out, errs)
	}
}
