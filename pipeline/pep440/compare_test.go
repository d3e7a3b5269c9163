package pep440

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// pepOrder is the ordering example from PEP 440 ("Summary of permitted
// suffixes and relative ordering"), extended with epochs and local versions.
var pepOrder = []string{
	"1.dev0",
	"1.0.dev456",
	"1.0a1",
	"1.0a2.dev456",
	"1.0a12.dev456",
	"1.0a12",
	"1.0b1.dev456",
	"1.0b2",
	"1.0b2.post345.dev456",
	"1.0b2.post345",
	"1.0rc1.dev456",
	"1.0rc1",
	"1.0",
	"1.0+abc.5",
	"1.0+abc.7",
	"1.0+5",
	"1.0.post456.dev34",
	"1.0.post456",
	"1.0.15",
	"1.1.dev1",
	"1.1",
	"2.0",
	"1!0.1",
	"1!1.0.dev1",
	"1!1.0",
}

func TestCompareTotalOrder(t *testing.T) {
	vs := make([]Version, len(pepOrder))
	for i, s := range pepOrder {
		vs[i] = MustParse(s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := Compare(vs[i], vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", pepOrder[i], pepOrder[j], got, want)
			}
		}
	}
	shuffled := slices.Clone(vs)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.SortFunc(shuffled, Compare)
	for i := range shuffled {
		if shuffled[i].String() != vs[i].String() {
			t.Fatalf("sorted[%d] = %s, want %s", i, shuffled[i], vs[i])
		}
	}
}

func TestCompareEqualities(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0.0", 0},
		{"1", "1.0.0.0", 0},
		{"1.0a1", "1.0.0a1", 0},
		{"1.0.0+a", "1.0+a", 0},
		{"0!1.0", "1.0", 0},
		{"1.0.dev0", "1.0a0", -1},
		{"1.0.post0.dev0", "1.0", 1},
		{"1.0.post0.dev0", "1.0.post0", -1},
		{"1.0+a", "1.0+a.0", -1},
		{"1.0+a", "1.0+b", -1},
		{"1.0+1", "1.0+a", 1},
		{"1.0+10", "1.0+9", 1},
		{"1.10", "1.9", 1},
		{"1.0a10", "1.0a9", 1},
		{"1.0rc1", "1.0c1", 0},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := Compare(a, b); got != tt.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Compare(b, a); got != -tt.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
