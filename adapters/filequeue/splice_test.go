package filequeue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSpliceQueueMatchesEncode checks that a write copying kept items from
// the last version gives exactly what encoding them all gives, whatever the
// write keeps, drops, repeats or adds.
func TestSpliceQueueMatchesEncode(t *testing.T) {
	raw := []byte(`[{"package":"a","x":{"k":[1,2,{}],"e":[]}},"s",[],{},null,3,{"package":"b<&>","n":[{"m":1}]}]`)
	base, err := parseArray(raw)
	if err != nil {
		t.Fatal(err)
	}
	add := [][]byte{[]byte(`{"package":"new","v":[1]}`), []byte(`"tail"`)}
	tests := []struct {
		name string
		next func(cur [][]byte) [][]byte
	}{
		{"claim the head", func(cur [][]byte) [][]byte { return cur[2:] }},
		{"claim the middle", func(cur [][]byte) [][]byte { return append(slices.Clone(cur[:1]), cur[3:]...) }},
		{"claim all but the last", func(cur [][]byte) [][]byte { return cur[len(cur)-1:] }},
		{"claim everything", func(cur [][]byte) [][]byte { return nil }},
		{"enqueue", func(cur [][]byte) [][]byte { return append(slices.Clone(cur), add...) }},
		{"requeue at the head", func(cur [][]byte) [][]byte { return append(slices.Clone(add[:1]), cur...) }},
		{"same item twice", func(cur [][]byte) [][]byte { return append(slices.Clone(cur), cur[0]) }},
		{"equal bytes, other slice", func(cur [][]byte) [][]byte { return [][]byte{bytes.Clone(cur[0]), cur[1]} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &queueCache{items: base}
			c.data, c.starts = spliceQueue(c, base) // no starts yet: encodes
			if want := encodeQueue(base); !bytes.Equal(c.data, want) {
				t.Fatalf("first write:\n%s\nwant\n%s", c.data, want)
			}
			next := tt.next(base)
			got, starts := spliceQueue(c, next)
			if want := encodeQueue(next); !bytes.Equal(got, want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			_, wantStarts := encodeQueueStarts(next)
			if !slices.Equal(starts, wantStarts) {
				t.Fatalf("starts %v, want %v", starts, wantStarts)
			}
		})
	}
}

// TestSpliceQueueRandomClaims chains many random claims and enqueues, each
// write splicing from the one before, against a full encode.
func TestSpliceQueueRandomClaims(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var items [][]byte
	for i := range 200 {
		items = append(items, fmt.Appendf(nil, `{"package":"p%d","n":[%d,{"a":"b"}],"e":{}}`, i, i))
	}
	c := &queueCache{}
	c.data, c.starts = spliceQueue(c, items)
	c.items = items
	for step := range 300 {
		var next [][]byte
		for _, it := range c.items {
			if r.IntN(10) > 0 {
				next = append(next, it)
			}
		}
		if step%3 == 0 {
			next = append(next, fmt.Appendf(nil, `{"package":"late%d"}`, step))
		}
		data, starts := spliceQueue(c, next)
		if want := encodeQueue(next); !bytes.Equal(data, want) {
			t.Fatalf("step %d: spliced write differs from a full encode", step)
		}
		*c = queueCache{data: data, items: next, starts: starts}
	}
}
