package filequeue

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// seedQueues are queue files for the fuzz targets: the fixtures, hostile
// shapes, and half-written ones.
func seedQueues(f *testing.F) {
	f.Helper()
	for _, s := range []string{
		"[]", "null", "", "[", "[\n  {\n    \"pack", "{}", `"x"`, "[1,2", "[1,]",
		`[{"package":"a","x_refinery_requeued_from":"c1","not_before":12,"n":[{},[],{"a":[1,{"b":"\"}]"}]}]}]`,
		`[ "a\u00e9\"\\", null , true, -1.5e-3, [ [ ] , { } ], {"k" : { "k2" : [ 1 , "," ] } } ]`,
		`[{"package":"n<&>","not_before":"1","not_before":5}]`,
	} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("../../../shared/fixtures/retry_queue.json"); err == nil {
		f.Add(data)
	}
	if fh, err := os.Open("../../../shared/fixtures/bad-queue-items.jsonl"); err == nil {
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add([]byte("[" + sc.Text() + "]"))
		}
	}
}

// FuzzParseArray checks parseArray against encoding/json, and that the
// queue encoding round-trips and matches json.Indent byte for byte.
func FuzzParseArray(f *testing.F) {
	seedQueues(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseArray(data)
		var want []json.RawMessage
		wantErr := json.Unmarshal(data, &want)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("parseArray error %v, encoding/json error %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d items, encoding/json has %d", len(got), len(want))
		}
		for i := range got {
			var c bytes.Buffer
			if err := json.Compact(&c, want[i]); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[i], c.Bytes()) {
				t.Fatalf("item %d = %s, want %s", i, got[i], c.Bytes())
			}
		}
		enc := encodeQueue(got)
		var ref bytes.Buffer
		if len(got) == 0 {
			ref.WriteString("[]")
		} else {
			ref.WriteString("[\n")
			for i, it := range got {
				ref.WriteString("  ")
				if err := json.Indent(&ref, it, "  ", "  "); err != nil {
					t.Fatal(err)
				}
				if i < len(got)-1 {
					ref.WriteString(",\n")
				}
			}
			ref.WriteString("\n]")
		}
		if !bytes.Equal(enc, ref.Bytes()) {
			t.Fatalf("encoding differs from json.Indent:\n%s\nwant\n%s", enc, ref.Bytes())
		}
		back, err := parseArray(enc)
		if err != nil || len(back) != len(got) {
			t.Fatalf("re-parse: %d items, %v", len(back), err)
		}
		for i := range back {
			if !bytes.Equal(back[i], got[i]) {
				t.Fatalf("round trip item %d = %s, want %s", i, back[i], got[i])
			}
		}
	})
}

// FuzzWithField checks field and withField against encoding/json: the
// marker is set, every other member is kept byte for byte and in order.
func FuzzWithField(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"x_refinery_requeued_from":"old","a":{"b":[1,"}"]}}`,
		`{"x_refinery_requeued_from":1,"x_refinery_requeued_from":2,"z":"<&>"}`,
		`{"x_refinery_requeued_fro\u006d":"esc","k":1.50}`, `[1]`, `"s"`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := compactItem(raw)
		if err != nil {
			return
		}
		out, ok := withField(obj, requeuedFromKey, []byte(`"c"`))
		if !ok {
			if obj[0] == '{' {
				t.Fatalf("object %s not marked", obj)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("marked %s is not a valid object: %v", out, err)
		}
		if v, ok := field(out, requeuedFromKey); !ok || string(v) != `"c"` || string(m[requeuedFromKey]) != `"c"` {
			t.Fatalf("marker in %s: field %s, encoding/json %s", out, v, m[requeuedFromKey])
		}
		var kept, orig []byte
		for s := range members(out) {
			if !keyIs(out[s.key:s.val-1], requeuedFromKey) {
				kept = append(kept, out[s.key:s.end]...)
			}
		}
		for s := range members(obj) {
			if !keyIs(obj[s.key:s.val-1], requeuedFromKey) {
				orig = append(orig, obj[s.key:s.end]...)
			}
		}
		if !bytes.Equal(kept, orig) {
			t.Fatalf("members changed: %s -> %s", obj, out)
		}
	})
}
