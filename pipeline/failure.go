package pipeline

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// Metadata keys of the failure diagnosis. A failed outcome carries
// metadata[MetaFailure]: {"summary": one line, "class": a FailureClass,
// "hints": [{"id": ..., "confidence": ...}, ...]}. A build retried with hint
// recipes (auto-fix) carries metadata[MetaAutoFixHints]: the hint ids whose
// recipes it ran with.
const (
	MetaFailure      = "failure"
	MetaAutoFixHints = "auto_fix_hints"
)

// FailureClass is the small fixed set a failed build is sorted into.
type FailureClass string

// The failure classes.
const (
	ClassMissingHeader    FailureClass = "missing_header"
	ClassMissingLibrary   FailureClass = "missing_library"
	ClassMissingTool      FailureClass = "missing_tool"
	ClassPythonHeaders    FailureClass = "python_headers"
	ClassRustToolchain    FailureClass = "rust_toolchain"
	ClassUnsupportedArch  FailureClass = "unsupported_arch"
	ClassNetwork          FailureClass = "network"
	ClassTimeout          FailureClass = "timeout"
	ClassOOM              FailureClass = "oom"
	ClassTestFailure      FailureClass = "test_failure"
	ClassPlatformMismatch FailureClass = "platform_mismatch"
	ClassSmokeTest        FailureClass = "smoke_test"
	ClassUnknown          FailureClass = "unknown"
)

// HintMatch is one catalog hint whose pattern matched a failed log.
// Its fields are in the order of their JSON names (see Failure).
type HintMatch struct {
	Confidence float64 `json:"confidence,omitempty"`
	ID         string  `json:"id"`
}

// Failure is the diagnosis of a failed build. Its fields are in the order of
// their JSON names, as are HintMatch's: encoding/json writes a struct's
// fields in their order and a map's keys sorted, so a Failure encodes to the
// same bytes as its JSON shape read back into a map.
type Failure struct {
	Class   FailureClass `json:"class"`
	Hints   []HintMatch  `json:"hints,omitempty"`
	Summary string       `json:"summary"`
}

// SetFailure stores f in meta under MetaFailure. It stays a Failure in
// memory (FailureOf reads it without decoding) and encodes to the bytes of
// its JSON shape, which is what meta holds after a round trip through JSON
// (a durable transport, manifest.json); FailureOf reads that too. Its text
// is stored as such a round trip gives it back (each byte that is not valid
// UTF-8 becomes U+FFFD), so it reads the same before and after one. A JSON
// round trip of f, as this used to store it, cost ~6 µs per failed item.
func SetFailure(meta map[string]any, f Failure) {
	f.Summary, f.Class = jsonText(f.Summary), FailureClass(jsonText(string(f.Class)))
	if len(f.Hints) == 0 {
		f.Hints = nil // an empty list is left out of the JSON, so it reads back as none
	}
	copied := false
	for i, h := range f.Hints {
		if id := jsonText(h.ID); id != h.ID {
			if !copied {
				f.Hints, copied = slices.Clone(f.Hints), true // not the caller's
			}
			f.Hints[i].ID = id
		}
	}
	meta[MetaFailure] = f
}

// jsonText is s as a JSON round trip gives it back: each byte that is not
// part of valid UTF-8 becomes U+FFFD (ranging over a string yields exactly
// that).
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// FailureOf reads the diagnosis of an outcome's metadata, whether it holds a
// Failure or its JSON shape.
func FailureOf(meta map[string]any) (Failure, bool) {
	v, ok := meta[MetaFailure]
	if !ok || v == nil {
		return Failure{}, false
	}
	if f, ok := v.(Failure); ok {
		return f, f.Summary != "" || f.Class != "" // as for its JSON shape below
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return Failure{}, false
	}
	var f Failure
	if json.Unmarshal(raw, &f) != nil {
		return Failure{}, false
	}
	return f, f.Summary != "" || f.Class != ""
}

// MatchedHintIDs returns the hint ids an outcome is associated with: those
// matched by its failure, then those an auto-fix retry ran with, without
// repeats.
func MatchedHintIDs(meta map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if f, ok := FailureOf(meta); ok {
		for _, h := range f.Hints {
			add(h.ID)
		}
	}
	switch ids := meta[MetaAutoFixHints].(type) {
	case []string:
		for _, id := range ids {
			add(id)
		}
	case []any:
		for _, id := range ids {
			if s, ok := id.(string); ok {
				add(s)
			}
		}
	}
	return out
}
