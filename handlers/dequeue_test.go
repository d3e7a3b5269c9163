package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

type memRecorder map[string]pipeline.Status

func (m memRecorder) Record(_ context.Context, o pipeline.Outcome) error {
	m[o.Entry.Metadata[pipeline.MetaClaim].(string)] = o.Entry.Status
	return nil
}
func (m memRecorder) Recorded(c string) (pipeline.Status, bool) { s, ok := m[c]; return s, ok }
func (m memRecorder) Entry(c string) (pipeline.ManifestEntry, bool) {
	s, ok := m[c]
	return pipeline.ManifestEntry{Status: s}, ok
}

// Every line of the hostile fixture, as raw bytes, goes to the poison topic
// with a reason; none becomes a request.
func TestDequeueRejectsEveryHostileFixtureLine(t *testing.T) {
	f, err := os.Open("testdata/bad-queue-items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := NewDequeue(memRecorder{}, pipeline.NewKeySet(), nil)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		w := &pipeline.Work{CorrelationID: "c", Claim: "k", Raw: []byte(line)}
		next, err := d.Handle(context.Background(), w)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if next != pipeline.TopicPoison || w.Rejection == nil || w.Rejection.Reason == "" {
			t.Errorf("line %d %q: next=%s rejection=%+v, want poison with a reason", n, line, next, w.Rejection)
		}
		if w.Request != nil {
			t.Errorf("line %d %q became a request", n, line)
		}
	}
	if n != 21 {
		t.Fatalf("read %d fixture lines, want 21", n)
	}
}

func TestDequeueNormalisesAndDeduplicates(t *testing.T) {
	keys := pipeline.NewKeySet()
	rec := memRecorder{"done": pipeline.StatusBuilt}
	d := NewDequeue(rec, keys, nil)
	cases := []struct {
		name, raw, claim string
		next             string
		wantName         string
		wantVersion      string
	}{
		{"normalises name and version", `{"package":"Zope_Interface","version":"v6.4.0"}`, "a", pipeline.TopicRequests, "zope-interface", "6.4.0"},
		{"same key again is a duplicate", `{"package":"zope.interface","version":"6.4.0"}`, "b", pipeline.TopicResults, "zope-interface", "6.4.0"},
		{"other tags are another key", `{"package":"zope.interface","version":"6.4.0","python_tag":"cp312"}`, "c", pipeline.TopicRequests, "zope-interface", "6.4.0"},
		{"recorded claim skips the build", `{"package":"six"}`, "done", pipeline.TopicResults, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &pipeline.Work{CorrelationID: tc.claim, Claim: tc.claim, Raw: []byte(tc.raw)}
			next, err := d.Handle(context.Background(), w)
			if err != nil || next != tc.next {
				t.Fatalf("next = %q, %v; want %q", next, err, tc.next)
			}
			if tc.wantName != "" && (w.Request.Name != tc.wantName || w.Request.Version != tc.wantVersion) {
				t.Errorf("request = %s %s, want %s %s", w.Request.Name, w.Request.Version, tc.wantName, tc.wantVersion)
			}
			if tc.claim == "b" && (w.Result.Status != pipeline.StatusSkipped || w.Result.Reason != pipeline.ReasonDuplicate) {
				t.Errorf("duplicate result = %+v", w.Result)
			}
			if tc.claim == "done" && (w.Outcome == nil || !w.Outcome.Redelivered || w.Request != nil) {
				t.Errorf("recorded claim not marked redelivered: %+v", w.Outcome)
			}
		})
	}
	// Once the first settles, the key is free again.
	keys.Release((&pipeline.Request{Name: "zope-interface", Version: "6.4.0"}).Key(), "a")
	w := &pipeline.Work{CorrelationID: "e", Claim: "e", Raw: []byte(`{"package":"zope.interface","version":"6.4.0"}`)}
	if next, _ := d.Handle(context.Background(), w); next != pipeline.TopicRequests {
		t.Errorf("after release: next = %s, want requests", next)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
