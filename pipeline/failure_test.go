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
