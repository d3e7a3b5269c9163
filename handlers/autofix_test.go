package handlers

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

type recipeBook map[string]map[string][]string

func (b recipeBook) Recipes(id string) (map[string][]string, bool) { r, ok := b[id]; return r, ok }

// A failed build whose matched hints meet the confidence becomes a retry
// carrying the new recipes; one without new recipes (already retried with
// them), below the confidence, or cancelled does not.
func TestAutoFixPlan(t *testing.T) {
	book := recipeBook{
		"yaml": {"apt": {"libyaml-dev"}, "dnf": {"libyaml-devel"}},
		"bad":  {"apt": {"x;rm -rf /"}},
		"low":  {"apt": {"libfoo-dev"}},
	}
	a := &AutoFix{MinConfidence: 0.7, PackageManager: "apt", Hints: book}
	failed := func(reason string, have []string, hints ...pipeline.HintMatch) *pipeline.Work {
		meta := map[string]any{}
		pipeline.SetFailure(meta, pipeline.Failure{Summary: "s", Class: pipeline.ClassMissingHeader, Hints: hints})
		return &pipeline.Work{Request: &pipeline.Request{Item: pipeline.Item{Package: "p"}},
			Job:    &pipeline.Job{Name: "p", Recipes: have, Attempt: 1},
			Result: &pipeline.Result{Status: pipeline.StatusFailed, Reason: reason, Metadata: meta}}
	}
	yaml := pipeline.HintMatch{ID: "yaml", Confidence: 0.9}
	for _, tc := range []struct {
		name string
		w    *pipeline.Work
		want []string
	}{
		{"matched", failed(pipeline.ReasonExit, nil, yaml), []string{"apt:libyaml-dev"}},
		{"already retried with them", failed(pipeline.ReasonExit, []string{"apt:libyaml-dev"}, yaml), nil},
		{"low confidence", failed(pipeline.ReasonExit, nil, pipeline.HintMatch{ID: "low", Confidence: 0.5}), nil},
		{"invalid recipe", failed(pipeline.ReasonExit, nil, pipeline.HintMatch{ID: "bad", Confidence: 1}), nil},
		{"unknown hint", failed(pipeline.ReasonExit, nil, pipeline.HintMatch{ID: "gone", Confidence: 1}), nil},
		{"cancelled", failed(pipeline.ReasonCancelled, nil, yaml), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := (&Report{now: time.Now}).AutoFix(a)
			o := r.outcome(tc.w)
			p, ok := autoFixOf(o.Entry.Metadata)
			if !slices.Equal(p.Recipes, tc.want) || ok != (tc.want != nil) {
				t.Fatalf("plan %+v, %v; want %v", p, ok, tc.want)
			}
			if ok != (o.Entry.Status == pipeline.StatusRetry) {
				t.Fatalf("status %s with plan %v", o.Entry.Status, ok)
			}
		})
	}
}

type submitted struct{ s pipeline.Settlement }

func (s *submitted) Submit(st pipeline.Settlement, _ pipeline.Summary) { s.s = st }

// The requeue stage puts an auto-fix retry back at once with the recipes
// and the hint ids, which the retry's outcome then carries.
func TestAutoFixRequeue(t *testing.T) {
	sub := &submitted{}
	q := NewRequeue(sub, RequeuePolicy{Base: time.Hour, Max: time.Hour}, nil)
	now := time.Unix(1_800_000_000, 0)
	q.now = func() time.Time { return now }
	w := &pipeline.Work{Request: &pipeline.Request{Item: pipeline.Item{Package: "p", Recipes: []string{"pip:cython"}}},
		Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusRetry,
			Metadata: map[string]any{MetaAutoFixNext: AutoFixPlan{HintIDs: []string{"yaml"}, Recipes: []string{"apt:libyaml-dev"}}}}}}
	if _, err := q.Handle(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	it, err := pipeline.DecodeItem(sub.s.Item)
	if err != nil {
		t.Fatal(err)
	}
	if it.Attempts != 1 || it.NotBefore != now.Unix() || !slices.Equal(it.Recipes, []string{"pip:cython", "apt:libyaml-dev"}) {
		t.Fatalf("requeued %+v", it)
	}
	retry := &pipeline.Work{Request: &pipeline.Request{Item: it}, Result: &pipeline.Result{Status: pipeline.StatusBuilt}}
	o := (&Report{now: time.Now}).outcome(retry)
	raw, _ := json.Marshal(o.Entry.Metadata[pipeline.MetaAutoFixHints])
	if string(raw) != `["yaml"]` || !slices.Equal(pipeline.MatchedHintIDs(o.Entry.Metadata), []string{"yaml"}) {
		t.Fatalf("retry metadata %s", raw)
	}
}
