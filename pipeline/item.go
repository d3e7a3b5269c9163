package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Item is one entry of the control-plane's retry/build queue (docs/control-plane.md).
// Only Package is required; every other field may be absent. Fields the worker
// does not know are kept in Extra and written back when the item is
// re-enqueued.
type Item struct {
	Package       string   `json:"package"`
	Version       string   `json:"version,omitempty"`
	PythonVersion string   `json:"python_version,omitempty"`
	PythonTag     string   `json:"python_tag,omitempty"`
	PlatformTag   string   `json:"platform_tag,omitempty"`
	Recipes       []string `json:"recipes,omitempty"`
	EnqueuedAt    int64    `json:"enqueued_at,omitempty"`
	Attempts      int      `json:"attempts,omitempty"`
	PlanID        int64    `json:"plan_id,omitempty"`
	RunID         string   `json:"run_id,omitempty"`
	// NotBefore (Unix seconds) is set by the worker's requeue stage: the intake
	// does not hand the item out before that time.
	NotBefore int64 `json:"not_before,omitempty"`

	// Extra holds every field not listed above, verbatim.
	Extra map[string]json.RawMessage `json:"-"`
}

// FieldError says which field of an input is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// knownItemFields are decoded into Item's typed fields.
var knownItemFields = map[string]bool{
	"package": true, "version": true, "python_version": true, "python_tag": true,
	"platform_tag": true, "recipes": true, "enqueued_at": true, "attempts": true,
	"plan_id": true, "run_id": true, "not_before": true,
}

// MaxAttempts bounds the attempts counter of a queue item; larger values are
// rejected as corrupt rather than silently clamped.
const MaxAttempts = 1000

// DecodeItem parses one raw queue item. It is strict about types: a field of
// the wrong JSON type is a *FieldError naming the field, never a silent zero.
// It does not validate values (see ValidateItem).
func DecodeItem(raw []byte) (Item, error) {
	var it Item
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return it, &FieldError{Reason: "empty item"}
	}
	if raw[0] != '{' {
		if !json.Valid(raw) {
			return it, &FieldError{Reason: "not valid JSON"}
		}
		return it, &FieldError{Reason: "item is not a JSON object"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return it, &FieldError{Reason: "not valid JSON: " + err.Error()}
	}
	for k, v := range fields {
		if knownItemFields[k] {
			continue
		}
		if it.Extra == nil {
			it.Extra = make(map[string]json.RawMessage)
		}
		it.Extra[k] = v
	}
	pkg, ok := fields["package"]
	if !ok {
		return it, &FieldError{Field: "package", Reason: "missing"}
	}
	var err error
	if it.Package, err = decodeString("package", pkg, false); err != nil {
		return it, err
	}
	strs := []struct {
		key string
		dst *string
	}{
		{"version", &it.Version}, {"python_version", &it.PythonVersion}, {"python_tag", &it.PythonTag},
		{"platform_tag", &it.PlatformTag}, {"run_id", &it.RunID},
	}
	for _, s := range strs {
		if v, ok := fields[s.key]; ok {
			if *s.dst, err = decodeString(s.key, v, true); err != nil {
				return it, err
			}
		}
	}
	ints := []struct {
		key string
		dst *int64
	}{
		{"enqueued_at", &it.EnqueuedAt}, {"plan_id", &it.PlanID}, {"not_before", &it.NotBefore},
	}
	for _, s := range ints {
		if v, ok := fields[s.key]; ok {
			if *s.dst, err = decodeInt(s.key, v); err != nil {
				return it, err
			}
		}
	}
	if v, ok := fields["attempts"]; ok {
		n, err := decodeInt("attempts", v)
		if err != nil {
			return it, err
		}
		if n < 0 || n > MaxAttempts {
			return it, &FieldError{Field: "attempts", Reason: fmt.Sprintf("%d is outside 0..%d", n, MaxAttempts)}
		}
		it.Attempts = int(n)
	}
	if v, ok := fields["recipes"]; ok && !isNull(v) {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return it, &FieldError{Field: "recipes", Reason: "must be an array of strings"}
		}
		for i, r := range list {
			s, err := decodeString(fmt.Sprintf("recipes[%d]", i), r, false)
			if err != nil {
				return it, err
			}
			it.Recipes = append(it.Recipes, s)
		}
	}
	return it, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func decodeString(field string, v json.RawMessage, nullOK bool) (string, error) {
	if isNull(v) {
		if nullOK {
			return "", nil
		}
		return "", &FieldError{Field: field, Reason: "must be a string, got null"}
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", &FieldError{Field: field, Reason: "must be a string, got " + jsonKind(v)}
	}
	return s, nil
}

func decodeInt(field string, v json.RawMessage) (int64, error) {
	if isNull(v) {
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		var ue *json.UnmarshalTypeError
		if errors.As(err, &ue) {
			return 0, &FieldError{Field: field, Reason: "must be an integer, got " + jsonKind(v)}
		}
		return 0, &FieldError{Field: field, Reason: "must be an integer: " + err.Error()}
	}
	if !ValidIntField(f) {
		return 0, &FieldError{Field: field, Reason: fmt.Sprintf("must be an integer within ±2^53, got %s", bytes.TrimSpace(v))}
	}
	return int64(f), nil
}

func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// MarshalJSON writes the typed fields (zero values omitted, as the
// control-plane does) merged with Extra.
func (it Item) MarshalJSON() ([]byte, error) {
	type plain Item
	return mergeExtra(plain(it), it.Extra, knownItemFields)
}

// UnmarshalJSON reads an item written by MarshalJSON (the envelope between
// stages), keeping unknown fields in Extra. Queue input goes through the
// strict DecodeItem instead.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item
	var p plain
	extra, err := decodeKnown(b, &p, knownItemFields)
	if err != nil {
		return err
	}
	*it = Item(p)
	it.Extra = extra
	return nil
}
