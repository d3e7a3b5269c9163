package median

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want int
	}{
		{nil, 0},
		{[]int{7}, 7},
		{[]int{3, 1, 2}, 2},
		{[]int{4, 1, 3, 2}, 3}, // the upper middle
		{[]int{5, 5, 1, 9, 9}, 5},
	} {
		if got := Of(c.in); got != c.want {
			t.Errorf("Of(%v) = %d, want %d", c.in, got, c.want)
		}
	}
	in := []int{3, 1, 2}
	Of(in)
	if in[0] != 3 || in[1] != 1 {
		t.Errorf("Of sorted its argument: %v", in)
	}
}

// The orders are the sign test's, as printed in tables of it (e.g. n = 9:
// the 2nd smallest and 2nd largest, n = 20: the 6th).
func TestCIOrder(t *testing.T) {
	for _, c := range []struct{ n, k int }{
		{0, 0}, {5, 0}, {6, 1}, {8, 1}, {9, 2}, {10, 2}, {15, 4}, {20, 6}, {41, 14}, {100, 40},
	} {
		if got := ciOrder(c.n); got != c.k {
			t.Errorf("ciOrder(%d) = %d, want %d", c.n, got, c.k)
		}
	}
}

func TestCIBoundsAreSamples(t *testing.T) {
	xs := []time.Duration{9, 1, 8, 2, 7, 3, 6, 4, 5} // 1..9
	lo, hi, ok := CI(xs)
	if !ok || lo != 2 || hi != 8 {
		t.Errorf("CI(1..9) = %v, %v, %v; want 2, 8, true", lo, hi, ok)
	}
	if _, _, ok := CI([]float64{1, 2, 3, 4, 5}); ok {
		t.Error("CI of 5 samples is ok; no 95 % interval exists for 5")
	}
}

// TestCICoversTheMedian draws many samples from skewed distributions with
// a known median and checks that the interval holds it in about 95 % of
// draws (never less than the level, less the sampling error of 4,000 draws;
// the sign test's intervals are conservative, so not far above either for
// n where its level is nearly exact).
func TestCICoversTheMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const draws = 4000
	for _, d := range []struct {
		name   string
		draw   func() float64
		median float64
	}{
		{"exponential", rng.ExpFloat64, 0.6931471805599453},              // ln 2
		{"uniform", rng.Float64, 0.5},                                    //
		{"pareto", func() float64 { return 1 / (1 - rng.Float64()) }, 2}, // Pareto(1): median 2
	} {
		for _, n := range []int{9, 41, 100} {
			covered := 0
			for range draws {
				xs := make([]float64, n)
				for i := range xs {
					xs[i] = d.draw()
				}
				lo, hi, ok := CI(xs)
				if !ok {
					t.Fatalf("CI of %d samples not ok", n)
				}
				if lo <= d.median && d.median <= hi {
					covered++
				}
			}
			rate := float64(covered) / draws
			if rate < Confidence-0.01 || rate > 0.99 {
				t.Errorf("%s, n=%d: the interval held the median in %.3f of %d draws, want about %.2f",
					d.name, n, rate, draws, Confidence)
			}
		}
	}
}

func ExampleCI() {
	// Paired differences, in ms, of a worker's run over a bare run.
	diffs := []float64{12, -3, 8, 15, 4, 9, -1, 22, 6, 11, 7}
	lo, hi, ok := CI(diffs)
	fmt.Println(Of(diffs), lo, hi, ok)
	// Output: 8 -1 15 true
}

func TestVerdicts(t *testing.T) {
	for _, c := range []struct {
		lo, hi, limit   float64
		atMost, atLeast Verdict
	}{
		{2, 8, 10, Met, Missed},
		{2, 10, 10, Met, NotDecided},
		{8, 12, 10, NotDecided, NotDecided},
		{10, 12, 10, NotDecided, Met},
		{11, 15, 10, Missed, Met},
	} {
		if got := AtMost(c.lo, c.hi, c.limit); got != c.atMost {
			t.Errorf("AtMost(%v, %v, %v) = %s, want %s", c.lo, c.hi, c.limit, got, c.atMost)
		}
		if got := AtLeast(c.lo, c.hi, c.limit); got != c.atLeast {
			t.Errorf("AtLeast(%v, %v, %v) = %s, want %s", c.lo, c.hi, c.limit, got, c.atLeast)
		}
	}
}
