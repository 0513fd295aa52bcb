package initrd

import (
	"bytes"
	"crypto/sha256"
	"io"
	"reflect"
	"testing"
)

// A shared listing stands only for the bytes it was made from: for those it is taken (and
// nothing is decompressed), for a file that differs in one byte or in its size List lists the
// file, and an error of open is the listing's error.
func TestSharedListingIsOnlyForItsBytes(t *testing.T) {
	one := archive(t, []string{"a/one.ko"}, "gzip", "-c")
	names, formats, err := List(bytes.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	planted := []string{"planted"} // what the rules get when they take the shared listing
	shared := &Shared{Listing: Listing{Names: planted, Formats: formats}, Size: int64(len(one)), SHA256: sha256.Sum256(one)}
	opener := func(b []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	before := Decompressed()
	if l := shared.List(opener(one)); !reflect.DeepEqual(l.Names, planted) || Decompressed() != before {
		t.Fatalf("the listing of the same bytes is not taken: %v (%d decompressed)", l.Names, Decompressed()-before)
	}
	changed := bytes.Clone(one)
	changed[len(changed)/2] ^= 1
	for name, b := range map[string][]byte{
		"another file":     archive(t, []string{"b/two.ko"}, "gzip", "-c"),
		"one byte changed": changed,
		"a byte more":      append(bytes.Clone(one), 0),
		"one byte less":    one[:len(one)-1],
	} {
		before := Decompressed()
		l := shared.List(opener(b))
		if reflect.DeepEqual(l.Names, planted) || Decompressed() != before+1 {
			t.Errorf("%s: the shared listing is taken for it: %v", name, l.Names)
		}
		wn, wf, werr := List(bytes.NewReader(b))
		if !reflect.DeepEqual(l, Listing{Names: wn, Formats: wf, Err: werr}) {
			t.Errorf("%s: %v %v %v, List gives %v %v %v", name, l.Names, l.Formats, l.Err, wn, wf, werr)
		}
	}
	var nilShared *Shared
	if l := nilShared.List(opener(one)); !reflect.DeepEqual(l.Names, names) || l.Err != nil {
		t.Errorf("no shared listing: %v %v, want List's %v", l.Names, l.Err, names)
	}
	openErr := io.ErrClosedPipe
	fail := func() (io.ReadCloser, error) { return nil, openErr }
	if l := shared.List(fail); l.Err != openErr {
		t.Errorf("an error of open is not the listing's: %v", l.Err)
	}
}
