package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestPlanStage(t *testing.T) {
	local := &pipeline.Plan{RunID: "local", Nodes: []pipeline.PlanNode{
		{Name: "PyYAML", Version: "6.0.1", Action: pipeline.ActionBuild},
		{Name: "six", Version: "1.16.0", Action: "reuse"},
		{Name: "py_yaml", Version: "5.4", Action: pipeline.ActionBuild}, // py-yaml: another project
		{Name: "pyyaml", Version: "6.0.2", Action: pipeline.ActionBuild},
	}}
	remote := &pipeline.Plan{RunID: "remote", Nodes: []pipeline.PlanNode{{Name: "six", Version: "1.17.0", Action: pipeline.ActionBuild}}}
	for _, tc := range []struct {
		name     string
		item     pipeline.Item
		current  error // error of the current plan; nil serves local
		next     string
		runID    string
		source   string
		versions []string // versions of the attached nodes
		reason   string   // of the failed result, when next is worker.results
		help     bool     // the error explains how to get a plan
	}{
		{name: "nodes with the normalised name", item: pipeline.Item{Package: "pyyaml"}, next: pipeline.TopicPlanned, runID: "local",
			source: "plan.json", versions: []string{"6.0.1", "6.0.2"}},
		{name: "no node: planned with none", item: pipeline.Item{Package: "requests"}, next: pipeline.TopicPlanned, runID: "local",
			source: "plan.json"},
		{name: "plan_id names the control-plane's plan", item: pipeline.Item{Package: "six", PlanID: 7}, next: pipeline.TopicPlanned,
			runID: "remote", source: "control-plane plan 7", versions: []string{"1.17.0"}},
		{name: "unknown plan_id: no_plan, no help", item: pipeline.Item{Package: "six", PlanID: 8}, next: pipeline.TopicResults,
			reason: pipeline.ReasonNoPlan},
		{name: "no plan, version given: built as asked", item: pipeline.Item{Package: "six", Version: "1.16.0"}, current: ErrNoPlan,
			next: pipeline.TopicPlanned, source: PlanNone, versions: []string{"1.16.0"}},
		{name: "no plan, no version: no_plan with help", item: pipeline.Item{Package: "six"}, current: ErrNoPlan,
			next: pipeline.TopicResults, reason: pipeline.ReasonNoPlan, help: true},
		{name: "unreadable plan: bad_plan", item: pipeline.Item{Package: "six", Version: "1.16.0"}, current: fmt.Errorf("decode plan.json: %w", errStage),
			next: pipeline.TopicResults, reason: "bad_plan"},
		{name: "missing plan wrapped: still no_plan", item: pipeline.Item{Package: "six"}, current: fmt.Errorf("read: %w", ErrNoPlan),
			next: pipeline.TopicResults, reason: pipeline.ReasonNoPlan, help: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fixedPlans{plan: local, err: tc.current, byID: map[int64]*pipeline.Plan{7: remote}}
			req, err := pipeline.ValidateItem(tc.item)
			if err != nil {
				t.Fatal(err)
			}
			w := &pipeline.Work{Request: req}
			next, err := NewPlan(src, src).Handle(context.Background(), w)
			if err != nil || next != tc.next {
				t.Fatalf("Handle = %q, %v; want %q", next, err, tc.next)
			}
			if next == pipeline.TopicResults {
				r := w.Result
				if r == nil || r.Status != pipeline.StatusFailed || r.Reason != tc.reason || w.Plan != nil {
					t.Fatalf("result %+v, plan %+v", r, w.Plan)
				}
				if got := strings.Contains(r.Error, "the item names no version"); got != tc.help {
					t.Errorf("error %q: help=%v, want %v", r.Error, got, tc.help)
				}
				return
			}
			if w.Plan.RunID != tc.runID || w.Plan.Source != tc.source {
				t.Errorf("plan ref %+v", w.Plan)
			}
			var versions []string
			for _, n := range w.Plan.Nodes {
				versions = append(versions, n.Version)
			}
			if strings.Join(versions, ",") != strings.Join(tc.versions, ",") {
				t.Errorf("node versions %v, want %v", versions, tc.versions)
			}
		})
	}
}

// Without a PlanByID, a plan_id is ignored and the current plan serves.
func TestPlanStageWithoutByID(t *testing.T) {
	src := &fixedPlans{plan: &pipeline.Plan{RunID: "r", Nodes: []pipeline.PlanNode{{Name: "six", Version: "1.16.0"}}}}
	req, _ := pipeline.ValidateItem(pipeline.Item{Package: "six", PlanID: 3})
	w := &pipeline.Work{Request: req}
	if next, err := NewPlan(src, nil).Handle(context.Background(), w); err != nil || next != pipeline.TopicPlanned || len(w.Plan.Nodes) != 1 {
		t.Fatalf("Handle = %q, %v, plan %+v", next, err, w.Plan)
	}
}

// The name index is rebuilt when the source hands out a new plan, not before.
func TestPlanStageFollowsANewPlan(t *testing.T) {
	src := &fixedPlans{plan: &pipeline.Plan{RunID: "1", Nodes: []pipeline.PlanNode{{Name: "six", Version: "1.0"}}}}
	p := NewPlan(src, nil)
	nodes := func() []pipeline.PlanNode {
		req, _ := pipeline.ValidateItem(pipeline.Item{Package: "six"})
		w := &pipeline.Work{Request: req}
		if _, err := p.Handle(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		return w.Plan.Nodes
	}
	if n := nodes(); len(n) != 1 || n[0].Version != "1.0" {
		t.Fatalf("first plan: %+v", n)
	}
	src.plan = &pipeline.Plan{RunID: "2", Nodes: []pipeline.PlanNode{{Name: "Six", Version: "2.0"}}}
	if n := nodes(); len(n) != 1 || n[0].Version != "2.0" {
		t.Fatalf("second plan: %+v", n)
	}
	if src.calls != 2 {
		t.Errorf("%d calls to the source, want 2", src.calls)
	}
}

func TestPoisonStage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		claim   string
		recErr  error
		next    string
		wantErr bool
	}{
		{"recorded, then released", "c1", nil, pipeline.TopicReported, false},
		{"no claim (undecodable message): recorded, nothing to release", "", nil, "", false},
		{"record fails: error, not released", "c2", errStage, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &rejectionLog{err: tc.recErr}
			w := &pipeline.Work{Claim: tc.claim, CorrelationID: "k", Raw: []byte(`{"package":1}`),
				Rejection: &pipeline.Rejection{Field: "package", Reason: "not a string"}}
			next, err := NewPoison(rec).Handle(context.Background(), w)
			if next != tc.next || (err != nil) != tc.wantErr || (tc.wantErr && !errors.Is(err, tc.recErr)) {
				t.Fatalf("Handle = %q, %v; want %q, error %v", next, err, tc.next, tc.wantErr)
			}
			if !tc.wantErr && (len(rec.claims) != 1 || rec.claims[0] != tc.claim) {
				t.Errorf("recorded %v", rec.claims)
			}
		})
	}
}
