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
// match only if, for one alternative, it holds all of them. A literal is
// looked for only when the line holds each pair of adjacent bytes in it (a
// few bit tests against the line's pair set, see line), so a line that holds
// none of a rule's literals costs no scan of it. A line with a byte ≥ 0x80
// is not filtered (the expression's case folding reaches beyond ASCII
// there).
type prefilter struct {
	// always: some alternative has no literal; the expression runs on
	// every line.
	always bool
	alts   [][]literal
}

// literal is a lowercase ASCII literal and the byte pairs in it.
type literal struct {
	b     []byte
	pairs []uint16
}

func newLiteral(s string) literal {
	l := literal{b: []byte(s)}
	for i := 1; i < len(s); i++ {
		if p := pair(s[i-1], s[i]); !slices.Contains(l.pairs, p) {
			l.pairs = append(l.pairs, p)
		}
	}
	return l
}

// pair is the index of two adjacent ASCII bytes in a line's pair set.
func pair(a, b byte) uint16 { return uint16(a)<<7 | uint16(b) }

// line is one log line as the prefilters read it: lowercased, with the set
// of its adjacent byte pairs. Reuse one for a whole log.
type line struct {
	lower []byte
	pairs [1 << 14 / 64]uint64 // bit pair(a, b) set: the line holds a then b
}

// set makes ln the line l and reports whether l is ASCII (only an ASCII
// line is filtered).
func (ln *line) set(l string) bool {
	ln.lower = slices.Grow(ln.lower[:0], len(l))[:len(l)]
	clear(ln.pairs[:])
	var prev byte // the first byte pairs with NUL, which no literal holds
	for i := range len(l) {
		c := l[i]
		if c >= 0x80 {
			return false
		}
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		ln.lower[i] = c
		p := pair(prev, c)
		ln.pairs[byte(p>>6)] |= 1 << (p & 63)
		prev = c
	}
	return true
}

// holds reports whether the line holds the literal.
func (ln *line) holds(lit literal) bool {
	for _, p := range lit.pairs {
		if ln.pairs[byte(p>>6)]&(1<<(p&63)) == 0 {
			return false
		}
	}
	return bytes.Contains(ln.lower, lit.b)
}

// matcher is an expression behind its prefilter.
type matcher struct {
	re *regexp.Regexp
	pf prefilter
}

func mustMatcher(expr string) matcher {
	return matcher{re: regexp.MustCompile(expr), pf: newPrefilter(expr)}
}

// match is re.MatchString(l); ln is l as set by line.set, ascii what set
// returned.
func (m matcher) match(l string, ln *line, ascii bool) bool {
	if ascii && !m.pf.mayMatch(ln) {
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
		var lits []string
		for _, run := range alt {
			for _, piece := range relit.ASCIIPieces(run) {
				piece = strings.ToLower(piece)
				if len(piece) >= minLiteral && !slices.Contains(lits, piece) {
					lits = append(lits, piece)
				}
			}
		}
		if len(lits) == 0 {
			return prefilter{always: true}
		}
		// Longest first: the most selective check runs first.
		slices.SortStableFunc(lits, func(a, b string) int { return len(b) - len(a) })
		if slices.ContainsFunc(pf.alts, func(have []literal) bool { return sameLiterals(have, lits) }) {
			continue
		}
		ls := make([]literal, len(lits))
		for i, s := range lits {
			ls[i] = newLiteral(s)
		}
		pf.alts = append(pf.alts, ls)
	}
	return pf
}

func sameLiterals(have []literal, lits []string) bool {
	return slices.EqualFunc(have, lits, func(l literal, s string) bool { return string(l.b) == s })
}

// mayMatch reports whether the ASCII line ln may match.
func (p prefilter) mayMatch(ln *line) bool {
	if p.always {
		return true
	}
	for _, alt := range p.alts {
		if holdsAll(ln, alt) {
			return true
		}
	}
	return false
}

func holdsAll(ln *line, lits []literal) bool {
	for _, l := range lits {
		if !ln.holds(l) {
			return false
		}
	}
	return true
}
