package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestItemRoundTripKeepsUnknownFields(t *testing.T) {
	raw := `{"package":"flaky","version":"1.0","x_origin":"ui","x_nested":{"a":[1,2]},"attempts":2}`
	it, err := DecodeItem([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var back Item
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	var m map[string]any
	_ = json.Unmarshal(b2, &m)
	if m["x_origin"] != "ui" || m["x_nested"] == nil || m["attempts"] != float64(2) || m["package"] != "flaky" {
		t.Errorf("after two round trips: %s", b2)
	}
}

func TestDecodeAndValidateItem(t *testing.T) {
	cases := []struct {
		raw, field string // field "" = valid
		name, ver  string
	}{
		{`{"package":"Zope_Interface","version":"V6.4.0"}`, "", "zope-interface", "6.4.0"},
		{`{"package":"charset-normalizer","x_origin":"ui"}`, "", "charset-normalizer", ""},
		{`{"package":"numpy","version":"1.26.4","recipes":["dnf:openblas-devel","pip:cython<3","env:CFLAGS=-O2"]}`, "", "numpy", "1.26.4"},
		{`{"package":"numpy","version":null,"run_id":null}`, "", "numpy", ""},
		{`{"package":"numpy","recipes":["yum:gcc"]}`, "recipes[0]", "", ""},
		{`{"package":"numpy","recipes":["env:PATH=/evil"]}`, "recipes[0]", "", ""},
		{`{"package":"numpy","recipes":"dnf:gcc"}`, "recipes", "", ""},
		{`{"package":"numpy","python_version":"3.11; rm"}`, "python_version", "", ""},
		{`{"package":"numpy","attempts":1.5}`, "attempts", "", ""},
		{`{"package":"numpy","enqueued_at":"yesterday"}`, "enqueued_at", "", ""},
		{`{"package":"-numpy"}`, "package", "", ""},
		{`{"package":"` + strings.Repeat("a", 129) + `"}`, "package", "", ""},
	}
	for _, tc := range cases {
		it, err := DecodeItem([]byte(tc.raw))
		var req *Request
		if err == nil {
			req, err = ValidateItem(it)
		}
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.raw, err)
				continue
			}
			if req.Name != tc.name || req.Version != tc.ver {
				t.Errorf("%s: got %s %s, want %s %s", tc.raw, req.Name, req.Version, tc.name, tc.ver)
			}
			continue
		}
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != tc.field || fe.Reason == "" {
			t.Errorf("%.60s: err = %v, want a FieldError on %s", tc.raw, err, tc.field)
		}
	}
}

// Members are matched by their exact names: a key that differs only in case
// ("Attempts", "Name") is an unknown member, kept as it is, and never
// overwrites the field (encoding/json alone matches case-insensitively).
func TestMembersMatchByExactName(t *testing.T) {
	var it Item
	if err := json.Unmarshal([]byte(`{"package":"numpy","Attempts":10000}`), &it); err != nil {
		t.Fatal(err)
	}
	if it.Attempts != 0 || string(it.Extra["Attempts"]) != "10000" {
		t.Errorf("item = attempts %d, extra %s; want 0 and Attempts kept", it.Attempts, it.Extra)
	}
	p, err := DecodePlan([]byte(`{"run_id":"r","plan":[{"name":"a","Name":"evil","version":"1.0","action":"build"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Nodes[0]; n.Name != "a" || string(n.Extra["Name"]) != `"evil"` {
		t.Errorf("node = name %q, extra %s; want a and Name kept", n.Name, n.Extra)
	}
	out, err := json.Marshal(p.Nodes[0])
	if err != nil || !strings.Contains(string(out), `"name":"a"`) || !strings.Contains(string(out), `"Name":"evil"`) {
		t.Errorf("node re-encoded = %s, %v", out, err)
	}
}

// A reason never quotes an unbounded value: a recipe of 8 MB gives a reason
// of a few hundred bytes.
func TestValidateItemReasonsAreBounded(t *testing.T) {
	long := strings.Repeat("a", 8<<20)
	for _, it := range []Item{
		{Package: "x", Recipes: []string{"pip:" + long}},
		{Package: "x", Recipes: []string{long}},
		{Package: "x", Recipes: []string{long + ":v"}},
		{Package: "x", Recipes: []string{"env:" + long}},
		{Package: "x", Recipes: []string{"env:LD_" + long + "=1"}},
		{Package: "x", Recipes: []string{"env:K=" + long}},
		{Package: long},
		{Package: "x", Version: long},
	} {
		_, err := ValidateItem(it)
		if err == nil {
			t.Fatal("accepted an 8 MB value")
		}
		if n := len(err.Error()); n > 512 {
			t.Errorf("reason of %d bytes: %.120s...", n, err.Error())
		}
	}
}
