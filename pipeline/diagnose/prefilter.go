package diagnose

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Bounds of a prefilter.
const (
	// minLiteral is the shortest literal worth checking.
	minLiteral = 2
	// maxAlternatives caps the ways an expression is split into; past it a
	// part of the expression is left unchecked (the filter stays correct,
	// only less selective).
	maxAlternatives = 64
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
	for _, alt := range required(re.Simplify()) {
		var lits [][]byte
		for _, run := range alt {
			for _, piece := range asciiPieces(run) {
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

// required returns the ways re can match as a list of alternatives, each
// the literal runs every match of that alternative contains. An empty run
// list is an alternative with no literal; an empty result means re cannot
// match an ASCII line (it needs a byte ≥ 0x80).
func required(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		return [][]string{{string(re.Rune)}}
	case syntax.OpCharClass:
		if asciiFree(re.Rune) {
			return nil
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out [][]string
		for _, sub := range re.Sub {
			out = append(out, required(sub)...)
			if len(out) > maxAlternatives {
				return [][]string{{}}
			}
		}
		return out
	case syntax.OpConcat:
		return concatRequired(re.Sub)
	}
	return [][]string{{}}
}

// concatRequired joins adjacent literals into one run and crosses the
// alternatives of the parts, leaving a part unchecked when crossing it would
// pass maxAlternatives.
func concatRequired(subs []*syntax.Regexp) [][]string {
	out := [][]string{{}}
	var run []rune
	cross := func(part [][]string) {
		if len(part) == 0 {
			out = nil
			return
		}
		if len(out)*len(part) > maxAlternatives {
			return
		}
		next := make([][]string, 0, len(out)*len(part))
		for _, a := range out {
			for _, b := range part {
				next = append(next, append(slices.Clip(a), b...))
			}
		}
		out = next
	}
	flush := func() {
		if len(run) > 0 {
			cross([][]string{{string(run)}})
			run = nil
		}
	}
	for _, sub := range subs {
		if sub.Op == syntax.OpLiteral {
			run = append(run, sub.Rune...)
			continue
		}
		flush()
		cross(required(sub))
	}
	flush()
	return out
}

// asciiFree reports whether a character class (rune ranges) holds no ASCII
// rune.
func asciiFree(ranges []rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] < 0x80 {
			return false
		}
	}
	return len(ranges) > 0
}

// asciiPieces splits s at runes ≥ 0x80, which an ASCII line cannot hold: a
// line holding the whole run holds each piece.
func asciiPieces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r >= 0x80 })
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
