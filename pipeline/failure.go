package pipeline

import "encoding/json"

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
type HintMatch struct {
	ID         string  `json:"id"`
	Confidence float64 `json:"confidence,omitempty"`
}

// Failure is the diagnosis of a failed build.
type Failure struct {
	Summary string       `json:"summary"`
	Class   FailureClass `json:"class"`
	Hints   []HintMatch  `json:"hints,omitempty"`
}

// SetFailure stores f in meta under MetaFailure in its JSON shape (a map), so
// it reads the same before and after a round trip through manifest.json.
func SetFailure(meta map[string]any, f Failure) {
	raw, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	meta[MetaFailure] = m
}

// FailureOf reads the diagnosis of an outcome's metadata, whether it holds a
// Failure or its JSON shape.
func FailureOf(meta map[string]any) (Failure, bool) {
	v, ok := meta[MetaFailure]
	if !ok || v == nil {
		return Failure{}, false
	}
	if f, ok := v.(Failure); ok {
		return f, true
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
