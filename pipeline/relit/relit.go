// Package relit finds the literal text a regular expression's matches must
// contain, so that a cheap substring check can skip the lines an expression
// cannot match (the failure classifier's prefilter, the hint index).
package relit

import (
	"regexp/syntax"
	"slices"
	"strings"
)

// MaxAlternatives caps the ways Required splits an expression into; past it
// a part of the expression is left unchecked (the literals stay required,
// only fewer).
const MaxAlternatives = 64

// Required returns the ways re can match as a list of alternatives, each the
// literal runs every match of that alternative contains. An empty run list
// is an alternative with no literal; an empty result means re cannot match
// an ASCII line (it needs a byte ≥ 0x80). Pass a simplified expression.
func Required(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		return [][]string{{string(re.Rune)}}
	case syntax.OpCharClass:
		if asciiFree(re.Rune) {
			return nil
		}
	case syntax.OpCapture, syntax.OpPlus:
		return Required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return Required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out [][]string
		for _, sub := range re.Sub {
			out = append(out, Required(sub)...)
			if len(out) > MaxAlternatives {
				return [][]string{{}}
			}
		}
		return out
	case syntax.OpConcat:
		return concatRequired(re.Sub)
	}
	return [][]string{{}}
}

// Common returns the runs every alternative holds: what every match of the
// whole expression contains.
func Common(alts [][]string) []string {
	if len(alts) == 0 {
		return nil
	}
	var out []string
	for _, run := range alts[0] {
		if slices.Contains(out, run) {
			continue
		}
		all := true
		for _, alt := range alts[1:] {
			all = all && slices.Contains(alt, run)
		}
		if all {
			out = append(out, run)
		}
	}
	return out
}

// ASCIIPieces splits s at runes ≥ 0x80 and at line breaks, which a line of
// ASCII text cannot hold: a line holding the whole run holds each piece.
func ASCIIPieces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r >= 0x80 || r == '\n' || r == '\r' })
}

// concatRequired joins adjacent literals into one run and crosses the
// alternatives of the parts, leaving a part unchecked when crossing it would
// pass MaxAlternatives.
func concatRequired(subs []*syntax.Regexp) [][]string {
	out := [][]string{{}}
	var run []rune
	cross := func(part [][]string) {
		if len(part) == 0 {
			out = nil
			return
		}
		if len(out)*len(part) > MaxAlternatives {
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
		cross(Required(sub))
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
