package filequeue

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
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
	data, err := os.ReadFile("testdata/retry_queue.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	if fh, err := os.Open("testdata/bad-queue-items.jsonl"); err != nil {
		f.Fatal(err)
	} else {
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

// FuzzCompactItem checks compactItem against json.Valid and json.Compact.
func FuzzCompactItem(f *testing.F) {
	seedQueues(f)
	for _, s := range []string{`-`, `-0.5e+7`, `01`, `1.`, `"\u12g4"`, "\"\x01\"", `{"a" 1}`, `[1 2]`, ` true `, `nul`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := compactItem(raw)
		var want bytes.Buffer
		werr := json.Compact(&want, raw)
		if (err == nil) != (werr == nil) || (err == nil) != json.Valid(raw) {
			t.Fatalf("compactItem error %v, json.Compact error %v, json.Valid %v", err, werr, json.Valid(raw))
		}
		if err == nil && !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactItem = %s, json.Compact = %s", got, want.Bytes())
		}
	})
}

func TestCompactDepthLimitMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001} {
		doc := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		_, err := compactItem(doc)
		_, perr := parseArray(doc)
		var v []json.RawMessage
		if want := json.Unmarshal(doc, &v); (err == nil) != json.Valid(doc) || (perr == nil) != (want == nil) {
			t.Errorf("depth %d: compactItem %v, parseArray %v, encoding/json valid %v / %v", n, err, perr, json.Valid(doc), want)
		}
	}
}

func TestEntriesRoundTrip(t *testing.T) {
	es := []entry{
		{Claim: "c1", Owner: "w-1-ab", ClaimedAt: time.Date(2026, 11, 26, 21, 0, 0, 123456789, time.UTC), Item: json.RawMessage(`{"package":"a<&>","x":[1.50]}`)},
		{Claim: `odd "claim"\`, Owner: "ünï", ClaimedAt: time.Unix(1_800_000_000, 0).UTC(), Item: json.RawMessage(`null`)},
	}
	got, err := parseEntries(encodeEntries(es))
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if got[i].Claim != es[i].Claim || got[i].Owner != es[i].Owner || !got[i].ClaimedAt.Equal(es[i].ClaimedAt) || !bytes.Equal(got[i].Item, es[i].Item) {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], es[i])
		}
	}
	for _, bad := range []string{`[{"claim":"c","owner":"o","item":1}]`, `[{"claim":"c","owner":"o","claimed_at":"x","item":1}]`, `[1]`} {
		if _, err := parseEntries([]byte(bad)); err == nil {
			t.Errorf("parseEntries(%s) accepted", bad)
		}
	}
}
