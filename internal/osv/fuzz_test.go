package osv

import (
	"bytes"
	"os"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
)

// FuzzParse: any bytes give a record or an error naming the file, never a panic; a record
// parsed evaluates without panicking under every order.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/ubuntu/USN-6986-1.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(dsa))
	f.Add([]byte(`{"id":"X","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"limit":"*"}]}],"versions":["1"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("f.json", data)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("f.json")) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for _, a := range r.Affected {
			for _, s := range []pkgver.Scheme{pkgver.SchemeDebian, pkgver.SchemeRPM, pkgver.SchemeAlpine} {
				a.Evaluate("1.0-1", s)
			}
		}
	})
}
