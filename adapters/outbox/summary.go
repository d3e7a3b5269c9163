package outbox

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/refinery/refinery-worker/pipeline"
)

// MaxSummary bounds a failure summary (bytes, cut on a rune boundary).
const MaxSummary = 300

// failureSummary is the one line that describes a failed (or retried)
// outcome: the diagnosis' summary when the outcome carries one
// (metadata.failure), else the first line of its error that is not a command
// line, else its reason. The log tail never goes into it: the log keeps it.
func failureSummary(meta map[string]any) string {
	if f, ok := pipeline.FailureOf(meta); ok && strings.TrimSpace(f.Summary) != "" {
		return firstLine(f.Summary)
	}
	errText, _ := meta[pipeline.MetaError].(string)
	if s := firstLine(errText); s != "" {
		return s
	}
	reason, _ := meta[pipeline.MetaReason].(string)
	return firstLine(reason)
}

// firstLine returns the first non-blank line of s that is not a podman
// command line, trimmed and cut to MaxSummary bytes.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || isCommandLine(line) {
			continue
		}
		return cut(line, MaxSummary)
	}
	return ""
}

func isCommandLine(line string) bool {
	line = strings.TrimPrefix(line, "refinery: ")
	return strings.HasPrefix(line, "podman ") || strings.HasPrefix(line, "/usr/bin/podman ")
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	s = s[:n-len(mark)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + mark
}

// isFailure reports whether an outcome status carries a failure summary.
func isFailure(st pipeline.Status) bool {
	return st == pipeline.StatusFailed || st == pipeline.StatusRetry
}

// mergeIDs appends the ids of more not already in ids.
func mergeIDs(ids []string, more ...[]string) []string {
	for _, m := range more {
		for _, id := range m {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
