package jsonscan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline/jsonscan"
)

func TestObjectMembers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // key=value pairs joined by |
	}{
		{`{}`, true, ``},
		{` { } `, true, ``},
		{`{"a":1}`, true, `"a"=1`},
		{"{ \"a\" :\t1 ,\n\"b\" : \"x,}\" }", true, `"a"=1|"b"="x,}"`},
		{`{"a":{"b":["}",{"c":"\"]"}]},"d":null}`, true, `"a"={"b":["}",{"c":"\"]"}]}|"d"=null`},
		{`{"\"k\\":true}`, true, `"\"k\\"=true`},
		{`{"a":1,"a":2}`, true, `"a"=1|"a"=2`},
		{`[]`, false, ``},
		{`null`, false, ``},
		{`{"a":1}x`, false, `"a"=1`},
		{`{"a":1,}`, false, `"a"=1`},
		{`{"a" 1}`, false, ``},
		{`{"a":}`, false, ``},
		{`{"a":"open}`, false, ``},
		{`{"a":[1,2}`, false, `"a"=[1,2}`}, // brackets are counted, not matched
		{`{a:1}`, false, ``},
		{``, false, ``},
	} {
		var got []string
		ok := jsonscan.ObjectMembers([]byte(tc.in), func(k, v []byte) { got = append(got, string(k)+"="+string(v)) })
		if ok != tc.ok || strings.Join(got, "|") != tc.want {
			t.Errorf("ObjectMembers(%q) = %v, %q; want %v, %q", tc.in, ok, strings.Join(got, "|"), tc.ok, tc.want)
		}
	}
}

func TestValueEnd(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`"ab"`, 4}, {`"a\"b" `, 6}, {`12,`, 2}, {`true}`, 4}, {`-1.5e3 `, 6}, {`[1,[2]]x`, 7},
		{`{"a":"]"}`, 9}, {`"open`, -1}, {`[1,2`, -1}, {`,`, -1}, {``, -1},
	} {
		if got := jsonscan.ValueEnd([]byte(tc.in), 0); got != tc.want {
			t.Errorf("ValueEnd(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func ExampleObjectMembers() {
	doc := []byte(`{"name": "lxml", "hints": {"needs": ["cython"]}, "attempts": 2}`)
	jsonscan.ObjectMembers(doc, func(key, val []byte) {
		fmt.Printf("%s -> %s\n", key, val)
	})
	// Output:
	// "name" -> "lxml"
	// "hints" -> {"needs": ["cython"]}
	// "attempts" -> 2
}
