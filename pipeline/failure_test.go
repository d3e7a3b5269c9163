package pipeline

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
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

// A Failure set in metadata encodes (manifest.json, a durable transport, an
// event) to the same bytes as its JSON shape, the map it becomes after a
// round trip, both through encoding/json and ManifestEntry.MarshalJSON.
func TestSetFailureEncodesAsItsJSONShape(t *testing.T) {
	cases := []struct {
		name string
		f    Failure
	}{
		{"no hints", Failure{Summary: "error: x", Class: ClassUnknown}},
		{"empty", Failure{}},
		{"hints, one without confidence", Failure{Summary: "s", Class: ClassMissingHeader,
			Hints: []HintMatch{{ID: "a", Confidence: 0.5}, {ID: "b"}}}},
		{"invalid UTF-8 summary", Failure{Summary: "bad \xff\xfe byte", Class: ClassUnknown}},
		{"html-ish and control text", Failure{Summary: "<a> & \u2028 \t tab", Class: ClassNetwork}},
		{"empty hint list", Failure{Summary: "s", Class: ClassOOM, Hints: []HintMatch{}}},
		{"tiny and huge confidence", Failure{Summary: "s", Hints: []HintMatch{{ID: "x", Confidence: 1e-9}, {ID: "y", Confidence: 1e21}}}},
	}
	rng := rand.New(rand.NewPCG(17, 4))
	pieces := []string{"a", "é", "\xff", "<", "&", "\"", "\\", "\n", "\u2028", "\x00", " ", "zlib.h"}
	text := func() string {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for i := range 300 {
		f := Failure{Summary: text(), Class: FailureClass(text())}
		for range rng.IntN(3) {
			f.Hints = append(f.Hints, HintMatch{ID: text(), Confidence: []float64{0, 0.25, rng.Float64()}[rng.IntN(3)]})
		}
		cases = append(cases, struct {
			name string
			f    Failure
		}{fmt.Sprintf("random %d", i), f})
	}
	for _, tc := range cases {
		raw, err := json.Marshal(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var shape map[string]any
		if err := json.Unmarshal(raw, &shape); err != nil {
			t.Fatal(err)
		}
		meta := map[string]any{}
		SetFailure(meta, tc.f)
		for _, enc := range []struct {
			name string
			fn   func(map[string]any) ([]byte, error)
		}{
			{"encoding/json", func(m map[string]any) ([]byte, error) { return json.Marshal(m) }},
			{"MarshalJSON", func(m map[string]any) ([]byte, error) {
				return ManifestEntry{Name: "a", Version: "1", Status: StatusFailed, Metadata: m}.MarshalJSON()
			}},
		} {
			got, err := enc.fn(meta)
			if err != nil {
				t.Fatalf("%s: %s: %v", tc.name, enc.name, err)
			}
			want, err := enc.fn(map[string]any{MetaFailure: shape})
			if err != nil {
				t.Fatalf("%s: %s: %v", tc.name, enc.name, err)
			}
			if string(got) != string(want) {
				t.Errorf("%s: %s of the Failure = %s, of its JSON shape %s", tc.name, enc.name, got, want)
			}
		}
		inMemory, ok1 := FailureOf(meta)
		afterJSON, ok2 := FailureOf(map[string]any{MetaFailure: shape})
		if ok1 != ok2 || !reflect.DeepEqual(inMemory, afterJSON) {
			t.Errorf("%s: FailureOf = %#v, %v in memory, %#v, %v after a JSON round trip", tc.name, inMemory, ok1, afterJSON, ok2)
		}
	}
}

// SetFailure leaves the caller's hints alone when it mends their text.
func TestSetFailureKeepsTheCallersHints(t *testing.T) {
	hints := []HintMatch{{ID: "ok"}, {ID: "bad \xff"}}
	SetFailure(map[string]any{}, Failure{Summary: "s", Hints: hints})
	if hints[1].ID != "bad \xff" {
		t.Errorf("the caller's hint became %q", hints[1].ID)
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
		{"an empty Failure", Failure{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want Failure
			wantOK := false
			if f, isF := tc.v.(Failure); isF {
				want, wantOK = f, f.Summary != "" || f.Class != "" // as its JSON shape reads
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

// BenchmarkSetFailureThenFailureOf is what a failed build costs between the
// build stage's diagnosis and the report stage's detail line.
func BenchmarkSetFailureThenFailureOf(b *testing.B) {
	f := Failure{Summary: "x.c:1:10: fatal error: zlib.h: No such file or directory", Class: ClassMissingHeader,
		Hints: []HintMatch{{ID: "zlib-dev", Confidence: 0.9}}}
	for b.Loop() {
		meta := map[string]any{}
		SetFailure(meta, f)
		if _, ok := FailureOf(meta); !ok {
			b.Fatal("no failure")
		}
	}
}
