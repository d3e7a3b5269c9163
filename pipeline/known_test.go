package pipeline

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"testing"
)

// FuzzDecodeKnown: the fast way of decodeKnown and the map-of-members way
// agree on every input: both fail, or both give the same fields and the same
// unknown members.
func FuzzDecodeKnown(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","version":"1","action":"build","x":1}`,
		` { "name" : "a" , "hints" : {"k":["}",{"]":"\""}]} , "recipes":[{"name":"dnf:x"}] } `,
		`{"Name":"b","name":"a"}`, `{"n\u0061me":"a","\u0078":2}`, `{"x":1}{`, `{"x":tru}`, `null`, `[]`,
		`{"name":1}`, `{}`, `{"a":"\ud800","\xff":1}`, `{"name":"a","name":"b"}`, `{"x" 1}`, `{"x":1,}`,
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("testdata/plan.json"); err == nil {
		var p struct{ Plan []json.RawMessage }
		if json.Unmarshal(b, &p) == nil && len(p.Plan) > 0 {
			f.Add([]byte(p.Plan[0]))
		}
	}
	type plain PlanNode
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow plain
		fx, ferr := decodeKnown(b, &fast, nodeKnown)
		sx, serr := decodeKnownSlow(b, &slow, nodeKnown)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("fast err %v, slow err %v on %q", ferr, serr, b)
		}
		if ferr != nil {
			return
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fields differ on %q:\nfast %+v\nslow %+v", b, fast, slow)
		}
		if !maps.EqualFunc(fx, sx, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
			t.Fatalf("unknown members differ on %q:\nfast %q\nslow %q", b, fx, sx)
		}
	})
}

// BenchmarkDecodePlan decodes one plan node the fast way and the
// map-of-members way (the baseline).
func BenchmarkDecodePlan(b *testing.B) {
	node := []byte(`{"name":"zope.interface","version":"6.4.post2","python_version":"3.11","python_tag":"cp311",
		"platform_tag":"manylinux2014_s390x","action":"build","hints":{"needs":["setuptools"]},
		"recipes":[{"name":"dnf:libxml2-devel","reason":"headers"}],"estimated_minutes":3}`)
	type plain PlanNode
	for _, c := range []struct {
		name   string
		decode func([]byte, any, map[string]bool) (map[string]json.RawMessage, error)
	}{{"fast", decodeKnown}, {"map_of_members", decodeKnownSlow}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var n plain
				if _, err := c.decode(node, &n, nodeKnown); err != nil || n.Name == "" {
					b.Fatal(err)
				}
			}
		})
	}
}
