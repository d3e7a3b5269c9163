package charset

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// Each check is its regular expression, over random text of the bytes that
// matter (class edges, separators, controls, non-ASCII) and every length
// around the bounds.
func TestChecksAreTheirExpressions(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		check func(string) bool
	}{
		{`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`, func(s string) bool { return Spans(s, 1, 128, Alnum(""), Alnum("_.-"), Alnum("_.-")) }},
		{`^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$`, func(s string) bool { return Spans(s, 1, 128, Alnum(""), Alnum("._-"), Alnum("")) }},
		{`^[0-9][A-Za-z0-9.+!_-]{0,63}$`, func(s string) bool { return Spans(s, 1, 64, Digits(""), Alnum(".+!_-"), Alnum(".+!_-")) }},
		{`^[A-Za-z0-9._-]{1,128}$`, func(s string) bool { return All(s, 1, 128, Alnum("._-")) }},
		{`^[0-9]{0,3}$`, func(s string) bool { return All(s, 0, 3, Digits("")) }},
	} {
		re := regexp.MustCompile(tc.expr)
		rng := rand.New(rand.NewPCG(3, 4))
		const alphabet = "aZz09AM._-+!/ :\n\x00\x7f\xc3\xa9@~"
		for i := range 20000 {
			n := rng.IntN(140)
			if i%4 == 0 {
				n = rng.IntN(4)
			}
			b := make([]byte, n)
			for j := range b {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
			if i%3 == 0 { // mostly valid bytes, so long valid strings occur
				for j := range b {
					b[j] = "abcXYZ0189"[rng.IntN(10)]
				}
				if n > 0 && rng.IntN(2) == 0 {
					b[rng.IntN(n)] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			s := string(b)
			if got, want := tc.check(s), re.MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, the expression says %v", tc.expr, s, got, want)
			}
		}
	}
}

func TestClassHas(t *testing.T) {
	c := Alnum("._")
	for _, tc := range []struct {
		b    byte
		want bool
	}{{'a', true}, {'Z', true}, {'5', true}, {'.', true}, {'_', true}, {'-', false}, {' ', false}, {0xc3, false}, {0, false}} {
		if got := c.Has(tc.b); got != tc.want {
			t.Errorf("Has(%q) = %v", tc.b, got)
		}
	}
	if Digits("").Has('a') || !Digits(".").Has('.') || (Class{Letters: true}).Has('1') {
		t.Error("Digits or letters-only class wrong")
	}
}
