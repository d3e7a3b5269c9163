package hints

import (
	"regexp/syntax"
	"strings"
)

// minFragment is the shortest literal worth indexing: shorter ones say
// little about a log.
const minFragment = 3

// maxFragment caps an indexed literal (a prefix of a longer one is required
// as well).
const maxFragment = 32

// fragments returns lowercase ASCII literals that every match of re
// contains within one line, longest first; nil when it cannot tell. A log
// line that lacks one of them cannot match, so the matcher runs the
// expression only on lines holding the first.
func fragments(re *syntax.Regexp) []string {
	var runs []string
	collectRuns(re, &runs)
	var out []string
	seen := map[string]bool{}
	for _, run := range runs {
		for _, f := range asciiPieces(strings.ToLower(run)) {
			if len(f) > maxFragment {
				f = f[:maxFragment]
			}
			if len(f) >= minFragment && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	// Longest first: the most selective line index.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// asciiPieces splits s at non-ASCII bytes and newlines, which the index
// does not fold.
func asciiPieces(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r >= 0x80 || r == '\n' || r == '\r' })
}

// collectRuns appends the literal runs every match of re must contain.
func collectRuns(re *syntax.Regexp, runs *[]string) {
	switch re.Op {
	case syntax.OpLiteral:
		*runs = append(*runs, string(re.Rune))
	case syntax.OpConcat:
		var cur []rune
		flush := func() {
			if len(cur) > 0 {
				*runs = append(*runs, string(cur))
				cur = nil
			}
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				cur = append(cur, sub.Rune...)
				continue
			}
			flush()
			collectRuns(sub, runs)
		}
		flush()
	case syntax.OpCapture, syntax.OpPlus:
		collectRuns(re.Sub[0], runs)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			collectRuns(re.Sub[0], runs)
		}
	}
}
