package problems

import (
	"errors"
	"io/fs"
	"testing"
)

func TestList(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("no problems is no error")
	}
	l = append(l, errors.New("/etc/a: line 3 over 65536 bytes"), fs.ErrNotExist)
	err := l.Err()
	if err == nil || err.Error() != "/etc/a: line 3 over 65536 bytes; file does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%v", err)
	}
}
