package filesystem

import "testing"

// DataAfter skips holes and unwritten extents, never past written data.
func TestDataAfter(t *testing.T) {
	r := &ExtentReader{BlockSize: 1024, Size: 100 << 10, Extents: []Extent{
		{Logical: 2, Length: 2},                   // bytes 2048-4095
		{Logical: 10, Length: 5, Unwritten: true}, // preallocated: zeros
		{Logical: 20, Length: 1},                  // bytes 20480-21503
		{Logical: 200, Length: 1},                 // past Size: never read
	}}
	for _, c := range []struct{ off, want int64 }{
		{0, 2048}, {2047, 2048}, {2048, 2048}, {3000, 3000}, {4095, 4095},
		{4096, 20480}, {10 << 10, 20480}, {21503, 21503}, {21504, 100 << 10}, {200 << 10, 100 << 10},
	} {
		if got := r.DataAfter(c.off); got != c.want {
			t.Errorf("DataAfter(%d) = %d, want %d", c.off, got, c.want)
		}
	}
}
