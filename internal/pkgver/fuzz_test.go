package pkgver

import "testing"

// FuzzOrders: every order is total on any input (antisymmetric, reflexive), never panics,
// and Valid never panics either.
func FuzzOrders(f *testing.F) {
	for _, s := range [][2]string{
		{"1:2.3-4", "1:2.3~rc1-4"}, {"1.0^git1", "1.0"}, {"1.0_alpha-r1", "1.0"}, {"", "0"},
		{"1.05", "1.5"}, {"0:1-1.el9", "1-1.el9_3"}, {"2.3.0b-r1", "2.3.0b-r2"}, {"~~", "~"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []Scheme{SchemeDebian, SchemeRPM, SchemeAlpine} {
			ab, ba := s.Compare(a, b), s.Compare(b, a)
			if ab != -ba {
				t.Errorf("%s: Compare(%q, %q) = %d but Compare(%q, %q) = %d", s, a, b, ab, b, a, ba)
			}
			if c := s.Compare(a, a); c != 0 {
				t.Errorf("%s: Compare(%q, %q) = %d", s, a, a, c)
			}
			_ = s.Valid(a)
		}
	})
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		s  Scheme
		v  string
		ok bool
	}{
		{SchemeDebian, "1:2.3-4+deb12u1", true}, {SchemeDebian, "2.3~rc1", true},
		{SchemeDebian, "a1.0", false}, {SchemeDebian, "x:1.0", false}, {SchemeDebian, "1.0-", false},
		{SchemeDebian, "1.0 2", false}, {SchemeDebian, "", false}, {SchemeDebian, "1.0-a_b", false},
		{SchemeRPM, "0:1.2-3.el9", true}, {SchemeRPM, "1.2", true}, {SchemeRPM, "1.2-", false}, {SchemeRPM, "", false},
		{SchemeAlpine, "1.2.3_rc1-r0", true}, {SchemeAlpine, "1.2.3_foo", false}, {SchemeAlpine, "", false},
		{SchemeAlpine, "1.123456789012345678", false}, {SchemeAlpine, "1.12345678901234567", true},
	} {
		if err := c.s.Valid(c.v); (err == nil) != c.ok {
			t.Errorf("%s.Valid(%q) = %v, want ok=%v", c.s, c.v, err, c.ok)
		}
	}
}
