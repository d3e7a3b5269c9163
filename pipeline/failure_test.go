package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFailureRoundTrip(t *testing.T) {
	f := Failure{Summary: "x.c:1:10: fatal error: zlib.h: No such file or directory", Class: ClassMissingHeader,
		Hints: []HintMatch{{ID: "zlib-dev", Confidence: 0.9}, {ID: "c-headers"}}}
	meta := map[string]any{}
	SetFailure(meta, f)
	meta[MetaAutoFixHints] = []string{"zlib-dev", "other"}
	raw, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]map[string]any{"in memory": meta, "after JSON": back} {
		got, ok := FailureOf(m)
		if !ok || !reflect.DeepEqual(got, f) {
			t.Errorf("%s: FailureOf = %+v, %v; want %+v", name, got, ok, f)
		}
		if ids := MatchedHintIDs(m); !reflect.DeepEqual(ids, []string{"zlib-dev", "c-headers", "other"}) {
			t.Errorf("%s: MatchedHintIDs = %v", name, ids)
		}
	}
	if _, ok := FailureOf(map[string]any{"failure": "not a map"}); ok {
		t.Error("FailureOf accepted a string")
	}
}

// SetFailure stores what a JSON round trip of the failure gives.
func TestSetFailureIsTheJSONShape(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Failure
	}{
		{"no hints", Failure{Summary: "error: x", Class: ClassUnknown}},
		{"empty", Failure{}},
		{"hints, one without confidence", Failure{Summary: "s", Class: ClassMissingHeader,
			Hints: []HintMatch{{ID: "a", Confidence: 0.5}, {ID: "b"}}}},
		{"invalid UTF-8 summary", Failure{Summary: "bad \xff\xfe byte", Class: ClassUnknown}},
		{"html-ish and control text", Failure{Summary: "<a> & \u2028 \t tab", Class: ClassNetwork}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			meta := map[string]any{}
			SetFailure(meta, tc.f)
			if !reflect.DeepEqual(meta[MetaFailure], want) {
				t.Errorf("SetFailure = %#v, want %#v", meta[MetaFailure], want)
			}
		})
	}
}

// FailureOf reads any metadata value as a JSON decode of it into a Failure
// would: SetFailure's shape, other maps, typed values, a Failure.
func TestFailureOfIsTheJSONDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"set failure shape", map[string]any{"summary": "s", "class": "network",
			"hints": []any{map[string]any{"id": "a", "confidence": 0.5}, map[string]any{"id": "b"}}}},
		{"no hints", map[string]any{"summary": "s", "class": "oom"}},
		{"class only", map[string]any{"class": "oom"}},
		{"nothing", map[string]any{}},
		{"key in another case", map[string]any{"Summary": "s", "CLASS": "oom"}},
		{"unknown key", map[string]any{"summary": "s", "extra": 1}},
		{"null summary", map[string]any{"summary": nil, "class": "oom"}},
		{"hint without id", map[string]any{"summary": "s", "hints": []any{map[string]any{"confidence": 0.5}}}},
		{"hint with an extra key", map[string]any{"summary": "s", "hints": []any{map[string]any{"id": "a", "x": 1}}}},
		{"integer confidence", map[string]any{"summary": "s", "hints": []any{map[string]any{"id": "a", "confidence": 1}}}},
		{"typed hints", map[string]any{"summary": "s", "hints": []HintMatch{{ID: "a"}}}},
		{"summary not text", map[string]any{"summary": 3}},
		{"a Failure", Failure{Summary: "s", Class: ClassOOM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want Failure
			wantOK := false
			if f, isF := tc.v.(Failure); isF {
				want, wantOK = f, true
			} else if raw, err := json.Marshal(tc.v); err == nil && json.Unmarshal(raw, &want) == nil {
				wantOK = want.Summary != "" || want.Class != ""
			} else {
				want = Failure{}
			}
			got, ok := FailureOf(map[string]any{MetaFailure: tc.v})
			if ok != wantOK || !reflect.DeepEqual(got, want) && wantOK {
				t.Errorf("FailureOf = %+v, %v; want %+v, %v", got, ok, want, wantOK)
			}
		})
	}
}
