package hints

import (
	"log/slog"
	"regexp"
	"regexp/syntax"
)

// Bounds on what a catalog costs to match.
const (
	// MaxPatternBytes is the longest pattern compiled; longer ones are
	// skipped (with a warning).
	MaxPatternBytes = 2000
	// MaxLogBytes is how much of a log's end is scanned.
	MaxLogBytes = 1 << 20
)

// entry is one compiled hint.
type entry struct {
	Hint
	re *regexp.Regexp
	// frags index the catalog's fragments this pattern's matching lines
	// all contain, the most selective first; empty: every line is tried.
	frags []int
}

// Catalog is a compiled, read-only set of hints.
type Catalog struct {
	entries []entry
	frags   []string
	ac      *automaton
	// Skipped are the hints that could not be used, with why.
	Skipped map[string]string
}

// Warner reports a skipped hint once per (id, pattern): Compile asks it
// whether to log.
type Warner interface {
	FirstTime(id, pattern string) bool
}

// Compile compiles hints into a catalog. A hint that cannot be used (empty
// id, bad or too long pattern, confidence outside 0..1) is skipped and
// logged as a warning, once per id and pattern when warn says so (nil warn:
// every time). Later hints with an id already seen replace earlier ones.
func Compile(hints []Hint, log *slog.Logger, warn Warner) *Catalog {
	c := &Catalog{Skipped: map[string]string{}}
	index := map[string]int{}
	fragID := map[string]int{}
	for _, h := range hints {
		why := h.validate(MaxPatternBytes)
		var re *regexp.Regexp
		var frags []string
		if why == "" {
			var err error
			if re, err = regexp.Compile(h.Pattern); err != nil {
				why = "pattern: " + err.Error()
			} else if parsed, err := syntax.Parse(h.Pattern, syntax.Perl); err == nil {
				frags = fragments(parsed.Simplify())
			}
		}
		if why != "" {
			c.Skipped[h.ID] = why
			if log != nil && (warn == nil || warn.FirstTime(h.ID, h.Pattern)) {
				log.Warn("skipping hint", "hint_id", h.ID, "problem", why)
			}
			continue
		}
		e := entry{Hint: h, re: re}
		for _, f := range frags {
			id, ok := fragID[f]
			if !ok {
				id = len(c.frags)
				fragID[f] = id
				c.frags = append(c.frags, f)
			}
			e.frags = append(e.frags, id)
		}
		if i, ok := index[h.ID]; ok {
			c.entries[i] = e
			continue
		}
		index[h.ID] = len(c.entries)
		c.entries = append(c.entries, e)
	}
	c.ac = newAutomaton(c.frags)
	return c
}

// Len is the number of usable hints.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Hint returns the hint with id.
func (c *Catalog) Hint(id string) (Hint, bool) {
	if c == nil {
		return Hint{}, false
	}
	for _, e := range c.entries {
		if e.ID == id {
			return e.Hint, true
		}
	}
	return Hint{}, false
}

// logTail keeps the lines of the last MaxLogBytes of a log; the first
// kept line may be the end of a longer one.
func logTail(lines []string) []string {
	n, first := 0, len(lines)
	for first > 0 && n+len(lines[first-1])+1 <= MaxLogBytes {
		first--
		n += len(lines[first]) + 1
	}
	if first == 0 {
		return lines
	}
	kept := lines[first:]
	if room := MaxLogBytes - n - 1; room > 0 {
		prev := lines[first-1]
		kept = append([]string{prev[len(prev)-room:]}, kept...)
	}
	return kept
}
