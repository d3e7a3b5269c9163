// Package median gives benchmarks the median of their samples and a
// confidence interval for it that needs no assumption about how the samples
// are spread: on a virtual machine whose runs swing by tens of percent, a
// median compared with a target says nothing until its interval is known.
package median

import (
	"cmp"
	"math"
	"slices"
)

// Of is the middle value of xs (the upper of the two middle ones when the
// count is even); the zero value for no samples.
func Of[T cmp.Ordered](xs []T) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// Confidence is the level of the interval CI gives: 95 %.
const Confidence = 0.95

// CI is a 95 % confidence interval for the median of the population xs was
// drawn from (independent samples, any distribution): the k-th smallest and
// the k-th largest sample, with k the largest order for which the chance
// that fewer than k samples fall below the median is at most 2.5 % (the
// sign test's interval; for paired differences it is the interval of their
// median). ok is false for fewer than 6 samples, where even the smallest and
// largest do not give 95 %.
func CI[T cmp.Ordered](xs []T) (lo, hi T, ok bool) {
	k := ciOrder(len(xs))
	if k == 0 {
		return lo, hi, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[k-1], s[len(s)-k], true
}

// ciOrder is the k of CI for n samples, 0 when there is none: the largest k
// with P(B ≤ k-1) ≤ (1-Confidence)/2 for B ~ Binomial(n, 1/2).
func ciOrder(n int) int {
	tail := (1 - Confidence) / 2
	k, cum := 0, 0.0
	for j := 0; j < n; j++ {
		cum += binomHalf(n, j)
		if cum > tail+1e-12 {
			break
		}
		k = j + 1
	}
	return k
}

// binomHalf is P(B = j) for B ~ Binomial(n, 1/2), through logarithms so
// that large n does not underflow.
func binomHalf(n, j int) float64 {
	ln := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(ln(n) - ln(j) - ln(n-j) - float64(n)*math.Ln2)
}

// Verdict is what a confidence interval tells of a target.
type Verdict string

const (
	Met        Verdict = "met"         // all of the interval is on the target's side
	Missed     Verdict = "missed"      // all of it is on the other side
	NotDecided Verdict = "not decided" // it straddles the bound: more samples narrow it
)

// AtMost is the verdict of the interval [lo, hi] on the target "at most limit".
func AtMost[T cmp.Ordered](lo, hi, limit T) Verdict {
	switch {
	case hi <= limit:
		return Met
	case lo > limit:
		return Missed
	}
	return NotDecided
}

// AtLeast is the verdict of the interval [lo, hi] on the target "at least limit".
func AtLeast[T cmp.Ordered](lo, hi, limit T) Verdict {
	switch {
	case lo >= limit:
		return Met
	case hi < limit:
		return Missed
	}
	return NotDecided
}
