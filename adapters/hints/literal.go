package hints

import (
	"regexp/syntax"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/relit"
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
	var out []string
	seen := map[string]bool{}
	for _, run := range relit.Common(relit.Required(re)) {
		for _, f := range relit.ASCIIPieces(strings.ToLower(run)) {
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
