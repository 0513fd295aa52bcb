package blob

import (
	"fmt"
	"testing"
)

// parseContentRange takes a header from the network: it never panics, and what it accepts is
// a range inside its total, printed back exactly as it was read.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-65535/367001600", "bytes 4096-69631/1048576", "bytes 0-0/1", "bytes 5-4/10",
		"bytes 0-9/10", "bytes 0-10/10", "bytes */1048576", "bytes 0-1/*", "bytes 01-2/3", "bytes -1-2/3", "bytes 0-1/2;x",
		"bytes  0-1/2", "bytes 0-1/999999999999999999", "bytes 0-1/9999999999999999999", "", "bytes", "bytes 1-2", "items 0-1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, total, ok := parseContentRange(s)
		if !ok {
			return
		}
		if start < 0 || start > end || end >= total {
			t.Fatalf("%q: accepted %d-%d/%d", s, start, end, total)
		}
		if back := fmt.Sprintf("bytes %d-%d/%d", start, end, total); back != s {
			t.Fatalf("%q: read as %q", s, back)
		}
	})
}

func TestParseContentRange(t *testing.T) {
	for s, want := range map[string]bool{
		"bytes 0-65535/367001600": true, "bytes 0-0/1": true, "bytes 0-9/10": true,
		"bytes 0-10/10": false, "bytes 5-4/10": false, "bytes */10": false, "bytes 0-1/*": false, "bytes 01-2/3": false,
		"bytes +1-2/3": false, "bytes 0-1/2;x": false, "bytes  0-1/2": false, "bytes 0-1/9999999999999999999": false, "bytes 0-1/18446744073709551716": false, "": false,
	} {
		if _, _, _, ok := parseContentRange(s); ok != want {
			t.Errorf("parseContentRange(%q) ok = %v", s, ok)
		}
	}
}
