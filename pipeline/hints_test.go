package pipeline

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestHintIDs(t *testing.T) {
	tests := []struct {
		name, hints string
		want        []string
	}{
		{"none", ``, nil},
		{"fixture shape", `[{"id":"lxml-xml2","pattern":"libxml2"},{"id":"lxml-xslt"}]`, []string{"lxml-xml2", "lxml-xslt"}},
		{"numeric ids", `[{"id":7},{"id":"8"}]`, []string{"7", "8"}},
		{"repeated and empty", `[{"id":"a"},{"id":""},{"id":"a"},{}]`, []string{"a"}},
		{"not a list", `{"id":"a"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HintIDs(json.RawMessage(tc.hints)); !slices.Equal(got, tc.want) {
				t.Errorf("HintIDs(%s) = %v, want %v", tc.hints, got, tc.want)
			}
		})
	}
}
