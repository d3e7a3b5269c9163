package hints

import (
	"slices"
	"strings"
	"testing"
)

// The automaton finds exactly the lines a case-folded strings.Contains
// finds, for overlapping fragments and fragments that are suffixes of
// others.
func TestAutomatonAgreesWithContains(t *testing.T) {
	frags := []string{"error", "rror:", "fatal error: zlib", "zlib.h", "h: no", "not found", "ot f", "a", "aa", "aaa"}
	lines := []string{
		"zz.c:1:10: FATAL ERROR: zlib.h: No such file",
		"sh: 1: swig: not found",
		"nothing here",
		"aaaa error:error",
		"",
		"ÉRROR: ünïcode zlib.h",
	}
	hits := newAutomaton(frags).scan(lines)
	for i, f := range frags {
		var want []int32
		for li, l := range lines {
			if strings.Contains(strings.ToLower(l), f) {
				want = append(want, int32(li))
			}
		}
		if !slices.Equal(hits[i], want) {
			t.Errorf("%q: lines %v, want %v", f, hits[i], want)
		}
	}
}
