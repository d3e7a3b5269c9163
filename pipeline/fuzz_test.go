package pipeline

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// FuzzDecodeItem: any bytes give an Item or a *FieldError, never a panic; a
// valid item survives a round trip through the envelope with its fields.
func FuzzDecodeItem(f *testing.F) {
	fh, err := os.Open("testdata/bad-queue-items.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	fh.Close()
	var queue []json.RawMessage
	b, _ := os.ReadFile("testdata/retry_queue.json")
	_ = json.Unmarshal(b, &queue)
	for _, it := range queue {
		f.Add([]byte(it))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		it, err := DecodeItem(raw)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error %T %v is not a *FieldError", err, err)
			}
			return
		}
		req, err := ValidateItem(it)
		if err != nil {
			if fe, ok := err.(*FieldError); !ok || fe.Reason == "" {
				t.Fatalf("validation error %T %v", err, err)
			}
			return
		}
		if !ValidName(req.Item.Package) || req.Name != NormalizeName(req.Item.Package) {
			t.Fatalf("accepted name %q normalised %q", req.Item.Package, req.Name)
		}
		enc, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var back Item
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("round trip: %v\n%s", err, enc)
		}
		if back.Package != it.Package || back.Version != it.Version || back.Attempts != it.Attempts || len(back.Extra) != len(it.Extra) {
			t.Fatalf("round trip changed the item: %+v -> %+v", it, back)
		}
	})
}

// FuzzDecodePlan: any bytes give a plan or an error, never a panic; a plan
// re-encodes and decodes to the same nodes (unknown fields kept).
func FuzzDecodePlan(f *testing.F) {
	b, _ := os.ReadFile("testdata/plan.json")
	f.Add(b)
	f.Add([]byte(`{"run_id":"r","plan":[{"name":"a","version":"1","action":"reuse","x":1}],"dag":null,"extra":{"k":[]}}`))
	f.Add([]byte(`{"plan":[{"name":"","action":"build"}]}`))
	f.Add([]byte(`{"plan":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := DecodePlan(raw)
		if err != nil {
			return
		}
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("encode decoded plan: %v", err)
		}
		q, err := DecodePlan(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		if len(q.Nodes) != len(p.Nodes) || q.RunID != p.RunID || len(q.Extra) != len(p.Extra) {
			t.Fatalf("round trip changed the plan")
		}
	})
}
