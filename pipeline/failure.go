package pipeline

import (
	"encoding/json"
	"math"
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
	if m, ok := failureShape(f); ok {
		meta[MetaFailure] = m
		return
	}
	raw, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	meta[MetaFailure] = m
}

// failureShape builds what a JSON round trip of f gives, without one, when
// that is plain: valid UTF-8 text (JSON would replace each bad byte) and
// finite confidences (JSON refuses others).
func failureShape(f Failure) (map[string]any, bool) {
	if !utf8.ValidString(f.Summary) || !utf8.ValidString(string(f.Class)) {
		return nil, false
	}
	m := map[string]any{"summary": f.Summary, "class": string(f.Class)}
	if len(f.Hints) == 0 {
		return m, true
	}
	hints := make([]any, len(f.Hints))
	for i, h := range f.Hints {
		if !utf8.ValidString(h.ID) || math.IsNaN(h.Confidence) || math.IsInf(h.Confidence, 0) {
			return nil, false
		}
		hm := map[string]any{"id": h.ID}
		if h.Confidence != 0 {
			hm["confidence"] = h.Confidence
		}
		hints[i] = hm
	}
	m["hints"] = hints
	return m, true
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
	f, ok := failureFromShape(v)
	if !ok {
		raw, err := json.Marshal(v)
		if err != nil {
			return Failure{}, false
		}
		f = Failure{}
		if json.Unmarshal(raw, &f) != nil {
			return Failure{}, false
		}
	}
	return f, f.Summary != "" || f.Class != ""
}

// failureFromShape reads the JSON shape SetFailure stores; ok is false for
// anything else (the caller then decodes through JSON).
func failureFromShape(v any) (Failure, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return Failure{}, false
	}
	var f Failure
	for k, x := range m {
		switch k {
		case "summary":
			s, ok := x.(string)
			if !ok {
				return Failure{}, false
			}
			f.Summary = s
		case "class":
			s, ok := x.(string)
			if !ok {
				return Failure{}, false
			}
			f.Class = FailureClass(s)
		case "hints":
			hints, ok := x.([]any)
			if !ok {
				return Failure{}, false
			}
			for _, h := range hints {
				hm, ok := h.(map[string]any)
				if !ok || len(hm) > 2 {
					return Failure{}, false
				}
				var hint HintMatch
				if hint.ID, ok = hm["id"].(string); !ok {
					return Failure{}, false
				}
				if c, has := hm["confidence"]; has {
					if hint.Confidence, ok = c.(float64); !ok {
						return Failure{}, false
					}
				} else if len(hm) != 1 {
					return Failure{}, false
				}
				f.Hints = append(f.Hints, hint)
			}
		default:
			return Failure{}, false
		}
	}
	return f, true
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
