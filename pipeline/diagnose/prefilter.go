package diagnose

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/relit"
)

// Bounds of a prefilter.
const (
	// minLiteral is the shortest literal worth checking.
	minLiteral = 2
)

// prefilter says cheaply whether an ASCII line may match an expression:
// the expression is split into alternatives, each with the literals every
// match of that alternative holds (lowercase, longest first), and a line may
// match only if, for one alternative, it holds the longest literal and then
// all the others. A line with a byte ≥ 0x80 is not filtered (the
// expression's case folding reaches beyond ASCII there).
type prefilter struct {
	// always: some alternative has no literal; the expression runs on
	// every line.
	always bool
	alts   [][][]byte
}

// matcher is an expression behind its prefilter.
type matcher struct {
	re *regexp.Regexp
	pf prefilter
}

func mustMatcher(expr string) matcher {
	return matcher{re: regexp.MustCompile(expr), pf: newPrefilter(expr)}
}

// match is re.MatchString(l); lower is l lowercased when l is ASCII, nil
// when it is not.
func (m matcher) match(l string, lower []byte) bool {
	if lower != nil && !m.pf.mayMatch(lower) {
		return false
	}
	return m.re.MatchString(l)
}

// newPrefilter builds the prefilter of a valid expression (an expression the
// parser refuses is never filtered).
func newPrefilter(expr string) prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return prefilter{always: true}
	}
	var pf prefilter
	for _, alt := range relit.Required(re.Simplify()) {
		var lits [][]byte
		for _, run := range alt {
			for _, piece := range relit.ASCIIPieces(run) {
				piece = strings.ToLower(piece)
				if len(piece) >= minLiteral && !slices.ContainsFunc(lits, func(b []byte) bool { return string(b) == piece }) {
					lits = append(lits, []byte(piece))
				}
			}
		}
		if len(lits) == 0 {
			return prefilter{always: true}
		}
		// Longest first: the most selective check runs first.
		slices.SortStableFunc(lits, func(a, b []byte) int { return len(b) - len(a) })
		pf.alts = append(pf.alts, lits)
	}
	return pf
}

// mayMatch reports whether the lowercase ASCII line lower may match.
func (p prefilter) mayMatch(lower []byte) bool {
	if p.always {
		return true
	}
	for _, alt := range p.alts {
		if containsAll(lower, alt) {
			return true
		}
	}
	return false
}

func containsAll(line []byte, lits [][]byte) bool {
	for _, l := range lits {
		if !bytes.Contains(line, l) {
			return false
		}
	}
	return true
}

// lowerASCII writes l lowercased into buf and returns it, or returns nil when
// l is not ASCII.
func lowerASCII(l string, buf []byte) []byte {
	buf = buf[:0]
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c >= 0x80 {
			return nil
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}
