package pep440

import "testing"

// FuzzParse checks that Parse never panics and that the canonical form of
// anything it accepts parses back to an equal version with the same text.
func FuzzParse(f *testing.F) {
	for _, s := range pepOrder {
		f.Add(s)
	}
	for _, s := range []string{"v1.0-Alpha.1_post-2.DEV", "1.0+Ubuntu_1", "1.0-1", "1!2.3", " 1.0 ", "1.0.post"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plain, ok := parsePlain(s); ok {
			full, err := parseFull(s)
			if err != nil || full.String() != plain.String() {
				t.Fatalf("fast path gives %q for %q, the pattern %q (%v)", plain, s, full, err)
			}
		}
		v, err := Parse(s)
		if err != nil {
			return
		}
		canon := v.String()
		w, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if w.String() != canon || Compare(v, w) != 0 {
			t.Fatalf("round trip of %q: %q vs %q", s, canon, w.String())
		}
		_ = v.IsPrerelease()
	})
}

// FuzzSpecifiers checks that ParseSpecifiers and matching never panic and
// that the normalised form parses back to the same set.
func FuzzSpecifiers(f *testing.F) {
	for _, s := range []string{">=1.0,<2", "~=1.4.5a4", "==1.1.*", "!=1.1+local", "===foo", "<1.7rc1", ">1.7.post2"} {
		f.Add(s, "1.5")
	}
	f.Fuzz(func(t *testing.T, spec, version string) {
		ss, err := ParseSpecifiers(spec)
		if err != nil {
			return
		}
		again, err := ParseSpecifiers(ss.String())
		if err != nil || again.String() != ss.String() {
			t.Fatalf("normalised %q of %q does not round-trip: %v", ss.String(), spec, err)
		}
		if v, err := Parse(version); err == nil {
			_ = ss.Contains(v, false)
			_ = ss.Filter([]Version{v}, false)
		}
	})
}
